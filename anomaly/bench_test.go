package anomaly_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sunproof/sunproof/anomaly"
	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/ingest/reading"
)

var (
	benchOnce      sync.Once
	benchTemplates []benchTemplate
	benchSeries    []anomaly.Series
	benchDay       = time.Date(2024, 6, 21, 0, 0, 0, 0, cst)
)

// benchTemplate is one simulated device of the benchmark fleet and its
// readings over [benchDay − 1 h, benchDay + 24 h) (the hour before the day
// is what Source.Load reads as lookback).
type benchTemplate struct {
	dev devices.Device
	rs  []reading.Reading
}

// benchCopies is how many times each of the 100 templates is copied.
const benchCopies = 100

// benchCopy is copy c of template k: its own id and site, its location
// moved by up to ±0.05°.
func benchCopy(d devices.Device, k, c int) devices.Device {
	d.ID = fmt.Sprintf("%s-c%03d", d.ID, c)
	d.SiteID = fmt.Sprintf("s%03d-%03d", k, c/10)
	d.Lat += 0.001 * float64(c%100-50)
	d.Lon += 0.001 * float64((c*37)%100-50)
	return d
}

func benchInit(tb testing.TB) {
	benchOnce.Do(func() {
		for a := range 20 {
			lat := 22 + float64(a%5)*5
			lon := 104 + float64(a/5)*5
			pl := area(fmt.Sprintf("t%02d", a), 5, lat, lon, int64(a+1), 0.1+0.04*float64(a))
			rs := simulateReadings(tb, pl, benchDay.Add(-time.Hour), benchDay.Add(24*time.Hour), 5*time.Minute)
			for _, p := range pl {
				tpl := benchTemplate{dev: p.dev}
				for _, r := range rs {
					if r.DeviceID == p.dev.ID {
						tpl.rs = append(tpl.rs, r)
					}
				}
				benchTemplates = append(benchTemplates, tpl)
			}
		}
	})
}

// benchFleet is 10,000 devices × 1 day at 5-minute resolution (2.88 M
// samples). Simulating every device would take minutes, so 100 devices are
// simulated (20 areas of 5, each area its own weather) and each is copied
// 100 times with its location moved by up to ±0.05° and its samples copied.
func benchFleet(tb testing.TB) []anomaly.Series {
	benchInit(tb)
	if benchSeries != nil {
		return benchSeries
	}
	for c := range benchCopies {
		for k, tpl := range benchTemplates {
			s := anomaly.Series{Device: benchCopy(tpl.dev, k, c)}
			for _, r := range tpl.rs {
				if t := r.Time(); !t.Before(benchDay) {
					s.Samples = append(s.Samples, anomaly.Sample{T: t, ACPowerW: r.ACPowerW, EnergyWh: r.EnergyWh, State: r.State, Seq: r.Seq})
				}
			}
			benchSeries = append(benchSeries, s)
		}
	}
	return benchSeries
}

// BenchmarkScanFleet scans 10,000 devices × 1 day (2.88 M points) with
// every detector. Target ≤ 5 s. Compare runs with benchstat:
//
//	go test -run '^$' -bench ScanFleet -benchtime 3x -count 6 ./anomaly | tee new.txt
func BenchmarkScanFleet(b *testing.B) {
	series := benchFleet(b)
	s, err := anomaly.NewScanner(anomaly.DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	var points, findings int
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := s.Scan(context.Background(), series, benchDay, benchDay.Add(24*time.Hour))
		if err != nil {
			b.Fatal(err)
		}
		points, findings = res.Points, len(res.Findings)
	}
	b.ReportMetric(float64(points), "points/scan")
	b.ReportMetric(float64(points)*float64(b.N)/b.Elapsed().Seconds(), "points/s")
	b.ReportMetric(float64(findings), "findings/scan")
}
