package anomaly

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/ingest"
	"github.com/sunproof/sunproof/ingest/reading"
)

func rejKey(id string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("rejects-test/" + id))
	return ed25519.NewKeyFromSeed(seed[:])
}

func rejDevice(id string) devices.Device {
	return devices.Device{ID: id, SiteID: "site-" + id, PublicKey: rejKey(id).Public().(ed25519.PublicKey),
		KWp: 5, ACRatingW: 4600, Lat: 31.8, Lon: 117.2, TiltDeg: 25, AzimuthDeg: 180, GridRegion: "CN-East",
		Installer: "test", Status: devices.StatusActive, CreatedAt: time.Unix(0, 0)}
}

var rejT0 = time.Date(2024, 4, 1, 4, 0, 0, 0, time.UTC)

// rejReading returns a signed reading of dev at rejT0 + seq × 5 min.
func rejReading(t testing.TB, dev string, seq, wh uint64, key ed25519.PrivateKey) reading.Reading {
	t.Helper()
	r := reading.Reading{DeviceID: dev, SiteID: "site-" + dev, Seq: seq, TimeMS: rejT0.Add(time.Duration(seq) * 5 * time.Minute).UnixMilli(),
		Measurement: reading.Measurement{EnergyWh: wh, ACPowerW: 1000 + float64(seq), State: reading.StateMPPT}}
	if err := r.Sign(key); err != nil {
		t.Fatal(err)
	}
	return r
}

// rejRecord returns the JSON of a collector reject record carrying r.
func rejRecord(t testing.TB, r reading.Reading, reason reading.Reason, stage string, payload, view bool) []byte {
	t.Helper()
	rec := ingest.RejectRecord{Reason: string(reason), Detail: "test", Stage: stage, ReceivedAt: time.Now().UTC()}
	if payload {
		w, err := r.Wire()
		if err != nil {
			t.Fatal(err)
		}
		rec.Payload = w
	}
	if view {
		v := r.View()
		rec.Reading = &v
	}
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rejMetric returns the value of the gauge or counter name in reg (summed
// over labels).
func rejMetric(t testing.TB, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	v := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			v += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return v
}

type rejFakeClock struct{ t time.Time }

func (c *rejFakeClock) Now() time.Time { return c.t }

func newRejSource(t testing.TB, cfg RejectConfig, clock *rejFakeClock, reg prometheus.Registerer) *RejectSource {
	t.Helper()
	s, err := NewRejectSource(cfg, devices.NewStatic(rejDevice("d1"), rejDevice("d2")), RejectOptions{Now: clock.Now, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRejectSourceAdd(t *testing.T) {
	k1 := rejKey("d1")
	good := rejReading(t, "d1", 7, 100, k1)
	wrongSite := good
	wrongSite.SiteID = "elsewhere"
	_ = wrongSite.Sign(k1)
	forged := rejReading(t, "d1", 8, 100, rejKey("d2")) // d2's key on d1's reading
	tampered := rejReading(t, "d1", 9, 100, k1)
	tampered.EnergyWh = 5 // after signing
	stranger := rejReading(t, "nobody", 1, 1, rejKey("nobody"))
	for _, tc := range []struct {
		desc  string
		value []byte
		want  string
	}{
		{"counter regression with payload", rejRecord(t, good, reading.ReasonCounterRegression, "collector", true, true), rejectKept},
		{"implausible with payload only", rejRecord(t, good, reading.ReasonImplausible, "collector", true, false), rejectKept},
		{"view only", rejRecord(t, good, reading.ReasonCounterRegression, "collector", false, true), rejectKept},
		{"not json", []byte("{"), rejectUndecodable},
		{"no payload, no view", rejRecord(t, good, reading.ReasonCounterRegression, "collector", false, false), rejectUndecodable},
		{"garbage payload", func() []byte {
			b, _ := json.Marshal(ingest.RejectRecord{Reason: "counter_regression", Stage: "collector", Payload: []byte("SPRDxx")})
			return b
		}(), rejectUndecodable},
		{"tsdb writer stage", rejRecord(t, good, reading.ReasonCounterRegression, "tsdb-writer", true, true), rejectOtherStage},
		{"bad signature reason", rejRecord(t, good, reading.ReasonBadSignature, "collector", true, true), rejectOtherReason},
		{"duplicate reason", rejRecord(t, good, reading.ReasonDuplicate, "collector", true, true), rejectOtherReason},
		{"unknown device", rejRecord(t, stranger, reading.ReasonCounterRegression, "collector", true, true), rejectUnknown},
		{"site mismatch", rejRecord(t, wrongSite, reading.ReasonCounterRegression, "collector", true, true), rejectSite},
		{"another device's key", rejRecord(t, forged, reading.ReasonCounterRegression, "collector", true, true), rejectBadSig},
		{"values changed after signing", rejRecord(t, tampered, reading.ReasonCounterRegression, "collector", true, true), rejectBadSig},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			clock := &rejFakeClock{time.Now()}
			s := newRejSource(t, DefaultRejectConfig(), clock, nil)
			if got, want := s.add(tc.value, clock.t), tc.want; got != want {
				t.Errorf("add: got %s, want %s", got, want)
			}
			wantLen := 0
			if tc.want == rejectKept {
				wantLen = 1
			}
			if got := s.Len(); got != wantLen {
				t.Errorf("Len: got %d, want %d", got, wantLen)
			}
		})
	}
}

func TestRejectSourceBounds(t *testing.T) {
	k1, k2 := rejKey("d1"), rejKey("d2")
	rec := func(dev string, key ed25519.PrivateKey, seq uint64) []byte {
		return rejRecord(t, rejReading(t, dev, seq, seq, key), reading.ReasonCounterRegression, "collector", true, false)
	}
	seqs := func(s *RejectSource, dev string) []uint64 {
		s.mu.Lock()
		defer s.mu.Unlock()
		var out []uint64
		for _, k := range s.byDev[dev] {
			out = append(out, k.s.Seq)
		}
		return out
	}
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

	t.Run("duplicate seq", func(t *testing.T) {
		clock := &rejFakeClock{now}
		s := newRejSource(t, DefaultRejectConfig(), clock, nil)
		if got := s.add(rec("d1", k1, 3), now); got != rejectKept {
			t.Fatalf("first: %s", got)
		}
		if got, want := s.add(rec("d1", k1, 3), now), rejectDuplicate; got != want {
			t.Errorf("second: got %s, want %s", got, want)
		}
	})
	t.Run("per device cap drops lowest seqs", func(t *testing.T) {
		cfg := DefaultRejectConfig()
		cfg.MaxPerDevice = 3
		clock := &rejFakeClock{now}
		s := newRejSource(t, cfg, clock, nil)
		for _, q := range []uint64{5, 1, 4, 2, 3} {
			s.add(rec("d1", k1, q), now)
		}
		s.add(rec("d2", k2, 9), now)
		if got, want := seqs(s, "d1"), []uint64{3, 4, 5}; !slices.Equal(got, want) {
			t.Errorf("d1: got %v, want %v", got, want)
		}
		if got, want := s.Len(), 4; got != want {
			t.Errorf("Len: got %d, want %d", got, want)
		}
	})
	t.Run("global cap drops earliest received", func(t *testing.T) {
		cfg := DefaultRejectConfig()
		cfg.MaxReadings = 3
		clock := &rejFakeClock{now}
		s := newRejSource(t, cfg, clock, nil)
		s.add(rec("d1", k1, 1), now)
		s.add(rec("d2", k2, 1), now.Add(time.Second))
		s.add(rec("d1", k1, 2), now.Add(2*time.Second))
		s.add(rec("d2", k2, 2), now.Add(3*time.Second))
		if got, want := seqs(s, "d1"), []uint64{2}; !slices.Equal(got, want) {
			t.Errorf("d1: got %v, want %v", got, want)
		}
		if got, want := seqs(s, "d2"), []uint64{1, 2}; !slices.Equal(got, want) {
			t.Errorf("d2: got %v, want %v", got, want)
		}
	})
	t.Run("expiry by record time", func(t *testing.T) {
		cfg := DefaultRejectConfig()
		cfg.Replay = time.Hour
		clock := &rejFakeClock{now}
		reg := prometheus.NewRegistry()
		s := newRejSource(t, cfg, clock, reg)
		if got, want := s.add(rec("d1", k1, 1), now.Add(-2*time.Hour)), rejectExpired; got != want {
			t.Errorf("old record: got %s, want %s", got, want)
		}
		s.add(rec("d1", k1, 2), now.Add(-30*time.Minute))
		s.add(rec("d1", k1, 3), now)
		clock.t = now.Add(45 * time.Minute)
		if got, want := s.Len(), 1; got != want {
			t.Errorf("Len after 45 min: got %d, want %d", got, want)
		}
		if got, want := rejMetric(t, reg, "sunproof_analyze_reject_evictions_total"), 1.0; got != want {
			t.Errorf("evictions: got %v, want %v", got, want)
		}
		if got, want := rejMetric(t, reg, "sunproof_analyze_reject_readings"), 1.0; got != want {
			t.Errorf("kept gauge: got %v, want %v", got, want)
		}
	})
	t.Run("stale references are compacted", func(t *testing.T) {
		cfg := DefaultRejectConfig()
		cfg.MaxPerDevice = 2
		clock := &rejFakeClock{now}
		s := newRejSource(t, cfg, clock, nil)
		for q := range uint64(3000) {
			s.add(rec("d1", k1, q+1), now)
		}
		s.mu.Lock()
		n := len(s.fifo)
		s.mu.Unlock()
		if n > 2*2+1024 {
			t.Errorf("receipt queue holds %d refs for 2 readings", n)
		}
		if got, want := seqs(s, "d1"), []uint64{2999, 3000}; !slices.Equal(got, want) {
			t.Errorf("d1: got %v, want %v", got, want)
		}
	})
}

func TestRejectSourceMerge(t *testing.T) {
	k1 := rejKey("d1")
	clock := &rejFakeClock{time.Now()}
	cfg := DefaultRejectConfig()
	cfg.Lookback = time.Hour
	s := newRejSource(t, cfg, clock, nil)
	// Rejected: seqs 10..14 (rejT0 + 50..70 min) and 40 (+200 min); seq 12
	// is also in the loaded series (a resend that got stored).
	for _, q := range []uint64{10, 11, 12, 13, 14, 40} {
		if got := s.add(rejRecord(t, rejReading(t, "d1", q, 1, k1), reading.ReasonCounterRegression, "collector", true, false), clock.t); got != rejectKept {
			t.Fatalf("seq %d: %s", q, got)
		}
	}
	at := func(seq uint64) time.Time { return rejT0.Add(time.Duration(seq) * 5 * time.Minute).UTC() }
	loaded := []Series{
		{Device: rejDevice("d1"), Samples: []Sample{{T: at(9), Seq: 9}, {T: at(12), Seq: 12, EnergyWh: 77}, {T: at(15), Seq: 15}}},
		{Device: rejDevice("d2"), Samples: []Sample{{T: at(1), Seq: 1}}},
		{Device: rejDevice("d3")},
	}
	orig := slices.Clone(loaded[0].Samples)
	sq := func(ss []Sample) (out []uint64) {
		for _, x := range ss {
			out = append(out, x.Seq)
		}
		return out
	}
	for _, tc := range []struct {
		desc     string
		from, to time.Time
		want     []uint64
		added    int
	}{
		// The scan [at(13), at(40)) reads from at(13) − 1 h = at(1).
		{"lookback and range", at(13), at(40), []uint64{9, 10, 11, 12, 13, 14, 15}, 4},
		{"to is exclusive", at(25), at(40), []uint64{9, 12, 13, 14, 15}, 2},
		{"just before to", at(25), at(40).Add(time.Millisecond), []uint64{9, 12, 13, 14, 15, 40}, 3},
		{"from − lookback is inclusive", at(22), at(30), []uint64{9, 10, 11, 12, 13, 14, 15}, 4},
		{"nothing in range", at(100), at(200), []uint64{9, 12, 15}, 0},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			got, n := s.Merge(loaded, tc.from, tc.to)
			if n != tc.added {
				t.Errorf("added: got %d, want %d", n, tc.added)
			}
			if g, w := sq(got[0].Samples), tc.want; !slices.Equal(g, w) {
				t.Errorf("d1 seqs: got %v, want %v", g, w)
			}
			for i := 1; i < len(got[0].Samples); i++ {
				if got[0].Samples[i].T.Before(got[0].Samples[i-1].T) {
					t.Errorf("not time-ordered at %d", i)
				}
			}
			for _, x := range got[0].Samples {
				if x.Seq == 12 && x.EnergyWh != 77 {
					t.Errorf("seq 12: the loaded sample must win, got energy %d", x.EnergyWh)
				}
			}
			if len(got[1].Samples) != 1 || len(got[2].Samples) != 0 {
				t.Errorf("other devices changed: %+v", got[1:])
			}
			if !slices.Equal(loaded[0].Samples, orig) {
				t.Error("input series modified")
			}
		})
	}
}

func TestRejectSourceMergeUnsortedInput(t *testing.T) {
	got := mergeByTime([]Sample{{T: rejT0.Add(2 * time.Minute), Seq: 3}, {T: rejT0, Seq: 1}},
		[]Sample{{T: rejT0.Add(time.Minute), Seq: 2}, {T: rejT0.Add(2 * time.Minute), Seq: 2}})
	var seqs []uint64
	for _, s := range got {
		seqs = append(seqs, s.Seq)
	}
	if want := []uint64{1, 2, 2, 3}; !slices.Equal(seqs, want) {
		t.Errorf("got %v, want %v", seqs, want)
	}
}

type rejLoader struct {
	series []Series
	err    error
}

func (l rejLoader) Load(context.Context, []devices.Device, time.Time, time.Time) ([]Series, LoadStats, error) {
	return l.series, LoadStats{Rows: 1}, l.err
}

func TestWithRejects(t *testing.T) {
	k1 := rejKey("d1")
	clock := &rejFakeClock{time.Now()}
	reg := prometheus.NewRegistry()
	s := newRejSource(t, DefaultRejectConfig(), clock, reg)
	s.add(rejRecord(t, rejReading(t, "d1", 5, 1, k1), reading.ReasonCounterRegression, "collector", true, false), clock.t)
	at := func(seq uint64) time.Time { return rejT0.Add(time.Duration(seq) * 5 * time.Minute) }
	base := rejLoader{series: []Series{{Device: rejDevice("d1"), Samples: []Sample{{T: at(4), Seq: 4}, {T: at(6), Seq: 6}}}}}
	got, st, err := WithRejects(base, s).Load(context.Background(), nil, at(0), at(10))
	if err != nil {
		t.Fatal(err)
	}
	if st.Rows != 1 || len(got[0].Samples) != 3 || got[0].Samples[1].Seq != 5 {
		t.Errorf("got %+v, %+v", got, st)
	}
	if got, want := rejMetric(t, reg, "sunproof_analyze_reject_merged_total"), 1.0; got != want {
		t.Errorf("merged: got %v, want %v", got, want)
	}
	boom := errors.New("boom")
	if _, _, err := WithRejects(rejLoader{err: boom}, s).Load(context.Background(), nil, at(0), at(10)); !errors.Is(err, boom) {
		t.Errorf("error: got %v, want %v", err, boom)
	}
}

func TestRejectConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		desc string
		edit func(*RejectConfig)
		ok   bool
	}{
		{"default", func(*RejectConfig) {}, true},
		{"future timestamps too", func(c *RejectConfig) { c.Reasons = append(c.Reasons, reading.ReasonFutureTimestamp) }, true},
		{"no brokers", func(c *RejectConfig) { c.Brokers = nil }, false},
		{"no topic", func(c *RejectConfig) { c.Topic = "" }, false},
		{"no reasons", func(c *RejectConfig) { c.Reasons = nil }, false},
		{"bad signature is not a value problem", func(c *RejectConfig) { c.Reasons = []reading.Reason{reading.ReasonBadSignature} }, false},
		{"zero replay", func(c *RejectConfig) { c.Replay = 0 }, false},
		{"negative lookback", func(c *RejectConfig) { c.Lookback = -time.Second }, false},
		{"zero per device", func(c *RejectConfig) { c.MaxPerDevice = 0 }, false},
		{"zero in all", func(c *RejectConfig) { c.MaxReadings = 0 }, false},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			c := DefaultRejectConfig()
			tc.edit(&c)
			err := c.Validate()
			if got, want := err == nil, tc.ok; got != want {
				t.Errorf("Validate: got %v, want ok=%v", err, want)
			}
			if err != nil && !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("error %v does not wrap ErrInvalidConfig", err)
			}
		})
	}
}
