package anchor

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sunproof/sunproof/ingest/reading"
)

// Encoding constants. See docs/formats/proof.md.
const (
	CommitmentMagic         = "SPWC"
	CommitmentVersion  byte = 1
	DeviceRangeMagic        = "SPDR"
	DeviceRangeVersion byte = 1

	// SchemeRFC9162SHA256 is scheme 1: window leaves are SHA-256(0x00 ‖
	// reading wire bytes), device-range leaves SHA-256(0x00 ‖ range
	// encoding), batch leaves SHA-256(0x00 ‖ commitment encoding), nodes
	// SHA-256(0x01 ‖ left ‖ right) (RFC 9162 §2.1), in every tree.
	SchemeRFC9162SHA256 uint8 = 1

	commitmentFixed  = 4 + 1 + 1 + 1 + 1 + 8 + 8 + 8 + 8 + HashSize + 8 + HashSize // + shard
	deviceRangeFixed = 4 + 1 + 1 + 8 + 8 + 8 + 8                                   // + device id
)

// DeviceRange is one device's completeness entry in a window: where its
// readings sit among the window's leaves (they are consecutive, since leaves
// are ordered by device id first), how many there are, and the lowest and
// highest seq among them. The window is gap-free for the device iff
// Count == LastSeq − FirstSeq + 1; consecutive windows are gap-free between
// them iff the next FirstSeq is the previous LastSeq + 1.
//
// A window's ranges, ordered by device id, are the leaves of its device
// tree, whose root and size the commitment carries; a proof bundle carries
// only the reading's own range and its audit path, so bundles stay small
// however many devices a window has.
type DeviceRange struct {
	DeviceID  string
	FirstLeaf uint64 // index of the device's first leaf in the window
	Count     uint64
	FirstSeq  uint64
	LastSeq   uint64
}

// Complete reports whether the window holds every seq in [FirstSeq, LastSeq].
func (d *DeviceRange) Complete() bool { return d.LastSeq-d.FirstSeq == d.Count-1 }

// Validate checks the rules of the device-range encoding.
func (d *DeviceRange) Validate() error {
	if err := reading.CheckID("device_id", d.DeviceID); err != nil {
		return err
	}
	if d.Count == 0 || d.FirstSeq > d.LastSeq || d.Count-1 > d.LastSeq-d.FirstSeq {
		return fmt.Errorf("device %s: count %d does not fit seq range [%d, %d]", d.DeviceID, d.Count, d.FirstSeq, d.LastSeq)
	}
	if d.FirstLeaf+d.Count < d.FirstLeaf {
		return fmt.Errorf("device %s: leaf range overflows", d.DeviceID)
	}
	return nil
}

// AppendBinary appends d's canonical encoding to dst.
func (d *DeviceRange) AppendBinary(dst []byte) ([]byte, error) {
	if err := d.Validate(); err != nil {
		return dst, fmt.Errorf("encode device range: %w", err)
	}
	dst = append(dst, DeviceRangeMagic...)
	dst = append(dst, DeviceRangeVersion, byte(len(d.DeviceID)))
	dst = append(dst, d.DeviceID...)
	dst = binary.BigEndian.AppendUint64(dst, d.FirstLeaf)
	dst = binary.BigEndian.AppendUint64(dst, d.Count)
	dst = binary.BigEndian.AppendUint64(dst, d.FirstSeq)
	dst = binary.BigEndian.AppendUint64(dst, d.LastSeq)
	return dst, nil
}

// MarshalBinary returns d's canonical encoding.
func (d *DeviceRange) MarshalBinary() ([]byte, error) {
	return d.AppendBinary(make([]byte, 0, deviceRangeFixed+len(d.DeviceID)))
}

// DecodeDeviceRange parses a device-range encoding strictly.
func DecodeDeviceRange(b []byte) (DeviceRange, error) {
	var d DeviceRange
	if len(b) < deviceRangeFixed+1 {
		return d, fmt.Errorf("device range: %d bytes, too short", len(b))
	}
	if string(b[:4]) != DeviceRangeMagic {
		return d, fmt.Errorf("device range: bad magic %q", b[:4])
	}
	if b[4] != DeviceRangeVersion {
		return d, fmt.Errorf("device range: unsupported version %d", b[4])
	}
	n := int(b[5])
	if len(b) != deviceRangeFixed+n {
		return d, fmt.Errorf("device range: %d bytes, want %d for an id of %d", len(b), deviceRangeFixed+n, n)
	}
	d.DeviceID = string(b[6 : 6+n])
	p := 6 + n
	d.FirstLeaf = binary.BigEndian.Uint64(b[p:])
	d.Count = binary.BigEndian.Uint64(b[p+8:])
	d.FirstSeq = binary.BigEndian.Uint64(b[p+16:])
	d.LastSeq = binary.BigEndian.Uint64(b[p+24:])
	if err := d.Validate(); err != nil {
		return d, fmt.Errorf("device range: %w", err)
	}
	return d, nil
}

// DeviceRangeLeaf returns the device-tree leaf hash SHA-256(0x00 ‖ enc).
func DeviceRangeLeaf(enc []byte) Hash { return leafHash(enc) }

// Commitment is what a window contributes to a batch: its identity, its
// Merkle root and size, and the root and size of its device tree. Its
// canonical encoding (MarshalBinary) is a batch-tree leaf.
type Commitment struct {
	Scheme      uint8
	Shard       string
	StartMS     int64
	EndMS       int64
	Kind        Kind
	Seq         uint64
	Size        uint64 // number of leaves (readings)
	Root        Hash
	DeviceCount uint64 // number of device ranges: the device tree's size
	DevicesRoot Hash   // root of the device tree
}

// ID returns the window ID, see WindowID.
func (c *Commitment) ID() string { return WindowID(c.Shard, c.StartMS, c.Kind, c.Seq) }

// OriginalID returns the on-time window ID for c's span (c's own ID if on-time).
func (c *Commitment) OriginalID() string { return WindowID(c.Shard, c.StartMS, KindOnTime, 0) }

// Validate checks every rule the encoding imposes (docs/formats/proof.md,
// "Window commitment").
func (c *Commitment) Validate() error {
	if c.Scheme != SchemeRFC9162SHA256 {
		return fmt.Errorf("unknown scheme %d", c.Scheme)
	}
	if err := checkWindowHeader(c.Shard, c.StartMS, c.EndMS, c.Kind, c.Seq); err != nil {
		return err
	}
	if c.Size == 0 {
		return errors.New("window has no leaves")
	}
	if c.DeviceCount == 0 || c.DeviceCount > c.Size {
		return fmt.Errorf("%d devices for %d leaves", c.DeviceCount, c.Size)
	}
	return nil
}

// AppendBinary appends c's canonical encoding to dst.
func (c *Commitment) AppendBinary(dst []byte) ([]byte, error) {
	if err := c.Validate(); err != nil {
		return dst, fmt.Errorf("encode commitment: %w", err)
	}
	dst = append(dst, CommitmentMagic...)
	dst = append(dst, CommitmentVersion, c.Scheme, byte(c.Kind), byte(len(c.Shard)))
	dst = append(dst, c.Shard...)
	dst = binary.BigEndian.AppendUint64(dst, uint64(c.StartMS))
	dst = binary.BigEndian.AppendUint64(dst, uint64(c.EndMS))
	dst = binary.BigEndian.AppendUint64(dst, c.Seq)
	dst = binary.BigEndian.AppendUint64(dst, c.Size)
	dst = append(dst, c.Root[:]...)
	dst = binary.BigEndian.AppendUint64(dst, c.DeviceCount)
	dst = append(dst, c.DevicesRoot[:]...)
	return dst, nil
}

// MarshalBinary returns c's canonical encoding.
func (c *Commitment) MarshalBinary() ([]byte, error) {
	return c.AppendBinary(make([]byte, 0, commitmentFixed+len(c.Shard)))
}

// DecodeCommitment parses a commitment encoding strictly: it accepts exactly
// the bytes MarshalBinary produces, so Encode(Decode(b)) == b.
func DecodeCommitment(b []byte) (Commitment, error) {
	var c Commitment
	if len(b) < commitmentFixed+1 {
		return c, fmt.Errorf("commitment: %d bytes, too short", len(b))
	}
	if string(b[:4]) != CommitmentMagic {
		return c, fmt.Errorf("commitment: bad magic %q", b[:4])
	}
	if b[4] != CommitmentVersion {
		return c, fmt.Errorf("commitment: unsupported version %d", b[4])
	}
	c.Scheme, c.Kind = b[5], Kind(b[6])
	n := int(b[7])
	if len(b) != commitmentFixed+n {
		return c, fmt.Errorf("commitment: %d bytes, want %d for a shard of %d", len(b), commitmentFixed+n, n)
	}
	p := 8
	c.Shard = string(b[p : p+n])
	p += n
	c.StartMS = int64(binary.BigEndian.Uint64(b[p:]))
	c.EndMS = int64(binary.BigEndian.Uint64(b[p+8:]))
	c.Seq = binary.BigEndian.Uint64(b[p+16:])
	c.Size = binary.BigEndian.Uint64(b[p+24:])
	p += 32
	copy(c.Root[:], b[p:])
	p += HashSize
	c.DeviceCount = binary.BigEndian.Uint64(b[p:])
	p += 8
	copy(c.DevicesRoot[:], b[p:])
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("commitment: %w", err)
	}
	return c, nil
}

// CommitmentLeaf returns the batch-tree leaf hash SHA-256(0x00 ‖ enc) of an
// encoded commitment.
func CommitmentLeaf(enc []byte) Hash { return leafHash(enc) }

// AnchorRecord is what goes on chain for one anchoring interval, and what a
// ChainReader returns: the batch root and size with the interval they cover.
// TxHash and BlockNumber say where it was recorded (empty until then).
type AnchorRecord struct {
	IntervalStartMS int64  // inclusive, Unix ms; identifies the anchor
	IntervalEndMS   int64  // exclusive, Unix ms
	Root            Hash   // batch root
	Size            uint64 // batch size (number of window commitments)
	Scheme          uint8
	TxHash          string // 0x-prefixed, informational
	BlockNumber     uint64 // informational
}

// Batch is the tree over the commitments of the windows anchored for one
// interval. Leaves are CommitmentLeaf(encoding), ordered by (shard, start,
// kind, seq) — the same order whatever order the windows were added in.
type Batch struct {
	IntervalStartMS int64
	IntervalEndMS   int64

	commits []Commitment
	encoded [][]byte
	ids     map[string]int
	tree    *Tree
}

// NewBatch builds the batch tree for the interval [startMS, endMS). Window
// IDs must be unique; there must be at least one (skip empty intervals).
func NewBatch(startMS, endMS int64, commits []Commitment) (*Batch, error) {
	if startMS >= endMS {
		return nil, fmt.Errorf("batch interval [%d, %d) is empty", startMS, endMS)
	}
	if len(commits) == 0 {
		return nil, fmt.Errorf("batch [%d, %d): %w", startMS, endMS, ErrEmptyTree)
	}
	cs := slices.Clone(commits)
	slices.SortFunc(cs, compareCommitments)
	b := &Batch{
		IntervalStartMS: startMS,
		IntervalEndMS:   endMS,
		commits:         cs,
		encoded:         make([][]byte, len(cs)),
		ids:             make(map[string]int, len(cs)),
	}
	leaves := make([]Hash, len(cs))
	for i := range cs {
		c := &cs[i]
		id := c.ID()
		if _, dup := b.ids[id]; dup {
			return nil, fmt.Errorf("batch [%d, %d): window %s twice", startMS, endMS, id)
		}
		b.ids[id] = i
		enc, err := c.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("batch [%d, %d): window %s: %w", startMS, endMS, id, err)
		}
		b.encoded[i] = enc
		leaves[i] = CommitmentLeaf(enc)
	}
	var err error
	if b.tree, err = NewTree(leaves); err != nil {
		return nil, err
	}
	return b, nil
}

func compareCommitments(a, b Commitment) int {
	return cmp.Or(strings.Compare(a.Shard, b.Shard), compareSpans(a.StartMS, a.Kind, a.Seq, b.StartMS, b.Kind, b.Seq))
}

// compareSpans orders windows of one shard by (start, kind, seq).
func compareSpans(aStart int64, aKind Kind, aSeq uint64, bStart int64, bKind Kind, bSeq uint64) int {
	return cmp.Or(cmp.Compare(aStart, bStart), cmp.Compare(aKind, bKind), cmp.Compare(aSeq, bSeq))
}

// Len returns the number of windows in the batch.
func (b *Batch) Len() int { return len(b.commits) }

// Root returns the batch root.
func (b *Batch) Root() Hash { return b.tree.Root() }

// Commitment returns the i-th commitment in batch order.
func (b *Batch) Commitment(i int) Commitment { return b.commits[i] }

// Encoded returns the i-th commitment's encoding. Do not modify it.
func (b *Batch) Encoded(i int) []byte { return b.encoded[i] }

// Index returns the batch leaf index of window id.
func (b *Batch) Index(id string) (int, bool) {
	i, ok := b.ids[id]
	return i, ok
}

// Tree returns the batch tree.
func (b *Batch) Tree() *Tree { return b.tree }

// Record returns what goes on chain: interval, root, size and scheme.
func (b *Batch) Record() AnchorRecord {
	return AnchorRecord{
		IntervalStartMS: b.IntervalStartMS,
		IntervalEndMS:   b.IntervalEndMS,
		Root:            b.tree.Root(),
		Size:            b.tree.Size(),
		Scheme:          SchemeRFC9162SHA256,
	}
}
