package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/sunproof/sunproof/anchor"
	"github.com/sunproof/sunproof/internal/httpapi"
	"github.com/sunproof/sunproof/internal/proofhttp"
)

// concrete is a request for each route, on objects every role may see.
var concrete = map[string]string{
	"GET /v1/openapi.json":                 "/v1/openapi.json",
	"GET /v1/health":                       "/v1/health",
	"POST /v1/verify":                      "/v1/verify",
	"GET /v1/me":                           "/v1/me",
	"GET /v1/fleet":                        "/v1/fleet",
	"GET /v1/fleet/power":                  "/v1/fleet/power",
	"GET /v1/sites":                        "/v1/sites",
	"GET /v1/sites/{site_id}":              "/v1/sites/s-1",
	"GET /v1/devices":                      "/v1/devices",
	"GET /v1/devices/{device_id}":          "/v1/devices/d-acme-1",
	"GET /v1/devices/{device_id}/readings": "/v1/devices/d-acme-1/readings",
	"GET /v1/devices/{device_id}/windows":  "/v1/devices/d-acme-1/windows",
	"GET /v1/alerts":                       "/v1/alerts",
	"GET /v1/anchors":                      "/v1/anchors",
	"GET /v1/anchors/{interval_start_ms}":  "/v1/anchors/1748772900000",
	"GET /v1/proofs/{device_id}/{seq}":     "/v1/proofs/d-acme-1/10",
	"GET /v1/carbon/reports":               "/v1/carbon/reports",
	"GET /v1/carbon/reports/{report_id}":   "/v1/carbon/reports/r-acme-1",
	"GET /v1/loans":                        "/v1/loans",
	"GET /v1/loans/{loan_ref}":             "/v1/loans/L-1",
}

// TestAuthMatrix sends every route as each role, without a token and with
// an unknown one: protected routes answer 401 and 403 as their role list
// says, allowed ones 200, and every answer is JSON.
func TestAuthMatrix(t *testing.T) {
	cfg := testConfig(t)
	srv, err := httpapi.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, cfg)
	tokens := map[string]string{"none": "", "unknown": "sp_nobody",
		"admin": tokAdmin, "installer": tokInstaller, "bank": tokBank, "verifier": tokVerifier}
	valid := loadVector(t, "valid")
	for _, rt := range srv.Routes() {
		key := rt.Method + " " + rt.Path
		path, ok := concrete[key]
		if !ok {
			t.Errorf("no concrete request for route %s: add one to the matrix", key)
			continue
		}
		for who, tok := range tokens {
			t.Run(key+"/"+who, func(t *testing.T) {
				var body []byte
				if rt.Method == http.MethodPost {
					body = valid.RawBundle
				}
				got, b, hdr := do(t, ts, rt.Method, path, tok, body)
				want := http.StatusOK
				switch {
				case len(rt.Roles) == 0:
				case tok == "" || who == "unknown":
					want = http.StatusUnauthorized
				case !slices.Contains(rt.Roles, httpapi.Role(who)):
					want = http.StatusForbidden
				}
				if got != want {
					t.Fatalf("%s %s as %s: status %d, want %d; body %s", rt.Method, path, who, got, want, b)
				}
				if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Errorf("content type %q", ct)
				}
				if !json.Valid(b) {
					t.Errorf("body is not JSON: %s", b)
				}
				if want == http.StatusUnauthorized && hdr.Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
				if want >= 400 {
					var e httpapi.ErrorBody
					if err := json.Unmarshal(b, &e); err != nil || e.Error == "" || e.Message == "" {
						t.Errorf("error body %s", b)
					}
				}
			})
		}
	}
}

// TestScope checks that installer and bank tokens see only their part of
// the fleet, and that what they can't see looks missing.
func TestScope(t *testing.T) {
	ts := newTestServer(t, testConfig(t))
	ids := func(tok, path, field string) []string {
		t.Helper()
		st, b, _ := do(t, ts, "GET", path, tok, nil)
		if st != 200 {
			t.Fatalf("GET %s: %d %s", path, st, b)
		}
		var l struct{ Items []map[string]any }
		if err := json.Unmarshal(b, &l); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, it := range l.Items {
			out = append(out, fmt.Sprint(it[field]))
		}
		return out
	}
	for _, tc := range []struct {
		desc, tok, path, field string
		want                   []string
	}{
		{"admin devices", tokAdmin, "/v1/devices", "id", []string{"d-acme-1", "d-acme-2", "d-other"}},
		{"verifier devices", tokVerifier, "/v1/devices", "id", []string{"d-acme-1", "d-acme-2", "d-other"}},
		{"installer devices", tokInstaller, "/v1/devices", "id", []string{"d-acme-1", "d-acme-2"}},
		{"bank devices", tokBank, "/v1/devices", "id", []string{"d-acme-1"}},
		{"installer sites", tokInstaller, "/v1/sites", "id", []string{"s-1", "s-2"}},
		{"bank sites", tokBank, "/v1/sites", "id", []string{"s-1"}},
		{"installer alerts", tokInstaller, "/v1/alerts", "device_id", []string{"d-acme-1", "d-acme-2"}},
		{"open alerts", tokAdmin, "/v1/alerts?state=open", "device_id", []string{"d-acme-1", "d-other"}},
		{"bank alerts", tokBank, "/v1/alerts", "device_id", []string{"d-acme-1"}},
		{"bank loans", tokBank, "/v1/loans", "ref", []string{"L-1"}},
		{"admin loans", tokAdmin, "/v1/loans", "ref", []string{"L-1", "L-2"}},
		{"installer reports", tokInstaller, "/v1/carbon/reports", "id", []string{"r-acme-1"}},
		{"verifier reports", tokVerifier, "/v1/carbon/reports", "id", []string{"r-acme-1", "r-other"}},
		{"site filter", tokAdmin, "/v1/devices?site_id=s-2", "id", []string{"d-acme-2"}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			got := ids(tc.tok, tc.path, tc.field)
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	for _, tc := range []struct{ tok, path string }{
		{tokInstaller, "/v1/devices/d-other"},
		{tokInstaller, "/v1/devices/d-other/readings"},
		{tokInstaller, "/v1/proofs/d-other/10"},
		{tokInstaller, "/v1/sites/s-3"},
		{tokInstaller, "/v1/carbon/reports/r-other"},
		{tokBank, "/v1/devices/d-acme-2"},
		{tokBank, "/v1/loans/L-2"},
		{tokAdmin, "/v1/devices/nope"},
		{tokAdmin, "/v1/proofs/d-acme-1/11"},
		{tokAdmin, "/v1/anchors/5"},
	} {
		if st, b, _ := do(t, ts, "GET", tc.path, tc.tok, nil); st != http.StatusNotFound {
			t.Errorf("GET %s: %d %s, want 404", tc.path, st, b)
		}
	}
}

// TestFleet checks the overview's sums for a scoped token.
func TestFleet(t *testing.T) {
	ts := newTestServer(t, testConfig(t))
	st, b, _ := do(t, ts, "GET", "/v1/fleet", tokInstaller, nil)
	if st != 200 {
		t.Fatalf("%d %s", st, b)
	}
	var f httpapi.Fleet
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	// The installer sees d-acme-1 (1000 W, 100 Wh) and d-acme-2 (2000 W, 200 Wh).
	if f.Devices != 2 || f.Sites != 2 || f.ReportingDevices != 2 || f.ACPowerW != 3000 || f.Energy24hWh != 300 || f.CapacityKWp != 10 {
		t.Errorf("fleet %+v", f)
	}
	if f.OpenAlerts == nil || *f.OpenAlerts != 1 {
		t.Errorf("open alerts %v, want 1", f.OpenAlerts)
	}
	if f.LastAnchor == nil || f.LastAnchor.Status != httpapi.AnchorAnchored || f.LastAnchor.TxHash != "0xabc" {
		t.Errorf("last anchor %+v", f.LastAnchor)
	}
	if len(f.SiteRows) != 2 || f.SiteRows[0].SiteID != "s-1" || f.SiteRows[0].ACPowerW != 1000 {
		t.Errorf("site rows %+v", f.SiteRows)
	}
}

// TestWindows: seq 10 is anchored in the fake store, 12 is not, so every
// span is partial and links the proof of seq 10.
func TestWindows(t *testing.T) {
	ts := newTestServer(t, testConfig(t))
	st, b, _ := do(t, ts, "GET", "/v1/devices/d-acme-1/windows?from=2025-06-01T10:00:00Z&to=2025-06-01T11:00:00Z", tokVerifier, nil)
	if st != 200 {
		t.Fatalf("%d %s", st, b)
	}
	var l httpapi.List[httpapi.DeviceWindow]
	if err := json.Unmarshal(b, &l); err != nil {
		t.Fatal(err)
	}
	if len(l.Items) != 4 {
		t.Fatalf("%d windows, want 4 spans of 15 minutes", len(l.Items))
	}
	w := l.Items[0]
	if w.Status != httpapi.WindowPartial || w.TxHash != "0xabc" || w.ProofURL != "/v1/proofs/d-acme-1/10" || w.WindowID == "" {
		t.Errorf("window %+v", w)
	}
}

// TestBadInput: malformed requests get a 4xx with a JSON error, never 5xx.
func TestBadInput(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxVerifyBytes = 1 << 10
	ts := newTestServer(t, cfg)
	for _, tc := range []struct {
		method, path string
		body         []byte
		want         int
	}{
		{"GET", "/v1/devices/d-acme-1/readings?from=yesterday", nil, 400},
		{"GET", "/v1/devices/d-acme-1/readings?from=2025-06-02T00:00:00Z&to=2025-06-01T00:00:00Z", nil, 400},
		{"GET", "/v1/devices/d-acme-1/readings?from=2020-01-01T00:00:00Z&to=2025-06-01T00:00:00Z", nil, 400},
		{"GET", "/v1/devices/d-acme-1/readings?step=1s", nil, 400},
		{"GET", "/v1/devices/d-acme-1/readings?step=banana", nil, 400},
		{"GET", "/v1/devices/d-acme-1/readings?step=0s", nil, 400},
		{"GET", "/v1/devices/d-acme-1/readings?step=-5m", nil, 400},
		{"GET", "/v1/devices/d-acme-1/readings?from=0001-01-01T00:00:00Z&to=0001-01-02T00:00:00Z", nil, 400},
		{"GET", "/v1/devices/d-acme-1/readings?from=2025-05-01T00:00:00Z&to=2025-05-31T00:00:00Z&step=1m", nil, 400},
		{"GET", "/v1/devices/d-acme-1/windows?from=2025-05-01T00:00:00Z&to=2025-05-31T00:00:00Z", nil, 400},
		{"GET", "/v1/fleet/power?to=not-a-time", nil, 400},
		{"GET", "/v1/fleet/power?step=7m", nil, 400},
		{"GET", "/v1/fleet/power?to=", nil, 400},
		{"GET", "/v1/devices?site_id=", nil, 400},
		{"GET", "/v1/alerts?limit=", nil, 400},
		{"GET", "/v1/alerts?state=", nil, 400},
		{"GET", "/v1/devices?site_id=not%20an%20id", nil, 400},
		{"GET", "/v1/alerts?device_id=" + strings.Repeat("x", 65), nil, 400},
		{"POST", "/v1/verify", []byte(" \n"), 400},
		{"GET", "/v1/devices/bad%20id", nil, 404},
		{"GET", "/v1/devices/" + strings.Repeat("x", 100), nil, 404},
		{"GET", "/v1/sites/a%2Fb", nil, 404},
		{"GET", "/v1/alerts?state=sleeping", nil, 400},
		{"GET", "/v1/alerts?limit=0", nil, 400},
		{"GET", "/v1/alerts?limit=lots", nil, 400},
		{"GET", "/v1/anchors?limit=100000", nil, 400},
		{"GET", "/v1/anchors?before_ms=-1", nil, 400},
		{"GET", "/v1/anchors/-5", nil, 400},
		{"GET", "/v1/anchors/99999999999999999999999", nil, 400},
		{"GET", "/v1/proofs/d-acme-1/-1", nil, 400},
		{"GET", "/v1/proofs/d-acme-1/18446744073709551616", nil, 400},
		{"GET", "/v1/nothing-here", nil, 404},
		{"GET", "/elsewhere", nil, 404},
		{"DELETE", "/v1/devices/d-acme-1", nil, 405},
		{"POST", "/v1/devices", []byte(`{}`), 405},
		{"PUT", "/v1/verify", []byte(`{}`), 405},
		{"POST", "/v1/verify", []byte(strings.Repeat(" ", 2<<10)), 413},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			st, b, hdr := do(t, ts, tc.method, tc.path, tokAdmin, tc.body)
			if st != tc.want {
				t.Errorf("status %d, want %d: %s", st, tc.want, b)
			}
			var e httpapi.ErrorBody
			if err := json.Unmarshal(b, &e); err != nil || e.Error == "" {
				t.Errorf("error body %s", b)
			}
			if st == 405 && hdr.Get("Allow") == "" {
				t.Error("405 without Allow")
			}
		})
	}
}

// TestUnavailable: a route whose source is not configured answers 503.
func TestUnavailable(t *testing.T) {
	ts := newTestServer(t, httpapi.Config{Devices: testRegistry(), Tokens: testTokens(t)})
	for _, p := range []string{"/v1/fleet", "/v1/devices/d-acme-1/readings", "/v1/alerts", "/v1/anchors",
		"/v1/proofs/d-acme-1/10", "/v1/carbon/reports", "/v1/loans"} {
		if st, b, _ := do(t, ts, "GET", p, tokAdmin, nil); st != http.StatusServiceUnavailable {
			t.Errorf("GET %s: %d %s, want 503", p, st, b)
		}
	}
	if st, _, _ := do(t, ts, "GET", "/v1/devices", tokAdmin, nil); st != 200 {
		t.Errorf("GET /v1/devices: %d", st)
	}
}

// TestCookie: the UI's session cookie authenticates GETs only.
func TestCookie(t *testing.T) {
	ts := newTestServer(t, testConfig(t))
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/v1/me", 200},
		{"HEAD", "/v1/me", 200},
		{"POST", "/v1/me", 405},
	} {
		req, _ := http.NewRequest(tc.method, ts.URL+tc.path, nil)
		req.AddCookie(&http.Cookie{Name: httpapi.SessionCookie, Value: tokAdmin})
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s with cookie: %d, want %d", tc.method, tc.path, resp.StatusCode, tc.want)
		}
	}
	// A malformed Authorization header is not rescued by the cookie.
	req, _ := http.NewRequest("GET", ts.URL+"/v1/me", nil)
	req.Header.Set("Authorization", "Basic abc")
	req.AddCookie(&http.Cookie{Name: httpapi.SessionCookie, Value: tokAdmin})
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("basic auth: %d, want 401", resp.StatusCode)
	}
}

// TestReadingsExpected: the readings carry the clear-sky expectation for
// every bucket.
func TestReadingsExpected(t *testing.T) {
	ts := newTestServer(t, testConfig(t))
	st, b, _ := do(t, ts, "GET", "/v1/devices/d-acme-1/readings?from=2025-06-01T00:00:00Z&to=2025-06-02T00:00:00Z&step=1h", tokAdmin, nil)
	if st != 200 {
		t.Fatalf("%d %s", st, b)
	}
	var r httpapi.Readings
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Points) != 24 || len(r.Expected) != 24 || r.StepS != 3600 {
		t.Fatalf("%d points, %d expected, step %d", len(r.Points), len(r.Expected), r.StepS)
	}
	// Hefei, 1 June: night at 16:00 UTC (midnight local), sun at 04:00 UTC (noon).
	if r.Expected[16].ACPowerW != 0 || r.Expected[4].ACPowerW < 2000 {
		t.Errorf("expected power at 16:30 UTC %.0f W, at 04:30 UTC %.0f W", r.Expected[16].ACPowerW, r.Expected[4].ACPowerW)
	}
}

// TestMountedProofHandler: the proof store's handler (package proofhttp)
// mounted as Config.Proofs serves the route after the API authorised it.
func TestMountedProofHandler(t *testing.T) {
	cfg := testConfig(t)
	valid := loadVector(t, "valid")
	cfg.Proofs = proofhttp.Handler(fakeProofs{b: &valid.Bundle}, nil)
	cfg.ProofSource = nil
	ts := newTestServer(t, cfg)
	for _, tc := range []struct {
		path, tok string
		want      int
	}{
		{"/v1/proofs/d-acme-1/10", tokVerifier, 200},
		{"/v1/proofs/d-acme-1/11", tokVerifier, 404},
		{"/v1/proofs/d-other/10", tokInstaller, 404}, // out of scope: refused before the handler
		{"/v1/proofs/d-acme-1/10", "", 401},
	} {
		st, b, _ := do(t, ts, "GET", tc.path, tc.tok, nil)
		if st != tc.want {
			t.Errorf("GET %s: %d %s, want %d", tc.path, st, b, tc.want)
		}
		if st == 200 {
			var got anchor.Bundle
			if err := json.Unmarshal(b, &got); err != nil || got.Device.DeviceID != valid.Bundle.Device.DeviceID {
				t.Errorf("bundle %s: %v", b, err)
			}
		}
	}
}
