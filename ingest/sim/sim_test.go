package sim

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/sunproof/sunproof/anomaly/pvmodel"
	"github.com/sunproof/sunproof/ingest/reading"
)

// cst is China Standard Time; Hefei's solar noon is about 12:13 CST in June.
var cst = time.FixedZone("CST", 8*3600)

func mustNew(t testing.TB, cfg Config) *Inverter {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// dayEnergyWh reads s every step over the local day starting at day and
// returns the counter's increase.
func dayEnergyWh(s *Inverter, day time.Time, step time.Duration) uint64 {
	start := s.Read(day).EnergyWh
	end := day.Add(24 * time.Hour)
	for t := day.Add(step); t.Before(end); t = t.Add(step) {
		s.Read(t)
	}
	return s.Read(end).EnergyWh - start
}

func TestConfigValidate(t *testing.T) {
	mod := func(f func(*Config)) Config { c := DefaultConfig(); f(&c); return c }
	from := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		desc    string
		cfg     Config
		wantErr bool
	}{
		{"default", DefaultConfig(), false},
		{"clear and 60 Hz", mod(func(c *Config) { c.Cloudiness, c.NominalFrequencyHz, c.NominalACVoltageV = 0, 60, 120 }), false},
		{"with faults", mod(func(c *Config) {
			c.Faults = []Fault{Trip{Window: Window{From: from, To: from.Add(time.Hour)}}, &StuckMeter{Window: Window{From: from}}}
		}), false},
		{"zero value", Config{}, true},
		{"bad plant", mod(func(c *Config) { c.Plant.KWp = -1 }), true},
		{"cloudiness > 1", mod(func(c *Config) { c.Cloudiness = 1.5 }), true},
		{"cloudiness NaN", mod(func(c *Config) { c.Cloudiness = math.NaN() }), true},
		{"vmp too high", mod(func(c *Config) { c.VmpSTCV = 1400 }), true},
		{"55 Hz", mod(func(c *Config) { c.NominalFrequencyHz = 55 }), true},
		{"standby draw 10 W", mod(func(c *Config) { c.StandbyDrawW = 10 }), true},
		{"no wake threshold", mod(func(c *Config) { c.WakeFraction = 0 }), true},
		{"daily swing negative", mod(func(c *Config) { c.AmbientDailyC = -1 }), true},
		{"nil fault", mod(func(c *Config) { c.Faults = []Fault{nil} }), true},
		{"fault without start", mod(func(c *Config) { c.Faults = []Fault{Trip{}} }), true},
		{"fault ends before start", mod(func(c *Config) {
			c.Faults = []Fault{Trip{Window: Window{From: from, To: from.Add(-time.Hour)}}}
		}), true},
		{"string loss of 3 of 2", mod(func(c *Config) {
			c.Faults = []Fault{StringLoss{Window: Window{From: from}, Strings: 2, Lost: 3}}
		}), true},
		{"soiling rate 0", mod(func(c *Config) {
			c.Faults = []Fault{Soiling{Window: Window{From: from}, MaxLoss: 0.2}}
		}), true},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			err := tc.cfg.Validate()
			if got := err != nil; got != tc.wantErr {
				t.Fatalf("Validate() got %v, want error %v", err, tc.wantErr)
			}
			if err != nil && !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("error %v does not wrap ErrInvalidConfig", err)
			}
			if _, err2 := New(tc.cfg); (err2 != nil) != tc.wantErr {
				t.Errorf("New() got %v, want error %v", err2, tc.wantErr)
			}
		})
	}
}

// irregular returns n increasing times from t0 with steps of 1 s to ~10 min,
// derived from a hash so that tests need no RNG state.
func irregular(t0 time.Time, n int, salt int64) []time.Time {
	out := make([]time.Time, n)
	t := t0
	for i := range out {
		step := time.Duration(1+int64((uniform(salt, 99, int64(i))+1)*300)) * time.Second
		t = t.Add(step)
		out[i] = t
	}
	return out
}

func TestDeterminism(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Cloudiness = 0.5
	cfg.Faults = []Fault{&StuckMeter{Window: Window{From: time.Date(2024, 6, 21, 3, 0, 0, 0, time.UTC), To: time.Date(2024, 6, 21, 4, 0, 0, 0, time.UTC)}}}
	times := irregular(time.Date(2024, 6, 20, 12, 0, 0, 0, time.UTC), 2000, 7)
	run := func(cfg Config) []reading.Measurement {
		// Faults with state are per inverter: copy the stuck meter.
		c := cfg
		c.Faults = []Fault{&StuckMeter{Window: cfg.Faults[0].(*StuckMeter).Window}}
		s := mustNew(t, c)
		out := make([]reading.Measurement, len(times))
		for i, tm := range times {
			out[i] = s.Read(tm)
		}
		return out
	}
	a, b := run(cfg), run(cfg)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("read %d at %s differs:\n%+v\n%+v", i, times[i], a[i], b[i])
		}
	}
	cfg.Seed = 2
	c := run(cfg)
	same := 0
	for i := range a {
		if a[i].ACPowerW == c[i].ACPowerW {
			same++
		}
	}
	if same == len(a) {
		t.Error("seeds 1 and 2 produce the same AC power everywhere")
	}
}

// The weather at t does not depend on how often Read is called, and the
// energy counter hardly does.
func TestReadCadenceIndependence(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Cloudiness = 0.5
	fast, slow := mustNew(t, cfg), mustNew(t, cfg)
	day := time.Date(2024, 6, 21, 0, 0, 0, 0, cst)
	end := day.Add(24 * time.Hour)
	var fastM reading.Measurement
	for tm := day; !tm.After(end); tm = tm.Add(10 * time.Second) {
		fastM = fast.Read(tm)
		if tm.Sub(day)%(15*time.Minute) == 0 {
			slowM := slow.Read(tm)
			fastM.EnergyWh, slowM.EnergyWh = 0, 0
			if fastM != slowM {
				t.Fatalf("at %s: every 10 s %+v, every 15 min %+v", tm, fastM, slowM)
			}
		}
	}
	ef, es := float64(fast.EnergyWh()), float64(slow.EnergyWh())
	if math.Abs(ef-es) > 0.01*ef+2 {
		t.Errorf("day energy read every 10 s %.0f Wh, every 15 min %.0f Wh: want within 1 %%", ef, es)
	}
}

func TestDailyEnergyHefeiJune(t *testing.T) {
	day := time.Date(2024, 6, 21, 0, 0, 0, 0, cst)
	p := pvmodel.DefaultPlant()
	clearWh, err := pvmodel.ExpectedEnergy(p, day, day.Add(24*time.Hour), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		cloudiness       float64
		minKWh, maxKWh   float64
		minRatio, maxRat float64 // of pvmodel's clear-sky expectation
	}{
		{0, 25, 33, 0.88, 1.0},
		{0.1, 15, 35, 0.5, 1.0}, // mostly clear
		{1, 2, 10, 0.05, 0.35},  // overcast
	}
	for _, tc := range tests {
		for seed := int64(1); seed <= 5; seed++ {
			cfg := DefaultConfig()
			cfg.Seed, cfg.Cloudiness = seed, tc.cloudiness
			wh := float64(dayEnergyWh(mustNew(t, cfg), day, time.Minute))
			if kwh := wh / 1000; kwh < tc.minKWh || kwh > tc.maxKWh {
				t.Errorf("cloudiness %g seed %d: got %.1f kWh, want %g..%g", tc.cloudiness, seed, kwh, tc.minKWh, tc.maxKWh)
			}
			if r := wh / clearWh; r < tc.minRatio || r > tc.maxRat {
				t.Errorf("cloudiness %g seed %d: got %.2f of clear-sky %.0f Wh, want %g..%g", tc.cloudiness, seed, r, clearWh, tc.minRatio, tc.maxRat)
			}
		}
	}
}

func TestNight(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Cloudiness = 0.2
	s := mustNew(t, cfg)
	for d := 0; d < 3; d++ {
		night := time.Date(2024, 3, 20+d, 21, 0, 0, 0, cst)
		for tm := night; tm.Before(night.Add(7 * time.Hour)); tm = tm.Add(time.Minute) {
			m := s.Read(tm)
			if m.State != reading.StateSleeping || m.ACPowerW > 0 || m.ACPowerW < -5 || m.DCPowerW != 0 || m.DCCurrentA != 0 {
				t.Fatalf("at %s: %+v, want sleeping with -5..0 W AC and no DC", tm, m)
			}
		}
	}
}

func TestCounterMonotonic(t *testing.T) {
	cfg := DefaultConfig()
	cfg.StartEnergyWh = 1_234_567
	s := mustNew(t, cfg)
	times := irregular(time.Date(2024, 9, 1, 0, 0, 0, 0, cst), 1500, 3)
	// Repeat and go back in time now and then: such reads add nothing.
	for i := 0; i < len(times); i += 97 {
		times[i] = times[i].Add(-20 * time.Minute)
	}
	prev := uint64(0)
	for i, tm := range times {
		m := s.Read(tm)
		if i == 0 && m.EnergyWh != cfg.StartEnergyWh {
			t.Fatalf("first read has counter %d, want StartEnergyWh %d", m.EnergyWh, cfg.StartEnergyWh)
		}
		if m.EnergyWh < prev {
			t.Fatalf("read %d at %s: counter went from %d to %d", i, tm, prev, m.EnergyWh)
		}
		prev = m.EnergyWh
		if again := s.Read(tm); again.EnergyWh != m.EnergyWh {
			t.Fatalf("repeated read at %s changed the counter from %d to %d", tm, m.EnergyWh, again.EnergyWh)
		}
	}
	if prev-cfg.StartEnergyWh < 20000 {
		t.Errorf("counter rose by %d Wh over about %d days, want more", prev-cfg.StartEnergyWh, int(times[len(times)-1].Sub(times[0]).Hours()/24))
	}
}

func TestClipping(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Cloudiness = 0
	cfg.Plant.ACRatingW = 3000
	s := mustNew(t, cfg)
	day := time.Date(2024, 5, 10, 0, 0, 0, 0, cst)
	var maxAC float64
	throttled := 0
	for tm := day; tm.Before(day.Add(24 * time.Hour)); tm = tm.Add(time.Minute) {
		m := s.Read(tm)
		maxAC = math.Max(maxAC, m.ACPowerW)
		if m.ACPowerW > cfg.Plant.ACRatingW {
			t.Fatalf("at %s AC %g above the %g W rating", tm, m.ACPowerW, cfg.Plant.ACRatingW)
		}
		if m.State == reading.StateThrottled {
			throttled++
			if m.ACPowerW != cfg.Plant.ACRatingW {
				t.Errorf("throttled at %s with AC %g, want %g", tm, m.ACPowerW, cfg.Plant.ACRatingW)
			}
			if lim := cfg.Plant.InverterDCLimitW(); m.DCPowerW > lim+1e-6 {
				t.Errorf("throttled at %s with DC %g above the inverter's %g W input", tm, m.DCPowerW, lim)
			}
		}
	}
	if maxAC != cfg.Plant.ACRatingW || throttled < 60 {
		t.Errorf("max AC %g W, %d throttled minutes; want %g W and at least 60", maxAC, throttled, cfg.Plant.ACRatingW)
	}
}

// checkReading applies reading.Check and the simulator's own physical
// invariants.
func checkReading(t *testing.T, cfg Config, tm time.Time, m reading.Measurement) {
	t.Helper()
	r := reading.Reading{DeviceID: "sim-1", SiteID: "hefei-1", Seq: 1, TimeMS: tm.UnixMilli(), Measurement: m}
	lim := reading.DefaultLimits()
	lim.RatedW = cfg.Plant.KWp * 1000
	if err := reading.Check(&r, lim, tm); err != nil {
		t.Fatalf("at %s: %v\n%+v", tm, err, m)
	}
	if m.ACPowerW < -5 || m.ACPowerW > cfg.Plant.ACRatingW {
		t.Fatalf("at %s: AC %g outside -5..%g", tm, m.ACPowerW, cfg.Plant.ACRatingW)
	}
	if m.DCPowerW > 0 {
		if vi := m.DCVoltageV * m.DCCurrentA; math.Abs(vi-m.DCPowerW) > 0.01*m.DCPowerW {
			t.Fatalf("at %s: DCW %g vs DCV×DCA %g differ by more than 1 %%", tm, m.DCPowerW, vi)
		}
	}
	nomV := cfg.NominalACVoltageV
	if m.ACVoltageV < nomV-10 || m.ACVoltageV > nomV+10 || math.Abs(m.FrequencyHz-cfg.NominalFrequencyHz) > 0.1 {
		t.Fatalf("at %s: grid %g V %g Hz", tm, m.ACVoltageV, m.FrequencyHz)
	}
	if (m.State == reading.StateMPPT || m.State == reading.StateThrottled) && (m.PowerFactor < 0.99 || m.PowerFactor > 1) {
		t.Fatalf("at %s: producing with PF %g", tm, m.PowerFactor)
	}
}

func TestReadingsPassCheck(t *testing.T) {
	for _, c := range []struct {
		name   string
		mutate func(*Config)
	}{
		{"hefei default", func(*Config) {}},
		{"hefei clear clipping", func(c *Config) { c.Cloudiness, c.Plant.ACRatingW = 0, 3500 }},
		{"harbin winter cold", func(c *Config) {
			c.Plant.LatDeg, c.Plant.LonDeg, c.Plant.TiltDeg = 45.75, 126.65, 45
			c.AmbientMeanC, c.AmbientSeasonalC, c.VmpSTCV = 4, 22, 900
		}},
		{"hot desert derating", func(c *Config) { c.Cloudiness, c.AmbientMeanC, c.AmbientSeasonalC, c.AmbientDailyC = 0, 33, 10, 8 }},
		{"sydney 60 Hz", func(c *Config) {
			c.Plant.LatDeg, c.Plant.LonDeg, c.Plant.AzimuthDeg = -33.87, 151.21, 0
			c.NominalFrequencyHz, c.NominalACVoltageV = 60, 240
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig()
			c.mutate(&cfg)
			s := mustNew(t, cfg)
			for _, month := range []time.Month{1, 4, 7, 10} {
				day := time.Date(2024, month, 15, 0, 0, 0, 0, time.UTC)
				for tm := day; tm.Before(day.Add(48 * time.Hour)); tm = tm.Add(3 * time.Minute) {
					checkReading(t, cfg, tm, s.Read(tm))
				}
			}
		})
	}
}

func TestFaults(t *testing.T) {
	day := time.Date(2024, 6, 21, 0, 0, 0, 0, cst)
	at := func(h, m int) time.Time { return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	tests := []struct {
		desc   string
		plant  func(*pvmodel.Plant)
		faults func() []Fault
		days   int
		// check compares the faulted reading f with the fault-free baseline b
		// at tm; seen accumulates state for final.
		check func(t *testing.T, tm time.Time, f, b reading.Measurement)
		final func(t *testing.T, faulted, baseline *Inverter)
	}{
		{
			desc:   "trip",
			faults: func() []Fault { return []Fault{Trip{Window: Window{From: at(10, 0), To: at(11, 0)}}} },
			check: func(t *testing.T, tm time.Time, f, b reading.Measurement) {
				in := !tm.Before(at(10, 0)) && tm.Before(at(11, 0))
				switch {
				case in && (f.State != reading.StateFault || f.ACPowerW != 0 || f.DCCurrentA != 0 || f.Events&reading.EvtGridDisconnect == 0 || f.DCVoltageV <= b.DCVoltageV):
					t.Errorf("%s in trip: %+v", tm.Format("15:04"), f)
				case tm.Equal(at(11, 0)) && f.EnergyWh > b.EnergyWh-2000:
					t.Errorf("after an hour's trip at noon the counter is %d Wh, baseline %d Wh: want at least 2 kWh less", f.EnergyWh, b.EnergyWh)
				case !in && (f.ACPowerW != b.ACPowerW || f.State != b.State):
					t.Errorf("%s outside trip: %+v, baseline %+v", tm.Format("15:04"), f, b)
				}
			},
		},
		{
			desc: "one of two strings lost, fuse event",
			faults: func() []Fault {
				return []Fault{StringLoss{Window: Window{From: at(9, 0)}, Strings: 2, Lost: 1, FuseEvent: true}}
			},
			check: func(t *testing.T, tm time.Time, f, b reading.Measurement) {
				if tm.Before(at(9, 0)) || tm.After(at(16, 0)) {
					return
				}
				if r := f.DCCurrentA / b.DCCurrentA; math.Abs(r-0.5) > 0.06 {
					t.Errorf("%s: DC current %g vs baseline %g: ratio %g, want 0.5", tm.Format("15:04"), f.DCCurrentA, b.DCCurrentA, r)
				}
				if f.Events&reading.EvtBlownStringFuse == 0 {
					t.Errorf("%s: no blown-fuse event", tm.Format("15:04"))
				}
			},
		},
		{
			desc:  "string loss hidden by clipping",
			plant: func(p *pvmodel.Plant) { p.ACRatingW = 2500 },
			faults: func() []Fault {
				return []Fault{StringLoss{Window: Window{From: at(0, 0)}, Strings: 4, Lost: 1}}
			},
			check: func(t *testing.T, tm time.Time, f, b reading.Measurement) {
				if tm.Equal(at(12, 13)) && (b.State != reading.StateThrottled || f.State != reading.StateThrottled) {
					t.Fatalf("solar noon: baseline state %d, faulted %d; want both throttled", b.State, f.State)
				}
				if tm.Before(at(11, 0)) || tm.After(at(13, 0)) || b.State != reading.StateThrottled || f.State != reading.StateThrottled {
					return
				}
				if f.ACPowerW != b.ACPowerW || f.Events != 0 {
					t.Errorf("%s: clipped AC %g vs baseline %g, events %#x; want equal and silent", tm.Format("15:04"), f.ACPowerW, b.ACPowerW, f.Events)
				}
			},
			final: func(t *testing.T, f, b *Inverter) {
				if f.EnergyWh() >= b.EnergyWh() {
					t.Errorf("string loss made no difference over the day: %d vs %d Wh", f.EnergyWh(), b.EnergyWh())
				}
			},
		},
		{
			desc: "soiling ramp and cleaning",
			faults: func() []Fault {
				return []Fault{Soiling{Window: Window{From: day, To: day.Add(20 * 24 * time.Hour)}, LossPerDay: 0.01, MaxLoss: 0.15}}
			},
			days: 22,
			check: func(t *testing.T, tm time.Time, f, b reading.Measurement) {
				local := tm.In(cst)
				if local.Hour() != 12 || local.Minute() != 0 || b.State != reading.StateMPPT {
					return
				}
				days := tm.Sub(day).Hours() / 24
				want := 1 - math.Min(0.01*days, 0.15)
				if days >= 20 {
					want = 1
				}
				if r := f.DCPowerW / b.DCPowerW; math.Abs(r-want) > 0.005 {
					t.Errorf("day %.0f: DC ratio %g, want %g", days, r, want)
				}
			},
		},
		{
			desc:   "stuck meter",
			faults: func() []Fault { return []Fault{&StuckMeter{Window: Window{From: at(10, 0), To: at(12, 0)}}} },
			check: func() func(t *testing.T, tm time.Time, f, b reading.Measurement) {
				var frozen *reading.Measurement
				return func(t *testing.T, tm time.Time, f, b reading.Measurement) {
					in := !tm.Before(at(10, 0)) && tm.Before(at(12, 0))
					switch {
					case in && frozen == nil:
						frozen = &f
					case in && f != *frozen:
						t.Errorf("%s: stuck meter changed: %+v", tm.Format("15:04"), f)
					case !in && f != b:
						// The true counter went on: after the window the
						// report equals the baseline again, counter included.
						t.Errorf("%s: after the window %+v, baseline %+v", tm.Format("15:04"), f, b)
					}
				}
			}(),
		},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Cloudiness = 0.05
			if tc.plant != nil {
				tc.plant(&cfg.Plant)
			}
			baseline := mustNew(t, cfg)
			cfg.Faults = tc.faults()
			faulted := mustNew(t, cfg)
			days := max(tc.days, 1)
			for tm := day; tm.Before(day.Add(time.Duration(days) * 24 * time.Hour)); tm = tm.Add(time.Minute) {
				tc.check(t, tm, faulted.Read(tm), baseline.Read(tm))
			}
			if tc.final != nil {
				tc.final(t, faulted, baseline)
			}
		})
	}
}

func TestThermalDerating(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Cloudiness, cfg.AmbientMeanC, cfg.AmbientSeasonalC, cfg.AmbientDailyC = 0, 36, 8, 8
	cfg.Plant.ACRatingW = 3000
	s := mustNew(t, cfg)
	day := time.Date(2024, 7, 25, 0, 0, 0, 0, cst)
	derated := 0
	for tm := day; tm.Before(day.Add(24 * time.Hour)); tm = tm.Add(time.Minute) {
		m := s.Read(tm)
		if m.State == reading.StateThrottled && m.ACPowerW < cfg.Plant.ACRatingW-1 {
			derated++
		}
	}
	if derated == 0 {
		t.Error("no derated reading on a 50 °C afternoon")
	}
}

func TestWindow(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		desc string
		w    Window
		t    time.Time
		want bool
	}{
		{"at start", Window{From: t0, To: t0.Add(time.Hour)}, t0, true},
		{"before", Window{From: t0, To: t0.Add(time.Hour)}, t0.Add(-time.Nanosecond), false},
		{"at end", Window{From: t0, To: t0.Add(time.Hour)}, t0.Add(time.Hour), false},
		{"open ended", Window{From: t0}, t0.Add(1000 * time.Hour), true},
	}
	for _, tc := range tests {
		if got := tc.w.Contains(tc.t); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.desc, got, tc.want)
		}
	}
}

func FuzzRead(f *testing.F) {
	f.Add(int64(1), 0.3, int64(1718900000), []byte{1, 2, 3, 200, 255, 0, 7})
	f.Add(int64(-5), 1.0, int64(946771200), []byte{255, 255, 255})
	f.Add(int64(42), 0.0, int64(2000000000), []byte{0, 0, 9})
	f.Fuzz(func(t *testing.T, seed int64, cloudiness float64, start int64, steps []byte) {
		if !(cloudiness >= 0 && cloudiness <= 1) || start < 946771200 || start > 4102444800 || len(steps) > 200 {
			t.Skip()
		}
		cfg := DefaultConfig()
		cfg.Seed, cfg.Cloudiness = seed, cloudiness
		s := mustNew(t, cfg)
		tm := time.Unix(start, 0)
		var prev uint64
		for i, b := range steps {
			// Steps of −2 min to ~4 h, mostly forward; start is late enough
			// that going back never passes reading.Check's 2000-01-01.
			tm = tm.Add(time.Duration(int(b)*int(b)/4-120) * time.Second)
			m := s.Read(tm)
			checkReading(t, cfg, tm, m)
			if i > 0 && m.EnergyWh < prev {
				t.Fatalf("counter went from %d to %d", prev, m.EnergyWh)
			}
			prev = m.EnergyWh
		}
	})
}

// Run: go test -run '^$' -bench . -benchmem -count 6 ./ingest/sim/ | benchstat -
func BenchmarkRead(b *testing.B) {
	for _, bc := range []struct {
		name string
		step time.Duration
	}{
		{"every10s", 10 * time.Second},
		{"every15min", 15 * time.Minute}, // 15 integration steps per Read
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := mustNew(b, DefaultConfig())
			tm := time.Date(2024, 6, 21, 0, 0, 0, 0, cst)
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				tm = tm.Add(bc.step)
				s.Read(tm)
				n++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "reads/s")
			// Simulated time per wall-clock second.
			b.ReportMetric(float64(n)*bc.step.Hours()/24/b.Elapsed().Seconds(), "sim-days/s")
		})
	}
}

func TestResumeKeepsCounter(t *testing.T) {
	inv, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 6, 21, 2, 0, 0, 0, time.UTC) // 10:00 in Hefei
	inv.Resume(1_000_000, t0)
	m := inv.Read(t0.Add(10 * time.Minute))
	if m.EnergyWh <= 1_000_000 || m.EnergyWh > 1_001_000 {
		t.Fatalf("counter %d after resuming at 1,000,000 Wh and 10 daylight minutes", m.EnergyWh)
	}
	inv.Resume(5, t0.Add(20*time.Minute)) // lower: ignored
	if got := inv.Read(t0.Add(21 * time.Minute)).EnergyWh; got < m.EnergyWh {
		t.Fatalf("counter went back from %d to %d", m.EnergyWh, got)
	}
}
