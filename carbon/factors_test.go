package carbon_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/sunproof/sunproof/carbon"
)

func TestSelect(t *testing.T) {
	table := carbon.DefaultTable()
	cmOnly := carbon.Policy{Kinds: []carbon.Kind{carbon.KindCombinedMargin}, OlderVintage: true, ParentRegion: true}
	strict := carbon.Policy{Kinds: []carbon.Kind{carbon.KindCombinedMargin, carbon.KindGridAverage}}
	tests := []struct {
		desc     string
		region   string
		year     int
		policy   carbon.Policy
		wantID   string
		wantEF   float64
		warnings []string // substrings, in order
		wantErr  error
	}{
		{"East 2023", "CN-East", 2023, carbon.DefaultPolicy(), "CN-East/2023/grid_average", 0.5500,
			[]string{"consumption-average"}, nil},
		{"South 2022", "CN-South", 2022, carbon.DefaultPolicy(), "CN-South/2022/grid_average", 0.3869,
			[]string{"consumption-average"}, nil},
		{"Southwest 2025: latest vintage", "CN-Southwest", 2025, carbon.DefaultPolicy(), "CN-Southwest/2023/grid_average", 0.2472,
			[]string{"no 2025 vintage", "consumption-average"}, nil},
		{"North 2021: national grid", "CN-North", 2021, carbon.DefaultPolicy(), "CN/2021/grid_average", 0.5568,
			[]string{"parent grid CN", "consumption-average"}, nil},
		{"unknown province grid: national", "CN-Xizang", 2023, carbon.DefaultPolicy(), "CN/2023/grid_average", 0.5306,
			[]string{"parent grid CN", "consumption-average"}, nil},
		{"national 2022", "CN", 2022, carbon.DefaultPolicy(), "CN/2022/grid_average", 0.5366, []string{"consumption-average"}, nil},
		{"CDM standardized baseline: no vintage, no proxy warning", "CDM-ASB0038", 2024, carbon.DefaultPolicy(),
			"CDM-ASB0038/0/combined_margin", 0.4329, nil, nil},
		{"strict: no 2024 vintage", "CN-East", 2024, strict, "", 0, nil, carbon.ErrNoFactor},
		{"strict: no regional 2021", "CN-North", 2021, strict, "", 0, nil, carbon.ErrNoFactor},
		{"combined margin only, China", "CN-East", 2023, cmOnly, "", 0, nil, carbon.ErrNoFactor},
		{"enterprise reporting factor on request", "CN-East", 2022,
			carbon.Policy{Kinds: []carbon.Kind{carbon.KindEnterpriseReporting}, ParentRegion: true}, "CN/2022/enterprise_reporting", 0.5703,
			[]string{"parent grid CN", "consumption-average"}, nil},
		{"before any vintage", "CN", 2019, carbon.DefaultPolicy(), "", 0, nil, carbon.ErrNoFactor},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			sel, err := table.Select(tc.region, tc.year, tc.policy)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("got %v, %v; want error %v", sel.FactorID, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if sel.FactorID != tc.wantID || sel.Factor.TCO2PerMWh != tc.wantEF {
				t.Errorf("got %s = %g, want %s = %g", sel.FactorID, sel.Factor.TCO2PerMWh, tc.wantID, tc.wantEF)
			}
			if len(sel.Warnings) != len(tc.warnings) {
				t.Fatalf("warnings %q, want %d", sel.Warnings, len(tc.warnings))
			}
			for i, w := range tc.warnings {
				if !strings.Contains(sel.Warnings[i], w) {
					t.Errorf("warning %d %q lacks %q", i, sel.Warnings[i], w)
				}
			}
			if sel.Factor.Kind != carbon.KindCombinedMargin && !strings.Contains(sel.Reason, "not CDM combined margins") {
				t.Errorf("reason must say China's factors are consumption averages: %q", sel.Reason)
			}
			if !strings.Contains(sel.Reason, sel.Factor.Source) {
				t.Errorf("reason does not name the source: %q", sel.Reason)
			}
		})
	}
}

// The seeded combined margin is the Tool 07 weighting of ASB0038.
func TestCombinedMarginArithmetic(t *testing.T) {
	f, ok := carbon.DefaultTable().Lookup("CDM-ASB0038/0/combined_margin")
	if !ok {
		t.Fatal("ASB0038 row missing")
	}
	if got := 0.75*0.4620 + 0.25*0.3456; math.Abs(got-f.TCO2PerMWh) > 5e-5 {
		t.Errorf("0.75 × 0.4620 + 0.25 × 0.3456 = %.5f, row says %g", got, f.TCO2PerMWh)
	}
}

func TestSeededRowsHaveSources(t *testing.T) {
	rows := carbon.DefaultTable().Rows()
	if len(rows) != 24 {
		t.Errorf("%d seeded rows, want 24", len(rows))
	}
	for _, r := range rows {
		if err := r.Validate(); err != nil {
			t.Error(err)
		}
		if strings.HasPrefix(r.Region, "CN") && !strings.Contains(r.Note+r.Source, "MEE") && !strings.Contains(r.Note, "consumption") {
			t.Errorf("%s: China row without its publisher or nature", r.ID())
		}
	}
}

func TestExtend(t *testing.T) {
	base := carbon.DefaultTable()
	tests := []struct {
		desc    string
		yaml    string
		wantErr bool
		check   func(t *testing.T, tb *carbon.Table)
	}{
		{"add a 2024 regional row and override one", `
factors:
  - {region: CN-East, year: 2024, kind: grid_average, tco2_per_mwh: 0.5400, source: "provincial notice (example)"}
  - {region: CN-South, year: 2023, kind: grid_average, tco2_per_mwh: 0.4100, source: "corrected figure (example)", note: "override"}
`, false, func(t *testing.T, tb *carbon.Table) {
			sel, err := tb.Select("CN-East", 2024, carbon.DefaultPolicy())
			if err != nil || sel.FactorID != "CN-East/2024/grid_average" || len(sel.Warnings) != 1 {
				t.Errorf("got %+v, %v", sel, err)
			}
			if f, _ := tb.Lookup("CN-South/2023/grid_average"); f.TCO2PerMWh != 0.41 {
				t.Errorf("override: got %g", f.TCO2PerMWh)
			}
			if len(tb.Rows()) != len(base.Rows())+1 {
				t.Errorf("%d rows", len(tb.Rows()))
			}
		}},
		{"a combined margin for the national grid wins over regional averages", `
factors:
  - {region: CN, year: 2023, kind: combined_margin, tco2_per_mwh: 0.60, source: "example"}
`, false, func(t *testing.T, tb *carbon.Table) {
			sel, _ := tb.Select("CN-East", 2023, carbon.DefaultPolicy())
			if sel.FactorID != "CN/2023/combined_margin" || strings.Contains(sel.Reason, "proxy") {
				t.Errorf("got %+v", sel)
			}
		}},
		{"empty file", ``, false, nil},
		{"no source", `factors: [{region: X, year: 2024, kind: grid_average, tco2_per_mwh: 0.5}]`, true, nil},
		{"negative factor", `factors: [{region: X, year: 2024, kind: grid_average, tco2_per_mwh: -0.5, source: s}]`, true, nil},
		{"factor in kg", `factors: [{region: X, year: 2024, kind: grid_average, tco2_per_mwh: 570, source: s}]`, true, nil},
		{"unknown field", `factors: [{region: X, year: 2024, kind: grid_average, value: 0.5, source: s}]`, true, nil},
		{"region with a slash", `factors: [{region: X/Y, year: 2024, kind: grid_average, tco2_per_mwh: 0.5, source: s}]`, true, nil},
		{"not YAML", `factors: [`, true, nil},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			tb, err := base.Extend(strings.NewReader(tc.yaml))
			if (err != nil) != tc.wantErr {
				t.Fatalf("Extend() error %v, want error %v", err, tc.wantErr)
			}
			if err == nil && tc.check != nil {
				tc.check(t, tb)
			}
		})
	}
}
