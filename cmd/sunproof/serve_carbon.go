package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sunproof/sunproof/carbon"
	"github.com/sunproof/sunproof/internal/httpapi"
)

// reportDir is the API's CarbonSource: the JSON reports written by
// `sunproof carbon report -out DIR/NAME.json`, read from disk on each call
// (a report is immutable once written; its id is the file name).
type reportDir struct{ dir string }

func (d reportDir) CarbonReports(ctx context.Context) ([]httpapi.CarbonReport, error) {
	ents, err := os.ReadDir(d.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return []httpapi.CarbonReport{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := []httpapi.CarbonReport{}
	for _, e := range ents {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || e.IsDir() {
			continue
		}
		s, _, err := d.CarbonReport(ctx, id)
		if err != nil {
			continue // not a report: skip it rather than fail the listing
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b httpapi.CarbonReport) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out, nil
}

func (d reportDir) CarbonReport(_ context.Context, id string) (httpapi.CarbonReport, json.RawMessage, error) {
	if id == "" || strings.ContainsAny(id, `/\`) || strings.HasPrefix(id, ".") {
		return httpapi.CarbonReport{}, nil, httpapi.ErrNotFound
	}
	raw, err := os.ReadFile(filepath.Join(d.dir, id+".json"))
	if errors.Is(err, fs.ErrNotExist) {
		return httpapi.CarbonReport{}, nil, httpapi.ErrNotFound
	}
	if err != nil {
		return httpapi.CarbonReport{}, nil, err
	}
	r, err := carbon.DecodeReport(bytes.NewReader(raw))
	if err != nil {
		return httpapi.CarbonReport{}, nil, fmt.Errorf("report %s: %w", id, err)
	}
	s := httpapi.CarbonReport{ID: id, From: r.Period.From, To: r.Period.To, EnergyMWh: r.Totals.EGMWh,
		FactorTCO2PerMWh: r.Totals.EFTCO2PerMWh, EmissionsTCO2e: r.Totals.ERTCO2, GridRegion: r.Subject.GridRegion,
		FactorSource: r.Factor.Factor.Source, CreatedAt: r.GeneratedAt}
	switch r.Subject.Kind {
	case "device":
		s.DeviceID = r.Subject.ID
	default:
		s.SiteID = r.Subject.ID
	}
	for _, dg := range r.Devices {
		if s.SiteID == "" {
			s.SiteID = dg.SiteID
		}
		s.ExcludedSpans += len(dg.Excluded)
		s.BoundaryProofCount += 2
	}
	return s, raw, nil
}

// reportChecker recomputes a report's figures against the built-in factor
// table; the API verifies the proofs itself.
type reportChecker struct{}

func (reportChecker) CheckReport(ctx context.Context, report []byte) error {
	r, err := carbon.DecodeReport(bytes.NewReader(report))
	if err != nil {
		return err
	}
	_, err = carbon.Recompute(ctx, r, carbon.RecomputeOptions{Table: carbon.DefaultTable()})
	return err
}
