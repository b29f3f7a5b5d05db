package main

// Carbon reports and loans for the seeded fleet. Package carbon (issue 4)
// is not written yet; until it is, the test server builds its own reports
// and loans so the pages and the API have something real to show: each
// report holds the real proof bundles of its boundary readings (from the
// proof store, anchored on the local chain), and its figures are computed
// from those readings. The loans' past months are modelled, not measured.

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/sunproof/sunproof/anchor"
	"github.com/sunproof/sunproof/anomaly"
	"github.com/sunproof/sunproof/anomaly/pvmodel"
	"github.com/sunproof/sunproof/internal/httpapi"
)

// East China grid, 2023: a consumption-average factor (MEE + NBS), a proxy
// for the CDM combined margin (see shared REFERENCE.md).
const (
	factorEast  = 0.5500
	factorLabel = "MEE + NBS regional grid average 2023, East (consumption average, not a CDM combined margin)"
	tariff      = 0.3844 // CNY/kWh, Anhui coal benchmark
)

// reportDoc is the test server's carbon report document: the figures and
// the boundary readings' proof bundles.
type reportDoc struct {
	Format     string            `json:"format"`
	Version    int               `json:"version"`
	Note       string            `json:"note"`
	ID         string            `json:"id"`
	DeviceID   string            `json:"device_id"`
	SiteID     string            `json:"site_id"`
	From       time.Time         `json:"from"`
	To         time.Time         `json:"to"`
	Generation reportGeneration  `json:"generation"`
	Factor     reportFactor      `json:"factor"`
	TCO2e      float64           `json:"emissions_avoided_tco2e"`
	Exclusions []any             `json:"exclusions"`
	Boundaries map[string]bndDoc `json:"boundaries"`
	Method     string            `json:"method"`
}

type reportGeneration struct {
	StartEnergyWh uint64  `json:"start_energy_wh"`
	EndEnergyWh   uint64  `json:"end_energy_wh"`
	EnergyMWh     float64 `json:"energy_mwh"`
}

type reportFactor struct {
	Region     string  `json:"region"`
	Year       int     `json:"year"`
	TCO2PerMWh float64 `json:"tco2_per_mwh"`
	Source     string  `json:"source"`
}

type bndDoc struct {
	Seq   uint64         `json:"seq"`
	Proof *anchor.Bundle `json:"proof"`
}

// carbonFixture implements httpapi.CarbonSource.
type carbonFixture struct {
	reports []httpapi.CarbonReport
	docs    map[string][]byte
}

func (c *carbonFixture) CarbonReports(context.Context) ([]httpapi.CarbonReport, error) {
	return c.reports, nil
}

func (c *carbonFixture) CarbonReport(_ context.Context, id string) (httpapi.CarbonReport, json.RawMessage, error) {
	for _, r := range c.reports {
		if r.ID == id {
			return r, c.docs[id], nil
		}
	}
	return httpapi.CarbonReport{}, nil, httpapi.ErrNotFound
}

// buildReports makes one report per device over its anchored readings.
func buildReports(ctx context.Context, s *seed, store *anchor.Store) (*carbonFixture, error) {
	cf := &carbonFixture{docs: map[string][]byte{}}
	for _, d := range s.devs {
		rs := s.readings[d.ID]
		var first, last int = -1, -1
		for i := range rs {
			ok, err := store.Anchored(d.ID, rs[i].Seq)
			if err != nil {
				return nil, err
			}
			if ok {
				if first < 0 {
					first = i
				}
				last = i
			}
		}
		if first < 0 || first == last {
			continue
		}
		b0, err := store.ProofFor(ctx, d.ID, rs[first].Seq)
		if err != nil {
			return nil, err
		}
		b1, err := store.ProofFor(ctx, d.ID, rs[last].Seq)
		if err != nil {
			return nil, err
		}
		e0, e1 := rs[first].EnergyWh, rs[last].EnergyWh
		mwh := float64(e1-e0) / 1e6
		id := "CR-" + d.ID
		doc := reportDoc{
			Format: "sunproof.carbon-report", Version: 0,
			Note: "written by the UI test server (internal/webui/testserver) until package carbon defines the report",
			ID:   id, DeviceID: d.ID, SiteID: d.SiteID, From: rs[first].Time(), To: rs[last].Time(),
			Generation: reportGeneration{StartEnergyWh: e0, EndEnergyWh: e1, EnergyMWh: mwh},
			Factor:     reportFactor{Region: d.GridRegion, Year: 2023, TCO2PerMWh: factorEast, Source: factorLabel},
			TCO2e:      mwh * factorEast, Exclusions: []any{},
			Method:     "ACM0002 / AMS-I.D: ER = EG × EF, PE = LE = 0 for PV",
			Boundaries: map[string]bndDoc{"start": {Seq: rs[first].Seq, Proof: b0}, "end": {Seq: rs[last].Seq, Proof: b1}},
		}
		raw, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return nil, err
		}
		cf.docs[id] = raw
		cf.reports = append(cf.reports, httpapi.CarbonReport{
			ID: id, DeviceID: d.ID, SiteID: d.SiteID, From: doc.From, To: doc.To, EnergyMWh: mwh,
			FactorTCO2PerMWh: factorEast, EmissionsTCO2e: doc.TCO2e, GridRegion: d.GridRegion, FactorSource: factorLabel,
			CreatedAt: s.end, BoundaryProofCount: 2,
		})
	}
	return cf, nil
}

// loanFixture implements httpapi.LoanSource.
type loanFixture []httpapi.Loan

func (l loanFixture) Loans(context.Context) ([]httpapi.Loan, error) { return l, nil }

// buildLoans makes LOAN-A (well covered) and LOAN-B (a principal its
// plants can't service). Past months: modelled clear-sky energy × 0.78;
// the current month: projected the same way.
func buildLoans(s *seed) (loanFixture, error) {
	principal := map[string]float64{"LOAN-A": 18000, "LOAN-B": 120000}
	borrower := map[string]string{"LOAN-A": "Wang family farm", "LOAN-B": "Wuhu orchard cooperative"}
	var out loanFixture
	for _, ref := range []string{"LOAN-A", "LOAN-B"} {
		l := httpapi.Loan{Ref: ref, Borrower: borrower[ref], PrincipalCNY: principal[ref], TariffCNYPerKWh: tariff,
			CoverageThreshold: 1.2, SiteIDs: []string{}, DeviceIDs: []string{}}
		var plants []pvmodel.Plant
		for _, d := range s.devs {
			if d.LoanRef != ref {
				continue
			}
			l.DeviceIDs = append(l.DeviceIDs, d.ID)
			if !slices.Contains(l.SiteIDs, d.SiteID) {
				l.SiteIDs = append(l.SiteIDs, d.SiteID)
			}
			p, err := anomaly.PlantFor(d, pvmodel.DefaultPlant())
			if err != nil {
				return nil, err
			}
			plants = append(plants, p)
		}
		due := annuity(principal[ref], 0.045/12, 120)
		cur := time.Date(s.end.Year(), s.end.Month(), 1, 0, 0, 0, 0, time.UTC)
		for k := -5; k <= 0; k++ {
			from := cur.AddDate(0, k, 0)
			to := from.AddDate(0, 1, 0)
			var kwh float64
			for _, p := range plants {
				wh, err := pvmodel.ExpectedEnergy(p, from, to, time.Hour)
				if err != nil {
					return nil, err
				}
				kwh += wh / 1000 * 0.78
			}
			income := kwh * tariff
			l.Months = append(l.Months, httpapi.LoanMonth{Month: from.Format("2006-01"), CertifiedKWh: round(kwh, 1),
				IncomeCNY: round(income, 2), DueCNY: round(due, 2), Coverage: round(income/due, 3), Projected: k == 0})
		}
		out = append(out, l)
	}
	return out, nil
}

// annuity is the monthly repayment of principal at rate per month over n months.
func annuity(principal, rate float64, n int) float64 {
	return principal * rate / (1 - math.Pow(1+rate, -float64(n)))
}

func round(v float64, dec int) float64 {
	p := math.Pow(10, float64(dec))
	return math.Round(v*p) / p
}

// tamperedBundle returns a copy of b whose reading claims 4096 Wh more on
// its energy counter than the device signed (the views are dropped, as a
// forger would, so that the bundle still decodes).
func tamperedBundle(b *anchor.Bundle) (*anchor.Bundle, error) {
	raw, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	var t anchor.Bundle
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, err
	}
	t.Reading.View = nil
	w := t.Reading.Wire
	if len(w) < 8 {
		return nil, fmt.Errorf("wire of %d bytes", len(w))
	}
	// reading.md: magic 4, version 1, n, device id, m, site id, seq 8,
	// ts 8, then energy_wh (u64, big-endian).
	n := int(w[5])
	m := int(w[6+n])
	off := 7 + n + m + 16
	if off+8 > len(w)-64 {
		return nil, fmt.Errorf("wire of %d bytes is too short", len(w))
	}
	e := binary.BigEndian.Uint64(w[off:])
	binary.BigEndian.PutUint64(w[off:], e+4096)
	return &t, nil
}
