package carbon_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sunproof/sunproof/anomaly"
	"github.com/sunproof/sunproof/carbon"
	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/ingest/reading"
)

var cst = time.FixedZone("CST", 8*3600)

// fakeBundle stands in for an anchor proof bundle: the reading it proves
// and whether its "proof" holds.
type fakeBundle struct {
	DeviceID string `json:"device_id"`
	Seq      uint64 `json:"seq"`
	TimeMS   int64  `json:"ts_ms"`
	EnergyWh uint64 `json:"energy_wh"`
	Proof    string `json:"proof"`
}

type fakeVerifier struct{}

func (fakeVerifier) Verify(_ context.Context, raw json.RawMessage) (reading.Reading, error) {
	var b fakeBundle
	if err := json.Unmarshal(raw, &b); err != nil {
		return reading.Reading{}, err
	}
	if b.Proof != "valid" {
		return reading.Reading{}, errors.New("root mismatch")
	}
	return reading.Reading{DeviceID: b.DeviceID, Seq: b.Seq, TimeMS: b.TimeMS, Measurement: reading.Measurement{EnergyWh: b.EnergyWh}}, nil
}

func boundary(id string, s anomaly.Sample) carbon.Boundary {
	raw, _ := json.Marshal(fakeBundle{DeviceID: id, Seq: s.Seq, TimeMS: s.T.UnixMilli(), EnergyWh: s.EnergyWh, Proof: "valid"})
	return carbon.Boundary{Seq: s.Seq, TimeMS: s.T.UnixMilli(), EnergyWh: s.EnergyWh, Bundle: raw}
}

// monthOf returns hourly readings for June 2024 (CST): 20 kWh a day made
// between 08:00 and 18:00, counter from start.
func monthOf(start uint64) []anomaly.Sample {
	from := time.Date(2024, 6, 1, 0, 0, 0, 0, cst)
	var out []anomaly.Sample
	e := start
	for h := 0; h < 30*24; h++ {
		t := from.Add(time.Duration(h) * time.Hour)
		if hr := t.Hour(); hr >= 8 && hr < 18 {
			e += 2000
		}
		out = append(out, anomaly.Sample{T: t.Add(time.Minute), ACPowerW: 1000, EnergyWh: e, Seq: uint64(10_000 + h)})
	}
	return out
}

var june = carbon.Period{From: time.Date(2024, 6, 1, 0, 0, 0, 0, cst), To: time.Date(2024, 7, 1, 0, 0, 0, 0, cst)}

func device(id string) devices.Device {
	return devices.Device{ID: id, SiteID: "site-1", KWp: 5, ACRatingW: 4600, GridRegion: "CN-East", Lat: 31.8, Lon: 117.2}
}

func alert(id string, typ anomaly.Type, sev anomaly.Severity, from, to time.Time) anomaly.Alert {
	return anomaly.Alert{ID: fmt.Sprintf("%s/%s/%d", id, typ, from.UnixMilli()), DeviceID: id, Type: typ, Severity: sev,
		Span: anomaly.Span{From: from, To: to}, State: anomaly.StateResolved}
}

func day(d, h int) time.Time { return time.Date(2024, 6, d, h, 0, 0, 0, cst) }

func buildDevice(t *testing.T) *carbon.Report {
	t.Helper()
	rs := monthOf(5_000_000)
	in := carbon.DeviceInput{
		Device: device("inv-1"), Start: boundary("inv-1", rs[0]), End: boundary("inv-1", rs[len(rs)-1]), Readings: rs,
		Alerts: []anomaly.Alert{
			alert("inv-1", anomaly.TypeOverPerformance, anomaly.SeverityWarning, day(10, 6), day(11, 19)), // 2 days: 40 kWh
			alert("inv-1", anomaly.TypeEnergyMismatch, anomaly.SeverityWarning, day(11, 8), day(12, 12)),  // overlaps; +1 day more
			alert("inv-1", anomaly.TypeCommGap, anomaly.SeverityCritical, day(20, 9), day(20, 15)),        // not excluded by policy
			alert("inv-1", anomaly.TypeOverCapacity, anomaly.SeverityInfo, day(25, 9), day(25, 15)),       // below min severity
			alert("inv-1", anomaly.TypeOverCapacity, anomaly.SeverityCritical, day(28, 10), day(28, 12)),  // 10:01..12:01 readings: 3 increments
		},
	}
	r, err := carbon.Build(context.Background(), "device", "inv-1", june, []carbon.DeviceInput{in},
		carbon.Options{Verifier: fakeVerifier{}, Now: time.Date(2024, 7, 2, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestBuildDeviceReport(t *testing.T) {
	r := buildDevice(t)
	d := r.Devices[0]
	// 30 days × 20 kWh, minus the first hour's reading being the start.
	if d.GrossWh != 600_000 {
		t.Errorf("gross %d Wh, want 600000", d.GrossWh)
	}
	if len(d.Excluded) != 2 {
		t.Fatalf("exclusions %+v, want 2 (merged over-performance + mismatch, over-capacity)", d.Excluded)
	}
	// Readings 10 Jun 05:01 → 12 Jun 12:01: 10 and 11 June fully (2 × 20
	// kWh) and the 08:01–12:01 readings of 12 June (5 × 2 kWh).
	if e := d.Excluded[0]; e.ExcludedWh != 50_000 || len(e.AlertIDs) != 2 {
		t.Errorf("first exclusion %+v, want 50000 Wh from two alerts", e)
	}
	// 28 Jun 09:01 → 12:01: increments at 10:00, 11:00, 12:00 readings.
	if e := d.Excluded[1]; e.ExcludedWh != 6_000 {
		t.Errorf("second exclusion %+v, want 6000 Wh", e)
	}
	if d.NetWh != 600_000-56_000 || r.Totals.NetWh != d.NetWh {
		t.Errorf("net %d / totals %d, want 544000", d.NetWh, r.Totals.NetWh)
	}
	if r.Totals.EGMWh != 0.544 || r.Totals.EFTCO2PerMWh != 0.55 || r.Totals.BETCO2 != 0.2992 || r.Totals.ERTCO2 != 0.2992 {
		t.Errorf("totals %+v", r.Totals)
	}
	if r.Methodology.Name != "AMS-I.D" || r.Factor.FactorID != "CN-East/2023/grid_average" {
		t.Errorf("methodology %q factor %q", r.Methodology.Name, r.Factor.FactorID)
	}
	if !strings.Contains(r.Exclusion.Description, "over_performance, over_capacity, energy_mismatch") {
		t.Errorf("policy description %q", r.Exclusion.Description)
	}
	v, err := carbon.Recompute(context.Background(), r, carbon.RecomputeOptions{Table: carbon.DefaultTable(), Verifier: fakeVerifier{}})
	if err != nil {
		t.Fatal(err)
	}
	if v.ProofsChecked != 2 || !v.FactorChecked {
		t.Errorf("verification %+v", v)
	}
}

func TestBuildSiteReport(t *testing.T) {
	var in []carbon.DeviceInput
	for k, id := range []string{"inv-1", "inv-2", "inv-3"} {
		rs := monthOf(uint64(k) * 1_000_000)
		d := device(id)
		d.ACRatingW = 6e6 // 18 MW in all: ACM0002
		in = append(in, carbon.DeviceInput{Device: d, Start: boundary(id, rs[0]), End: boundary(id, rs[len(rs)-1]), Readings: rs})
	}
	r, err := carbon.Build(context.Background(), "site", "site-1", june, in, carbon.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Totals.NetWh != 1_800_000 || r.Totals.EGMWh != 1.8 || r.Totals.ERTCO2 != 0.99 || r.Methodology.Name != "ACM0002" {
		t.Errorf("totals %+v methodology %s", r.Totals, r.Methodology.Name)
	}
	if _, err := carbon.Recompute(context.Background(), r, carbon.RecomputeOptions{Table: carbon.DefaultTable()}); err != nil {
		t.Fatal(err)
	}
	in[2].Device.GridRegion = "CN-North"
	if _, err := carbon.Build(context.Background(), "site", "site-1", june, in, carbon.Options{}); err == nil {
		t.Error("devices on two grids in one report")
	}
}

func TestBuildRejects(t *testing.T) {
	rs := monthOf(5_000_000)
	good := func() carbon.DeviceInput {
		return carbon.DeviceInput{Device: device("inv-1"), Start: boundary("inv-1", rs[0]), End: boundary("inv-1", rs[len(rs)-1]),
			Readings: append([]anomaly.Sample(nil), rs...)}
	}
	tests := []struct {
		desc    string
		edit    func(in *carbon.DeviceInput)
		opt     carbon.Options
		wantErr error
	}{
		{"counter reset inside", func(in *carbon.DeviceInput) {
			for i := 300; i < len(in.Readings); i++ {
				in.Readings[i].EnergyWh -= 4_000_000
			}
			in.End = boundary("inv-1", in.Readings[len(in.Readings)-1])
		}, carbon.Options{}, carbon.ErrCounterRegression},
		{"no bundle", func(in *carbon.DeviceInput) { in.End.Bundle = nil }, carbon.Options{}, carbon.ErrBoundary},
		{"boundary outside the period", func(in *carbon.DeviceInput) {
			s := rs[0]
			s.T = june.From.Add(-time.Hour)
			in.Start = boundary("inv-1", s)
			in.Readings[0] = s
		}, carbon.Options{}, carbon.ErrBoundary},
		{"boundary value not in the readings", func(in *carbon.DeviceInput) { in.End.EnergyWh++ }, carbon.Options{}, carbon.ErrBoundary},
		{"proof of another reading", func(in *carbon.DeviceInput) {
			in.End.Bundle = boundary("inv-1", rs[len(rs)-2]).Bundle
		}, carbon.Options{Verifier: fakeVerifier{}}, carbon.ErrBoundary},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			in := good()
			tc.edit(&in)
			_, err := carbon.Build(context.Background(), "device", "inv-1", june, []carbon.DeviceInput{in}, tc.opt)
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("got %v, want %v", err, tc.wantErr)
			}
		})
	}
}

// TestRecomputeDetectsTampering alters one number or proof at a time: each
// must fail recomputation.
func TestRecomputeDetectsTampering(t *testing.T) {
	tests := []struct {
		desc string
		edit func(r *carbon.Report)
	}{
		{"gross", func(r *carbon.Report) { r.Devices[0].GrossWh++ }},
		{"net", func(r *carbon.Report) { r.Devices[0].NetWh += 1000 }},
		{"device excluded", func(r *carbon.Report) { r.Devices[0].ExcludedWh-- }},
		{"exclusion energy", func(r *carbon.Report) { r.Devices[0].Excluded[0].ExcludedWh-- }},
		{"exclusion edge", func(r *carbon.Report) { r.Devices[0].Excluded[0].ToEnergyWh += 10 }},
		{"exclusion dropped", func(r *carbon.Report) { r.Devices[0].Excluded = r.Devices[0].Excluded[1:] }},
		{"start counter", func(r *carbon.Report) { r.Devices[0].Start.EnergyWh -= 1000 }},
		{"end seq", func(r *carbon.Report) { r.Devices[0].End.Seq++ }},
		{"end time", func(r *carbon.Report) { r.Devices[0].End.TimeMS += 1 }},
		{"bundle", func(r *carbon.Report) {
			r.Devices[0].End.Bundle = json.RawMessage(strings.Replace(string(r.Devices[0].End.Bundle), "valid", "forged", 1))
		}},
		{"bundle removed", func(r *carbon.Report) { r.Devices[0].Start.Bundle = nil }},
		{"totals net", func(r *carbon.Report) { r.Totals.NetWh++ }},
		{"EG", func(r *carbon.Report) { r.Totals.EGMWh = 0.6 }},
		{"BE", func(r *carbon.Report) { r.Totals.BETCO2 += 0.001 }},
		{"ER", func(r *carbon.Report) { r.Totals.ERTCO2 *= 2 }},
		{"PE", func(r *carbon.Report) { r.Totals.PETCO2 = 0.01 }},
		{"EF in totals", func(r *carbon.Report) { r.Totals.EFTCO2PerMWh = 0.6 }},
		{"factor value and totals together", func(r *carbon.Report) {
			r.Factor.Factor.TCO2PerMWh = 0.9
			r.Totals.EFTCO2PerMWh = 0.9
			r.Totals.BETCO2 = 0.4914
			r.Totals.ERTCO2 = 0.4914
		}},
		{"factor source", func(r *carbon.Report) { r.Factor.Factor.Source = "someone" }},
		{"factor id", func(r *carbon.Report) { r.Factor.FactorID = "CN-North/2023/grid_average" }},
		{"another valid row", func(r *carbon.Report) {
			f, _ := carbon.DefaultTable().Lookup("CN-East/2022/grid_average")
			r.Factor.Factor, r.Factor.FactorID = f, f.ID()
			r.Totals.EFTCO2PerMWh = f.TCO2PerMWh
			r.Totals.BETCO2 = 0.544 * f.TCO2PerMWh
			r.Totals.ERTCO2 = r.Totals.BETCO2
		}},
		{"selection year", func(r *carbon.Report) { r.Factor.Year = 2022 }},
		{"selection region", func(r *carbon.Report) { r.Factor.Region = "CN-South" }},
		{"methodology", func(r *carbon.Report) { r.Methodology.Name = "ACM0002" }},
		{"capacity", func(r *carbon.Report) { r.Subject.CapacityW = 20e6 }},
		{"exclusion policy", func(r *carbon.Report) { r.Exclusion.Types = r.Exclusion.Types[:1] }},
		{"period", func(r *carbon.Report) { r.Period.From = r.Period.From.Add(48 * time.Hour) }},
		{"version", func(r *carbon.Report) { r.Version = 2 }},
		{"device twice", func(r *carbon.Report) { r.Devices = append(r.Devices, r.Devices[0]) }},
	}
	opt := carbon.RecomputeOptions{Table: carbon.DefaultTable(), Verifier: fakeVerifier{}}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			r := buildDevice(t)
			tc.edit(r)
			// Through JSON, as a verifier receives it.
			var buf bytes.Buffer
			if err := r.Encode(&buf); err != nil {
				t.Fatal(err)
			}
			got, dec := carbon.DecodeReport(&buf)
			err := dec
			if err == nil {
				_, err = carbon.Recompute(context.Background(), got, opt)
			}
			if err == nil {
				t.Error("tampered report recomputes")
			} else if dec == nil && !errors.Is(err, carbon.ErrMismatch) {
				t.Errorf("%v does not wrap ErrMismatch", err)
			}
		})
	}
}

// TestGoldenReport keeps an example report in testdata (regenerate with
// -update); it must decode and recompute.
func TestGoldenReport(t *testing.T) {
	path := filepath.Join("testdata", "report-device.json")
	r := buildDevice(t)
	var buf bytes.Buffer
	if err := r.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("report differs from %s (run with -update if the change is intended)", path)
	}
	got, err := carbon.DecodeReport(bytes.NewReader(want))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := carbon.Recompute(context.Background(), got, carbon.RecomputeOptions{Table: carbon.DefaultTable(), Verifier: fakeVerifier{}}); err != nil {
		t.Fatal(err)
	}
}

// A January period in China starts on 31 December UTC: the reporting year
// is the local one.
func TestReportingYearIsLocal(t *testing.T) {
	from := time.Date(2024, 1, 1, 0, 0, 0, 0, cst)
	p := carbon.Period{From: from, To: from.AddDate(0, 1, 0)}
	s := anomaly.Sample{T: from.Add(time.Hour), EnergyWh: 100, Seq: 1}
	e := anomaly.Sample{T: from.Add(48 * time.Hour), EnergyWh: 30_100, Seq: 2}
	in := carbon.DeviceInput{Device: device("inv-1"), Start: boundary("inv-1", s), End: boundary("inv-1", e), Readings: []anomaly.Sample{s, e}}
	r, err := carbon.Build(context.Background(), "device", "inv-1", p, []carbon.DeviceInput{in}, carbon.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Factor.Year != 2024 || r.Factor.FactorID != "CN-East/2023/grid_average" {
		t.Errorf("year %d factor %s", r.Factor.Year, r.Factor.FactorID)
	}
}
