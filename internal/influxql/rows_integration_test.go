package influxql_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sunproof/sunproof/internal/influxql"
	fake "github.com/sunproof/sunproof/internal/influxql/influxqlfake"
	"github.com/sunproof/sunproof/internal/teststack"
)

// TestIntegrationRows reads the same statements from InfluxDB as JSON and
// with Rows (MessagePack, in chunks smaller than a series), and checks that
// influxqlfake encodes what Rows read back into InfluxDB's exact bytes.
func TestIntegrationRows(t *testing.T) {
	env := teststack.Require(t, teststack.Influx)
	ctx := context.Background()
	db := "influxql_rows_" + teststack.RunID()
	if _, err := teststack.InfluxQL(ctx, env.InfluxURL, "", "CREATE DATABASE "+db); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := teststack.InfluxQL(context.Background(), env.InfluxURL, "", "DROP DATABASE "+db); err != nil {
			t.Errorf("drop %s: %v", db, err)
		}
	})
	c := influxql.New(influxql.Server{URL: env.InfluxURL, Database: db}, nil)
	var lp strings.Builder
	for d := range 3 {
		for i := range 25 {
			// Device 1 misses "f" in every third point and changes site half-way.
			site := "s1"
			if d == 1 && i >= 12 {
				site = "s2"
			}
			fields := fmt.Sprintf("f=%g,i=%di,u=%di,s=\"x%d\",b=%t", float64(i)*1.5-7, i*1_000_000_007-3, i, i, i%2 == 0)
			if d == 1 && i%3 == 0 {
				fields = fields[strings.Index(fields, ",")+1:]
			}
			fmt.Fprintf(&lp, "m,device_id=d%d,site_id=%s %s %d\n", d, site, fields, 1_700_000_000_000_000_000+int64(i)*60e9+int64(d))
		}
	}
	if err := c.Write(ctx, lp.String()); err != nil {
		t.Fatal(err)
	}
	q := `SELECT "f","i","u","s","b" FROM "m" WHERE "device_id" = 'd0' GROUP BY "device_id"; ` +
		`SELECT "f","i" FROM "m" WHERE "device_id" = 'nobody'; ` +
		`SELECT "f","i","s" FROM "m" GROUP BY "device_id"; SELECT count("u") FROM "m" GROUP BY "site_id"`

	// JSON, with numbers kept exact.
	body, err := c.Query(ctx, q, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	var raw struct {
		Results []struct {
			StatementID int `json:"statement_id"`
			Series      []struct {
				Name    string            `json:"name"`
				Tags    map[string]string `json:"tags"`
				Columns []string          `json:"columns"`
				Values  [][]any           `json:"values"`
			} `json:"series"`
		} `json:"results"`
	}
	dec := json.NewDecoder(body)
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, r := range raw.Results {
		for _, s := range r.Series {
			for _, row := range s.Values {
				want = append(want, fmt.Sprintf("%d %s %s %v %v", r.StatementID, s.Name, s.Tags["device_id"]+s.Tags["site_id"], s.Columns, row))
			}
		}
	}

	rows, err := c.QueryRows(ctx, q, 10)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	chunks := 0
	for rows.Next() {
		if rows.NewSeries() {
			chunks++
		}
		s := rows.Series()
		vals := make([]string, len(rows.Row()))
		for i, v := range rows.Row() {
			switch v.Kind {
			case influxql.KindNil:
				vals[i] = "<nil>"
			case influxql.KindString:
				vals[i] = v.Str
			default:
				vals[i] = strings.Trim(v.String(), `"`)
			}
		}
		got = append(got, fmt.Sprintf("%d %s %s %v %v", s.StatementID, s.Name, s.Tag("device_id")+s.Tag("site_id"), s.Columns, "["+strings.Join(vals, " ")+"]"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Rows read\n%s\nJSON says\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if chunks < 8 {
		t.Errorf("%d series chunks, want the 25-row series split in chunks of 10", chunks)
	}

	// influxqlfake reproduces InfluxDB's bytes (one tag per series: Go map
	// order does not matter).
	form := url.Values{"db": {db}, "epoch": {"ns"}, "chunked": {"true"}, "chunk_size": {"10"},
		"q": {`SELECT "f","i","u","s","b" FROM "m" GROUP BY "device_id"`}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, env.InfluxURL+"/query", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/x-msgpack")
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	real, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	rows = influxql.NewRows(bytes.NewReader(real))
	var results []fake.Result
	var cur *fake.Series
	emit := func() {
		if cur != nil {
			// InfluxDB marks every result but the statement's last partial.
			results = append(results, fake.Result{Series: []fake.Series{*cur}, Partial: true})
		}
	}
	for rows.Next() {
		s := rows.Series()
		if rows.NewSeries() {
			emit()
			cur = &fake.Series{Name: s.Name, Tags: map[string]string{"device_id": s.Tag("device_id")}, Columns: append([]string(nil), s.Columns...),
				Partial: rows.SeriesRows() == 10} // a series continued in the next chunk
		}
		row := make([]any, len(rows.Row()))
		for i, v := range rows.Row() {
			switch v.Kind {
			case influxql.KindInt:
				row[i] = v.Int
			case influxql.KindFloat:
				row[i] = v.Float
			case influxql.KindString:
				row[i] = v.Str
			case influxql.KindBool:
				row[i] = v.Bool
			}
		}
		cur.Values = append(cur.Values, row)
	}
	emit()
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var again []byte
	for i, r := range results {
		r.Partial = i < len(results)-1
		again = fake.AppendResponse(again, r)
	}
	if !bytes.Equal(again, real) {
		n := 0
		for n < min(len(again), len(real)) && again[n] == real[n] {
			n++
		}
		t.Errorf("influxqlfake wrote %d bytes, InfluxDB %d; from byte %d:\n%q\n%q", len(again), len(real), n, again[n:min(len(again), n+80)], real[n:min(len(real), n+80)])
	}
}
