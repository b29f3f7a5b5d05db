package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sunproof/sunproof/ingest/reading"
	"github.com/sunproof/sunproof/ingest/tsdbwriter"
	"github.com/sunproof/sunproof/internal/httpapi"
	"github.com/sunproof/sunproof/internal/influxql"
	"github.com/sunproof/sunproof/internal/teststack"
)

// TestIntegrationInflux writes readings in the writer's schema
// (docs/formats/influx.md) to a fresh database of the local stack's
// InfluxDB and reads them back through the API's reading source.
func TestIntegrationInflux(t *testing.T) {
	env := teststack.Require(t, teststack.Influx)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db := "sunproof_httpapi_" + teststack.RunID()
	if _, err := teststack.InfluxQL(ctx, env.InfluxURL, "", "CREATE DATABASE "+db); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { teststack.InfluxQL(context.Background(), env.InfluxURL, "", "DROP DATABASE "+db) })

	// Two devices, a reading every minute for an hour: power 100·i W for
	// device a, 1000 W for device b; energy counters rise 10 Wh a minute.
	t0 := time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)
	var lines []byte
	for i := range 60 {
		for _, d := range []struct {
			id string
			w  float64
		}{{"it-a", 100 * float64(i)}, {"it-b", 1000}} {
			r := reading.Reading{DeviceID: d.id, SiteID: "it-site", Seq: uint64(i + 1), TimeMS: t0.Add(time.Duration(i) * time.Minute).UnixMilli(),
				Measurement: reading.Measurement{ACPowerW: d.w, EnergyWh: 5000 + 10*uint64(i), State: 4}}
			lines = tsdbwriter.AppendLine(lines, &r)
			lines = append(lines, '\n')
		}
	}
	u := strings.TrimRight(env.InfluxURL, "/") + "/write?" + url.Values{"db": {db}, "precision": {"ns"}}.Encode()
	resp, err := http.Post(u, "text/plain", strings.NewReader(string(lines)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("write: %s", resp.Status)
	}

	src, err := httpapi.NewInflux(httpapi.InfluxConfig{Server: influxql.Server{URL: env.InfluxURL, Database: db}, Measurement: "reading", Timeout: 10 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pts, err := src.Series(ctx, "it-a", t0, t0.Add(time.Hour), 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 4 {
		t.Fatalf("%d buckets, want 4", len(pts))
	}
	// Bucket 1 holds i = 15..29: mean power 100 × 22 W, max 2900 W, last
	// counter 5000 + 290, seqs 16..30.
	if p := pts[1]; !p.Time.Equal(t0.Add(15*time.Minute)) || p.ACPowerW != 2200 || p.ACPowerMaxW != 2900 ||
		p.EnergyWh != 5290 || p.Count != 15 || p.FirstSeq != 16 || p.LastSeq != 30 {
		t.Errorf("bucket 1 = %+v", p)
	}

	fleet, err := src.FleetSeries(ctx, nil, t0, t0.Add(time.Hour), 30*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// Bucket 0: device a's mean 100 × 14.5 W plus device b's 1000 W.
	if len(fleet) != 2 || fleet[0].ACPowerW != 2450 || fleet[0].Devices != 2 {
		t.Errorf("fleet = %+v", fleet)
	}
	only, err := src.FleetSeries(ctx, []string{"it-b"}, t0, t0.Add(time.Hour), 30*time.Minute)
	if err != nil || len(only) != 2 || only[0].ACPowerW != 1000 || only[0].Devices != 1 {
		t.Errorf("fleet of it-b = %+v, %v", only, err)
	}

	latest, err := src.Latest(ctx, []string{"it-a", "it-b"}, t0.Add(30*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	a := latest["it-a"]
	if len(latest) != 2 || !a.Time.Equal(t0.Add(59*time.Minute)) || a.ACPowerW != 5900 || a.EnergyWh != 5590 || a.Seq != 60 || a.EnergySinceWh != 290 {
		t.Errorf("latest = %+v", latest)
	}
	if got, err := src.Latest(ctx, nil, t0.Add(2*time.Hour)); err != nil || len(got) != 0 {
		t.Errorf("latest after the data = %+v, %v", got, err)
	}
	if _, err := src.Series(ctx, "bad id", t0, t0.Add(time.Hour), time.Minute); err == nil {
		t.Error("Series accepted an invalid device id")
	}
}
