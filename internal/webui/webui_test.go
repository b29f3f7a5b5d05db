package webui_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sunproof/sunproof/anomaly"
	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/internal/httpapi"
	"github.com/sunproof/sunproof/internal/webui"
)

var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

const (
	tokAdmin    = "sp_ui_admin"
	tokBank     = "sp_ui_bank"
	tokVerifier = "sp_ui_verifier"
)

type readings struct{}

func (readings) Series(_ context.Context, id string, from, to time.Time, step time.Duration) ([]httpapi.Point, error) {
	var out []httpapi.Point
	e := uint64(1000)
	for t := from.Truncate(step); t.Before(to); t = t.Add(step) {
		e += 10
		out = append(out, httpapi.Point{Time: t, ACPowerW: 1500, ACPowerMaxW: 1800, EnergyWh: e, Count: 2, FirstSeq: 1, LastSeq: 2})
	}
	return out, nil
}

func (readings) FleetSeries(_ context.Context, ids []string, from, to time.Time, step time.Duration) ([]httpapi.FleetPoint, error) {
	return []httpapi.FleetPoint{{Time: from.Truncate(step).Add(step), ACPowerW: 2500, Devices: 1}}, nil
}

func (readings) Latest(_ context.Context, ids []string, since time.Time) (map[string]httpapi.Latest, error) {
	return map[string]httpapi.Latest{"d-1": {Time: now.Add(-time.Minute), ACPowerW: 1234.5, EnergyWh: 5000, EnergySinceWh: 777}}, nil
}

type loans []httpapi.Loan

func (l loans) Loans(context.Context) ([]httpapi.Loan, error) { return l, nil }

func hash(tok string) string {
	h := httpapi.HashToken(tok)
	return hex.EncodeToString(h[:])
}

func newUI(t *testing.T) *httptest.Server {
	t.Helper()
	key := ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey)
	reg := devices.NewStatic(devices.Device{ID: "d-1", SiteID: "s-1", PublicKey: key, KWp: 5, ACRatingW: 4600, Lat: 31.8, Lon: 117.2,
		TiltDeg: 25, AzimuthDeg: 180, GridRegion: "CN-East", Installer: "acme", LoanRef: "L-1", Status: devices.StatusActive, CreatedAt: now})
	reg.PutSite(devices.Site{ID: "s-1", Name: "Farm <one>", Installer: "acme", GridRegion: "CN-East", Lat: 31.8, Lon: 117.2, CreatedAt: now})
	tokens, err := httpapi.NewTokens(httpapi.TokenFile{Tokens: []httpapi.TokenEntry{
		{Name: "admin", SHA256: hash(tokAdmin), Role: httpapi.RoleAdmin},
		{Name: "bank", SHA256: hash(tokBank), Role: httpapi.RoleBank, Loans: []string{"L-1"}},
		{Name: "verifier", SHA256: hash(tokVerifier), Role: httpapi.RoleVerifier},
	}})
	if err != nil {
		t.Fatal(err)
	}
	alerts := anomaly.NewMemStore()
	alerts.Save(context.Background(), []anomaly.Alert{{ID: "a-1", DeviceID: "d-1", SiteID: "s-1", Type: anomaly.TypeZeroOutput,
		Severity: anomaly.SeverityCritical, State: anomaly.StateOpen, Summary: "no output <b>", UpdatedAt: now}})
	api, err := httpapi.NewServer(httpapi.Config{
		Devices: reg, Tokens: tokens, Readings: readings{},
		Alerts: httpapi.AlertFunc(func(context.Context) ([]anomaly.Alert, error) { return alerts.All(), nil }),
		Loans: loans{{Ref: "L-1", Borrower: "Farmer", DeviceIDs: []string{"d-1"}, SiteIDs: []string{"s-1"}, CoverageThreshold: 1.2,
			Months: []httpapi.LoanMonth{{Month: "2025-05", Coverage: 0.9, DueCNY: 100, IncomeCNY: 90, Complete: true, ChainVerified: true},
				{Month: "2025-06", Coverage: 0.5, DueCNY: 100, IncomeCNY: 50, Problems: []string{"d-1: no two anchored readings in the period"}}}}},
		Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	ui, err := webui.New(api, webui.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(ui)
	t.Cleanup(ts.Close)
	return ts
}

// get fetches path with the session cookie of tok ("" for none), without
// following redirects.
func get(t *testing.T, ts *httptest.Server, path, tok string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("GET", ts.URL+path, nil)
	if tok != "" {
		req.AddCookie(&http.Cookie{Name: httpapi.SessionCookie, Value: tok})
	}
	c := *ts.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestPages(t *testing.T) {
	ts := newUI(t)
	for _, tc := range []struct {
		path, tok string
		want      int
		contains  []string
	}{
		{"/", tokAdmin, 200, []string{`data-testid="fleet-power" data-field="ac_power_w" data-value="1234.5"`, "1.23 kW", "Farm &lt;one&gt;", "no output &lt;b&gt;", "<svg"}},
		{"/", "", 303, nil},
		{"/", tokVerifier, 303, nil},
		{"/devices/d-1", tokAdmin, 200, []string{`data-testid="device-peak" data-value="1800"`, "band-expected", "bar-energy", `data-step="5m"`}},
		{"/devices/d-1?range=7d", tokAdmin, 200, []string{`data-step="1h"`}},
		{"/devices/nope", tokAdmin, 404, []string{"no device"}},
		{"/sites/s-1", tokAdmin, 200, []string{"d-1"}},
		{"/alerts?state=open", tokAdmin, 200, []string{`data-alert="a-1"`}},
		{"/portfolio", tokBank, 200, []string{`data-loan="L-1"`, "below 1.20×", "bar-coverage"}},
		{"/portfolio", tokVerifier, 403, []string{"may not open this page"}},
		{"/loans/L-1", tokBank, 200, []string{"2025-05", "chain-verified", "partly certified", "d-1: no two anchored readings in the period"}},
		{"/anchors", tokVerifier, 503, []string{"proof store is not configured"}},
		{"/carbon", tokAdmin, 503, nil},
		{"/verify", "", 200, []string{`data-testid="drop-zone"`, "offline"}},
		{"/login?next=//evil.example", "", 200, []string{`name="next" value="/"`}},
		{"/static/app.js", "", 200, []string{"postForVerdict"}},
		{"/fleet/chart.svg", tokAdmin, 200, []string{"<svg"}},
		{"/no/such/page", "", 404, nil},
	} {
		t.Run(tc.path+" "+tc.tok, func(t *testing.T) {
			st, body, hdr := get(t, ts, tc.path, tc.tok)
			if st != tc.want {
				t.Fatalf("status %d, want %d", st, tc.want)
			}
			for _, s := range tc.contains {
				if !strings.Contains(body, s) {
					t.Errorf("page lacks %q", s)
				}
			}
			if strings.HasPrefix(hdr.Get("Content-Type"), "text/html") && hdr.Get("Content-Security-Policy") == "" {
				t.Error("no Content-Security-Policy")
			}
		})
	}
}

func TestLogin(t *testing.T) {
	ts := newUI(t)
	c := *ts.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.PostForm(ts.URL+"/login", map[string][]string{"token": {"wrong"}, "next": {"/alerts"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("bad token: %d", resp.StatusCode)
	}
	resp, err = c.PostForm(ts.URL+"/login", map[string][]string{"token": {tokAdmin}, "next": {"/alerts"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var cookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == httpapi.SessionCookie {
			cookie = ck
		}
	}
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/alerts" || cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode {
		t.Errorf("login: %d, location %q, cookie %+v", resp.StatusCode, resp.Header.Get("Location"), cookie)
	}
}

// TestVerifyForm: the verify page works as a plain form post (file or
// pasted text) and as the script's raw post with ?fragment=1.
func TestVerifyForm(t *testing.T) {
	ts := newUI(t)
	bundle, err := os.ReadFile("../../anchor/testdata/proofs/changed-value.json")
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "proof.json")
	fw.Write(bundle) // a test vector file, not a bare bundle: judged as a report holding one bundle
	mw.Close()
	resp, err := http.Post(ts.URL+"/verify", mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `data-valid="false"`) || !strings.Contains(string(b), "File: proof.json") {
		t.Errorf("form post: %d\n%s", resp.StatusCode, b)
	}
	resp, err = http.Post(ts.URL+"/verify?fragment=1", "application/json", strings.NewReader(`{"format":"sunproof.proof"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.Contains(string(b), "<html") || !strings.Contains(string(b), `data-failed-step="decode"`) {
		t.Errorf("fragment: %d\n%s", resp.StatusCode, b)
	}
}
