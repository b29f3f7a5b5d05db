package eval_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sunproof/sunproof/anomaly"
	"github.com/sunproof/sunproof/anomaly/eval"
)

// TestEvaluate runs the detectors over a simulated fleet with labelled
// faults (in memory, no servers) and prints precision, recall and F1 per
// fault type and false alarms per 1,000 healthy device-days. Under -short
// the fleet is small; the full run is
//
//	go test ./anomaly/eval -run TestEvaluate -v
func TestEvaluate(t *testing.T) {
	cfg := eval.DefaultConfig()
	if testing.Short() {
		cfg = eval.ShortConfig()
	}
	// Larger runs: SUNPROOF_EVAL_SEED, SUNPROOF_EVAL_AREAS, SUNPROOF_EVAL_ISOLATED,
	// SUNPROOF_EVAL_DAYS, SUNPROOF_EVAL_START (YYYY-MM-DD) override the fleet.
	envInt := func(name string, dst *int) {
		if v := os.Getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("%s=%q: %v", name, v, err)
			}
			*dst = n
		}
	}
	seed := int(cfg.Seed)
	envInt("SUNPROOF_EVAL_SEED", &seed)
	cfg.Seed = int64(seed)
	envInt("SUNPROOF_EVAL_AREAS", &cfg.Areas)
	envInt("SUNPROOF_EVAL_ISOLATED", &cfg.Isolated)
	envInt("SUNPROOF_EVAL_DAYS", &cfg.Days)
	if v := os.Getenv("SUNPROOF_EVAL_START"); v != "" {
		d, err := time.ParseInLocation("2006-01-02", v, cfg.Start.Location())
		if err != nil {
			t.Fatal(err)
		}
		cfg.Start = d
	}
	f, err := eval.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	series, err := f.Series()
	if err != nil {
		t.Fatal(err)
	}
	rep, err := eval.Evaluate(context.Background(), f, eval.MemoryLoader(series, anomaly.DefaultInfluxConfig().Lookback))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	rep.WriteText(&b)
	t.Log("\n" + b.String())
	if os.Getenv("SUNPROOF_EVAL_STRICT") != "" {
		for typ, m := range rep.PerType {
			if m.F1 < 0.9 {
				t.Errorf("%s: F1 %.3f below 0.9", typ, m.F1)
			}
		}
		if rep.FalseAlarmsPer1k > 1 {
			t.Errorf("%.2f false alarms per 1,000 healthy device-days, target ≤ 1", rep.FalseAlarmsPer1k)
		}
	}
	// Floors that must hold in any run: the evaluation is meaningful.
	if rep.HealthyDeviceDays == 0 || rep.Points == 0 {
		t.Fatalf("empty evaluation: %+v", rep)
	}
}

func TestGenerateDeterministic(t *testing.T) {
	cfg := eval.ShortConfig()
	a, _ := eval.Generate(cfg)
	b, _ := eval.Generate(cfg)
	if len(a.Labels) != len(b.Labels) || len(a.Devices) != len(b.Devices) {
		t.Fatal("different fleets from one seed")
	}
	for i := range a.Labels {
		if a.Labels[i] != b.Labels[i] {
			t.Fatalf("label %d differs: %+v vs %+v", i, a.Labels[i], b.Labels[i])
		}
	}
	seen := map[eval.FaultType]int{}
	for _, l := range a.Labels {
		seen[l.Type]++
	}
	for _, typ := range eval.FaultTypes {
		if seen[typ] == 0 {
			t.Errorf("no %s fault in the short fleet", typ)
		}
	}
}
