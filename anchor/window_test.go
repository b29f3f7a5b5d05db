package anchor_test

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/sunproof/sunproof/anchor"
	"github.com/sunproof/sunproof/ingest/reading"
)

func testConfig() anchor.Config {
	c := anchor.DefaultConfig()
	c.Shard = "p3"
	return c
}

func newBuilder(t testing.TB, cfg anchor.Config) *anchor.Builder {
	t.Helper()
	b, err := anchor.NewBuilder(cfg, anchor.State{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWindowID(t *testing.T) {
	for _, tc := range []struct {
		desc string
		got  string
		want string
	}{
		{"on time", anchor.WindowID("p3", t0, anchor.KindOnTime, 0), "p3/1748772900000/on_time/0"},
		{"late", anchor.WindowID("site-7", t0, anchor.KindLate, 12), "site-7/1748772900000/late/12"},
		{"negative start", anchor.WindowID("p0", -900000, anchor.KindOnTime, 0), "p0/-900000/on_time/0"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		desc string
		mod  func(*anchor.Config)
		ok   bool
	}{
		{"default", func(*anchor.Config) {}, true},
		{"bad shard", func(c *anchor.Config) { c.Shard = "p/3" }, false},
		{"empty shard", func(c *anchor.Config) { c.Shard = "" }, false},
		{"span too short", func(c *anchor.Config) { c.Span = 999 * time.Millisecond }, false},
		{"span not whole ms", func(c *anchor.Config) { c.Span = time.Minute + time.Microsecond }, false},
		{"negative lateness", func(c *anchor.Config) { c.Lateness = -time.Second }, false},
		{"zero lateness", func(c *anchor.Config) { c.Lateness = 0 }, true},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			c := anchor.DefaultConfig()
			tc.mod(&c)
			if err := c.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// TestWindowBoundaries checks which window a timestamp lands in.
func TestWindowBoundaries(t *testing.T) {
	span := (15 * time.Minute).Milliseconds()
	for _, tc := range []struct {
		desc      string
		ts        int64
		wantStart int64
	}{
		{"at start", t0, t0},
		{"one ms before end", t0 + span - 1, t0},
		{"at end", t0 + span, t0 + span},
		{"one ms before start", t0 - 1, t0 - span},
		{"before the epoch", -1, -span},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			b := newBuilder(t, testConfig())
			if _, err := b.Add(signed(t, 1, 1, tc.ts), 0); err != nil {
				t.Fatal(err)
			}
			ws := b.Flush()
			if len(ws) != 1 {
				t.Fatalf("got %d windows, want 1", len(ws))
			}
			w := ws[0]
			if got, want := w.StartMS, tc.wantStart; got != want {
				t.Errorf("start %d, want %d", got, want)
			}
			if got, want := w.EndMS, tc.wantStart+span; got != want {
				t.Errorf("end %d, want %d", got, want)
			}
		})
	}
}

// TestWindowOrderAndDedup checks leaf order (device, ts, seq), dedup and the
// device ranges.
func TestWindowOrderAndDedup(t *testing.T) {
	a1 := signed(t, 1, 1, t0+1000)
	a2 := signed(t, 1, 2, t0+2000)
	a3 := signed(t, 1, 3, t0+500) // clock went back: ts order wins over seq
	b5 := signed(t, 2, 5, t0+100)
	b7 := signed(t, 2, 7, t0+200)
	w, err := anchor.NewWindow("p3", t0, t0+900000, anchor.KindOnTime, 0, [][]byte{b7, a2, a1, a3, b5, a2, b7})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]byte{a3, a1, a2, b5, b7}
	if got := w.Len(); got != len(want) {
		t.Fatalf("%d leaves, want %d", got, len(want))
	}
	for i := range want {
		if !bytes.Equal(w.Wire(i), want[i]) {
			t.Errorf("leaf %d differs", i)
		}
	}
	wantDev := []anchor.DeviceRange{
		{DeviceID: "inv-001", FirstLeaf: 0, Count: 3, FirstSeq: 1, LastSeq: 3},
		{DeviceID: "inv-002", FirstLeaf: 3, Count: 2, FirstSeq: 5, LastSeq: 7},
	}
	if got := w.Devices(); !slices.Equal(got, wantDev) {
		t.Errorf("devices %+v, want %+v", got, wantDev)
	}
	if !wantDev[0].Complete() || wantDev[1].Complete() {
		t.Error("Complete() wrong")
	}
	if i, ok := w.Find(reading.Key{DeviceID: "inv-002", Seq: 7}); !ok || i != 4 {
		t.Errorf("Find = %d, %v; want 4, true", i, ok)
	}
	if _, ok := w.Find(reading.Key{DeviceID: "inv-002", Seq: 6}); ok {
		t.Error("Find found a missing seq")
	}
}

// TestConflictingDuplicates: two different messages with one (device, seq)
// keep the smaller bytes, whatever the arrival order.
func TestConflictingDuplicates(t *testing.T) {
	x := signed(t, 1, 1, t0+1000)
	y := signed(t, 1, 1, t0+2000) // same key, other bytes (a device fault)
	small, large := x, y
	if bytes.Compare(x, y) > 0 {
		small, large = y, x
	}
	for _, order := range [][][]byte{{small, large}, {large, small}} {
		w, err := anchor.NewWindow("p3", t0, t0+900000, anchor.KindOnTime, 0, order)
		if err != nil {
			t.Fatal(err)
		}
		if w.Len() != 1 || !bytes.Equal(w.Wire(0), small) {
			t.Error("NewWindow did not keep the smallest bytes")
		}
		b := newBuilder(t, testConfig())
		b.Add(order[0], 0)
		pl, _ := b.Add(order[1], 1)
		if !pl.Duplicate || !pl.Conflict {
			t.Errorf("placement %+v, want duplicate conflict", pl)
		}
		ws := b.Flush()
		if len(ws) != 1 || ws[0].Len() != 1 || !bytes.Equal(ws[0].Wire(0), small) {
			t.Error("Builder did not keep the smallest bytes")
		}
	}
}

func TestNewWindowRejects(t *testing.T) {
	ok := signed(t, 1, 1, t0)
	for _, tc := range []struct {
		desc  string
		start int64
		end   int64
		kind  anchor.Kind
		seq   uint64
		wires [][]byte
	}{
		{"empty", t0, t0 + 1000, anchor.KindOnTime, 0, nil},
		{"outside span", t0 + 1, t0 + 1000, anchor.KindOnTime, 0, [][]byte{ok}},
		{"start after end", t0 + 1, t0, anchor.KindOnTime, 0, [][]byte{ok}},
		{"on time with seq", t0, t0 + 1000, anchor.KindOnTime, 1, [][]byte{ok}},
		{"late with seq 0", t0, t0 + 1000, anchor.KindLate, 0, [][]byte{ok}},
		{"unknown kind", t0, t0 + 1000, 2, 1, [][]byte{ok}},
		{"garbage", t0, t0 + 1000, anchor.KindOnTime, 0, [][]byte{[]byte("SPRD")}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			if _, err := anchor.NewWindow("p3", tc.start, tc.end, tc.kind, tc.seq, tc.wires); err == nil {
				t.Error("NewWindow succeeded")
			}
		})
	}
}

// TestBuilderLate walks a late reading through: it misses its window, goes
// to a late window with the same span and the next late round, and a
// redelivered copy of a sealed reading is a duplicate, not late.
func TestBuilderLate(t *testing.T) {
	cfg := testConfig()
	span := cfg.Span.Milliseconds()
	b := newBuilder(t, cfg)
	r1 := signed(t, 1, 1, t0+10)
	r2 := signed(t, 1, 2, t0+span+10) // next span
	for i, w := range [][]byte{r1, r2} {
		if _, err := b.Add(w, int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if wm, _ := b.Watermark(); wm != t0+span+10-cfg.Lateness.Milliseconds() {
		t.Fatalf("watermark %d", wm)
	}
	if ws := b.SealReady(t0 + span - 1); len(ws) != 0 {
		t.Fatalf("sealed %d windows before the span ended", len(ws))
	}
	ws := b.SealReady(t0 + span)
	if len(ws) != 1 || ws[0].ID() != anchor.WindowID("p3", t0, anchor.KindOnTime, 0) {
		t.Fatalf("sealed %v", ids(ws))
	}
	if off, ok := b.CommitOffset(); !ok || off != 1 {
		t.Errorf("CommitOffset = %d, %v; want 1, true", off, ok)
	}

	late := signed(t, 2, 1, t0+20)
	pl, err := b.Add(late, 2)
	if err != nil {
		t.Fatal(err)
	}
	wantID := anchor.WindowID("p3", t0, anchor.KindLate, 1)
	if !pl.Late || pl.WindowID != wantID {
		t.Fatalf("placement %+v, want late in %s", pl, wantID)
	}
	pl, _ = b.Add(r1, 3) // redelivered after sealing
	if !pl.Duplicate || pl.Conflict || pl.WindowID != ws[0].ID() {
		t.Fatalf("redelivery placement %+v", pl)
	}
	lw := b.SealReady(t0 + span) // watermark unchanged: only late windows
	if len(lw) != 1 || lw[0].ID() != wantID || lw[0].Len() != 1 || lw[0].StartMS != t0 || lw[0].EndMS != t0+span {
		t.Fatalf("late windows %v", ids(lw))
	}
	if got := lw[0].OriginalID(); got != ws[0].ID() {
		t.Errorf("OriginalID %s, want %s", got, ws[0].ID())
	}
	if st := b.State(); st.LateRound != 1 || st.SealedThroughMS != t0+span {
		t.Errorf("state %+v", st)
	}
	// Once the consumer committed past the sealed window, its keys are forgotten.
	b.Committed(4)
	pl, _ = b.Add(r1, 4)
	if pl.Duplicate || !pl.Late {
		t.Errorf("after Committed: placement %+v, want late", pl)
	}
	if n := b.Pending(); n != 2 {
		t.Errorf("pending %d, want 2", n)
	}
}

// TestBuilderRestore: a builder restored from State treats replayed
// readings of sealed spans as late, and Remember makes replayed sealed
// readings duplicates.
func TestBuilderRestore(t *testing.T) {
	cfg := testConfig()
	span := cfg.Span.Milliseconds()
	b := newBuilder(t, cfg)
	r1 := signed(t, 1, 1, t0+10)
	b.Add(r1, 0)
	b.Add(signed(t, 1, 2, t0+span+cfg.Lateness.Milliseconds()), 1)
	wm, _ := b.Watermark()
	ws := b.SealReady(wm)
	if len(ws) != 1 {
		t.Fatalf("sealed %d", len(ws))
	}
	b2, err := anchor.NewBuilder(cfg, b.State())
	if err != nil {
		t.Fatal(err)
	}
	if pl, _ := b2.Add(r1, 0); !pl.Late {
		t.Errorf("replayed reading of a sealed span not late: %+v", pl)
	}
	b3, _ := anchor.NewBuilder(cfg, b.State())
	b3.Remember(ws[0])
	if pl, _ := b3.Add(r1, 0); !pl.Duplicate {
		t.Errorf("replayed sealed reading not a duplicate: %+v", pl)
	}
}

func ids(ws []*anchor.Window) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.ID())
	}
	return out
}

// feed adds wires in order, sealing at the builder's watermark after every
// message, then flushes; it returns every sealed window.
func feed(t testing.TB, cfg anchor.Config, wires [][]byte) []*anchor.Window {
	b, err := anchor.NewBuilder(cfg, anchor.State{})
	if err != nil {
		t.Fatal(err)
	}
	var out []*anchor.Window
	for i, w := range wires {
		if _, err := b.Add(w, int64(i)); err != nil {
			t.Fatal(err)
		}
		wm, _ := b.Watermark()
		out = append(out, b.SealReady(wm)...)
	}
	return append(out, b.Flush()...)
}

type windowSummary struct {
	id   string
	size int
	root anchor.Hash
}

func summarise(ws []*anchor.Window) []windowSummary {
	out := make([]windowSummary, len(ws))
	for i, w := range ws {
		out[i] = windowSummary{w.ID(), w.Len(), w.Root()}
	}
	slices.SortFunc(out, func(a, b windowSummary) int {
		if a.id < b.id {
			return -1
		} else if a.id > b.id {
			return 1
		}
		return 0
	})
	return out
}

// jitter returns wires in an arrival order where each message is delayed by
// up to lateness (uniformly) after its event time, plus duplicates; every
// message is then within the allowed lateness at arrival.
func jitter(wires [][]byte, lateness time.Duration, rng *rand.Rand, dupEvery int) [][]byte {
	type arr struct {
		at int64
		w  []byte
	}
	var as []arr
	for i, w := range wires {
		r, _ := reading.Decode(w)
		as = append(as, arr{r.TimeMS + rng.Int64N(lateness.Milliseconds()+1), w})
		if dupEvery > 0 && i%dupEvery == 0 {
			as = append(as, arr{r.TimeMS + rng.Int64N(lateness.Milliseconds()+1), w})
		}
	}
	slices.SortStableFunc(as, func(a, b arr) int {
		if a.at < b.at {
			return -1
		} else if a.at > b.at {
			return 1
		}
		return 0
	})
	out := make([][]byte, len(as))
	for i, a := range as {
		out[i] = a.w
	}
	return out
}

// TestDeterminism: the same readings, in any order within the allowed
// lateness and with redelivered duplicates, give the same windows and roots.
func TestDeterminism(t *testing.T) {
	cfg := testConfig()
	cfg.Span = 5 * time.Minute
	cfg.Lateness = 90 * time.Second
	wires := fleet(t, 7, t0, 20*time.Second, 60) // 20 minutes, 4 windows
	want := summarise(feed(t, cfg, wires))
	if len(want) != 4 {
		t.Fatalf("%d windows, want 4", len(want))
	}
	for _, w := range want {
		if len(w.id) == 0 || w.size == 0 {
			t.Fatalf("bad window %+v", w)
		}
	}
	for seed := uint64(0); seed < 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 1))
		got := summarise(feed(t, cfg, jitter(wires, cfg.Lateness, rng, 5)))
		if !slices.Equal(got, want) {
			t.Fatalf("seed %d: windows %v, want %v", seed, got, want)
		}
	}
	// Any order at all, sealed only at the end, also gives the same.
	shuffled := slices.Clone(wires)
	rand.New(rand.NewPCG(9, 9)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	b := newBuilder(t, cfg)
	for i, w := range shuffled {
		b.Add(w, int64(i))
	}
	if got := summarise(b.Flush()); !slices.Equal(got, want) {
		t.Fatalf("shuffled: %v, want %v", got, want)
	}
}

// FuzzWindowDeterminism: for a fuzzed fleet shape and arrival order within
// lateness, the builder's windows equal those of NewWindow over each span.
func FuzzWindowDeterminism(f *testing.F) {
	f.Add(uint8(3), uint8(10), uint64(1), uint8(3))
	f.Add(uint8(1), uint8(1), uint64(7), uint8(0))
	f.Add(uint8(9), uint8(40), uint64(42), uint8(1))
	wiresCache := map[[2]uint8][][]byte{}
	f.Fuzz(func(t *testing.T, nDev, count uint8, seed uint64, dupEvery uint8) {
		nDev, count = nDev%10+1, count%50+1
		key := [2]uint8{nDev, count}
		wires, ok := wiresCache[key]
		if !ok {
			wires = fleet(t, int(nDev), t0, 17*time.Second, int(count))
			wiresCache[key] = wires
		}
		cfg := testConfig()
		cfg.Span = 3 * time.Minute
		cfg.Lateness = 45 * time.Second
		rng := rand.New(rand.NewPCG(seed, uint64(dupEvery)))
		got := summarise(feed(t, cfg, jitter(wires, cfg.Lateness, rng, int(dupEvery))))

		bySpan := map[int64][][]byte{}
		span := cfg.Span.Milliseconds()
		for _, w := range wires {
			r, _ := reading.Decode(w)
			s := r.TimeMS - r.TimeMS%span
			bySpan[s] = append(bySpan[s], w)
		}
		var ref []*anchor.Window
		for s, ws := range bySpan {
			w, err := anchor.NewWindow(cfg.Shard, s, s+span, anchor.KindOnTime, 0, ws)
			if err != nil {
				t.Fatal(err)
			}
			ref = append(ref, w)
		}
		if want := summarise(ref); !slices.Equal(got, want) {
			t.Fatalf("builder %v, NewWindow %v", got, want)
		}
	})
}

func TestBuilderRejects(t *testing.T) {
	b := newBuilder(t, testConfig())
	if _, err := b.Add([]byte("not a reading"), 0); err == nil {
		t.Error("garbage accepted")
	}
	if _, err := b.Add(signed(t, 1, 1, 1<<62+1), 0); err == nil {
		t.Error("timestamp near the int64 limit accepted")
	}
	if _, err := anchor.NewBuilder(anchor.Config{}, anchor.State{}); err == nil {
		t.Error("zero config accepted")
	}
}
