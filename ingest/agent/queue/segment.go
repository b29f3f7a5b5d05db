package queue

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
)

// segment is one append-only segment file and its in-memory index.
//
// The index costs 8 bytes per record: the seq as a uint32 delta from base
// and the uint32 file offset. Append starts a new segment before either
// would overflow. Record lengths are implied by the next offset (or size).
type segment struct {
	base uint64 // from the file name; <= the first record's seq
	path string
	size int64    // bytes of complete records; the file is never longer after Open
	seqs []uint32 // seq - base, strictly increasing
	offs []uint32 // start offset of each record

	unacked  int      // records in this segment that are not acked
	f        *os.File // write handle; only while this is the active segment
	deleting bool     // picked by deleteAcked; still listed until removed
}

func (s *segment) name() string         { return filepath.Base(s.path) }
func (s *segment) count() int           { return len(s.seqs) }
func (s *segment) seqAt(i int) uint64   { return s.base + uint64(s.seqs[i]) }
func (s *segment) last() uint64         { return s.seqAt(len(s.seqs) - 1) }
func (s *segment) offAt(i int) int64    { return int64(s.offs[i]) }
func (s *segment) fits(seq uint64) bool { return seq >= s.base && seq-s.base <= math.MaxUint32 }

// end returns the end offset of record i.
func (s *segment) end(i int) int64 {
	if i+1 < len(s.offs) {
		return int64(s.offs[i+1])
	}
	return s.size
}

// lowerBound returns the index of the first record with seq >= x.
func (s *segment) lowerBound(x uint64) int {
	if x <= s.base {
		return 0
	}
	d := x - s.base
	if d > math.MaxUint32 {
		return len(s.seqs)
	}
	i, _ := slices.BinarySearch(s.seqs, uint32(d))
	return i
}

// upperBound returns the index of the first record with seq > x.
func (s *segment) upperBound(x uint64) int {
	if x == math.MaxUint64 {
		return len(s.seqs)
	}
	return s.lowerBound(x + 1)
}

// countAbove returns the number of records with seq > x.
func (s *segment) countAbove(x uint64) int { return len(s.seqs) - s.upperBound(x) }

// push adds a record to the index.
func (s *segment) push(seq uint64, off int64, frame int64) {
	s.seqs = append(s.seqs, uint32(seq-s.base))
	s.offs = append(s.offs, uint32(off))
	s.size = off + frame
}

// badTail describes where a segment stops being valid.
type badTail struct {
	off    int64
	torn   bool // the file ends inside a record: what an interrupted write leaves
	seq    uint64
	reason string
}

// scanSegment reads and validates every record of a segment file. Records
// must have seqs in [minSeq, maxSeq], strictly increasing and fitting the
// index. It returns the index of the valid prefix, the file size, and a
// non-nil badTail if the file has bytes after the valid prefix. Only I/O
// failures are returned as errors.
func scanSegment(path string, base, minSeq, maxSeq uint64) (*segment, int64, *badTail, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, nil, err
	}
	size := fi.Size()
	seg := &segment{base: base, path: path}
	br := bufio.NewReaderSize(f, 64<<10)
	var hdr [headerSize]byte
	var data []byte
	var off int64
	for off < size {
		rem := size - off
		if rem < headerSize {
			return seg, size, &badTail{off: off, torn: true, reason: fmt.Sprintf("%d-byte partial header", rem)}, nil
		}
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return nil, 0, nil, err
		}
		h := parseHeader(hdr[:])
		switch {
		case h.length > MaxRecordBytes:
			return seg, size, &badTail{off: off, reason: fmt.Sprintf("record length %d exceeds limit %d", h.length, MaxRecordBytes)}, nil
		case int64(h.length) > rem-headerSize:
			return seg, size, &badTail{off: off, torn: true, reason: fmt.Sprintf("record of %d bytes cut short at %d", h.length, rem-headerSize)}, nil
		case off > math.MaxUint32:
			return seg, size, &badTail{off: off, reason: "segment too large to index"}, nil
		}
		data = slices.Grow(data[:0], int(h.length))[:h.length]
		if _, err := io.ReadFull(br, data); err != nil {
			return nil, 0, nil, err
		}
		if checksum(hdr[:], data) != h.crc {
			return seg, size, &badTail{off: off, reason: "checksum mismatch"}, nil
		}
		prevOK := seg.count() == 0 || h.seq > seg.last()
		if h.seq < minSeq || h.seq > maxSeq || !prevOK || !seg.fits(h.seq) {
			return seg, size, &badTail{off: off, seq: h.seq, reason: fmt.Sprintf("seq %d out of order (allowed [%d, %d])", h.seq, minSeq, maxSeq)}, nil
		}
		frame := int64(headerSize) + int64(h.length)
		seg.push(h.seq, off, frame)
		off += frame
	}
	return seg, size, nil, nil
}

// allZero reports whether the bytes of path in [off, size) are all zero,
// which is what a file system leaves when a crash persisted a file's size
// but not its data.
func allZero(path string, off, size int64) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	buf := make([]byte, 32<<10)
	for off < size {
		n, err := f.ReadAt(buf[:min(int64(len(buf)), size-off)], off)
		if !allZeroBytes(buf[:n]) {
			return false, nil
		}
		off += int64(n)
		if err != nil {
			if err == io.EOF {
				return true, nil
			}
			return false, err
		}
	}
	return true, nil
}

func allZeroBytes(b []byte) bool {
	return len(bytes.Trim(b, "\x00")) == 0
}
