package anomaly_test

import (
	"context"
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
