package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sunproof/sunproof/internal/httpapi"
)

func TestReportDir(t *testing.T) {
	golden, err := os.ReadFile("../../carbon/testdata/report-device.json")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, body := range map[string]string{"r1.json": string(golden), "notes.txt": "x", "broken.json": "{"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	d := reportDir{dir}
	ctx := context.Background()
	list, err := d.CarbonReports(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != "r1" || list[0].EnergyMWh <= 0 || list[0].FactorTCO2PerMWh <= 0 || list[0].BoundaryProofCount == 0 {
		t.Fatalf("listing = %+v, want the one valid report with its figures", list)
	}
	for _, id := range []string{"nosuch", "../r1", ".hidden", ""} {
		if _, _, err := d.CarbonReport(ctx, id); !errors.Is(err, httpapi.ErrNotFound) {
			t.Errorf("CarbonReport(%q) = %v, want ErrNotFound", id, err)
		}
	}
	if err := (reportChecker{}).CheckReport(ctx, golden); err != nil {
		t.Fatalf("golden report does not recompute: %v", err)
	}
	tampered := strings.Replace(string(golden), `"ef_tco2_per_mwh": `, `"ef_tco2_per_mwh": 1`, 1)
	if tampered == string(golden) {
		t.Fatal("fixture has no ef_tco2_per_mwh field to tamper with")
	}
	if err := (reportChecker{}).CheckReport(ctx, []byte(tampered)); err == nil {
		t.Fatal("a report with an altered factor recomputes cleanly")
	}
	if l, err := (reportDir{filepath.Join(dir, "missing")}).CarbonReports(ctx); err != nil || len(l) != 0 {
		t.Fatalf("missing directory: %v, %v; want an empty list", l, err)
	}
}
