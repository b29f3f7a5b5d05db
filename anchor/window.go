package anchor

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sunproof/sunproof/ingest/reading"
)

// Kind says whether a window was sealed on time or holds late readings.
type Kind uint8

// Window kinds. The values are part of the commitment encoding.
const (
	// KindOnTime windows hold the readings that arrived before the
	// watermark passed the end of their span. There is at most one per
	// (shard, span), and its sequence number is 0.
	KindOnTime Kind = 0
	// KindLate windows hold readings that arrived after their span's
	// on-time window was sealed. A late window has the same [start, end)
	// as the on-time window it complements (its "original window") and a
	// sequence number ≥ 1: the builder's late round that sealed it.
	KindLate Kind = 1
)

func (k Kind) String() string {
	switch k {
	case KindOnTime:
		return "on_time"
	case KindLate:
		return "late"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// WindowID returns the identifier of the window (shard, start, kind, seq):
// "<shard>/<start_ms>/<kind>/<seq>", for example "p3/1748772900000/on_time/0"
// or "p3/1748772900000/late/7". Shards are reading identifiers (no '/'), so
// the form is unambiguous.
func WindowID(shard string, startMS int64, kind Kind, seq uint64) string {
	var b strings.Builder
	b.Grow(len(shard) + 40)
	b.WriteString(shard)
	b.WriteByte('/')
	b.WriteString(strconv.FormatInt(startMS, 10))
	b.WriteByte('/')
	b.WriteString(kind.String())
	b.WriteByte('/')
	b.WriteString(strconv.FormatUint(seq, 10))
	return b.String()
}

// Window is a sealed set of readings of one shard whose timestamps lie in
// the event-time span [StartMS, EndMS). Its leaves are the wire messages in
// canonical order (see SortWires); its tree is the RFC 9162 tree over their
// leaf hashes. A Window is immutable once built and safe for concurrent use.
type Window struct {
	Shard   string
	StartMS int64 // inclusive, Unix ms
	EndMS   int64 // exclusive, Unix ms
	Kind    Kind
	Seq     uint64 // 0 for KindOnTime, the late round (≥ 1) for KindLate

	// MinOffset and MaxOffset bound the source offsets (Kafka offsets of
	// the shard's partition) of the readings held, duplicates included. They
	// are bookkeeping for the consumer and not part of the commitment.
	MinOffset, MaxOffset int64

	wires   [][]byte
	keys    []reading.Key
	devices []DeviceRange
	devEnc  [][]byte // encodings of devices, the device tree's leaf data
	tree    *Tree
	devTree *Tree
}

// ID returns the window identifier, see WindowID.
func (w *Window) ID() string { return WindowID(w.Shard, w.StartMS, w.Kind, w.Seq) }

// OriginalID returns the ID of the on-time window whose span a late window
// complements; for an on-time window it returns its own ID.
func (w *Window) OriginalID() string { return WindowID(w.Shard, w.StartMS, KindOnTime, 0) }

// Len returns the number of leaves.
func (w *Window) Len() int { return len(w.wires) }

// Wire returns leaf i's wire bytes. The caller must not modify them.
func (w *Window) Wire(i int) []byte { return w.wires[i] }

// Root returns the window's Merkle root.
func (w *Window) Root() Hash { return w.tree.Root() }

// Tree returns the window's Merkle tree.
func (w *Window) Tree() *Tree { return w.tree }

// Devices returns the per-device completeness entries, ordered by device id.
// The caller must not modify the result.
func (w *Window) Devices() []DeviceRange { return w.devices }

// Find returns the leaf index of the reading with key k.
func (w *Window) Find(k reading.Key) (int, bool) {
	i, ok := slices.BinarySearchFunc(w.devices, k.DeviceID, func(d DeviceRange, id string) int {
		return strings.Compare(d.DeviceID, id)
	})
	if !ok {
		return 0, false
	}
	d := &w.devices[i]
	for j := int(d.FirstLeaf); j < int(d.FirstLeaf+d.Count); j++ {
		if w.keys[j].Seq == k.Seq {
			return j, true
		}
	}
	return 0, false
}

// Commitment returns the window's commitment record.
func (w *Window) Commitment() Commitment {
	return Commitment{
		Scheme:      SchemeRFC9162SHA256,
		Shard:       w.Shard,
		StartMS:     w.StartMS,
		EndMS:       w.EndMS,
		Kind:        w.Kind,
		Seq:         w.Seq,
		Size:        w.tree.Size(),
		Root:        w.tree.Root(),
		DeviceCount: w.devTree.Size(),
		DevicesRoot: w.devTree.Root(),
	}
}

// DeviceTree returns the tree over the window's device ranges.
func (w *Window) DeviceTree() *Tree { return w.devTree }

// DeviceProof returns device id's range, its encoding, its index in the
// device tree and its audit path there.
func (w *Window) DeviceProof(id string) (DeviceRange, []byte, uint64, [][]byte, error) {
	i, ok := slices.BinarySearchFunc(w.devices, id, func(d DeviceRange, id string) int {
		return strings.Compare(d.DeviceID, id)
	})
	if !ok {
		return DeviceRange{}, nil, 0, nil, fmt.Errorf("window %s has no readings of device %s", w.ID(), id)
	}
	path, err := w.devTree.InclusionProof(uint64(i))
	if err != nil {
		return DeviceRange{}, nil, 0, nil, err
	}
	return w.devices[i], w.devEnc[i], uint64(i), path, nil
}

// entry is one decoded reading held by a pending window.
type entry struct {
	key  reading.Key
	ts   int64
	wire []byte
}

func compareEntries(a, b *entry) int {
	if c := strings.Compare(a.key.DeviceID, b.key.DeviceID); c != 0 {
		return c
	}
	if a.ts != b.ts {
		if a.ts < b.ts {
			return -1
		}
		return 1
	}
	if a.key.Seq != b.key.Seq {
		if a.key.Seq < b.key.Seq {
			return -1
		}
		return 1
	}
	return bytes.Compare(a.wire, b.wire)
}

// NewWindow builds a sealed window from wire messages, in any order. It
// decodes every message (it does not verify signatures: the collector did),
// rejects readings outside [startMS, endMS), removes duplicates by (device
// id, seq) keeping the lexicographically smallest wire bytes, sorts by
// (device id, ts, seq) and builds the tree. The result therefore depends only
// on the set of messages, never on their order. It does not retain wires'
// backing arrays beyond the returned Window; the caller must not modify them
// afterwards.
func NewWindow(shard string, startMS, endMS int64, kind Kind, seq uint64, wires [][]byte) (*Window, error) {
	if err := checkWindowHeader(shard, startMS, endMS, kind, seq); err != nil {
		return nil, err
	}
	es := make([]entry, 0, len(wires))
	for i, wire := range wires {
		r, err := reading.Decode(wire)
		if err != nil {
			return nil, fmt.Errorf("window %s: message %d: %w", WindowID(shard, startMS, kind, seq), i, err)
		}
		if r.TimeMS < startMS || r.TimeMS >= endMS {
			return nil, fmt.Errorf("window %s: reading %s at %d ms is outside [%d, %d)", WindowID(shard, startMS, kind, seq), r.Key(), r.TimeMS, startMS, endMS)
		}
		es = append(es, entry{key: r.Key(), ts: r.TimeMS, wire: wire})
	}
	return sealEntries(shard, startMS, endMS, kind, seq, es, 0, 0)
}

func checkWindowHeader(shard string, startMS, endMS int64, kind Kind, seq uint64) error {
	if err := reading.CheckID("shard", shard); err != nil {
		return err
	}
	if startMS >= endMS {
		return fmt.Errorf("window start %d ms is not before end %d ms", startMS, endMS)
	}
	switch {
	case kind == KindOnTime && seq != 0:
		return fmt.Errorf("on-time window with sequence %d, want 0", seq)
	case kind == KindLate && seq == 0:
		return errors.New("late window with sequence 0, want ≥ 1")
	case kind != KindOnTime && kind != KindLate:
		return fmt.Errorf("unknown window kind %d", kind)
	}
	return nil
}

// dedupSort orders es by (device id, ts, seq) and removes duplicate keys,
// keeping the lexicographically smallest wire bytes of each key.
//
// Fast path (one sort): sort by (device id, ts, seq, wire); if within each
// device seqs then strictly increase, except for adjacent byte-identical
// copies, dropping those copies is the whole job. Otherwise (a device clock
// that went back, or a seq reused with different bytes) fall back to sorting
// by (device id, seq, wire), keeping the first of each key, and sorting
// again by leaf order.
func dedupSort(es []entry) []entry {
	leafOrder := func(a, b entry) int { return compareEntries(&a, &b) }
	slices.SortFunc(es, leafOrder)
	out := es[:0] // compacted in place: len(out) <= i at every step
	for i := range es {
		if i > 0 && es[i].key.DeviceID == es[i-1].key.DeviceID {
			switch {
			case es[i].key.Seq > es[i-1].key.Seq:
			case es[i].key.Seq == es[i-1].key.Seq && bytes.Equal(es[i].wire, es[i-1].wire):
				continue // byte-identical duplicate
			default:
				// out plus es[i:] still holds every distinct message.
				return dedupSlow(append(out, es[i:]...))
			}
		}
		out = append(out, es[i])
	}
	return out
}

func dedupSlow(es []entry) []entry {
	slices.SortFunc(es, func(a, b entry) int {
		if c := strings.Compare(a.key.DeviceID, b.key.DeviceID); c != 0 {
			return c
		}
		if a.key.Seq != b.key.Seq {
			if a.key.Seq < b.key.Seq {
				return -1
			}
			return 1
		}
		return bytes.Compare(a.wire, b.wire)
	})
	es = slices.CompactFunc(es, func(a, b entry) bool { return a.key == b.key })
	slices.SortFunc(es, func(a, b entry) int { return compareEntries(&a, &b) })
	return es
}

// sealEntries deduplicates, sorts and hashes es (which it reorders).
func sealEntries(shard string, startMS, endMS int64, kind Kind, seq uint64, es []entry, minOff, maxOff int64) (*Window, error) {
	if len(es) == 0 {
		return nil, ErrEmptyTree
	}
	es = dedupSort(es)

	w := &Window{
		Shard: shard, StartMS: startMS, EndMS: endMS, Kind: kind, Seq: seq,
		MinOffset: minOff, MaxOffset: maxOff,
		wires: make([][]byte, len(es)),
		keys:  make([]reading.Key, len(es)),
	}
	leaves := make([]Hash, len(es))
	for i := range es {
		e := &es[i]
		w.wires[i] = e.wire
		w.keys[i] = e.key
		leaves[i] = reading.LeafHash(e.wire)
		if n := len(w.devices); n == 0 || w.devices[n-1].DeviceID != e.key.DeviceID {
			w.devices = append(w.devices, DeviceRange{DeviceID: e.key.DeviceID, FirstLeaf: uint64(i), FirstSeq: e.key.Seq, LastSeq: e.key.Seq})
		}
		d := &w.devices[len(w.devices)-1]
		d.Count++
		d.FirstSeq = min(d.FirstSeq, e.key.Seq)
		d.LastSeq = max(d.LastSeq, e.key.Seq)
	}
	var err error
	if w.tree, err = NewTree(leaves); err != nil {
		return nil, err
	}
	w.devEnc = make([][]byte, len(w.devices))
	devLeaves := make([]Hash, len(w.devices))
	for i := range w.devices {
		if w.devEnc[i], err = w.devices[i].MarshalBinary(); err != nil {
			return nil, err
		}
		devLeaves[i] = DeviceRangeLeaf(w.devEnc[i])
	}
	if w.devTree, err = NewTree(devLeaves); err != nil {
		return nil, err
	}
	return w, nil
}

// Config configures a Builder.
type Config struct {
	// Shard names the stream the builder windows (for example the Kafka
	// partition, "p7"). It must be a valid reading identifier.
	Shard string `yaml:"shard"`
	// Span is the event-time length of a window. Windows are aligned to
	// the Unix epoch: [k·Span, (k+1)·Span). Whole milliseconds, ≥ 1 s.
	Span time.Duration `yaml:"span"`
	// Lateness is how far behind the newest event time a reading may be and
	// still join its on-time window. Watermark = max event time − Lateness.
	Lateness time.Duration `yaml:"lateness"`
}

// DefaultConfig returns 15-minute windows with 2 minutes of allowed lateness.
func DefaultConfig() Config {
	return Config{Shard: "p0", Span: 15 * time.Minute, Lateness: 2 * time.Minute}
}

// Validate checks c.
func (c Config) Validate() error {
	if err := reading.CheckID("shard", c.Shard); err != nil {
		return err
	}
	if c.Span < time.Second || c.Span%time.Millisecond != 0 {
		return fmt.Errorf("span %s must be at least 1s and a whole number of milliseconds", c.Span)
	}
	if c.Lateness < 0 || c.Lateness%time.Millisecond != 0 {
		return fmt.Errorf("lateness %s must be non-negative and a whole number of milliseconds", c.Lateness)
	}
	return nil
}

// State is the part of a Builder's state that must survive a restart: it
// is what decides whether a replayed reading is on time or late. Persist it
// with the sealed windows and pass it to NewBuilder.
type State struct {
	SealedThroughMS int64  `json:"sealed_through_ms"` // spans ending at or before this are sealed
	MaxEventMS      int64  `json:"max_event_ms"`      // newest event time seen
	Seen            bool   `json:"seen"`              // whether MaxEventMS is meaningful
	LateRound       uint64 `json:"late_round"`        // sequence of the last late round
}

// Timestamps the builder accepts: far enough from the int64 limits that span
// arithmetic cannot overflow (±146 million years; the collector rejects
// anything before 2000 or in the future anyway).
const (
	minTimeMS = math.MinInt64 / 2
	maxTimeMS = math.MaxInt64 / 2
)

// Placement tells the caller what Add did with a reading.
type Placement struct {
	WindowID  string // the window that will hold it (or already holds it, if Duplicate)
	Late      bool   // its on-time window was already sealed
	Duplicate bool   // a reading with the same (device id, seq) was already held; this copy was dropped or replaced
	Conflict  bool   // …and the two copies' bytes differ (a device fault: see doc.go)
}

// Builder assigns readings to windows and seals them as the watermark
// advances. It has no clock: the caller decides when to seal by passing a
// watermark, which makes the builder deterministic. A Builder is not safe for
// concurrent use; use one per shard.
type Builder struct {
	cfg    Config
	spanMS int64
	lateMS int64
	st     State

	open map[int64]*pending // on-time windows by start
	late map[int64]*pending // late windows being collected, by start

	// sealed remembers the keys of sealed windows until the consumer has
	// committed past them, so redelivered copies are recognised.
	sealed []sealedWindow
	keys   map[reading.Key]sealedKey
}

type sealedWindow struct {
	id        string
	maxOffset int64
	keys      []reading.Key
}

type sealedKey struct {
	id   string
	leaf Hash
}

type pending struct {
	entries        []entry
	index          map[reading.Key]int
	minOff, maxOff int64
}

// NewBuilder returns a builder that resumes from st (the zero State for a
// fresh start).
func NewBuilder(cfg Config, st State) (*Builder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("anchor builder config: %w", err)
	}
	return &Builder{
		cfg:    cfg,
		spanMS: cfg.Span.Milliseconds(),
		lateMS: cfg.Lateness.Milliseconds(),
		st:     st,
		open:   make(map[int64]*pending),
		late:   make(map[int64]*pending),
		keys:   make(map[reading.Key]sealedKey),
	}, nil
}

// State returns the state to persist alongside sealed windows.
func (b *Builder) State() State { return b.st }

// spanStart returns the start of the span holding ts (floor division).
func (b *Builder) spanStart(ts int64) int64 {
	s := ts - ts%b.spanMS
	if ts%b.spanMS < 0 {
		s -= b.spanMS
	}
	return s
}

// Watermark returns max event time seen − lateness, and false if nothing
// has been seen.
func (b *Builder) Watermark() (int64, bool) {
	if !b.st.Seen {
		return 0, false
	}
	return b.st.MaxEventMS - b.lateMS, true
}

// Add places one wire message (already validated and signature-checked by
// the collector) from source offset off. It fails only if the message does
// not decode. The message must not be modified afterwards.
func (b *Builder) Add(wire []byte, off int64) (Placement, error) {
	r, err := reading.Decode(wire)
	if err != nil {
		return Placement{}, fmt.Errorf("anchor add at offset %d: %w", off, err)
	}
	if r.TimeMS < minTimeMS || r.TimeMS > maxTimeMS {
		return Placement{}, fmt.Errorf("anchor add at offset %d: reading %s: timestamp %d ms out of range", off, r.Key(), r.TimeMS)
	}
	e := entry{key: r.Key(), ts: r.TimeMS, wire: wire}
	start := b.spanStart(r.TimeMS)
	if !b.st.Seen || r.TimeMS > b.st.MaxEventMS {
		b.st.MaxEventMS, b.st.Seen = r.TimeMS, true
	}
	if sk, ok := b.keys[e.key]; ok {
		// Already sealed: a redelivery (or a device fault). The sealed copy
		// stays; nothing can change a sealed window.
		return Placement{WindowID: sk.id, Duplicate: true, Conflict: sk.leaf != reading.LeafHash(wire)}, nil
	}
	m := b.open
	var pl Placement
	if start+b.spanMS <= b.st.SealedThroughMS {
		m = b.late
		pl.Late = true
		pl.WindowID = WindowID(b.cfg.Shard, start, KindLate, b.st.LateRound+1)
	} else {
		pl.WindowID = WindowID(b.cfg.Shard, start, KindOnTime, 0)
	}
	p := m[start]
	if p == nil {
		p = &pending{index: make(map[reading.Key]int), minOff: off, maxOff: off}
		m[start] = p
	}
	p.minOff, p.maxOff = min(p.minOff, off), max(p.maxOff, off)
	if i, ok := p.index[e.key]; ok {
		pl.Duplicate = true
		if c := bytes.Compare(wire, p.entries[i].wire); c != 0 {
			pl.Conflict = true
			if c < 0 {
				p.entries[i] = e
			}
		}
		return pl, nil
	}
	p.index[e.key] = len(p.entries)
	p.entries = append(p.entries, e)
	return pl, nil
}

// SealReady seals every on-time window whose span ends at or before
// watermarkMS, and every pending late window. It returns them ordered by
// (start, kind). A watermark at or below an earlier one seals only late
// windows. The caller usually passes Watermark(), or a larger value derived
// from its own clock to close an idle shard. Call it at the anchoring
// cadence, not after every Add, or late readings fragment into many small
// late windows.
func (b *Builder) SealReady(watermarkMS int64) []*Window {
	// Span ends are aligned, so end <= watermark iff end <= the aligned
	// boundary at or below the watermark.
	through := b.spanStart(watermarkMS)
	var out []*Window
	if through > b.st.SealedThroughMS {
		for start, p := range b.open {
			if start+b.spanMS <= through {
				out = append(out, b.seal(start, KindOnTime, 0, p))
				delete(b.open, start)
			}
		}
		b.st.SealedThroughMS = through
	}
	out = append(out, b.sealLate()...)
	sortWindows(out)
	return out
}

// Flush seals everything: all open on-time windows and all late windows,
// whatever the watermark. Use it at shutdown; later readings for the
// flushed spans become late.
func (b *Builder) Flush() []*Window {
	var out []*Window
	for start, p := range b.open {
		out = append(out, b.seal(start, KindOnTime, 0, p))
		delete(b.open, start)
		b.st.SealedThroughMS = max(b.st.SealedThroughMS, start+b.spanMS)
	}
	out = append(out, b.sealLate()...)
	sortWindows(out)
	return out
}

func (b *Builder) sealLate() []*Window {
	if len(b.late) == 0 {
		return nil
	}
	b.st.LateRound++
	out := make([]*Window, 0, len(b.late))
	for start, p := range b.late {
		out = append(out, b.seal(start, KindLate, b.st.LateRound, p))
		delete(b.late, start)
	}
	return out
}

// seal builds the window of a pending set. Pending sets are never empty and
// their entries were decoded and range-checked by Add, so it cannot fail.
func (b *Builder) seal(start int64, kind Kind, seq uint64, p *pending) *Window {
	w, err := sealEntries(b.cfg.Shard, start, start+b.spanMS, kind, seq, p.entries, p.minOff, p.maxOff)
	if err != nil {
		panic(fmt.Sprintf("anchor: seal window %s: %v", WindowID(b.cfg.Shard, start, kind, seq), err))
	}
	b.Remember(w)
	return w
}

// Remember registers a sealed window's keys so that redelivered copies of
// its readings are reported as duplicates instead of going to a late
// window. Sealing does this automatically; after a restart, call it for each
// window sealed after the last committed offset.
func (b *Builder) Remember(w *Window) {
	id := w.ID()
	for i, k := range w.keys {
		b.keys[k] = sealedKey{id: id, leaf: w.tree.LeafHash(uint64(i))}
	}
	b.sealed = append(b.sealed, sealedWindow{id: id, maxOffset: w.MaxOffset, keys: w.keys})
}

// Committed tells the builder that the consumer committed source offset
// off (the next offset it will read after a restart). Keys of sealed
// windows whose readings all lie below off are forgotten.
func (b *Builder) Committed(off int64) {
	kept := b.sealed[:0]
	for _, s := range b.sealed {
		if s.maxOffset < off {
			for _, k := range s.keys {
				if b.keys[k].id == s.id {
					delete(b.keys, k)
				}
			}
			continue
		}
		kept = append(kept, s)
	}
	clear(b.sealed[len(kept):])
	b.sealed = kept
}

// CommitOffset returns the lowest source offset still held in an unsealed
// window, and false if none is: the consumer may commit up to (but not
// including) it once the windows sealed so far are persisted.
func (b *Builder) CommitOffset() (int64, bool) {
	off, ok := int64(0), false
	for _, m := range []map[int64]*pending{b.open, b.late} {
		for _, p := range m {
			if !ok || p.minOff < off {
				off, ok = p.minOff, true
			}
		}
	}
	return off, ok
}

// Pending returns the number of readings held in unsealed windows.
func (b *Builder) Pending() int {
	n := 0
	for _, m := range []map[int64]*pending{b.open, b.late} {
		for _, p := range m {
			n += len(p.entries)
		}
	}
	return n
}

func sortWindows(ws []*Window) {
	slices.SortFunc(ws, func(a, b *Window) int {
		return compareSpans(a.StartMS, a.Kind, a.Seq, b.StartMS, b.Kind, b.Seq)
	})
}
