package anchor_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sunproof/sunproof/anchor"
	"github.com/sunproof/sunproof/ingest"
	"github.com/sunproof/sunproof/ingest/reading"
)

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})).With("test", t.Name())
	}
	return slog.New(slog.DiscardHandler)
}

// testKeys knows the keys of the core tests' devices (inv-NNN).
var testKeys = anchor.KeySourceFunc(func(_ context.Context, id string) ([]ed25519.PublicKey, error) {
	var n int
	if _, err := fmt.Sscanf(id, "inv-%03d", &n); err != nil {
		return nil, fmt.Errorf("unknown device %s", id)
	}
	return []ed25519.PublicKey{pubOf(n)}, nil
})

func openStore(t testing.TB, dir string) *anchor.Store {
	t.Helper()
	s, err := anchor.OpenStore(dir, anchor.StoreOptions{Keys: testKeys, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testBatcherConfig() anchor.BatcherConfig {
	c := anchor.DefaultBatcherConfig()
	c.Brokers = nil
	c.RetryMax = 500 * time.Millisecond
	return c
}

// harness runs a batcher on in-memory fakes with a manual clock.
type harness struct {
	t        testing.TB
	cfg      anchor.BatcherConfig
	dir      string
	topic    *memTopic
	chain    *memChain
	clock    *fakeClock
	store    *anchor.Store
	reg      *prometheus.Registry
	consumer *memConsumer
	produced map[string][]byte // by reading key
	sent     int               // messages produced, duplicates included

	cancel context.CancelFunc
	done   chan error
}

func newHarness(t testing.TB, partitions int, now time.Time) *harness {
	h := &harness{
		t: t, cfg: testBatcherConfig(), dir: t.TempDir(),
		topic: newMemTopic(partitions), chain: newMemChain(), clock: newFakeClock(now),
		produced: map[string][]byte{},
	}
	t.Cleanup(func() { h.stop() })
	return h
}

// start runs a batcher on a freshly opened store.
func (h *harness) start() {
	h.t.Helper()
	h.store = openStore(h.t, h.dir)
	h.reg = prometheus.NewRegistry()
	h.consumer = h.topic.consumer()
	b, err := anchor.NewBatcherWith(h.cfg, h.store, h.chain, h.consumer, h.clock, testLogger(h.t), h.reg)
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan error, 1)
	go func() { h.done <- b.Run(ctx) }()
}

// stop cancels the batcher and returns Run's result.
func (h *harness) stop() error {
	if h.cancel == nil {
		return nil
	}
	h.cancel()
	h.cancel = nil
	var err error
	select {
	case err = <-h.done:
	case <-time.After(10 * time.Second):
		h.t.Fatal("batcher did not stop")
	}
	h.store.Close()
	return err
}

// produce sends device n's reading (seq, ts) to partition n % partitions.
func (h *harness) produce(n int, seq uint64, tsMS int64) {
	w := signed(h.t, n, seq, tsMS)
	h.produceWire(n, w)
	h.produced[reading.Key{DeviceID: deviceID(n), Seq: seq}.String()] = w
}

func (h *harness) produceWire(n int, w []byte) {
	h.topic.produce(n%len(h.topic.logs), w)
	h.sent++
}

func (h *harness) metric(name string) float64 {
	mfs, err := h.reg.Gather()
	if err != nil {
		h.t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			switch {
			case m.Counter != nil:
				sum += m.Counter.GetValue()
			case m.Gauge != nil:
				sum += m.Gauge.GetValue()
			}
		}
	}
	return sum
}

// waitConsumed waits until the batcher has handled every message of the
// topic from where it started.
func (h *harness) waitConsumed() {
	h.t.Helper()
	waitFor(h.t, func() bool {
		return h.consumer.delivered() && h.metric("sunproof_anchor_messages_total") == float64(h.consumer.fetched.Load())
	}, func() string {
		return fmt.Sprintf("handled %v of %d messages fetched (all delivered: %t)", h.metric("sunproof_anchor_messages_total"), h.consumer.fetched.Load(), h.consumer.delivered())
	})
}

// tick advances the clock by one interval and waits until the batcher has
// handled the tick (it waits on the clock again).
func (h *harness) tick() {
	h.t.Helper()
	h.waitConsumed()
	h.clock.Advance(h.t, h.cfg.Interval)
	h.waitIdle()
}

// waitIdle waits until the batcher waits on the clock, or Run returned.
func (h *harness) waitIdle() {
	h.t.Helper()
	waitFor(h.t, func() bool {
		h.clock.mu.Lock()
		defer h.clock.mu.Unlock()
		return len(h.clock.waiters) > 0 || len(h.done) > 0
	}, func() string { return "batcher never waited on the clock again" })
}

func waitFor(t testing.TB, cond func() bool, msg func() string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(msg())
		}
		time.Sleep(time.Millisecond)
	}
}

// verifyExactlyOnce checks that every produced reading is in exactly one
// anchored window, that nothing else is, that the chain holds exactly the
// store's intervals, and that every reading's bundle verifies.
func (h *harness) verifyExactlyOnce(store *anchor.Store) (late int) {
	h.t.Helper()
	counts, manifests := scanStore(h.t, store)
	for _, k := range sortedKeys(h.produced) {
		if counts[k] != 1 {
			h.t.Errorf("reading %s is in %d windows, want 1", k, counts[k])
		}
	}
	for _, k := range sortedKeys(counts) {
		if _, ok := h.produced[k]; !ok {
			h.t.Errorf("store holds %s, which was never produced", k)
		}
	}
	sent, _, anchors := h.chain.stats()
	if sent != len(manifests) || len(anchors) != len(manifests) {
		h.t.Errorf("chain has %d anchors (%d sent), store has %d intervals", len(anchors), sent, len(manifests))
	}
	for _, m := range manifests {
		tx, err := m.AnchorTx()
		if err != nil {
			h.t.Fatal(err)
		}
		if got := anchors[uint64(m.IntervalStartMS)]; got != tx {
			h.t.Errorf("interval %d: chain has %+v, manifest %+v", m.IntervalStartMS, got, tx)
		}
		if _, err := store.Receipt(m.IntervalStartMS); err != nil {
			h.t.Errorf("interval %d: %v", m.IntervalStartMS, err)
		}
	}
	ctx := context.Background()
	for _, k := range sortedKeys(h.produced) {
		var id string
		var seq uint64
		i := strings.LastIndexByte(k, '/')
		id = k[:i]
		fmt.Sscan(k[i+1:], &seq)
		b, err := store.ProofFor(ctx, id, seq)
		if err != nil {
			h.t.Errorf("proof of %s: %v", k, err)
			continue
		}
		res, err := anchor.Verify(ctx, b, h.chain)
		if err != nil {
			h.t.Errorf("verify %s: %v", k, err)
			continue
		}
		if res.Late {
			late++
		}
	}
	return late
}

// TestBatcherAnchorsEachReadingOnce: on-time windows over three spans,
// redelivered copies, late readings and an open span, anchored over
// several intervals; every reading ends in exactly one window.
func TestBatcherAnchorsEachReadingOnce(t *testing.T) {
	const devs = 6
	minute := time.Minute.Milliseconds()
	h := newHarness(t, 3, time.UnixMilli(t0+46*minute).Add(30*time.Second))
	h.chain.AddDeviceKeysFor(devs)
	for d := 1; d <= devs; d++ {
		for i := range 45 { // seq 1..45, one a minute over spans 1-3
			h.produce(d, uint64(i+1), t0+int64(i)*minute+int64(d))
		}
	}
	for d := 1; d <= devs; d++ { // redelivered copies, same batch
		h.produceWire(d, h.produced[reading.Key{DeviceID: deviceID(d), Seq: 3}.String()])
	}
	h.start()
	h.tick() // t0+47: the wall-clock watermark (idle partitions) seals spans 1-3
	if sent, _, _ := h.chain.stats(); sent != 1 {
		t.Fatalf("after the first tick: %d anchors, want 1", sent)
	}
	for d := 1; d <= devs; d++ {
		h.produceWire(d, h.produced[reading.Key{DeviceID: deviceID(d), Seq: 10}.String()]) // copies of sealed readings
		for i := range 3 {
			h.produce(d, uint64(46+i), t0+int64(i)*minute+500) // late for span 1
			h.produce(d, uint64(50+i), t0+int64(45+i)*minute)  // on time for span 4
		}
	}
	h.tick() // t0+48: late windows
	h.tick() // t0+49: nothing new
	if got := h.metric("sunproof_anchor_pending_readings"); got != 3*devs {
		t.Errorf("pending readings %v, want %d (span 4)", got, 3*devs)
	}
	for range 14 { // until the watermark passes t0+60
		h.tick()
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	store := openStore(t, h.dir)
	defer store.Close()
	if late := h.verifyExactlyOnce(store); late != 3*devs {
		t.Errorf("%d readings verified as late, want %d", late, 3*devs)
	}
	if got := h.metric("sunproof_anchor_messages_total"); got != float64(h.sent) {
		t.Errorf("messages_total %v, want %d", got, h.sent)
	}
}

// AddDeviceKeysFor registers the test keys of devices 1..n on the fake chain.
func (c *memChain) AddDeviceKeysFor(n int) {
	for d := 1; d <= n; d++ {
		c.AddDeviceKey(anchor.DeviceKeyRecord{DeviceID: deviceID(d), PublicKey: pubOf(d)})
	}
}

// TestBatcherRestart stops a batcher with open windows and a consumer
// group that lost its commits, and restarts it on the same store: the new
// run rebuilds the open windows from the topic and recognises the readings
// of windows sealed after the committed offset.
func TestBatcherRestart(t *testing.T) {
	const devs = 4
	minute := time.Minute.Milliseconds()
	h := newHarness(t, 2, time.UnixMilli(t0+16*minute).Add(30*time.Second))
	h.chain.AddDeviceKeysFor(devs)
	for d := 1; d <= devs; d++ {
		for i := range 20 { // span 1 and the start of span 2
			h.produce(d, uint64(i+1), t0+int64(i)*minute)
		}
	}
	h.start()
	h.tick() // t0+17: seals span 1 only
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	committed := h.topic.commits()
	if len(committed) == 0 {
		t.Fatal("nothing committed")
	}
	for p, off := range committed {
		if off >= int64(len(h.topic.logs[p])) {
			t.Errorf("partition %d committed %d of %d: the open window's readings should not be", p, off, len(h.topic.logs[p]))
		}
	}
	// The group forgets its offsets: the new run must rely on the store.
	h.topic.mu.Lock()
	h.topic.committed = map[int]int64{}
	h.topic.mu.Unlock()

	for d := 1; d <= devs; d++ {
		for i := 20; i < 30; i++ {
			h.produce(d, uint64(i+1), t0+int64(i)*minute)
		}
		h.produceWire(d, h.produced[reading.Key{DeviceID: deviceID(d), Seq: 2}.String()]) // copy of a span-1 reading
	}
	h.start()
	for range 16 { // past t0+32: span 2 sealed
		h.tick()
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	store := openStore(t, h.dir)
	defer store.Close()
	h.verifyExactlyOnce(store)
	if got := h.topic.commits(); len(got) != 2 {
		t.Errorf("committed %v after the restart, want both partitions", got)
	}
}

// TestBatcherSessionEnded: a rebalance mid-run makes the batcher start over
// from its store, still anchoring each reading once.
func TestBatcherSessionEnded(t *testing.T) {
	const devs = 3
	minute := time.Minute.Milliseconds()
	h := newHarness(t, 3, time.UnixMilli(t0+16*minute).Add(30*time.Second))
	h.chain.AddDeviceKeysFor(devs)
	for d := 1; d <= devs; d++ {
		for i := range 20 {
			h.produce(d, uint64(i+1), t0+int64(i)*minute)
		}
	}
	h.start()
	h.tick()
	h.topic.endSession()
	waitFor(t, func() bool {
		h.topic.mu.Lock()
		defer h.topic.mu.Unlock()
		return h.topic.sessions == 2
	}, func() string { return "the batcher did not rejoin" })
	for d := 1; d <= devs; d++ {
		for i := 20; i < 25; i++ {
			h.produce(d, uint64(i+1), t0+int64(i)*minute)
		}
	}
	for range 16 {
		h.tick()
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	store := openStore(t, h.dir)
	defer store.Close()
	h.verifyExactlyOnce(store)
}

// TestBatcherRetriesSubmit: retryable chain errors are retried with the
// same batch; the interval is anchored once.
func TestBatcherRetriesSubmit(t *testing.T) {
	minute := time.Minute.Milliseconds()
	h := newHarness(t, 1, time.UnixMilli(t0+20*minute))
	h.chain.AddDeviceKeysFor(2)
	h.chain.fail = func(call int) error {
		if call <= 2 {
			return fmt.Errorf("node busy: %w", anchor.ErrReceiptTimeout)
		}
		return nil
	}
	for d := 1; d <= 2; d++ {
		h.produce(d, 1, t0+int64(d))
	}
	h.start()
	h.tick()
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	sent, calls, _ := h.chain.stats()
	if sent != 1 || calls != 3 {
		t.Errorf("sent %d in %d calls, want 1 in 3", sent, calls)
	}
	store := openStore(t, h.dir)
	defer store.Close()
	h.verifyExactlyOnce(store)
}

// TestBatcherStopsOnConflict: a final chain error stops the batcher and
// leaves the interval prepared; a restart tries the same batch again.
func TestBatcherStopsOnConflict(t *testing.T) {
	minute := time.Minute.Milliseconds()
	h := newHarness(t, 1, time.UnixMilli(t0+20*minute))
	h.chain.fail = func(int) error { return fmt.Errorf("interval taken: %w", anchor.ErrConflictingAnchor) }
	h.produce(1, 1, t0)
	h.start()
	h.waitConsumed()
	h.clock.Advance(t, h.cfg.Interval)
	var err error
	select {
	case err = <-h.done:
	case <-time.After(10 * time.Second):
		t.Fatal("batcher did not stop")
	}
	h.cancel = nil
	h.store.Close()
	if !errors.Is(err, anchor.ErrConflictingAnchor) {
		t.Fatalf("Run: %v, want ErrConflictingAnchor", err)
	}
	store := openStore(t, h.dir)
	defer store.Close()
	_, ok, pending, err := store.Tail()
	if err != nil || ok || len(pending) != 1 {
		t.Fatalf("Tail: anchored %t, pending %v, err %v; want one prepared interval", ok, pending, err)
	}
}

// TestBatcherRefusesStoreBehindGroup: a group whose offsets are ahead of the
// store (a store restored from a backup) would skip readings.
func TestBatcherRefusesStoreBehindGroup(t *testing.T) {
	minute := time.Minute.Milliseconds()
	h := newHarness(t, 1, time.UnixMilli(t0+20*minute))
	h.chain.AddDeviceKeysFor(1)
	for i := range 3 {
		h.produce(1, uint64(i+1), t0+int64(i)*minute)
	}
	h.start()
	h.tick()
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	h.topic.mu.Lock()
	h.topic.committed[0] += 5
	h.topic.mu.Unlock()
	h.start()
	select {
	case err := <-h.done:
		h.cancel = nil
		h.store.Close()
		if err == nil || !strings.Contains(err.Error(), "behind the group") {
			t.Fatalf("Run: %v, want a refusal", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("batcher did not stop")
	}
}

// TestBatcherEmptyInterval: an interval in which nothing is sealed anchors
// nothing.
func TestBatcherEmptyInterval(t *testing.T) {
	minute := time.Minute.Milliseconds()
	h := newHarness(t, 2, time.UnixMilli(t0+5*minute))
	h.produce(1, 1, t0) // span 1 is still open
	h.start()
	h.tick()
	h.tick()
	if sent, calls, _ := h.chain.stats(); sent != 0 || calls != 0 {
		t.Errorf("%d anchors in %d calls, want none", sent, calls)
	}
	if got := h.metric("sunproof_anchor_intervals_total"); got != 2 {
		t.Errorf("intervals_total %v, want 2 (empty)", got)
	}
}

func TestBatcherConfigValidate(t *testing.T) {
	if got, want := anchor.DefaultBatcherConfig().Topic, ingest.TopicReadings; got != want {
		t.Errorf("default topic %q, want %q", got, want)
	}
	for _, tc := range []struct {
		desc string
		edit func(*anchor.BatcherConfig)
		ok   bool
	}{
		{"default", func(*anchor.BatcherConfig) {}, true},
		{"no topic", func(c *anchor.BatcherConfig) { c.Topic = "" }, false},
		{"no group", func(c *anchor.BatcherConfig) { c.Group = "" }, false},
		{"interval too short", func(c *anchor.BatcherConfig) { c.Interval = time.Millisecond }, false},
		{"interval not whole ms", func(c *anchor.BatcherConfig) { c.Interval = time.Second + time.Microsecond }, false},
		{"span too short", func(c *anchor.BatcherConfig) { c.Span = time.Millisecond }, false},
		{"negative lateness", func(c *anchor.BatcherConfig) { c.Lateness = -time.Second }, false},
		{"no retry", func(c *anchor.BatcherConfig) { c.RetryMax = 0 }, false},
		{"failpoint", func(c *anchor.BatcherConfig) { c.FailAt = anchor.FailAfterMark }, true},
		{"failpoint nth", func(c *anchor.BatcherConfig) { c.FailAt = "during-submit:3" }, true},
		{"unknown failpoint", func(c *anchor.BatcherConfig) { c.FailAt = "before-lunch" }, false},
		{"bad failpoint count", func(c *anchor.BatcherConfig) { c.FailAt = "after-mark:0" }, false},
		{"negative fail delay", func(c *anchor.BatcherConfig) { c.FailDelay = -1 }, false},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			c := anchor.DefaultBatcherConfig()
			tc.edit(&c)
			if err := c.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate: %v, want ok %t", err, tc.ok)
			}
		})
	}
	if _, err := anchor.NewBatcher(testBatcherConfig(), nil, nil, nil, nil); err == nil {
		t.Error("NewBatcher without brokers succeeded")
	}
}
