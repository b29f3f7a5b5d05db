package httpapi_test

// Test fixtures: a small registry, tokens of every role and in-memory
// sources.

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sunproof/sunproof/anchor"
	"github.com/sunproof/sunproof/anomaly"
	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/internal/httpapi"
)

var fixedNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// Tokens of the fixture, by name.
const (
	tokAdmin     = "sp_test_admin"
	tokInstaller = "sp_test_installer_acme"
	tokBank      = "sp_test_bank_l1"
	tokVerifier  = "sp_test_verifier"
)

func hashHex(tok string) string {
	h := httpapi.HashToken(tok)
	return hex.EncodeToString(h[:])
}

func testTokens(t testing.TB) *httpapi.Tokens {
	t.Helper()
	tk, err := httpapi.NewTokens(httpapi.TokenFile{Tokens: []httpapi.TokenEntry{
		{Name: "admin", SHA256: hashHex(tokAdmin), Role: httpapi.RoleAdmin},
		{Name: "acme", SHA256: hashHex(tokInstaller), Role: httpapi.RoleInstaller, Installer: "acme"},
		{Name: "bank-1", SHA256: hashHex(tokBank), Role: httpapi.RoleBank, Loans: []string{"L-1"}},
		{Name: "verifier", SHA256: hashHex(tokVerifier), Role: httpapi.RoleVerifier},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func testKey(seed byte) ed25519.PublicKey {
	s := make([]byte, ed25519.SeedSize)
	s[0] = seed
	return ed25519.NewKeyFromSeed(s).Public().(ed25519.PublicKey)
}

// testRegistry: acme installs d-acme-1 (site s-1, loan L-1) and d-acme-2
// (site s-2, no loan); other installs d-other (site s-3, loan L-2).
func testRegistry() *devices.Static {
	created := fixedNow.Add(-30 * 24 * time.Hour)
	dev := func(id, site, inst, loan string, seed byte) devices.Device {
		return devices.Device{ID: id, SiteID: site, PublicKey: testKey(seed), KWp: 5, ACRatingW: 4600,
			Lat: 31.82, Lon: 117.23, TiltDeg: 25, AzimuthDeg: 180, GridRegion: "CN-East", Installer: inst, LoanRef: loan,
			Status: devices.StatusActive, CreatedAt: created, UpdatedAt: created}
	}
	r := devices.NewStatic(
		dev("d-acme-1", "s-1", "acme", "L-1", 1),
		dev("d-acme-2", "s-2", "acme", "", 2),
		dev("d-other", "s-3", "other", "L-2", 3),
	)
	for _, s := range []devices.Site{
		{ID: "s-1", Name: "Farm one", Installer: "acme", GridRegion: "CN-East", Lat: 31.8, Lon: 117.2, LoanRef: "L-1", CreatedAt: created},
		{ID: "s-2", Name: "Farm two", Installer: "acme", GridRegion: "CN-East", Lat: 31.8, Lon: 117.2, CreatedAt: created},
		{ID: "s-3", Name: "Elsewhere", Installer: "other", GridRegion: "CN-East", Lat: 31.8, Lon: 117.2, LoanRef: "L-2", CreatedAt: created},
	} {
		r.PutSite(s)
	}
	return r
}

// fakeReadings serves a fixed day: a device's power is 1000 W × its
// position in the id order + 1, every 5 minutes.
type fakeReadings struct{}

func (fakeReadings) Series(_ context.Context, id string, from, to time.Time, step time.Duration) ([]httpapi.Point, error) {
	var out []httpapi.Point
	for t := from.Truncate(step); t.Before(to); t = t.Add(step) {
		out = append(out, httpapi.Point{Time: t, ACPowerW: 1000, ACPowerMaxW: 1200, EnergyWh: 5000, Count: 3, FirstSeq: 10, LastSeq: 12})
	}
	return out, nil
}

func (fakeReadings) FleetSeries(_ context.Context, ids []string, from, to time.Time, step time.Duration) ([]httpapi.FleetPoint, error) {
	n := len(ids)
	if ids == nil {
		n = 3
	}
	return []httpapi.FleetPoint{{Time: from.Truncate(step), ACPowerW: 1000 * float64(n), Devices: n}}, nil
}

func (fakeReadings) Latest(_ context.Context, ids []string, since time.Time) (map[string]httpapi.Latest, error) {
	all := []string{"d-acme-1", "d-acme-2", "d-other"}
	out := map[string]httpapi.Latest{}
	for i, id := range all {
		if ids == nil || slices.Contains(ids, id) {
			out[id] = httpapi.Latest{Time: fixedNow.Add(-time.Minute), ACPowerW: 1000 * float64(i+1), EnergyWh: 9000, EnergySinceWh: 100 * uint64(i+1), Seq: 99}
		}
	}
	return out, nil
}

// fakeAnchors holds one anchored interval whose manifest carries the valid
// test vector's window commitment.
type fakeAnchors struct {
	m   *anchor.Manifest
	rec *anchor.AnchorReceipt
}

func newFakeAnchors(t testing.TB) *fakeAnchors {
	t.Helper()
	v := loadVector(t, "valid")
	b := v.Bundle
	c, err := anchor.DecodeCommitment(b.Window.Commitment)
	if err != nil {
		t.Fatal(err)
	}
	batch, err := anchor.NewBatch(b.Anchor.IntervalStartMS, b.Anchor.IntervalEndMS, []anchor.Commitment{c})
	if err != nil {
		t.Fatal(err)
	}
	root := batch.Root()
	m := &anchor.Manifest{
		Format: anchor.ManifestFormat, Version: anchor.StoreFormatVersion,
		IntervalStartMS: b.Anchor.IntervalStartMS, IntervalEndMS: b.Anchor.IntervalEndMS,
		Builder: anchor.ManifestBuilder{SpanMS: 15 * 60 * 1000},
		Batch:   anchor.ManifestBatch{Scheme: 1, Size: 1, Root: root[:]},
		Windows: []anchor.ManifestWindow{{ID: c.ID(), Leaves: c.Size, Commitment: b.Window.Commitment}},
	}
	rec := &anchor.AnchorReceipt{IntervalStartMS: m.IntervalStartMS, IntervalEndMS: m.IntervalEndMS, BatchRoot: root[:], BatchSize: 1,
		ChainID: 1337, Contract: "0x5fbdb2315678afecb367f032d93f642f64180aa3", TxHash: "0xabc", BlockNumber: 7, AnchoredAt: fixedNow}
	return &fakeAnchors{m: m, rec: rec}
}

func (f *fakeAnchors) Intervals() ([]anchor.IntervalStatus, error) {
	return []anchor.IntervalStatus{{StartMS: f.m.IntervalStartMS, Anchored: true}}, nil
}

func (f *fakeAnchors) Manifest(start int64) (*anchor.Manifest, error) {
	if start != f.m.IntervalStartMS {
		return nil, os.ErrNotExist
	}
	return f.m, nil
}

func (f *fakeAnchors) Receipt(start int64) (*anchor.AnchorReceipt, error) {
	if start != f.m.IntervalStartMS {
		return nil, anchor.ErrNotAnchored
	}
	return f.rec, nil
}

// Locate: seq 10 of every device is anchored, other seqs are not.
func (f *fakeAnchors) Locate(id string, seq uint64) ([]anchor.IndexEntry, error) {
	if seq != 10 {
		return nil, nil
	}
	return []anchor.IndexEntry{{Seq: seq, IntervalStartMS: f.m.IntervalStartMS}}, nil
}

// fakeProofs returns the valid vector's bundle for seq 10 of any device.
type fakeProofs struct{ b *anchor.Bundle }

func (f fakeProofs) ProofFor(_ context.Context, id string, seq uint64) (*anchor.Bundle, error) {
	if seq != 10 {
		return nil, anchor.ErrNoProof
	}
	return f.b, nil
}

type fakeCarbon struct{ reports []httpapi.CarbonReport }

func (f fakeCarbon) CarbonReports(context.Context) ([]httpapi.CarbonReport, error) {
	return f.reports, nil
}

func (f fakeCarbon) CarbonReport(_ context.Context, id string) (httpapi.CarbonReport, json.RawMessage, error) {
	for _, r := range f.reports {
		if r.ID == id {
			doc, _ := json.Marshal(map[string]any{"format": "sunproof.carbon-report", "id": id})
			return r, doc, nil
		}
	}
	return httpapi.CarbonReport{}, nil, httpapi.ErrNotFound
}

type fakeLoans []httpapi.Loan

func (f fakeLoans) Loans(context.Context) ([]httpapi.Loan, error) { return f, nil }

func testAlerts() httpapi.AlertSource {
	m := anomaly.NewMemStore()
	mk := func(dev, site string, st anomaly.State, typ anomaly.Type) anomaly.Alert {
		return anomaly.Alert{ID: dev + "/" + string(typ), DeviceID: dev, SiteID: site, Type: typ, Severity: anomaly.SeverityWarning,
			State: st, Span: anomaly.Span{From: fixedNow.Add(-2 * time.Hour), To: fixedNow.Add(-time.Hour)},
			Start: fixedNow.Add(-2 * time.Hour), OpenedAt: fixedNow.Add(-time.Hour), UpdatedAt: fixedNow.Add(-time.Hour),
			Scans: 1, Summary: "test", Evidence: map[string]float64{"expected_wh": 100}, Anchored: anomaly.AnchoringFull}
	}
	m.Save(context.Background(), []anomaly.Alert{
		mk("d-acme-1", "s-1", anomaly.StateOpen, anomaly.TypeZeroOutput),
		mk("d-acme-2", "s-2", anomaly.StateResolved, anomaly.TypeCommGap),
		mk("d-other", "s-3", anomaly.StateOpen, anomaly.TypeStuck),
	})
	return httpapi.AlertFunc(func(context.Context) ([]anomaly.Alert, error) { return m.All(), nil })
}

// vector is a file of anchor/testdata/proofs.
type vector struct {
	Description string        `json:"description"`
	TrustedKey  anchor.Hex    `json:"trusted_key"`
	WantOffline string        `json:"want_offline"`
	WantOnline  string        `json:"want_online"`
	Bundle      anchor.Bundle `json:"bundle"`
	RawBundle   json.RawMessage
	Chain       struct {
		ChainID  uint64 `json:"chain_id"`
		Contract string `json:"contract"`
		Anchors  []struct {
			IntervalStartMS int64      `json:"interval_start_ms"`
			IntervalEndMS   int64      `json:"interval_end_ms"`
			Root            anchor.Hex `json:"root"`
			Size            uint64     `json:"size"`
			Scheme          uint8      `json:"scheme"`
		} `json:"anchors"`
		DeviceKeys []struct {
			DeviceID       string     `json:"device_id"`
			PublicKey      anchor.Hex `json:"public_key"`
			RegisteredAtMS int64      `json:"registered_at_ms"`
			RevokedAtMS    int64      `json:"revoked_at_ms"`
		} `json:"device_keys"`
	} `json:"chain"`
}

const vectorDir = "../../anchor/testdata/proofs"

func loadVector(t testing.TB, name string) *vector {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vectorDir, name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var v vector
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var raw struct {
		Bundle json.RawMessage `json:"bundle"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	v.RawBundle = raw.Bundle
	return &v
}

// testConfig wires every source.
func testConfig(t testing.TB) httpapi.Config {
	valid := loadVector(t, "valid")
	return httpapi.Config{
		Devices:     testRegistry(),
		Tokens:      testTokens(t),
		Readings:    fakeReadings{},
		Alerts:      testAlerts(),
		Anchors:     newFakeAnchors(t),
		ProofSource: fakeProofs{b: &valid.Bundle},
		Carbon: fakeCarbon{reports: []httpapi.CarbonReport{
			{ID: "r-acme-1", DeviceID: "d-acme-1", SiteID: "s-1", From: fixedNow.Add(-720 * time.Hour), To: fixedNow, EnergyMWh: 0.6, FactorTCO2PerMWh: 0.5703, EmissionsTCO2e: 0.342, GridRegion: "CN-East", CreatedAt: fixedNow, BoundaryProofCount: 2},
			{ID: "r-other", DeviceID: "d-other", SiteID: "s-3", From: fixedNow.Add(-720 * time.Hour), To: fixedNow, EnergyMWh: 0.5, FactorTCO2PerMWh: 0.5703, EmissionsTCO2e: 0.285, GridRegion: "CN-East", CreatedAt: fixedNow, BoundaryProofCount: 2},
		}},
		Loans: fakeLoans{
			{Ref: "L-1", Borrower: "Farmer One", SiteIDs: []string{"s-1"}, DeviceIDs: []string{"d-acme-1"}, PrincipalCNY: 30000, TariffCNYPerKWh: 0.39, CoverageThreshold: 1.1,
				Months: []httpapi.LoanMonth{{Month: "2025-05", CertifiedKWh: 600, IncomeCNY: 234, DueCNY: 300, Coverage: 0.78}}},
			{Ref: "L-2", Borrower: "Farmer Two", SiteIDs: []string{"s-3"}, DeviceIDs: []string{"d-other"}, PrincipalCNY: 30000, TariffCNYPerKWh: 0.39, CoverageThreshold: 1.1},
		},
		Now: func() time.Time { return fixedNow },
	}
}

func newTestServer(t testing.TB, cfg httpapi.Config) *httptest.Server {
	t.Helper()
	h, err := httpapi.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts
}

// do sends a request with an optional bearer token and returns the
// status, body and headers.
func do(t testing.TB, ts *httptest.Server, method, path, token string, body []byte) (int, []byte, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, ts.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out, resp.Header
}
