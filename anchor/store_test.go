package anchor_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/sunproof/sunproof/anchor"
	"github.com/sunproof/sunproof/anchor/anchorfake"
	"github.com/sunproof/sunproof/ingest/reading"
)

// storeInterval seals the windows of fleet readings over [from, from+n
// spans) and returns them with the interval's manifest.
func storeInterval(t testing.TB, start int64, wires [][]byte) (*anchor.Manifest, []*anchor.Window) {
	t.Helper()
	b, err := anchor.NewBuilder(anchor.Config{Shard: "p0", Span: 15 * time.Minute, Lateness: 0}, anchor.State{})
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range wires {
		if _, err := b.Add(w, int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	ws := b.Flush()
	m, ordered, err := anchor.NewManifest(start, start+60_000, ws, time.UnixMilli(start+60_000))
	if err != nil {
		t.Fatal(err)
	}
	m.Source = anchor.ManifestSource{Topic: "pv.readings", Group: "test"}
	m.Partitions = []anchor.ManifestPartition{{Partition: 0, Shard: "p0", State: b.State(), CommitOffset: int64(len(wires))}}
	return m, ordered
}

// fleetFrom is fleet with seqs starting at first.
func fleetFrom(tb testing.TB, nDev int, start int64, step time.Duration, count int, first uint64) [][]byte {
	tb.Helper()
	var out [][]byte
	for i := range count {
		for d := 1; d <= nDev; d++ {
			out = append(out, signed(tb, d, first+uint64(i), start+int64(i)*step.Milliseconds()+int64(d)))
		}
	}
	return out
}

func receiptFor(m *anchor.Manifest, tx byte) anchor.AnchorReceipt {
	return anchor.NewAnchorReceipt(m, anchor.TxRef{
		TxHash: common.Hash{tx}, BlockNumber: 7, ChainID: fakeChainID, Contract: fakeContract,
	}, time.UnixMilli(m.IntervalEndMS))
}

// anchorInStore prepares, marks and indexes an interval.
func anchorInStore(t testing.TB, s *anchor.Store, start int64, wires [][]byte) *anchor.Manifest {
	t.Helper()
	m, ws := storeInterval(t, start, wires)
	if err := s.Prepare(m, ws); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkAnchored(receiptFor(m, 1)); err != nil {
		t.Fatal(err)
	}
	if err := s.IndexInterval(m, ws); err != nil {
		t.Fatal(err)
	}
	return m
}

// fakeChainFor returns a fake chain holding m's anchor and devices 1..n.
func fakeChainFor(ms []*anchor.Manifest, n int) fakeReader {
	c := fakeReader{anchorfake.New(fakeChainID, strings.ToLower(fakeContract.Hex()))}
	for _, m := range ms {
		tx, _ := m.AnchorTx()
		c.AddAnchor(anchor.AnchorRecord{IntervalStartMS: m.IntervalStartMS, IntervalEndMS: m.IntervalEndMS, Root: tx.BatchRoot, Size: tx.BatchSize, Scheme: tx.Scheme})
	}
	c.AddDeviceKeysFor(n)
	return c
}

func TestStoreRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	defer s.Close()
	const start = 1_748_773_800_000
	wires := fleet(t, 3, t0, time.Minute, 40) // spans 1-3
	m, ws := storeInterval(t, start, wires)
	if len(ws) != 3 {
		t.Fatalf("%d windows, want 3", len(ws))
	}
	ctx := context.Background()
	if err := s.Prepare(m, ws); err != nil {
		t.Fatal(err)
	}
	if err := s.Prepare(m, ws); err == nil {
		t.Error("second Prepare of the interval succeeded")
	}
	if _, err := s.Receipt(start); !errors.Is(err, anchor.ErrNotAnchored) {
		t.Errorf("Receipt before MarkAnchored: %v, want ErrNotAnchored", err)
	}
	if _, err := s.ProofFor(ctx, deviceID(1), 1); !errors.Is(err, anchor.ErrNoProof) {
		t.Errorf("ProofFor before anchoring: %v, want ErrNoProof", err)
	}
	rec := receiptFor(m, 1)
	if err := s.MarkAnchored(rec); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkAnchored(rec); err != nil {
		t.Errorf("marking again with the same tx: %v", err)
	}
	if err := s.MarkAnchored(receiptFor(m, 2)); err == nil {
		t.Error("marking again with another tx succeeded")
	}
	if err := s.IndexInterval(m, ws); err != nil {
		t.Fatal(err)
	}
	chain := fakeChainFor([]*anchor.Manifest{m}, 3)
	for _, w := range wires {
		r, err := reading.Decode(w)
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.ProofFor(ctx, r.DeviceID, r.Seq)
		if err != nil {
			t.Fatalf("ProofFor %s: %v", r.Key(), err)
		}
		if b.Anchor != rec.Ref() {
			t.Errorf("anchor ref %+v, want %+v", b.Anchor, rec.Ref())
		}
		if _, err := anchor.Verify(ctx, b, chain); err != nil {
			t.Errorf("verify %s: %v", r.Key(), err)
		}
		if ok, err := s.Anchored(r.DeviceID, r.Seq); !ok || err != nil {
			t.Errorf("Anchored(%s) = %t, %v", r.Key(), ok, err)
		}
	}
	if ok, _ := s.Anchored(deviceID(1), 999); ok {
		t.Error("Anchored reports a seq never stored")
	}
	if _, err := s.ProofFor(ctx, deviceID(9), 1); !errors.Is(err, anchor.ErrNoProof) {
		t.Errorf("unknown device: %v, want ErrNoProof", err)
	}
	if _, err := s.ProofFor(ctx, "no/such", 1); err == nil {
		t.Error("invalid device id accepted")
	}
	st, err := s.Check()
	if err != nil {
		t.Fatal(err)
	}
	if st.Intervals != 1 || st.Anchored != 1 || st.Windows != 3 || st.Readings != uint64(len(wires)) {
		t.Errorf("Check: %+v", st)
	}
}

func TestStoreDetectsCorruption(t *testing.T) {
	const start = 1_748_773_800_000
	for _, tc := range []struct {
		desc string
		file func(m *anchor.Manifest) string
		edit func([]byte) []byte
	}{
		{"wire file byte", func(m *anchor.Manifest) string { return m.Windows[1].File }, func(b []byte) []byte { b[len(b)-70] ^= 1; return b }},
		{"wire file truncated", func(m *anchor.Manifest) string { return m.Windows[0].File }, func(b []byte) []byte { return b[:len(b)-1] }},
		{"manifest byte", func(m *anchor.Manifest) string { return manifestPath(m) }, func(b []byte) []byte {
			return []byte(strings.Replace(string(b), `"leaves":`, `"leaves":1`, 1))
		}},
		{"receipt byte", func(m *anchor.Manifest) string { return strings.Replace(manifestPath(m), "manifest", "anchored", 1) }, func(b []byte) []byte {
			return []byte(strings.Replace(string(b), `"block_number":7`, `"block_number":8`, 1))
		}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			dir := t.TempDir()
			s := openStore(t, dir)
			m := anchorInStore(t, s, start, fleet(t, 3, t0, time.Minute, 40))
			s.Close()
			path := filepath.Join(dir, filepath.FromSlash(tc.file(m)))
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, tc.edit(b), 0o644); err != nil {
				t.Fatal(err)
			}
			s = openStore(t, dir)
			defer s.Close()
			if _, err := s.Check(); !errors.Is(err, anchor.ErrCorrupt) {
				t.Errorf("Check: %v, want ErrCorrupt", err)
			}
		})
	}
}

func manifestPath(m *anchor.Manifest) string {
	// windows/<day>/<start>/… → intervals/<day>/<start>.manifest.json
	parts := strings.Split(m.Windows[0].File, "/")
	return "intervals/" + parts[1] + "/" + parts[2] + ".manifest.json"
}

// TestStoreRepair: what an interrupted Prepare or index append leaves is
// cleaned up by the next writer.
func TestStoreRepair(t *testing.T) {
	dir := t.TempDir()
	const start = 1_748_773_800_000
	s := openStore(t, dir)
	m1 := anchorInStore(t, s, start, fleet(t, 2, t0, time.Minute, 10))
	s.Close()

	// An interrupted Prepare of the next interval: wire files, no manifest.
	orphan := filepath.Join(dir, "windows", filepath.Base(filepath.Dir(filepath.Dir(filepath.FromSlash(m1.Windows[0].File)))), "0001748773860000")
	if err := os.MkdirAll(orphan, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(orphan, "p0~x.wires"), []byte("junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A temporary file and a torn index record.
	tmp := filepath.Join(dir, "intervals", filepath.Base(filepath.Dir(filepath.Join(dir, filepath.FromSlash(manifestPath(m1))))), ".x.manifest.json.tmp-123")
	if err := os.WriteFile(tmp, []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	idx := filepath.Join(dir, "index", deviceID(1)+".idx")
	f, err := os.OpenFile(idx, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{1, 2, 3, 4, 5})
	f.Close()

	s = openStore(t, dir)
	defer s.Close()
	for _, p := range []string{orphan, tmp} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s survived the repair: %v", p, err)
		}
	}
	// The next interval indexes behind the torn record, aligned.
	m2 := anchorInStore(t, s, start+60_000, fleetFrom(t, 2, t0+15*60_000, time.Minute, 5, 11))
	ctx := context.Background()
	chain := fakeChainFor([]*anchor.Manifest{m1, m2}, 2)
	for _, seq := range []uint64{1, 10, 11, 15} {
		b, err := s.ProofFor(ctx, deviceID(1), seq)
		if err != nil {
			t.Fatalf("seq %d: %v", seq, err)
		}
		if _, err := anchor.Verify(ctx, b, chain); err != nil {
			t.Errorf("seq %d: %v", seq, err)
		}
	}
	if st, err := os.Stat(idx); err != nil || st.Size()%anchor.IndexRecordSize != 0 {
		t.Errorf("index file size %v (%v), want a multiple of %d", st.Size(), err, anchor.IndexRecordSize)
	}
}

// TestStoreIndexRebuild: a deleted index is rebuilt by the next writer,
// and an interval anchored but not indexed (a crash) is indexed.
func TestStoreIndexRebuild(t *testing.T) {
	dir := t.TempDir()
	const start = 1_748_773_800_000
	s := openStore(t, dir)
	m1 := anchorInStore(t, s, start, fleet(t, 2, t0, time.Minute, 10))
	m2, ws := storeInterval(t, start+60_000, fleetFrom(t, 2, t0+15*60_000, time.Minute, 5, 11))
	if err := s.Prepare(m2, ws); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkAnchored(receiptFor(m2, 3)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := os.RemoveAll(filepath.Join(dir, "index")); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir)
	defer s.Close()
	ctx := context.Background()
	chain := fakeChainFor([]*anchor.Manifest{m1, m2}, 2)
	for _, seq := range []uint64{1, 10, 11, 15} {
		b, err := s.ProofFor(ctx, deviceID(2), seq)
		if err != nil {
			t.Fatalf("seq %d: %v", seq, err)
		}
		if _, err := anchor.Verify(ctx, b, chain); err != nil {
			t.Errorf("seq %d: %v", seq, err)
		}
	}
}

func TestStoreReadOnlyAndLock(t *testing.T) {
	dir := t.TempDir()
	if _, err := anchor.OpenStore(dir, anchor.StoreOptions{ReadOnly: true}); err == nil {
		t.Error("read-only open of a missing store succeeded")
	}
	w := openStore(t, dir)
	defer w.Close()
	if _, err := anchor.OpenStore(dir, anchor.StoreOptions{}); !errors.Is(err, anchor.ErrStoreLocked) {
		t.Errorf("second writer: %v, want ErrStoreLocked", err)
	}
	r, err := anchor.OpenStore(dir, anchor.StoreOptions{ReadOnly: true, Keys: testKeys})
	if err != nil {
		t.Fatal(err)
	}
	const start = 1_748_773_800_000
	m := anchorInStore(t, w, start, fleet(t, 2, t0, time.Minute, 3))
	b, err := r.ProofFor(context.Background(), deviceID(2), 3)
	if err != nil {
		t.Fatalf("reader does not see the writer's interval: %v", err)
	}
	if _, err := anchor.Verify(context.Background(), b, fakeChainFor([]*anchor.Manifest{m}, 2)); err != nil {
		t.Error(err)
	}
	if err := r.Prepare(m, nil); !errors.Is(err, anchor.ErrReadOnly) {
		t.Errorf("Prepare on a read-only store: %v", err)
	}
}

// TestStoreSigningKey: ProofFor picks, among a device's keys, the one that
// signed the reading (a device that rotated its key).
func TestStoreSigningKey(t *testing.T) {
	dir := t.TempDir()
	rotated := anchor.KeySourceFunc(func(ctx context.Context, id string) ([]ed25519.PublicKey, error) {
		return []ed25519.PublicKey{pubOf(7), pubOf(1)}, nil
	})
	s, err := anchor.OpenStore(dir, anchor.StoreOptions{Keys: rotated})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	anchorInStore(t, s, 1_748_773_800_000, fleet(t, 1, t0, time.Minute, 2))
	b, err := s.ProofFor(context.Background(), deviceID(1), 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Device.PublicKey; string(got) != string(pubOf(1)) {
		t.Errorf("bundle names key %x, want device 1's", []byte(got))
	}
	none := anchor.KeySourceFunc(func(context.Context, string) ([]ed25519.PublicKey, error) { return []ed25519.PublicKey{pubOf(7)}, nil })
	s2, err := anchor.OpenStore(dir, anchor.StoreOptions{ReadOnly: true, Keys: none})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s2.ProofFor(context.Background(), deviceID(1), 2); err == nil {
		t.Error("ProofFor without the signing key succeeded")
	}
}

// TestStoreTail: the newest anchored interval and the prepared ones after
// it; Check rejects an unanchored interval followed by anchored ones.
func TestStoreTail(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	const start = 1_748_773_800_000
	if _, ok, pending, err := s.Tail(); ok || len(pending) != 0 || err != nil {
		t.Fatalf("empty store: Tail = %t, %v, %v", ok, pending, err)
	}
	anchorInStore(t, s, start, fleet(t, 1, t0, time.Minute, 2))
	m2, ws2 := storeInterval(t, start+86_400_000, fleetFrom(t, 1, t0+15*60_000, time.Minute, 2, 3)) // the next day
	if err := s.Prepare(m2, ws2); err != nil {
		t.Fatal(err)
	}
	newest, ok, pending, err := s.Tail()
	if err != nil || !ok || newest.StartMS != start || len(pending) != 1 || pending[0].StartMS != m2.IntervalStartMS {
		t.Fatalf("Tail = %+v %t %+v %v", newest, ok, pending, err)
	}
	if _, err := s.Check(); err != nil {
		t.Errorf("Check with a prepared tail: %v", err)
	}
	anchorInStore(t, s, start+2*86_400_000, fleetFrom(t, 1, t0+30*60_000, time.Minute, 2, 5))
	if _, err := s.Check(); !errors.Is(err, anchor.ErrCorrupt) {
		t.Errorf("Check with an unanchored interval before an anchored one: %v, want ErrCorrupt", err)
	}
}
