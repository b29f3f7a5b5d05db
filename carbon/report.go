package carbon

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/sunproof/sunproof/anomaly"
	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/ingest/reading"
)

// ReportVersion is the version of the report format (docs/formats/carbon-report.md).
const ReportVersion = 1

// SmallScaleMW is the AMS-I.D ceiling: renewable units up to 15 MW of
// output capacity are small-scale; above it ACM0002 applies.
const SmallScaleMW = 15.0

// Report is a carbon report: certified generation of a device or a site
// over a period and the emission reductions it stands for. Every number
// can be recomputed from the report (Recompute); the boundary readings'
// proof bundles tie the counter values to anchored, signed readings.
type Report struct {
	Version     int         `json:"version"`
	GeneratedAt time.Time   `json:"generated_at"`
	Subject     Subject     `json:"subject"`
	Period      Period      `json:"period"`
	Methodology Methodology `json:"methodology"`
	Factor      Selection   `json:"factor"`
	Exclusion   Exclusion   `json:"exclusion_policy"`
	Devices     []DeviceGen `json:"devices"`
	Totals      Totals      `json:"totals"`
	Notes       []string    `json:"notes,omitempty"`
}

// Subject is what the report is about.
type Subject struct {
	Kind       string  `json:"kind"` // "device" or "site"
	ID         string  `json:"id"`
	GridRegion string  `json:"grid_region"`
	CapacityW  float64 `json:"capacity_w"` // Σ AC rating (kWp × 1000 where none): decides the methodology
}

// Period is the reporting period [From, To).
type Period struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Methodology names the CDM methodology and its formula.
type Methodology struct {
	Name    string `json:"name"`    // "AMS-I.D" or "ACM0002"
	Formula string `json:"formula"` // ER = BE − PE − LE; BE = EG × EF; PE = LE = 0
	Reason  string `json:"reason"`
}

// Exclusion is the exclusion policy as applied: which alerts' spans do not
// count as certified generation.
type Exclusion struct {
	Types       []anomaly.Type   `json:"types"`
	MinSeverity anomaly.Severity `json:"min_severity"`
	Description string           `json:"description"`
}

// DefaultExclusion excludes the spans of integrity alerts: fabricated or
// impossible output (over-performance, over-capacity) and counters that
// disagree with the power (energy mismatch), from warning severity up.
// Outages and gaps need no exclusion: the counter did not advance, or
// advanced with real production.
func DefaultExclusion() Exclusion {
	return Exclusion{
		Types:       []anomaly.Type{anomaly.TypeOverPerformance, anomaly.TypeOverCapacity, anomaly.TypeEnergyMismatch},
		MinSeverity: anomaly.SeverityWarning,
	}
}

func (e Exclusion) describe() string {
	ts := make([]string, len(e.Types))
	for i, t := range e.Types {
		ts[i] = string(t)
	}
	return fmt.Sprintf("Counter increments between the last reading at or before and the first reading at or after the span of every alert of type %s with severity ≥ %s are excluded; overlapping spans are merged and counted once.",
		strings.Join(ts, ", "), e.MinSeverity)
}

func (e Exclusion) applies(a *anomaly.Alert) bool {
	return a.Severity >= e.MinSeverity && slices.Contains(e.Types, a.Type)
}

// Boundary is one boundary reading: the counter value the period's
// generation is measured from (start) or to (end), and the proof bundle
// that shows the reading is signed by the device and anchored on chain
// (package anchor's bundle JSON, docs/formats/proof.md).
type Boundary struct {
	Seq      uint64          `json:"seq"`
	TimeMS   int64           `json:"ts_ms"`
	EnergyWh uint64          `json:"energy_wh"`
	Bundle   json.RawMessage `json:"bundle"`
}

// Excluded is one excluded span of one device.
type Excluded struct {
	AlertIDs     []string       `json:"alert_ids"`
	Types        []anomaly.Type `json:"types"`
	From         time.Time      `json:"from"` // union of the alerts' spans
	To           time.Time      `json:"to"`
	FromSeq      uint64         `json:"from_seq"` // last reading at or before From
	ToSeq        uint64         `json:"to_seq"`   // first reading at or after To
	FromEnergyWh uint64         `json:"from_energy_wh"`
	ToEnergyWh   uint64         `json:"to_energy_wh"`
	ExcludedWh   uint64         `json:"excluded_wh"` // ToEnergyWh − FromEnergyWh
}

// DeviceGen is one device's certified generation.
type DeviceGen struct {
	DeviceID   string     `json:"device_id"`
	SiteID     string     `json:"site_id"`
	Start      Boundary   `json:"start"`
	End        Boundary   `json:"end"`
	GrossWh    uint64     `json:"gross_wh"` // End.EnergyWh − Start.EnergyWh
	Excluded   []Excluded `json:"excluded"`
	ExcludedWh uint64     `json:"excluded_wh"`
	NetWh      uint64     `json:"net_wh"` // GrossWh − ExcludedWh: certified generation
}

// Totals are the report's results. MWh values are Wh / 10⁶; tCO2 values
// are rounded to 6 decimals (grams).
type Totals struct {
	GrossWh      uint64  `json:"gross_wh"`
	ExcludedWh   uint64  `json:"excluded_wh"`
	NetWh        uint64  `json:"net_wh"`
	EGMWh        float64 `json:"eg_mwh"`          // certified generation EG
	EFTCO2PerMWh float64 `json:"ef_tco2_per_mwh"` // the selected factor
	BETCO2       float64 `json:"be_tco2"`         // baseline emissions EG × EF
	PETCO2       float64 `json:"pe_tco2"`         // project emissions: 0 for PV
	LETCO2       float64 `json:"le_tco2"`         // leakage: 0 for PV
	ERTCO2       float64 `json:"er_tco2"`         // emission reductions BE − PE − LE
}

// round6 rounds half away from zero to 6 decimals.
func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

// whToMWh converts exactly representable Wh counts to MWh.
func whToMWh(wh uint64) float64 { return float64(wh) / 1e6 }

// DeviceInput is what Build needs for one device.
type DeviceInput struct {
	Device devices.Device
	// Start and End are the boundary readings: the first anchored reading
	// at or after the period start and the last at or before its end,
	// with their proof bundles (chosen by the caller from package anchor).
	Start, End Boundary
	// Readings are the device's readings from Start to End inclusive, in
	// seq order (anomaly.Source loads them); they locate exclusions and
	// prove the counter did not regress.
	Readings []anomaly.Sample
	// Alerts of the device; those matching the exclusion policy and
	// overlapping [Start, End] are excluded.
	Alerts []anomaly.Alert
}

// Options configure Build.
type Options struct {
	Table     *Table
	Policy    Policy
	Exclusion Exclusion
	// Verifier, if set, verifies each boundary bundle and that it proves
	// the boundary's seq, time and counter value.
	Verifier BundleVerifier
	Now      time.Time
}

// BundleVerifier verifies a proof bundle (signature, inclusion in its
// window, window in its batch, batch anchored) and returns the reading it
// proves. Package anchor implements it; wiring happens where both are
// available.
type BundleVerifier interface {
	Verify(ctx context.Context, bundle json.RawMessage) (reading.Reading, error)
}

// Errors of Build, DeviceGeneration and Recompute.
var (
	ErrCounterRegression = errors.New("lifetime counter went down inside the period: split the period at the reset")
	ErrBoundary          = errors.New("invalid boundary reading")
	ErrMismatch          = errors.New("report does not recompute")
	// ErrProof wraps a boundary bundle the verifier rejected (with the
	// verifier's error: anchor.StepOf still names the failing step). A
	// verifier that could not reach the chain (ErrChainUnavailable) did not
	// reject anything: that error is returned without ErrProof.
	ErrProof = errors.New("boundary proof does not verify")
)

// Build computes a report for one device (kind "device") or for the
// devices of one site (kind "site"). All devices must share one grid
// region.
func Build(ctx context.Context, kind, id string, period Period, in []DeviceInput, opt Options) (*Report, error) {
	if kind != "device" && kind != "site" {
		return nil, fmt.Errorf("subject kind %q is neither device nor site", kind)
	}
	if len(in) == 0 {
		return nil, errors.New("no device")
	}
	if !period.To.After(period.From) {
		return nil, fmt.Errorf("period %s..%s is empty", period.From, period.To)
	}
	opt = opt.withDefaults()
	region := in[0].Device.GridRegion
	var capW float64
	for _, d := range in {
		if d.Device.GridRegion != region {
			return nil, fmt.Errorf("devices %s and %s are on different grids (%q, %q): one report per grid region",
				in[0].Device.ID, d.Device.ID, region, d.Device.GridRegion)
		}
		if d.Device.ACRatingW > 0 {
			capW += d.Device.ACRatingW
		} else {
			capW += d.Device.KWp * 1000
		}
	}
	// The reporting year is the period start's year in the caller's zone
	// (January in China starts on 31 December UTC).
	sel, err := opt.Table.Select(region, period.From.Year(), opt.Policy)
	if err != nil {
		return nil, err
	}
	r := &Report{
		Version: ReportVersion, GeneratedAt: opt.Now.UTC(),
		Subject:     Subject{Kind: kind, ID: id, GridRegion: region, CapacityW: capW},
		Period:      Period{From: period.From.UTC(), To: period.To.UTC()},
		Methodology: methodology(capW),
		Factor:      sel,
		Exclusion:   opt.Exclusion,
	}
	if period.From.Year() != period.To.Add(-time.Nanosecond).Year() {
		r.Notes = append(r.Notes, "the period spans more than one calendar year; the factor of its first year is used")
	}
	for _, d := range in {
		g, err := deviceGen(ctx, d, period, opt)
		if err != nil {
			return nil, fmt.Errorf("device %s: %w", d.Device.ID, err)
		}
		r.Devices = append(r.Devices, g)
	}
	r.Totals = totals(r.Devices, sel.Factor.TCO2PerMWh)
	return r, nil
}

// withDefaults fills in the default table, policy, exclusion policy (with
// its description) and clock.
func (opt Options) withDefaults() Options {
	if opt.Table == nil {
		opt.Table = DefaultTable()
	}
	if len(opt.Policy.Kinds) == 0 {
		opt.Policy = DefaultPolicy()
	}
	if len(opt.Exclusion.Types) == 0 && opt.Exclusion.MinSeverity == 0 {
		opt.Exclusion = DefaultExclusion()
	}
	opt.Exclusion.Description = opt.Exclusion.describe()
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	return opt
}

// DeviceGeneration computes one device's certified generation over period
// exactly as Build does for each device of a report: the boundaries are
// checked (inside the period, in order, with bundles), verified with
// opt.Verifier when it is set, the readings between them must not regress,
// and the spans of in.Alerts that opt.Exclusion (DefaultExclusion if zero)
// selects are excluded. Other users of certified generation (loan
// monitoring) call it so that their figures are the reports' figures.
//
// Errors wrap ErrBoundary (boundaries invalid, or a bundle proving another
// reading), ErrProof (a bundle the verifier rejected),
// ErrChainUnavailable (the verifier could not read the chain: nothing was
// decided) or ErrCounterRegression.
func DeviceGeneration(ctx context.Context, in DeviceInput, period Period, opt Options) (DeviceGen, error) {
	if !period.To.After(period.From) {
		return DeviceGen{}, fmt.Errorf("period %s..%s is empty", period.From, period.To)
	}
	return deviceGen(ctx, in, period, opt.withDefaults())
}

func methodology(capW float64) Methodology {
	m := Methodology{Formula: "ER = BE − PE − LE; BE = EG × EF_grid; PE = 0 and LE = 0 for grid-connected PV"}
	mw := capW / 1e6
	if mw <= SmallScaleMW {
		m.Name = "AMS-I.D"
		m.Reason = fmt.Sprintf("output capacity %.3f MW ≤ 15 MW: small-scale grid-connected renewable electricity generation", mw)
	} else {
		m.Name = "ACM0002"
		m.Reason = fmt.Sprintf("output capacity %.3f MW > 15 MW: large-scale grid-connected renewable electricity generation", mw)
	}
	return m
}

func totals(ds []DeviceGen, ef float64) Totals {
	var t Totals
	for _, d := range ds {
		t.GrossWh += d.GrossWh
		t.ExcludedWh += d.ExcludedWh
		t.NetWh += d.NetWh
	}
	t.EGMWh = whToMWh(t.NetWh)
	t.EFTCO2PerMWh = ef
	t.BETCO2 = round6(t.EGMWh * ef)
	t.ERTCO2 = round6(t.BETCO2 - t.PETCO2 - t.LETCO2)
	return t
}

func deviceGen(ctx context.Context, in DeviceInput, period Period, opt Options) (DeviceGen, error) {
	g := DeviceGen{DeviceID: in.Device.ID, SiteID: in.Device.SiteID, Start: in.Start, End: in.End, Excluded: []Excluded{}}
	if err := checkBoundaries(g.DeviceID, in.Start, in.End, period); err != nil {
		return g, err
	}
	if opt.Verifier != nil {
		for _, b := range []Boundary{in.Start, in.End} {
			if err := verifyBoundary(ctx, opt.Verifier, g.DeviceID, b); err != nil {
				return g, err
			}
		}
	}
	// The readings between the boundaries, in seq order, must hold both
	// boundaries and a counter that never goes down.
	rs := slices.Clone(in.Readings)
	slices.SortStableFunc(rs, func(a, b anomaly.Sample) int { return cmp.Compare(a.Seq, b.Seq) })
	rs = slices.DeleteFunc(rs, func(s anomaly.Sample) bool { return s.Seq < in.Start.Seq || s.Seq > in.End.Seq })
	if len(rs) == 0 || rs[0].Seq != in.Start.Seq || rs[len(rs)-1].Seq != in.End.Seq ||
		rs[0].EnergyWh != in.Start.EnergyWh || rs[len(rs)-1].EnergyWh != in.End.EnergyWh {
		return g, fmt.Errorf("readings do not run from the start boundary (seq %d) to the end boundary (seq %d) with their counter values: %w",
			in.Start.Seq, in.End.Seq, ErrBoundary)
	}
	for i := 1; i < len(rs); i++ {
		if rs[i].EnergyWh < rs[i-1].EnergyWh {
			return g, fmt.Errorf("seq %d → %d: %d Wh → %d Wh: %w", rs[i-1].Seq, rs[i].Seq, rs[i-1].EnergyWh, rs[i].EnergyWh, ErrCounterRegression)
		}
	}
	g.GrossWh = in.End.EnergyWh - in.Start.EnergyWh

	// Exclusions: for each applicable alert, the reading range that covers
	// its span; overlapping ranges merged.
	type rng struct {
		i, j  int
		span  anomaly.Span
		ids   []string
		types []anomaly.Type
	}
	var rgs []rng
	for k := range in.Alerts {
		a := &in.Alerts[k]
		if a.DeviceID != in.Device.ID || !opt.Exclusion.applies(a) {
			continue
		}
		i := -1 // last reading at or before the span start
		j := -1 // first reading at or after the span end
		for x := range rs {
			if !rs[x].T.After(a.Span.From) {
				i = x
			}
			if j < 0 && !rs[x].T.Before(a.Span.To) {
				j = x
			}
		}
		if i < 0 {
			i = 0
		}
		if j < 0 {
			j = len(rs) - 1
		}
		if a.Span.To.Before(rs[0].T) || a.Span.From.After(rs[len(rs)-1].T) || j <= i {
			continue // outside the boundaries
		}
		rgs = append(rgs, rng{i: i, j: j, span: a.Span, ids: []string{a.ID}, types: []anomaly.Type{a.Type}})
	}
	slices.SortFunc(rgs, func(a, b rng) int { return cmp.Or(cmp.Compare(a.i, b.i), cmp.Compare(a.j, b.j)) })
	var merged []rng
	for _, r := range rgs {
		if n := len(merged); n > 0 && r.i < merged[n-1].j {
			m := &merged[n-1]
			m.j = max(m.j, r.j)
			m.span = m.span.Union(r.span)
			m.ids = append(m.ids, r.ids...)
			if !slices.Contains(m.types, r.types[0]) {
				m.types = append(m.types, r.types[0])
			}
			continue
		}
		merged = append(merged, r)
	}
	for _, m := range merged {
		e := Excluded{
			AlertIDs: m.ids, Types: m.types, From: m.span.From.UTC(), To: m.span.To.UTC(),
			FromSeq: rs[m.i].Seq, ToSeq: rs[m.j].Seq, FromEnergyWh: rs[m.i].EnergyWh, ToEnergyWh: rs[m.j].EnergyWh,
		}
		e.ExcludedWh = e.ToEnergyWh - e.FromEnergyWh
		g.ExcludedWh += e.ExcludedWh
		g.Excluded = append(g.Excluded, e)
	}
	g.NetWh = g.GrossWh - g.ExcludedWh
	return g, nil
}

func checkBoundaries(id string, s, e Boundary, p Period) error {
	var errs []error
	if len(bytes.TrimSpace(s.Bundle)) == 0 || len(bytes.TrimSpace(e.Bundle)) == 0 {
		errs = append(errs, errors.New("a boundary has no proof bundle: certified generation needs anchored, signed boundary readings"))
	}
	if e.Seq <= s.Seq || e.TimeMS < s.TimeMS {
		errs = append(errs, fmt.Errorf("end (seq %d, %d ms) is not after start (seq %d, %d ms)", e.Seq, e.TimeMS, s.Seq, s.TimeMS))
	}
	if e.EnergyWh < s.EnergyWh {
		errs = append(errs, fmt.Errorf("end counter %d Wh below start counter %d Wh: %w", e.EnergyWh, s.EnergyWh, ErrCounterRegression))
	}
	if s.TimeMS < p.From.UnixMilli() || e.TimeMS >= p.To.UnixMilli() {
		errs = append(errs, fmt.Errorf("boundaries %d..%d ms are not inside the period [%d, %d) ms", s.TimeMS, e.TimeMS, p.From.UnixMilli(), p.To.UnixMilli()))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%s: %w: %w", id, ErrBoundary, err)
	}
	return nil
}

func verifyBoundary(ctx context.Context, v BundleVerifier, id string, b Boundary) error {
	r, err := v.Verify(ctx, b.Bundle)
	if errors.Is(err, ErrChainUnavailable) {
		return fmt.Errorf("boundary seq %d: proof not checked: %w", b.Seq, err)
	}
	if err != nil {
		return fmt.Errorf("boundary seq %d: %w: %w", b.Seq, ErrProof, err)
	}
	if r.DeviceID != id || r.Seq != b.Seq || r.TimeMS != b.TimeMS || r.EnergyWh != b.EnergyWh {
		return fmt.Errorf("boundary says %s seq %d at %d ms with %d Wh, its proof is of %s seq %d at %d ms with %d Wh: %w",
			id, b.Seq, b.TimeMS, b.EnergyWh, r.DeviceID, r.Seq, r.TimeMS, r.EnergyWh, ErrBoundary)
	}
	return nil
}

// RecomputeOptions configure Recompute.
type RecomputeOptions struct {
	// Table, if set, must hold the report's factor row unchanged.
	Table *Table
	// Verifier, if set, verifies every boundary bundle and that it proves
	// the boundary's values. Without it proofs are not checked (the result
	// says so).
	Verifier BundleVerifier
}

// Verification is what Recompute checked.
type Verification struct {
	Devices       int
	ProofsChecked int
	FactorChecked bool
}

// Recompute checks every number of a report: boundaries, gross, excluded
// and net generation per device, totals, MWh conversion, factor, baseline
// emissions and emission reductions, the methodology for the capacity,
// and, with options, the factor row against a table and every proof bundle.
// It returns all discrepancies joined, each wrapping ErrMismatch; a
// rejected proof also wraps ErrProof and the verifier's error (for
// anchor.StepOf). A proof the verifier could not check because the chain
// was unreachable is not a discrepancy: that error wraps
// ErrChainUnavailable and not ErrMismatch (the report may be fine; try
// again).
func Recompute(ctx context.Context, r *Report, opt RecomputeOptions) (Verification, error) {
	var v Verification
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrMismatch))
	}
	if r.Version != ReportVersion {
		bad("version %d, want %d", r.Version, ReportVersion)
	}
	if r.Subject.Kind != "device" && r.Subject.Kind != "site" {
		bad("subject kind %q", r.Subject.Kind)
	}
	if !r.Period.To.After(r.Period.From) {
		bad("period %s..%s is empty", r.Period.From, r.Period.To)
	}
	if r.Subject.Kind == "device" && (len(r.Devices) != 1 || r.Devices[0].DeviceID != r.Subject.ID) {
		bad("a device report must hold exactly its device")
	}
	if want := methodology(r.Subject.CapacityW); r.Methodology.Name != want.Name {
		bad("methodology %q for %.0f W, want %q", r.Methodology.Name, r.Subject.CapacityW, want.Name)
	}
	f := r.Factor.Factor
	if err := f.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("factor: %w: %w", ErrMismatch, err))
	}
	if r.Factor.FactorID != f.ID() {
		bad("factor id %q does not name the factor row %q", r.Factor.FactorID, f.ID())
	}
	if r.Factor.Region != r.Subject.GridRegion {
		bad("factor selected for region %q, the subject is on %q", r.Factor.Region, r.Subject.GridRegion)
	}
	if opt.Table != nil {
		v.FactorChecked = true
		if row, ok := opt.Table.Lookup(f.ID()); !ok || row != f {
			bad("factor row %s is not the table's (%+v)", f.ID(), row)
		}
		// The stated policy, region and year select this very row.
		if again, err := opt.Table.Select(r.Factor.Region, r.Factor.Year, r.Factor.Policy); err != nil || again.FactorID != f.ID() {
			bad("policy %+v for %s %d selects %q (%v), the report uses %q", r.Factor.Policy, r.Factor.Region, r.Factor.Year, again.FactorID, err, f.ID())
		}
	}
	if r.Totals.EFTCO2PerMWh != f.TCO2PerMWh {
		bad("totals use %g tCO2/MWh, the factor row says %g", r.Totals.EFTCO2PerMWh, f.TCO2PerMWh)
	}
	if len(r.Exclusion.Types) > 0 || r.Exclusion.MinSeverity != 0 {
		if r.Exclusion.Description != r.Exclusion.describe() {
			bad("exclusion description does not match the policy")
		}
	}
	seen := map[string]bool{}
	for i := range r.Devices {
		d := &r.Devices[i]
		v.Devices++
		if seen[d.DeviceID] {
			bad("device %s listed twice", d.DeviceID)
		}
		seen[d.DeviceID] = true
		if err := checkBoundaries(d.DeviceID, d.Start, d.End, r.Period); err != nil {
			errs = append(errs, fmt.Errorf("%w: %w", ErrMismatch, err))
			continue
		}
		if d.GrossWh != d.End.EnergyWh-d.Start.EnergyWh {
			bad("%s gross %d Wh, boundaries give %d", d.DeviceID, d.GrossWh, d.End.EnergyWh-d.Start.EnergyWh)
		}
		var excl uint64
		prevSeq, prevWh := d.Start.Seq, d.Start.EnergyWh
		for k, e := range d.Excluded {
			if e.ToEnergyWh < e.FromEnergyWh || e.ExcludedWh != e.ToEnergyWh-e.FromEnergyWh {
				bad("%s exclusion %d: %d Wh from %d to %d", d.DeviceID, k, e.ExcludedWh, e.FromEnergyWh, e.ToEnergyWh)
			}
			if e.FromSeq < prevSeq || e.ToSeq <= e.FromSeq || e.ToSeq > d.End.Seq || e.FromEnergyWh < prevWh || e.ToEnergyWh > d.End.EnergyWh {
				bad("%s exclusion %d (seq %d..%d, %d..%d Wh) is not inside the boundaries after the previous one", d.DeviceID, k,
					e.FromSeq, e.ToSeq, e.FromEnergyWh, e.ToEnergyWh)
			}
			if len(e.AlertIDs) == 0 || e.To.Before(e.From) {
				bad("%s exclusion %d has no alert or an inverted span", d.DeviceID, k)
			}
			prevSeq, prevWh = e.ToSeq, e.ToEnergyWh
			excl += e.ExcludedWh
		}
		if d.ExcludedWh != excl {
			bad("%s excluded %d Wh, its exclusions add up to %d", d.DeviceID, d.ExcludedWh, excl)
		}
		if d.ExcludedWh > d.GrossWh || d.NetWh != d.GrossWh-d.ExcludedWh {
			bad("%s net %d Wh, gross − excluded = %d − %d", d.DeviceID, d.NetWh, d.GrossWh, d.ExcludedWh)
		}
		if opt.Verifier != nil {
			for _, b := range []Boundary{d.Start, d.End} {
				err := verifyBoundary(ctx, opt.Verifier, d.DeviceID, b)
				switch {
				case errors.Is(err, ErrChainUnavailable):
					errs = append(errs, fmt.Errorf("%s: %w", d.DeviceID, err))
				case err != nil:
					errs = append(errs, fmt.Errorf("%s: %w: %w", d.DeviceID, ErrMismatch, err))
				default:
					v.ProofsChecked++
				}
			}
		}
	}
	if len(r.Devices) == 0 {
		bad("no device")
	}
	want := totals(r.Devices, f.TCO2PerMWh)
	got := r.Totals
	if got.GrossWh != want.GrossWh || got.ExcludedWh != want.ExcludedWh || got.NetWh != want.NetWh {
		bad("totals %d/%d/%d Wh (gross/excluded/net), devices add up to %d/%d/%d", got.GrossWh, got.ExcludedWh, got.NetWh,
			want.GrossWh, want.ExcludedWh, want.NetWh)
	}
	if got.EGMWh != want.EGMWh {
		bad("EG %v MWh, net %d Wh gives %v", got.EGMWh, want.NetWh, want.EGMWh)
	}
	const tol = 5e-7 // half a gram: other implementations may round differently at a tie
	if math.Abs(got.BETCO2-want.BETCO2) > tol || !(got.PETCO2 == 0 && got.LETCO2 == 0) || math.Abs(got.ERTCO2-want.ERTCO2) > tol {
		bad("BE/PE/LE/ER %v/%v/%v/%v tCO2, recomputed %v/0/0/%v", got.BETCO2, got.PETCO2, got.LETCO2, got.ERTCO2, want.BETCO2, want.ERTCO2)
	}
	return v, errors.Join(errs...)
}

// MaxReportSize bounds DecodeReport's input.
const MaxReportSize = 64 << 20

// DecodeReport parses a report strictly: unknown fields, trailing data,
// another version or more than MaxReportSize bytes are errors. It checks
// the structure, not the numbers (Recompute does).
func DecodeReport(rd io.Reader) (*Report, error) {
	b, err := io.ReadAll(io.LimitReader(rd, MaxReportSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxReportSize {
		return nil, fmt.Errorf("report larger than %d bytes", MaxReportSize)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var r Report
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("decode report: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("decode report: trailing data after the report")
	}
	if r.Version != ReportVersion {
		return nil, fmt.Errorf("report version %d, this decoder reads %d", r.Version, ReportVersion)
	}
	for i := range r.Devices {
		for _, b := range []json.RawMessage{r.Devices[i].Start.Bundle, r.Devices[i].End.Bundle} {
			if len(b) > 0 && !json.Valid(b) {
				return nil, fmt.Errorf("device %d: bundle is not JSON", i)
			}
		}
	}
	return &r, nil
}

// Encode writes the report as indented JSON.
func (r *Report) Encode(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
