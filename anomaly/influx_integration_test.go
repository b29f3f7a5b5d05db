package anomaly_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"

	"github.com/sunproof/sunproof/anomaly"
	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/ingest/reading"
	"github.com/sunproof/sunproof/ingest/sim"
	"github.com/sunproof/sunproof/ingest/tsdbwriter"
	"github.com/sunproof/sunproof/internal/teststack"
)

// influxDB creates a fresh database on the local stack and drops it when
// the test ends.
func influxDB(t *testing.T) (teststack.Env, string) {
	t.Helper()
	env := teststack.Require(t, teststack.Influx)
	db := "anomaly_" + teststack.RunID()
	ctx := context.Background()
	if _, err := teststack.InfluxQL(ctx, env.InfluxURL, "", "CREATE DATABASE "+db); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := teststack.InfluxQL(context.Background(), env.InfluxURL, "", "DROP DATABASE "+db); err != nil {
			t.Errorf("drop %s: %v", db, err)
		}
	})
	return env, db
}

// writeReadings writes readings in the collector's schema
// (tsdbwriter.AppendLine), in batches of 5,000 lines.
func writeReadings(t testing.TB, url, db string, rs []reading.Reading) {
	t.Helper()
	var buf []byte
	flush := func() {
		if len(buf) == 0 {
			return
		}
		resp, err := http.Post(url+"/write?db="+db+"&precision=ns", "text/plain", bytes.NewReader(buf))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("write: %s", resp.Status)
		}
		buf = buf[:0]
	}
	for i := range rs {
		buf = tsdbwriter.AppendLine(buf, &rs[i])
		buf = append(buf, '\n')
		if (i+1)%5000 == 0 {
			flush()
		}
	}
	flush()
}

// simulateReadings is run() producing reading.Reading values.
func simulateReadings(t testing.TB, plants []plant, from, to time.Time, step time.Duration) []reading.Reading {
	t.Helper()
	var out []reading.Reading
	for _, p := range plants {
		cfg := p.cfg
		if p.faults != nil {
			cfg.Faults = p.faults()
		}
		inv, err := sim.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var seq uint64
		for tm := from; tm.Before(to); tm = tm.Add(step) {
			seq++
			ts, m, ok := inv.Report(tm)
			if !ok {
				continue
			}
			out = append(out, reading.Reading{DeviceID: p.dev.ID, SiteID: p.dev.SiteID, Seq: seq, TimeMS: ts.UnixMilli(), Measurement: m})
		}
	}
	return out
}

// TestIntegrationInflux writes a simulated area with two faulty devices to
// InfluxDB in the collector's schema, loads the second day back with
// Source (one query), scans it, and keeps the alerts in an InfluxStore.
func TestIntegrationInflux(t *testing.T) {
	env, db := influxDB(t)
	ctx := context.Background()
	day1 := time.Date(2024, 6, 20, 0, 0, 0, 0, cst)
	day2 := day1.Add(24 * time.Hour)
	pl := area("it", 10, 31.8, 117.2, 21, 0.3)
	pl[2].faults = func() []sim.Fault {
		return []sim.Fault{sim.Trip{Window: sim.Window{From: day2.Add(10 * time.Hour), To: day2.Add(12 * time.Hour)}}}
	}
	pl[5].faults = func() []sim.Fault {
		return []sim.Fault{&sim.CounterReset{Window: sim.Window{From: day2.Add(-2 * time.Minute)}}}
	}
	rs := simulateReadings(t, pl, day1, day2.Add(24*time.Hour), 5*time.Minute)
	t0 := time.Now()
	writeReadings(t, env.InfluxURL, db, rs)
	t.Logf("wrote %d readings in %s", len(rs), time.Since(t0).Round(time.Millisecond))

	cfg := anomaly.DefaultInfluxConfig()
	cfg.URL, cfg.Database = env.InfluxURL, db
	src, err := anomaly.NewSource(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	series, st, err := src.Load(ctx, devicesOf(pl), day2, day2.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded %d rows (%d skipped) in %s", st.Rows, st.Skipped, st.Elapsed.Round(time.Millisecond))
	// Every reading of day 2 and of the last hour of day 1 comes back, exactly.
	want := map[string]int{}
	for _, r := range rs {
		if tm := r.Time(); !tm.Before(day2.Add(-time.Hour)) && tm.Before(day2.Add(24*time.Hour)) {
			want[r.DeviceID]++
		}
	}
	byKey := map[reading.Key]reading.Reading{}
	for _, r := range rs {
		byKey[r.Key()] = r
	}
	for _, s := range series {
		if len(s.Samples) != want[s.Device.ID] {
			t.Errorf("%s: loaded %d samples, want %d", s.Device.ID, len(s.Samples), want[s.Device.ID])
		}
		for _, smp := range s.Samples {
			r := byKey[reading.Key{DeviceID: s.Device.ID, Seq: smp.Seq}]
			if !smp.T.Equal(r.Time()) || smp.ACPowerW != r.ACPowerW || smp.EnergyWh != r.EnergyWh || smp.State != r.State {
				t.Fatalf("%s seq %d: loaded %+v, wrote %+v", s.Device.ID, smp.Seq, smp, r)
			}
		}
	}

	res := scan(t, anomaly.DefaultConfig(), series, day2, day2.Add(24*time.Hour))
	got := map[string]anomaly.Type{}
	for _, f := range res.Findings {
		if f.Severity >= anomaly.SeverityWarning {
			got[f.DeviceID] = f.Type
		}
	}
	if got[pl[2].dev.ID] != anomaly.TypeZeroOutput || got[pl[5].dev.ID] != anomaly.TypeCounterRegression || len(got) != 2 {
		t.Errorf("alarms %v, want zero output on %s and a counter reset (across midnight) on %s:%s", got, pl[2].dev.ID, pl[5].dev.ID, describe(res.Findings))
	}

	// Alerts into InfluxDB and back.
	store, err := anomaly.NewInfluxStore(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	tr, _ := anomaly.NewTracker(anomaly.DefaultTrackerConfig(), nil)
	changed := tr.Apply(res, day2.Add(24*time.Hour))
	if err := store.Save(ctx, changed); err != nil {
		t.Fatal(err)
	}
	open, err := store.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != len(changed) {
		t.Fatalf("stored %d open alerts, read back %d", len(changed), len(open))
	}
	for i := range open {
		w, g := changed[i], open[i]
		if g.ID != w.ID || g.State != w.State || g.Severity != w.Severity || !g.Span.From.Equal(w.Span.From) || !g.Span.To.Equal(w.Span.To) ||
			!g.Start.Equal(w.Start) || g.Summary != w.Summary || len(g.Evidence) != len(w.Evidence) || g.SiteID != w.SiteID {
			t.Errorf("alert read back\n got %+v\nwant %+v", g, w)
		}
	}
	// The next day is clean: resolved alerts overwrite their points.
	res2 := anomaly.Result{Scanned: res.Scanned}
	if err := store.Save(ctx, tr.Apply(res2, day2.Add(48*time.Hour))); err != nil {
		t.Fatal(err)
	}
	if open, _ := store.Open(ctx); len(open) != 0 {
		t.Errorf("%d alerts still open after resolving", len(open))
	}
	if all, _ := store.All(ctx); len(all) != len(changed) {
		t.Errorf("%d alert points, want one per alert (%d)", len(all), len(changed))
	}
}

func devicesOf(pl []plant) (out []devices.Device) {
	for _, p := range pl {
		out = append(out, p.dev)
	}
	return out
}

// BenchmarkIntegrationInfluxLoad measures one scan's load from InfluxDB:
// SUNPROOF_ANOMALY_LOAD_DEVICES devices (default 1,000) × 1 day at 5
// minutes are written once, then each iteration loads the day with one
// InfluxQL query (Source.Load) and, for comparison, the same data with a
// Flux range/filter/pivot query, and scans it.
//
//	go test -run '^$' -bench IntegrationInfluxLoad -benchtime 2x ./anomaly
func BenchmarkIntegrationInfluxLoad(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("SUNPROOF_ANOMALY_LOAD_DEVICES"))
	if n == 0 {
		n = 1000
	}
	env := teststack.Require(b, teststack.Influx)
	db := "anomaly_bench_" + teststack.RunID()
	ctx := context.Background()
	if _, err := teststack.InfluxQL(ctx, env.InfluxURL, "", "CREATE DATABASE "+db); err != nil {
		b.Fatal(err)
	}
	defer teststack.InfluxQL(context.Background(), env.InfluxURL, "", "DROP DATABASE "+db)
	day := time.Date(2024, 6, 21, 0, 0, 0, 0, cst)
	tpl := simulateReadings(b, area("lt", 10, 31.8, 117.2, 3, 0.4), day.Add(-time.Hour), day.Add(24*time.Hour), 5*time.Minute)
	var devs []devices.Device
	for c := range (n + 9) / 10 {
		rs := make([]reading.Reading, 0, len(tpl))
		for _, r := range tpl {
			r.DeviceID = fmt.Sprintf("%s-%04d", r.DeviceID, c)
			rs = append(rs, r)
		}
		writeReadings(b, env.InfluxURL, db, rs)
		for _, p := range area("lt", 10, 31.8, 117.2, 3, 0.4) {
			p.dev.ID = fmt.Sprintf("%s-%04d", p.dev.ID, c)
			devs = append(devs, p.dev)
		}
	}
	cfg := anomaly.DefaultInfluxConfig()
	cfg.URL, cfg.Database = env.InfluxURL, db
	src, _ := anomaly.NewSource(cfg, nil)
	flux := influxdb2.NewClient(env.InfluxURL, "").QueryAPI("")
	fluxQ := fmt.Sprintf(`from(bucket: %q) |> range(start: %s, stop: %s)
  |> filter(fn: (r) => r._measurement == "reading" and (r._field == "ac_power_w" or r._field == "energy_wh" or r._field == "state" or r._field == "seq"))
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")`, db,
		day.Add(-time.Hour).Format(time.RFC3339), day.Add(24*time.Hour).Format(time.RFC3339))
	var loadS, fluxS, scanS float64
	var rows, fluxRows int
	b.ResetTimer()
	for b.Loop() {
		series, st, err := src.Load(ctx, devs, day, day.Add(24*time.Hour))
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		scan(b, anomaly.DefaultConfig(), series, day, day.Add(24*time.Hour))
		scanS += time.Since(t0).Seconds()
		loadS += st.Elapsed.Seconds()
		rows = st.Rows
		t1 := time.Now()
		res, err := flux.Query(ctx, fluxQ)
		if err != nil {
			b.Fatal(err)
		}
		fluxRows = 0
		for res.Next() {
			fluxRows++
		}
		if res.Err() != nil {
			b.Fatal(res.Err())
		}
		fluxS += time.Since(t1).Seconds()
	}
	k := float64(b.N)
	b.ReportMetric(float64(rows), "rows")
	b.ReportMetric(loadS/k, "influxql-load-s")
	b.ReportMetric(scanS/k, "scan-s")
	b.ReportMetric(fluxS/k, "flux-load-s")
	b.ReportMetric(float64(fluxRows), "flux-rows")
}
