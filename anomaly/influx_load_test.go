package anomaly_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sunproof/sunproof/anomaly"
	"github.com/sunproof/sunproof/devices"
	fake "github.com/sunproof/sunproof/internal/influxql/influxqlfake"
)

// fakeInflux answers Source.Load's requests like InfluxDB 1.8: one result
// per statement ("device_id" = '…' and the time range are honoured), in
// chunked MessagePack.
type fakeInflux struct {
	rows     map[string][][]any // device id → rows of time, ac_power_w, energy_wh, state, seq
	chunk    int                // rows per chunk (all if 0)
	columns  []string           // default: Source's columns
	stranger bool               // add a series of a device nobody asked for
	failAt   int                // answer an error document instead of the failAt-th statement (1-based) overall
	status   int                // answer this HTTP status instead

	mu         sync.Mutex
	statements int
	requests   int
}

var (
	fakeDevRE  = regexp.MustCompile(`"device_id" = '((?:[^'\\]|\\.)*)'`)
	fakeTimeRE = regexp.MustCompile(`time >= (-?\d+) AND time < (-?\d+)`)
)

func (f *fakeInflux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	if f.status != 0 {
		http.Error(w, `{"error":"boom"}`, f.status)
		return
	}
	if r.Header.Get("Accept") != "application/x-msgpack" || r.FormValue("epoch") != "ns" {
		http.Error(w, "unexpected request", http.StatusBadRequest)
		return
	}
	cols := f.columns
	if cols == nil {
		cols = []string{"time", "ac_power_w", "energy_wh", "state", "seq"}
	}
	var out []byte
	for i, stmt := range strings.Split(r.FormValue("q"), "; ") {
		if f.statements++; f.statements == f.failAt {
			out = fake.AppendResponse(out, fake.Result{StatementID: i, Err: "query interrupted"})
			break
		}
		m, tm := fakeDevRE.FindStringSubmatch(stmt), fakeTimeRE.FindStringSubmatch(stmt)
		if m == nil || tm == nil {
			http.Error(w, "unexpected statement "+stmt, http.StatusBadRequest)
			return
		}
		id := strings.NewReplacer(`\'`, `'`, `\\`, `\`).Replace(m[1])
		lo, _ := strconv.ParseInt(tm[1], 10, 64)
		hi, _ := strconv.ParseInt(tm[2], 10, 64)
		var vals [][]any
		for _, row := range f.rows[id] {
			if t := row[0].(int64); t >= lo && t < hi {
				vals = append(vals, row)
			}
		}
		res := []fake.Result{{StatementID: i}}
		for len(vals) > 0 {
			n := len(vals)
			if f.chunk > 0 {
				n = min(n, f.chunk)
			}
			res[len(res)-1].Series = []fake.Series{{Name: "reading", Tags: map[string]string{"device_id": id}, Columns: cols, Values: vals[:n], Partial: n < len(vals)}}
			if vals = vals[n:]; len(vals) > 0 {
				res = append(res, fake.Result{StatementID: i})
			}
		}
		if f.stranger && i == 0 {
			res = append(res, fake.Result{StatementID: i, Series: []fake.Series{{Name: "reading", Tags: map[string]string{"device_id": "stranger"},
				Columns: cols, Values: [][]any{{int64(0), 1.0, 1, 1, 1}}}}})
		}
		for _, r := range res {
			out = fake.AppendResponse(out, r)
		}
	}
	w.Header().Set("Content-Type", "application/x-msgpack")
	w.Write(out)
}

func TestSourceLoad(t *testing.T) {
	from := time.Date(2024, 6, 21, 0, 0, 0, 0, time.UTC)
	to := from.Add(24 * time.Hour)
	ns := func(d time.Duration, seq int64) int64 { return from.Add(d).UnixNano() + seq%1_000_000 }
	row := func(d time.Duration, w float64, wh, state, seq int64) []any {
		return []any{ns(d, seq), w, wh, state, seq}
	}
	devs := func(ids ...string) (out []devices.Device) {
		for _, id := range ids {
			out = append(out, devices.Device{ID: id})
		}
		return out
	}
	basic := map[string][][]any{
		"a": {row(time.Hour, 100, 1000, 4, 1), row(2*time.Hour, 200.5, 1100, 4, 2)},
		"b": {row(3*time.Hour, 0, 5, 8, 7)},
	}
	for _, tc := range []struct {
		desc     string
		f        *fakeInflux
		devs     []devices.Device
		perReq   int
		want     string // per series: "id:" then samples "hh:mm:ss.mmm/W/Wh/state/seq"
		rows     int
		skipped  int
		requests int
		wantErr  string
	}{
		{desc: "devices in the asked order; missing, repeated and empty ids get empty series",
			f: &fakeInflux{rows: basic}, devs: devs("b", "missing", "a", "b", ""), perReq: 2,
			want: "b: 03:00:00.000/0/5/8/7|missing:|a: 01:00:00.000/100/1000/4/1 02:00:00.000/200.5/1100/4/2|b:|:", rows: 3, requests: 2},
		{desc: "lookback: readings from an hour before from, none at to",
			f: &fakeInflux{rows: map[string][][]any{"a": {row(-2*time.Hour, 1, 1, 1, 1), row(-time.Hour, 2, 2, 2, 2), row(-time.Millisecond, 3, 3, 3, 3),
				row(24*time.Hour-time.Millisecond, 4, 4, 4, 4), row(24*time.Hour, 5, 5, 5, 5)}}},
			devs: devs("a"), want: "a: 23:00:00.000/2/2/2/2 23:59:59.999/3/3/3/3 23:59:59.999/4/4/4/4", rows: 3, requests: 1},
		{desc: "the point time's sub-millisecond part (seq mod 10⁶) is dropped",
			f:    &fakeInflux{rows: map[string][][]any{"a": {{from.UnixNano() + 1_234_567, 1.0, 1, 1, 1_234_567}}}},
			devs: devs("a"), want: "a: 00:00:00.001/1/1/1/1234567", rows: 1, requests: 1},
		{desc: "rows without power or energy are skipped; missing state and seq are 0",
			f:    &fakeInflux{rows: map[string][][]any{"a": {{ns(1, 0), nil, 1, 1, 1}, {ns(2, 0), 1.0, nil, 1, 2}, {ns(3, 0), 1.5, 7, nil, nil}, {ns(4, 0), 2, 8, 4, 9}}}},
			devs: devs("a"), want: "a: 00:00:00.000/1.5/7/0/0 00:00:00.000/2/8/4/9", rows: 4, skipped: 2, requests: 1},
		{desc: "rows out of time order are sorted",
			f:    &fakeInflux{rows: map[string][][]any{"a": {row(2*time.Hour, 2, 2, 2, 2), row(time.Hour, 1, 1, 1, 1)}}},
			devs: devs("a"), want: "a: 01:00:00.000/1/1/1/1 02:00:00.000/2/2/2/2", rows: 2, requests: 1},
		{desc: "series split in chunks, many requests at once",
			f: &fakeInflux{rows: basic, chunk: 1}, devs: devs("a", "b", "c", "d"), perReq: 1,
			want: "a: 01:00:00.000/100/1000/4/1 02:00:00.000/200.5/1100/4/2|b: 03:00:00.000/0/5/8/7|c:|d:", rows: 3, requests: 4},
		{desc: "a device nobody asked for is skipped",
			f: &fakeInflux{rows: basic, stranger: true}, devs: devs("b"), want: "b: 03:00:00.000/0/5/8/7", rows: 2, skipped: 1, requests: 1},
		{desc: "ids are quoted",
			f:    &fakeInflux{rows: map[string][][]any{`o'brien\x`: {row(0, 1, 1, 1, 1)}}},
			devs: devs(`o'brien\x`), want: `o'brien\x: 00:00:00.000/1/1/1/1`, rows: 1, requests: 1},
		{desc: "an error mid-stream fails the load",
			f: &fakeInflux{rows: basic, failAt: 2}, devs: devs("a", "b"), wantErr: "influxql: query interrupted"},
		{desc: "an HTTP error fails the load",
			f: &fakeInflux{status: http.StatusInternalServerError}, devs: devs("a"), wantErr: "500 Internal Server Error"},
		{desc: "a value of the wrong type fails the load",
			f: &fakeInflux{rows: map[string][][]any{"a": {{ns(0, 0), "1", 1, 1, 1}}}}, devs: devs("a"), wantErr: "unexpected value types"},
		{desc: "a state beyond uint16 fails the load",
			f: &fakeInflux{rows: map[string][][]any{"a": {{ns(0, 0), 1.0, 1, 70000, 1}}}}, devs: devs("a"), wantErr: "unexpected value types"},
		{desc: "a missing column fails the load",
			f:    &fakeInflux{rows: map[string][][]any{"a": {{ns(0, 0), 1.0, 1, 1}}}, columns: []string{"time", "ac_power_w", "energy_wh", "state"}},
			devs: devs("a"), wantErr: "has columns"},
		{desc: "no devices, no request", f: &fakeInflux{rows: basic}, devs: nil, want: ""},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			srv := httptest.NewServer(tc.f)
			defer srv.Close()
			cfg := anomaly.DefaultInfluxConfig()
			cfg.URL = srv.URL
			if tc.perReq > 0 {
				cfg.DevicesPerRequest = tc.perReq
			}
			cfg.Requests = 3
			src, err := anomaly.NewSource(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			series, st, err := src.Load(context.Background(), tc.devs, from, to)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var parts []string
			for i, s := range series {
				if s.Device.ID != tc.devs[i].ID {
					t.Errorf("series %d is %q, want %q", i, s.Device.ID, tc.devs[i].ID)
				}
				p := s.Device.ID + ":"
				for _, x := range s.Samples {
					if x.T.Location() != time.UTC {
						t.Errorf("%s: time zone %s, want UTC", s.Device.ID, x.T.Location())
					}
					p += fmt.Sprintf(" %s/%g/%d/%d/%d", x.T.Format("15:04:05.000"), x.ACPowerW, x.EnergyWh, x.State, x.Seq)
				}
				parts = append(parts, p)
			}
			if got := strings.Join(parts, "|"); got != tc.want {
				t.Errorf("loaded\n %s\nwant\n %s", got, tc.want)
			}
			if st.Rows != tc.rows || st.Skipped != tc.skipped || st.Requests != tc.requests || tc.f.requests != tc.requests {
				t.Errorf("stats %+v (server saw %d requests), want %d rows, %d skipped, %d requests", st, tc.f.requests, tc.rows, tc.skipped, tc.requests)
			}
		})
	}
}

func TestSourceRequests(t *testing.T) {
	cfg := anomaly.DefaultInfluxConfig()
	cfg.Measurement, cfg.Lookback, cfg.DevicesPerRequest = `re"ading`, 90*time.Minute, 2
	src, err := anomaly.NewSource(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	from := time.Unix(100_000, 0)
	qs, groups := src.Requests([]devices.Device{{ID: "a"}, {ID: ""}, {ID: "b'c"}, {ID: "a"}, {ID: "d"}}, from, from.Add(time.Hour))
	stmt := func(id string) string {
		return `SELECT "ac_power_w","energy_wh","state","seq" FROM "re\"ading" WHERE time >= 94600000000000 AND time < 103600000000000 AND "device_id" = ` + id + ` GROUP BY "device_id"`
	}
	want := []string{stmt(`'a'`) + "; " + stmt(`'b\'c'`), stmt(`'d'`)}
	if fmt.Sprint(qs) != fmt.Sprint(want) || fmt.Sprint(groups) != "[[0 2] [4]]" {
		t.Errorf("requests\n%q %v\nwant\n%q [[0 2] [4]]", qs, groups, want)
	}
}

func TestInfluxConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		desc string
		mod  func(*anomaly.InfluxConfig)
		ok   bool
	}{
		{"default", func(*anomaly.InfluxConfig) {}, true},
		{"no devices per request", func(c *anomaly.InfluxConfig) { c.DevicesPerRequest = 0 }, false},
		{"no requests", func(c *anomaly.InfluxConfig) { c.Requests = 0 }, false},
		{"negative lookback", func(c *anomaly.InfluxConfig) { c.Lookback = -time.Second }, false},
		{"zero lookback", func(c *anomaly.InfluxConfig) { c.Lookback = 0 }, true},
		{"no chunk size", func(c *anomaly.InfluxConfig) { c.ChunkSize = 0 }, false},
	} {
		cfg := anomaly.DefaultInfluxConfig()
		tc.mod(&cfg)
		if err := cfg.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok %v", tc.desc, err, tc.ok)
		}
	}
}
