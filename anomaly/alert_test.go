package anomaly_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sunproof/sunproof/anomaly"
)

func finding(dev string, typ anomaly.Type, sev anomaly.Severity, from, to time.Time) anomaly.Finding {
	return anomaly.Finding{DeviceID: dev, SiteID: "s", Type: typ, Severity: sev, Span: anomaly.Span{From: from, To: to},
		Summary: string(typ), Evidence: map[string]float64{"x": float64(sev)}}
}

// TestTracker walks one device through scans and checks the alert
// transitions: one fault is one alert across repeated scans.
func TestTracker(t *testing.T) {
	t0 := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	dev := "d1"
	zero, gap, perf := anomaly.TypeZeroOutput, anomaly.TypeCommGap, anomaly.TypeUnderPerformance
	type step struct {
		findings     []anomaly.Finding
		inconclusive []anomaly.Type
		notScanned   bool
		wantChanged  []string // "type:state"
		wantOpen     int
	}
	steps := []step{
		{findings: []anomaly.Finding{finding(dev, zero, anomaly.SeverityWarning, h(10), h(11))},
			wantChanged: []string{"zero_output:open"}, wantOpen: 1},
		// Same fault seen again, worse: updated, not a new alert.
		{findings: []anomaly.Finding{finding(dev, zero, anomaly.SeverityCritical, h(10), h(13))},
			wantChanged: []string{"zero_output:open"}, wantOpen: 1},
		// A night scan cannot judge zero output: stays open, unchanged.
		{inconclusive: []anomaly.Type{zero}, wantOpen: 1},
		// Device missing from the scan: stays open.
		{notScanned: true, wantOpen: 1},
		// Clean scan: resolved.
		{wantChanged: []string{"zero_output:resolved"}, wantOpen: 0},
		// The same span found again (overlapping): the alert reopens.
		{findings: []anomaly.Finding{finding(dev, zero, anomaly.SeverityWarning, h(12), h(12))},
			wantChanged: []string{"zero_output:open"}, wantOpen: 1},
		{wantChanged: []string{"zero_output:resolved"}, wantOpen: 0},
		// Two types at once: two alerts; performance needs 2 clean scans.
		{findings: []anomaly.Finding{finding(dev, gap, anomaly.SeverityWarning, h(30), h(31)), finding(dev, perf, anomaly.SeverityWarning, h(29), h(40))},
			wantChanged: []string{"comm_gap:open", "under_performance:open"}, wantOpen: 2},
		{wantChanged: []string{"comm_gap:resolved"}, wantOpen: 1},
		{wantChanged: []string{"under_performance:resolved"}, wantOpen: 0},
		// A new fault on a later day: a new alert.
		{findings: []anomaly.Finding{finding(dev, zero, anomaly.SeverityWarning, h(100), h(101))},
			wantChanged: []string{"zero_output:open"}, wantOpen: 1},
	}
	tr, err := anomaly.NewTracker(anomaly.DefaultTrackerConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for i, st := range steps {
		res := anomaly.Result{Findings: st.findings}
		if !st.notScanned {
			res.Scanned = []string{dev}
		}
		for _, typ := range st.inconclusive {
			res.Inconclusive = append(res.Inconclusive, anomaly.Key{DeviceID: dev, Type: typ})
		}
		changed := tr.Apply(res, h(200+i))
		var got []string
		for _, a := range changed {
			got = append(got, string(a.Type)+":"+string(a.State))
			if a.Type == zero && a.State == anomaly.StateOpen {
				ids[a.ID] = true
			}
		}
		if strings.Join(got, ",") != strings.Join(st.wantChanged, ",") {
			t.Fatalf("step %d: changed %v, want %v", i, got, st.wantChanged)
		}
		if n := len(tr.Open()); n != st.wantOpen {
			t.Fatalf("step %d: %d open, want %d", i, n, st.wantOpen)
		}
	}
	// Steps 0–6 are one zero-output alert; step 10 is a second one.
	if len(ids) != 2 {
		t.Errorf("zero-output alert ids %v, want 2", ids)
	}
	open := tr.Open()
	if open[0].Severity != anomaly.SeverityWarning || open[0].Scans != 1 {
		t.Errorf("new alert %+v", open[0])
	}
}

func TestTrackerKeepsWorstEvidenceAndSpan(t *testing.T) {
	t0 := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	tr, _ := anomaly.NewTracker(anomaly.DefaultTrackerConfig(), nil)
	tr.Apply(anomaly.Result{Scanned: []string{"d"}, Findings: []anomaly.Finding{
		finding("d", anomaly.TypeCommGap, anomaly.SeverityCritical, t0, t0.Add(time.Hour)),
		finding("d", anomaly.TypeCommGap, anomaly.SeverityWarning, t0.Add(5*time.Hour), t0.Add(6*time.Hour)),
	}}, t0.Add(7*time.Hour))
	a := tr.Open()[0]
	if a.Severity != anomaly.SeverityCritical || a.Evidence["x"] != 3 || a.Span.To != t0.Add(6*time.Hour) || !a.Start.Equal(t0) {
		t.Errorf("%+v", a)
	}
	// Resume from a store after a restart.
	tr2, _ := anomaly.NewTracker(anomaly.DefaultTrackerConfig(), tr.Open())
	if got := tr2.Apply(anomaly.Result{Scanned: []string{"d"}}, t0.Add(8*time.Hour)); len(got) != 1 || got[0].State != anomaly.StateResolved || got[0].ID != a.ID {
		t.Errorf("resumed tracker: %+v", got)
	}
}

func TestMemStore(t *testing.T) {
	ctx := context.Background()
	m := anomaly.NewMemStore()
	t0 := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	a := anomaly.Alert{ID: "d/stuck/1", DeviceID: "d", Type: anomaly.TypeStuck, State: anomaly.StateOpen, Span: anomaly.Span{From: t0, To: t0}}
	if err := m.Save(ctx, []anomaly.Alert{a}); err != nil {
		t.Fatal(err)
	}
	a.State = anomaly.StateResolved
	b := a
	b.ID, b.State = "d/stuck/2", anomaly.StateOpen
	_ = m.Save(ctx, []anomaly.Alert{a, b})
	open, _ := m.Open(ctx)
	if len(open) != 1 || open[0].ID != "d/stuck/2" || len(m.All()) != 2 {
		t.Errorf("open %+v all %+v", open, m.All())
	}
}

func TestAlertLine(t *testing.T) {
	t0 := time.Date(2024, 6, 1, 2, 0, 0, 0, time.UTC)
	a := anomaly.Alert{
		ID: "inv-1/zero_output/1717207200000", DeviceID: "inv-1", SiteID: "site 1", Type: anomaly.TypeZeroOutput,
		Severity: anomaly.SeverityCritical, State: anomaly.StateOpen, Span: anomaly.Span{From: t0, To: t0.Add(time.Hour)},
		Start: t0, OpenedAt: t0.Add(2 * time.Hour), UpdatedAt: t0.Add(2 * time.Hour), Scans: 1,
		Basis: "clear_sky_model", Summary: `no "output"`, Evidence: map[string]float64{"b": 2, "a": 1}, Anchored: anomaly.AnchoringUnknown,
	}
	got, err := anomaly.AlertLine("alert", &a)
	if err != nil {
		t.Fatal(err)
	}
	want := `alert,device_id=inv-1,site_id=site\ 1,type=zero_output id="inv-1/zero_output/1717207200000",state="open",severity="critical",severity_level=3i,` +
		`span_from=1717207200000000000i,span_to=1717210800000000000i,opened_at=1717214400000000000i,updated_at=1717214400000000000i,resolved_at=0i,scans=1i,` +
		`basis="clear_sky_model",summary="no \"output\"",anchored="unknown",evidence="{\"a\":1,\"b\":2}" 1717207200000000000`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
