package anomaly_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	"golang.org/x/sync/errgroup"

	"github.com/sunproof/sunproof/anomaly"
	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/ingest/reading"
	"github.com/sunproof/sunproof/internal/teststack"
)

// benchInfluxFleet returns a database on the local stack holding the
// readings of the first n devices of benchFleet over [benchDay − 1 h,
// benchDay + 24 h) in the collector's schema, and those devices.
//
// SUNPROOF_ANOMALY_LOAD_DB names a database to use and keep (written if it
// is empty, reused if it holds this fleet), so that repeated runs skip the
// minute of seeding; drop it yourself afterwards. Otherwise a fresh
// database is written and dropped when b ends.
func benchInfluxFleet(b *testing.B, n int) (url, db string, devs []devices.Device) {
	b.Helper()
	env := teststack.Require(b, teststack.Influx)
	benchInit(b)
	ctx := context.Background()
	db = os.Getenv("SUNPROOF_ANOMALY_LOAD_DB")
	keep := db != ""
	if !keep {
		db = "anomaly_bench_" + teststack.RunID()
	}
	if _, err := teststack.InfluxQL(ctx, env.InfluxURL, "", "CREATE DATABASE "+db); err != nil {
		b.Fatal(err)
	}
	if !keep {
		b.Cleanup(func() {
			if _, err := teststack.InfluxQL(context.Background(), env.InfluxURL, "", "DROP DATABASE "+db); err != nil {
				b.Errorf("drop %s: %v", db, err)
			}
		})
	}
	want := 0
	for c := 0; len(devs) < n; c++ {
		for k, tpl := range benchTemplates {
			if len(devs) == n {
				break
			}
			devs = append(devs, benchCopy(tpl.dev, k, c))
			want += len(tpl.rs)
		}
	}
	// Devices are written in order: if the last one is complete, so are
	// the others.
	last := devs[len(devs)-1].ID
	if got := benchCount(b, env.InfluxURL, db, last); got == len(benchTemplates[(n-1)%len(benchTemplates)].rs) {
		return env.InfluxURL, db, devs
	} else if got != 0 || benchCount(b, env.InfluxURL, db, "") != 0 {
		b.Fatalf("database %s holds another fleet (%d readings of %s): drop it", db, got, last)
	}
	t0 := time.Now()
	var rs []reading.Reading
	for i, d := range devs {
		for _, r := range benchTemplates[i%len(benchTemplates)].rs {
			r.DeviceID, r.SiteID = d.ID, d.SiteID
			rs = append(rs, r)
		}
		if len(rs) >= 50000 || i == len(devs)-1 {
			writeReadings(b, env.InfluxURL, db, rs)
			rs = rs[:0]
		}
	}
	b.Logf("wrote %d readings of %d devices to %s in %s", want, n, db, time.Since(t0).Round(time.Millisecond))
	return env.InfluxURL, db, devs
}

// benchCount returns how many readings db holds of device id (all devices
// if id is "").
func benchCount(b *testing.B, url, db, id string) int {
	q := `SELECT count("seq") FROM "reading"`
	if id != "" {
		q += ` WHERE "device_id" = '` + id + `'`
	}
	body, err := teststack.InfluxQL(context.Background(), url, db, q)
	if err != nil {
		b.Fatal(err)
	}
	var res struct {
		Results []struct {
			Series []struct {
				Values [][]json.Number `json:"values"`
			} `json:"series"`
		} `json:"results"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		b.Fatal(err)
	}
	if len(res.Results) == 0 || len(res.Results[0].Series) == 0 {
		return 0
	}
	v, _ := strconv.Atoi(string(res.Results[0].Series[0].Values[0][1]))
	return v
}

// benchDevices is SUNPROOF_ANOMALY_LOAD_DEVICES, 10,000 by default.
func benchDevices() int {
	if n, _ := strconv.Atoi(os.Getenv("SUNPROOF_ANOMALY_LOAD_DEVICES")); n > 0 {
		return n
	}
	return 10000
}

// BenchmarkIntegrationInfluxLoadScan is one fleet-day scan end to end:
// load 10,000 devices × 1 day at 5 minutes (2.88 M readings, 3.0 M with the
// hour of lookback) from InfluxDB with Source.Load, then scan them with
// every detector — the same fleet as BenchmarkScanFleet. Target ≤ 5 s on
// 2 cores. The first run writes the fleet (about a minute); set
// SUNPROOF_ANOMALY_LOAD_DB to keep it for the next runs:
//
//	SUNPROOF_ANOMALY_LOAD_DB=anomaly_bench go test -run '^$' -bench IntegrationInfluxLoadScan -benchtime 3x -count 3 ./anomaly
//	curl -s 127.0.0.1:8086/query --data-urlencode 'q=DROP DATABASE anomaly_bench'
func BenchmarkIntegrationInfluxLoadScan(b *testing.B) {
	url, db, devs := benchInfluxFleet(b, benchDevices())
	cfg := anomaly.DefaultInfluxConfig()
	cfg.URL, cfg.Database = url, db
	src, err := anomaly.NewSource(cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	sc, err := anomaly.NewScanner(anomaly.DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var loadS, scanS float64
	var rows, points int
	for b.Loop() {
		series, st, err := src.Load(ctx, devs, benchDay, benchDay.Add(24*time.Hour))
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		res, err := sc.Scan(ctx, series, benchDay, benchDay.Add(24*time.Hour))
		if err != nil {
			b.Fatal(err)
		}
		scanS += time.Since(t0).Seconds()
		loadS += st.Elapsed.Seconds()
		rows, points = st.Rows, res.Points
	}
	k := float64(b.N)
	b.ReportMetric(float64(rows), "rows/load")
	b.ReportMetric(float64(points), "points/scan")
	b.ReportMetric(loadS/k, "load-s")
	b.ReportMetric(float64(rows)*k/loadS, "rows/s")
	b.ReportMetric(scanS/k, "scan-s")
}

// BenchmarkIntegrationInfluxLoad loads the fleet-day of
// BenchmarkIntegrationInfluxLoadScan with several Source settings, named
// requests at a time × devices per request.
func BenchmarkIntegrationInfluxLoad(b *testing.B) {
	url, db, devs := benchInfluxFleet(b, benchDevices())
	for _, c := range []struct{ perRequest, requests int }{{500, 1}, {500, 2}, {500, 3}, {100, 2}, {250, 2}, {1000, 2}, {2500, 2}} {
		b.Run(fmt.Sprintf("%dx%d", c.requests, c.perRequest), func(b *testing.B) {
			cfg := anomaly.DefaultInfluxConfig()
			cfg.URL, cfg.Database = url, db
			cfg.DevicesPerRequest, cfg.Requests = c.perRequest, c.requests
			src, err := anomaly.NewSource(cfg, nil)
			if err != nil {
				b.Fatal(err)
			}
			var rows int
			for b.Loop() {
				_, st, err := src.Load(context.Background(), devs, benchDay, benchDay.Add(24*time.Hour))
				if err != nil {
					b.Fatal(err)
				}
				rows = st.Rows
			}
			b.ReportMetric(float64(rows), "rows/load")
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkIntegrationFlux runs Flux (InfluxDB 1.8: POST /api/v2/query,
// Flux v0.65) over the fleet-day of BenchmarkIntegrationInfluxLoadScan:
// the raw load (range, filter, pivot) and a per-device daily counter
// spread, each read as raw HTTP (body discarded: InfluxDB's cost and the
// transfer) and through influxdb-client-go (iterating the records: what a
// Go loader would pay; that client always asks for gzip), with the
// InfluxQL equivalents for comparison: one statement GROUP BY device_id
// (CSV and MessagePack), and one statement per device, 500 per request,
// 2 requests at a time, as Source.Load sends them.
func BenchmarkIntegrationFlux(b *testing.B) {
	url, db, devs := benchInfluxFleet(b, benchDevices())
	from, to := benchDay.Add(-time.Hour).Format(time.RFC3339), benchDay.Add(24*time.Hour).Format(time.RFC3339)
	pivot := fmt.Sprintf(`from(bucket: %q) |> range(start: %s, stop: %s)
  |> filter(fn: (r) => r._measurement == "reading" and (r._field == "ac_power_w" or r._field == "energy_wh" or r._field == "state" or r._field == "seq"))
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")`, db, from, to)
	spread := fmt.Sprintf(`from(bucket: %q) |> range(start: %s, stop: %s)
  |> filter(fn: (r) => r._measurement == "reading" and r._field == "energy_wh")
  |> group(columns: ["device_id"]) |> spread()`, db, from, to)
	where := fmt.Sprintf(`time >= %d AND time < %d`, benchDay.Add(-time.Hour).UnixNano(), benchDay.Add(24*time.Hour).UnixNano())
	influxQL := map[string]string{
		"pivot":  `SELECT "ac_power_w","energy_wh","state","seq" FROM "reading" WHERE ` + where + ` GROUP BY "device_id"`,
		"spread": `SELECT spread("energy_wh") FROM "reading" WHERE ` + where + ` GROUP BY "device_id"`,
	}
	ctx := context.Background()
	client := influxdb2.NewClient(url, "")
	defer client.Close()
	api := client.QueryAPI("")
	for _, c := range []struct{ name, flux string }{{"pivot", pivot}, {"spread", spread}} {
		b.Run(c.name+"/flux-http", func(b *testing.B) {
			var n int64
			for b.Loop() {
				n = benchPost(b, url+"/api/v2/query", "application/json",
					`{"type":"flux","query":`+strconv.Quote(c.flux)+`,"dialect":{"annotations":["datatype","group","default"]}}`, "")
			}
			b.ReportMetric(float64(n), "B/query")
		})
		b.Run(c.name+"/flux-client", func(b *testing.B) {
			var records int
			for b.Loop() {
				res, err := api.Query(ctx, c.flux)
				if err != nil {
					b.Fatal(err)
				}
				records = 0
				for res.Next() {
					records++
				}
				if err := res.Err(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(records), "records")
		})
		b.Run(c.name+"/influxql-per-device-http", func(b *testing.B) {
			var n atomic.Int64
			for b.Loop() {
				n.Store(0)
				var eg errgroup.Group
				eg.SetLimit(2)
				for k := 0; k < len(devs); k += 500 {
					var q strings.Builder
					for _, d := range devs[k:min(k+500, len(devs))] {
						q.WriteString(strings.Replace(influxQL[c.name], ` GROUP BY`, ` AND "device_id" = '`+d.ID+`' GROUP BY`, 1) + "; ")
					}
					eg.Go(func() error {
						n.Add(benchPost(b, url+"/query", "application/x-www-form-urlencoded",
							"chunked=true&chunk_size=10000&epoch=ns&db="+db+"&q="+neturl.QueryEscape(q.String()), "application/x-msgpack"))
						return nil
					})
				}
				eg.Wait()
			}
			b.ReportMetric(float64(n.Load()), "B/query")
		})
		for _, accept := range []string{"application/csv", "application/x-msgpack"} {
			b.Run(c.name+"/influxql-http-"+strings.TrimPrefix(accept, "application/"), func(b *testing.B) {
				var n int64
				for b.Loop() {
					n = benchPost(b, url+"/query", "application/x-www-form-urlencoded",
						"chunked=true&chunk_size=10000&epoch=ns&db="+db+"&q="+neturl.QueryEscape(influxQL[c.name]), accept)
				}
				b.ReportMetric(float64(n), "B/query")
			})
		}
	}
}

// benchPost posts body and discards the (uncompressed) answer; it returns
// its size. It reports errors with b.Error: it may run in a goroutine.
func benchPost(b *testing.B, url, contentType, body, accept string) int64 {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		b.Error(err)
		return 0
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept-Encoding", "identity") // as influxql.Client: no gzip on loopback
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Error(err)
		return 0
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Errorf("%s: %s, %v", url, resp.Status, err)
	}
	return n
}
