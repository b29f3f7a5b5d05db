package influxql

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
)

// Rows reads a query response in MessagePack (Accept: application/x-msgpack)
// row by row, without building the response in memory: a chunked response
// is a sequence of MessagePack documents, each
//
//	{"results": [{"statement_id": 0, "series": [{"name": …, "tags": {…},
//	  "columns": […], "values": [[…], …], "partial": true}], "partial": true}]}
//
// or {"error": "…"} (a result may also hold an "error"). It decodes exactly
// the subset InfluxDB 1.8 writes: maps, arrays, strings, nil, booleans,
// integers and floats; anything else (such as the timestamp extension
// InfluxDB uses without epoch) is an error. Keys it does not know are
// skipped. A series' name, tags and columns must come before its values, as
// InfluxDB writes them.
type Rows struct {
	d      decoder
	closer io.Closer

	docKeys, results, resultKeys, series, seriesKeys, rows int // left to read at each level
	inResult, inSeries                                     bool
	statementID                                            int

	cur        Series
	row        []Value
	newSeries  bool
	seriesRows int
}

// Series describes the series of the current row.
type Series struct {
	StatementID int
	Name        string
	Tags        []Tag
	Columns     []string
}

// Tag is one tag of a series.
type Tag struct{ Key, Value string }

// Tag returns the value of the tag key ("" if the series has none).
func (s *Series) Tag(key string) string {
	for _, t := range s.Tags {
		if t.Key == key {
			return t.Value
		}
	}
	return ""
}

// Column returns the index of the named column, or −1.
func (s *Series) Column(name string) int {
	for i, c := range s.Columns {
		if c == name {
			return i
		}
	}
	return -1
}

// Kind is the type of a Value.
type Kind uint8

// Value kinds. Integers that fit in int64 are KindInt, larger unsigned
// ones KindUint.
const (
	KindNil Kind = iota
	KindInt
	KindUint
	KindFloat
	KindString
	KindBool
)

// Value is one decoded value of a row.
type Value struct {
	Kind  Kind
	Int   int64   // KindInt
	Uint  uint64  // KindUint
	Float float64 // KindFloat
	Str   string  // KindString
	Bool  bool    // KindBool
}

// Int64 returns an integer value.
func (v Value) Int64() (int64, bool) { return v.Int, v.Kind == KindInt }

// Uint64 returns a non-negative integer value.
func (v Value) Uint64() (uint64, bool) {
	switch v.Kind {
	case KindInt:
		return uint64(v.Int), v.Int >= 0
	case KindUint:
		return v.Uint, true
	}
	return 0, false
}

// Float64 returns a number as a float64 (integers are converted).
func (v Value) Float64() (float64, bool) {
	switch v.Kind {
	case KindFloat:
		return v.Float, true
	case KindInt:
		return float64(v.Int), true
	case KindUint:
		return float64(v.Uint), true
	}
	return 0, false
}

func (v Value) String() string {
	switch v.Kind {
	case KindInt:
		return strconv.FormatInt(v.Int, 10)
	case KindUint:
		return strconv.FormatUint(v.Uint, 10)
	case KindFloat:
		return strconv.FormatFloat(v.Float, 'g', -1, 64)
	case KindString:
		return strconv.Quote(v.Str)
	case KindBool:
		return strconv.FormatBool(v.Bool)
	}
	return "nil"
}

// NewRows reads a MessagePack response from r.
func NewRows(r io.Reader) *Rows {
	rs := &Rows{d: decoder{r: r}}
	if c, ok := r.(io.Closer); ok {
		rs.closer = c
	}
	return rs
}

// Next advances to the next row. It returns false at the end of the
// response or on an error: check Err.
func (r *Rows) Next() bool {
	r.newSeries = false
	for r.d.err == nil {
		switch {
		case r.rows > 0:
			r.rows--
			r.readRow()
			return r.d.err == nil
		case r.inSeries && r.seriesKeys > 0:
			r.seriesKeys--
			r.seriesEntry()
		case r.inSeries:
			r.inSeries = false
		case r.series > 0:
			r.series--
			r.seriesKeys = r.d.mapLen()
			r.inSeries = true
			r.cur = Series{StatementID: r.statementID, Columns: r.cur.Columns[:0]}
		case r.inResult && r.resultKeys > 0:
			r.resultKeys--
			r.resultEntry()
		case r.inResult:
			r.inResult = false
		case r.results > 0:
			r.results--
			r.resultKeys = r.d.mapLen()
			r.inResult = true
			r.statementID = 0
		case r.docKeys > 0:
			r.docKeys--
			switch key := r.d.str(); key {
			case "results":
				r.results = r.d.arrayLen()
			case "error":
				r.d.fail(fmt.Errorf("influxql: %s", r.d.str()))
			default:
				r.d.skip(0)
			}
		default:
			if !r.d.more() {
				return false
			}
			r.docKeys = r.d.mapLen()
		}
	}
	return false
}

func (r *Rows) resultEntry() {
	switch r.d.str() {
	case "statement_id":
		var v Value
		r.d.value(&v)
		r.statementID = int(v.Int)
	case "error":
		r.d.fail(fmt.Errorf("influxql: %s", r.d.str()))
	case "series":
		r.series = r.d.arrayLen()
	default:
		r.d.skip(0)
	}
}

func (r *Rows) seriesEntry() {
	switch r.d.str() {
	case "name":
		r.cur.Name = r.d.str()
	case "tags":
		n := r.d.mapLen()
		r.cur.Tags = make([]Tag, 0, min(n, 16))
		for ; n > 0 && r.d.err == nil; n-- { // a corrupt n ends at the data's end
			k := r.d.str()
			r.cur.Tags = append(r.cur.Tags, Tag{k, r.d.str()})
		}
	case "columns":
		// Every series of a query has the same columns: reuse the previous
		// series' strings rather than allocate them again.
		prev := r.cur.Columns[:cap(r.cur.Columns)]
		cols := r.cur.Columns[:0]
		for i, n := 0, r.d.arrayLen(); i < n && r.d.err == nil; i++ {
			if b := r.d.strBytes(); i < len(prev) && prev[i] == string(b) {
				cols = append(cols, prev[i])
			} else {
				cols = append(cols, string(b))
			}
		}
		r.cur.Columns = cols
	case "values":
		r.rows = r.d.arrayLen()
		r.seriesRows = r.rows
		if r.rows > 0 {
			r.newSeries = true
		}
	default:
		r.d.skip(0)
	}
}

func (r *Rows) readRow() {
	n := r.d.arrayLen()
	if r.d.err != nil {
		return
	}
	if n != len(r.cur.Columns) {
		r.d.fail(fmt.Errorf("influxql msgpack: row of %d values in a series of %d columns", n, len(r.cur.Columns)))
		return
	}
	r.row = slices.Grow(r.row[:0], n)[:n]
	for i := range r.row {
		r.d.value(&r.row[i])
	}
}

// NewSeries reports whether the current row is the first of a series in
// the response. A series longer than the chunk size comes in several
// chunks, each starting a new series with the same name and tags.
func (r *Rows) NewSeries() bool { return r.newSeries }

// SeriesRows returns how many rows the current series has in this chunk
// of the response (counting the current row), as InfluxDB announced them:
// a capacity hint, not a promise.
func (r *Rows) SeriesRows() int { return r.seriesRows }

// Series returns the current row's series. It is valid until the next call
// to Next.
func (r *Rows) Series() *Series { return &r.cur }

// Row returns the current row's values, one per column. It is valid until
// the next call to Next.
func (r *Rows) Row() []Value { return r.row }

// Err returns the error that ended Next: a malformed or truncated response
// (io.ErrUnexpectedEOF), a read error, or an error InfluxDB reported.
func (r *Rows) Err() error {
	if errors.Is(r.d.err, io.EOF) {
		return nil
	}
	return r.d.err
}

// Close closes the underlying reader if it is an io.Closer.
func (r *Rows) Close() error {
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
}

// maxStr bounds a string's length (a corrupt length must not make the
// decoder allocate gigabytes) and maxDepth the nesting of skipped values.
const (
	maxStr   = 16 << 20
	maxDepth = 64
)

// decoder reads MessagePack values from a buffered stream. The first
// error sticks: every later read returns zero values.
type decoder struct {
	r   io.Reader
	buf []byte // buf[pos:] is read but not decoded
	pos int
	err error
}

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

// need makes n bytes available at buf[pos:].
func (d *decoder) need(n int) bool {
	if len(d.buf)-d.pos >= n {
		return true
	}
	if d.err != nil {
		return false
	}
	d.buf = d.buf[:copy(d.buf, d.buf[d.pos:])]
	d.pos = 0
	for len(d.buf) < n {
		if len(d.buf) == cap(d.buf) {
			d.buf = append(d.buf, make([]byte, max(cap(d.buf), 64<<10))...)[:len(d.buf)]
		}
		m, err := d.r.Read(d.buf[len(d.buf):cap(d.buf)])
		d.buf = d.buf[:len(d.buf)+m]
		if err != nil && len(d.buf) < n {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			d.fail(err)
			return false
		}
	}
	return true
}

// more reports whether another document follows (false at a clean end).
func (d *decoder) more() bool {
	if d.err != nil {
		return false
	}
	if d.pos < len(d.buf) {
		return true
	}
	if !d.need(1) {
		if d.err == io.ErrUnexpectedEOF {
			d.err = io.EOF
		}
		return false
	}
	return true
}

func (d *decoder) byte() byte {
	if !d.need(1) {
		return 0xc1 // never used: decodes as an error
	}
	c := d.buf[d.pos]
	d.pos++
	return c
}

// uint reads an n-byte big-endian unsigned integer.
func (d *decoder) uint(n int) uint64 {
	if !d.need(n) {
		return 0
	}
	b := d.buf[d.pos : d.pos+n]
	d.pos += n
	switch n {
	case 8:
		return binary.BigEndian.Uint64(b)
	case 4:
		return uint64(binary.BigEndian.Uint32(b))
	case 2:
		return uint64(binary.BigEndian.Uint16(b))
	}
	return uint64(b[0])
}

func (d *decoder) typeErr(c byte, want string) {
	if d.err == nil {
		d.fail(fmt.Errorf("influxql msgpack: type 0x%02x where %s was expected", c, want))
	}
}

func (d *decoder) mapLen() int {
	switch c := d.byte(); {
	case c&0xf0 == 0x80:
		return int(c & 0x0f)
	case c == 0xde:
		return int(d.uint(2))
	case c == 0xdf:
		return int(d.uint(4))
	case c == 0xc0:
		return 0
	default:
		d.typeErr(c, "a map")
		return 0
	}
}

func (d *decoder) arrayLen() int {
	switch c := d.byte(); {
	case c&0xf0 == 0x90:
		return int(c & 0x0f)
	case c == 0xdc:
		return int(d.uint(2))
	case c == 0xdd:
		return int(d.uint(4))
	case c == 0xc0:
		return 0
	default:
		d.typeErr(c, "an array")
		return 0
	}
}

// strLen reads a string (or binary) header; ok is false for other types.
func (d *decoder) strLen(c byte) (n int, ok bool) {
	switch {
	case c&0xe0 == 0xa0:
		return int(c & 0x1f), true
	case c == 0xd9 || c == 0xc4:
		return int(d.uint(1)), true
	case c == 0xda || c == 0xc5:
		return int(d.uint(2)), true
	case c == 0xdb || c == 0xc6:
		return int(d.uint(4)), true
	}
	return 0, false
}

// strBytes reads a string; the bytes are valid until the next read.
func (d *decoder) strBytes() []byte {
	c := d.byte()
	n, ok := d.strLen(c)
	if !ok {
		if c != 0xc0 { // nil reads as ""
			d.typeErr(c, "a string")
		}
		return nil
	}
	return d.bytes(n)
}

func (d *decoder) bytes(n int) []byte {
	if n > maxStr {
		d.fail(fmt.Errorf("influxql msgpack: string of %d bytes", n))
		return nil
	}
	if !d.need(n) {
		return nil
	}
	b := d.buf[d.pos : d.pos+n]
	d.pos += n
	return b
}

func (d *decoder) str() string { return string(d.strBytes()) }

// value reads a scalar into v.
func (d *decoder) value(v *Value) {
	c := d.byte()
	switch {
	case c <= 0x7f:
		*v = Value{Kind: KindInt, Int: int64(c)}
	case c >= 0xe0:
		*v = Value{Kind: KindInt, Int: int64(int8(c))}
	case c == 0xcb:
		*v = Value{Kind: KindFloat, Float: math.Float64frombits(d.uint(8))}
	case c == 0xca:
		*v = Value{Kind: KindFloat, Float: float64(math.Float32frombits(uint32(d.uint(4))))}
	case c >= 0xd0 && c <= 0xd3: // int 8, 16, 32, 64
		n := 1 << (c - 0xd0)
		shift := 64 - 8*n
		*v = Value{Kind: KindInt, Int: int64(d.uint(n)<<shift) >> shift}
	case c >= 0xcc && c <= 0xcf: // uint 8, 16, 32, 64
		if u := d.uint(1 << (c - 0xcc)); u > math.MaxInt64 {
			*v = Value{Kind: KindUint, Uint: u}
		} else {
			*v = Value{Kind: KindInt, Int: int64(u)}
		}
	case c == 0xc0:
		*v = Value{}
	case c == 0xc2 || c == 0xc3:
		*v = Value{Kind: KindBool, Bool: c == 0xc3}
	default:
		*v = Value{}
		if n, ok := d.strLen(c); ok {
			*v = Value{Kind: KindString, Str: string(d.bytes(n))}
		} else {
			d.typeErr(c, "a scalar")
		}
	}
}

// skip reads and discards one value of any supported type.
func (d *decoder) skip(depth int) {
	if depth > maxDepth {
		d.fail(errors.New("influxql msgpack: nested too deep"))
		return
	}
	if !d.need(1) {
		return
	}
	switch c := d.buf[d.pos]; {
	case c&0xf0 == 0x80 || c == 0xde || c == 0xdf:
		for n := d.mapLen(); n > 0 && d.err == nil; n-- {
			d.skip(depth + 1)
			d.skip(depth + 1)
		}
	case c&0xf0 == 0x90 || c == 0xdc || c == 0xdd:
		for n := d.arrayLen(); n > 0 && d.err == nil; n-- {
			d.skip(depth + 1)
		}
	default:
		d.pos++
		if n, ok := d.strLen(c); ok {
			d.bytes(n)
			return
		}
		d.pos--
		var v Value
		d.value(&v)
	}
}
