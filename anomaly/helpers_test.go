package anomaly_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sunproof/sunproof/anomaly"
	"github.com/sunproof/sunproof/anomaly/pvmodel"
	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/ingest/sim"
)

// cst is China Standard Time: scans start at local midnight.
var cst = time.FixedZone("CST", 8*3600)

// plant describes one simulated device for a test.
type plant struct {
	dev    devices.Device
	cfg    sim.Config
	faults func() []sim.Fault // fresh (stateful) faults per run
}

// area returns n devices around (lat, lon) within about 10 km, sharing the
// weather seed with small differences in cloudiness and orientation, as
// neighbours in one district do.
func area(prefix string, n int, lat, lon float64, seed int64, cloudiness float64) []plant {
	out := make([]plant, n)
	for i := range out {
		f := float64(i)
		d := devices.Device{
			ID: fmt.Sprintf("%s-%02d", prefix, i), SiteID: prefix,
			KWp: 4 + float64(i%4), Lat: lat + 0.02*float64(i%5) - 0.04, Lon: lon + 0.03*float64(i%3) - 0.03,
			TiltDeg: 18 + float64(i%4)*4, AzimuthDeg: 165 + float64(i%5)*7.5,
		}
		d.ACRatingW = d.KWp * 920
		cfg := sim.DefaultConfig()
		cfg.Seed = seed
		cfg.Cloudiness = clamp01(cloudiness + 0.04*(f/float64(max(n-1, 1))-0.5))
		p := pvmodel.DefaultPlant()
		p.LatDeg, p.LonDeg, p.TiltDeg, p.AzimuthDeg = d.Lat, d.Lon, d.TiltDeg, d.AzimuthDeg
		p.KWp, p.ACRatingW = d.KWp, d.ACRatingW
		cfg.Plant = p
		cfg.StartEnergyWh = 1_000_000 + uint64(i)*12345
		out[i] = plant{dev: d, cfg: cfg}
	}
	return out
}

func clamp01(x float64) float64 { return min(max(x, 0), 1) }

// run simulates the plants over [from, to) every step and returns their
// series as the collector would store them: dropped readings missing,
// timestamps as reported, seq counting every reading the device took.
func run(t testing.TB, plants []plant, from, to time.Time, step time.Duration) []anomaly.Series {
	t.Helper()
	out := make([]anomaly.Series, len(plants))
	for k, p := range plants {
		cfg := p.cfg
		if p.faults != nil {
			cfg.Faults = p.faults()
		}
		inv, err := sim.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var seq uint64
		smp := make([]anomaly.Sample, 0, int(to.Sub(from)/step)+1)
		for tm := from; tm.Before(to); tm = tm.Add(step) {
			seq++
			ts, m, ok := inv.Report(tm)
			if !ok {
				continue
			}
			smp = append(smp, anomaly.Sample{T: ts.Truncate(time.Millisecond), ACPowerW: m.ACPowerW, EnergyWh: m.EnergyWh, State: m.State, Seq: seq})
		}
		out[k] = anomaly.Series{Device: p.dev, Samples: smp}
	}
	return out
}

func scan(t testing.TB, cfg anomaly.Config, series []anomaly.Series, from, to time.Time) anomaly.Result {
	t.Helper()
	s, err := anomaly.NewScanner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Scan(context.Background(), series, from, to)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// alarms returns the findings of severity ≥ warning, by device.
func alarms(res anomaly.Result) map[string][]anomaly.Finding {
	out := map[string][]anomaly.Finding{}
	for _, f := range res.Findings {
		if f.Severity >= anomaly.SeverityWarning {
			out[f.DeviceID] = append(out[f.DeviceID], f)
		}
	}
	return out
}

func describe(fs []anomaly.Finding) string {
	s := ""
	for _, f := range fs {
		s += fmt.Sprintf("\n  %s %s %s %s–%s [%s] %s %v", f.DeviceID, f.Type, f.Severity, f.Span.From.In(cst).Format("01-02 15:04"),
			f.Span.To.In(cst).Format("15:04"), f.Basis, f.Summary, f.Evidence)
	}
	return s
}
