package anchor_test

// The crash test of exactly-once anchoring: a batcher in a child process
// (this test binary, re-executed) is stopped by a failpoint at each step of
// the protocol, restarted, stopped again, and restarted without a
// failpoint; every reading must end up in exactly one anchored window and
// the chain must hold exactly the store's intervals. This version uses a
// file-backed topic and contract; TestIntegrationBatcherCrash repeats it
// with Kafka and geth.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sunproof/sunproof/anchor"
	"github.com/sunproof/sunproof/ingest/reading"
)

// Environment of the child process.
const (
	crashChildEnv  = "SUNPROOF_ANCHOR_CRASH_DIR" // the run's directory; set only in children
	crashFailAtEnv = "SUNPROOF_ANCHOR_FAIL_AT"
)

var crashFailpoints = []string{
	anchor.FailAfterPrepare, anchor.FailDuringSubmit, anchor.FailAfterSubmit, anchor.FailAfterMark, anchor.FailAfterCommit,
}

func crashBatcherConfig() anchor.BatcherConfig {
	c := anchor.DefaultBatcherConfig()
	c.Brokers = nil
	c.Interval = 100 * time.Millisecond
	c.Span = time.Second
	c.Lateness = 200 * time.Millisecond
	c.RetryMax = 500 * time.Millisecond
	c.FailDelay = 50 * time.Millisecond
	return c
}

const crashPartitions = 3

// TestBatcherCrashChild is the batcher process of TestBatcherCrash.
func TestBatcherCrashChild(t *testing.T) {
	dir := os.Getenv(crashChildEnv)
	if dir == "" {
		t.Skip("child process of TestBatcherCrash")
	}
	cfg := crashBatcherConfig()
	cfg.FailAt = os.Getenv(crashFailAtEnv)
	log := testLogger(t)
	store, err := anchor.OpenStore(filepath.Join(dir, "store"), anchor.StoreOptions{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	topic := fileTopic{dir: filepath.Join(dir, "topic"), partitions: crashPartitions}
	// The fake contract takes 200 ms to "confirm": the during-submit
	// failpoint (50 ms) exits after the anchor is on chain, before Submit
	// returns.
	chain := fileChain{path: filepath.Join(dir, "chain.jsonl"), confirmDelay: 200 * time.Millisecond}
	b, err := anchor.NewBatcherWith(cfg, store, chain, topic.consumer(), anchor.SystemClock, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := b.Run(ctx); err != nil {
		t.Fatal(err)
	}
}

// crashFleet produces signed readings of devices 1..n in real time, with
// copies of earlier readings and late readings mixed in. It records every
// distinct reading produced.
type crashFleet struct {
	mu       sync.Mutex
	n        int
	seq      []uint64
	produced map[string][]byte
	sent     int
	dups     int
	late     int
	rnd      *rand.Rand
	produce  func(partition int, wire []byte)
}

func newCrashFleet(n int, produce func(partition int, wire []byte)) *crashFleet {
	return &crashFleet{n: n, seq: make([]uint64, n+1), produced: map[string][]byte{}, rnd: rand.New(rand.NewPCG(1, 2)), produce: produce}
}

// round produces one reading per device (ts now); every 7th device-round a
// copy of an earlier reading, every 11th a reading 3 s late.
func (f *crashFleet) round(tb testing.TB) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now().UnixMilli()
	for d := 1; d <= f.n; d++ {
		f.seq[d]++
		w := signed(tb, d, f.seq[d], now)
		f.emit(d, w)
		f.produced[reading.Key{DeviceID: deviceID(d), Seq: f.seq[d]}.String()] = w
		switch x := f.rnd.IntN(77); {
		case x%7 == 0 && f.seq[d] > 1:
			old := f.produced[reading.Key{DeviceID: deviceID(d), Seq: 1 + f.rnd.Uint64N(f.seq[d]-1)}.String()]
			f.emit(d, old)
			f.dups++
		case x%11 == 0:
			f.seq[d]++
			w := signed(tb, d, f.seq[d], now-3000)
			f.emit(d, w)
			f.produced[reading.Key{DeviceID: deviceID(d), Seq: f.seq[d]}.String()] = w
			f.late++
		}
	}
}

func (f *crashFleet) emit(d int, w []byte) {
	f.produce(d%crashPartitions, w)
	f.sent++
}

// run produces a round every period until stop is closed.
func (f *crashFleet) run(tb testing.TB, period time.Duration, stop <-chan struct{}) {
	for {
		f.round(tb)
		select {
		case <-stop:
			return
		case <-time.After(period):
		}
	}
}

// child is a running batcher process.
type child struct {
	cmd    *exec.Cmd
	out    *syncBuffer
	exited chan struct{} // closed when the process has exited
	err    error         // Wait's result, once exited
}

// syncBuffer is a bytes.Buffer safe for the child's output copying and the
// test's reading.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func startChild(t *testing.T, env ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBatcherCrashChild$|^TestIntegrationBatcherCrashChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), env...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, out: out, exited: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-c.exited:
		default:
			_ = c.cmd.Process.Kill()
			<-c.exited
		}
	})
	return c
}

// running reports whether the child has not exited yet.
func (c *child) running() bool {
	select {
	case <-c.exited:
		return false
	default:
		return true
	}
}

// wait waits for the child to exit and returns its exit code.
func (c *child) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-c.exited:
		var ee *exec.ExitError
		if errors.As(c.err, &ee) {
			return ee.ExitCode()
		}
		if c.err != nil {
			t.Fatal(c.err)
		}
		return 0
	case <-time.After(timeout):
		_ = c.cmd.Process.Kill()
		<-c.exited
		t.Fatalf("child did not exit within %s; output:\n%s", timeout, c.out)
		return -1
	}
}

// expectExit waits for the child and fails unless it exited with want.
func (c *child) expectExit(t *testing.T, want int, timeout time.Duration) {
	t.Helper()
	if got := c.wait(t, timeout); got != want {
		t.Fatalf("child exited with %d, want %d; output:\n%s", got, want, c.out)
	}
}

// anchoredKeys scans the anchored intervals of the store in dir (read-only,
// while a batcher may be writing it): the readings they hold, and whether
// a prepared interval is still unanchored.
func anchoredKeys(tb testing.TB, dir string) (keys map[string]int, pending bool) {
	tb.Helper()
	s, err := anchor.OpenStore(dir, anchor.StoreOptions{ReadOnly: true})
	if err != nil {
		return nil, true // not created yet
	}
	ivs, err := s.Intervals()
	if err != nil {
		tb.Fatal(err)
	}
	keys = map[string]int{}
	for _, iv := range ivs {
		if !iv.Anchored {
			pending = true
			continue
		}
		m, err := s.Manifest(iv.StartMS)
		if err != nil {
			tb.Fatal(err)
		}
		for i := range m.Windows {
			wires, err := s.WindowWires(m, i)
			if err != nil {
				tb.Fatal(err)
			}
			for _, w := range wires {
				keys[keyOf(tb, w)]++
			}
		}
	}
	return keys, pending
}

// waitAllAnchored is waitAnchored for a batcher child process.
func waitAllAnchored(t *testing.T, storeDir string, produced map[string][]byte, timeout time.Duration, c *child) {
	t.Helper()
	live := func() error {
		if !c.running() {
			return fmt.Errorf("batcher exited; output:\n%s", c.out)
		}
		return nil
	}
	waitAnchored(t, storeDir, produced, timeout, live, func() string { return "; batcher output:\n" + c.out.String() })
}

func TestBatcherCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts batcher processes (about 5 s)")
	}
	for _, fp := range crashFailpoints {
		t.Run(fp, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			topic := fileTopic{dir: filepath.Join(dir, "topic"), partitions: crashPartitions}
			prod := topic.producer(t)
			var pmu sync.Mutex
			fleet := newCrashFleet(6, func(p int, w []byte) {
				pmu.Lock()
				defer pmu.Unlock()
				prod.produce(t, p, w)
			})
			env := func(failAt string) []string {
				return []string{crashChildEnv + "=" + dir, crashFailAtEnv + "=" + failAt}
			}
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() { defer close(done); fleet.run(t, 20*time.Millisecond, stop) }()

			// Crash at the failpoint's second hit, then again at the first
			// hit of the next run (which may be while it completes the
			// interval the first run left prepared), then run to the end.
			startChild(t, env(fp+":2")...).expectExit(t, anchor.FailExitCode, 30*time.Second)
			startChild(t, env(fp+":1")...).expectExit(t, anchor.FailExitCode, 30*time.Second)
			last := startChild(t, env("")...)
			time.Sleep(time.Second)
			close(stop)
			<-done
			waitAllAnchored(t, filepath.Join(dir, "store"), fleet.produced, 30*time.Second, last)
			if err := last.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			last.expectExit(t, 0, 30*time.Second)

			chain := fileChain{path: filepath.Join(dir, "chain.jsonl")}
			anchors := chain.anchors(t)
			reader := chain.reader(t)
			reader.AddDeviceKeysFor(fleet.n)
			verifyCrashRun(t, filepath.Join(dir, "store"), testKeys, fleet.produced, anchors, reader)
			t.Logf("%d readings (%d messages: %d copies, %d late)", len(fleet.produced), fleet.sent, fleet.dups, fleet.late)
		})
	}
}

// verifyCrashRun checks exactly-once: every produced reading in exactly
// one window, nothing else in the store, every interval anchored, the
// chain's anchors (all of them, by interval start) exactly the store's
// intervals with their roots, and every reading's bundle verifying against
// reader.
func verifyCrashRun(t *testing.T, storeDir string, keys anchor.KeySource, produced map[string][]byte, anchors map[int64]anchor.AnchorRecord, reader anchor.ChainReader) {
	t.Helper()
	store, err := anchor.OpenStore(storeDir, anchor.StoreOptions{Keys: keys, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	counts, manifests := scanStore(t, store)
	bad := 0
	for _, k := range sortedKeys(produced) {
		if counts[k] != 1 {
			if bad++; bad <= 10 {
				t.Errorf("reading %s is in %d windows, want 1", k, counts[k])
			}
		}
	}
	for _, k := range sortedKeys(counts) {
		if _, ok := produced[k]; !ok {
			t.Errorf("store holds %s, which was never produced", k)
		}
	}
	lateWindows, existing := 0, 0
	for _, m := range manifests {
		if rec, err := store.Receipt(m.IntervalStartMS); err != nil {
			t.Errorf("interval %d: %v", m.IntervalStartMS, err)
		} else if rec.Existing {
			existing++
		}
		rec, ok := anchors[m.IntervalStartMS]
		if !ok {
			t.Errorf("interval %d is not on chain", m.IntervalStartMS)
			continue
		}
		if !bytes.Equal(rec.Root[:], m.Batch.Root) || rec.Size != m.Batch.Size || rec.IntervalEndMS != m.IntervalEndMS {
			t.Errorf("interval %d: chain has root %x size %d end %d, manifest %x %d %d", m.IntervalStartMS, rec.Root, rec.Size, rec.IntervalEndMS, []byte(m.Batch.Root), m.Batch.Size, m.IntervalEndMS)
		}
		for _, w := range m.Windows {
			if strings.Contains(w.ID, "/late/") {
				lateWindows++
			}
		}
	}
	if len(anchors) != len(manifests) {
		t.Errorf("chain holds %d anchors, store %d intervals", len(anchors), len(manifests))
	}
	ctx := context.Background()
	for _, k := range sortedKeys(produced) {
		i := strings.LastIndexByte(k, '/')
		var seq uint64
		fmt.Sscan(k[i+1:], &seq)
		b, err := store.ProofFor(ctx, k[:i], seq)
		if err != nil {
			t.Errorf("proof of %s: %v", k, err)
			continue
		}
		if _, err := anchor.Verify(ctx, b, reader); err != nil {
			t.Errorf("verify %s: %v", k, err)
		}
	}
	t.Logf("%d intervals (%d found already anchored on restart), %d late windows", len(manifests), existing, lateWindows)
}
