package loans

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/sunproof/sunproof/anomaly"
	"github.com/sunproof/sunproof/devices"
)

const book = `
loans:
  - id: L1
    borrower: Zhang San
    site_id: s1
    principal_cny: 60000
    tariff_cny_per_kwh: 0.4
    subsidy_cny_per_kwh: 0.1
    schedule:
      - {month: 2024-07, amount_cny: 300}
      - {month: 2024-06, amount_cny: 300}
      - {month: 2024-08, amount_cny: 300}
  - id: L2
    borrower: Li Si
    device_ids: [inv-9]
    principal_cny: 10000
    tariff_cny_per_kwh: 0.3844
    min_coverage: 1.5
    schedule: [{month: 2024-06, amount_cny: 100}]
`

func TestDecode(t *testing.T) {
	b, err := Decode(strings.NewReader(book))
	if err != nil {
		t.Fatal(err)
	}
	l, ok := b.Loan("L1")
	if !ok || len(b.Loans) != 2 || l.Schedule[0].Month != "2024-06" || l.Due("2024-07") != 300 || l.Due("2024-09") != 0 {
		t.Fatalf("book %+v", b)
	}
	if got := l.Income(1000_000); got != 500 {
		t.Errorf("income of 1 MWh at 0.4 + 0.1 = %g", got)
	}
	bad := []string{
		"loans: [{id: x, site_id: s, principal_cny: 1, tariff_cny_per_kwh: 0}]",
		"loans: [{id: x, principal_cny: 1, tariff_cny_per_kwh: 1}]",
		"loans: [{id: x, site_id: s, principal_cny: 1, tariff_cny_per_kwh: 1, schedule: [{month: 2024-13, amount_cny: 1}]}]",
		"loans: [{id: x, site_id: s, principal_cny: 1, tariff_cny_per_kwh: 1, schedule: [{month: 2024-01, amount_cny: 1}, {month: 2024-01, amount_cny: 2}]}]",
		"loans: [{id: x, site_id: s, principal_cny: 1, tariff_cny_per_kwh: 1}, {id: x, site_id: s, principal_cny: 1, tariff_cny_per_kwh: 1}]",
		"loans: [{id: x, site_id: s, principal_cny: 1, tariff_cny_per_kwh: 1, typo: 3}]",
	}
	for _, s := range bad {
		if _, err := Decode(strings.NewReader(s)); err == nil {
			t.Errorf("%s: accepted", s)
		}
	}
	if _, err := Decode(strings.NewReader(bad[0])); !errors.Is(err, ErrInvalid) {
		t.Errorf("validation error %v does not wrap ErrInvalid", err)
	}
	// JSON is YAML.
	if b, err := Decode(strings.NewReader(`{"loans":[{"id":"j","site_id":"s","principal_cny":1,"tariff_cny_per_kwh":0.4}]}`)); err != nil || b.Loans[0].ID != "j" {
		t.Errorf("json: %v", err)
	}
}

func TestLoanDevices(t *testing.T) {
	b, _ := Decode(strings.NewReader(book))
	devs := []devices.Device{{ID: "a", SiteID: "s1"}, {ID: "inv-9", SiteID: "s2"}, {ID: "c", SiteID: "s3", LoanRef: "L2"}, {ID: "d", SiteID: "s4"}}
	got := func(id string) (ids []string) {
		l, _ := b.Loan(id)
		for _, d := range l.Devices(devs) {
			ids = append(ids, d.ID)
		}
		return ids
	}
	if g := got("L1"); len(g) != 1 || g[0] != "a" {
		t.Errorf("L1 devices %v", g)
	}
	if g := got("L2"); len(g) != 2 || g[0] != "inv-9" || g[1] != "c" {
		t.Errorf("L2 devices %v", g)
	}
}

func TestEvaluate(t *testing.T) {
	b, _ := Decode(strings.NewReader(book))
	l, _ := b.Loan("L1")
	dev := devices.Device{ID: "a", SiteID: "s1", KWp: 6, ACRatingW: 5500, Lat: 31.8, Lon: 117.2, TiltDeg: 25, AzimuthDeg: 180}
	cst := time.FixedZone("CST", 8*3600)
	clearJune, err := ClearSkyWh([]devices.Device{dev}, "2024-06", cst, defaultPlant)
	if err != nil || clearJune < 6*100_000 || clearJune > 6*250_000 {
		t.Fatalf("clear-sky June for 6 kWp: %g Wh, %v", clearJune, err)
	}
	open := anomaly.Alert{ID: "a/zero_output/1", DeviceID: "a", Type: anomaly.TypeZeroOutput, Severity: anomaly.SeverityCritical, State: anomaly.StateOpen}
	cases := []struct {
		name       string
		gen        map[string]MonthGen
		alerts     []anomaly.Alert
		wantCov    map[string]float64
		wantActual map[string]bool
		wantAlerts []string
		wantFactor float64
	}{
		{
			name:       "healthy June, July projected",
			gen:        map[string]MonthGen{"2024-06": {Month: "2024-06", CertifiedWh: 0.75 * clearJune, Complete: true}},
			wantCov:    map[string]float64{"2024-06": math.Round(0.75*clearJune/1000*0.5/300*1000) / 1000},
			wantActual: map[string]bool{"2024-06": true, "2024-07": false, "2024-08": false},
			wantFactor: 0.75,
		},
		{
			name:       "under-covered June and an open anomaly",
			gen:        map[string]MonthGen{"2024-06": {Month: "2024-06", CertifiedWh: 600_000, Complete: true}},
			alerts:     []anomaly.Alert{open, {ID: "z/stuck/1", DeviceID: "z", Severity: anomaly.SeverityCritical, State: anomaly.StateOpen}},
			wantCov:    map[string]float64{"2024-06": 1},
			wantActual: map[string]bool{"2024-06": true},
			wantAlerts: []string{"2024-06 coverage 1.00 below 1.20", "open zero_output anomaly on a"},
		},
		{
			name:       "incomplete month",
			gen:        map[string]MonthGen{"2024-06": {Month: "2024-06", CertifiedWh: 2_000_000, Complete: false}},
			wantCov:    map[string]float64{"2024-06": 3.333},
			wantAlerts: []string{"2024-06 generation not fully certified"},
			wantFactor: DefaultWeatherFactor,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, err := Evaluate(Input{Loan: l, Devices: []devices.Device{dev}, Gen: c.gen, Alerts: c.alerts})
			if err != nil {
				t.Fatal(err)
			}
			if len(st.Months) != 3 {
				t.Fatalf("months %+v", st.Months)
			}
			for _, m := range st.Months {
				if w, ok := c.wantCov[m.Month]; ok && m.Coverage != w {
					t.Errorf("%s coverage %g, want %g", m.Month, m.Coverage, w)
				}
				if w, ok := c.wantActual[m.Month]; ok && m.Actual != w {
					t.Errorf("%s actual %t", m.Month, m.Actual)
				}
			}
			if c.wantFactor != 0 && math.Abs(st.WeatherFactor-c.wantFactor) > 1e-9 {
				t.Errorf("weather factor %g, want %g", st.WeatherFactor, c.wantFactor)
			}
			all := strings.Join(st.Alerts, "\n")
			for _, w := range c.wantAlerts {
				if !strings.Contains(all, w) {
					t.Errorf("alerts lack %q:\n%s", w, all)
				}
			}
			if c.wantAlerts == nil && len(st.Alerts) > 0 {
				t.Errorf("unexpected alerts:\n%s", all)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	p := Summarize([]*Status{
		{LoanID: "a", CertifiedWh: 1e6, IncomeCNY: 500, DueCNY: 400},
		{LoanID: "b", CertifiedWh: 2e5, IncomeCNY: 80, DueCNY: 100, Alerts: []string{"x"}},
	})
	if p.Loans != 2 || p.CertifiedWh != 1.2e6 || p.IncomeCNY != 580 || p.DueCNY != 500 || p.Coverage != 1.16 || len(p.Alerted) != 1 || p.Alerted[0] != "b" {
		t.Fatalf("%+v", p)
	}
}

// TestNewMonthGen: only certified devices count; a month is Complete only
// if every device is certified over the whole month; the reasons travel to
// the month's coverage and its alert.
func TestNewMonthGen(t *testing.T) {
	ok := DeviceMonth{DeviceID: "a", Certified: true, ChainVerified: true, GrossWh: 10_000, ExcludedWh: 1_000, NetWh: 9_000}
	partial := DeviceMonth{DeviceID: "b", Certified: true, ChainVerified: true, GrossWh: 5_000, NetWh: 5_000, Partial: true, Problem: "3 readings outside"}
	none := DeviceMonth{DeviceID: "c", Problem: "fewer than two anchored, signed readings in the period (0 readings)"}
	tests := []struct {
		desc         string
		devs         []DeviceMonth
		verified     bool
		wantWh       float64
		wantExcluded float64
		wantComplete bool
		wantProblems []string
	}{
		{"all certified", []DeviceMonth{ok}, true, 9_000, 1_000, true, nil},
		{"partial device: lower bound", []DeviceMonth{ok, partial}, true, 14_000, 1_000, false, []string{"b partly certified: 3 readings outside"}},
		{"uncertified device adds nothing", []DeviceMonth{ok, none}, false, 9_000, 1_000, false, []string{"c not certified: fewer than two anchored"}},
		{"no device", nil, true, 0, 0, false, []string{"no device"}},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			g := NewMonthGen("2024-06", tc.devs, tc.verified)
			if g.CertifiedWh != tc.wantWh || g.ExcludedWh != tc.wantExcluded || g.Complete != tc.wantComplete || g.ChainVerified != tc.verified {
				t.Errorf("got %g Wh (excluded %g) complete %t verified %t, want %g (%g) %t %t", g.CertifiedWh, g.ExcludedWh, g.Complete, g.ChainVerified,
					tc.wantWh, tc.wantExcluded, tc.wantComplete, tc.verified)
			}
			ps := g.Problems()
			if len(ps) != len(tc.wantProblems) {
				t.Fatalf("problems %q, want %q", ps, tc.wantProblems)
			}
			for i := range ps {
				if !strings.HasPrefix(ps[i], tc.wantProblems[i]) {
					t.Errorf("problem %q, want %q…", ps[i], tc.wantProblems[i])
				}
			}

			b, _ := Decode(strings.NewReader(book))
			l, _ := b.Loan("L2")
			st, err := Evaluate(Input{Loan: l, Devices: []devices.Device{{ID: "a", KWp: 5, Lat: 31.8, Lon: 117.2, TiltDeg: 25, AzimuthDeg: 180}},
				Gen: map[string]MonthGen{"2024-06": g}})
			if err != nil {
				t.Fatal(err)
			}
			m := st.Months[0]
			if m.GenWh != tc.wantWh || m.Complete != tc.wantComplete || m.ChainVerified != tc.verified || len(m.Problems) != len(ps) || st.ChainVerified != tc.verified {
				t.Errorf("coverage %+v, status chain-verified %t", m, st.ChainVerified)
			}
			alerted := strings.Contains(strings.Join(st.Alerts, "\n"), "2024-06 generation not fully certified: coverage is a lower bound (")
			if alerted == tc.wantComplete {
				t.Errorf("alerts %q", st.Alerts)
			}
			if p := Summarize([]*Status{st}); p.ChainVerified != tc.verified {
				t.Errorf("portfolio chain-verified %t", p.ChainVerified)
			}
		})
	}
}
