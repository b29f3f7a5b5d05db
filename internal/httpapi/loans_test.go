package httpapi_test

import (
	"encoding/json"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/sunproof/sunproof/internal/httpapi"
)

// TestLoansCertificationFields: /v1/loans carries every field the Loan
// schema requires, for each month too, and problems is an array (never
// null) whether or not the source filled it in.
func TestLoansCertificationFields(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas struct {
				Loan struct {
					Required   []string `yaml:"required"`
					Properties struct {
						Months struct {
							Items struct {
								Required []string `yaml:"required"`
							} `yaml:"items"`
						} `yaml:"months"`
					} `yaml:"properties"`
				} `yaml:"Loan"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(httpapi.OpenAPIYAML, &doc); err != nil {
		t.Fatal(err)
	}
	loanReq, monthReq := doc.Components.Schemas.Loan.Required, doc.Components.Schemas.Loan.Properties.Months.Items.Required
	if len(loanReq) == 0 || len(monthReq) == 0 {
		t.Fatal("no Loan schema")
	}
	cfg := testConfig(t)
	cfg.Loans = fakeLoans{
		{Ref: "L-1", Borrower: "Farmer One", SiteIDs: []string{"s-1"}, DeviceIDs: []string{"d-acme-1"}, PrincipalCNY: 30000, TariffCNYPerKWh: 0.39,
			CoverageThreshold: 1.1, ChainVerified: true, Months: []httpapi.LoanMonth{
				{Month: "2025-04", CertifiedKWh: 610, IncomeCNY: 237.9, DueCNY: 300, Coverage: 0.793, Complete: true, ChainVerified: true, ExcludedKWh: 12.5},
				{Month: "2025-05", CertifiedKWh: 0, DueCNY: 300, ChainVerified: true,
					Problems: []string{"d-acme-1 not certified: fewer than two anchored, signed readings in the period (0 readings)"}},
				{Month: "2025-06", CertifiedKWh: 0, IncomeCNY: 250, DueCNY: 300, Coverage: 0.833, Projected: true},
			}},
	}
	ts := newTestServer(t, cfg)
	st, b, _ := do(t, ts, "GET", "/v1/loans/L-1", tokBank, nil)
	if st != 200 {
		t.Fatalf("%d %s", st, b)
	}
	var l map[string]any
	if err := json.Unmarshal(b, &l); err != nil {
		t.Fatal(err)
	}
	for _, k := range loanReq {
		if _, ok := l[k]; !ok {
			t.Errorf("loan lacks required %q", k)
		}
	}
	if l["chain_verified"] != true {
		t.Errorf("chain_verified %v", l["chain_verified"])
	}
	months := l["months"].([]any)
	for i, m := range months {
		m := m.(map[string]any)
		for _, k := range monthReq {
			if _, ok := m[k]; !ok {
				t.Errorf("month %d lacks required %q", i, k)
			}
		}
		if _, ok := m["problems"].([]any); !ok {
			t.Errorf("month %d problems %v, want an array", i, m["problems"])
		}
	}
	if m := months[1].(map[string]any); m["complete"] != false || len(m["problems"].([]any)) != 1 {
		t.Errorf("uncertified month %v", m)
	}
	if m := months[0].(map[string]any); m["complete"] != true || m["excluded_kwh"] != 12.5 {
		t.Errorf("certified month %v", m)
	}
	// The latest measured month is the uncertified one: its coverage 0 is
	// shown, below the threshold.
	if l["latest_month"] != "2025-05" || l["below_threshold"] != true {
		t.Errorf("latest %v below %v", l["latest_month"], l["below_threshold"])
	}
}
