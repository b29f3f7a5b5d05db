package influxql

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"
	"testing/iotest"

	fake "github.com/sunproof/sunproof/internal/influxql/influxqlfake"
)

var rowsCols = []string{"time", "ac_power_w", "energy_wh", "state", "seq"}

func rowsSeries(dev string, partial bool, values ...[]any) fake.Series {
	return fake.Series{Name: "reading", Tags: map[string]string{"device_id": dev}, Columns: rowsCols, Values: values, Partial: partial}
}

func cat(docs ...[]byte) []byte { return bytes.Join(docs, nil) }

// dump renders what Rows reads: one line per row, "+" marking the first
// row of a series.
func dump(r *Rows) string {
	var b strings.Builder
	for r.Next() {
		s := r.Series()
		if r.NewSeries() {
			fmt.Fprintf(&b, "+%d %s %v %v n=%d\n", s.StatementID, s.Name, s.Tags, s.Columns, r.SeriesRows())
		}
		fmt.Fprintf(&b, "%v\n", r.Row())
	}
	return b.String()
}

func TestRows(t *testing.T) {
	chunk1 := fake.AppendResponse(nil, fake.Result{Series: []fake.Series{rowsSeries("d1", true, []any{int64(1e18), 1.5, 10, 4, 1})}, Partial: true})
	chunk2 := fake.AppendResponse(nil, fake.Result{Series: []fake.Series{rowsSeries("d1", false, []any{int64(2e18), nil, 11, nil, 2})}})
	d1 := "+0 reading [{device_id d1}] [time ac_power_w energy_wh state seq] n=1\n"
	// Every integer and float encoding, strings, booleans, binary.
	scalars := []any{0, 127, -1, -32, -33, -128, 128, 255, -129, 32767, 32768, -32769, int64(math.MaxInt32) + 1, int64(math.MinInt32) - 1,
		int64(math.MaxInt64), int64(math.MinInt64), uint64(200), uint64(70000), uint64(1 << 40), uint64(math.MaxUint64),
		float32(0.5), 2.25, true, false, nil, "", strings.Repeat("s", 40), strings.Repeat("t", 300), strings.Repeat("u", 70000), []byte("bin")}
	scalarCols := make([]string, len(scalars))
	for i := range scalarCols {
		scalarCols[i] = fmt.Sprint("c", i)
	}
	scalarDoc := fake.AppendResponse(nil, fake.Result{Series: []fake.Series{{Name: "m", Columns: scalarCols, Values: [][]any{scalars}}}})
	scalarWant := "+0 m [] [" + strings.Join(scalarCols, " ") + "] n=1\n[0 127 -1 -32 -33 -128 128 255 -129 32767 32768 -32769 2147483648 -2147483649 " +
		"9223372036854775807 -9223372036854775808 200 70000 1099511627776 18446744073709551615 0.5 2.25 true false nil \"\" \"" +
		strings.Repeat("s", 40) + "\" \"" + strings.Repeat("t", 300) + "\" \"" + strings.Repeat("u", 70000) + "\" \"bin\"]\n"

	// Keys InfluxDB may add (messages, partial) and unknown ones are skipped.
	extra := fake.AppendMapHeader(nil, 2)
	extra = fake.AppendString(extra, "results")
	extra = fake.AppendArrayHeader(extra, 1)
	extra = fake.AppendMapHeader(extra, 4)
	extra = fake.AppendString(extra, "statement_id")
	extra = fake.AppendValue(extra, 3)
	extra = fake.AppendString(extra, "messages")
	extra = fake.AppendArrayHeader(extra, 1)
	extra = fake.AppendMapHeader(extra, 2)
	extra = fake.AppendString(extra, "level")
	extra = fake.AppendString(extra, "warning")
	extra = fake.AppendString(extra, "text")
	extra = fake.AppendString(extra, "deprecated")
	extra = fake.AppendString(extra, "series")
	extra = fake.AppendArrayHeader(extra, 1)
	extra = fake.AppendMapHeader(extra, 4)
	extra = fake.AppendString(extra, "unknown")
	extra = fake.AppendArrayHeader(extra, 2)
	extra = fake.AppendValue(extra, 1.5)
	extra = fake.AppendMapHeader(extra, 0)
	extra = fake.AppendString(extra, "name")
	extra = fake.AppendString(extra, "m")
	extra = fake.AppendString(extra, "columns")
	extra = fake.AppendArrayHeader(extra, 1)
	extra = fake.AppendString(extra, "time")
	extra = fake.AppendString(extra, "values")
	extra = fake.AppendArrayHeader(extra, 1)
	extra = fake.AppendArrayHeader(extra, 1)
	extra = fake.AppendValue(extra, 7)
	extra = fake.AppendString(extra, "partial")
	extra = fake.AppendValue(extra, false)
	extra = fake.AppendString(extra, "future")
	extra = fake.AppendValue(extra, nil)

	valuesFirst := fake.AppendMapHeader(nil, 1)
	valuesFirst = fake.AppendString(valuesFirst, "results")
	valuesFirst = fake.AppendArrayHeader(valuesFirst, 1)
	valuesFirst = fake.AppendMapHeader(valuesFirst, 1)
	valuesFirst = fake.AppendString(valuesFirst, "series")
	valuesFirst = fake.AppendArrayHeader(valuesFirst, 1)
	valuesFirst = fake.AppendMapHeader(valuesFirst, 2)
	valuesFirst = fake.AppendString(valuesFirst, "values")
	valuesFirst = fake.AppendArrayHeader(valuesFirst, 1)
	valuesFirst = fake.AppendArrayHeader(valuesFirst, 1)
	valuesFirst = fake.AppendValue(valuesFirst, 1)
	valuesFirst = fake.AppendString(valuesFirst, "columns")
	valuesFirst = fake.AppendArrayHeader(valuesFirst, 1)
	valuesFirst = fake.AppendString(valuesFirst, "time")

	timeExt := fake.AppendResponse(nil, fake.Result{Series: []fake.Series{{Name: "m", Columns: []string{"time"}, Values: [][]any{{0}}}}})
	timeExt = append(timeExt[:len(timeExt)-1], 0xc7, 12, 5) // the extension msgp writes for time.Time
	timeExt = append(timeExt, make([]byte, 12)...)

	nested := fake.AppendResponse(nil, fake.Result{Series: []fake.Series{{Name: "m", Columns: []string{"time"}, Values: [][]any{{7}}}}})
	nested[len(nested)-1] = 0x91 // [7] becomes [[…
	nested = append(nested, 7)

	for _, tc := range []struct {
		desc    string
		in      []byte
		want    string
		wantErr string // substring; "" for none
	}{
		{"empty answer", nil, "", ""},
		{"one series in two chunks", cat(chunk1, chunk2), d1 + "[1000000000000000000 1.5 10 4 1]\n" + d1 + "[2000000000000000000 nil 11 nil 2]\n", ""},
		{"statements, an empty one and one with two series", fake.AppendResponse(nil,
			fake.Result{StatementID: 0, Series: []fake.Series{rowsSeries("a", false, []any{1, 1.0, 1, 1, 1})}},
			fake.Result{StatementID: 1},
			fake.Result{StatementID: 2, Series: []fake.Series{
				{Name: "m", Tags: map[string]string{"device_id": "b", "site_id": "s"}, Columns: []string{"time"}, Values: [][]any{{2}, {3}}},
				{Name: "m", Tags: map[string]string{"device_id": "c"}, Columns: []string{"time"}, Values: [][]any{}},
				{Name: "m", Tags: map[string]string{"device_id": "d"}, Columns: []string{"time"}, Values: [][]any{{4}}},
			}}),
			"+0 reading [{device_id a}] [time ac_power_w energy_wh state seq] n=1\n[1 1 1 1 1]\n" +
				"+2 m [{device_id b} {site_id s}] [time] n=2\n[2]\n[3]\n+2 m [{device_id d}] [time] n=1\n[4]\n", ""},
		{"every scalar encoding", scalarDoc, scalarWant, ""},
		{"unknown keys and messages skipped", extra, "+3 m [] [time] n=1\n[7]\n", ""},
		{"error before any result", fake.AppendError(nil, "database not found: x"), "", "influxql: database not found: x"},
		{"error mid-stream", cat(chunk1, fake.AppendResponse(nil, fake.Result{Err: "query interrupted"})), d1 + "[1000000000000000000 1.5 10 4 1]\n", "influxql: query interrupted"},
		{"truncated document", chunk2[:len(chunk2)-3], "", io.ErrUnexpectedEOF.Error()},
		{"truncated header", chunk2[:1], "", io.ErrUnexpectedEOF.Error()},
		{"row longer than columns", fake.AppendResponse(nil, fake.Result{Series: []fake.Series{{Name: "m", Columns: []string{"time"}, Values: [][]any{{1, 2}}}}}), "", "row of 2 values in a series of 1 columns"},
		{"values before columns", valuesFirst, "", "row of 1 values in a series of 0 columns"},
		{"time extension (no epoch)", timeExt, "", "type 0xc7 where a scalar was expected"},
		{"not a map", []byte{0x93, 1, 2, 3}, "", "type 0x93 where a map was expected"},
		{"array in a row", nested, "", "type 0x91 where a scalar was expected"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			for _, r := range []io.Reader{bytes.NewReader(tc.in), iotest.OneByteReader(bytes.NewReader(tc.in))} {
				rows := NewRows(r)
				if got := dump(rows); got != tc.want {
					t.Errorf("rows:\n%s\nwant:\n%s", got, tc.want)
				}
				err := rows.Err()
				if got, want := fmt.Sprint(err), tc.wantErr; (want == "") != (err == nil) || want != "" && !strings.Contains(got, want) {
					t.Errorf("err %v, want %q", err, want)
				}
				if rows.Next() {
					t.Error("Next after the end")
				}
			}
		})
	}
}

func TestRowsReadError(t *testing.T) {
	boom := errors.New("connection reset")
	doc := fake.AppendResponse(nil, fake.Result{Series: []fake.Series{rowsSeries("d", false, []any{1, 1.0, 1, 1, 1})}})
	rows := NewRows(io.MultiReader(bytes.NewReader(doc), iotest.ErrReader(boom)))
	if n := len(dump(rows)); n == 0 {
		t.Error("no row before the error")
	}
	if err := rows.Err(); !errors.Is(err, boom) {
		t.Errorf("err %v, want %v", err, boom)
	}
}

func TestRowsClose(t *testing.T) {
	rc := &closeCounter{Reader: bytes.NewReader(nil)}
	if err := NewRows(rc).Close(); err != nil || rc.n != 1 {
		t.Errorf("Close: %v, %d closes", err, rc.n)
	}
}

type closeCounter struct {
	io.Reader
	n int
}

func (c *closeCounter) Close() error { c.n++; return nil }

func TestValue(t *testing.T) {
	for _, tc := range []struct {
		v             Value
		i             int64
		u             uint64
		f             float64
		iOK, uOK, fOK bool
	}{
		{Value{Kind: KindInt, Int: -3}, -3, 0, -3, true, false, true},
		{Value{Kind: KindInt, Int: 3}, 3, 3, 3, true, true, true},
		{Value{Kind: KindUint, Uint: math.MaxUint64}, 0, math.MaxUint64, math.MaxUint64, false, true, true},
		{Value{Kind: KindFloat, Float: 1.5}, 0, 0, 1.5, false, false, true},
		{Value{}, 0, 0, 0, false, false, false},
		{Value{Kind: KindString, Str: "1"}, 0, 0, 0, false, false, false},
	} {
		i, iOK := tc.v.Int64()
		u, uOK := tc.v.Uint64()
		f, fOK := tc.v.Float64()
		if iOK != tc.iOK || uOK != tc.uOK || fOK != tc.fOK || iOK && i != tc.i || uOK && u != tc.u || fOK && f != tc.f {
			t.Errorf("%v: Int64 %d %v, Uint64 %d %v, Float64 %g %v", tc.v, i, iOK, u, uOK, f, fOK)
		}
	}
}

// FuzzRows feeds arbitrary bytes to Rows: it must never panic, must end,
// and every row it yields has one value per column.
func FuzzRows(f *testing.F) {
	f.Add([]byte{})
	f.Add(fake.AppendResponse(nil, fake.Result{Series: []fake.Series{rowsSeries("d1", true, []any{int64(1e18), 1.5, uint64(10), nil, -1}, []any{2, float32(1), 3, true, "x"})}}))
	f.Add(cat(fake.AppendResponse(nil, fake.Result{StatementID: 1}), fake.AppendError(nil, "boom")))
	f.Add(fake.AppendResponse(nil, fake.Result{Err: "e"}, fake.Result{Series: []fake.Series{{Columns: []string{"a"}, Values: [][]any{{[]byte("b")}}}}}))
	f.Add([]byte{0x81, 0xa7, 'r', 'e', 's', 'u', 'l', 't', 's', 0xdd, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 1<<16 {
			return
		}
		rows := NewRows(bytes.NewReader(in))
		for n := 0; rows.Next(); n++ {
			if len(rows.Row()) != len(rows.Series().Columns) {
				t.Fatalf("row of %d values, %d columns", len(rows.Row()), len(rows.Series().Columns))
			}
			if n > len(in) {
				t.Fatalf("%d rows from %d bytes", n, len(in))
			}
		}
		_ = rows.Err()
	})
}

// BenchmarkRows decodes a chunked answer of 1,000 series × 300 rows of
// the reading columns (what Source.Load reads, a tenth of a fleet-day).
func BenchmarkRows(b *testing.B) {
	var doc []byte
	for d := range 1000 {
		s := rowsSeries(fmt.Sprintf("dev-%04d", d), false)
		for i := range 300 {
			s.Values = append(s.Values, []any{int64(1718895600000000000 + i*300e9 + i), 1234.5 + float64(i), int64(1000000 + i*100), 4, int64(i)})
		}
		doc = fake.AppendResponse(doc, fake.Result{StatementID: d, Series: []fake.Series{s}})
	}
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	var rows int
	for b.Loop() {
		r := NewRows(bytes.NewReader(doc))
		for rows = 0; r.Next(); rows++ {
		}
		if r.Err() != nil {
			b.Fatal(r.Err())
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
