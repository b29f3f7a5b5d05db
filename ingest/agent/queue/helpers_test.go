package queue

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// payload is the deterministic record for seq: 20 to 319 bytes.
func payload(seq uint64) []byte {
	n := 20 + int(seq*7919%300)
	b := make([]byte, 0, n+20)
	for len(b) < n {
		b = fmt.Appendf(b, "r%d;", seq)
	}
	return b[:n]
}

// testConfig returns a config with small segments and no fsync, so tests
// are quick; tests that need other settings change them.
func testConfig(t testing.TB) Config {
	cfg := DefaultConfig(t.TempDir())
	cfg.SegmentBytes = 4 << 10
	cfg.Fsync = FsyncNever
	cfg.CheckpointInterval = time.Hour // tests call Sync for deterministic checkpoints
	return cfg
}

// logBuf collects log output for assertions.
type logBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func newLogger() (*slog.Logger, *logBuf) {
	lb := &logBuf{}
	return slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug})), lb
}

func mustOpen(t testing.TB, cfg Config) *Queue {
	t.Helper()
	q, err := Open(cfg, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return q
}

func mustClose(t testing.TB, q *Queue) {
	t.Helper()
	if err := q.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func appendRange(t testing.TB, q *Queue, from, to uint64) {
	t.Helper()
	for s := from; s <= to; s++ {
		if err := q.Append(s, payload(s)); err != nil {
			t.Fatalf("Append(%d): %v", s, err)
		}
	}
}

func seqRange(from, to uint64) []uint64 {
	var s []uint64
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}

// pendingSeqs returns the seqs of Pending(after, limit) and checks payloads.
func pendingSeqs(t testing.TB, q *Queue, after uint64, limit int) []uint64 {
	t.Helper()
	recs, err := q.Pending(after, limit)
	if err != nil {
		t.Fatalf("Pending(%d, %d): %v", after, limit, err)
	}
	seqs := make([]uint64, 0, len(recs))
	for _, r := range recs {
		if !bytes.Equal(r.Data, payload(r.Seq)) {
			t.Fatalf("Pending: seq %d: got data %q, want %q", r.Seq, r.Data, payload(r.Seq))
		}
		seqs = append(seqs, r.Seq)
	}
	return seqs
}

// abandon simulates kill -9: it stops the background goroutine and drops
// the files and the lock without fsync, checkpoint or deletion.
func (q *Queue) abandon() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	close(q.stop)
	<-q.done
	q.appendMu.Lock()
	if q.active != nil && q.active.f != nil {
		q.active.f.Close()
		q.active.f = nil
	}
	q.appendMu.Unlock()
	unlockDir(q.lock)
}

// checkInvariants verifies the in-memory state against itself and the
// directory. Callers must not run concurrent Appends.
func (q *Queue) checkInvariants() error {
	q.stateMu.Lock() // no deletion in flight
	defer q.stateMu.Unlock()
	q.mu.Lock()
	defer q.mu.Unlock()

	if q.ackedThrough > q.lastSeq {
		return fmt.Errorf("ackedThrough %d > lastSeq %d", q.ackedThrough, q.lastSeq)
	}
	prev := uint64(0)
	for i, sp := range q.acks.spans {
		if sp.lo > sp.hi || sp.lo <= q.ackedThrough || sp.hi > q.lastSeq || (i > 0 && sp.lo <= prev+1) {
			return fmt.Errorf("bad ack spans %v (ackedThrough %d, lastSeq %d)", q.acks.spans, q.ackedThrough, q.lastSeq)
		}
		prev = sp.hi
	}
	var unacked int
	var bytes int64
	var lastRec uint64
	files := map[string]int64{}
	entries, err := os.ReadDir(q.dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), segmentExt) {
			fi, err := e.Info()
			if err != nil {
				return err
			}
			files[e.Name()] = fi.Size()
		}
	}
	for i, s := range q.segments {
		if s.count() == 0 && (s != q.active || i != len(q.segments)-1) {
			return fmt.Errorf("empty segment %s is not the active one", s.name())
		}
		if i > 0 && s.base <= q.segments[i-1].base {
			return fmt.Errorf("segments out of order")
		}
		n := 0
		for j := range s.count() {
			seq := s.seqAt(j)
			if seq <= lastRec {
				return fmt.Errorf("seq %d after %d", seq, lastRec)
			}
			lastRec = seq
			if seq > q.ackedThrough && !q.acks.contains(seq) {
				n++
			}
		}
		if n != s.unacked {
			return fmt.Errorf("segment %s: unacked %d, counted %d", s.name(), s.unacked, n)
		}
		if size, ok := files[s.name()]; !ok || size != s.size {
			return fmt.Errorf("segment %s: file size %d (exists %v), index size %d", s.name(), size, ok, s.size)
		}
		delete(files, s.name())
		unacked += n
		bytes += s.size
	}
	if len(files) > 0 {
		return fmt.Errorf("segment files not in the index: %v", files)
	}
	if unacked != q.unacked || bytes != q.bytes {
		return fmt.Errorf("unacked %d bytes %d, counted %d and %d", q.unacked, q.bytes, unacked, bytes)
	}
	if lastRec > q.lastSeq {
		return fmt.Errorf("record %d beyond lastSeq %d", lastRec, q.lastSeq)
	}
	// The cursor is maximal: the first record above it is not acked.
	if next, ok := q.firstAfterLocked(q.ackedThrough); ok {
		if q.acks.contains(next) {
			return fmt.Errorf("cursor %d could advance past %d", q.ackedThrough, next)
		}
	} else if q.ackedThrough != q.lastSeq {
		return fmt.Errorf("no records above cursor %d but lastSeq is %d", q.ackedThrough, q.lastSeq)
	}
	return nil
}

// checkConsistent checks invariants and that Pending agrees with Len.
func checkConsistent(t testing.TB, q *Queue) {
	t.Helper()
	if err := q.checkInvariants(); err != nil {
		t.Fatalf("invariants: %v", err)
	}
	seqs := pendingSeqs(t, q, 0, math.MaxInt32)
	if got, want := len(seqs), q.Len(); got != want {
		t.Fatalf("len(Pending) = %d, Len() = %d", got, want)
	}
	if !slices.IsSorted(seqs) || len(slices.Compact(slices.Clone(seqs))) != len(seqs) {
		t.Fatalf("Pending not strictly increasing: %v", seqs)
	}
	if len(seqs) > 0 && (seqs[0] <= q.AckedThrough() || seqs[len(seqs)-1] > q.LastSeq()) {
		t.Fatalf("Pending %d..%d outside (AckedThrough %d, LastSeq %d]", seqs[0], seqs[len(seqs)-1], q.AckedThrough(), q.LastSeq())
	}
}

func segFiles(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*"+segmentExt))
	if err != nil {
		t.Fatal(err)
	}
	for i := range m {
		m[i] = filepath.Base(m[i])
	}
	slices.Sort(m)
	return m
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(5 * time.Millisecond):
		}
	}
}
