// Package influxqlfake writes InfluxDB 1.8 query answers in MessagePack,
// byte for byte as InfluxDB's msgpackFormatter (services/httpd) and the
// tinylib/msgp writer it uses do, so that tests can serve them from an
// httptest.Server without an InfluxDB. A chunked answer is a sequence of
// documents: append one per chunk.
package influxqlfake

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
)

// Series is one series of a result.
type Series struct {
	Name    string
	Tags    map[string]string
	Columns []string
	Values  [][]any // nil, bool, int, int64, uint64, float32, float64, string or []byte
	Partial bool
}

// Result is the result of one statement. In a chunked answer InfluxDB
// sends one Result per series chunk, with Partial set on all but the
// statement's last, and Series.Partial on a chunk whose series goes on in
// the next one.
type Result struct {
	StatementID int
	Series      []Series
	Err         string // non-empty: {"error": Err} instead of series
	Partial     bool
}

// AppendResponse appends the document {"results": results} to b.
func AppendResponse(b []byte, results ...Result) []byte {
	b = AppendMapHeader(b, 1)
	b = AppendString(b, "results")
	b = AppendArrayHeader(b, len(results))
	for _, r := range results {
		if r.Err != "" {
			b = AppendMapHeader(b, 1)
			b = AppendString(b, "error")
			b = AppendString(b, r.Err)
			continue
		}
		b = AppendMapHeader(b, 2+btoi(r.Partial))
		b = AppendString(b, "statement_id")
		b = AppendValue(b, r.StatementID)
		b = AppendString(b, "series")
		b = AppendArrayHeader(b, len(r.Series))
		for _, s := range r.Series {
			b = AppendMapHeader(b, 2+btoi(s.Name != "")+btoi(len(s.Tags) > 0)+btoi(s.Partial))
			if s.Name != "" {
				b = AppendString(b, "name")
				b = AppendString(b, s.Name)
			}
			if len(s.Tags) > 0 {
				b = AppendString(b, "tags")
				b = AppendMapHeader(b, len(s.Tags))
				keys := make([]string, 0, len(s.Tags))
				for k := range s.Tags {
					keys = append(keys, k)
				}
				slices.Sort(keys)
				for _, k := range keys {
					b = AppendString(b, k)
					b = AppendString(b, s.Tags[k])
				}
			}
			b = AppendString(b, "columns")
			b = AppendArrayHeader(b, len(s.Columns))
			for _, c := range s.Columns {
				b = AppendString(b, c)
			}
			b = AppendString(b, "values")
			b = AppendArrayHeader(b, len(s.Values))
			for _, row := range s.Values {
				b = AppendArrayHeader(b, len(row))
				for _, v := range row {
					b = AppendValue(b, v)
				}
			}
			if s.Partial {
				b = AppendString(b, "partial")
				b = AppendValue(b, true)
			}
		}
		if r.Partial {
			b = AppendString(b, "partial")
			b = AppendValue(b, true)
		}
	}
	return b
}

// AppendError appends the document {"error": msg}, which InfluxDB writes
// when a query fails before its first result.
func AppendError(b []byte, msg string) []byte {
	b = AppendMapHeader(b, 1)
	b = AppendString(b, "error")
	return AppendString(b, msg)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// AppendMapHeader appends a map header of n entries.
func AppendMapHeader(b []byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, 0x80|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xde), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, 0xdf), uint32(n))
}

// AppendArrayHeader appends an array header of n elements.
func AppendArrayHeader(b []byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, 0x90|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xdc), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, 0xdd), uint32(n))
}

// AppendString appends a string in the shortest form.
func AppendString(b []byte, s string) []byte {
	switch n := len(s); {
	case n < 32:
		b = append(b, 0xa0|byte(n))
	case n <= math.MaxUint8:
		b = append(b, 0xd9, byte(n))
	case n <= math.MaxUint16:
		b = binary.BigEndian.AppendUint16(append(b, 0xda), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, 0xdb), uint32(n))
	}
	return append(b, s...)
}

// AppendValue appends a scalar: integers in the shortest signed (int,
// int64) or unsigned (uint64) form, as msgp's WriteInt64 and WriteUint64.
// It panics on other types.
func AppendValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, 0xc0)
	case bool:
		if v {
			return append(b, 0xc3)
		}
		return append(b, 0xc2)
	case int:
		return appendInt(b, int64(v))
	case int64:
		return appendInt(b, v)
	case uint64:
		return appendUint(b, v)
	case float32:
		return binary.BigEndian.AppendUint32(append(b, 0xca), math.Float32bits(v))
	case float64:
		return binary.BigEndian.AppendUint64(append(b, 0xcb), math.Float64bits(v))
	case string:
		return AppendString(b, v)
	case []byte:
		switch n := len(v); {
		case n <= math.MaxUint8:
			b = append(b, 0xc4, byte(n))
		case n <= math.MaxUint16:
			b = binary.BigEndian.AppendUint16(append(b, 0xc5), uint16(n))
		default:
			b = binary.BigEndian.AppendUint32(append(b, 0xc6), uint32(n))
		}
		return append(b, v...)
	}
	panic(fmt.Sprintf("influxqlfake: value %v of type %T", v, v))
}

func appendInt(b []byte, i int64) []byte {
	switch {
	case i >= 0 && i <= math.MaxInt8, i < 0 && i >= -32:
		return append(b, byte(i)) // positive or negative fixint
	case i >= math.MinInt8 && i <= math.MaxInt8:
		return append(b, 0xd0, byte(i))
	case i >= math.MinInt16 && i <= math.MaxInt16:
		return binary.BigEndian.AppendUint16(append(b, 0xd1), uint16(i))
	case i >= math.MinInt32 && i <= math.MaxInt32:
		return binary.BigEndian.AppendUint32(append(b, 0xd2), uint32(i))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xd3), uint64(i))
}

func appendUint(b []byte, u uint64) []byte {
	switch {
	case u <= math.MaxInt8:
		return append(b, byte(u))
	case u <= math.MaxUint8:
		return append(b, 0xcc, byte(u))
	case u <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xcd), uint16(u))
	case u <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, 0xce), uint32(u))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xcf), u)
}
