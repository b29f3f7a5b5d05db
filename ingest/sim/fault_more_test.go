package sim

import (
	"math"
	"testing"
	"time"

	"github.com/sunproof/sunproof/ingest/reading"
)

// pair runs a faulty and a healthy inverter side by side with Report.
type pairStep struct {
	t        time.Time
	ts       time.Time
	got      reading.Measurement
	ok       bool
	healthy  reading.Measurement
	trueWh   uint64 // the faulty inverter's true counter
	healthWh uint64
}

func runPair(t *testing.T, faults []Fault, from time.Time, n int, step time.Duration) []pairStep {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Cloudiness = 0.3
	cfg.StartEnergyWh = 1_000_000
	healthy := mustNew(t, cfg)
	cfg.Faults = faults
	faulty := mustNew(t, cfg)
	out := make([]pairStep, n)
	for i := range out {
		tm := from.Add(time.Duration(i) * step)
		ts, m, ok := faulty.Report(tm)
		h := healthy.Read(tm)
		out[i] = pairStep{t: tm, ts: ts, got: m, ok: ok, healthy: h, trueWh: faulty.EnergyWh(), healthWh: healthy.EnergyWh()}
	}
	return out
}

func TestReportWithoutFaultsIsRead(t *testing.T) {
	day := time.Date(2024, 6, 21, 0, 0, 0, 0, cst)
	for _, s := range runPair(t, nil, day, 288, 5*time.Minute) {
		if !s.ok || !s.ts.Equal(s.t) || s.got != s.healthy {
			t.Fatalf("at %s: Report %v %v %+v, Read %+v", s.t, s.ts, s.ok, s.got, s.healthy)
		}
	}
}

func TestCommOutage(t *testing.T) {
	day := time.Date(2024, 6, 21, 0, 0, 0, 0, cst)
	w := Window{From: day.Add(9 * time.Hour), To: day.Add(11 * time.Hour)}
	steps := runPair(t, []Fault{CommOutage{Window: w}}, day, 288, 5*time.Minute)
	dropped := 0
	for _, s := range steps {
		if s.ok == w.Contains(s.t) {
			t.Fatalf("at %s: delivered %v, in outage %v", s.t, s.ok, w.Contains(s.t))
		}
		if !s.ok {
			dropped++
			continue
		}
		// The plant ran on: the counter after the outage is the healthy one.
		if s.got != s.healthy {
			t.Fatalf("at %s: %+v, want the healthy %+v", s.t, s.got, s.healthy)
		}
	}
	if dropped != 24 {
		t.Errorf("dropped %d readings, want 24", dropped)
	}
}

func TestCounterReset(t *testing.T) {
	day := time.Date(2024, 6, 21, 0, 0, 0, 0, cst)
	at := day.Add(14 * time.Hour)
	tests := []struct {
		desc  string
		fault *CounterReset
	}{
		{"permanent, to 0, with event", &CounterReset{Window: Window{From: at}, Event: true}},
		{"to 500 Wh until 18:00", &CounterReset{Window: Window{From: at, To: day.Add(18 * time.Hour)}, To: 500}},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			steps := runPair(t, []Fault{tc.fault}, day, 288, 5*time.Minute)
			var offset uint64
			for i, s := range steps {
				in := tc.fault.Contains(s.t)
				first := in && (i == 0 || !tc.fault.Contains(steps[i-1].t))
				if first {
					if s.got.EnergyWh != tc.fault.To {
						t.Fatalf("at %s: counter %d right after the reset, want %d", s.t, s.got.EnergyWh, tc.fault.To)
					}
					offset = s.trueWh - tc.fault.To
					if got := s.got.Events&reading.EvtMemoryLoss != 0; got != tc.fault.Event {
						t.Errorf("memory-loss event %v, want %v", got, tc.fault.Event)
					}
				} else if s.got.Events&reading.EvtMemoryLoss != 0 {
					t.Errorf("at %s: memory-loss event after the reset reading", s.t)
				}
				want := s.trueWh
				if in {
					want = s.trueWh - offset
				}
				if s.got.EnergyWh != want {
					t.Fatalf("at %s: counter %d, want %d", s.t, s.got.EnergyWh, want)
				}
				if s.trueWh != s.healthWh {
					t.Fatalf("the true counter must not change: %d vs %d", s.trueWh, s.healthWh)
				}
			}
		})
	}
}

func TestInflated(t *testing.T) {
	day := time.Date(2024, 6, 21, 0, 0, 0, 0, cst)
	w := Window{From: day.Add(8 * time.Hour), To: day.Add(14 * time.Hour)}
	for _, counter := range []bool{true, false} {
		steps := runPair(t, []Fault{&Inflated{Window: w, Factor: 1.5, Counter: counter}}, day, 288, 5*time.Minute)
		var prev uint64
		var baseTrue uint64
		for i, s := range steps {
			if w.Contains(s.t) && s.healthy.ACPowerW > 0 {
				if math.Abs(s.got.ACPowerW-1.5*s.healthy.ACPowerW) > 1e-9 || math.Abs(s.got.DCPowerW-1.5*s.healthy.DCPowerW) > 1e-9 {
					t.Fatalf("at %s: power %g, want 1.5 × %g", s.t, s.got.ACPowerW, s.healthy.ACPowerW)
				}
			} else if s.got.ACPowerW != s.healthy.ACPowerW {
				t.Fatalf("at %s outside the window or at night: power %g, want %g", s.t, s.got.ACPowerW, s.healthy.ACPowerW)
			}
			if i > 0 && s.got.EnergyWh < prev {
				t.Fatalf("at %s: inflated counter went back from %d to %d", s.t, prev, s.got.EnergyWh)
			}
			prev = s.got.EnergyWh
			if w.Contains(s.t) && (i == 0 || !w.Contains(steps[i-1].t)) {
				baseTrue = s.trueWh
			}
			if !counter && s.got.EnergyWh != s.trueWh {
				t.Fatalf("counter inflated without Counter: %d vs %d", s.got.EnergyWh, s.trueWh)
			}
		}
		last := steps[len(steps)-1]
		if counter {
			// Surplus = 0.5 × what the plant made in the window.
			var endTrue uint64
			for _, s := range steps {
				if w.Contains(s.t) {
					endTrue = s.trueWh
				}
			}
			wantExtra := 0.5 * float64(endTrue-baseTrue)
			if got := float64(last.got.EnergyWh - last.trueWh); math.Abs(got-wantExtra) > 1 {
				t.Errorf("fabricated surplus %g Wh, want %g", got, wantExtra)
			}
		}
	}
}

func TestClockDrift(t *testing.T) {
	from := time.Date(2024, 6, 21, 0, 0, 0, 0, cst)
	tests := []struct {
		desc string
		f    ClockDrift
		at   time.Duration
		want time.Duration // offset reported at from+at
	}{
		{"before", ClockDrift{Window: Window{From: from}, Offset: time.Hour}, -time.Minute, 0},
		{"step", ClockDrift{Window: Window{From: from}, Offset: time.Hour}, 5 * time.Hour, time.Hour},
		{"drift 10 min/day after 36 h", ClockDrift{Window: Window{From: from}, RatePerDay: 10 * time.Minute}, 36 * time.Hour, 15 * time.Minute},
		{"step back and drift", ClockDrift{Window: Window{From: from}, Offset: -30 * time.Minute, RatePerDay: 4 * time.Minute}, 48 * time.Hour, -22 * time.Minute},
		{"after the window", ClockDrift{Window: Window{From: from, To: from.Add(time.Hour)}, Offset: time.Hour}, 2 * time.Hour, 0},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			tm := from.Add(tc.at)
			if got := tc.f.Retime(tm).Sub(tm); got != tc.want {
				t.Errorf("offset %s, want %s", got, tc.want)
			}
		})
	}
	steps := runPair(t, []Fault{ClockDrift{Window: Window{From: from.Add(time.Hour)}, Offset: 20 * time.Minute}}, from, 48, 5*time.Minute)
	for _, s := range steps {
		if s.got != s.healthy {
			t.Fatalf("a clock fault changed the values at %s", s.t)
		}
	}
}

func TestMoreFaultsValidate(t *testing.T) {
	from := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		desc    string
		f       Fault
		wantErr bool
	}{
		{"outage", CommOutage{Window: Window{From: from, To: from.Add(time.Hour)}}, false},
		{"outage without start", CommOutage{}, true},
		{"reset", &CounterReset{Window: Window{From: from}}, false},
		{"inflated ×1.3", &Inflated{Window: Window{From: from}, Factor: 1.3}, false},
		{"inflated ×1", &Inflated{Window: Window{From: from}, Factor: 1}, true},
		{"inflated NaN", &Inflated{Window: Window{From: from}, Factor: math.NaN()}, true},
		{"drift", ClockDrift{Window: Window{From: from}, RatePerDay: time.Minute}, false},
		{"drift of nothing", ClockDrift{Window: Window{From: from}}, true},
		{"drift of a month", ClockDrift{Window: Window{From: from}, Offset: 30 * 24 * time.Hour}, true},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Faults = []Fault{tc.f}
			if err := cfg.Validate(); (err != nil) != tc.wantErr {
				t.Errorf("Validate() = %v, want error %v", err, tc.wantErr)
			}
		})
	}
}
