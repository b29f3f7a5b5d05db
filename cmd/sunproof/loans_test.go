package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sunproof/sunproof/anomaly"
	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/ingest/reading"
	"github.com/sunproof/sunproof/loans"
)

func TestMonthGen(t *testing.T) {
	from := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 1, 0)
	mk := func(id string, n int) anomaly.Series {
		s := anomaly.Series{Device: devices.Device{ID: id}}
		for i := range n {
			s.Samples = append(s.Samples, anomaly.Sample{T: from.Add(time.Duration(i) * 24 * time.Hour), EnergyWh: uint64(1000 + 100*i), Seq: uint64(i + 1)})
		}
		return s
	}
	series := memLoader{mk("a", 30), mk("b", 30)}
	devs := []devices.Device{{ID: "a"}, {ID: "b"}}
	all := mapIndex{}
	for _, s := range series {
		for _, x := range s.Samples {
			all[reading.Key{DeviceID: s.Device.ID, Seq: x.Seq}] = true
		}
	}
	cases := []struct {
		name     string
		idx      mapIndex
		wantWh   float64
		complete bool
	}{
		{"all anchored", all, 2 * 2900, true},
		{"b's last day not anchored", func() mapIndex {
			m := mapIndex{}
			for k, v := range all {
				m[k] = v
			}
			delete(m, reading.Key{DeviceID: "b", Seq: 30})
			return m
		}(), 2900 + 2800, false},
		{"nothing anchored", mapIndex{}, 0, false},
	}
	for _, c := range cases {
		g, err := monthGen(context.Background(), series, c.idx, devs, from, to)
		if err != nil || g.CertifiedWh != c.wantWh || g.Complete != c.complete || g.Month != "2024-06" {
			t.Errorf("%s: %+v, %v; want %g Wh complete %t", c.name, g, err, c.wantWh, c.complete)
		}
	}
}

func TestLoansListAndCoverageOutput(t *testing.T) {
	b, err := loans.Decode(strings.NewReader(`loans: [{id: L1, borrower: Wang, site_id: s, principal_cny: 5000, tariff_cny_per_kwh: 0.4, schedule: [{month: 2024-06, amount_cny: 100}]}]`))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := listLoans(&out, b); err != nil || !strings.Contains(out.String(), "L1") || !strings.Contains(out.String(), "Wang") {
		t.Fatalf("list: %v\n%s", err, out.String())
	}
	st, err := loans.Evaluate(loans.Input{Loan: &b.Loans[0], Devices: []devices.Device{{ID: "a", SiteID: "s", KWp: 5, Lat: 31.8, Lon: 117.2, TiltDeg: 25, AzimuthDeg: 180}},
		Gen: map[string]loans.MonthGen{"2024-06": {Month: "2024-06", CertifiedWh: 200_000, Complete: true}}})
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	printCoverage(&out, []*loans.Status{st})
	for _, want := range []string{"2024-06", "certified", "0.800 LOW", "ALERT L1: 2024-06 coverage 0.80 below 1.20", "portfolio: 1 loans"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("coverage output lacks %q:\n%s", want, out.String())
		}
	}
}
