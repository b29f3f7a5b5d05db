package carbon

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Kind says what an emission factor measures.
type Kind string

// Factor kinds.
const (
	// KindCombinedMargin is the CDM combined margin EF_grid,CM,y (Tool 07:
	// w_OM·EF_OM + w_BM·EF_BM; for wind and solar w_OM = 0.75, w_BM =
	// 0.25): what ACM0002 and AMS-I.D call for.
	KindCombinedMargin Kind = "combined_margin"
	// KindGridAverage is a published average CO2 factor of electricity
	// (China: MEE + NBS), for accounting for electricity *consumption*.
	KindGridAverage Kind = "grid_average"
	// KindGridAverageExclMarket is the same excluding market-traded
	// non-fossil electricity.
	KindGridAverageExclMarket Kind = "grid_average_excl_market_nonfossil"
	// KindFossilOnly is the average over fossil generation only.
	KindFossilOnly Kind = "fossil_only"
	// KindEnterpriseReporting is the national grid average factor set for
	// enterprise GHG reporting (MEE).
	KindEnterpriseReporting Kind = "enterprise_reporting"
)

// Factor is one row of the emission-factor table.
type Factor struct {
	Region     string  `json:"region" yaml:"region"`             // "CN", "CN-East", … (a device's GridRegion)
	Year       int     `json:"year" yaml:"year"`                 // vintage; 0 = none stated
	Kind       Kind    `json:"kind" yaml:"kind"`                 //
	TCO2PerMWh float64 `json:"tco2_per_mwh" yaml:"tco2_per_mwh"` // tCO2/MWh
	Source     string  `json:"source" yaml:"source"`             // who published it, where, when
	Note       string  `json:"note,omitempty" yaml:"note"`       //
}

// ID names the row: region/year/kind.
func (f Factor) ID() string { return fmt.Sprintf("%s/%d/%s", f.Region, f.Year, f.Kind) }

// ErrInvalidFactor is wrapped by every error Factor.Validate returns.
var ErrInvalidFactor = errors.New("invalid emission factor")

// Validate checks one row.
func (f Factor) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("factor %s: %s: %w", f.ID(), fmt.Sprintf(format, args...), ErrInvalidFactor)
	}
	switch {
	case f.Region == "" || strings.ContainsAny(f.Region, "/ \t\n"):
		return bad("region %q must be non-empty without '/' or spaces", f.Region)
	case f.Year != 0 && (f.Year < 1990 || f.Year > 2100):
		return bad("year %d outside 1990..2100", f.Year)
	case f.Kind == "" || strings.ContainsAny(string(f.Kind), "/ \t\n"):
		return bad("kind %q must be non-empty without '/' or spaces", f.Kind)
	case math.IsNaN(f.TCO2PerMWh) || f.TCO2PerMWh <= 0 || f.TCO2PerMWh > 2:
		return bad("%g tCO2/MWh outside (0, 2]", f.TCO2PerMWh)
	case strings.TrimSpace(f.Source) == "":
		return bad("no source")
	}
	return nil
}

// Sources of the seeded rows (docs/REFERENCE.md).
const (
	srcMEE2023   = "Ministry of Ecology and Environment (MEE), notice of February 2023 on enterprise GHG reporting: national grid average emission factor 2022"
	srcMEENBS21  = "MEE and National Bureau of Statistics (NBS), announcement No. 12 of 2024-04-12: 2021 electricity CO2 emission factors"
	srcMEENBS22  = "MEE and NBS, announcement of 2024-12-20: 2022 electricity CO2 emission factors (national and regional grids)"
	srcMEENBS23  = "MEE and NBS, announcement of about January 2026: 2023 electricity CO2 emission factors (national and regional grids)"
	srcASB0038   = "CDM standardized baseline ASB0038 (UNFCCC): EF_OM 0.4620, EF_BM 0.3456; combined margin by Tool 07 with w_OM 0.75, w_BM 0.25 for wind and solar"
	noteConsumer = "average factor for accounting for electricity consumption: a proxy, not a CDM combined margin"
)

// DefaultFactors returns the rows seeded from docs/REFERENCE.md: China's
// published national and regional grid factors (consumption averages) for
// 2021–2023 and the CDM combined-margin example ASB0038.
func DefaultFactors() []Factor {
	var rows []Factor
	add := func(region string, year int, kind Kind, v float64, src, note string) {
		rows = append(rows, Factor{Region: region, Year: year, Kind: kind, TCO2PerMWh: v, Source: src, Note: note})
	}
	add("CN", 2022, KindEnterpriseReporting, 0.5703, srcMEE2023, "national grid average for enterprise GHG reporting; "+noteConsumer)
	add("CN", 2021, KindGridAverage, 0.5568, srcMEENBS21, noteConsumer)
	add("CN", 2021, KindFossilOnly, 0.8426, srcMEENBS21, "fossil generation only")
	add("CN", 2022, KindGridAverage, 0.5366, srcMEENBS22, noteConsumer)
	add("CN", 2022, KindGridAverageExclMarket, 0.5856, srcMEENBS22, "excluding market-traded non-fossil electricity; "+noteConsumer)
	add("CN", 2022, KindFossilOnly, 0.8325, srcMEENBS22, "fossil generation only")
	for _, r := range []struct {
		region string
		v      float64
	}{
		{"CN-North", 0.6776}, {"CN-Northwest", 0.5857}, {"CN-East", 0.5617}, {"CN-Northeast", 0.5564},
		{"CN-Central", 0.5395}, {"CN-South", 0.3869}, {"CN-Southwest", 0.2268},
	} {
		add(r.region, 2022, KindGridAverage, r.v, srcMEENBS22, "regional grid; "+noteConsumer)
	}
	add("CN", 2023, KindGridAverage, 0.5306, srcMEENBS23, noteConsumer)
	add("CN", 2023, KindGridAverageExclMarket, 0.6096, srcMEENBS23, "excluding market-traded non-fossil electricity; "+noteConsumer)
	add("CN", 2023, KindFossilOnly, 0.8273, srcMEENBS23, "fossil generation only")
	for _, r := range []struct {
		region string
		v      float64
	}{
		{"CN-North", 0.6361}, {"CN-Northeast", 0.5122}, {"CN-East", 0.5500}, {"CN-Central", 0.5271},
		{"CN-Northwest", 0.5543}, {"CN-South", 0.4042}, {"CN-Southwest", 0.2472},
	} {
		add(r.region, 2023, KindGridAverage, r.v, srcMEENBS23, "regional grid; "+noteConsumer)
	}
	add("CDM-ASB0038", 0, KindCombinedMargin, 0.4329, srcASB0038,
		"example of a CDM combined margin: 0.75 × 0.4620 + 0.25 × 0.3456 = 0.4329; use only for the grid ASB0038 covers")
	return rows
}

// Table is an emission-factor table: at most one row per (region, year,
// kind). It is read-only once built and safe for concurrent use.
type Table struct {
	rows []Factor // sorted by ID
}

// NewTable validates rows and returns a table; a later row with the same
// ID as an earlier one replaces it (so configuration overrides defaults).
func NewTable(rows ...Factor) (*Table, error) {
	byID := map[string]Factor{}
	var errs []error
	for _, r := range rows {
		if err := r.Validate(); err != nil {
			errs = append(errs, err)
			continue
		}
		byID[r.ID()] = r
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	t := &Table{}
	for _, r := range byID {
		t.rows = append(t.rows, r)
	}
	slices.SortFunc(t.rows, func(a, b Factor) int { return cmp.Compare(a.ID(), b.ID()) })
	return t, nil
}

// DefaultTable is NewTable(DefaultFactors()...).
func DefaultTable() *Table {
	t, err := NewTable(DefaultFactors()...)
	if err != nil {
		panic(err) // the seeded rows are constants
	}
	return t
}

// factorFile is the YAML form that extends a table.
type factorFile struct {
	Factors []Factor `yaml:"factors"`
}

// Extend returns a new table: t's rows plus those of a YAML document
//
//	factors:
//	  - {region: CN-East, year: 2024, kind: grid_average, tco2_per_mwh: 0.54, source: "…", note: "…"}
//
// where a row with an existing (region, year, kind) replaces it.
func (t *Table) Extend(r io.Reader) (*Table, error) {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	var f factorFile
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("emission factor file: %w", err)
	}
	return NewTable(append(slices.Clone(t.rows), f.Factors...)...)
}

// Rows returns the table's rows, sorted by ID.
func (t *Table) Rows() []Factor { return slices.Clone(t.rows) }

// Lookup returns the row with the given ID.
func (t *Table) Lookup(id string) (Factor, bool) {
	i, ok := slices.BinarySearchFunc(t.rows, id, func(f Factor, id string) int { return cmp.Compare(f.ID(), id) })
	if !ok {
		return Factor{}, false
	}
	return t.rows[i], true
}

// Policy says which factor a report uses.
type Policy struct {
	// Kinds in order of preference (default: combined margin, then the
	// grid average).
	Kinds []Kind `yaml:"kinds" json:"kinds"`
	// OlderVintage allows the latest vintage before the reporting year when
	// that year has none (factors are published one to three years late).
	OlderVintage bool `yaml:"older_vintage" json:"older_vintage"`
	// ParentRegion allows the region's parent ("CN-East" → "CN") when the
	// region itself has no factor.
	ParentRegion bool `yaml:"parent_region" json:"parent_region"`
}

// DefaultPolicy prefers the CDM combined margin, then the grid average,
// allowing older vintages and the national grid.
func DefaultPolicy() Policy {
	return Policy{Kinds: []Kind{KindCombinedMargin, KindGridAverage}, OlderVintage: true, ParentRegion: true}
}

// Selection is the factor a report uses and why: the row, the region,
// year and policy it was selected for, the reason and the caveats.
type Selection struct {
	Factor   Factor   `json:"factor"`
	FactorID string   `json:"factor_id"`
	Region   string   `json:"region"`
	Year     int      `json:"year"`
	Policy   Policy   `json:"policy"`
	Reason   string   `json:"reason"`
	Warnings []string `json:"warnings,omitempty"`
}

// ErrNoFactor: no row satisfies the policy.
var ErrNoFactor = errors.New("no emission factor")

// parent returns "CN" for "CN-East", "" for "CN".
func parent(region string) string {
	if i := strings.LastIndexByte(region, '-'); i > 0 {
		return region[:i]
	}
	return ""
}

// Select picks the factor for generation in region during year. Kinds are
// tried in the policy's order of preference; for each, the region and then
// (if allowed) its parents; for each region, the year's row or (if allowed)
// the latest earlier vintage. So a combined margin of the parent grid is
// preferred to a regional consumption average: ACM0002 asks for the
// former. The reason says what was chosen and why, and always notes when a
// consumption-average factor stands in for a CDM combined margin.
func (t *Table) Select(region string, year int, p Policy) (Selection, error) {
	if len(p.Kinds) == 0 {
		return Selection{}, fmt.Errorf("policy lists no factor kind: %w", ErrNoFactor)
	}
	var regions []string
	for r := region; r != ""; r = parent(r) {
		regions = append(regions, r)
		if !p.ParentRegion {
			break
		}
	}
	// rank orders a row's vintage for year: the year itself, then a row
	// with no stated vintage, then (if allowed) the latest earlier one.
	rank := func(f Factor) int {
		switch {
		case f.Year == year:
			return 1 << 20
		case f.Year == 0:
			return 1 << 19
		case p.OlderVintage && f.Year < year:
			return f.Year
		}
		return -1
	}
	var missing []string
	for _, kind := range p.Kinds {
		for ri, r := range regions {
			best, found := Factor{}, false
			for _, f := range t.rows {
				if f.Region == r && f.Kind == kind && rank(f) >= 0 && (!found || rank(f) > rank(best)) {
					best, found = f, true
				}
			}
			if !found {
				missing = append(missing, fmt.Sprintf("%s %s", r, kind))
				continue
			}
			s := Selection{Factor: best, FactorID: best.ID(), Region: region, Year: year, Policy: p}
			var why []string
			why = append(why, "ACM0002 / AMS-I.D compute baseline emissions as EG × EF_grid,CM (CDM Tool 07 combined margin).")
			if len(missing) > 0 {
				why = append(why, fmt.Sprintf("No factor for %s in the table.", strings.Join(missing, ", ")))
			}
			why = append(why, fmt.Sprintf("Using %s %d %s = %.4f tCO2/MWh (%s).", best.Region, best.Year, best.Kind, best.TCO2PerMWh, best.Source))
			if best.Year != year && best.Year != 0 {
				s.Warnings = append(s.Warnings, fmt.Sprintf("no %d vintage: the latest earlier one (%d) is used", year, best.Year))
			}
			if ri > 0 {
				s.Warnings = append(s.Warnings, fmt.Sprintf("no factor for region %s: its parent grid %s is used", region, r))
			}
			if kind != KindCombinedMargin {
				why = append(why, "China's published grid factors are averages for accounting for electricity consumption, not CDM combined margins: this is a proxy, and the report's emission reductions are not CDM-certified figures.")
				s.Warnings = append(s.Warnings, "consumption-average factor used as a proxy for the CDM combined margin")
			}
			s.Reason = strings.Join(why, " ")
			return s, nil
		}
	}
	return Selection{}, fmt.Errorf("region %s, year %d, kinds %v: %w", region, year, p.Kinds, ErrNoFactor)
}
