package anomaly_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/sunproof/sunproof/anomaly"
	"github.com/sunproof/sunproof/ingest/reading"
)

// day is one solar day of a device's history in TestJudgeTrends: a PI
// ratio and an edge offset, NaN when the day has none.
type day struct {
	pi      float64
	peerPI  bool
	off     float64
	peerOff bool
	shift   bool // the day's clock finding fired
}

var nan = math.NaN()

func pis(peer bool, vs ...float64) []day {
	out := make([]day, len(vs))
	for i, v := range vs {
		out[i] = day{pi: v, peerPI: peer, off: nan}
	}
	return out
}

func offs(peer bool, shiftOn int, vs ...float64) []day {
	out := make([]day, len(vs))
	for i, v := range vs {
		out[i] = day{pi: nan, off: v, peerOff: peer, shift: i == shiftOn}
	}
	return out
}

// history returns the summaries of device "d" for ds, one solar day each
// from 2024-04-01, and the end of the last day.
func history(ds []day) ([]anomaly.DaySummary, time.Time) {
	d0 := time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)
	var out []anomaly.DaySummary
	for i, x := range ds {
		date := d0.AddDate(0, 0, i)
		out = append(out, anomaly.DaySummary{
			DeviceID: "d", SiteID: "s", Date: date, Span: anomaly.Span{From: date.Add(-2 * time.Hour), To: date.Add(10 * time.Hour)},
			PIRatio: x.pi, PeerPI: x.peerPI, SkyIndex: 0.8, OffsetMin: x.off, PeerOffset: x.peerOff, ClockShift: x.shift,
		})
	}
	return out, d0.AddDate(0, 0, len(ds))
}

// TestJudgeTrends feeds a device's day summaries to JudgeTrends and checks
// which multi-day finding it raises, if any.
func TestJudgeTrends(t *testing.T) {
	under, clock := anomaly.TypeUnderPerformance, anomaly.TypeClockOffset
	tests := []struct {
		desc         string
		days         []day
		want         anomaly.Type // "": no finding
		basis        string
		inconclusive bool    // under_performance pending
		check        string  // evidence key to check, with want value
		value, tol   float64 // of check
	}{
		{"8 % below the peers for 3 days", pis(true, 0.92, 0.92, 0.91), under, "peers_trend", false, "pi_ratio", 0.92, 0.001},
		{"soiling: falling 1 %/day", pis(true, 0.94, 0.93, 0.92, 0.91, 0.90), under, "peers_trend", false, "slope_per_day", -0.01, 0.001},
		{"5 % below the peers: within the tolerance", pis(true, 0.95, 0.95, 0.95, 0.95), "", "", false, "", 0, 0},
		{"a deficit on two days only: pending", pis(true, 0.9, 0.9), "", "", true, "", 0, 0},
		{"one bad day among good ones", pis(true, 1, 1, 0.5, 1, 1), "", "", false, "", 0, 0},
		{"cleaned: the most recent 7 days decide", pis(true, 0.85, 0.85, 0.85, 0.85, 0.85, 0.85, 1, 1, 1, 1), "", "", false, "", 0, 0},
		{"cloudy days in between do not count", append(append(pis(true, 0.9, 0.9), pis(true, nan, nan, nan)...), pis(true, 0.9)...),
			under, "peers_trend", false, "days", 3, 0},
		{"alone, 20 % below the model", pis(false, 0.8, 0.79, 0.8), under, "clear_sky_model_trend", false, "pi_ratio", 0.8, 0.001},
		{"alone, 10 % below the model: not sure enough", pis(false, 0.9, 0.9, 0.9), "", "", false, "", 0, 0},
		{"peers lost: only days of the latest kind count", append(pis(true, 0.9, 0.9), pis(false, 0.9)...), "", "", false, "", 0, 0},
		{"clock +45 min against peers, confirmed", offs(true, 0, 45, 46, 45), clock, "peers_trend", false, "offset_min", 45, 0.001},
		{"clock drifting 10 min/day", offs(true, 1, 10, 20, 30, 40), clock, "peers_trend", false, "drift_min_per_day", 10, 0.001},
		{"edges 20 min off, never confirmed by the profile", offs(true, -1, 20, 20, 20), "", "", false, "", 0, 0},
		{"clock offsets change sign", offs(true, 0, 20, -20, 20), "", "", false, "", 0, 0},
		{"one day below the threshold", offs(true, 0, 45, 10, 45), "", "", false, "", 0, 0},
		{"alone, +60 min for 3 days", offs(false, -1, 60, 61, 59), clock, "clear_sky_model_trend", false, "offset_min", 59, 0.001},
		{"alone, +30 min: below MinOffsetAlone", offs(false, -1, 30, 30, 30), "", "", false, "", 0, 0},
		{"too few days", offs(true, 0, 45, 45), "", "", false, "", 0, 0},
	}
	sc, err := anomaly.NewScanner(anomaly.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			sums, end := history(tc.days)
			res := anomaly.Result{From: end.Add(-24 * time.Hour), To: end, Scanned: []string{"d"}, Days: sums}
			sc.JudgeTrends(&res, anomaly.NewHistory(14))
			var got []anomaly.Finding
			for _, f := range res.Findings {
				if strings.HasSuffix(f.Basis, "_trend") {
					got = append(got, f)
				}
			}
			if tc.want == "" {
				if len(got) > 0 {
					t.Errorf("got %s, want no finding", describe(got))
				}
			} else {
				if len(got) != 1 || got[0].Type != tc.want || got[0].Basis != tc.basis {
					t.Fatalf("got %s, want one %s (%s)", describe(got), tc.want, tc.basis)
				}
				if v := got[0].Evidence[tc.check]; math.Abs(v-tc.value) > tc.tol {
					t.Errorf("%s = %g, want %g: %s", tc.check, v, tc.value, describe(got))
				}
				if got[0].DeviceID != "d" || got[0].SiteID != "s" || !got[0].Span.To.Equal(sums[len(sums)-1].Span.To) {
					t.Errorf("ids or span: %+v", got[0])
				}
			}
			pending := len(res.Inconclusive) == 1 && res.Inconclusive[0] == anomaly.Key{DeviceID: "d", Type: under}
			if pending != tc.inconclusive || len(res.Inconclusive) > 1 {
				t.Errorf("inconclusive %v, want pending %v", res.Inconclusive, tc.inconclusive)
			}
		})
	}
}

// TestHistory checks the history's bounds: days per device, one summary
// per date, forgetting silent devices, and the round trip of a summary.
func TestHistory(t *testing.T) {
	h := anomaly.NewHistory(5)
	var ds []day
	for i := range 9 {
		ds = append(ds, day{pi: 1 - 0.01*float64(i), peerPI: true, off: nan, shift: i == 8})
	}
	sums, end := history(ds)
	h.Add(sums)
	if devs, n := h.Len(); devs != 1 || n != 5 {
		t.Fatalf("Len %d devices, %d days; want 1, 5", devs, n)
	}
	got := h.Device("d", end)
	if len(got) != 5 || !got[0].Date.Equal(sums[4].Date) {
		t.Fatalf("kept %d days from %v, want 5 from %v", len(got), got[0].Date, sums[4].Date)
	}
	last, want := got[4], sums[8]
	if float32(last.PIRatio) != float32(want.PIRatio) || !math.IsNaN(last.OffsetMin) || !last.PeerPI || last.PeerOffset || !last.ClockShift ||
		!last.Span.From.Equal(want.Span.From) || !last.Span.To.Equal(want.Span.To) || last.SiteID != "s" {
		t.Errorf("round trip: got %+v, want %+v", last, want)
	}
	// A later scan of the same date replaces its summary.
	again := sums[8]
	again.PIRatio = 0.5
	h.Add([]anomaly.DaySummary{again})
	if got := h.Device("d", end); len(got) != 5 || got[4].PIRatio != 0.5 {
		t.Errorf("same date again: %+v", got)
	}
	// An older date than the window is dropped on arrival.
	h.Add(sums[:1])
	if _, n := h.Len(); n != 5 {
		t.Errorf("an old date was kept: %d days", n)
	}
	// Device looks back Days() from t only.
	if got := h.Device("d", end.AddDate(0, 0, 3)); len(got) != 2 {
		t.Errorf("3 days later %d days in the window, want 2", len(got))
	}
	// Silent for longer than the window: forgotten.
	h.Prune(end.AddDate(0, 0, 2))
	if devs, _ := h.Len(); devs != 1 {
		t.Errorf("pruned too early")
	}
	h.Prune(end.AddDate(0, 0, 6))
	if devs, _ := h.Len(); devs != 0 {
		t.Errorf("not pruned after the window")
	}
}

func TestSolarDate(t *testing.T) {
	tests := []struct {
		t    time.Time
		lon  float64
		want string
	}{
		{time.Date(2024, 4, 1, 4, 0, 0, 0, time.UTC), 120, "2024-04-01"},    // 12:00 solar
		{time.Date(2024, 3, 31, 16, 30, 0, 0, time.UTC), 120, "2024-04-01"}, // 00:30 solar
		{time.Date(2024, 3, 31, 15, 30, 0, 0, time.UTC), 120, "2024-03-31"}, // 23:30 solar
		{time.Date(2024, 4, 1, 6, 0, 0, 0, time.UTC), -120, "2024-03-31"},   // 22:00 solar
		{time.Date(2024, 4, 1, 12, 0, 0, 0, time.FixedZone("X", 3600)), 0, "2024-04-01"},
	}
	for _, tc := range tests {
		if got := anomaly.SolarDate(tc.t, tc.lon).Format(time.DateOnly); got != tc.want {
			t.Errorf("SolarDate(%v, %g) = %s, want %s", tc.t, tc.lon, got, tc.want)
		}
	}
}

func TestDayLine(t *testing.T) {
	date := time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)
	d := anomaly.DaySummary{DeviceID: "a 1", SiteID: "s,1", Date: date, Span: anomaly.Span{From: date.Add(-2 * time.Hour), To: date.Add(10 * time.Hour)},
		PIRatio: 0.91, PeerPI: true, SkyIndex: 0.75, OffsetMin: nan, ClockShift: true}
	want := `device_day,device_id=a\ 1,site_id=s\,1 from_s=1711922400i,to_s=1711965600i,pi_ratio=0.91,sky_index=0.75,peer_pi=true,peer_offset=false,clock_shift=true 1711929600000000000`
	if got := anomaly.DayLine("device_day", &d); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestEdgeOffset shifts the synthetic clear day's timestamps and checks the
// edge offset of its day summary and, without peers, the clock finding
// (from Clock.MinOffsetAlone, 40 min, confirmed by the profile).
func TestEdgeOffset(t *testing.T) {
	d := time.Date(2024, 5, 2, 0, 0, 0, 0, cst)
	tests := []struct {
		desc      string
		shift     time.Duration
		edit      func(i int, s *anomaly.Sample) bool // false drops the sample
		wantOff   float64                             // NaN: no edge offset
		wantClock bool
	}{
		{"on time", 0, nil, 0, false},
		{"20 min late", 20 * time.Minute, nil, 20, false},
		{"50 min late", 50 * time.Minute, nil, 50, true},
		{"45 min early", -45 * time.Minute, nil, -45, true},
		{"silent at sunrise: no morning edge", 0, func(i int, _ *anomaly.Sample) bool { return i < 60 || i > 84 }, nan, false},
		{"tripped over sunset: no evening edge", 0, func(i int, s *anomaly.Sample) bool {
			if i >= 200 && i < 230 {
				s.ACPowerW, s.State = 0, reading.StateFault
			}
			return true
		}, nan, false},
	}
	p, err := anomaly.PlantFor(synthDev, anomaly.DefaultConfig().Plant)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			// A clear day at 0.95 × the model, from 1 h before to 1 h after
			// the scan, read at true time and stamped shifted.
			s := anomaly.Series{Device: synthDev}
			e, prevW := 5_000_000.0, 0.0
			for i := -12; i < 300; i++ {
				tm := d.Add(time.Duration(i) * 5 * time.Minute)
				w := 0.95 * p.ExpectedPower(tm)
				e += (prevW + w) / 2 * 5.0 / 60
				prevW = w
				smp := anomaly.Sample{T: tm.Add(tc.shift), ACPowerW: w, EnergyWh: uint64(e), State: reading.StateMPPT, Seq: uint64(1000 + i)}
				if w == 0 {
					smp.ACPowerW, smp.State = -2, reading.StateSleeping
				}
				if tc.edit == nil || tc.edit(i, &smp) {
					s.Samples = append(s.Samples, smp)
				}
			}
			res := scan(t, anomaly.DefaultConfig(), []anomaly.Series{s}, d, d.Add(24*time.Hour))
			got := nan
			switch len(res.Days) {
			case 0: // no PI ratio (no peers' sky) and no offset: nothing to keep
			case 1:
				got = res.Days[0].OffsetMin
			default:
				t.Fatalf("%d day summaries, want 1", len(res.Days))
			}
			if math.IsNaN(tc.wantOff) != math.IsNaN(got) || math.Abs(got-tc.wantOff) > 5 {
				t.Errorf("offset %.1f min, want %.0f ± 5", got, tc.wantOff)
			}
			var clock []anomaly.Finding
			for _, f := range findType(res, anomaly.TypeClockOffset) {
				if f.Basis == "clear_sky_model" {
					clock = append(clock, f)
				}
			}
			if (len(clock) > 0) != tc.wantClock {
				t.Errorf("clock findings %s, want %v", describe(clock), tc.wantClock)
			}
		})
	}
}
