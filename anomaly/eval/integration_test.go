package eval_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sunproof/sunproof/anomaly"
	"github.com/sunproof/sunproof/anomaly/eval"
	"github.com/sunproof/sunproof/ingest/reading"
	"github.com/sunproof/sunproof/ingest/tsdbwriter"
	"github.com/sunproof/sunproof/internal/teststack"
)

// TestIntegrationEvaluateInflux writes the evaluation fleet's readings to
// InfluxDB in the collector's schema, runs the evaluation with every scan
// loaded back by anomaly.Source (one InfluxQL query per day), prints the
// metrics and checks they equal the in-memory evaluation's.
func TestIntegrationEvaluateInflux(t *testing.T) {
	env := teststack.Require(t, teststack.Influx)
	ctx := context.Background()
	db := "eval_" + teststack.RunID()
	if _, err := teststack.InfluxQL(ctx, env.InfluxURL, "", "CREATE DATABASE "+db); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { teststack.InfluxQL(context.Background(), env.InfluxURL, "", "DROP DATABASE "+db) })

	f, err := eval.Generate(eval.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var lines bytes.Buffer
	var series = make([]anomaly.Series, len(f.Devices))
	points := 0
	start := time.Now()
	err = f.Simulate(func(i int, rs []reading.Reading) {
		smp := make([]anomaly.Sample, len(rs))
		var b []byte
		for k := range rs {
			smp[k] = anomaly.SampleOf(&rs[k])
			b = tsdbwriter.AppendLine(b, &rs[k])
			b = append(b, '\n')
		}
		mu.Lock()
		defer mu.Unlock()
		series[i] = anomaly.Series{Device: f.Devices[i], Samples: smp}
		lines.Write(b)
		points += len(rs)
	})
	if err != nil {
		t.Fatal(err)
	}
	// Write in batches of ~5,000 lines.
	data := lines.Bytes()
	for len(data) > 0 {
		cut := len(data)
		if n := 0; true {
			for i, c := range data {
				if c == '\n' {
					n++
					if n == 5000 {
						cut = i + 1
						break
					}
				}
			}
		}
		resp, err := http.Post(env.InfluxURL+"/write?db="+db+"&precision=ns", "text/plain", bytes.NewReader(data[:cut]))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("write: %s", resp.Status)
		}
		data = data[cut:]
	}
	t.Logf("simulated and wrote %d points in %s", points, time.Since(start).Round(time.Millisecond))

	cfg := anomaly.DefaultInfluxConfig()
	cfg.URL, cfg.Database = env.InfluxURL, db
	src, err := anomaly.NewSource(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	fromInflux, err := eval.Evaluate(ctx, f, eval.FromLoader(src))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fromInflux.WriteText(&b)
	t.Log("\n" + b.String())

	inMemory, err := eval.Evaluate(ctx, f, eval.MemoryLoader(series, anomaly.DefaultInfluxConfig().Lookback))
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range eval.FaultTypes {
		g, w := fromInflux.PerType[typ], inMemory.PerType[typ]
		if g.Detected != w.Detected || g.TruePositive != w.TruePositive || g.FalsePositive != w.FalsePositive {
			t.Errorf("%s: from InfluxDB %+v, in memory %+v", typ, *g, *w)
		}
	}
	if fromInflux.FalseAlarms != inMemory.FalseAlarms || fromInflux.Points != inMemory.Points {
		t.Errorf("false alarms %d vs %d, points %d vs %d", fromInflux.FalseAlarms, inMemory.FalseAlarms, fromInflux.Points, inMemory.Points)
	}
}
