// Package queue is the edge agent's durable, crash-safe, disk-backed FIFO of
// signed readings, keyed by a caller-assigned, strictly increasing uint64
// sequence number.
//
// The agent appends every reading before publishing it and acks it only when
// the central collector confirms it is stored (end to end). Records are
// drained in seq order; acks may arrive in any order, duplicated, as ranges,
// or for seqs that are long gone.
//
//	q, err := queue.Open(queue.DefaultConfig("/var/lib/sunproof/queue"), log)
//	seq := q.LastSeq() + 1              // never reuse a seq
//	err = q.Append(seq, signedReading)  // before publishing
//	recs, err := q.Pending(lastPublished, 500)
//	q.Ack(from, to)                     // from the collector's confirmation
//
// # On-disk layout
//
// The directory holds:
//
//	LOCK                        flock(2)ed while open: one Queue per directory
//	state                       ack cursor and last seq (24 bytes)
//	state.tmp                   transient, while the state file is replaced
//	<first-seq, 20 digits>.seg  append-only segment files
//
// A segment is a plain sequence of records (no file header). All integers are
// little-endian:
//
//	u32 length of data
//	u32 CRC-32C (Castagnoli) of seq||data (the 8 seq bytes as stored, then data)
//	u64 seq
//	    data (length bytes, at most MaxRecordBytes)
//
// Seqs increase strictly within a segment and across segments, and a
// segment's name is <= its first seq (equal unless a write into a new segment
// failed). seq 0 is never valid, so a zero-filled region never parses as a
// record. The state file is "SPQ1", u64 acked-through, u64 last seq, and a
// CRC-32C of the preceding 20 bytes; it is replaced atomically (write
// state.tmp, fsync, rename, fsync the directory).
//
// # Durability per fsync policy
//
// "Durable" means the record survives both a process kill and a power cut.
//
//   - "always": Append fsyncs before it returns. A record is durable when
//     Append returns nil. Cost: one fsync per record (see the benchmarks).
//   - "interval": a background goroutine fsyncs every FsyncInterval. A power
//     cut may lose records appended in the last interval; a process crash
//     (kill -9) loses nothing, since the data is in the page cache.
//   - "never": the OS writes back when it likes (typically within 30 s on
//     Linux). Same as "interval" with a longer, unbounded window.
//
// Under every policy, a segment is fsynced before the next one is created,
// segment creation and removal fsync the directory, and Sync and Close fsync
// the active segment. Hence only the last segment can have a torn tail.
//
// # Crash semantics and recovery
//
// Open scans and checksums every record to rebuild the index. In the last
// segment, everything from the first invalid record on (partial header,
// record cut short, CRC mismatch, implausible length, seq out of order) is
// truncated and logged at Warn: that is the write that was in flight, or
// unsynced data, when the crash happened. In any other segment only a torn
// tail (file ends inside a record, or the rest is zero bytes) is truncated;
// anything else is returned as a *CorruptError (ErrCorrupt) because no crash
// explains it, and silently dropping records in the middle of the queue is
// worse than refusing to start. A corrupt state file is also ErrCorrupt.
// Bit rot in the middle of the last segment cannot be told from a torn
// write, so it truncates the rest of that segment.
//
// A record that passed Open but fails its checksum when Pending reads it
// makes Pending return a *CorruptError carrying the record's Seq; acking
// that seq skips it.
//
// # Acks and the cursor
//
// AckedThrough is the highest s such that every appended seq <= s is acked
// (seqs the caller never appended do not hold it back). Only it and LastSeq
// are persisted, lazily: when a segment is deleted, at most every
// CheckpointInterval (default 1 s) while they change, on Sync and on Close.
// Acks above the cursor are kept in memory as a set of ranges, whose size is
// the number of holes, not the number of acked records.
//
// Trade-off: after a crash, acks not yet persisted are forgotten, and those
// records are published again. The collector's resend path re-acks them and
// downstream drops duplicates by (device_id, seq). An acked record is thus
// sometimes sent twice, but an unacked record is never lost. Acks above
// LastSeq are ignored, so a bogus ack cannot drop a record appended later.
//
// A segment is deleted once every record in it is acked. The active segment
// is kept while it is written (it is deleted at Close, or at the next Open,
// if fully acked), so disk space is reclaimed in units of SegmentBytes.
// Before deleting, the state is persisted, so LastSeq survives even when all
// segments are gone.
//
// # LastSeq
//
// LastSeq is the maximum of the persisted last seq and the last record on
// disk. Under "always" it never goes backwards: every seq that Append
// acknowledged is on disk. Under "interval" and "never" a power cut can lose
// the unsynced tail, and LastSeq can go back to the highest seq that was
// synced or checkpointed; the agent will then reuse seqs of records that
// may already have been published, and downstream deduplication by
// (device_id, seq) will drop the new readings. Agents that care use
// "always" or call Sync before publishing.
//
// # Ordering
//
// Append rejects seq <= LastSeq with ErrSeqOrder. Pending returns records in
// ascending seq order, skipping acked ones. A record acked while Pending
// runs may still be returned (harmless duplicate).
//
// # Memory and disk bounds
//
// Record data lives on disk only; Pending reads it (one read per run of
// adjacent records). The index costs 8 bytes per record (a uint32 seq delta
// and a uint32 offset, plus slice growth), so 1M queued records need about
// 8-16 MB, plus 16 bytes per hole in the acked set. Open reads each segment
// once, sequentially. MaxBytes bounds the total size of segment files
// (Bytes); Append returns ErrFull instead of dropping anything.
//
// # Concurrency
//
// All methods are safe for concurrent use. Appends are serialized; an
// fsync in Append does not block Ack, the getters, or Pending's index walk,
// and Pending reads record data without holding any lock. A background
// goroutine does periodic fsync ("interval"), checkpoints and segment
// deletion; Close stops it. Another process or Queue opening the same
// directory gets ErrLocked.
//
// Errors from the background goroutine are logged (periodic fsync failure
// at Error, and it fails the queue: Append then returns the error until the
// queue is reopened; checkpoint failures at Warn, and they are retried).
package queue
