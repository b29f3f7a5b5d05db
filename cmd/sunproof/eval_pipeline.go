package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/sunproof/sunproof/anomaly"
	"github.com/sunproof/sunproof/anomaly/eval"
	"github.com/sunproof/sunproof/anomaly/eval/pipeline"
	"github.com/sunproof/sunproof/ingest/reading"
)

// evalPipelineOptions are the flags of `sunproof eval -pipeline`.
type evalPipelineOptions struct {
	enabled bool
	cfg     pipeline.Config
	brokers string
	reasons string
}

// registerEvalPipeline adds -pipeline and its stack settings to the eval
// flags.
func registerEvalPipeline(fs *flag.FlagSet) *evalPipelineOptions {
	o := &evalPipelineOptions{cfg: pipeline.DefaultConfig()}
	var rs []string
	for _, r := range anomaly.DefaultRejectConfig().Reasons {
		rs = append(rs, string(r))
	}
	fs.BoolVar(&o.enabled, "pipeline", false, "run the fleet through the local stack's real pipeline (signed readings → MQTT → collector → Kafka → tsdb writer → InfluxDB), scan what arrived and compare with the in-memory evaluation")
	fs.StringVar(&o.cfg.MQTTURL, "mqtt", env("SUNPROOF_MQTT_URL", o.cfg.MQTTURL), "with -pipeline: plain MQTT broker URL (env SUNPROOF_MQTT_URL)")
	fs.StringVar(&o.brokers, "kafka", env("SUNPROOF_KAFKA_BROKERS", strings.Join(o.cfg.Brokers, ",")), "with -pipeline: Kafka brokers, comma-separated (env SUNPROOF_KAFKA_BROKERS)")
	fs.StringVar(&o.cfg.InfluxURL, "influx", env("SUNPROOF_INFLUX_URL", o.cfg.InfluxURL), "with -pipeline: InfluxDB URL (env SUNPROOF_INFLUX_URL)")
	fs.StringVar(&o.cfg.RunID, "run-id", "", "with -pipeline: names the run's topics ev.<id>.*, database ev_<id>, clients ev-<id>-* and devices ev<id>-* (default random)")
	fs.IntVar(&o.cfg.Publishers, "publishers", o.cfg.Publishers, "with -pipeline: concurrent MQTT connections publishing the readings")
	fs.IntVar(&o.cfg.CollectorLanes, "lanes", o.cfg.CollectorLanes, "with -pipeline: the collector's MQTT connections")
	fs.DurationVar(&o.cfg.Settle, "settle", o.cfg.Settle, "with -pipeline: how long to wait after publishing for every reading to be stored or rejected")
	fs.StringVar(&o.reasons, "merge-rejects", strings.Join(rs, ","), "with -pipeline: reject reasons whose authentic readings are merged back into the scans (anomaly.RejectSource); \"none\" scans InfluxDB alone")
	fs.BoolVar(&o.cfg.Keep, "keep", false, "with -pipeline: keep the run's topics, database and MQTT sessions for inspection")
	return o
}

// evaluate has the signature of evaluate (eval.go) for the -pipeline hook.
func (o *evalPipelineOptions) evaluate(ctx context.Context, cfg eval.Config, w io.Writer) (*eval.Report, error) {
	return runEvalPipeline(ctx, cfg, w, o)
}

// runEvalPipeline generates cfg's fleet, runs it through the pipeline
// (anomaly/eval/pipeline), prints the counts, the report and the
// comparison, and returns the pipeline's report. It fails when a published
// reading is neither stored nor rejected. Logs go to stderr at
// SUNPROOF_LOG_LEVEL (default warn).
func runEvalPipeline(ctx context.Context, cfg eval.Config, w io.Writer, o *evalPipelineOptions) (*eval.Report, error) {
	pc := o.cfg
	pc.Brokers = splitList(o.brokers)
	pc.Reasons = nil
	if o.reasons != "none" {
		for _, r := range splitList(o.reasons) {
			pc.Reasons = append(pc.Reasons, reading.Reason(r))
		}
	}
	if err := pc.Validate(); err != nil {
		return nil, err
	}
	lvl := slog.LevelWarn
	if v := os.Getenv("SUNPROOF_LOG_LEVEL"); v != "" {
		if err := lvl.UnmarshalText([]byte(v)); err != nil {
			return nil, fmt.Errorf("SUNPROOF_LOG_LEVEL: %w", err)
		}
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	f, err := eval.Generate(cfg)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "seed %d, %d areas × %d + %d isolated devices, %d days from %s, %.0f %% faulty\n",
		cfg.Seed, cfg.Areas, cfg.DevicesPerArea, cfg.Isolated, cfg.Days, cfg.Start.Format(evalDateLayout), 100*cfg.FaultyFraction)
	start := time.Now()
	res, err := pipeline.Run(ctx, pc, f, log)
	if res != nil {
		res.WriteText(w)
	}
	if err != nil {
		return nil, fmt.Errorf("pipeline evaluation after %s: %w", time.Since(start).Round(time.Millisecond), err)
	}
	return res.Pipeline, nil
}
