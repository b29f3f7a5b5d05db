package anomaly_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sunproof/sunproof/anomaly"
	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/ingest/reading"
	"github.com/sunproof/sunproof/ingest/sim"
	"github.com/sunproof/sunproof/ingest/tsdbwriter"
	"github.com/sunproof/sunproof/internal/influxql"
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

// TestIntegrationInfluxLoadMatchesOneQuery checks Source.Load (a statement
// per device, several requests at once, MessagePack in small chunks)
// against the simplest reading of the same data: one InfluxQL SELECT …
// GROUP BY device_id answered as one JSON document. The data has what Load
// must get right: readings outside [from − Lookback, to), a device that
// changed site (two series), rows without power, an id that needs quoting,
// a device nobody asks for, and asked-for devices without data or twice.
func TestIntegrationInfluxLoadMatchesOneQuery(t *testing.T) {
	env, db := influxDB(t)
	ctx := context.Background()
	from := time.Date(2024, 6, 20, 0, 0, 0, 0, cst)
	to := from.Add(24 * time.Hour)
	pl := area("cmp", 12, 31.8, 117.2, 5, 0.3)
	pl[4].dev.ID = "o'neil"
	rs := simulateReadings(t, pl, from.Add(-3*time.Hour), to.Add(2*time.Hour), 5*time.Minute)
	for i := range rs {
		if rs[i].DeviceID == pl[3].dev.ID && rs[i].Time().After(from.Add(12*time.Hour)) {
			rs[i].SiteID = "moved"
		}
	}
	extra := simulateReadings(t, area("extra", 1, 31.8, 117.2, 6, 0.3), from, to, 5*time.Minute)
	writeReadings(t, env.InfluxURL, db, append(rs, extra...))
	// Readings without power (another writer's points).
	var lp strings.Builder
	for i := range 5 {
		fmt.Fprintf(&lp, "reading,device_id=%s,site_id=cmp energy_wh=%di,seq=%di %d\n", pl[7].dev.ID, 42+i, 900+i, from.Add(time.Duration(i)*time.Hour+time.Minute).UnixNano())
	}
	if err := influxql.New(influxql.Server{URL: env.InfluxURL, Database: db}, nil).Write(ctx, lp.String()); err != nil {
		t.Fatal(err)
	}

	cfg := anomaly.DefaultInfluxConfig()
	cfg.URL, cfg.Database = env.InfluxURL, db
	lo, hi := from.Add(-cfg.Lookback), to

	// The reference: one statement, one JSON document.
	body, err := teststack.InfluxQL(ctx, env.InfluxURL, db, fmt.Sprintf(
		`SELECT "ac_power_w","energy_wh","state","seq" FROM "reading" WHERE time >= %d AND time < %d GROUP BY "device_id"`, lo.UnixNano(), hi.UnixNano()))
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Results []struct {
			Series []struct {
				Tags   map[string]string `json:"tags"`
				Values [][]any           `json:"values"`
			} `json:"series"`
		} `json:"results"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil || len(raw.Results) != 1 {
		t.Fatalf("reference query: %v: %.300s", err, body)
	}
	want := map[string][]anomaly.Sample{}
	wantRows, wantSkipped := map[string]int{}, map[string]int{}
	num := func(v any) int64 {
		n, _ := v.(json.Number).Int64()
		return n
	}
	for _, s := range raw.Results[0].Series {
		id := s.Tags["device_id"]
		for _, v := range s.Values {
			wantRows[id]++
			if v[1] == nil || v[2] == nil {
				wantSkipped[id]++
				continue
			}
			w, _ := v[1].(json.Number).Float64()
			smp := anomaly.Sample{T: time.UnixMilli(num(v[0]) / 1e6).UTC(), ACPowerW: w, EnergyWh: uint64(num(v[2]))}
			if v[3] != nil {
				smp.State = uint16(num(v[3]))
			}
			if v[4] != nil {
				smp.Seq = uint64(num(v[4]))
			}
			want[id] = append(want[id], smp)
		}
	}

	devs := append(devicesOf(pl), devices.Device{ID: "ghost"}, pl[0].dev)
	cfg.DevicesPerRequest, cfg.Requests, cfg.ChunkSize = 5, 3, 50
	src, err := anomaly.NewSource(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	series, st, err := src.Load(ctx, devs, from, to)
	if err != nil {
		t.Fatal(err)
	}
	rows, skipped := 0, 0
	for i, s := range series {
		w := want[s.Device.ID]
		if i == len(devs)-1 { // the repeated device
			w = nil
		} else {
			rows += wantRows[s.Device.ID]
			skipped += wantSkipped[s.Device.ID]
		}
		if s.Device.ID != devs[i].ID || !slices.EqualFunc(s.Samples, w, func(a, b anomaly.Sample) bool { return a == b && a.T.Equal(b.T) }) {
			t.Errorf("series %d (%s): %d samples, want %d (%s)", i, s.Device.ID, len(s.Samples), len(w), devs[i].ID)
		}
	}
	if len(want[pl[3].dev.ID]) < 250 || len(want["o'neil"]) == 0 || wantSkipped[pl[7].dev.ID] != 5 || want["extra-00"] == nil {
		t.Errorf("the data lacks a case: moved %d, quoted %d, without power %d, extra %d", len(want[pl[3].dev.ID]), len(want["o'neil"]), wantSkipped[pl[7].dev.ID], len(want["extra-00"]))
	}
	if st.Rows != rows || st.Skipped != skipped || st.Requests != 3 {
		t.Errorf("stats %+v, want %d rows, %d skipped, 3 requests", st, rows, skipped)
	}
}
