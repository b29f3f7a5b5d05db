package anomaly_test

import (
	"slices"
	"testing"
	"time"

	"github.com/sunproof/sunproof/anomaly"
	"github.com/sunproof/sunproof/ingest/sim"
)

// TestDetectorsSimulatedFaults injects one fault into device 3 of a
// 10-device area simulated with ingest/sim and checks that the expected
// detector fires on it, over the fault's span, and that no healthy device
// raises an alarm. "allowed" lists the other types the fault may also
// trigger on the faulty device (their consequences, not false alarms).
func TestDetectorsSimulatedFaults(t *testing.T) {
	day := time.Date(2024, 6, 21, 0, 0, 0, 0, cst)
	at := func(h, m int) time.Time { return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	win := func(h0, h1 int) sim.Window { return sim.Window{From: at(h0, 0), To: at(h1, 0)} }
	allDay := sim.Window{From: day.Add(-time.Hour)}
	tests := []struct {
		desc    string
		cloud   float64
		faults  func() []sim.Fault
		want    anomaly.Type
		minSev  anomaly.Severity
		span    sim.Window // the finding must overlap it
		allowed []anomaly.Type
	}{
		{"trip 10-13 clear", 0.15, func() []sim.Fault { return []sim.Fault{sim.Trip{Window: win(10, 13)}} },
			anomaly.TypeZeroOutput, anomaly.SeverityCritical, win(10, 13), nil},
		{"trip 10-13 broken clouds", 0.6, func() []sim.Fault { return []sim.Fault{sim.Trip{Window: win(10, 13)}} },
			anomaly.TypeZeroOutput, anomaly.SeverityCritical, win(10, 13), nil},
		{"one of two strings lost", 0.15, func() []sim.Fault { return []sim.Fault{sim.StringLoss{Window: allDay, Strings: 2, Lost: 1}} },
			anomaly.TypeUnderPerformance, anomaly.SeverityWarning, win(8, 16), []anomaly.Type{anomaly.TypeClipping}},
		{"one of four strings lost, cloudy", 0.6, func() []sim.Fault { return []sim.Fault{sim.StringLoss{Window: allDay, Strings: 4, Lost: 1}} },
			anomaly.TypeUnderPerformance, anomaly.SeverityWarning, win(8, 16), nil},
		{"soiling 20 %", 0.3, func() []sim.Fault {
			return []sim.Fault{sim.Soiling{Window: sim.Window{From: day.Add(-20 * 24 * time.Hour)}, LossPerDay: 0.01, MaxLoss: 0.3}}
		}, anomaly.TypeUnderPerformance, anomaly.SeverityWarning, win(8, 16), nil},
		{"stuck meter 10-12", 0.3, func() []sim.Fault { return []sim.Fault{&sim.StuckMeter{Window: win(10, 12)}} },
			anomaly.TypeStuck, anomaly.SeverityWarning, win(10, 12), nil},
		{"comm outage 9-11", 0.3, func() []sim.Fault { return []sim.Fault{sim.CommOutage{Window: win(9, 11)}} },
			anomaly.TypeCommGap, anomaly.SeverityWarning, win(9, 11), nil},
		{"comm outage at night", 0.3, func() []sim.Fault { return []sim.Fault{sim.CommOutage{Window: win(1, 3)}} },
			anomaly.TypeCommGap, anomaly.SeverityWarning, win(1, 3), nil},
		{"counter reset", 0.3, func() []sim.Fault { return []sim.Fault{&sim.CounterReset{Window: sim.Window{From: at(14, 0)}}} },
			anomaly.TypeCounterRegression, anomaly.SeverityCritical, win(13, 15), nil},
		{"inflated ×1.3 with counter", 0.3, func() []sim.Fault { return []sim.Fault{&sim.Inflated{Window: allDay, Factor: 1.3, Counter: true}} },
			anomaly.TypeOverPerformance, anomaly.SeverityWarning, win(8, 16),
			[]anomaly.Type{anomaly.TypeOverCapacity, anomaly.TypeClipping}},
		{"inflated ×1.3 power only", 0.3, func() []sim.Fault { return []sim.Fault{&sim.Inflated{Window: allDay, Factor: 1.3}} },
			anomaly.TypeEnergyMismatch, anomaly.SeverityWarning, win(8, 16),
			[]anomaly.Type{anomaly.TypeOverPerformance, anomaly.TypeOverCapacity, anomaly.TypeClipping}},
		{"inflated ×2 over capacity", 0.1, func() []sim.Fault { return []sim.Fault{&sim.Inflated{Window: win(9, 15), Factor: 2, Counter: true}} },
			anomaly.TypeOverCapacity, anomaly.SeverityWarning, win(9, 15),
			[]anomaly.Type{anomaly.TypeOverPerformance, anomaly.TypeClipping}},
		{"clock +1 h", 0.3, func() []sim.Fault { return []sim.Fault{sim.ClockDrift{Window: allDay, Offset: time.Hour}} },
			anomaly.TypeClockOffset, anomaly.SeverityWarning, win(8, 16),
			[]anomaly.Type{anomaly.TypeCommGap, anomaly.TypeNightGeneration}},
		{"clock set back 45 min at noon", 0.3, func() []sim.Fault {
			return []sim.Fault{sim.ClockDrift{Window: sim.Window{From: at(12, 0)}, Offset: -45 * time.Minute}}
		}, anomaly.TypeClockOffset, anomaly.SeverityWarning, win(11, 13), []anomaly.Type{anomaly.TypeCommGap}},
		{"clock drifting 30 min/day for 2 days", 0.2, func() []sim.Fault {
			return []sim.Fault{sim.ClockDrift{Window: sim.Window{From: day.Add(-24 * time.Hour)}, RatePerDay: 30 * time.Minute}}
		}, anomaly.TypeClockOffset, anomaly.SeverityWarning, win(8, 16), []anomaly.Type{anomaly.TypeCommGap, anomaly.TypeNightGeneration}},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			pl := area("a", 10, 31.8, 117.2, 11, tc.cloud)
			pl[3].faults = tc.faults
			res := scan(t, anomaly.DefaultConfig(), run(t, pl, day, day.Add(24*time.Hour), 5*time.Minute), day, day.Add(24*time.Hour))
			span := anomaly.Span{From: tc.span.From, To: tc.span.To}
			var hit bool
			for _, f := range res.Findings {
				switch {
				case f.DeviceID != pl[3].dev.ID:
					if f.Severity >= anomaly.SeverityWarning {
						t.Errorf("healthy device alarmed:%s", describe([]anomaly.Finding{f}))
					}
				case f.Type == tc.want:
					if f.Severity < tc.minSev {
						t.Errorf("got severity %s, want ≥ %s:%s", f.Severity, tc.minSev, describe([]anomaly.Finding{f}))
					}
					if !f.Span.Overlaps(span) {
						t.Errorf("finding span does not overlap %s–%s:%s", span.From, span.To, describe([]anomaly.Finding{f}))
					}
					hit = true
				case !slices.Contains(tc.allowed, f.Type) && f.Severity >= anomaly.SeverityWarning:
					t.Errorf("unexpected alarm on the faulty device:%s", describe([]anomaly.Finding{f}))
				}
			}
			if !hit {
				t.Errorf("no %s finding on %s; got:%s", tc.want, pl[3].dev.ID, describe(res.Findings))
			}
		})
	}
}

// TestHealthyFleetNoAlarms scans healthy areas over varied seasons and
// skies: no finding of severity warning or above is allowed.
func TestHealthyFleetNoAlarms(t *testing.T) {
	days := []time.Time{
		time.Date(2024, 1, 15, 0, 0, 0, 0, cst), time.Date(2024, 3, 20, 0, 0, 0, 0, cst),
		time.Date(2024, 6, 5, 0, 0, 0, 0, cst), time.Date(2024, 8, 1, 0, 0, 0, 0, cst),
		time.Date(2024, 10, 12, 0, 0, 0, 0, cst), time.Date(2024, 12, 21, 0, 0, 0, 0, cst),
	}
	cfg := anomaly.DefaultConfig()
	n := 0
	for i, day := range days {
		for _, cloud := range []float64{0.05, 0.35, 0.65, 0.95} {
			pl := area("h", 8, 30+float64(i), 110+float64(i)*2, int64(i*10)+int64(cloud*10), cloud)
			res := scan(t, cfg, run(t, pl, day, day.Add(24*time.Hour), 5*time.Minute), day, day.Add(24*time.Hour))
			n += len(pl)
			for _, fs := range alarms(res) {
				t.Errorf("%s cloudiness %.2f: false alarm:%s", day.Format("2006-01-02"), cloud, describe(fs))
			}
		}
	}
	t.Logf("%d healthy device-days", n)
}

// A device alone (no peers) falls back on the clear-sky model: a lost
// string is found on a clear day, and a cloudy day is inconclusive rather
// than an alarm.
func TestUnderPerformanceWithoutPeers(t *testing.T) {
	clearDay := time.Date(2024, 4, 12, 0, 0, 0, 0, cst)
	tests := []struct {
		desc      string
		cloud     float64
		fault     bool
		wantAlarm bool
	}{
		{"clear, lost string", 0.05, true, true},
		{"clear, healthy", 0.05, false, false},
		{"overcast, lost string", 0.95, true, false},
		{"overcast, healthy", 0.95, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			pl := area("x", 1, 31.8, 117.2, 4, tc.cloud)
			if tc.fault {
				pl[0].faults = func() []sim.Fault {
					return []sim.Fault{sim.StringLoss{Window: sim.Window{From: clearDay}, Strings: 2, Lost: 1}}
				}
			}
			res := scan(t, anomaly.DefaultConfig(), run(t, pl, clearDay, clearDay.Add(24*time.Hour), 5*time.Minute), clearDay, clearDay.Add(24*time.Hour))
			got := false
			for _, f := range res.Findings {
				if f.Type == anomaly.TypeUnderPerformance {
					got = true
					if f.Basis != "clear_sky_model" {
						t.Errorf("basis %q, want clear_sky_model", f.Basis)
					}
				}
			}
			if got != tc.wantAlarm {
				t.Errorf("under-performance found %v, want %v:%s", got, tc.wantAlarm, describe(res.Findings))
			}
			if !got && tc.cloud > 0.9 && !slices.Contains(res.Inconclusive, anomaly.Key{DeviceID: pl[0].dev.ID, Type: anomaly.TypeUnderPerformance}) {
				t.Errorf("overcast day without peers not inconclusive: %v", res.Inconclusive)
			}
		})
	}
}
