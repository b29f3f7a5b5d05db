package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/sunproof/sunproof/anomaly/eval"
)

func TestEvalSmallFleet(t *testing.T) {
	cfg := eval.ShortConfig()
	cfg.Areas, cfg.DevicesPerArea, cfg.Isolated, cfg.Days = 2, 6, 2, 2
	var out bytes.Buffer
	rep, err := evaluate(context.Background(), cfg, &out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"seed 1, 2 areas × 6 + 2 isolated", "precision", "false alarms:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if rep.Devices != 14 || rep.Days != 2 {
		t.Errorf("report of %d devices × %d days", rep.Devices, rep.Days)
	}
}

func TestCheckEval(t *testing.T) {
	rep := &eval.Report{PerType: map[eval.FaultType]*eval.Metrics{}}
	for _, ft := range eval.FaultTypes {
		rep.PerType[ft] = &eval.Metrics{Faults: 3, F1: 1}
	}
	if err := checkEval(rep); err != nil {
		t.Fatalf("all targets met: %v", err)
	}
	rep.PerType[eval.FaultTypes[0]].F1 = 0.5
	rep.FalseAlarmsPer1k = 2
	err := checkEval(rep)
	if err == nil || !strings.Contains(err.Error(), "F1 0.500") || !strings.Contains(err.Error(), "false alarms 2.00") {
		t.Fatalf("err = %v", err)
	}
}
