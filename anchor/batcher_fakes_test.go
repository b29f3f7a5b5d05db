package anchor_test

// Test doubles of the batcher's dependencies: an in-memory topic and
// consumer group (memTopic), a file-backed topic for child processes
// (fileTopic), an in-memory and a file-backed anchoring contract
// (memChain, fileChain) and a manual clock.

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/sunproof/sunproof/anchor"
	"github.com/sunproof/sunproof/anchor/anchorfake"
	"github.com/sunproof/sunproof/ingest/reading"
)

// memTopic is an in-memory topic with a consumer group's committed
// offsets. It is safe for concurrent use.
type memTopic struct {
	mu        sync.Mutex
	logs      [][][]byte // by partition
	committed map[int]int64
	changed   chan struct{} // closed and replaced on every append
	sessions  int
	ended     chan struct{} // closed to end the current session
}

func newMemTopic(partitions int) *memTopic {
	return &memTopic{logs: make([][][]byte, partitions), committed: map[int]int64{}, changed: make(chan struct{})}
}

// produce appends wire to partition p and returns its offset.
func (t *memTopic) produce(p int, wire []byte) int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.logs[p] = append(t.logs[p], wire)
	close(t.changed)
	t.changed = make(chan struct{})
	return int64(len(t.logs[p]) - 1)
}

// endSession ends the current consumer session, as a rebalance would.
func (t *memTopic) endSession() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended != nil {
		close(t.ended)
		t.ended = nil
	}
}

func (t *memTopic) commits() map[int]int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[int]int64{}
	for p, o := range t.committed {
		out[p] = o
	}
	return out
}

// memConsumer implements the batcher's consumer over a memTopic.
type memConsumer struct {
	t       *memTopic
	pos     map[int]int64
	ended   chan struct{}
	next    int          // round-robin partition
	fetched atomic.Int64 // messages returned by Fetch
}

// delivered reports whether Fetch has returned every message of the topic.
func (c *memConsumer) delivered() bool {
	c.t.mu.Lock()
	defer c.t.mu.Unlock()
	for p := range c.t.logs {
		if c.pos[p] < int64(len(c.t.logs[p])) {
			return false
		}
	}
	return true
}

func (t *memTopic) consumer() *memConsumer { return &memConsumer{t: t} }

func (c *memConsumer) Join(ctx context.Context) (map[int]int64, error) {
	c.t.mu.Lock()
	defer c.t.mu.Unlock()
	c.t.sessions++
	c.ended = make(chan struct{})
	c.t.ended = c.ended
	out := map[int]int64{}
	for p := range c.t.logs {
		out[p] = -1
		if o, ok := c.t.committed[p]; ok {
			out[p] = o
		}
	}
	return out, nil
}

func (c *memConsumer) Start(ctx context.Context, from map[int]int64) error {
	c.t.mu.Lock()
	defer c.t.mu.Unlock()
	c.pos = map[int]int64{}
	for p, o := range from {
		c.pos[p] = max(o, 0)
	}
	return nil
}

func (c *memConsumer) Fetch(ctx context.Context) (anchor.SourceMessage, error) {
	for {
		c.t.mu.Lock()
		n := len(c.t.logs)
		for i := range n {
			p := (c.next + i) % n
			if off := c.pos[p]; off < int64(len(c.t.logs[p])) {
				c.pos[p]++
				c.next = p + 1
				c.fetched.Add(1)
				m := anchor.SourceMessage{Partition: p, Offset: off, HighWaterMark: int64(len(c.t.logs[p])), Value: c.t.logs[p][off], Time: time.Now()}
				c.t.mu.Unlock()
				return m, nil
			}
		}
		changed := c.t.changed
		c.t.mu.Unlock()
		select {
		case <-changed:
		case <-c.ended:
			return anchor.SourceMessage{}, anchor.ErrSessionEnded
		case <-ctx.Done():
			return anchor.SourceMessage{}, ctx.Err()
		}
	}
}

func (c *memConsumer) Commit(ctx context.Context, offsets map[int]int64) error {
	select {
	case <-c.ended:
		return anchor.ErrSessionEnded
	default:
	}
	c.t.mu.Lock()
	defer c.t.mu.Unlock()
	for p, o := range offsets {
		c.t.committed[p] = o
	}
	return nil
}

func (c *memConsumer) Close() error { return nil }

// memChain is an in-memory anchoring contract: Submit is idempotent like
// the real Submitter's, and anchors land in an anchorfake.Chain for
// verification. fail, if set, is called before each Submit and may return
// an error to inject.
type memChain struct {
	*anchorfake.Chain
	contract common.Address

	mu      sync.Mutex
	anchors map[uint64]anchor.AnchorTx
	sent    int // new anchors
	calls   int
	fail    func(call int) error
}

const fakeChainID = 31337

var fakeContract = common.HexToAddress("0x5fbdb2315678afecb367f032d93f642f64180aa3")

func newMemChain() *memChain {
	return &memChain{
		Chain:    anchorfake.New(fakeChainID, strings.ToLower(fakeContract.Hex())),
		contract: fakeContract,
		anchors:  map[uint64]anchor.AnchorTx{},
	}
}

func fakeTxHash(tx anchor.AnchorTx) common.Hash {
	return sha256.Sum256(fmt.Appendf(nil, "%d %x", tx.IntervalStart, tx.BatchRoot))
}

func (c *memChain) Submit(ctx context.Context, tx anchor.AnchorTx) (anchor.TxRef, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.fail != nil {
		if err := c.fail(c.calls); err != nil {
			return anchor.TxRef{}, err
		}
	}
	ref := anchor.TxRef{TxHash: fakeTxHash(tx), BlockNumber: tx.IntervalStart / 1000, ChainID: fakeChainID, Contract: c.contract}
	if old, ok := c.anchors[tx.IntervalStart]; ok {
		if old != tx {
			return anchor.TxRef{}, fmt.Errorf("interval %d: %w", tx.IntervalStart, anchor.ErrConflictingAnchor)
		}
		ref.TxHash, ref.Existing = fakeTxHash(old), true
		return ref, nil
	}
	c.anchors[tx.IntervalStart] = tx
	c.sent++
	c.AddAnchor(anchor.AnchorRecord{
		IntervalStartMS: int64(tx.IntervalStart), IntervalEndMS: int64(tx.IntervalEnd),
		Root: tx.BatchRoot, Size: tx.BatchSize, Scheme: tx.Scheme,
	})
	return ref, nil
}

func (c *memChain) stats() (sent, calls int, anchors map[uint64]anchor.AnchorTx) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := map[uint64]anchor.AnchorTx{}
	for k, v := range c.anchors {
		m[k] = v
	}
	return c.sent, c.calls, m
}

// fakeClock is a manual clock. After registers a waiter that Advance fires.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []clockWaiter
	added   chan struct{}
}

type clockWaiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock(now time.Time) *fakeClock {
	return &fakeClock{now: now, added: make(chan struct{}, 64)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waiters = append(c.waiters, clockWaiter{at: c.now.Add(d), ch: ch})
	select {
	case c.added <- struct{}{}:
	default:
	}
	return ch
}

// Advance waits until someone waits on the clock, then moves it by d and
// fires the waiters that are due.
func (c *fakeClock) Advance(tb testing.TB, d time.Duration) {
	tb.Helper()
	deadline := time.After(10 * time.Second)
	for {
		c.mu.Lock()
		n := len(c.waiters)
		c.mu.Unlock()
		if n > 0 {
			break
		}
		select {
		case <-c.added:
		case <-deadline:
			tb.Fatal("fake clock: nobody waits on the clock")
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.ch <- c.now
			continue
		}
		kept = append(kept, w)
	}
	c.waiters = kept
}

// fileTopic is a topic in files, for batchers in child processes: one file
// per partition of records (length u32, bytes) and the group's committed
// offsets in a JSON file. One writer (the test) appends; the child reads.
type fileTopic struct {
	dir        string
	partitions int
}

func (t fileTopic) logFile(p int) string { return filepath.Join(t.dir, fmt.Sprintf("p%d.log", p)) }
func (t fileTopic) commitFile() string   { return filepath.Join(t.dir, "committed.json") }

// fileProducer appends to a fileTopic.
type fileProducer struct {
	files []*os.File
	n     []int64
}

func (t fileTopic) producer(tb testing.TB) *fileProducer {
	tb.Helper()
	if err := os.MkdirAll(t.dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	p := &fileProducer{}
	for i := range t.partitions {
		f, err := os.OpenFile(t.logFile(i), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { f.Close() })
		p.files = append(p.files, f)
		p.n = append(p.n, 0)
	}
	return p
}

func (p *fileProducer) produce(tb testing.TB, part int, wire []byte) {
	tb.Helper()
	rec := binary.BigEndian.AppendUint32(nil, uint32(len(wire)))
	if _, err := p.files[part].Write(append(rec, wire...)); err != nil {
		tb.Fatal(err)
	}
	p.n[part]++
}

// fileConsumer reads a fileTopic; it polls for new records.
type fileConsumer struct {
	t    fileTopic
	r    []*bufio.Reader
	f    []*os.File
	pos  []int64
	next int
}

func (t fileTopic) consumer() *fileConsumer { return &fileConsumer{t: t} }

func (c *fileConsumer) Join(ctx context.Context) (map[int]int64, error) {
	out := map[int]int64{}
	for p := range c.t.partitions {
		out[p] = -1
	}
	b, err := os.ReadFile(c.t.commitFile())
	if err == nil {
		var m map[int]int64
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, err
		}
		for p, o := range m {
			out[p] = o
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	return out, nil
}

func (c *fileConsumer) Start(ctx context.Context, from map[int]int64) error {
	for _, f := range c.f {
		f.Close()
	}
	c.r, c.f, c.pos = nil, nil, nil
	for p := range c.t.partitions {
		f, err := os.OpenFile(c.t.logFile(p), os.O_CREATE|os.O_RDONLY, 0o644)
		if err != nil {
			return err
		}
		c.f = append(c.f, f)
		c.r = append(c.r, bufio.NewReaderSize(f, 1<<16))
		c.pos = append(c.pos, 0)
		for c.pos[p] < from[p] {
			if _, err := c.read(p); err != nil {
				return fmt.Errorf("seek partition %d to %d: %w", p, from[p], err)
			}
		}
	}
	return nil
}

// hasNext reports whether a complete record of p is buffered or readable.
func (c *fileConsumer) hasNext(p int) bool {
	hdr, err := c.r[p].Peek(4)
	if err != nil {
		return false
	}
	_, err = c.r[p].Peek(4 + int(binary.BigEndian.Uint32(hdr)))
	return err == nil
}

// read returns the next record of p, or io.EOF if there is no complete
// one yet (a partial record stays buffered for the next call).
func (c *fileConsumer) read(p int) ([]byte, error) {
	r := c.r[p]
	hdr, err := r.Peek(4)
	if err != nil {
		return nil, io.EOF
	}
	n := int(binary.BigEndian.Uint32(hdr))
	if _, err := r.Peek(4 + n); err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, fmt.Errorf("record of %d bytes exceeds the buffer", n)
		}
		return nil, io.EOF
	}
	buf := make([]byte, 4+n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	c.pos[p]++
	return buf[4:], nil
}

func (c *fileConsumer) Fetch(ctx context.Context) (anchor.SourceMessage, error) {
	for {
		for i := range c.t.partitions {
			p := (c.next + i) % c.t.partitions
			v, err := c.read(p)
			if errors.Is(err, io.EOF) {
				continue
			}
			if err != nil {
				return anchor.SourceMessage{}, err
			}
			c.next = p + 1
			// Like a broker's, the high-water mark says whether more is
			// readable now.
			hwm := c.pos[p]
			if c.hasNext(p) {
				hwm++
			}
			return anchor.SourceMessage{Partition: p, Offset: c.pos[p] - 1, HighWaterMark: hwm, Value: v, Time: time.Now()}, nil
		}
		select {
		case <-ctx.Done():
			return anchor.SourceMessage{}, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func (c *fileConsumer) Commit(ctx context.Context, offsets map[int]int64) error {
	m := map[int]int64{}
	if b, err := os.ReadFile(c.t.commitFile()); err == nil {
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
	}
	for p, o := range offsets {
		m[p] = o
	}
	b, _ := json.Marshal(m)
	tmp := c.t.commitFile() + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, c.t.commitFile())
}

func (c *fileConsumer) Close() error {
	for _, f := range c.f {
		f.Close()
	}
	return nil
}

// fileChain is an anchoring contract in a file: one JSON line per anchor,
// appended and synced. Submit is idempotent by interval start. After
// recording a new anchor it waits confirmDelay before returning, like a
// client waiting for confirmations: a process killed then has anchored
// without knowing it.
type fileChain struct {
	path         string
	confirmDelay time.Duration
}

type fileAnchor struct {
	Start, End uint64
	Root       anchor.Hex
	Size       uint64
	Scheme     uint8
}

func (c fileChain) read() ([]fileAnchor, error) {
	b, err := os.ReadFile(c.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []fileAnchor
	for line := range strings.Lines(string(b)) {
		var a fileAnchor
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			return nil, fmt.Errorf("chain file: %w", err)
		}
		out = append(out, a)
	}
	return out, nil
}

func (a fileAnchor) tx() anchor.AnchorTx {
	var root [32]byte
	copy(root[:], a.Root)
	return anchor.AnchorTx{IntervalStart: a.Start, IntervalEnd: a.End, BatchRoot: root, BatchSize: a.Size, Scheme: a.Scheme}
}

func (c fileChain) Submit(ctx context.Context, tx anchor.AnchorTx) (anchor.TxRef, error) {
	anchors, err := c.read()
	if err != nil {
		return anchor.TxRef{}, err
	}
	ref := anchor.TxRef{TxHash: fakeTxHash(tx), BlockNumber: tx.IntervalStart / 1000, ChainID: fakeChainID, Contract: fakeContract}
	for _, a := range anchors {
		if a.Start == tx.IntervalStart {
			if a.tx() != tx {
				return anchor.TxRef{}, fmt.Errorf("interval %d: %w", tx.IntervalStart, anchor.ErrConflictingAnchor)
			}
			ref.Existing = true
			return ref, nil
		}
	}
	line, _ := json.Marshal(fileAnchor{Start: tx.IntervalStart, End: tx.IntervalEnd, Root: tx.BatchRoot[:], Size: tx.BatchSize, Scheme: tx.Scheme})
	f, err := os.OpenFile(c.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return anchor.TxRef{}, err
	}
	defer f.Close()
	if _, err := f.Write(append(line, '\n')); err != nil {
		return anchor.TxRef{}, err
	}
	if err := f.Sync(); err != nil {
		return anchor.TxRef{}, err
	}
	select {
	case <-time.After(c.confirmDelay):
	case <-ctx.Done():
		return anchor.TxRef{}, ctx.Err()
	}
	return ref, nil
}

// anchors returns the file's anchors by interval start; an interval
// anchored twice fails the test (the real contract rejects it).
func (c fileChain) anchors(tb testing.TB) map[int64]anchor.AnchorRecord {
	tb.Helper()
	list, err := c.read()
	if err != nil {
		tb.Fatal(err)
	}
	out := map[int64]anchor.AnchorRecord{}
	for _, a := range list {
		tx := a.tx()
		if _, dup := out[int64(tx.IntervalStart)]; dup {
			tb.Errorf("interval %d anchored twice", tx.IntervalStart)
		}
		out[int64(tx.IntervalStart)] = anchor.AnchorRecord{IntervalStartMS: int64(tx.IntervalStart), IntervalEndMS: int64(tx.IntervalEnd), Root: tx.BatchRoot, Size: tx.BatchSize, Scheme: tx.Scheme}
	}
	return out
}

// fakeReader is an anchorfake chain with the test devices' keys.
type fakeReader struct{ *anchorfake.Chain }

// AddDeviceKeysFor registers the test keys of devices 1..n.
func (r fakeReader) AddDeviceKeysFor(n int) {
	for d := 1; d <= n; d++ {
		r.AddDeviceKey(anchor.DeviceKeyRecord{DeviceID: deviceID(d), PublicKey: pubOf(d)})
	}
}

// reader returns a ChainReader over the file's anchors.
func (c fileChain) reader(tb testing.TB) fakeReader {
	tb.Helper()
	anchors, err := c.read()
	if err != nil {
		tb.Fatal(err)
	}
	fc := anchorfake.New(fakeChainID, strings.ToLower(fakeContract.Hex()))
	for _, a := range anchors {
		tx := a.tx()
		fc.AddAnchor(anchor.AnchorRecord{IntervalStartMS: int64(tx.IntervalStart), IntervalEndMS: int64(tx.IntervalEnd), Root: tx.BatchRoot, Size: tx.BatchSize, Scheme: tx.Scheme})
	}
	return fakeReader{fc}
}

// scanStore counts, for every reading key, the anchored windows that hold
// it, and checks every file of the store.
func scanStore(tb testing.TB, s *anchor.Store) (counts map[string]int, manifests []*anchor.Manifest) {
	tb.Helper()
	if _, err := s.Check(); err != nil {
		tb.Fatalf("store check: %v", err)
	}
	ivs, err := s.Intervals()
	if err != nil {
		tb.Fatal(err)
	}
	counts = map[string]int{}
	for _, iv := range ivs {
		m, err := s.Manifest(iv.StartMS)
		if err != nil {
			tb.Fatal(err)
		}
		manifests = append(manifests, m)
		for i := range m.Windows {
			wires, err := s.WindowWires(m, i)
			if err != nil {
				tb.Fatal(err)
			}
			for _, w := range wires {
				counts[keyOf(tb, w)]++
			}
		}
	}
	return counts, manifests
}

func keyOf(tb testing.TB, wire []byte) string {
	tb.Helper()
	r, err := reading.Decode(wire)
	if err != nil {
		tb.Fatal(err)
	}
	return r.Key().String()
}

// sortedKeys returns m's keys in order, for stable failure messages.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
