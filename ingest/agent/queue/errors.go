package queue

import (
	"errors"
	"fmt"
)

// Sentinel errors. Errors returned by this package wrap them with context;
// test with errors.Is.
var (
	// ErrFull: the Append would grow the segment files beyond
	// Config.MaxBytes. Nothing was written; retry after acks free a segment.
	ErrFull = errors.New("queue: full")
	// ErrSeqOrder: Append was called with a seq not greater than LastSeq.
	ErrSeqOrder = errors.New("queue: sequence number not increasing")
	// ErrCorrupt: on-disk data failed validation in a place that a crash
	// cannot explain (see CorruptError).
	ErrCorrupt = errors.New("queue: corrupt data")
	// ErrClosed: the queue was closed.
	ErrClosed = errors.New("queue: closed")
	// ErrTooLarge: the record is longer than MaxRecordBytes.
	ErrTooLarge = errors.New("queue: record too large")
	// ErrLocked: another Queue (in this or another process) has the
	// directory open.
	ErrLocked = errors.New("queue: directory in use")
)

// CorruptError describes corrupt on-disk data. It unwraps to ErrCorrupt.
//
// Pending returns it when a record that was valid at Open fails its
// checksum when read back (media error). Seq is then the record's sequence
// number; acking it (Ack(Seq, Seq)) skips the record.
type CorruptError struct {
	File   string // base name of the file, e.g. "00000000000000000001.seg"
	Offset int64  // byte offset of the bad record, or -1
	Seq    uint64 // sequence number of the bad record, 0 if unknown
	Reason string
}

func (e *CorruptError) Error() string {
	s := fmt.Sprintf("%v: %s", ErrCorrupt, e.File)
	if e.Offset >= 0 {
		s += fmt.Sprintf(" offset %d", e.Offset)
	}
	if e.Seq != 0 {
		s += fmt.Sprintf(" seq %d", e.Seq)
	}
	return s + ": " + e.Reason
}

// Unwrap returns ErrCorrupt.
func (e *CorruptError) Unwrap() error { return ErrCorrupt }
