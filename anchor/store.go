package anchor

import (
	"bytes"
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/sunproof/sunproof/ingest/reading"

	"github.com/sunproof/sunproof/internal/atomicfile"
)

// Errors of the proof store.
var (
	// ErrNoProof: the store holds no anchored reading with this device id
	// and seq (never seen, or not anchored yet).
	ErrNoProof = errors.New("anchor: no anchored reading with this device id and seq")
	// ErrNotAnchored: the interval is prepared but its receipt is not
	// written yet.
	ErrNotAnchored = errors.New("anchor: interval not anchored yet")
	// ErrStoreLocked: another process holds the store for writing.
	ErrStoreLocked = errors.New("anchor: proof store is locked by another process")
	// ErrReadOnly: a write to a store opened read-only.
	ErrReadOnly = errors.New("anchor: proof store opened read-only")
)

// KeySource returns the public keys a device has had (any order, revoked
// ones included). ProofFor puts into a bundle the one that verifies the
// reading's signature.
type KeySource interface {
	DeviceKeys(ctx context.Context, deviceID string) ([]ed25519.PublicKey, error)
}

// KeySourceFunc adapts a function to KeySource.
type KeySourceFunc func(ctx context.Context, deviceID string) ([]ed25519.PublicKey, error)

// DeviceKeys implements KeySource.
func (f KeySourceFunc) DeviceKeys(ctx context.Context, deviceID string) ([]ed25519.PublicKey, error) {
	return f(ctx, deviceID)
}

// ChainKeys returns a KeySource that reads a device's keys from the
// anchoring contract at contract: the keys a verifier will trust.
func ChainKeys(r ChainReader, contract string) KeySource {
	return KeySourceFunc(func(ctx context.Context, deviceID string) ([]ed25519.PublicKey, error) {
		recs, err := r.DeviceKeys(ctx, contract, deviceID)
		if err != nil {
			return nil, err
		}
		out := make([]ed25519.PublicKey, 0, len(recs))
		for _, k := range recs {
			out = append(out, k.PublicKey)
		}
		return out, nil
	})
}

// StoreOptions configures OpenStore.
type StoreOptions struct {
	// ReadOnly opens the store for lookups only: no lock, no repair, no
	// writes. Use it for `sunproof proof` and `sunproof serve` next to a
	// running batcher; it sees intervals as they are written.
	ReadOnly bool
	// Keys supplies device public keys to ProofFor; nil makes ProofFor fail.
	Keys KeySource
	// Logger may be nil.
	Logger *slog.Logger
	// CacheWindows is how many rebuilt windows ProofFor keeps (default 16).
	CacheWindows int
}

// Store is the proof store: a local directory holding, for every anchoring
// interval, its manifest, its windows' wire messages, its anchor receipt,
// and a per-device index, in the append-only, checksummed layout of
// docs/formats/proof-store.md. Any reading's proof bundle can be rebuilt
// from it alone, without the Kafka topic.
//
// One process at a time writes a store (OpenStore takes a lock); any
// number may read it with StoreOptions.ReadOnly. A Store is safe for
// concurrent use.
type Store struct {
	dir  string
	ro   bool
	keys KeySource
	log  *slog.Logger
	lock *os.File

	mu        sync.Mutex
	manifests *lru[int64, *storedManifest]
	receipts  *lru[int64, *AnchorReceipt]
	windows   *lru[windowKey, *Window]
	seqs      *lru[string, *deviceSeqs] // for Anchored
}

// deviceSeqs caches the seqs a device's index file lists (its first size
// bytes) as sorted, disjoint, non-adjacent ranges: a device's seqs are
// nearly contiguous, so a few ranges hold years of readings.
type deviceSeqs struct {
	size   int64
	ranges []seqRange
}

type seqRange struct{ from, to uint64 }

func (d *deviceSeqs) has(seq uint64) bool {
	i, _ := slices.BinarySearchFunc(d.ranges, seq, func(r seqRange, s uint64) int { return cmp.Compare(r.to, s) })
	return i < len(d.ranges) && d.ranges[i].from <= seq
}

func (d *deviceSeqs) add(seq uint64) {
	// i is the first range ending at or after seq.
	i, _ := slices.BinarySearchFunc(d.ranges, seq, func(r seqRange, s uint64) int { return cmp.Compare(r.to, s) })
	switch {
	case i < len(d.ranges) && d.ranges[i].from <= seq:
		return // present
	case i > 0 && d.ranges[i-1].to+1 == seq:
		d.ranges[i-1].to = seq
		if i < len(d.ranges) && d.ranges[i].from == seq+1 {
			d.ranges[i-1].to = d.ranges[i].to
			d.ranges = slices.Delete(d.ranges, i, i+1)
		}
	case i < len(d.ranges) && d.ranges[i].from == seq+1:
		d.ranges[i].from = seq
	default:
		d.ranges = slices.Insert(d.ranges, i, seqRange{seq, seq})
	}
}

type storedManifest struct {
	m     *Manifest
	batch *Batch
}

type windowKey struct {
	interval int64
	index    int
}

const storeMarker = "sunproof proof store\nversion 1\n"

// OpenStore opens (creating it if needed, unless read-only) the store in
// dir. A writer takes the store's lock, removes what an interrupted write
// left behind (temporary files, the wire files of a manifest that was never
// written) and brings the device index up to date.
func OpenStore(dir string, opts StoreOptions) (*Store, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.CacheWindows == 0 {
		opts.CacheWindows = 16
	}
	s := &Store{
		dir: dir, ro: opts.ReadOnly, keys: opts.Keys, log: log.With("component", "proof-store", "dir", dir),
		manifests: newLRU[int64, *storedManifest](256),
		receipts:  newLRU[int64, *AnchorReceipt](4096),
		windows:   newLRU[windowKey, *Window](opts.CacheWindows),
		seqs:      newLRU[string, *deviceSeqs](1 << 16),
	}
	if s.ro {
		b, err := os.ReadFile(filepath.Join(dir, "STORE"))
		if err != nil {
			return nil, fmt.Errorf("open proof store: %w", err)
		}
		if string(b) != storeMarker {
			return nil, fmt.Errorf("open proof store %s: unknown format marker %q", dir, b)
		}
		return s, nil
	}
	for _, d := range []string{"intervals", "windows", "index"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, fmt.Errorf("open proof store: %w", err)
		}
	}
	lock, err := lockFile(filepath.Join(dir, "LOCK"))
	if err != nil {
		return nil, fmt.Errorf("open proof store: %w", err)
	}
	s.lock = lock
	switch b, err := os.ReadFile(filepath.Join(dir, "STORE")); {
	case errors.Is(err, fs.ErrNotExist):
		if err := writeFileAtomic(filepath.Join(dir, "STORE"), []byte(storeMarker), false); err != nil {
			s.Close()
			return nil, fmt.Errorf("open proof store: %w", err)
		}
	case err != nil:
		s.Close()
		return nil, fmt.Errorf("open proof store: %w", err)
	case string(b) != storeMarker:
		s.Close()
		return nil, fmt.Errorf("open proof store %s: unknown format marker %q", dir, b)
	}
	if err := s.repair(); err != nil {
		s.Close()
		return nil, fmt.Errorf("open proof store: %w", err)
	}
	if err := s.catchUpIndex(); err != nil {
		s.Close()
		return nil, fmt.Errorf("open proof store: index: %w", err)
	}
	return s, nil
}

// Close releases the store's lock.
func (s *Store) Close() error {
	if s.lock != nil {
		err := s.lock.Close()
		s.lock = nil
		return err
	}
	return nil
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) path(rel string) string { return filepath.Join(s.dir, filepath.FromSlash(rel)) }

// IntervalStatus is one interval in the store.
type IntervalStatus struct {
	StartMS  int64
	Anchored bool // its receipt is written
}

// Intervals lists every interval with a manifest, oldest first.
func (s *Store) Intervals() ([]IntervalStatus, error) {
	days, err := s.days()
	if err != nil {
		return nil, err
	}
	var out []IntervalStatus
	for _, d := range days {
		st, err := s.dayIntervals(d)
		if err != nil {
			return nil, err
		}
		out = append(out, st...)
	}
	return out, nil
}

// days lists the day directories of intervals/, oldest first.
func (s *Store) days() ([]string, error) {
	ents, err := os.ReadDir(s.path("intervals"))
	if err != nil {
		return nil, fmt.Errorf("list intervals: %w", err)
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() && len(e.Name()) == 8 && strings.Trim(e.Name(), "0123456789") == "" {
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	return out, nil
}

// dayIntervals lists the intervals with a manifest in one day directory.
func (s *Store) dayIntervals(day string) ([]IntervalStatus, error) {
	ents, err := os.ReadDir(s.path("intervals/" + day))
	if err != nil {
		return nil, fmt.Errorf("list intervals: %w", err)
	}
	prepared := map[int64]bool{}
	anchored := map[int64]bool{}
	for _, e := range ents {
		if v, ok := parseIntervalName(e.Name(), manifestSuffix); ok {
			prepared[v] = true
		} else if v, ok := parseIntervalName(e.Name(), receiptSuffix); ok {
			anchored[v] = true
		}
	}
	out := make([]IntervalStatus, 0, len(prepared))
	for v := range prepared {
		out = append(out, IntervalStatus{StartMS: v, Anchored: anchored[v]})
	}
	slices.SortFunc(out, func(a, b IntervalStatus) int { return cmpInt64(a.StartMS, b.StartMS) })
	return out, nil
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Tail returns the newest anchored interval (ok false if none) and the
// prepared but unanchored intervals after it, oldest first. It reads only
// the newest day directories.
func (s *Store) Tail() (newest IntervalStatus, ok bool, pending []IntervalStatus, err error) {
	days, err := s.days()
	if err != nil {
		return IntervalStatus{}, false, nil, err
	}
	for i := len(days) - 1; i >= 0; i-- {
		st, err := s.dayIntervals(days[i])
		if err != nil {
			return IntervalStatus{}, false, nil, err
		}
		for j := len(st) - 1; j >= 0; j-- {
			if st[j].Anchored {
				slices.Reverse(pending)
				return st[j], true, pending, nil
			}
			pending = append(pending, st[j])
		}
	}
	slices.Reverse(pending)
	return IntervalStatus{}, false, pending, nil
}

// Manifest returns the manifest of the interval starting at startMS,
// checked against its checksum and for consistency. The caller must not
// modify it.
func (s *Store) Manifest(startMS int64) (*Manifest, error) {
	sm, err := s.manifest(startMS)
	if err != nil {
		return nil, err
	}
	return sm.m, nil
}

func (s *Store) manifest(startMS int64) (*storedManifest, error) {
	s.mu.Lock()
	sm, ok := s.manifests.get(startMS)
	s.mu.Unlock()
	if ok {
		return sm, nil
	}
	data, err := os.ReadFile(s.path(manifestFile(startMS)))
	if err != nil {
		return nil, fmt.Errorf("manifest %d: %w", startMS, err)
	}
	var m Manifest
	if err := unsealJSON(data, "manifest", &m); err != nil {
		return nil, fmt.Errorf("manifest %d: %w", startMS, err)
	}
	if m.IntervalStartMS != startMS {
		return nil, fmt.Errorf("manifest %d: %w", startMS, corrupt("file holds interval %d", m.IntervalStartMS))
	}
	b, err := m.Validate()
	if err != nil {
		return nil, fmt.Errorf("manifest %d: %w", startMS, corrupt("%v", err))
	}
	sm = &storedManifest{m: &m, batch: b}
	s.mu.Lock()
	s.manifests.put(startMS, sm)
	s.mu.Unlock()
	return sm, nil
}

// Receipt returns the anchor receipt of the interval starting at startMS,
// or an error wrapping ErrNotAnchored if there is none yet.
func (s *Store) Receipt(startMS int64) (*AnchorReceipt, error) {
	s.mu.Lock()
	r, ok := s.receipts.get(startMS)
	s.mu.Unlock()
	if ok {
		return r, nil
	}
	data, err := os.ReadFile(s.path(receiptFile(startMS)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("interval %d: %w", startMS, ErrNotAnchored)
	}
	if err != nil {
		return nil, fmt.Errorf("receipt %d: %w", startMS, err)
	}
	r = new(AnchorReceipt)
	if err := unsealJSON(data, "anchored", r); err != nil {
		return nil, fmt.Errorf("receipt %d: %w", startMS, err)
	}
	sm, err := s.manifest(startMS)
	if err != nil {
		return nil, err
	}
	if err := r.Validate(sm.m); err != nil {
		return nil, fmt.Errorf("receipt %d: %w", startMS, corrupt("%v", err))
	}
	s.mu.Lock()
	s.receipts.put(startMS, r)
	s.mu.Unlock()
	return r, nil
}

// WindowWires returns the wire messages of window i of m, in leaf order,
// after checking the file's size and SHA-256 against the manifest.
func (s *Store) WindowWires(m *Manifest, i int) ([][]byte, error) {
	if i < 0 || i >= len(m.Windows) {
		return nil, fmt.Errorf("interval %d has no window %d", m.IntervalStartMS, i)
	}
	mw := &m.Windows[i]
	data, err := os.ReadFile(s.path(mw.File))
	if err != nil {
		return nil, fmt.Errorf("window %s: %w", mw.ID, err)
	}
	if int64(len(data)) != mw.Bytes {
		return nil, fmt.Errorf("window %s: %w", mw.ID, corrupt("file has %d bytes, manifest says %d", len(data), mw.Bytes))
	}
	if sum := sha256.Sum256(data); !bytes.Equal(sum[:], mw.SHA256) {
		return nil, fmt.Errorf("window %s: %w", mw.ID, corrupt("file SHA-256 %x, manifest says %x", sum[:], []byte(mw.SHA256)))
	}
	wires, err := decodeWires(data)
	if err != nil {
		return nil, fmt.Errorf("window %s: %w", mw.ID, corrupt("%v", err))
	}
	if uint64(len(wires)) != mw.Leaves {
		return nil, fmt.Errorf("window %s: %w", mw.ID, corrupt("%d wires, manifest says %d leaves", len(wires), mw.Leaves))
	}
	return wires, nil
}

// LoadWindow rebuilds window i of m from its wire file and checks that it
// yields the manifest's commitment. Its MinOffset and MaxOffset are the
// manifest's.
func (s *Store) LoadWindow(m *Manifest, i int) (*Window, error) {
	k := windowKey{m.IntervalStartMS, i}
	s.mu.Lock()
	w, ok := s.windows.get(k)
	s.mu.Unlock()
	if ok {
		return w, nil
	}
	wires, err := s.WindowWires(m, i)
	if err != nil {
		return nil, err
	}
	mw := &m.Windows[i]
	c, err := DecodeCommitment(mw.Commitment)
	if err != nil {
		return nil, fmt.Errorf("window %s: %w", mw.ID, corrupt("%v", err))
	}
	w, err = NewWindow(c.Shard, c.StartMS, c.EndMS, c.Kind, c.Seq, wires)
	if err != nil {
		return nil, fmt.Errorf("window %s: %w", mw.ID, corrupt("%v", err))
	}
	wc := w.Commitment()
	if got, _ := wc.MarshalBinary(); !bytes.Equal(got, mw.Commitment) {
		return nil, fmt.Errorf("window %s: %w", mw.ID, corrupt("wires give commitment %x, manifest has %x", got, []byte(mw.Commitment)))
	}
	w.MinOffset, w.MaxOffset = mw.MinOffset, mw.MaxOffset
	s.mu.Lock()
	s.windows.put(k, w)
	s.mu.Unlock()
	return w, nil
}

// Prepare durably writes an interval: the wire file of each window, then
// the manifest. ws are the windows of m.Windows, in the same order; Prepare
// fills in each entry's File, SHA256 and Bytes. A manifest is written once:
// Prepare fails if the interval already has one.
func (s *Store) Prepare(m *Manifest, ws []*Window) error {
	if s.ro {
		return ErrReadOnly
	}
	if len(ws) != len(m.Windows) {
		return fmt.Errorf("prepare interval %d: %d windows for %d manifest entries", m.IntervalStartMS, len(ws), len(m.Windows))
	}
	if _, err := os.Stat(s.path(manifestFile(m.IntervalStartMS))); err == nil {
		return fmt.Errorf("prepare interval %d: manifest exists", m.IntervalStartMS)
	}
	// Wire files of an earlier attempt at this interval, if any, belong to
	// no manifest: start over.
	wdir := s.path(windowDir(m.IntervalStartMS))
	if err := os.RemoveAll(wdir); err != nil {
		return fmt.Errorf("prepare interval %d: %w", m.IntervalStartMS, err)
	}
	if err := os.MkdirAll(wdir, 0o755); err != nil {
		return fmt.Errorf("prepare interval %d: %w", m.IntervalStartMS, err)
	}
	for i, w := range ws {
		mw := &m.Windows[i]
		if mw.ID != w.ID() {
			return fmt.Errorf("prepare interval %d: entry %d is %s, window is %s", m.IntervalStartMS, i, mw.ID, w.ID())
		}
		data := encodeWires(w)
		sum := sha256.Sum256(data)
		mw.File, mw.SHA256, mw.Bytes = windowFile(m.IntervalStartMS, mw.ID), sum[:], int64(len(data))
		if err := writeFileAtomic(s.path(mw.File), data, false); err != nil {
			return fmt.Errorf("prepare interval %d: window %s: %w", m.IntervalStartMS, mw.ID, err)
		}
	}
	if err := syncDirs(wdir, filepath.Dir(wdir), s.path("windows")); err != nil {
		return fmt.Errorf("prepare interval %d: %w", m.IntervalStartMS, err)
	}
	b, err := m.Validate()
	if err != nil {
		return fmt.Errorf("prepare interval %d: %w", m.IntervalStartMS, err)
	}
	data, err := sealJSON("manifest", m)
	if err != nil {
		return err
	}
	mf := s.path(manifestFile(m.IntervalStartMS))
	if err := os.MkdirAll(filepath.Dir(mf), 0o755); err != nil {
		return err
	}
	if err := writeFileAtomic(mf, data, true); err != nil {
		return fmt.Errorf("prepare interval %d: manifest: %w", m.IntervalStartMS, err)
	}
	if err := syncDirs(s.path("intervals")); err != nil {
		return err
	}
	s.mu.Lock()
	s.manifests.put(m.IntervalStartMS, &storedManifest{m: m, batch: b})
	s.mu.Unlock()
	return nil
}

// MarkAnchored writes the interval's anchor receipt, once. Marking an
// interval again with the same transaction is a no-op; with another one it
// is an error.
func (s *Store) MarkAnchored(r AnchorReceipt) error {
	if s.ro {
		return ErrReadOnly
	}
	sm, err := s.manifest(r.IntervalStartMS)
	if err != nil {
		return fmt.Errorf("mark anchored: %w", err)
	}
	if err := r.Validate(sm.m); err != nil {
		return fmt.Errorf("mark anchored: %w", err)
	}
	if old, err := s.Receipt(r.IntervalStartMS); err == nil {
		if old.TxHash == r.TxHash && old.Contract == r.Contract && old.ChainID == r.ChainID {
			return nil
		}
		return fmt.Errorf("mark anchored: interval %d already anchored by %s, not %s", r.IntervalStartMS, old.TxHash, r.TxHash)
	} else if !errors.Is(err, ErrNotAnchored) {
		return fmt.Errorf("mark anchored: %w", err)
	}
	data, err := sealJSON("anchored", &r)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(s.path(receiptFile(r.IntervalStartMS)), data, true); err != nil {
		return fmt.Errorf("mark anchored %d: %w", r.IntervalStartMS, err)
	}
	s.mu.Lock()
	s.receipts.put(r.IntervalStartMS, &r)
	s.mu.Unlock()
	return nil
}

// Locate returns where the store holds the reading (deviceID, seq): one
// entry normally, none if it is not anchored (or not indexed yet).
func (s *Store) Locate(deviceID string, seq uint64) ([]IndexEntry, error) {
	if err := reading.CheckID("device_id", deviceID); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(s.path(indexFile(deviceID)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("index of %s: %w", deviceID, err)
	}
	var out []IndexEntry
	for p := 0; p+IndexRecordSize <= len(data); p += IndexRecordSize {
		e, ok := decodeIndexRecord(data[p : p+IndexRecordSize])
		if !ok {
			s.log.Warn("index record fails its CRC; skipped", "device_id", deviceID, "offset", p)
			continue
		}
		if e.Seq == seq && !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out, nil
}

// Anchored reports whether the device index lists the reading (deviceID,
// seq). It caches each device's seqs and reads only what was appended to
// its index since, so repeated calls are cheap.
func (s *Store) Anchored(deviceID string, seq uint64) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ds, ok := s.seqs.get(deviceID)
	if !ok {
		ds = &deviceSeqs{}
		s.seqs.put(deviceID, ds)
	}
	f, err := os.Open(s.path(indexFile(deviceID)))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("index of %s: %w", deviceID, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return false, err
	}
	if end := st.Size() - st.Size()%IndexRecordSize; end > ds.size {
		buf := make([]byte, end-ds.size)
		if _, err := f.ReadAt(buf, ds.size); err != nil {
			return false, fmt.Errorf("index of %s: %w", deviceID, err)
		}
		for p := 0; p < len(buf); p += IndexRecordSize {
			if e, ok := decodeIndexRecord(buf[p : p+IndexRecordSize]); ok {
				ds.add(e.Seq)
			}
		}
		ds.size = end
	}
	return ds.has(seq), nil
}

// ProofFor returns the proof bundle of the anchored reading (deviceID,
// seq): the window is rebuilt from its wire file, the batch from the
// manifest, the anchor reference comes from the receipt and the device key
// from StoreOptions.Keys (the key that verifies the reading's signature).
// It wraps ErrNoProof if the reading is not anchored (or unknown).
func (s *Store) ProofFor(ctx context.Context, deviceID string, seq uint64) (*Bundle, error) {
	locs, err := s.Locate(deviceID, seq)
	if err != nil {
		return nil, err
	}
	if len(locs) == 0 {
		return nil, fmt.Errorf("%s/%d: %w", deviceID, seq, ErrNoProof)
	}
	loc := locs[0]
	rec, err := s.Receipt(loc.IntervalStartMS)
	if err != nil {
		return nil, err
	}
	sm, err := s.manifest(loc.IntervalStartMS)
	if err != nil {
		return nil, err
	}
	w, err := s.LoadWindow(sm.m, int(loc.Window))
	if err != nil {
		return nil, err
	}
	i, ok := w.Find(reading.Key{DeviceID: deviceID, Seq: seq})
	if !ok || uint64(i) != loc.Leaf {
		return nil, fmt.Errorf("%s/%d: %w", deviceID, seq, corrupt("index says leaf %d of window %s, window has it at %d (found %t)", loc.Leaf, w.ID(), i, ok))
	}
	r, err := reading.Decode(w.Wire(i))
	if err != nil {
		return nil, err
	}
	pub, err := s.signingKey(ctx, &r)
	if err != nil {
		return nil, err
	}
	b, err := NewBundle(w, i, sm.batch, pub)
	if err != nil {
		return nil, err
	}
	b.Anchor = rec.Ref()
	return b, nil
}

// signingKey returns the device key that verifies r's signature.
func (s *Store) signingKey(ctx context.Context, r *reading.Reading) (ed25519.PublicKey, error) {
	if s.keys == nil {
		return nil, errors.New("proof store: no device key source configured")
	}
	keys, err := s.keys.DeviceKeys(ctx, r.DeviceID)
	if err != nil {
		return nil, fmt.Errorf("keys of device %s: %w", r.DeviceID, err)
	}
	for _, k := range keys {
		if len(k) == ed25519.PublicKeySize && r.Verify(k) == nil {
			return k, nil
		}
	}
	return nil, fmt.Errorf("none of the %d known keys of device %s verifies reading %s", len(keys), r.DeviceID, r.Key())
}

// indexedMark is the file holding the start of the last anchored interval
// whose readings are all in the device index.
const indexedMark = "index/INDEXED"

func (s *Store) readIndexedMark() (int64, error) {
	b, err := os.ReadFile(s.path(indexedMark))
	if errors.Is(err, fs.ErrNotExist) {
		return -1, nil
	}
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, corrupt("%s: %v", indexedMark, err)
	}
	return v, nil
}

// catchUpIndex indexes the anchored intervals after the indexed mark, in
// order, stopping at the first one not anchored.
func (s *Store) catchUpIndex() error {
	mark, err := s.readIndexedMark()
	if err != nil {
		return err
	}
	days, err := s.days()
	if err != nil {
		return err
	}
	for _, d := range days {
		if mark >= 0 && d < dayName(mark) {
			continue
		}
		st, err := s.dayIntervals(d)
		if err != nil {
			return err
		}
		for _, iv := range st {
			if iv.StartMS <= mark {
				continue
			}
			if !iv.Anchored {
				return nil
			}
			m, err := s.Manifest(iv.StartMS)
			if err != nil {
				return err
			}
			s.log.Info("indexing interval", "interval_start", iv.StartMS, "windows", len(m.Windows))
			if err := s.IndexInterval(m, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// IndexInterval appends the readings of m's windows to the device index
// and advances the indexed mark; ws are the windows (in manifest order), or
// nil to load them. Call it for anchored intervals in order. Indexing an
// interval twice (after a crash) appends identical records, which lookups
// ignore.
func (s *Store) IndexInterval(m *Manifest, ws []*Window) error {
	if s.ro {
		return ErrReadOnly
	}
	recs := map[string][]byte{}
	for i := range m.Windows {
		var w *Window
		if ws != nil {
			w = ws[i]
		} else {
			var err error
			if w, err = s.LoadWindow(m, i); err != nil {
				return err
			}
		}
		for leaf := range w.Len() {
			k := w.keys[leaf]
			recs[k.DeviceID] = appendIndexRecord(recs[k.DeviceID], IndexEntry{
				Seq: k.Seq, IntervalStartMS: m.IntervalStartMS, Window: uint32(i), Leaf: uint64(leaf),
			})
		}
	}
	// One file (and one fsync) per device: do them in parallel.
	var g errgroup.Group
	g.SetLimit(16)
	for id, b := range recs {
		g.Go(func() error {
			if err := appendIndex(s.path(indexFile(id)), b); err != nil {
				return fmt.Errorf("index %s: %w", id, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if err := syncDirs(s.path("index")); err != nil {
		return err
	}
	return writeFileAtomic(s.path(indexedMark), []byte(strconv.FormatInt(m.IntervalStartMS, 10)+"\n"), false)
}

// appendIndex appends records to an index file, first cutting off a torn
// record a crash may have left at its end, and syncs it.
func appendIndex(path string, recs []byte) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	end := st.Size() - st.Size()%IndexRecordSize
	if end != st.Size() {
		if err := f.Truncate(end); err != nil {
			return err
		}
	}
	if _, err := f.WriteAt(recs, end); err != nil {
		return err
	}
	return f.Sync()
}

// repair removes what an interrupted write left: temporary files in the
// newest interval directories and the index, and wire files of intervals
// newer than the newest manifest (a Prepare that never wrote its manifest).
func (s *Store) repair() error {
	days, err := s.days()
	if err != nil {
		return err
	}
	newest := int64(-1)
	for i := len(days) - 1; i >= 0 && newest < 0; i-- {
		st, err := s.dayIntervals(days[i])
		if err != nil {
			return err
		}
		if len(st) > 0 {
			newest = st[len(st)-1].StartMS
		}
		if err := removeTemps(s.path("intervals/" + days[i])); err != nil {
			return err
		}
	}
	if err := removeTemps(s.path("index")); err != nil {
		return err
	}
	if err := removeTemps(s.dir); err != nil {
		return err
	}
	wdays, err := os.ReadDir(s.path("windows"))
	if err != nil {
		return err
	}
	for _, d := range wdays {
		if !d.IsDir() || (newest >= 0 && d.Name() < dayName(newest)) {
			continue
		}
		ents, err := os.ReadDir(s.path("windows/" + d.Name()))
		if err != nil {
			return err
		}
		for _, e := range ents {
			v, err := strconv.ParseInt(e.Name(), 10, 64)
			if err != nil || len(e.Name()) != 16 || v <= newest {
				continue
			}
			s.log.Warn("removing wire files of an interval that was never prepared", "interval_start", v)
			if err := os.RemoveAll(s.path(windowDir(v))); err != nil {
				return err
			}
		}
	}
	return nil
}

func removeTemps(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	for _, e := range ents {
		if atomicfile.IsTemp(e.Name()) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeFileAtomic replaces path's content durably (file and directory
// fsynced); with once it fails with fs.ErrExist if path exists (writers
// hold the store lock, so nothing creates path between check and rename).
func writeFileAtomic(path string, data []byte, once bool) error {
	return atomicfile.Write(path, data, atomicfile.Options{Sync: true, NoReplace: once})
}

func syncDirs(dirs ...string) error {
	for _, dir := range dirs {
		if err := atomicfile.SyncDir(dir); err != nil {
			return err
		}
	}
	return nil
}

// StoreStats summarises a store.
type StoreStats struct {
	Intervals, Anchored, Windows int
	Readings                     uint64
}

// Check reads and verifies everything in the store: every manifest and
// receipt against its checksum, every wire file against its SHA-256 and its
// window's commitment, and that only the newest intervals are unanchored
// (the batcher anchors them in order). It returns the first problem found.
func (s *Store) Check() (StoreStats, error) {
	var st StoreStats
	ivs, err := s.Intervals()
	if err != nil {
		return st, err
	}
	lastAnchored := -1
	for i, iv := range ivs {
		if iv.Anchored {
			lastAnchored = i
		}
	}
	for i, iv := range ivs {
		if !iv.Anchored && i < lastAnchored {
			return st, corrupt("interval %d is prepared but not anchored, and later intervals are", iv.StartMS)
		}
		m, err := s.Manifest(iv.StartMS)
		if err != nil {
			return st, err
		}
		st.Intervals++
		if iv.Anchored {
			if _, err := s.Receipt(iv.StartMS); err != nil {
				return st, err
			}
			st.Anchored++
		}
		for i := range m.Windows {
			if _, err := s.LoadWindow(m, i); err != nil {
				return st, err
			}
			st.Windows++
			st.Readings += m.Windows[i].Leaves
		}
	}
	return st, nil
}
