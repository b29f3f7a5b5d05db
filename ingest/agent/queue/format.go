package queue

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sunproof/sunproof/internal/atomicfile"
)

// On-disk format; see doc.go. All integers are little-endian.
const (
	// headerSize is the framing overhead of one record:
	// u32 data length, u32 CRC-32C(seq||data), u64 seq.
	headerSize = 16
	// MaxRecordBytes is the largest record Append accepts. It also bounds
	// what recovery is willing to read for one record.
	MaxRecordBytes = 16 << 20

	segmentExt    = ".seg"
	segmentDigits = 20
	stateFile     = "state"
	stateTmpFile  = "state.tmp"
	lockFile      = "LOCK"

	stateMagic = "SPQ1"
	stateSize  = 4 + 8 + 8 + 4 // magic, acked-through, last seq, CRC-32C
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendRecord appends the framed record to dst.
func appendRecord(dst []byte, seq uint64, data []byte) []byte {
	start := len(dst)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(data)))
	dst = binary.LittleEndian.AppendUint32(dst, 0) // CRC, filled below
	dst = binary.LittleEndian.AppendUint64(dst, seq)
	dst = append(dst, data...)
	binary.LittleEndian.PutUint32(dst[start+4:], crc32.Checksum(dst[start+8:], castagnoli))
	return dst
}

// header is a decoded record header.
type header struct {
	length uint32
	crc    uint32
	seq    uint64
}

func parseHeader(b []byte) header {
	return header{
		length: binary.LittleEndian.Uint32(b[0:]),
		crc:    binary.LittleEndian.Uint32(b[4:]),
		seq:    binary.LittleEndian.Uint64(b[8:]),
	}
}

// checksum returns CRC-32C(seq||data) given the raw header bytes.
func checksum(hdr, data []byte) uint32 {
	return crc32.Update(crc32.Checksum(hdr[8:headerSize], castagnoli), castagnoli, data)
}

// decodeRecord validates one complete framed record that is expected to
// carry seq and returns its data (sharing rec's memory, capacity clipped).
func decodeRecord(rec []byte, seq uint64) ([]byte, error) {
	if len(rec) < headerSize {
		return nil, errors.New("short record")
	}
	h := parseHeader(rec)
	if int(h.length) != len(rec)-headerSize {
		return nil, fmt.Errorf("length %d, index says %d", h.length, len(rec)-headerSize)
	}
	data := rec[headerSize:len(rec):len(rec)]
	if checksum(rec, data) != h.crc {
		return nil, errors.New("checksum mismatch")
	}
	if h.seq != seq {
		return nil, fmt.Errorf("seq %d, index says %d", h.seq, seq)
	}
	return data, nil
}

// segmentName is the file name of the segment whose first record has seq base.
func segmentName(base uint64) string {
	return fmt.Sprintf("%0*d%s", segmentDigits, base, segmentExt)
}

// parseSegmentName is the inverse of segmentName.
func parseSegmentName(name string) (uint64, bool) {
	digits, ok := strings.CutSuffix(name, segmentExt)
	if !ok || len(digits) != segmentDigits {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	base, err := strconv.ParseUint(digits, 10, 64)
	return base, err == nil
}

// state is the content of the state file.
type state struct {
	ackedThrough uint64 // every appended seq <= ackedThrough is acked
	lastSeq      uint64 // highest seq ever appended
}

func (s state) marshal() []byte {
	b := make([]byte, 0, stateSize)
	b = append(b, stateMagic...)
	b = binary.LittleEndian.AppendUint64(b, s.ackedThrough)
	b = binary.LittleEndian.AppendUint64(b, s.lastSeq)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func unmarshalState(b []byte) (state, error) {
	if len(b) != stateSize {
		return state{}, fmt.Errorf("size %d, want %d", len(b), stateSize)
	}
	if string(b[:4]) != stateMagic {
		return state{}, fmt.Errorf("bad magic %q", b[:4])
	}
	if crc32.Checksum(b[:stateSize-4], castagnoli) != binary.LittleEndian.Uint32(b[stateSize-4:]) {
		return state{}, errors.New("checksum mismatch")
	}
	s := state{
		ackedThrough: binary.LittleEndian.Uint64(b[4:]),
		lastSeq:      binary.LittleEndian.Uint64(b[12:]),
	}
	if s.ackedThrough > s.lastSeq {
		return state{}, fmt.Errorf("acked-through %d beyond last seq %d", s.ackedThrough, s.lastSeq)
	}
	return s, nil
}

// readState reads the state file; a missing file is the zero state.
func readState(dir string) (state, error) {
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return state{}, nil
	}
	if err != nil {
		return state{}, fmt.Errorf("read state: %w", err)
	}
	s, err := unmarshalState(b)
	if err != nil {
		return state{}, &CorruptError{File: stateFile, Offset: -1, Reason: err.Error()}
	}
	return s, nil
}

// writeState replaces the state file atomically: write a temporary file,
// fsync it, rename it over the old one and fsync the directory.
func writeState(dir string, s state) error {
	tmp := filepath.Join(dir, stateTmpFile)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	_, err = f.Write(s.marshal())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, stateFile))
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return nil
}

// syncDir fsyncs a directory so that creates, renames and removes in it
// are durable.
func syncDir(dir string) error { return atomicfile.SyncDir(dir) }
