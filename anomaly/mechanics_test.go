package anomaly_test

import (
	"encoding/json"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/sunproof/sunproof/anomaly"
	"github.com/sunproof/sunproof/anomaly/pvmodel"
	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/ingest/reading"
)

var synthDev = devices.Device{ID: "syn-1", SiteID: "syn", KWp: 5, ACRatingW: 4600, Lat: 31.82, Lon: 117.23, TiltDeg: 25, AzimuthDeg: 180}

// synth builds a clear-sky day at 5-minute resolution for synthDev: power
// = 0.95 × the model, counter integrating it; edit may change sample i.
func synth(day time.Time, edit func(i int, s *anomaly.Sample)) anomaly.Series {
	return synthCap(day, math.Inf(1), edit)
}

// synthCap is synth with the output limited to capW (an export limit).
func synthCap(day time.Time, capW float64, edit func(i int, s *anomaly.Sample)) anomaly.Series {
	p, _ := anomaly.PlantFor(synthDev, anomaly.DefaultConfig().Plant)
	var smp []anomaly.Sample
	e := 5_000_000.0
	prevW := 0.0
	for i := range 288 {
		t := day.Add(time.Duration(i) * 5 * time.Minute)
		w := math.Min(0.95*p.ExpectedPower(t), capW)
		if i > 0 {
			e += (prevW + w) / 2 * 5.0 / 60
		}
		prevW = w
		st := reading.StateMPPT
		if w == 0 {
			st, w = reading.StateSleeping, -2
		}
		s := anomaly.Sample{T: t, ACPowerW: w, EnergyWh: uint64(e), State: st, Seq: uint64(1000 + i)}
		if edit != nil {
			edit(i, &s)
		}
		smp = append(smp, s)
	}
	return anomaly.Series{Device: synthDev, Samples: smp}
}

func findType(res anomaly.Result, typ anomaly.Type) []anomaly.Finding {
	var out []anomaly.Finding
	for _, f := range res.Findings {
		if f.Type == typ {
			out = append(out, f)
		}
	}
	return out
}

// TestDetectorMechanics checks each detector on hand-made series: exact
// edits of a synthetic clear day, one per case.
func TestDetectorMechanics(t *testing.T) {
	day := time.Date(2024, 5, 2, 0, 0, 0, 0, cst)
	noon := 12 * 12 // sample index of 12:00
	tests := []struct {
		desc   string
		series func() []anomaly.Series
		want   anomaly.Type                          // "" = no finding of severity ≥ info at all
		check  func(t *testing.T, f anomaly.Finding) // on the first finding of type want (of basis, if set)
		basis  string
	}{
		{"clean day", func() []anomaly.Series { return []anomaly.Series{synth(day, nil)} }, "", nil, ""},
		{"counter reset to 0", func() []anomaly.Series {
			return []anomaly.Series{synth(day, func(i int, s *anomaly.Sample) {
				if i >= noon {
					s.EnergyWh -= 5_000_000
				}
			})}
		}, anomaly.TypeCounterRegression, func(t *testing.T, f anomaly.Finding) {
			if f.Evidence["reset"] != 1 || f.Severity != anomaly.SeverityCritical {
				t.Errorf("want a critical reset: %+v", f)
			}
		}, ""},
		{"counter down by 10 Wh", func() []anomaly.Series {
			return []anomaly.Series{synth(day, func(i int, s *anomaly.Sample) {
				if i >= noon {
					s.EnergyWh -= 800
				}
			})}
		}, anomaly.TypeCounterRegression, func(t *testing.T, f anomaly.Finding) {
			if f.Evidence["reset"] != 0 {
				t.Errorf("a small regression is not a reset: %v", f.Evidence)
			}
		}, ""},
		{"gap of 1 h", func() []anomaly.Series {
			s := synth(day, nil)
			s.Samples = slices.Delete(s.Samples, noon, noon+12)
			return []anomaly.Series{s}
		}, anomaly.TypeCommGap, func(t *testing.T, f anomaly.Finding) {
			if got := f.Evidence["gap_s"]; got != 3900 {
				t.Errorf("gap_s %v, want 3900", got)
			}
			if got := f.Evidence["missing_seq"]; got != 12 {
				t.Errorf("missing_seq %v, want 12", got)
			}
			if f.Evidence["energy_in_gap_wh"] <= 0 {
				t.Errorf("counter advanced over the gap: %v", f.Evidence)
			}
		}, ""},
		{"silent all day", func() []anomaly.Series { return []anomaly.Series{{Device: synthDev}} }, anomaly.TypeCommGap,
			func(t *testing.T, f anomaly.Finding) {
				if f.Severity != anomaly.SeverityCritical || f.Span.Duration() != 24*time.Hour {
					t.Errorf("want a critical 24 h gap: %+v", f)
				}
			}, ""},
		{"silent since 20:00", func() []anomaly.Series {
			s := synth(day, nil)
			s.Samples = s.Samples[:240]
			return []anomaly.Series{s}
		}, anomaly.TypeCommGap, func(t *testing.T, f anomaly.Finding) {
			if !f.Span.To.Equal(day.Add(24 * time.Hour)) {
				t.Errorf("trailing gap should end at the scan end: %v", f.Span)
			}
		}, ""},
		{"frozen power and counter", func() []anomaly.Series {
			var frozen anomaly.Sample
			return []anomaly.Series{synth(day, func(i int, s *anomaly.Sample) {
				switch {
				case i == noon:
					frozen = *s
				case i > noon && i < noon+10:
					seq := s.Seq
					t := s.T
					*s = frozen
					s.Seq, s.T = seq, t
				}
			})}
		}, anomaly.TypeStuck, func(t *testing.T, f anomaly.Finding) {
			if f.Evidence["samples"] != 10 || f.Evidence["counter_advance_wh"] != 0 {
				t.Errorf("evidence %v", f.Evidence)
			}
		}, ""},
		{"flat power with advancing counter is a plateau, not stuck", func() []anomaly.Series {
			return []anomaly.Series{synthCap(day, 3000, nil)}
		}, anomaly.TypeClipping, func(t *testing.T, f anomaly.Finding) {
			if f.Severity != anomaly.SeverityInfo || f.Evidence["level_w"] != 3000 {
				t.Errorf("want an info clipping flag at 3000 W: %+v", f)
			}
		}, ""},
		{"power above the rating", func() []anomaly.Series {
			return []anomaly.Series{synth(day, func(i int, s *anomaly.Sample) {
				if i == noon {
					s.ACPowerW = 6000
				}
			})}
		}, anomaly.TypeOverCapacity, func(t *testing.T, f anomaly.Finding) {
			if f.Basis != "power" || f.Evidence["max_w"] != 6000 {
				t.Errorf("%+v", f)
			}
		}, ""},
		{"counter jump no inverter could make", func() []anomaly.Series {
			return []anomaly.Series{synth(day, func(i int, s *anomaly.Sample) {
				if i >= noon {
					s.EnergyWh += 10_000
				}
			})}
		}, anomaly.TypeOverCapacity, func(t *testing.T, f anomaly.Finding) {
			if f.Basis != "counter" || f.Severity != anomaly.SeverityCritical {
				t.Errorf("%+v", f)
			}
		}, ""},
		{"counter runs 40 % fast", func() []anomaly.Series {
			var base uint64
			return []anomaly.Series{synth(day, func(i int, s *anomaly.Sample) {
				if i == 0 {
					base = s.EnergyWh
				}
				s.EnergyWh = base + uint64(1.4*float64(s.EnergyWh-base))
			})}
		}, anomaly.TypeEnergyMismatch, func(t *testing.T, f anomaly.Finding) {
			if r := f.Evidence["counter_wh"] / f.Evidence["integrated_power_wh"]; math.Abs(r-1.4) > 0.02 {
				t.Errorf("counter/power %.3f, want 1.4", r)
			}
		}, ""},
		{"output at midnight", func() []anomaly.Series {
			return []anomaly.Series{synth(day, func(i int, s *anomaly.Sample) {
				if i == 6 {
					s.ACPowerW = 800
				}
			})}
		}, anomaly.TypeNightGeneration, func(t *testing.T, f anomaly.Finding) {
			if f.Severity != anomaly.SeverityInfo {
				t.Errorf("night generation is a data-quality flag: %+v", f)
			}
		}, ""},
		{"timestamps backwards", func() []anomaly.Series {
			return []anomaly.Series{synth(day, func(i int, s *anomaly.Sample) {
				if i >= noon {
					s.T = s.T.Add(-2 * time.Hour)
				}
			})}
		}, anomaly.TypeClockOffset, func(t *testing.T, f anomaly.Finding) {
			// The evening's last output is now 2 h early too: the edges
			// find the day shifted by −1 h as well (another finding).
			if f.Evidence["max_backward_s"] != 6900 {
				t.Errorf("%+v", f)
			}
		}, "timestamps"},
		{"zero output 3 h in FAULT", func() []anomaly.Series {
			return []anomaly.Series{synth(day, func(i int, s *anomaly.Sample) {
				if i >= noon-18 && i < noon+18 {
					s.ACPowerW, s.State = 0, reading.StateFault
				}
				if i >= noon-18 {
					s.EnergyWh -= 12_000 // roughly what the trip did not produce
					if i >= noon+18 {
						s.EnergyWh += 0
					}
				}
			})}
		}, anomaly.TypeZeroOutput, func(t *testing.T, f anomaly.Finding) {
			if f.Severity != anomaly.SeverityCritical || f.Evidence["fault_state"] != 1 {
				t.Errorf("%+v", f)
			}
		}, ""},
	}
	cfg := anomaly.DefaultConfig()
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			res := scan(t, cfg, tc.series(), day, day.Add(24*time.Hour))
			if tc.want == "" {
				if len(res.Findings) > 0 {
					t.Fatalf("want no finding, got:%s", describe(res.Findings))
				}
				return
			}
			fs := findType(res, tc.want)
			if tc.basis != "" {
				fs = slices.DeleteFunc(fs, func(f anomaly.Finding) bool { return f.Basis != tc.basis })
			}
			if len(fs) == 0 {
				t.Fatalf("no %s finding; got:%s", tc.want, describe(res.Findings))
			}
			if tc.check != nil {
				tc.check(t, fs[0])
			}
			for _, f := range res.Findings {
				if _, err := json.Marshal(f); err != nil {
					t.Errorf("finding does not marshal: %v", err)
				}
			}
		})
	}
}

func TestScanSortsAndDeduplicates(t *testing.T) {
	day := time.Date(2024, 5, 2, 0, 0, 0, 0, cst)
	s := synth(day, nil)
	want := scan(t, anomaly.DefaultConfig(), []anomaly.Series{synth(day, nil)}, day, day.Add(24*time.Hour))
	// Reverse, duplicate a few samples, add one after the range.
	slices.Reverse(s.Samples)
	s.Samples = append(s.Samples, s.Samples[10], s.Samples[100])
	s.Samples = append(s.Samples, anomaly.Sample{T: day.Add(25 * time.Hour), Seq: 5000})
	got := scan(t, anomaly.DefaultConfig(), []anomaly.Series{s}, day, day.Add(24*time.Hour))
	if len(got.Findings) != len(want.Findings) || got.Points != want.Points {
		t.Errorf("got %d findings on %d points, want %d on %d:%s", len(got.Findings), got.Points, len(want.Findings), want.Points, describe(got.Findings))
	}
}

func TestScanSkipsUnmodellableDevices(t *testing.T) {
	day := time.Date(2024, 5, 2, 0, 0, 0, 0, cst)
	bad := synth(day, nil)
	bad.Device.ID, bad.Device.KWp = "bad", 0
	res := scan(t, anomaly.DefaultConfig(), []anomaly.Series{bad, synth(day, nil)}, day, day.Add(24*time.Hour))
	if _, ok := res.Skipped["bad"]; !ok || len(res.Scanned) != 1 {
		t.Errorf("skipped %v scanned %v", res.Skipped, res.Scanned)
	}
}

// A night-only scan cannot tell whether a zero-output alert is over.
func TestNightScanIsInconclusive(t *testing.T) {
	day := time.Date(2024, 5, 2, 0, 0, 0, 0, cst)
	res := scan(t, anomaly.DefaultConfig(), []anomaly.Series{synth(day, nil)}, day, day.Add(4*time.Hour))
	for _, typ := range []anomaly.Type{anomaly.TypeZeroOutput, anomaly.TypeStuck, anomaly.TypeUnderPerformance} {
		if !slices.Contains(res.Inconclusive, anomaly.Key{DeviceID: synthDev.ID, Type: typ}) {
			t.Errorf("%s not inconclusive at night: %v", typ, res.Inconclusive)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	mod := func(f func(*anomaly.Config)) anomaly.Config { c := anomaly.DefaultConfig(); f(&c); return c }
	tests := []struct {
		desc    string
		cfg     anomaly.Config
		wantErr bool
	}{
		{"default", anomaly.DefaultConfig(), false},
		{"zero", anomaly.Config{}, true},
		{"stuck window 2", mod(func(c *anomaly.Config) { c.Stuck.Window = 2 }), true},
		{"quantile 1", mod(func(c *anomaly.Config) { c.Perf.Quantile = 1 }), true},
		{"NaN z", mod(func(c *anomaly.Config) { c.Peers.Z = math.NaN() }), true},
		{"min peers > max", mod(func(c *anomaly.Config) { c.Peers.MinPeers, c.Peers.MaxPeers = 10, 5 }), true},
		{"bad plant", mod(func(c *anomaly.Config) { c.Plant = pvmodel.Plant{} }), true},
		{"no clock agreement", mod(func(c *anomaly.Config) { c.Clock.Agreement = 0 }), true},
		{"trend of 1 day", mod(func(c *anomaly.Config) { c.Trend.Days = 1 }), true},
		{"trend min days > max days", mod(func(c *anomaly.Config) { c.Trend.MinDays, c.Trend.MaxDays = 5, 4 }), true},
		{"trend max days > days kept", mod(func(c *anomaly.Config) { c.Trend.MaxDays = 15 }), true},
		{"trend deficit 0", mod(func(c *anomaly.Config) { c.Trend.Deficit = 0 }), true},
		{"trend of 3 days", mod(func(c *anomaly.Config) { c.Trend.Days, c.Trend.MinDays, c.Trend.MaxDays = 3, 3, 3 }), false},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			err := tc.cfg.Validate()
			if (err != nil) != tc.wantErr {
				t.Fatalf("Validate() = %v, want error %v", err, tc.wantErr)
			}
		})
	}
}

// The last sample before the scan start is context: a reset between two
// days' scans is found by the second.
func TestScanUsesContextSample(t *testing.T) {
	day := time.Date(2024, 5, 2, 0, 0, 0, 0, cst)
	s := synth(day, func(i int, s *anomaly.Sample) { s.EnergyWh -= 4_000_000 })
	prev := anomaly.Sample{T: day.Add(-4 * time.Minute), ACPowerW: -2, EnergyWh: 5_000_000, State: reading.StateSleeping, Seq: 999}
	older := anomaly.Sample{T: day.Add(-9 * time.Minute), ACPowerW: -2, EnergyWh: 5_000_000, State: reading.StateSleeping, Seq: 998}
	s.Samples = append([]anomaly.Sample{older, prev}, s.Samples...)
	res := scan(t, anomaly.DefaultConfig(), []anomaly.Series{s}, day, day.Add(24*time.Hour))
	fs := findType(res, anomaly.TypeCounterRegression)
	if len(fs) != 1 || !fs[0].Span.From.Equal(prev.T) {
		t.Fatalf("want the reset across the scan start:%s", describe(res.Findings))
	}
	if len(res.Findings) != 1 {
		t.Errorf("only the reset expected:%s", describe(res.Findings))
	}
}
