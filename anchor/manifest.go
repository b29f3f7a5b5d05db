package anchor

// The proof store's file formats: interval manifests, anchor receipts,
// window wire files and device index records. docs/formats/proof-store.md
// is the specification; store.go does the I/O.

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sunproof/sunproof/ingest/reading"
)

// Proof store format identifiers. See docs/formats/proof-store.md.
const (
	ManifestFormat     = "sunproof.proof-store.manifest"
	ReceiptFormat      = "sunproof.proof-store.anchored"
	StoreFormatVersion = 1

	wiresMagic           = "SPWF"
	wiresVersion    byte = 1
	wiresHeaderSize      = 4 + 1 + 8 // magic, version, count

	// IndexRecordSize is the size of one device index record.
	IndexRecordSize = 32
)

// ErrCorrupt is wrapped by every error about store content that fails its
// checksum or contradicts itself.
var ErrCorrupt = errors.New("anchor: proof store corrupt")

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// Manifest is the durable record of one anchoring interval, written once
// before its batch root is submitted (the "prepare" step): the windows
// sealed in the interval with their commitments and wire files, the batch
// they form, and the batcher's state after sealing them, from which a
// restarted batcher resumes. Windows are listed in batch order, so a
// window's position in Windows is its leaf index in the batch tree.
type Manifest struct {
	Format          string              `json:"format"`  // ManifestFormat
	Version         int                 `json:"version"` // StoreFormatVersion
	IntervalStartMS int64               `json:"interval_start_ms"`
	IntervalEndMS   int64               `json:"interval_end_ms"`
	PreparedAt      time.Time           `json:"prepared_at"`
	Source          ManifestSource      `json:"source"`
	Builder         ManifestBuilder     `json:"builder"`
	Batch           ManifestBatch       `json:"batch"`
	Windows         []ManifestWindow    `json:"windows"`
	Partitions      []ManifestPartition `json:"partitions"`
}

// ManifestSource names the Kafka topic and consumer group the readings
// came from.
type ManifestSource struct {
	Topic string `json:"topic"`
	Group string `json:"group"`
}

// ManifestBuilder is the window configuration in force.
type ManifestBuilder struct {
	SpanMS     int64 `json:"span_ms"`
	LatenessMS int64 `json:"lateness_ms"`
}

// ManifestBatch is what goes on chain for the interval.
type ManifestBatch struct {
	Scheme uint8  `json:"scheme"`
	Size   uint64 `json:"size"`
	Root   Hex    `json:"root"`
}

// ManifestWindow describes one window of the interval.
type ManifestWindow struct {
	ID         string `json:"id"`
	File       string `json:"file"`   // wire file, relative to the store root, '/'-separated
	SHA256     Hex    `json:"sha256"` // of the whole wire file
	Bytes      int64  `json:"bytes"`  // size of the wire file
	Leaves     uint64 `json:"leaves"`
	Commitment Hex    `json:"commitment"` // SPWC encoding (docs/formats/proof.md §3)
	// MinOffset and MaxOffset bound the Kafka offsets of the readings it
	// holds (in its shard's partition); a restarted batcher needs them to
	// recognise redelivered copies.
	MinOffset int64 `json:"min_offset"`
	MaxOffset int64 `json:"max_offset"`
}

// ManifestPartition is one partition's batcher state after the interval
// was sealed.
type ManifestPartition struct {
	Partition int    `json:"partition"`
	Shard     string `json:"shard"`
	State     State  `json:"state"`
	// CommitOffset is the next offset to read after a restart: every
	// reading below it is in a window of this or an earlier manifest. -1
	// if nothing was read from the partition yet.
	CommitOffset int64 `json:"commit_offset"`
	// Live lists the sealed windows that hold readings at or above
	// CommitOffset: a restarted batcher re-reads those readings and must
	// recognise them as already sealed.
	Live []WindowRef `json:"live,omitempty"`
}

// WindowRef names a window of some interval's manifest.
type WindowRef struct {
	IntervalStartMS int64  `json:"interval_start_ms"`
	Index           int    `json:"index"` // position in that manifest's windows
	ID              string `json:"id"`
}

// NewManifest returns the manifest of the interval [startMS, endMS)
// anchoring windows: its batch and window entries (in batch order, which it
// also returns the windows in). The caller fills in the source, builder
// and partitions; Store.Prepare fills in the wire files.
func NewManifest(startMS, endMS int64, windows []*Window, preparedAt time.Time) (*Manifest, []*Window, error) {
	commits := make([]Commitment, len(windows))
	byID := make(map[string]*Window, len(windows))
	for i, w := range windows {
		commits[i] = w.Commitment()
		byID[w.ID()] = w
	}
	batch, err := NewBatch(startMS, endMS, commits)
	if err != nil {
		return nil, nil, err
	}
	root := batch.Root()
	m := &Manifest{
		Format: ManifestFormat, Version: StoreFormatVersion,
		IntervalStartMS: startMS, IntervalEndMS: endMS, PreparedAt: preparedAt.UTC(),
		Batch: ManifestBatch{Scheme: SchemeRFC9162SHA256, Size: uint64(batch.Len()), Root: root[:]},
	}
	ordered := make([]*Window, batch.Len())
	for i := range batch.Len() {
		c := batch.Commitment(i)
		w := byID[c.ID()]
		ordered[i] = w
		m.Windows = append(m.Windows, ManifestWindow{
			ID: c.ID(), Leaves: uint64(w.Len()), Commitment: slices.Clone(batch.Encoded(i)),
			MinOffset: w.MinOffset, MaxOffset: w.MaxOffset,
		})
	}
	return m, ordered, nil
}

// Window returns the entry of the window with id, and its index.
func (m *Manifest) Window(id string) (*ManifestWindow, int, bool) {
	for i := range m.Windows {
		if m.Windows[i].ID == id {
			return &m.Windows[i], i, true
		}
	}
	return nil, 0, false
}

// Commitments decodes the windows' commitments, in batch order.
func (m *Manifest) Commitments() ([]Commitment, error) {
	cs := make([]Commitment, len(m.Windows))
	for i := range m.Windows {
		c, err := DecodeCommitment(m.Windows[i].Commitment)
		if err != nil {
			return nil, fmt.Errorf("window %d: %w", i, err)
		}
		cs[i] = c
	}
	return cs, nil
}

// AnchorTx returns the transaction that anchors the manifest's batch.
func (m *Manifest) AnchorTx() (AnchorTx, error) {
	var root Hash
	if len(m.Batch.Root) != HashSize {
		return AnchorTx{}, fmt.Errorf("manifest %d: batch root has %d bytes", m.IntervalStartMS, len(m.Batch.Root))
	}
	copy(root[:], m.Batch.Root)
	return AnchorTxFor(AnchorRecord{
		IntervalStartMS: m.IntervalStartMS, IntervalEndMS: m.IntervalEndMS,
		Root: root, Size: m.Batch.Size, Scheme: m.Batch.Scheme,
	})
}

// Validate checks the manifest's internal consistency, including that its
// windows' commitments form a batch with the recorded root and size. It
// returns the batch.
func (m *Manifest) Validate() (*Batch, error) {
	switch {
	case m.Format != ManifestFormat:
		return nil, fmt.Errorf("manifest format %q, want %q", m.Format, ManifestFormat)
	case m.Version != StoreFormatVersion:
		return nil, fmt.Errorf("manifest version %d, want %d", m.Version, StoreFormatVersion)
	case m.IntervalStartMS < 0 || m.IntervalStartMS >= m.IntervalEndMS:
		return nil, fmt.Errorf("manifest interval [%d, %d) is invalid", m.IntervalStartMS, m.IntervalEndMS)
	case m.Batch.Scheme != SchemeRFC9162SHA256:
		return nil, fmt.Errorf("manifest scheme %d", m.Batch.Scheme)
	case len(m.Windows) == 0 || m.Batch.Size != uint64(len(m.Windows)):
		return nil, fmt.Errorf("manifest has %d windows, batch size %d", len(m.Windows), m.Batch.Size)
	}
	cs, err := m.Commitments()
	if err != nil {
		return nil, err
	}
	b, err := NewBatch(m.IntervalStartMS, m.IntervalEndMS, cs)
	if err != nil {
		return nil, err
	}
	root := b.Root()
	if !bytes.Equal(root[:], m.Batch.Root) {
		return nil, fmt.Errorf("manifest batch root %x, its commitments give %x", []byte(m.Batch.Root), root[:])
	}
	for i := range m.Windows {
		w := &m.Windows[i]
		c := b.Commitment(i)
		switch {
		case w.ID != c.ID():
			return nil, fmt.Errorf("window %d: id %q, commitment %q (not in batch order?)", i, w.ID, c.ID())
		case w.Leaves != c.Size:
			return nil, fmt.Errorf("window %s: %d leaves, commitment says %d", w.ID, w.Leaves, c.Size)
		case len(w.SHA256) != sha256.Size || w.Bytes < wiresHeaderSize:
			return nil, fmt.Errorf("window %s: bad file checksum or size", w.ID)
		case w.File != windowFile(m.IntervalStartMS, w.ID):
			return nil, fmt.Errorf("window %s: file %q, want %q", w.ID, w.File, windowFile(m.IntervalStartMS, w.ID))
		case w.MinOffset > w.MaxOffset:
			return nil, fmt.Errorf("window %s: offsets [%d, %d]", w.ID, w.MinOffset, w.MaxOffset)
		}
	}
	seen := make(map[int]bool, len(m.Partitions))
	for _, p := range m.Partitions {
		if p.Partition < 0 || seen[p.Partition] {
			return nil, fmt.Errorf("partition %d listed twice or negative", p.Partition)
		}
		seen[p.Partition] = true
		if p.Shard != ShardName(p.Partition) {
			return nil, fmt.Errorf("partition %d has shard %q, want %q", p.Partition, p.Shard, ShardName(p.Partition))
		}
		for _, r := range p.Live {
			if r.IntervalStartMS > m.IntervalStartMS || r.Index < 0 {
				return nil, fmt.Errorf("partition %d: live window %s of interval %d", p.Partition, r.ID, r.IntervalStartMS)
			}
		}
	}
	return b, nil
}

// ShardName returns the shard of Kafka partition p: "p<p>".
func ShardName(p int) string { return "p" + strconv.Itoa(p) }

// AnchorReceipt records that an interval's batch root is on chain. It is
// written once, after the anchoring transaction has its confirmations.
type AnchorReceipt struct {
	Format          string    `json:"format"`  // ReceiptFormat
	Version         int       `json:"version"` // StoreFormatVersion
	IntervalStartMS int64     `json:"interval_start_ms"`
	IntervalEndMS   int64     `json:"interval_end_ms"`
	BatchRoot       Hex       `json:"batch_root"`
	BatchSize       uint64    `json:"batch_size"`
	ChainID         uint64    `json:"chain_id"`
	Contract        string    `json:"contract"` // 0x-prefixed, lowercase
	TxHash          string    `json:"tx_hash"`
	BlockNumber     uint64    `json:"block_number"`
	BlockHash       string    `json:"block_hash,omitempty"`
	Existing        bool      `json:"existing"` // an earlier attempt had already anchored it
	AnchoredAt      time.Time `json:"anchored_at"`
}

// NewAnchorReceipt returns the receipt of m's batch anchored by ref.
func NewAnchorReceipt(m *Manifest, ref TxRef, at time.Time) AnchorReceipt {
	r := AnchorReceipt{
		Format: ReceiptFormat, Version: StoreFormatVersion,
		IntervalStartMS: m.IntervalStartMS, IntervalEndMS: m.IntervalEndMS,
		BatchRoot: slices.Clone(m.Batch.Root), BatchSize: m.Batch.Size,
		ChainID: ref.ChainID, Contract: strings.ToLower(ref.Contract.Hex()),
		TxHash: ref.TxHash.Hex(), BlockNumber: ref.BlockNumber,
		Existing: ref.Existing, AnchoredAt: at.UTC(),
	}
	if ref.BlockHash != ([32]byte{}) {
		r.BlockHash = ref.BlockHash.Hex()
	}
	return r
}

// Ref returns the bundle's anchor reference.
func (r *AnchorReceipt) Ref() AnchorRef {
	return AnchorRef{
		ChainID: r.ChainID, Contract: r.Contract,
		IntervalStartMS: r.IntervalStartMS, IntervalEndMS: r.IntervalEndMS,
		TxHash: r.TxHash, BlockNumber: r.BlockNumber,
	}
}

// Validate checks the receipt against its interval's manifest.
func (r *AnchorReceipt) Validate(m *Manifest) error {
	switch {
	case r.Format != ReceiptFormat || r.Version != StoreFormatVersion:
		return fmt.Errorf("receipt format %q version %d", r.Format, r.Version)
	case r.IntervalStartMS != m.IntervalStartMS || r.IntervalEndMS != m.IntervalEndMS:
		return fmt.Errorf("receipt interval [%d, %d), manifest [%d, %d)", r.IntervalStartMS, r.IntervalEndMS, m.IntervalStartMS, m.IntervalEndMS)
	case !bytes.Equal(r.BatchRoot, m.Batch.Root) || r.BatchSize != m.Batch.Size:
		return fmt.Errorf("receipt batch root %x size %d, manifest %x size %d", []byte(r.BatchRoot), r.BatchSize, []byte(m.Batch.Root), m.Batch.Size)
	case r.Contract == "":
		return errors.New("receipt names no contract")
	}
	return nil
}

// sealed is the on-disk envelope of manifests and receipts: the value's
// compact JSON encoding with its SHA-256, so that a torn or edited file is
// detected. The file is {"sha256":"<hex>","<key>":<value>}\n.
func sealJSON(key string, v any) ([]byte, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	var b bytes.Buffer
	b.Grow(len(body) + len(key) + 96)
	fmt.Fprintf(&b, `{"sha256":"%x",%q:`, sum[:], key)
	b.Write(body)
	b.WriteString("}\n")
	return b.Bytes(), nil
}

// unsealJSON checks the envelope of data and decodes its value into v.
func unsealJSON(data []byte, key string, v any) error {
	var env map[string]json.RawMessage
	if err := json.Unmarshal(data, &env); err != nil {
		return corrupt("envelope: %v", err)
	}
	var sumHex Hex
	if err := json.Unmarshal(env["sha256"], &sumHex); err != nil || len(sumHex) != sha256.Size {
		return corrupt("envelope: missing or bad sha256")
	}
	body, ok := env[key]
	if !ok {
		return corrupt("envelope: no %q", key)
	}
	if sum := sha256.Sum256(body); !bytes.Equal(sum[:], sumHex) {
		return corrupt("%s checksum mismatch: recorded %x, content %x", key, []byte(sumHex), sum[:])
	}
	if err := json.Unmarshal(body, v); err != nil {
		return corrupt("%s: %v", key, err)
	}
	return nil
}

// encodeWires returns a window's wire file: "SPWF", version 1, count u64,
// then count × (length u32, wire bytes), in leaf order.
func encodeWires(w *Window) []byte {
	n := wiresHeaderSize
	for i := range w.Len() {
		n += 4 + len(w.Wire(i))
	}
	b := make([]byte, 0, n)
	b = append(b, wiresMagic...)
	b = append(b, wiresVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(w.Len()))
	for i := range w.Len() {
		b = binary.BigEndian.AppendUint32(b, uint32(len(w.Wire(i))))
		b = append(b, w.Wire(i)...)
	}
	return b
}

// decodeWires parses a wire file strictly. The wires alias data.
func decodeWires(data []byte) ([][]byte, error) {
	if len(data) < wiresHeaderSize || string(data[:4]) != wiresMagic {
		return nil, errors.New("wire file: bad header")
	}
	if data[4] != wiresVersion {
		return nil, fmt.Errorf("wire file: version %d", data[4])
	}
	n := binary.BigEndian.Uint64(data[5:])
	if n == 0 || n > uint64(len(data)-wiresHeaderSize)/4 {
		return nil, fmt.Errorf("wire file: implausible count %d", n)
	}
	out := make([][]byte, 0, n)
	p := wiresHeaderSize
	for range n {
		if len(data)-p < 4 {
			return nil, errors.New("wire file: truncated")
		}
		l := int(binary.BigEndian.Uint32(data[p:]))
		p += 4
		if l > len(data)-p {
			return nil, errors.New("wire file: truncated")
		}
		out = append(out, data[p:p+l:p+l])
		p += l
	}
	if p != len(data) {
		return nil, fmt.Errorf("wire file: %d trailing bytes", len(data)-p)
	}
	return out, nil
}

// IndexEntry locates one reading in the store: the interval, the window's
// position in that interval's manifest, and the reading's leaf index.
type IndexEntry struct {
	Seq             uint64
	IntervalStartMS int64
	Window          uint32
	Leaf            uint64
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendIndexRecord appends e's 32-byte record: seq u64, interval_start_ms
// i64, window u32, leaf u64, CRC-32C of the 28 bytes before it.
func appendIndexRecord(dst []byte, e IndexEntry) []byte {
	start := len(dst)
	dst = binary.BigEndian.AppendUint64(dst, e.Seq)
	dst = binary.BigEndian.AppendUint64(dst, uint64(e.IntervalStartMS))
	dst = binary.BigEndian.AppendUint32(dst, e.Window)
	dst = binary.BigEndian.AppendUint64(dst, e.Leaf)
	return binary.BigEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

// decodeIndexRecord parses one record; ok is false if its CRC fails.
func decodeIndexRecord(b []byte) (IndexEntry, bool) {
	if len(b) != IndexRecordSize || crc32.Checksum(b[:28], castagnoli) != binary.BigEndian.Uint32(b[28:]) {
		return IndexEntry{}, false
	}
	return IndexEntry{
		Seq:             binary.BigEndian.Uint64(b),
		IntervalStartMS: int64(binary.BigEndian.Uint64(b[8:])),
		Window:          binary.BigEndian.Uint32(b[16:]),
		Leaf:            binary.BigEndian.Uint64(b[20:]),
	}, true
}

// File names. Intervals are grouped in one directory per UTC day of their
// start; interval starts are zero-padded to 16 digits so that names sort
// like numbers.
func intervalName(startMS int64) string { return fmt.Sprintf("%016d", startMS) }

func dayName(startMS int64) string { return time.UnixMilli(startMS).UTC().Format("20060102") }

func intervalDir(startMS int64) string { return "intervals/" + dayName(startMS) }

func manifestFile(startMS int64) string {
	return intervalDir(startMS) + "/" + intervalName(startMS) + manifestSuffix
}

func receiptFile(startMS int64) string {
	return intervalDir(startMS) + "/" + intervalName(startMS) + receiptSuffix
}

const (
	manifestSuffix = ".manifest.json"
	receiptSuffix  = ".anchored.json"
)

func windowDir(startMS int64) string {
	return "windows/" + dayName(startMS) + "/" + intervalName(startMS)
}

// windowFile is the wire file of window id of interval startMS: the id with
// '/' replaced by '~' (ids never contain '~').
func windowFile(startMS int64, id string) string {
	return windowDir(startMS) + "/" + strings.ReplaceAll(id, "/", "~") + ".wires"
}

func indexFile(deviceID string) string { return "index/" + deviceID + ".idx" }

// parseIntervalName parses the interval start of an intervals/ file name
// with the given suffix.
func parseIntervalName(name, suffix string) (int64, bool) {
	s, ok := strings.CutSuffix(name, suffix)
	if !ok || len(s) != 16 {
		return 0, false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return 0, false
	}
	return v, true
}

// readingKeyOf decodes the key of a wire message.
func readingKeyOf(wire []byte) (reading.Key, error) {
	r, err := reading.Decode(wire)
	if err != nil {
		return reading.Key{}, err
	}
	return r.Key(), nil
}
