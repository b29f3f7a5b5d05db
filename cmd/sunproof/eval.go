package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/sunproof/sunproof/anomaly/eval"
)

// evalTargets are issue 4's targets: F1 ≥ 0.9 per fault type and ≤ 1 false
// alarm per 1,000 healthy device-days.
const (
	evalMinF1          = 0.9
	evalMaxFalsePer1k  = 1.0
	evalDateLayout     = "2006-01-02"
	evalDefaultLocName = "CST"
)

func runEval(args []string) error {
	fs := flag.NewFlagSet("eval", flag.ExitOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: sunproof eval [flags]\n\nSimulates a fleet with labelled faults (anomaly/eval), scans it day by day through the\ndetectors and the alert tracker, and prints precision, recall and F1 per fault type and\nfalse alarms per 1,000 healthy device-days. With -pipeline the readings are signed and go\nthrough the real stack (MQTT → collector → Kafka → tsdb writer → InfluxDB) first.\n\nflags:")
		fs.PrintDefaults()
	}
	cfg := eval.DefaultConfig()
	fs.Int64Var(&cfg.Seed, "seed", cfg.Seed, "random seed: everything follows from it")
	fs.IntVar(&cfg.Areas, "areas", cfg.Areas, "areas of neighbouring devices sharing the weather")
	fs.IntVar(&cfg.DevicesPerArea, "per-area", cfg.DevicesPerArea, "devices per area")
	fs.IntVar(&cfg.Isolated, "isolated", cfg.Isolated, "devices without peers")
	fs.IntVar(&cfg.Days, "days", cfg.Days, "days, one scan each")
	fs.DurationVar(&cfg.Step, "step", cfg.Step, "reporting interval")
	fs.Float64Var(&cfg.FaultyFraction, "faulty", cfg.FaultyFraction, "share of devices with one injected fault")
	start := fs.String("start", cfg.Start.Format(evalDateLayout), "first day (YYYY-MM-DD, China Standard Time)")
	po := registerEvalPipeline(fs)
	check := fs.Bool("check", false, fmt.Sprintf("exit 1 unless every fault type reaches F1 ≥ %.1f and false alarms ≤ %.0f per 1,000 healthy device-days", evalMinF1, evalMaxFalsePer1k))
	_ = fs.Parse(args)
	if fs.NArg() > 0 {
		fs.Usage()
		os.Exit(2)
	}
	d, err := time.ParseInLocation(evalDateLayout, *start, time.FixedZone(evalDefaultLocName, 8*3600))
	if err != nil {
		return fmt.Errorf("-start: %w", err)
	}
	cfg.Start = d
	run := evaluate
	if po.enabled {
		run = po.evaluate
	}
	rep, err := run(context.Background(), cfg, os.Stdout)
	if err != nil {
		return err
	}
	if *check {
		return checkEval(rep)
	}
	return nil
}

// evaluate generates, simulates and scores the fleet, printing the report.
func evaluate(ctx context.Context, cfg eval.Config, w io.Writer) (*eval.Report, error) {
	f, err := eval.Generate(cfg)
	if err != nil {
		return nil, err
	}
	series, err := f.Series()
	if err != nil {
		return nil, err
	}
	rep, err := eval.Evaluate(ctx, f, eval.MemoryLoader(series, time.Hour))
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "seed %d, %d areas × %d + %d isolated devices, %d days from %s, %.0f %% faulty\n",
		cfg.Seed, cfg.Areas, cfg.DevicesPerArea, cfg.Isolated, cfg.Days, cfg.Start.Format(evalDateLayout), 100*cfg.FaultyFraction)
	rep.WriteText(w)
	return rep, nil
}

// checkEval returns an error listing the targets a report misses.
func checkEval(rep *eval.Report) error {
	var errs []error
	for _, t := range eval.FaultTypes {
		if m := rep.PerType[t]; m.Faults > 0 && m.F1 < evalMinF1 {
			errs = append(errs, fmt.Errorf("%s: F1 %.3f < %.1f", t, m.F1, evalMinF1))
		}
	}
	if rep.FalseAlarmsPer1k > evalMaxFalsePer1k {
		errs = append(errs, fmt.Errorf("false alarms %.2f per 1,000 healthy device-days > %.0f", rep.FalseAlarmsPer1k, evalMaxFalsePer1k))
	}
	return errors.Join(errs...)
}
