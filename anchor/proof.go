package anchor

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sunproof/sunproof/ingest/reading"
)

// Bundle format constants. See docs/formats/proof.md.
const (
	BundleFormat  = "sunproof.proof"
	BundleVersion = 1
	// MaxPathLen bounds audit paths: a tree of 2^63 leaves needs 63.
	MaxPathLen = 63
	// maxJSONInt is the largest integer every JSON implementation reads
	// exactly (2^53 − 1); numeric bundle fields must not exceed it.
	maxJSONInt = 1<<53 - 1
)

// Hex is a byte string that JSON-encodes as lowercase hex without 0x.
type Hex []byte

// MarshalText implements encoding.TextMarshaler.
func (h Hex) MarshalText() ([]byte, error) {
	out := make([]byte, hex.EncodedLen(len(h)))
	hex.Encode(out, h)
	return out, nil
}

// UnmarshalText implements encoding.TextUnmarshaler. It accepts lowercase hex only.
func (h *Hex) UnmarshalText(b []byte) error {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return fmt.Errorf("hex: byte %q is not lowercase hex", c)
		}
	}
	out := make([]byte, hex.DecodedLen(len(b)))
	if _, err := hex.Decode(out, b); err != nil {
		return fmt.Errorf("hex: %w", err)
	}
	*h = out
	return nil
}

// Bundle is a self-contained proof that one reading is committed under a
// batch root anchored on chain. It is JSON-serialisable; the format is
// specified in docs/formats/proof.md.
type Bundle struct {
	Format  string          `json:"format"`  // BundleFormat
	Version int             `json:"version"` // BundleVersion
	Scheme  uint8           `json:"scheme"`  // SchemeRFC9162SHA256
	Reading ReadingEvidence `json:"reading"`
	Device  DeviceRef       `json:"device"`
	Window  WindowEvidence  `json:"window"`
	Batch   BatchEvidence   `json:"batch"`
	Anchor  AnchorRef       `json:"anchor"`
}

// ReadingEvidence carries the reading exactly as signed and hashed.
type ReadingEvidence struct {
	Wire     Hex          `json:"wire"`      // canonical bytes ‖ Ed25519 signature
	LeafHash Hex          `json:"leaf_hash"` // SHA-256(0x00 ‖ wire)
	View     *ReadingView `json:"view,omitempty"`
}

// ReadingView is the decoded reading, for humans: reading.View, the JSON
// view of docs/formats/reading.md. Verifiers check it equals the decoding of
// Wire; it is never used in place of Wire.
type ReadingView = reading.View

// NewReadingView returns r's view.
func NewReadingView(r *reading.Reading) ReadingView { return r.View() }

const timeFormat = "2006-01-02T15:04:05.000Z"

// DeviceRef names the device and the public key the bundle was made with.
// On chain the device is found under keccak256(device id); the chain layer
// computes that.
type DeviceRef struct {
	DeviceID  string `json:"device_id"`
	PublicKey Hex    `json:"public_key"` // 32-byte Ed25519 public key
}

// WindowEvidence is the window commitment, the reading's device range with
// its audit path in the device tree, and the reading's audit path in the
// window tree.
type WindowEvidence struct {
	Commitment Hex                 `json:"commitment"` // canonical encoding
	View       *CommitmentView     `json:"view,omitempty"`
	Device     DeviceRangeEvidence `json:"device_range"`
	LeafIndex  uint64              `json:"leaf_index"`
	TreeSize   uint64              `json:"tree_size"` // must equal the commitment's leaf count
	Path       []Hex               `json:"path"`
}

// DeviceRangeEvidence is the reading's device range and its audit path in
// the window's device tree.
type DeviceRangeEvidence struct {
	Entry    Hex              `json:"entry"` // canonical encoding
	View     *DeviceRangeView `json:"view,omitempty"`
	Index    uint64           `json:"index"`
	TreeSize uint64           `json:"tree_size"` // must equal the commitment's device count
	Path     []Hex            `json:"path"`
}

// CommitmentView is the decoded commitment, for humans; verifiers check it
// equals the decoding of Commitment.
type CommitmentView struct {
	WindowID         string `json:"window_id"`
	OriginalWindowID string `json:"original_window_id,omitempty"` // late windows only
	Scheme           uint8  `json:"scheme"`
	Shard            string `json:"shard"`
	StartMS          int64  `json:"start_ms"`
	EndMS            int64  `json:"end_ms"`
	Start            string `json:"start"` // RFC 3339, UTC, milliseconds
	End              string `json:"end"`
	Kind             string `json:"kind"` // "on_time" or "late"
	Seq              uint64 `json:"seq"`
	LeafCount        uint64 `json:"leaf_count"`
	Root             string `json:"root"` // hex
	DeviceCount      uint64 `json:"device_count"`
	DevicesRoot      string `json:"devices_root"` // hex
}

// View returns c's view.
func (c *Commitment) View() CommitmentView {
	v := CommitmentView{
		WindowID: c.ID(), Scheme: c.Scheme, Shard: c.Shard,
		StartMS: c.StartMS, EndMS: c.EndMS,
		Start: time.UnixMilli(c.StartMS).UTC().Format(timeFormat),
		End:   time.UnixMilli(c.EndMS).UTC().Format(timeFormat),
		Kind:  c.Kind.String(), Seq: c.Seq, LeafCount: c.Size,
		Root:        hex.EncodeToString(c.Root[:]),
		DeviceCount: c.DeviceCount,
		DevicesRoot: hex.EncodeToString(c.DevicesRoot[:]),
	}
	if c.Kind == KindLate {
		v.OriginalWindowID = c.OriginalID()
	}
	return v
}

// DeviceRangeView is the decoded device range, for humans; verifiers check
// it equals the decoding of Entry.
type DeviceRangeView struct {
	DeviceID  string `json:"device_id"`
	FirstLeaf uint64 `json:"first_leaf"`
	Count     uint64 `json:"count"`
	FirstSeq  uint64 `json:"first_seq"`
	LastSeq   uint64 `json:"last_seq"`
	Complete  bool   `json:"complete"` // count == last_seq − first_seq + 1
}

// View returns d's view.
func (d *DeviceRange) View() DeviceRangeView {
	return DeviceRangeView{DeviceID: d.DeviceID, FirstLeaf: d.FirstLeaf, Count: d.Count,
		FirstSeq: d.FirstSeq, LastSeq: d.LastSeq, Complete: d.Complete()}
}

// BatchEvidence is the window commitment's audit path in the batch tree.
type BatchEvidence struct {
	Root      Hex    `json:"root"`
	LeafIndex uint64 `json:"leaf_index"`
	TreeSize  uint64 `json:"tree_size"` // must equal the on-chain batch size
	Path      []Hex  `json:"path"`
}

// AnchorRef says where the batch root is anchored. NewBundle fills the
// interval; the chain layer fills the rest once the transaction is mined.
type AnchorRef struct {
	ChainID         uint64 `json:"chain_id"`
	Contract        string `json:"contract"` // 0x-prefixed EVM address
	IntervalStartMS int64  `json:"interval_start_ms"`
	IntervalEndMS   int64  `json:"interval_end_ms"`
	TxHash          string `json:"tx_hash"`
	BlockNumber     uint64 `json:"block_number"`
}

// NewBundle builds the proof bundle for leaf i of window w, which must be in
// batch b; pub is the device's public key. The anchor reference carries the
// batch interval; the caller fills in chain, contract, tx and block.
func NewBundle(w *Window, i int, b *Batch, pub ed25519.PublicKey) (*Bundle, error) {
	if i < 0 || i >= w.Len() {
		return nil, fmt.Errorf("bundle: leaf %d out of range for window %s of %d", i, w.ID(), w.Len())
	}
	bi, ok := b.Index(w.ID())
	if !ok {
		return nil, fmt.Errorf("bundle: window %s is not in batch [%d, %d)", w.ID(), b.IntervalStartMS, b.IntervalEndMS)
	}
	c := b.Commitment(bi)
	if c.Root != w.Root() {
		return nil, fmt.Errorf("bundle: batch holds a different commitment for window %s", w.ID())
	}
	wire := w.Wire(i)
	r, err := reading.Decode(wire)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	wpath, err := w.tree.InclusionProof(uint64(i))
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	bpath, err := b.tree.InclusionProof(uint64(bi))
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	dr, denc, di, dpath, err := w.DeviceProof(r.DeviceID)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	lh := w.tree.LeafHash(uint64(i))
	rv, cv, dv := NewReadingView(&r), c.View(), dr.View()
	return &Bundle{
		Format: BundleFormat, Version: BundleVersion, Scheme: SchemeRFC9162SHA256,
		Reading: ReadingEvidence{Wire: slices.Clone(wire), LeafHash: lh[:], View: &rv},
		Device:  DeviceRef{DeviceID: r.DeviceID, PublicKey: Hex(slices.Clone(pub))},
		Window: WindowEvidence{
			Commitment: slices.Clone(b.Encoded(bi)), View: &cv,
			Device: DeviceRangeEvidence{
				Entry: slices.Clone(denc), View: &dv, Index: di, TreeSize: w.devTree.Size(), Path: hexes(dpath),
			},
			LeafIndex: uint64(i), TreeSize: w.tree.Size(), Path: hexes(wpath),
		},
		Batch: BatchEvidence{
			Root: slices.Clone(b.tree.root[:]), LeafIndex: uint64(bi), TreeSize: b.tree.Size(), Path: hexes(bpath),
		},
		Anchor: AnchorRef{IntervalStartMS: b.IntervalStartMS, IntervalEndMS: b.IntervalEndMS},
	}, nil
}

func hexes(p [][]byte) []Hex {
	out := make([]Hex, len(p))
	for i, h := range p {
		out[i] = h
	}
	return out
}

func paths(p []Hex) [][]byte {
	out := make([][]byte, len(p))
	for i, h := range p {
		out[i] = h
	}
	return out
}

// Step names a verification step. Steps run in the order listed; a
// verifier reports the first that fails.
type Step string

// Verification steps, in order. docs/formats/proof.md defines each.
const (
	StepDecode     Step = "decode"
	StepDeviceKey  Step = "device_key"
	StepSignature  Step = "signature"
	StepLeaf       Step = "leaf"
	StepWindowRoot Step = "window_root"
	StepBatchRoot  Step = "batch_root"
	StepAnchor     Step = "anchor"
)

// Steps lists every step in verification order.
var Steps = []Step{StepDecode, StepDeviceKey, StepSignature, StepLeaf, StepWindowRoot, StepBatchRoot, StepAnchor}

// StepError is a verification failure at Step.
type StepError struct {
	Step Step
	Err  error
}

func (e *StepError) Error() string { return "proof " + string(e.Step) + ": " + e.Err.Error() }

func (e *StepError) Unwrap() error { return e.Err }

// StepOf returns the step of the first *StepError in err's chain, or "".
func StepOf(err error) Step {
	var se *StepError
	if errors.As(err, &se) {
		return se.Step
	}
	return ""
}

func fail(step Step, format string, args ...any) *StepError {
	return &StepError{Step: step, Err: fmt.Errorf(format, args...)}
}

// ErrNotFound is what a ChainReader wraps when the contract has no such
// anchor or device. Other ChainReader errors are treated as transport
// failures: the step fails, but errors.Is(err, ErrNotFound) tells the two
// apart.
var ErrNotFound = errors.New("anchor: not found on chain")

// DeviceKeyRecord is one public key registered for a device on chain, with
// the interval in which it is valid: [RegisteredAtMS, RevokedAtMS), and
// RevokedAtMS 0 if never revoked. A device that rotated keys has several.
type DeviceKeyRecord struct {
	DeviceID       string
	PublicKey      ed25519.PublicKey
	RegisteredAtMS int64
	RevokedAtMS    int64
	// RevokedBlock is the block of the revocation (0 if never revoked);
	// Rotated is true when the key ended because a successor replaced it.
	// A key revoked outright (suspected leak) only vouches for readings
	// anchored before RevokedBlock: otherwise a thief could back-date
	// readings into a later anchor. A rotated key keeps vouching for the
	// readings it signed before the rotation, wherever they are anchored.
	RevokedBlock uint64
	Rotated      bool
}

// ValidAt reports whether the key was valid at event time tsMS.
func (k *DeviceKeyRecord) ValidAt(tsMS int64) bool {
	return k.RegisteredAtMS <= tsMS && (k.RevokedAtMS == 0 || tsMS < k.RevokedAtMS)
}

// ChainReader is what Verify needs from the chain. The chain layer
// implements it against the anchoring contract; anchorfake implements it in
// memory. Times are Unix milliseconds. An implementation that also has a
// method ChainID(ctx) (uint64, error) gets the bundle's chain id checked
// against it (step anchor).
type ChainReader interface {
	// Anchor returns the record anchored under intervalStartMS.
	Anchor(ctx context.Context, contract string, intervalStartMS int64) (AnchorRecord, error)
	// DeviceKeys returns every key ever registered for deviceID, revoked
	// ones included.
	DeviceKeys(ctx context.Context, contract, deviceID string) ([]DeviceKeyRecord, error)
}

// chainIdentifier is implemented by ChainReaders that know their chain id;
// Verify then checks it against the bundle's.
type chainIdentifier interface {
	ChainID(ctx context.Context) (uint64, error)
}

// Result is what a successful verification established.
type Result struct {
	DeviceID   string
	Seq        uint64
	TimeMS     int64
	WindowID   string
	OriginalID string // the on-time window of the reading's span (== WindowID unless late)
	Late       bool
	LeafIndex  uint64
	WindowSize uint64
	WindowRoot Hash
	// Device is the reading's device range in the window; Device.Complete()
	// reports whether the window has no seq gap for the device.
	Device     DeviceRange
	BatchIndex uint64
	BatchSize  uint64 // the bundle's claim until Anchored: offline it is not established
	BatchRoot  Hash
	// Anchored is true only after Verify checked the root on chain;
	// VerifyOffline proves inclusion under BatchRoot, not that BatchRoot
	// is anchored.
	Anchored bool
	Anchor   AnchorRef
	Hashes   int // SHA-256 computations performed, for benchmarks
}

// decoded is a bundle after StepDecode.
type decoded struct {
	r      reading.Reading
	c      Commitment
	dev    DeviceRange
	leaf   Hash
	root   Hash // batch root
	wpath  [][]byte
	dpath  [][]byte
	bpath  [][]byte
	bundle *Bundle
}

// VerifyOffline checks b against the device key pub, which the caller
// trusts: decode, device_key (the bundle names pub), signature, leaf,
// window_root, batch_root. It returns the first failure as a *StepError.
// It does not contact the chain; the batch root and size are the bundle's
// own until Verify compares them with the anchor.
func VerifyOffline(b *Bundle, pub ed25519.PublicKey) (*Result, error) {
	d, err := decodeBundle(b)
	if err != nil {
		return nil, err
	}
	if err := d.checkDeviceRef(); err != nil {
		return nil, err
	}
	if len(pub) != ed25519.PublicKeySize {
		return nil, fail(StepDeviceKey, "trusted key has %d bytes, want %d", len(pub), ed25519.PublicKeySize)
	}
	if !bytes.Equal(b.Device.PublicKey, pub) {
		return nil, fail(StepDeviceKey, "bundle names key %x for %s, trusted key is %x", []byte(b.Device.PublicKey), d.r.DeviceID, []byte(pub))
	}
	return d.verifyTree(pub)
}

// Verify checks b completely: the steps of VerifyOffline with the device
// key taken from the chain (a key registered for the device and valid at the
// reading's timestamp), then anchor: the chain's record for the bundle's
// interval has the bundle's batch root, batch size, interval end and scheme.
func Verify(ctx context.Context, b *Bundle, chain ChainReader) (*Result, error) {
	d, err := decodeBundle(b)
	if err != nil {
		return nil, err
	}
	if err := d.checkDeviceRef(); err != nil {
		return nil, err
	}
	if chain == nil {
		return nil, fail(StepDeviceKey, "no chain reader")
	}
	if b.Anchor.Contract == "" {
		return nil, fail(StepDeviceKey, "bundle names no contract: not anchored yet")
	}
	recs, err := chain.DeviceKeys(ctx, b.Anchor.Contract, d.r.DeviceID)
	if err != nil {
		return nil, &StepError{Step: StepDeviceKey, Err: fmt.Errorf("device %s: %w", d.r.DeviceID, err)}
	}
	var pub ed25519.PublicKey
	var key *DeviceKeyRecord
	for i := range recs {
		k := &recs[i]
		if k.DeviceID == d.r.DeviceID && len(k.PublicKey) == ed25519.PublicKeySize &&
			bytes.Equal(k.PublicKey, b.Device.PublicKey) && k.ValidAt(d.r.TimeMS) {
			pub, key = k.PublicKey, k
			break
		}
	}
	if pub == nil {
		return nil, fail(StepDeviceKey, "no key %x registered on chain for %s valid at %s (%d keys on record)",
			[]byte(b.Device.PublicKey), d.r.DeviceID, d.r.Time().Format(timeFormat), len(recs))
	}
	res, err := d.verifyTree(pub)
	if err != nil {
		return nil, err
	}
	rec, err := checkAnchor(ctx, b, chain)
	if err != nil {
		return nil, err
	}
	if key.RevokedBlock != 0 && !key.Rotated && rec.BlockNumber >= key.RevokedBlock {
		return nil, fail(StepDeviceKey, "key %x of %s was revoked at block %d, before this reading was anchored (block %d)",
			[]byte(key.PublicKey), d.r.DeviceID, key.RevokedBlock, rec.BlockNumber)
	}
	res.Anchored = true
	return res, nil
}

func checkAnchor(ctx context.Context, b *Bundle, chain ChainReader) (AnchorRecord, error) {
	if ci, ok := chain.(chainIdentifier); ok {
		id, err := ci.ChainID(ctx)
		if err != nil {
			return AnchorRecord{}, &StepError{Step: StepAnchor, Err: fmt.Errorf("chain id: %w", err)}
		}
		if id != b.Anchor.ChainID {
			return AnchorRecord{}, fail(StepAnchor, "bundle is anchored on chain %d, reader is on chain %d", b.Anchor.ChainID, id)
		}
	}
	rec, err := chain.Anchor(ctx, b.Anchor.Contract, b.Anchor.IntervalStartMS)
	if err != nil {
		return AnchorRecord{}, &StepError{Step: StepAnchor, Err: fmt.Errorf("interval %d: %w", b.Anchor.IntervalStartMS, err)}
	}
	switch {
	case rec.IntervalStartMS != b.Anchor.IntervalStartMS || rec.IntervalEndMS != b.Anchor.IntervalEndMS:
		return rec, fail(StepAnchor, "chain interval [%d, %d), bundle says [%d, %d)", rec.IntervalStartMS, rec.IntervalEndMS, b.Anchor.IntervalStartMS, b.Anchor.IntervalEndMS)
	case rec.Scheme != b.Scheme:
		return rec, fail(StepAnchor, "chain scheme %d, bundle scheme %d", rec.Scheme, b.Scheme)
	case rec.Size != b.Batch.TreeSize:
		return rec, fail(StepAnchor, "chain batch size %d, bundle proof is for size %d", rec.Size, b.Batch.TreeSize)
	case !bytes.Equal(rec.Root[:], b.Batch.Root):
		return rec, fail(StepAnchor, "chain batch root %x, bundle batch root %x", rec.Root[:], []byte(b.Batch.Root))
	}
	return rec, nil
}

// decodeBundle runs StepDecode.
func decodeBundle(b *Bundle) (*decoded, error) {
	if b == nil {
		return nil, fail(StepDecode, "nil bundle")
	}
	switch {
	case b.Format != BundleFormat:
		return nil, fail(StepDecode, "format %q, want %q", b.Format, BundleFormat)
	case b.Version != BundleVersion:
		return nil, fail(StepDecode, "version %d, want %d", b.Version, BundleVersion)
	case b.Scheme != SchemeRFC9162SHA256:
		return nil, fail(StepDecode, "unknown scheme %d", b.Scheme)
	}
	d := &decoded{bundle: b}
	var err error
	if d.r, err = reading.Decode(b.Reading.Wire); err != nil {
		return nil, &StepError{Step: StepDecode, Err: fmt.Errorf("reading: %w", err)}
	}
	if d.c, err = DecodeCommitment(b.Window.Commitment); err != nil {
		return nil, &StepError{Step: StepDecode, Err: err}
	}
	if d.c.Scheme != b.Scheme {
		return nil, fail(StepDecode, "commitment scheme %d, bundle scheme %d", d.c.Scheme, b.Scheme)
	}
	if d.dev, err = DecodeDeviceRange(b.Window.Device.Entry); err != nil {
		return nil, &StepError{Step: StepDecode, Err: err}
	}
	if v := b.Reading.View; v != nil && *v != NewReadingView(&d.r) {
		return nil, fail(StepDecode, "reading view does not match the wire bytes")
	}
	if v := b.Window.View; v != nil && *v != d.c.View() {
		return nil, fail(StepDecode, "commitment view does not match the commitment bytes")
	}
	if v := b.Window.Device.View; v != nil && *v != d.dev.View() {
		return nil, fail(StepDecode, "device range view does not match the entry bytes")
	}
	if len(b.Device.PublicKey) != ed25519.PublicKeySize {
		return nil, fail(StepDecode, "device public key has %d bytes, want %d", len(b.Device.PublicKey), ed25519.PublicKeySize)
	}
	if len(b.Reading.LeafHash) != HashSize {
		return nil, fail(StepDecode, "leaf hash has %d bytes", len(b.Reading.LeafHash))
	}
	copy(d.leaf[:], b.Reading.LeafHash)
	if len(b.Batch.Root) != HashSize {
		return nil, fail(StepDecode, "batch root has %d bytes", len(b.Batch.Root))
	}
	copy(d.root[:], b.Batch.Root)
	for _, p := range []struct {
		name string
		path []Hex
		out  *[][]byte
	}{{"window", b.Window.Path, &d.wpath}, {"device range", b.Window.Device.Path, &d.dpath}, {"batch", b.Batch.Path, &d.bpath}} {
		if len(p.path) > MaxPathLen {
			return nil, fail(StepDecode, "%s path has %d hashes, at most %d", p.name, len(p.path), MaxPathLen)
		}
		for i, h := range p.path {
			if len(h) != HashSize {
				return nil, fail(StepDecode, "%s path hash %d has %d bytes", p.name, i, len(h))
			}
		}
		*p.out = paths(p.path)
	}
	for _, n := range []struct {
		name string
		v    uint64
	}{{"window.leaf_index", b.Window.LeafIndex}, {"window.tree_size", b.Window.TreeSize},
		{"window.device_range.index", b.Window.Device.Index}, {"window.device_range.tree_size", b.Window.Device.TreeSize},
		{"batch.leaf_index", b.Batch.LeafIndex}, {"batch.tree_size", b.Batch.TreeSize},
		{"anchor.chain_id", b.Anchor.ChainID}, {"anchor.block_number", b.Anchor.BlockNumber}} {
		if n.v > maxJSONInt {
			return nil, fail(StepDecode, "%s %d exceeds 2^53-1", n.name, n.v)
		}
	}
	return d, nil
}

func (d *decoded) checkDeviceRef() error {
	if d.bundle.Device.DeviceID != d.r.DeviceID {
		return fail(StepDeviceKey, "device ref names %q, reading is from %q", d.bundle.Device.DeviceID, d.r.DeviceID)
	}
	return nil
}

// verifyTree runs signature, leaf, window_root and batch_root with key pub.
func (d *decoded) verifyTree(pub ed25519.PublicKey) (*Result, error) {
	b, r, c := d.bundle, &d.r, &d.c
	if err := r.Verify(pub); err != nil {
		return nil, &StepError{Step: StepSignature, Err: err}
	}

	// leaf: the bundle's leaf hash is the hash of the wire bytes, and the
	// commitment admits this reading: its span holds ts, and its device
	// tree holds a range for the device that covers seq.
	leaf := reading.LeafHash(b.Reading.Wire)
	hashes := 1
	if leaf != d.leaf {
		return nil, fail(StepLeaf, "leaf hash %x, wire hashes to %x", d.leaf[:], leaf[:])
	}
	if r.TimeMS < c.StartMS || r.TimeMS >= c.EndMS {
		return nil, fail(StepLeaf, "reading ts %d ms is outside window %s [%d, %d)", r.TimeMS, c.ID(), c.StartMS, c.EndMS)
	}
	dev, de := &d.dev, &b.Window.Device
	if dev.DeviceID != r.DeviceID {
		return nil, fail(StepLeaf, "device range is for %s, reading is from %s", dev.DeviceID, r.DeviceID)
	}
	if r.Seq < dev.FirstSeq || r.Seq > dev.LastSeq {
		return nil, fail(StepLeaf, "seq %d is outside device %s's range [%d, %d] in window %s", r.Seq, r.DeviceID, dev.FirstSeq, dev.LastSeq, c.ID())
	}
	if de.TreeSize != c.DeviceCount {
		return nil, fail(StepLeaf, "device range proof is for tree size %d, commitment says %d devices", de.TreeSize, c.DeviceCount)
	}
	if dev.FirstLeaf+dev.Count > c.Size {
		return nil, fail(StepLeaf, "device range leaves [%d, %d) exceed the window's %d leaves", dev.FirstLeaf, dev.FirstLeaf+dev.Count, c.Size)
	}
	if err := VerifyInclusion(de.Index, c.DeviceCount, DeviceRangeLeaf(de.Entry), d.dpath, c.DevicesRoot); err != nil {
		return nil, &StepError{Step: StepLeaf, Err: fmt.Errorf("device range of %s in window %s: %w", r.DeviceID, c.ID(), err)}
	}
	hashes += 1 + len(d.dpath)

	// window_root: the size comes from the commitment; the index must fall
	// in the device's block of leaves.
	w := &b.Window
	if w.TreeSize != c.Size {
		return nil, fail(StepWindowRoot, "proof is for tree size %d, commitment says %d", w.TreeSize, c.Size)
	}
	if w.LeafIndex < dev.FirstLeaf || w.LeafIndex-dev.FirstLeaf >= dev.Count {
		return nil, fail(StepWindowRoot, "leaf index %d is outside device %s's leaves [%d, %d)", w.LeafIndex, r.DeviceID, dev.FirstLeaf, dev.FirstLeaf+dev.Count)
	}
	if err := VerifyInclusion(w.LeafIndex, c.Size, leaf, d.wpath, c.Root); err != nil {
		return nil, &StepError{Step: StepWindowRoot, Err: fmt.Errorf("window %s: %w", c.ID(), err)}
	}
	hashes += len(d.wpath)

	// batch_root: the commitment's leaf is in the batch tree.
	cl := CommitmentLeaf(w.Commitment)
	hashes++
	if err := VerifyInclusion(b.Batch.LeafIndex, b.Batch.TreeSize, cl, d.bpath, d.root); err != nil {
		return nil, &StepError{Step: StepBatchRoot, Err: err}
	}
	hashes += len(d.bpath)

	return &Result{
		DeviceID: r.DeviceID, Seq: r.Seq, TimeMS: r.TimeMS,
		WindowID: c.ID(), OriginalID: c.OriginalID(), Late: c.Kind == KindLate,
		LeafIndex: w.LeafIndex, WindowSize: c.Size, WindowRoot: c.Root,
		Device:     *dev,
		BatchIndex: b.Batch.LeafIndex, BatchSize: b.Batch.TreeSize, BatchRoot: d.root,
		Anchor: b.Anchor, Hashes: hashes,
	}, nil
}
