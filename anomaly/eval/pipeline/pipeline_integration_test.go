package pipeline

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sunproof/sunproof/anomaly/eval"
	"github.com/sunproof/sunproof/internal/teststack"
)

func testLog(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})).With("test", t.Name())
	}
	return slog.New(slog.DiscardHandler)
}

// fleetConfig is eval.DefaultConfig (128 devices × 7 days, 258 k
// readings: 32 s on a quiet 2-core machine, up to 105 s under load), or
// eval.ShortConfig (44 × 3, 38 k readings, 5.5–17 s) with
// SUNPROOF_EVAL_PIPELINE_SHORT=1.
func fleetConfig() eval.Config {
	if os.Getenv("SUNPROOF_EVAL_PIPELINE_SHORT") == "1" {
		return eval.ShortConfig()
	}
	return eval.DefaultConfig()
}

// TestIntegrationPipelineEval runs the evaluation fleet through the real
// stack (Mosquitto, collector, Kafka, tsdb writer, InfluxDB), prints the
// report, checks that every published reading is stored or rejected, that
// the counter resets' readings went to the rejects topic and came back
// through anomaly.RejectSource, and that the per-type results equal the
// in-memory evaluation's; then that the run left nothing behind.
func TestIntegrationPipelineEval(t *testing.T) {
	env := teststack.Require(t, teststack.MQTT, teststack.Kafka, teststack.Influx)
	f, err := eval.Generate(fleetConfig())
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.RunID, cfg.MQTTURL, cfg.Brokers, cfg.InfluxURL = teststack.RunID(), env.MQTTURL, env.Brokers, env.InfluxURL
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	res, err := Run(ctx, cfg, f, testLog(t))
	if res != nil {
		var b strings.Builder
		res.WriteText(&b)
		t.Log("\n" + b.String())
	}
	if err != nil {
		t.Fatal(err)
	}
	c := res.Counts
	if !c.Accounted() {
		t.Errorf("not every reading accounted for: %+v", c)
	}
	if c.Published == 0 || c.Stored == 0 {
		t.Fatalf("nothing went through: %+v", c)
	}
	if c.Rejected["counter_regression"] == 0 || c.Held < c.Rejected["counter_regression"] {
		t.Errorf("counter resets: %d readings rejected for counter_regression, %d held for merging",
			c.Rejected["counter_regression"], c.Held)
	}
	for reason := range c.Rejected {
		if reason != "counter_regression" && reason != "implausible" {
			t.Errorf("unexpected reject reason %s (%d readings): the simulator emits only valid readings", reason, c.Rejected[reason])
		}
	}
	for _, typ := range eval.FaultTypes {
		g, w := res.Pipeline.PerType[typ], res.InMemory.PerType[typ]
		if g.Faults != w.Faults || g.Detected != w.Detected || g.TruePositive != w.TruePositive || g.FalsePositive != w.FalsePositive {
			t.Errorf("%s: through the pipeline %d/%d/%d/%d, in memory %d/%d/%d/%d (faults/detected/TP/FP)", typ,
				g.Faults, g.Detected, g.TruePositive, g.FalsePositive, w.Faults, w.Detected, w.TruePositive, w.FalsePositive)
		}
	}
	if len(res.Differences) > 0 {
		t.Errorf("the reports differ:\n%s", strings.Join(res.Differences, "\n"))
	}
	// The documented difference without anomaly.RejectSource: after a reset
	// the device's readings are all rejected, so no counter regression is
	// seen (the device looks silent instead).
	if u, m := res.Unmerged.PerType[eval.FaultCounterReset], res.Pipeline.PerType[eval.FaultCounterReset]; u.Detected != 0 || m.Detected != m.Faults {
		t.Errorf("counter resets detected: %d of %d from InfluxDB alone (want 0), %d with the rejects merged back (want all)", u.Detected, u.Faults, m.Detected)
	}

	// Nothing left behind.
	cctx, ccancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer ccancel()
	body, err := teststack.InfluxQL(cctx, env.InfluxURL, "", "SHOW DATABASES")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(body), `"`+res.Names.DB+`"`) {
		t.Errorf("database %s still exists", res.Names.DB)
	}
	md, err := (&kafka.Client{Addr: kafka.TCP(env.Brokers...)}).Metadata(cctx, &kafka.MetadataRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range md.Topics {
		if strings.HasPrefix(tp.Name, "ev."+res.Names.Run+".") {
			t.Errorf("topic %s still exists", tp.Name)
		}
	}
}
