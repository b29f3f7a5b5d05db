package queue

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"time"
)

// Record is one queued record.
type Record struct {
	Seq  uint64
	Data []byte
}

// Queue is a durable FIFO of records keyed by strictly increasing sequence
// numbers. See the package documentation for its guarantees. All methods
// are safe for concurrent use.
type Queue struct {
	cfg  Config
	log  *slog.Logger
	dir  string
	lock *os.File

	// Lock order: appendMu, then stateMu, then mu. mu is never held during
	// file I/O, so Ack, Pending's index walk and the getters do not wait
	// for an fsync.
	appendMu sync.Mutex // serializes writes to the active segment
	wbuf     []byte     // framing buffer; guarded by appendMu
	dirty    bool       // written since last fsync; guarded by appendMu

	stateMu sync.Mutex // serializes state-file writes and segment removal

	mu           sync.Mutex
	segments     []*segment // ascending by base; only the last may be empty
	active       *segment   // the segment Append writes to (last of segments), or nil
	acks         rangeSet   // acked seqs above ackedThrough
	ackedThrough uint64
	lastSeq      uint64
	unacked      int   // records not acked
	bytes        int64 // sum of segment sizes
	persisted    state // what the state file holds
	closed       bool
	failed       error // sticky: the active segment is in an unknown state

	wake chan struct{} // a sealed segment became fully acked
	stop chan struct{}
	done chan struct{}
}

// Open opens (creating if needed) the queue in cfg.Dir and recovers it:
// every segment is scanned and checksummed to rebuild the index, a torn or
// corrupt tail of the last segment is truncated (and logged), and segments
// whose records are all acked are deleted. Corruption anywhere else
// returns an error wrapping ErrCorrupt (see CorruptError). A nil logger
// discards logs.
func Open(cfg Config, log *slog.Logger) (*Queue, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("open queue: %w", err)
	}
	lock, err := lockDir(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("open queue %s: %w", cfg.Dir, err)
	}
	q := &Queue{
		cfg:  cfg,
		log:  log,
		dir:  cfg.Dir,
		lock: lock,
		wake: make(chan struct{}, 1),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	if err := q.recover(); err != nil {
		if q.active != nil && q.active.f != nil {
			q.active.f.Close()
		}
		unlockDir(lock)
		return nil, fmt.Errorf("open queue %s: %w", cfg.Dir, err)
	}
	go q.run()
	return q, nil
}

// recover rebuilds the in-memory state from the directory. It runs before
// the queue is shared, so it does not lock.
func (q *Queue) recover() error {
	if err := os.Remove(filepath.Join(q.dir, stateTmpFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	st, err := readState(q.dir)
	if err != nil {
		return err
	}
	entries, err := os.ReadDir(q.dir)
	if err != nil {
		return err
	}
	var bases []uint64
	for _, e := range entries {
		base, ok := parseSegmentName(e.Name())
		if !ok {
			if filepath.Ext(e.Name()) == segmentExt {
				q.log.Warn("ignoring file with malformed segment name", "dir", q.dir, "file", e.Name())
			}
			continue
		}
		if !e.Type().IsRegular() {
			return &CorruptError{File: e.Name(), Offset: -1, Reason: "segment is not a regular file"}
		}
		bases = append(bases, base)
	}
	slices.Sort(bases)

	for i, base := range bases {
		path := filepath.Join(q.dir, segmentName(base))
		isLast := i == len(bases)-1
		minSeq, maxSeq := base, uint64(math.MaxUint64)
		if n := len(q.segments); n > 0 {
			prev := q.segments[n-1].last()
			if prev == math.MaxUint64 {
				return &CorruptError{File: segmentName(base), Offset: -1, Reason: "segment after the maximum seq"}
			}
			minSeq = max(minSeq, prev+1)
		}
		if !isLast {
			maxSeq = bases[i+1] - 1 // bases are distinct, so bases[i+1] > 0
		}
		seg, size, bad, err := scanSegment(path, base, minSeq, maxSeq)
		if err != nil {
			return fmt.Errorf("scan segment %s: %w", segmentName(base), err)
		}
		if bad != nil {
			if !isLast && !bad.torn {
				zero, err := allZero(path, bad.off, size)
				if err != nil {
					return fmt.Errorf("scan segment %s: %w", segmentName(base), err)
				}
				if !zero {
					return &CorruptError{File: segmentName(base), Offset: bad.off, Seq: bad.seq, Reason: bad.reason}
				}
				bad.reason += " (zero-filled tail)"
			}
			q.log.Warn("truncating torn or corrupt segment tail",
				"dir", q.dir, "segment", segmentName(base), "offset", bad.off,
				"dropped_bytes", size-bad.off, "last_valid_seq", lastOr(seg, 0), "reason", bad.reason)
			if err := truncateFile(path, bad.off); err != nil {
				return fmt.Errorf("truncate segment %s: %w", segmentName(base), err)
			}
		}
		if seg.count() == 0 {
			if err := os.Remove(path); err != nil {
				return fmt.Errorf("remove empty segment: %w", err)
			}
			q.log.Info("removed empty segment", "dir", q.dir, "segment", segmentName(base))
			continue
		}
		q.segments = append(q.segments, seg)
	}

	q.ackedThrough = st.ackedThrough
	q.lastSeq = st.lastSeq
	q.persisted = st
	if n := len(q.segments); n > 0 {
		q.lastSeq = max(q.lastSeq, q.segments[n-1].last())
	}
	for _, s := range q.segments {
		s.unacked = s.countAbove(q.ackedThrough)
		q.unacked += s.unacked
		q.bytes += s.size
	}
	q.advanceLocked()

	// Everything is acked in segments that are wholly at or below the
	// cursor (a crash hit between persisting the cursor and deleting).
	if err := q.deleteAcked(); err != nil {
		return err
	}
	if n := len(q.segments); n > 0 {
		s := q.segments[n-1]
		f, err := os.OpenFile(s.path, os.O_RDWR, 0)
		if err != nil {
			return fmt.Errorf("open active segment: %w", err)
		}
		s.f = f
		q.active = s
	}
	q.log.Info("queue opened", "dir", q.dir, "segments", len(q.segments), "pending", q.unacked,
		"bytes", q.bytes, "last_seq", q.lastSeq, "acked_through", q.ackedThrough)
	return nil
}

func lastOr(s *segment, def uint64) uint64 {
	if s.count() == 0 {
		return def
	}
	return s.last()
}

func truncateFile(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Truncate(size)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Append writes a record. seq must be greater than LastSeq. rec is copied
// (Append does not retain it). With Fsync "always" the record is on stable
// storage when Append returns nil.
//
// Errors: ErrSeqOrder, ErrFull, ErrTooLarge and ErrClosed leave the queue
// unchanged. An I/O error while writing is rolled back; if the rollback or
// the fsync fails, the queue is failed and every later Append returns the
// same error until it is reopened (the record may or may not be on disk
// then, and LastSeq after reopening says which).
func (q *Queue) Append(seq uint64, rec []byte) error {
	if len(rec) > MaxRecordBytes {
		return fmt.Errorf("append seq %d: %d bytes: %w", seq, len(rec), ErrTooLarge)
	}
	frame := int64(headerSize + len(rec))

	q.appendMu.Lock()
	defer q.appendMu.Unlock()

	q.mu.Lock()
	switch {
	case q.closed:
		q.mu.Unlock()
		return fmt.Errorf("append seq %d: %w", seq, ErrClosed)
	case q.failed != nil:
		err := q.failed
		q.mu.Unlock()
		return fmt.Errorf("append seq %d: queue failed earlier, reopen it: %w", seq, err)
	case seq <= q.lastSeq:
		last := q.lastSeq
		q.mu.Unlock()
		return fmt.Errorf("append seq %d after %d: %w", seq, last, ErrSeqOrder)
	case q.cfg.MaxBytes > 0 && q.bytes+frame > q.cfg.MaxBytes:
		used := q.bytes
		q.mu.Unlock()
		return fmt.Errorf("append seq %d: %d of %d bytes used: %w", seq, used, q.cfg.MaxBytes, ErrFull)
	}
	a := q.active
	q.mu.Unlock()

	// a.size only changes under appendMu, which we hold.
	if a == nil || (a.size > 0 && a.size+frame > q.cfg.SegmentBytes) || !a.fits(seq) {
		var err error
		if a, err = q.roll(seq); err != nil {
			return fmt.Errorf("append seq %d: %w", seq, err)
		}
	}

	off := a.size
	q.wbuf = appendRecord(q.wbuf[:0], seq, rec)
	if _, err := a.f.WriteAt(q.wbuf, off); err != nil {
		if terr := a.f.Truncate(off); terr != nil {
			q.fail(fmt.Errorf("roll back failed write to %s: %w", a.name(), errors.Join(err, terr)))
		}
		return fmt.Errorf("append seq %d: write %s: %w", seq, a.name(), err)
	}
	if q.cfg.Fsync == FsyncAlways {
		if err := a.f.Sync(); err != nil {
			err = fmt.Errorf("fsync %s: %w", a.name(), err)
			q.fail(err)
			return fmt.Errorf("append seq %d: %w", seq, err)
		}
	} else {
		q.dirty = true
	}
	if cap(q.wbuf) > 1<<20 {
		q.wbuf = nil // don't pin a buffer sized for one huge record
	}

	q.mu.Lock()
	a.push(seq, off, frame)
	a.unacked++
	q.unacked++
	q.bytes += frame
	q.lastSeq = seq
	q.mu.Unlock()
	return nil
}

// roll seals the active segment (fsync, whatever the policy, so that a
// sealed segment is always complete on disk) and starts a new one named
// after seq. Called with appendMu held.
func (q *Queue) roll(seq uint64) (*segment, error) {
	if old := q.active; old != nil {
		if err := old.f.Sync(); err != nil {
			err = fmt.Errorf("fsync %s: %w", old.name(), err)
			q.fail(err)
			return nil, err
		}
		q.dirty = false
		err := old.f.Close()
		q.mu.Lock()
		old.f = nil
		q.active = nil
		sealedAcked := old.unacked == 0
		q.mu.Unlock()
		if err != nil {
			return nil, fmt.Errorf("close %s: %w", old.name(), err)
		}
		if sealedAcked {
			q.signal()
		}
	}
	path := filepath.Join(q.dir, segmentName(seq))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return nil, fmt.Errorf("create segment: %w", err)
	}
	if err := syncDir(q.dir); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("create segment %s: fsync dir: %w", segmentName(seq), err)
	}
	s := &segment{base: seq, path: path, f: f}
	q.mu.Lock()
	q.segments = append(q.segments, s)
	q.active = s
	q.mu.Unlock()
	return s, nil
}

// fail makes the queue refuse further appends.
func (q *Queue) fail(err error) {
	q.mu.Lock()
	if q.failed == nil {
		q.failed = err
	}
	q.mu.Unlock()
}

func (q *Queue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Ack marks every seq in [from, to] as confirmed. It is idempotent, accepts
// ranges in any order, and ignores seqs that are already acked or removed.
// Seqs above LastSeq are ignored (they cannot have been published, and
// acking them would silently drop future records). Acks are kept in memory
// and persisted lazily; see the package documentation.
func (q *Queue) Ack(from, to uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	to = min(to, q.lastSeq)
	if from <= q.ackedThrough {
		from = q.ackedThrough + 1 // ackedThrough <= lastSeq; if it is MaxUint64, to < from below
	}
	if from > to || from == 0 {
		return
	}
	sealedAcked := false
	q.acks.add(from, to, func(lo, hi uint64) {
		sealedAcked = q.markAckedLocked(lo, hi) || sealedAcked
	})
	q.advanceLocked()
	if sealedAcked {
		q.signal()
	}
}

// markAckedLocked accounts for the records in [lo, hi], none of which was
// acked before. It reports whether a sealed segment became fully acked.
func (q *Queue) markAckedLocked(lo, hi uint64) bool {
	segs := q.nonEmptyLocked()
	i := sort.Search(len(segs), func(k int) bool { return segs[k].last() >= lo })
	sealedAcked := false
	for ; i < len(segs) && segs[i].base <= hi; i++ {
		s := segs[i]
		n := s.upperBound(hi) - s.lowerBound(lo)
		s.unacked -= n
		q.unacked -= n
		if n > 0 && s.unacked == 0 && s != q.active {
			sealedAcked = true
		}
	}
	return sealedAcked
}

// nonEmptyLocked returns the segments that have records. Only the active
// (last) segment can be empty.
func (q *Queue) nonEmptyLocked() []*segment {
	segs := q.segments
	if n := len(segs); n > 0 && segs[n-1].count() == 0 {
		segs = segs[:n-1]
	}
	return segs
}

// firstAfterLocked returns the lowest stored seq greater than x.
func (q *Queue) firstAfterLocked(x uint64) (uint64, bool) {
	if x == math.MaxUint64 {
		return 0, false
	}
	segs := q.nonEmptyLocked()
	i := sort.Search(len(segs), func(k int) bool { return segs[k].last() > x })
	if i == len(segs) {
		return 0, false
	}
	s := segs[i]
	return s.seqAt(s.lowerBound(x + 1)), true
}

// advanceLocked moves ackedThrough as far as the acks allow. ackedThrough
// is one less than the lowest stored seq that is not acked (or lastSeq if
// there is none): seqs that were never appended do not hold it back.
func (q *Queue) advanceLocked() {
	for {
		next, ok := q.firstAfterLocked(q.ackedThrough)
		if !ok {
			q.ackedThrough = q.lastSeq
			q.acks.clear()
			return
		}
		if sp, ok := q.acks.first(); ok && sp.lo <= next && next <= sp.hi {
			q.ackedThrough = sp.hi
			q.acks.dropThrough(sp.hi)
			continue
		}
		q.ackedThrough = next - 1
		q.acks.dropThrough(q.ackedThrough)
		return
	}
}

// Pending returns up to limit unacked records with seq > after, in seq
// order; limit also bounds the memory it uses. Record data is read from disk and owned by the caller. The
// publisher typically calls Pending(lastPublished, batch) and, after a
// reconnect, Pending(0, batch) to resend everything not yet acked.
//
// A record that fails its checksum on read yields a *CorruptError naming
// its Seq; Ack that seq to skip it.
func (q *Queue) Pending(after uint64, limit int) ([]Record, error) {
	if limit <= 0 {
		return nil, nil
	}
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return nil, fmt.Errorf("pending: %w", ErrClosed)
	}
	locs := q.pendingLocked(after, limit)
	q.mu.Unlock()
	return readLocs(locs)
}

// loc is where one pending record lives on disk.
type loc struct {
	seg      *segment // only path is used outside the lock
	off, end int64
	seq      uint64
}

func (q *Queue) pendingLocked(after uint64, limit int) []loc {
	from := max(after, q.ackedThrough)
	if from == math.MaxUint64 || q.unacked == 0 {
		return nil
	}
	from++
	segs := q.nonEmptyLocked()
	spans := q.acks.spans
	si := sort.Search(len(segs), func(k int) bool { return segs[k].last() >= from })
	k := sort.Search(len(spans), func(k int) bool { return spans[k].hi >= from })
	locs := make([]loc, 0, min(limit, q.unacked))
	for ; si < len(segs) && len(locs) < limit; si++ {
		s := segs[si]
		if s.unacked == 0 {
			continue
		}
		i := s.lowerBound(from)
		for i < s.count() && len(locs) < limit {
			seq := s.seqAt(i)
			for k < len(spans) && spans[k].hi < seq {
				k++
			}
			if k < len(spans) && spans[k].lo <= seq {
				if spans[k].hi == math.MaxUint64 {
					return locs
				}
				i = s.lowerBound(spans[k].hi + 1)
				continue
			}
			locs = append(locs, loc{seg: s, off: s.offAt(i), end: s.end(i), seq: seq})
			i++
		}
	}
	return locs
}

// readLocs reads records, one ReadAt per run of adjacent records.
func readLocs(locs []loc) ([]Record, error) {
	out := make([]Record, 0, len(locs))
	for i := 0; i < len(locs); {
		s := locs[i].seg
		j := i + 1
		for j < len(locs) && locs[j].seg == s {
			j++
		}
		f, err := os.Open(s.path)
		if errors.Is(err, fs.ErrNotExist) {
			// Deleted since the index walk, so all its records were acked.
			i = j
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("pending: %w", err)
		}
		for a := i; a < j; {
			b := a + 1
			for b < j && locs[b].off == locs[b-1].end {
				b++
			}
			start := locs[a].off
			buf := make([]byte, locs[b-1].end-start)
			if _, err := f.ReadAt(buf, start); err != nil {
				f.Close()
				return nil, fmt.Errorf("pending: read %s at %d: %w", s.name(), start, err)
			}
			for _, l := range locs[a:b] {
				data, err := decodeRecord(buf[l.off-start:l.end-start], l.seq)
				if err != nil {
					f.Close()
					return nil, &CorruptError{File: s.name(), Offset: l.off, Seq: l.seq, Reason: err.Error()}
				}
				out = append(out, Record{Seq: l.seq, Data: data})
			}
			a = b
		}
		f.Close()
		i = j
	}
	return out, nil
}

// LastSeq returns the highest seq ever appended, 0 for a new queue. It
// survives restarts even when every record was acked and deleted.
func (q *Queue) LastSeq() uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.lastSeq
}

// AckedThrough returns the highest s such that every appended seq <= s is
// acked. Seqs the caller skipped (never appended) count as acked.
func (q *Queue) AckedThrough() uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.ackedThrough
}

// Len returns the number of records not acked.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.unacked
}

// Bytes returns the total size of the segment files, including acked
// records whose segment has not been deleted yet. This is what MaxBytes
// limits.
func (q *Queue) Bytes() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.bytes
}

// Sync fsyncs the active segment, deletes fully acked segments and
// persists the ack cursor. Use it with Fsync "interval" or "never" when a
// point of durability is needed.
func (q *Queue) Sync() error {
	q.mu.Lock()
	closed := q.closed
	q.mu.Unlock()
	if closed {
		return fmt.Errorf("sync: %w", ErrClosed)
	}
	if err := q.syncActive(false); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	if err := q.checkpoint(); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	return nil
}

// syncActive fsyncs the active segment (if onlyDirty, only when written
// since the last fsync). A failed fsync fails the queue.
func (q *Queue) syncActive(onlyDirty bool) error {
	q.appendMu.Lock()
	defer q.appendMu.Unlock()
	q.mu.Lock()
	a, failed := q.active, q.failed
	q.mu.Unlock()
	if failed != nil {
		return fmt.Errorf("queue failed earlier, reopen it: %w", failed)
	}
	if a == nil || a.f == nil || (onlyDirty && !q.dirty) {
		return nil
	}
	if err := a.f.Sync(); err != nil {
		err = fmt.Errorf("fsync %s: %w", a.name(), err)
		q.fail(err)
		return err
	}
	q.dirty = false
	return nil
}

// checkpoint deletes fully acked segments and persists the state if it
// changed since it was last written.
func (q *Queue) checkpoint() error {
	if err := q.deleteAcked(); err != nil {
		return err
	}
	q.stateMu.Lock()
	defer q.stateMu.Unlock()
	q.mu.Lock()
	st := q.stateLocked()
	changed := st != q.persisted
	q.mu.Unlock()
	if !changed {
		return nil
	}
	if err := writeState(q.dir, st); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	q.mu.Lock()
	q.persisted = st
	q.mu.Unlock()
	return nil
}

func (q *Queue) stateLocked() state {
	return state{ackedThrough: q.ackedThrough, lastSeq: q.lastSeq}
}

// deleteAcked removes every segment, except the active one, whose records
// are all acked. It persists the state first, so that LastSeq survives the
// removal and a crash in between only leaves segments that the next Open
// deletes.
func (q *Queue) deleteAcked() error {
	q.stateMu.Lock()
	defer q.stateMu.Unlock()

	q.mu.Lock()
	var victims []*segment
	for _, s := range q.segments {
		if s.unacked == 0 && s != q.active && !s.deleting {
			s.deleting = true
			victims = append(victims, s)
		}
	}
	st := q.stateLocked()
	q.mu.Unlock()
	if len(victims) == 0 {
		return nil
	}

	err := writeState(q.dir, st)
	if err == nil {
		q.mu.Lock()
		q.persisted = st
		q.mu.Unlock()
		for _, s := range victims {
			if rerr := os.Remove(s.path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
				err = errors.Join(err, rerr)
			}
		}
		// Not strictly needed (a resurrected segment is deleted again at
		// Open) but keeps Open after power loss from re-reading it.
		err = errors.Join(err, syncDir(q.dir))
	}

	q.mu.Lock()
	defer q.mu.Unlock()
	if err != nil {
		for _, s := range victims {
			s.deleting = false
		}
		return fmt.Errorf("delete acked segments: %w", err)
	}
	q.segments = slices.DeleteFunc(q.segments, func(s *segment) bool {
		if s.deleting {
			q.bytes -= s.size
			return true
		}
		return false
	})
	for _, s := range victims {
		q.log.Debug("deleted acked segment", "dir", q.dir, "segment", s.name(), "records", s.count())
	}
	return nil
}

// run is the background goroutine: periodic fsync (policy "interval"),
// periodic checkpoint, and prompt deletion of fully acked segments.
func (q *Queue) run() {
	defer close(q.done)
	ckpt := time.NewTicker(q.cfg.CheckpointInterval)
	defer ckpt.Stop()
	var fsyncC <-chan time.Time
	if q.cfg.Fsync == FsyncOnInterval {
		t := time.NewTicker(q.cfg.FsyncInterval)
		defer t.Stop()
		fsyncC = t.C
	}
	for {
		select {
		case <-q.stop:
			return
		case <-fsyncC:
			if err := q.syncActive(true); err != nil {
				q.log.Error("periodic fsync failed; appends will fail until the queue is reopened", "dir", q.dir, "err", err)
				fsyncC = nil // reported once; the failure is sticky
			}
		case <-q.wake:
			if err := q.deleteAcked(); err != nil {
				q.log.Warn("deleting acked segments failed; will retry", "dir", q.dir, "err", err)
			}
		case <-ckpt.C:
			if err := q.checkpoint(); err != nil {
				q.log.Warn("checkpoint failed; will retry", "dir", q.dir, "err", err)
			}
		}
	}
}

// Close stops the background work, fsyncs the active segment, deletes
// fully acked segments (including the active one, now that it is no
// longer written), persists the state and releases the directory. Calling
// Close again returns ErrClosed.
func (q *Queue) Close() error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return fmt.Errorf("close: %w", ErrClosed)
	}
	q.closed = true
	q.mu.Unlock()
	close(q.stop)
	<-q.done

	var errs []error
	q.appendMu.Lock()
	q.mu.Lock()
	a, failed := q.active, q.failed
	q.active = nil
	q.mu.Unlock()
	if a != nil && a.f != nil {
		if failed == nil {
			if err := a.f.Sync(); err != nil {
				errs = append(errs, fmt.Errorf("fsync %s: %w", a.name(), err))
			}
		}
		if err := a.f.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close %s: %w", a.name(), err))
		}
		a.f = nil
	}
	q.appendMu.Unlock()
	if err := q.checkpoint(); err != nil {
		errs = append(errs, err)
	}
	if err := unlockDir(q.lock); err != nil {
		errs = append(errs, fmt.Errorf("unlock: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close queue %s: %w", q.dir, err)
	}
	return nil
}
