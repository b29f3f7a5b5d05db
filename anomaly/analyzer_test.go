package anomaly_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sunproof/sunproof/anomaly"
	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/ingest/sim"
)

// memLoader serves simulated series like anomaly.Source would.
type memLoader struct{ series []anomaly.Series }

func (m memLoader) Load(_ context.Context, devs []devices.Device, from, to time.Time) ([]anomaly.Series, anomaly.LoadStats, error) {
	out := make([]anomaly.Series, 0, len(devs))
	for _, s := range m.series {
		c := anomaly.Series{Device: s.Device}
		for _, smp := range s.Samples {
			if !smp.T.Before(from.Add(-time.Hour)) && smp.T.Before(to) {
				c.Samples = append(c.Samples, smp)
			}
		}
		out = append(out, c)
	}
	return out, anomaly.LoadStats{}, nil
}

type recorder struct{ got [][]anomaly.Alert }

func (r *recorder) Notify(_ context.Context, a []anomaly.Alert) error {
	r.got = append(r.got, a)
	return nil
}

func TestAnalyzerScanOnce(t *testing.T) {
	day := time.Date(2024, 6, 21, 0, 0, 0, 0, cst)
	pl := area("an", 8, 31.8, 117.2, 5, 0.2)
	pl[1].faults = func() []sim.Fault {
		return []sim.Fault{sim.Trip{Window: sim.Window{From: day.Add(10 * time.Hour), To: day.Add(13 * time.Hour)}}}
	}
	var devs []devices.Device
	for _, p := range pl {
		d := p.dev
		d.Status = devices.StatusActive
		devs = append(devs, d)
	}
	series := run(t, pl, day.Add(-time.Hour), day.Add(48*time.Hour), 5*time.Minute)
	sc, _ := anomaly.NewScanner(anomaly.DefaultConfig())
	tr, _ := anomaly.NewTracker(anomaly.DefaultTrackerConfig(), nil)
	store := anomaly.NewMemStore()
	rec := &recorder{}
	now := day.Add(24 * time.Hour)
	a := &anomaly.Analyzer{
		Config: anomaly.DefaultAnalyzerConfig(), Scanner: sc, Tracker: tr, Source: memLoader{series},
		Fleet: devices.NewStatic(devs...), Store: store, Notifiers: []anomaly.Notifier{rec}, Now: func() time.Time { return now },
	}
	_, changed, err := a.ScanOnce(context.Background(), day, day.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(changed) != 1 || changed[0].DeviceID != pl[1].dev.ID || changed[0].Type != anomaly.TypeZeroOutput {
		t.Fatalf("changed %+v", changed)
	}
	if open, _ := store.Open(context.Background()); len(open) != 1 || len(rec.got) != 1 {
		t.Errorf("store %v, notified %v", open, rec.got)
	}
	// The next day is clean: the alert resolves.
	now = day.Add(48 * time.Hour)
	_, changed, _ = a.ScanOnce(context.Background(), day.Add(24*time.Hour), day.Add(48*time.Hour))
	if len(changed) != 1 || changed[0].State != anomaly.StateResolved {
		t.Errorf("changed %+v", changed)
	}
}

// memDays is a DayStore in memory.
type memDays struct{ sums []anomaly.DaySummary }

func (m *memDays) Save(_ context.Context, days []anomaly.DaySummary) error {
	m.sums = append(m.sums, days...)
	return nil
}

func (m *memDays) Load(_ context.Context, since time.Time) ([]anomaly.DaySummary, error) {
	var out []anomaly.DaySummary
	for _, d := range m.sums {
		if !d.Date.Before(since) {
			out = append(out, d)
		}
	}
	return out, nil
}

// TestAnalyzerHistory scans an area with one device soiled 9–11 % (too
// little for a single day's verdict) day by day: the multi-day judgement
// finds it once three sunny days are in the history, and an analyzer
// restarted from the DayStore after day 2 finds the same.
func TestAnalyzerHistory(t *testing.T) {
	day := time.Date(2024, 6, 18, 0, 0, 0, 0, cst)
	const days = 4
	pl := area("hi", 8, 31.8, 117.2, 5, 0.15)
	pl[2].faults = func() []sim.Fault {
		return []sim.Fault{sim.Soiling{Window: sim.Window{From: day.Add(-18 * 24 * time.Hour)}, LossPerDay: 0.005, MaxLoss: 0.5}}
	}
	var devs []devices.Device
	for _, p := range pl {
		d := p.dev
		d.Status = devices.StatusActive
		devs = append(devs, d)
	}
	series := run(t, pl, day.Add(-time.Hour), day.Add(days*24*time.Hour), 5*time.Minute)
	cfg := anomaly.DefaultConfig()
	newAnalyzer := func(h *anomaly.History, st anomaly.DayStore, open []anomaly.Alert) *anomaly.Analyzer {
		sc, _ := anomaly.NewScanner(cfg)
		tr, _ := anomaly.NewTracker(anomaly.DefaultTrackerConfig(), open)
		return &anomaly.Analyzer{Scanner: sc, Tracker: tr, Source: memLoader{series}, Fleet: devices.NewStatic(devs...),
			Store: anomaly.NewMemStore(), History: h, Days: st}
	}
	// trend scans the days [from, to) with a and returns each scan's trend
	// findings.
	trend := func(a *anomaly.Analyzer, from, to int) [][]anomaly.Finding {
		var out [][]anomaly.Finding
		for k := from; k < to; k++ {
			now := day.Add(time.Duration(k+1) * 24 * time.Hour)
			a.Now = func() time.Time { return now }
			res, _, err := a.ScanOnce(context.Background(), now.Add(-24*time.Hour), now)
			if err != nil {
				t.Fatal(err)
			}
			var fs []anomaly.Finding
			for _, f := range res.Findings {
				if f.Severity >= anomaly.SeverityWarning && f.DeviceID != pl[2].dev.ID {
					t.Errorf("day %d: healthy device alarmed:%s", k, describe([]anomaly.Finding{f}))
				}
				if strings.HasSuffix(f.Basis, "_trend") {
					fs = append(fs, f)
				}
			}
			out = append(out, fs)
		}
		return out
	}
	st := &memDays{}
	all := trend(newAnalyzer(anomaly.NewHistory(cfg.Trend.Days), st, nil), 0, days)
	for k, fs := range all {
		want := k >= 2
		if got := len(fs) == 1 && fs[0].DeviceID == pl[2].dev.ID && fs[0].Type == anomaly.TypeUnderPerformance; got != want {
			t.Errorf("day %d: trend findings %s, want one under_performance on %s: %v", k, describe(fs), pl[2].dev.ID, want)
		}
	}
	if len(st.sums) != days*len(pl) {
		t.Errorf("saved %d day summaries, want %d", len(st.sums), days*len(pl))
	}

	// Restart after day 2: a new analyzer resumes from the store.
	st2 := &memDays{}
	trend(newAnalyzer(anomaly.NewHistory(cfg.Trend.Days), st2, nil), 0, 2)
	h, err := anomaly.LoadHistory(context.Background(), st2, cfg.Trend.Days, day.Add(2*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	resumed := trend(newAnalyzer(h, st2, nil), 2, days)
	for i, fs := range resumed {
		if !reflect.DeepEqual(fs, all[2+i]) {
			t.Errorf("day %d after a restart:%s\nwithout:%s", 2+i, describe(fs), describe(all[2+i]))
		}
	}
}
