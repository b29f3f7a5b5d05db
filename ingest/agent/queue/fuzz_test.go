package queue

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

const nextBase = 1 << 33 // the optional valid segment: seqs 2^33 .. 2^33+2

// FuzzOpenCorrupt writes arbitrary bytes as a segment file, optionally
// followed by a valid segment (so that the fuzzed one is not the last), and
// checks that Open never panics and either fails with ErrCorrupt or yields
// a consistent queue that keeps working and survives a reopen.
func FuzzOpenCorrupt(f *testing.F) {
	// Short records keep inputs small, which keeps minimization fast.
	var valid []byte
	for s := uint64(1); s <= 4; s++ {
		valid = appendRecord(valid, s, []byte{byte('a' + s)})
	}
	f.Add(valid, false)
	f.Add(valid, true)
	f.Add(valid[:len(valid)-7], false)
	f.Add(valid[:len(valid)-7], true)
	f.Add(valid[:3], true)
	flipped := bytes.Clone(valid)
	flipped[17+8+3] ^= 0x10 // the second record (17 bytes each) has a bad seq
	f.Add(flipped, false)
	f.Add(flipped, true)
	f.Add(append(bytes.Clone(valid), make([]byte, 40)...), true)
	f.Add(appendRecord(appendRecord(nil, 3, []byte("a")), 2, []byte("b")), false)
	f.Add(appendRecord(nil, math.MaxUint64, []byte("max")), false)
	f.Add(appendRecord(nil, 1<<40, []byte("beyond next")), true)
	f.Add([]byte{}, true)

	f.Fuzz(fuzzOpenCorrupt)
}

func fuzzOpenCorrupt(t *testing.T, seg []byte, nonLast bool) {
	if len(seg) > 8<<10 {
		t.Skip("input too large") // a few records exercise the parser; big inputs only slow down minimization
	}
	cfg := testConfig(t)
	cfg.Dir = fuzzDir(t)
	if err := os.WriteFile(filepath.Join(cfg.Dir, segmentName(1)), seg, 0o640); err != nil {
		t.Fatal(err)
	}
	if nonLast {
		var next []byte
		for s := uint64(nextBase); s < nextBase+3; s++ {
			next = appendRecord(next, s, payload(s))
		}
		if err := os.WriteFile(filepath.Join(cfg.Dir, segmentName(nextBase)), next, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	q, err := Open(cfg, nil)
	if err != nil {
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Open = %v, want nil or ErrCorrupt", err)
		}
		return
	}
	if err := q.checkInvariants(); err != nil {
		t.Fatalf("invariants after Open: %v", err)
	}
	recs, err := q.Pending(0, math.MaxInt32)
	if err != nil {
		t.Fatalf("Pending: %v", err)
	}
	if len(recs) != q.Len() {
		t.Fatalf("len(Pending) = %d, Len() = %d", len(recs), q.Len())
	}
	for i, r := range recs {
		if (i > 0 && r.Seq <= recs[i-1].Seq) || r.Seq > q.LastSeq() {
			t.Fatalf("Pending out of order at %d: seq %d (LastSeq %d)", i, r.Seq, q.LastSeq())
		}
	}
	if nonLast {
		// The valid last segment always survives.
		if len(recs) < 3 {
			t.Fatalf("valid last segment lost: %d records", len(recs))
		}
		if got := recs[len(recs)-3:]; got[0].Seq != nextBase || !bytes.Equal(got[2].Data, payload(nextBase+2)) {
			t.Fatalf("valid last segment lost: %v", got)
		}
	}
	if last := q.LastSeq(); last < math.MaxUint64 {
		if err := q.Append(last+1, []byte("after")); err != nil {
			t.Fatalf("Append(%d): %v", last+1, err)
		}
		recs = append(recs, Record{Seq: last + 1, Data: []byte("after")})
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}

	q, err = Open(cfg, nil)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer q.Close()
	again, err := q.Pending(0, math.MaxInt32)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(again, recs, func(a, b Record) bool { return a.Seq == b.Seq && bytes.Equal(a.Data, b.Data) }) {
		t.Fatalf("reopen changed the records: %d before, %d after", len(recs), len(again))
	}
}

// fuzzDir returns a fresh directory, on tmpfs when there is one: durability
// is not under test here, and fsync on a real disk makes each execution
// ten times slower.
func fuzzDir(t *testing.T) string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "queue-fuzz-"); err == nil {
			t.Cleanup(func() { os.RemoveAll(dir) })
			return dir
		}
	}
	return t.TempDir()
}
