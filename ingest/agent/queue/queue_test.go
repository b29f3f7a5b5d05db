package queue

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		desc    string
		mod     func(*Config)
		wantErr string
	}{
		{desc: "default", mod: func(*Config) {}},
		{desc: "zero fields take defaults", mod: func(c *Config) { *c = Config{Dir: c.Dir} }},
		{desc: "no dir", mod: func(c *Config) { c.Dir = "" }, wantErr: "dir must not be empty"},
		{desc: "tiny segments", mod: func(c *Config) { c.SegmentBytes = 100 }, wantErr: "segment_bytes"},
		{desc: "huge segments", mod: func(c *Config) { c.SegmentBytes = 2 << 30 }, wantErr: "segment_bytes"},
		{desc: "bad policy", mod: func(c *Config) { c.Fsync = "sometimes" }, wantErr: `fsync "sometimes"`},
		{desc: "negative interval", mod: func(c *Config) { c.FsyncInterval = -time.Second }, wantErr: "fsync_interval"},
		{desc: "negative checkpoint", mod: func(c *Config) { c.CheckpointInterval = -1 }, wantErr: "checkpoint_interval"},
		{desc: "max below two segments", mod: func(c *Config) { c.MaxBytes = c.SegmentBytes }, wantErr: "max_bytes"},
		{desc: "negative max", mod: func(c *Config) { c.MaxBytes = -1 }, wantErr: "max_bytes"},
		{desc: "max two segments", mod: func(c *Config) { c.MaxBytes = 2 * c.SegmentBytes }},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			cfg := DefaultConfig("/tmp/q")
			tc.mod(&cfg)
			err := cfg.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("Validate() = %v, want error containing %q", err, tc.wantErr)
			}
		})
	}
	if _, err := Open(Config{SegmentBytes: 1}, nil); err == nil {
		t.Fatal("Open with invalid config succeeded")
	}
}

func TestAppendPendingAck(t *testing.T) {
	q := mustOpen(t, testConfig(t))
	defer mustClose(t, q)
	if got := q.LastSeq(); got != 0 {
		t.Fatalf("new queue LastSeq() = %d, want 0", got)
	}
	appendRange(t, q, 1, 100)
	checkConsistent(t, q)

	for _, tc := range []struct {
		desc  string
		after uint64
		max   int
		want  []uint64
	}{
		{"all", 0, 1000, seqRange(1, 100)},
		{"first page", 0, 10, seqRange(1, 10)},
		{"middle page", 42, 5, seqRange(43, 47)},
		{"tail", 95, 100, seqRange(96, 100)},
		{"after last", 100, 10, nil},
		{"after max uint64", math.MaxUint64, 10, nil},
		{"max zero", 0, 0, nil},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			if got := pendingSeqs(t, q, tc.after, tc.max); !slices.Equal(got, tc.want) {
				t.Fatalf("Pending(%d, %d) = %v, want %v", tc.after, tc.max, got, tc.want)
			}
		})
	}

	q.Ack(1, 30)
	q.Ack(41, 50)
	if got, want := q.AckedThrough(), uint64(30); got != want {
		t.Fatalf("AckedThrough() = %d, want %d", got, want)
	}
	if got, want := q.Len(), 60; got != want {
		t.Fatalf("Len() = %d, want %d", got, want)
	}
	if got, want := pendingSeqs(t, q, 0, 15), append(seqRange(31, 40), seqRange(51, 55)...); !slices.Equal(got, want) {
		t.Fatalf("Pending after acks = %v, want %v", got, want)
	}
	checkConsistent(t, q)
}

func TestAck(t *testing.T) {
	type ack struct{ from, to uint64 }
	for _, tc := range []struct {
		desc         string
		appended     []uint64
		acks         []ack
		wantThrough  uint64
		wantPending  []uint64
		thenAppend   uint64 // appended after the acks, must be pending
		wantPending2 []uint64
	}{
		{
			desc:        "in order",
			appended:    seqRange(1, 10),
			acks:        []ack{{1, 1}, {2, 2}, {3, 5}},
			wantThrough: 5,
			wantPending: seqRange(6, 10),
		},
		{
			desc:        "out of order closes the hole",
			appended:    seqRange(1, 10),
			acks:        []ack{{7, 8}, {5, 5}, {2, 4}, {1, 1}},
			wantThrough: 5,
			wantPending: []uint64{6, 9, 10},
		},
		{
			desc:        "duplicates and overlaps",
			appended:    seqRange(1, 10),
			acks:        []ack{{3, 3}, {3, 3}, {2, 6}, {1, 4}, {5, 6}, {1, 6}},
			wantThrough: 6,
			wantPending: seqRange(7, 10),
		},
		{
			desc:        "single seqs in reverse",
			appended:    seqRange(1, 6),
			acks:        []ack{{6, 6}, {5, 5}, {4, 4}, {3, 3}, {2, 2}},
			wantThrough: 0,
			wantPending: []uint64{1},
		},
		{
			desc:        "already acked and removed seqs are ignored",
			appended:    seqRange(1, 10),
			acks:        []ack{{1, 5}, {1, 5}, {2, 3}, {0, 0}, {0, 1}},
			wantThrough: 5,
			wantPending: seqRange(6, 10),
		},
		{
			desc:         "acks beyond LastSeq are clamped",
			appended:     seqRange(1, 10),
			acks:         []ack{{8, 1000}},
			wantThrough:  0,
			wantPending:  seqRange(1, 7),
			thenAppend:   11,
			wantPending2: append(seqRange(1, 7), 11),
		},
		{
			desc:         "ack everything, including future seqs",
			appended:     seqRange(1, 10),
			acks:         []ack{{0, math.MaxUint64}},
			wantThrough:  10,
			thenAppend:   11,
			wantPending2: []uint64{11},
		},
		{
			desc:        "inverted range is a no-op",
			appended:    seqRange(1, 10),
			acks:        []ack{{5, 2}},
			wantThrough: 0,
			wantPending: seqRange(1, 10),
		},
		{
			desc:        "gaps in appended seqs do not hold the cursor",
			appended:    []uint64{1, 2, 5, 9, 20},
			acks:        []ack{{1, 2}, {9, 9}},
			wantThrough: 4,
			wantPending: []uint64{5, 20},
		},
		{
			desc:        "acking a gap's neighbours advances over the gap",
			appended:    []uint64{1, 2, 5, 9, 20},
			acks:        []ack{{5, 5}, {9, 9}, {1, 2}},
			wantThrough: 19,
			wantPending: []uint64{20},
		},
		{
			desc:        "huge seqs",
			appended:    []uint64{1, 1 << 40, math.MaxUint64 - 1, math.MaxUint64},
			acks:        []ack{{math.MaxUint64, math.MaxUint64}, {0, 1 << 40}},
			wantThrough: math.MaxUint64 - 2,
			wantPending: []uint64{math.MaxUint64 - 1},
		},
		{
			desc:        "huge seqs all acked",
			appended:    []uint64{1, math.MaxUint64},
			acks:        []ack{{math.MaxUint64, math.MaxUint64}, {1, 1}},
			wantThrough: math.MaxUint64,
		},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			cfg := testConfig(t)
			q := mustOpen(t, cfg)
			for _, s := range tc.appended {
				if err := q.Append(s, payload(s)); err != nil {
					t.Fatalf("Append(%d): %v", s, err)
				}
			}
			for _, a := range tc.acks {
				q.Ack(a.from, a.to)
				checkConsistent(t, q)
			}
			if got := q.AckedThrough(); got != tc.wantThrough {
				t.Errorf("AckedThrough() = %d, want %d", got, tc.wantThrough)
			}
			if got := pendingSeqs(t, q, 0, 1000); !slices.Equal(got, tc.wantPending) {
				t.Errorf("Pending = %v, want %v", got, tc.wantPending)
			}
			if got, want := q.Len(), len(tc.wantPending); got != want {
				t.Errorf("Len() = %d, want %d", got, want)
			}
			if tc.thenAppend != 0 {
				if err := q.Append(tc.thenAppend, payload(tc.thenAppend)); err != nil {
					t.Fatal(err)
				}
				if got := pendingSeqs(t, q, 0, 1000); !slices.Equal(got, tc.wantPending2) {
					t.Errorf("Pending after append = %v, want %v", got, tc.wantPending2)
				}
			}
			before := pendingSeqs(t, q, 0, 1000)
			through := q.AckedThrough()
			mustClose(t, q)

			// The cursor survives; acks above it may be forgotten, so
			// more may be pending, never less.
			q = mustOpen(t, cfg)
			defer mustClose(t, q)
			checkConsistent(t, q)
			if got := q.AckedThrough(); got != through {
				t.Errorf("after reopen AckedThrough() = %d, want %d", got, through)
			}
			after := pendingSeqs(t, q, 0, 1000)
			for _, s := range before {
				if _, found := slices.BinarySearch(after, s); !found {
					t.Errorf("after reopen seq %d is no longer pending: %v", s, after)
				}
			}
		})
	}
}

func TestAppendErrors(t *testing.T) {
	q := mustOpen(t, testConfig(t))
	appendRange(t, q, 1, 5)
	for _, tc := range []struct {
		desc string
		seq  uint64
		data []byte
		want error
	}{
		{"zero seq", 0, []byte("x"), ErrSeqOrder},
		{"repeated seq", 5, []byte("x"), ErrSeqOrder},
		{"older seq", 3, []byte("x"), ErrSeqOrder},
		{"too large", 6, make([]byte, MaxRecordBytes+1), ErrTooLarge},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			if err := q.Append(tc.seq, tc.data); !errors.Is(err, tc.want) {
				t.Fatalf("Append(%d) = %v, want %v", tc.seq, err, tc.want)
			}
		})
	}
	if got := q.LastSeq(); got != 5 {
		t.Fatalf("LastSeq() = %d after failed appends, want 5", got)
	}
	// An empty record is fine, and Append copies its argument.
	buf := []byte("hello")
	if err := q.Append(6, nil); err != nil {
		t.Fatal(err)
	}
	if err := q.Append(7, buf); err != nil {
		t.Fatal(err)
	}
	copy(buf, "XXXXX")
	recs, err := q.Pending(5, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || len(recs[0].Data) != 0 || string(recs[1].Data) != "hello" {
		t.Fatalf("Pending = %v", recs)
	}
	mustClose(t, q)

	if err := q.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close() = %v, want ErrClosed", err)
	}
	if err := q.Append(8, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close = %v, want ErrClosed", err)
	}
	if _, err := q.Pending(0, 1); !errors.Is(err, ErrClosed) {
		t.Errorf("Pending after Close = %v, want ErrClosed", err)
	}
	if err := q.Sync(); !errors.Is(err, ErrClosed) {
		t.Errorf("Sync after Close = %v, want ErrClosed", err)
	}
	q.Ack(1, 10) // no-op, must not panic
	if got := q.LastSeq(); got != 7 {
		t.Errorf("LastSeq after Close = %d, want 7", got)
	}
}

func TestLocked(t *testing.T) {
	cfg := testConfig(t)
	q := mustOpen(t, cfg)
	if _, err := Open(cfg, nil); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
	mustClose(t, q)
	mustClose(t, mustOpen(t, cfg))
}

func TestReopenKeepsState(t *testing.T) {
	for _, policy := range []FsyncPolicy{FsyncAlways, FsyncOnInterval, FsyncNever} {
		t.Run(string(policy), func(t *testing.T) {
			cfg := testConfig(t)
			cfg.Fsync = policy
			q := mustOpen(t, cfg)
			appendRange(t, q, 1, 60)
			q.Ack(1, 20)
			q.Ack(25, 25)
			mustClose(t, q)

			q = mustOpen(t, cfg)
			defer mustClose(t, q)
			checkConsistent(t, q)
			if got, want := q.LastSeq(), uint64(60); got != want {
				t.Errorf("LastSeq() = %d, want %d", got, want)
			}
			if got, want := q.AckedThrough(), uint64(20); got != want {
				t.Errorf("AckedThrough() = %d, want %d", got, want)
			}
			// The ack of 25 was above the cursor: in memory only.
			if got, want := pendingSeqs(t, q, 0, 100), seqRange(21, 60); !slices.Equal(got, want) {
				t.Errorf("Pending = %v, want %v", got, want)
			}
			if err := q.Append(60, nil); !errors.Is(err, ErrSeqOrder) {
				t.Errorf("Append(60) = %v, want ErrSeqOrder", err)
			}
			appendRange(t, q, 61, 70)
			checkConsistent(t, q)
		})
	}
}

func TestLastSeqSurvivesFullAck(t *testing.T) {
	for _, tc := range []struct {
		desc  string
		close func(*testing.T, *Queue)
	}{
		{"close", func(t *testing.T, q *Queue) { mustClose(t, q) }},
		{"sync then crash", func(t *testing.T, q *Queue) {
			if err := q.Sync(); err != nil {
				t.Fatal(err)
			}
			q.abandon()
		}},
		{"crash after segment deletion", func(t *testing.T, q *Queue) {
			waitFor(t, "sealed segments deleted", func() bool { return len(segFiles(t, q.dir)) == 1 })
			q.abandon()
		}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			cfg := testConfig(t)
			q := mustOpen(t, cfg)
			appendRange(t, q, 1, 100)
			q.Ack(1, 100)
			tc.close(t, q)

			q = mustOpen(t, cfg)
			defer mustClose(t, q)
			checkConsistent(t, q)
			if got := q.LastSeq(); got != 100 {
				t.Fatalf("LastSeq() = %d, want 100", got)
			}
			if got := q.AckedThrough(); got != 100 {
				t.Fatalf("AckedThrough() = %d, want 100", got)
			}
			if got := q.Len(); got != 0 {
				t.Fatalf("Len() = %d, want 0", got)
			}
			// Open deletes the fully acked last segment too.
			if got := segFiles(t, cfg.Dir); len(got) != 0 {
				t.Fatalf("segment files %v, want none", got)
			}
			if err := q.Append(100, nil); !errors.Is(err, ErrSeqOrder) {
				t.Fatalf("Append(100) = %v, want ErrSeqOrder", err)
			}
			appendRange(t, q, 101, 101)
			checkConsistent(t, q)
		})
	}
}

func TestSegmentRolloverAndDeletion(t *testing.T) {
	cfg := testConfig(t)
	cfg.SegmentBytes = MinSegmentBytes
	q := mustOpen(t, cfg)
	defer mustClose(t, q)
	appendRange(t, q, 1, 200)
	checkConsistent(t, q)

	files := segFiles(t, cfg.Dir)
	if len(files) < 10 {
		t.Fatalf("%d segments for 200 records of ~170 bytes in 1 KiB segments, want >= 10", len(files))
	}
	var total int64
	for i, name := range files {
		fi, err := os.Stat(filepath.Join(cfg.Dir, name))
		if err != nil {
			t.Fatal(err)
		}
		total += fi.Size()
		if i < len(files)-1 && fi.Size() > cfg.SegmentBytes {
			// Only a single record larger than a segment may exceed it.
			if fi.Size() > headerSize+320 {
				t.Errorf("segment %s has %d bytes, limit %d", name, fi.Size(), cfg.SegmentBytes)
			}
		}
	}
	if got := q.Bytes(); got != total {
		t.Fatalf("Bytes() = %d, want %d", got, total)
	}
	// Names are the first seq of each segment.
	q.mu.Lock()
	for _, s := range q.segments {
		if got, want := s.name(), segmentName(s.seqAt(0)); got != want {
			t.Errorf("segment file %s starts with seq %d", got, s.seqAt(0))
		}
	}
	second := q.segments[1]
	q.mu.Unlock()

	// Acking one whole middle segment deletes it though the cursor is behind.
	q.Ack(second.seqAt(0), second.last())
	if err := q.Sync(); err != nil {
		t.Fatal(err)
	}
	if got := segFiles(t, cfg.Dir); slices.Contains(got, second.name()) {
		t.Fatalf("fully acked segment %s not deleted: %v", second.name(), got)
	}
	checkConsistent(t, q)

	// In-order acks delete the head; the background goroutine does it
	// without Sync.
	q.Ack(1, 150)
	waitFor(t, "head segments deleted", func() bool {
		got := segFiles(t, cfg.Dir)
		base, _ := parseSegmentName(got[0])
		return base > 100
	})
	checkConsistent(t, q)
	if got, want := pendingSeqs(t, q, 0, 1000), seqRange(151, 200); !slices.Equal(got, want) {
		t.Fatalf("Pending = %v, want %v", got, want)
	}
	// The active segment stays while open even when fully acked.
	q.Ack(1, 200)
	if err := q.Sync(); err != nil {
		t.Fatal(err)
	}
	if got := segFiles(t, cfg.Dir); len(got) != 1 {
		t.Fatalf("segments %v, want only the active one", got)
	}
	checkConsistent(t, q)
}

func TestErrFull(t *testing.T) {
	cfg := testConfig(t)
	cfg.SegmentBytes = MinSegmentBytes
	cfg.MaxBytes = 4 * MinSegmentBytes
	q := mustOpen(t, cfg)
	defer mustClose(t, q)
	var seq uint64
	for {
		err := q.Append(seq+1, payload(seq+1))
		if errors.Is(err, ErrFull) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		seq++
		if seq > 1000 {
			t.Fatal("never full")
		}
	}
	if got := q.Bytes(); got > cfg.MaxBytes || got+headerSize+int64(len(payload(seq+1))) <= cfg.MaxBytes {
		t.Fatalf("full at Bytes() = %d, MaxBytes %d", got, cfg.MaxBytes)
	}
	if got := q.LastSeq(); got != seq {
		t.Fatalf("LastSeq() = %d after ErrFull, want %d", got, seq)
	}
	if got := q.Len(); got != int(seq) {
		t.Fatalf("Len() = %d, want %d (nothing dropped)", got, seq)
	}
	// Acks alone don't free space until whole segments are acked.
	q.Ack(1, 1)
	if err := q.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := q.Append(seq+1, payload(seq+1)); !errors.Is(err, ErrFull) {
		t.Fatalf("Append = %v, want ErrFull", err)
	}
	q.Ack(1, seq/2)
	if err := q.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := q.Append(seq+1, payload(seq+1)); err != nil {
		t.Fatalf("Append after acks freed segments: %v", err)
	}
	checkConsistent(t, q)
}

// tornFixture appends 1..n, crashes, and returns the single segment's bytes
// and where the last record starts.
func tornFixture(t *testing.T, n uint64) (seg []byte, name string, lastOff int) {
	cfg := testConfig(t)
	q := mustOpen(t, cfg)
	appendRange(t, q, 1, n)
	q.mu.Lock()
	s := q.segments[0]
	lastOff = int(s.offAt(s.count() - 1))
	q.mu.Unlock()
	q.abandon()
	files := segFiles(t, cfg.Dir)
	if len(files) != 1 {
		t.Fatalf("want one segment, got %v", files)
	}
	seg, err := os.ReadFile(filepath.Join(cfg.Dir, files[0]))
	if err != nil {
		t.Fatal(err)
	}
	return seg, files[0], lastOff
}

// openDamaged writes seg as the only segment of a new queue and opens it.
func openDamaged(t *testing.T, name string, seg []byte) (*Queue, Config, *logBuf, error) {
	cfg := testConfig(t)
	if err := os.WriteFile(filepath.Join(cfg.Dir, name), seg, 0o640); err != nil {
		t.Fatal(err)
	}
	log, lb := newLogger()
	q, err := Open(cfg, log)
	return q, cfg, lb, err
}

func TestTornTail(t *testing.T) {
	const n = 5
	seg, name, lastOff := tornFixture(t, n)
	for cut := lastOff; cut <= len(seg); cut++ {
		q, cfg, lb, err := openDamaged(t, name, seg[:cut])
		if err != nil {
			t.Fatalf("cut at %d: Open: %v", cut, err)
		}
		wantLast := uint64(n - 1)
		if cut == len(seg) {
			wantLast = n
		}
		checkConsistent(t, q)
		if got := q.LastSeq(); got != wantLast {
			t.Fatalf("cut at %d: LastSeq() = %d, want %d", cut, got, wantLast)
		}
		if got, want := pendingSeqs(t, q, 0, 100), seqRange(1, wantLast); !slices.Equal(got, want) {
			t.Fatalf("cut at %d: Pending = %v, want %v", cut, got, want)
		}
		warned := strings.Contains(lb.String(), "level=WARN")
		if wantWarn := cut > lastOff && cut < len(seg); warned != wantWarn {
			t.Fatalf("cut at %d: warned %v, want %v; log:\n%s", cut, warned, wantWarn, lb)
		}
		if fi, err := os.Stat(filepath.Join(cfg.Dir, name)); err != nil || (cut < len(seg) && fi.Size() != int64(lastOff)) {
			t.Fatalf("cut at %d: segment not truncated to %d: %v %v", cut, lastOff, fi.Size(), err)
		}
		// The queue continues where the durable data ends.
		appendRange(t, q, wantLast+1, n+1)
		mustClose(t, q)
		q = mustOpen(t, cfg)
		if got, want := pendingSeqs(t, q, 0, 100), seqRange(1, n+1); !slices.Equal(got, want) {
			t.Fatalf("cut at %d: after re-append and reopen Pending = %v, want %v", cut, got, want)
		}
		checkConsistent(t, q)
		mustClose(t, q)
	}
}

func TestBitFlipInLastRecord(t *testing.T) {
	const n = 5
	seg, name, lastOff := tornFixture(t, n)
	for off := lastOff; off < len(seg); off++ {
		for _, bit := range []byte{1 << (off % 8)} {
			bad := bytes.Clone(seg)
			bad[off] ^= bit
			q, _, lb, err := openDamaged(t, name, bad)
			if err != nil {
				t.Fatalf("flip %#x at %d: Open: %v", bit, off, err)
			}
			if got := q.LastSeq(); got != n-1 {
				t.Fatalf("flip %#x at %d: LastSeq() = %d, want %d", bit, off, got, n-1)
			}
			if got, want := pendingSeqs(t, q, 0, 100), seqRange(1, n-1); !slices.Equal(got, want) {
				t.Fatalf("flip %#x at %d: Pending = %v, want %v", bit, off, got, want)
			}
			if !strings.Contains(lb.String(), "level=WARN") {
				t.Fatalf("flip %#x at %d: no warning logged:\n%s", bit, off, lb)
			}
			checkConsistent(t, q)
			mustClose(t, q)
		}
	}
}

// twoSegments builds a queue with two or more segments, crashes it, and
// returns its directory and the first segment's index.
func twoSegments(t *testing.T) (Config, *segment) {
	cfg := testConfig(t)
	cfg.SegmentBytes = MinSegmentBytes
	q := mustOpen(t, cfg)
	appendRange(t, q, 1, 20)
	q.mu.Lock()
	first := q.segments[0]
	q.mu.Unlock()
	q.abandon()
	return cfg, first
}

func TestCorruptNonLastSegment(t *testing.T) {
	for _, tc := range []struct {
		desc     string
		damage   func(b []byte, s *segment) []byte
		wantErr  bool
		dropLast bool // the first segment's last record is lost
	}{
		{
			desc:    "checksum mismatch",
			damage:  func(b []byte, s *segment) []byte { b[s.offAt(1)+headerSize] ^= 1; return b },
			wantErr: true,
		},
		{
			desc: "implausible length",
			damage: func(b []byte, s *segment) []byte {
				b[s.offAt(1)+3] = 0xff
				return b
			},
			wantErr: true,
		},
		{
			desc: "seq out of order",
			damage: func(b []byte, s *segment) []byte {
				// Record 1 (seq 2) rewritten, valid checksum, as seq 1.
				copy(b[s.offAt(1):], appendRecord(nil, 1, payload(2)))
				return b
			},
			wantErr: true,
		},
		{
			desc: "torn tail is tolerated",
			damage: func(b []byte, s *segment) []byte {
				return b[:s.offAt(s.count()-1)+5]
			},
			dropLast: true,
		},
		{
			desc: "zero-filled tail is tolerated",
			damage: func(b []byte, s *segment) []byte {
				return append(b, make([]byte, 300)...)
			},
		},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			cfg, first := twoSegments(t)
			path := filepath.Join(cfg.Dir, first.name())
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, tc.damage(b, first), 0o640); err != nil {
				t.Fatal(err)
			}
			log, lb := newLogger()
			q, err := Open(cfg, log)
			if tc.wantErr {
				var ce *CorruptError
				if !errors.Is(err, ErrCorrupt) || !errors.As(err, &ce) || ce.File != first.name() || ce.Offset != first.offAt(1) {
					t.Fatalf("Open = %v, want CorruptError in %s at %d", err, first.name(), first.offAt(1))
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer mustClose(t, q)
			checkConsistent(t, q)
			want := seqRange(1, 20)
			if tc.dropLast {
				want = slices.DeleteFunc(want, func(s uint64) bool { return s == first.last() })
			}
			if got := pendingSeqs(t, q, 0, 100); !slices.Equal(got, want) {
				t.Fatalf("Pending = %v, want %v", got, want)
			}
			if !strings.Contains(lb.String(), "level=WARN") {
				t.Fatalf("no warning logged:\n%s", lb)
			}
		})
	}
}

func TestCorruptState(t *testing.T) {
	cfg := testConfig(t)
	q := mustOpen(t, cfg)
	appendRange(t, q, 1, 3)
	q.Ack(1, 1)
	mustClose(t, q)
	path := filepath.Join(cfg.Dir, stateFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[5] ^= 1
	if err := os.WriteFile(path, b, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(cfg, nil); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open with corrupt state = %v, want ErrCorrupt", err)
	}
	// A leftover temporary state file is ignored.
	b[5] ^= 1
	if err := os.WriteFile(path, b, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfg.Dir, stateTmpFile), []byte("junk"), 0o640); err != nil {
		t.Fatal(err)
	}
	q = mustOpen(t, cfg)
	defer mustClose(t, q)
	if got := pendingSeqs(t, q, 0, 10); !slices.Equal(got, []uint64{2, 3}) {
		t.Fatalf("Pending = %v, want [2 3]", got)
	}
}

func TestPendingCorruptOnRead(t *testing.T) {
	cfg := testConfig(t)
	q := mustOpen(t, cfg)
	defer mustClose(t, q)
	appendRange(t, q, 1, 10)
	q.mu.Lock()
	s := q.segments[0]
	off := s.offAt(4) + headerSize + 3 // inside seq 5's data
	q.mu.Unlock()
	f, err := os.OpenFile(s.path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{'!'}, off); err != nil {
		t.Fatal(err)
	}
	f.Close()

	_, err = q.Pending(0, 100)
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.Seq != 5 || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Pending = %v, want CorruptError for seq 5", err)
	}
	q.Ack(ce.Seq, ce.Seq)
	if got, want := pendingSeqs(t, q, 0, 100), slices.Delete(seqRange(1, 10), 4, 5); !slices.Equal(got, want) {
		t.Fatalf("Pending after skipping = %v, want %v", got, want)
	}
}

func TestConcurrent(t *testing.T) {
	cfg := testConfig(t)
	cfg.SegmentBytes = 8 << 10
	cfg.CheckpointInterval = 10 * time.Millisecond
	cfg.MaxBytes = 1 << 20
	q := mustOpen(t, cfg)
	const n = 3000
	var wg sync.WaitGroup
	stop := make(chan struct{})

	wg.Add(1)
	go func() { // the reader: appends
		defer wg.Done()
		for s := uint64(1); s <= n; {
			err := q.Append(s, payload(s))
			if errors.Is(err, ErrFull) {
				time.Sleep(time.Millisecond)
				continue
			}
			if err != nil {
				t.Errorf("Append(%d): %v", s, err)
				return
			}
			s++
		}
	}()
	wg.Add(1)
	go func() { // the publisher and the MQTT callback: pending + random acks
		defer wg.Done()
		rng := rand.New(rand.NewPCG(1, 2))
		var after uint64
		for q.AckedThrough() < n {
			recs, err := q.Pending(after, 64)
			if err != nil {
				t.Errorf("Pending: %v", err)
				return
			}
			for i := 1; i < len(recs); i++ {
				if recs[i].Seq <= recs[i-1].Seq || !bytes.Equal(recs[i].Data, payload(recs[i].Seq)) {
					t.Errorf("Pending returned bad batch at %d", recs[i].Seq)
					return
				}
			}
			if len(recs) == 0 {
				after = 0 // resend from the start
				runtime.Gosched()
				continue
			}
			after = recs[len(recs)-1].Seq
			// Ack in random chunks, shuffled, some twice, some far in the past.
			rng.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
			for i, r := range recs {
				if rng.IntN(10) == 0 {
					continue // lost ack; resent later
				}
				q.Ack(r.Seq, r.Seq+uint64(rng.IntN(3)))
				if i%7 == 0 {
					q.Ack(r.Seq, r.Seq)
					q.Ack(1, r.Seq/2)
				}
			}
		}
	}()
	var obs sync.WaitGroup
	obs.Add(1)
	go func() { // observers
		defer obs.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if l, b := q.Len(), q.Bytes(); l < 0 || b < 0 || b > cfg.MaxBytes {
				t.Errorf("Len %d Bytes %d", l, b)
			}
			if q.AckedThrough() > q.LastSeq() {
				t.Errorf("AckedThrough > LastSeq")
			}
			if err := q.Sync(); err != nil {
				t.Errorf("Sync: %v", err)
			}
			time.Sleep(time.Millisecond)
		}
	}()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		buf := make([]byte, 1<<20)
		t.Fatalf("timeout: AckedThrough %d LastSeq %d Len %d Bytes %d\n%s", q.AckedThrough(), q.LastSeq(), q.Len(), q.Bytes(), buf[:runtime.Stack(buf, true)])
	}
	close(stop)
	obs.Wait()
	if t.Failed() {
		return
	}
	checkConsistent(t, q)
	if got := q.Len(); got != 0 {
		t.Fatalf("Len() = %d, want 0", got)
	}
	mustClose(t, q)
	q = mustOpen(t, cfg)
	defer mustClose(t, q)
	if got, want := q.LastSeq(), uint64(n); got != want {
		t.Fatalf("LastSeq() = %d, want %d", got, want)
	}
	if got := segFiles(t, cfg.Dir); len(got) != 0 {
		t.Fatalf("segments left after full ack: %v", got)
	}
}

func TestFsyncPolicies(t *testing.T) {
	for _, policy := range []FsyncPolicy{FsyncAlways, FsyncOnInterval, FsyncNever} {
		t.Run(string(policy), func(t *testing.T) {
			cfg := testConfig(t)
			cfg.Fsync = policy
			cfg.FsyncInterval = 5 * time.Millisecond
			q := mustOpen(t, cfg)
			appendRange(t, q, 1, 30)
			if policy == FsyncOnInterval {
				waitFor(t, "background fsync", func() bool {
					q.appendMu.Lock()
					defer q.appendMu.Unlock()
					return !q.dirty
				})
			}
			q.abandon()
			q = mustOpen(t, cfg)
			defer mustClose(t, q)
			if got, want := pendingSeqs(t, q, 0, 100), seqRange(1, 30); !slices.Equal(got, want) {
				t.Fatalf("Pending = %v, want %v", got, want)
			}
		})
	}
}

// TestIndexMemory checks that queued records cost a few bytes of heap
// each: the data stays on disk.
func TestIndexMemory(t *testing.T) {
	const n = 100_000
	cfg := testConfig(t)
	cfg.SegmentBytes = DefaultSegmentBytes
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	q := mustOpen(t, cfg)
	defer mustClose(t, q)
	rec := make([]byte, 300)
	for s := uint64(1); s <= n; s++ {
		if err := q.Append(s, rec); err != nil {
			t.Fatal(err)
		}
	}
	q.Ack(2, n/2) // a hole at 1 keeps the acks in the range set
	runtime.GC()
	runtime.ReadMemStats(&after)
	perRec := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / n
	t.Logf("heap per queued record: %.1f bytes (%d records, %d MB on disk)", perRec, n, q.Bytes()>>20)
	if perRec > 32 {
		t.Fatalf("heap per queued record = %.1f bytes, want <= 32", perRec)
	}
	runtime.KeepAlive(q)
}
