package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/sunproof/sunproof/anchor"
	"github.com/sunproof/sunproof/anchor/anchorfake"
	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/internal/httpapi"
)

func vectorNames(t *testing.T) []string {
	t.Helper()
	ents, err := os.ReadDir(vectorDir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if n, ok := strings.CutSuffix(e.Name(), ".json"); ok {
			out = append(out, n)
		}
	}
	if len(out) < 30 {
		t.Fatalf("only %d proof vectors in %s", len(out), vectorDir)
	}
	return out
}

func chainOf(v *vector) *anchorfake.Chain {
	c := anchorfake.New(v.Chain.ChainID, v.Chain.Contract)
	for _, a := range v.Chain.Anchors {
		var root anchor.Hash
		copy(root[:], a.Root)
		c.AddAnchor(anchor.AnchorRecord{IntervalStartMS: a.IntervalStartMS, IntervalEndMS: a.IntervalEndMS, Root: root, Size: a.Size, Scheme: a.Scheme})
	}
	for _, k := range v.Chain.DeviceKeys {
		c.AddDeviceKey(anchor.DeviceKeyRecord{DeviceID: k.DeviceID, PublicKey: []byte(k.PublicKey), RegisteredAtMS: k.RegisteredAtMS, RevokedAtMS: k.RevokedAtMS})
	}
	return c
}

func postVerify(t *testing.T, cfg httpapi.Config, body []byte) httpapi.Verification {
	t.Helper()
	ts := newTestServer(t, cfg)
	st, b, _ := do(t, ts, "POST", "/v1/verify", "", body)
	if st != 200 {
		t.Fatalf("POST /v1/verify: %d %s", st, b)
	}
	var v httpapi.Verification
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// checkSteps: steps before the failed one pass, the failed one fails, the
// rest did not run.
func checkSteps(t *testing.T, v httpapi.Verification, online bool) {
	t.Helper()
	if len(v.Steps) != len(anchor.Steps) {
		t.Fatalf("%d steps, want %d", len(v.Steps), len(anchor.Steps))
	}
	state := httpapi.StepPass
	for i, s := range v.Steps {
		if s.Name != string(anchor.Steps[i]) {
			t.Errorf("step %d is %s, want %s", i, s.Name, anchor.Steps[i])
		}
		want := state
		if s.Name == v.FailedStep {
			want = httpapi.StepFail
			state = httpapi.StepNotRun
		} else if s.Name == "anchor" && !online && want == httpapi.StepPass {
			want = httpapi.StepSkipped
		}
		if s.Status != want {
			t.Errorf("step %s: %s, want %s", s.Name, s.Status, want)
		}
	}
}

// TestVerifyVectors runs every proof test vector through POST /v1/verify,
// offline (the registry holds the trusted key) and online (a fake chain
// holds the vector's chain state), and expects the vector's verdict.
func TestVerifyVectors(t *testing.T) {
	for _, name := range vectorNames(t) {
		v := loadVector(t, name)
		t.Run(name, func(t *testing.T) {
			reg := devices.NewStatic(devices.Device{ID: v.Bundle.Device.DeviceID, SiteID: "site-1", PublicKey: []byte(v.TrustedKey),
				KWp: 5, Lat: 31, Lon: 117, Status: devices.StatusActive})
			base := httpapi.Config{Devices: reg, Tokens: testTokens(t)}

			off := postVerify(t, base, v.RawBundle)
			if off.FailedStep != v.WantOffline || off.Valid != (v.WantOffline == "") || off.Mode != "offline" || off.Kind != "proof" {
				t.Errorf("offline: valid %t failed %q (%s), want %q", off.Valid, off.FailedStep, off.Message, v.WantOffline)
			}
			checkSteps(t, off, false)

			on := base
			on.Chain = chainOf(v)
			got := postVerify(t, on, v.RawBundle)
			if got.FailedStep != v.WantOnline || got.Valid != (v.WantOnline == "") || got.Mode != "online" {
				t.Errorf("online: valid %t failed %q (%s), want %q", got.Valid, got.FailedStep, got.Message, v.WantOnline)
			}
			checkSteps(t, got, true)
			if got.Valid && (got.Reading == nil || !got.Reading.Anchored || got.Reading.DeviceID != v.Bundle.Device.DeviceID) {
				t.Errorf("online reading %+v", got.Reading)
			}
		})
	}
}

type failingChecker struct{ err error }

func (c failingChecker) CheckReport(context.Context, []byte) error { return c.err }

// TestVerifyReport: a carbon report is judged by every proof it holds,
// then by the report checker if there is one.
func TestVerifyReport(t *testing.T) {
	valid, late := loadVector(t, "valid"), loadVector(t, "valid-late")
	bad := loadVector(t, "wrong-batch-root")
	chain := chainOf(valid)
	for _, k := range late.Chain.Anchors {
		var root anchor.Hash
		copy(root[:], k.Root)
		chain.AddAnchor(anchor.AnchorRecord{IntervalStartMS: k.IntervalStartMS, IntervalEndMS: k.IntervalEndMS, Root: root, Size: k.Size, Scheme: k.Scheme})
	}
	reg := devices.NewStatic()
	cfg := httpapi.Config{Devices: reg, Tokens: testTokens(t), Chain: chain}
	report := func(a, b json.RawMessage) []byte {
		doc, _ := json.Marshal(map[string]any{
			"format": "sunproof.carbon-report", "version": 1, "energy_mwh": 0.5,
			"boundaries": map[string]any{"start": map[string]any{"proof": a}, "end": map[string]any{"proof": b}},
		})
		return doc
	}

	v := postVerify(t, cfg, report(valid.RawBundle, late.RawBundle))
	if !v.Valid || v.Kind != "carbon_report" || len(v.Bundles) != 2 || v.Steps[len(v.Steps)-1].Status != httpapi.StepSkipped {
		t.Errorf("valid report: %+v", v)
	}
	if v.Bundles[1].Path != "/boundaries/start/proof" || v.Bundles[0].Path != "/boundaries/end/proof" {
		t.Errorf("bundle paths %q, %q", v.Bundles[0].Path, v.Bundles[1].Path)
	}

	v = postVerify(t, cfg, report(valid.RawBundle, bad.RawBundle))
	if v.Valid || v.FailedStep != bad.WantOnline || !strings.Contains(v.Message, "/boundaries/end/proof") {
		t.Errorf("tampered report: valid %t, failed %q, message %q", v.Valid, v.FailedStep, v.Message)
	}

	withChecker := cfg
	withChecker.Reports = failingChecker{errors.New("energy_mwh 0.5 but the boundary counters give 0.4")}
	v = postVerify(t, withChecker, report(valid.RawBundle, late.RawBundle))
	if v.Valid || v.FailedStep != httpapi.StepReport || v.Steps[len(v.Steps)-1].Status != httpapi.StepFail {
		t.Errorf("report with wrong figures: %+v", v)
	}
	withChecker.Reports = failingChecker{}
	if v = postVerify(t, withChecker, report(valid.RawBundle, late.RawBundle)); !v.Valid || v.Steps[len(v.Steps)-1].Status != httpapi.StepPass {
		t.Errorf("report with right figures: %+v", v)
	}
}

// TestVerifyGarbage: anything that is not a bundle fails at decode with a
// 200 answer.
func TestVerifyGarbage(t *testing.T) {
	cfg := httpapi.Config{Devices: devices.NewStatic(), Tokens: testTokens(t)}
	for _, body := range []string{`{}`, `{"format":"sunproof.proof"}`, `{"format":"sunproof.carbon-report"}`,
		`{"format":"sunproof.proof","version":1,"scheme":1,"window":{"leaf_index":1e30}}`} {
		v := postVerify(t, cfg, []byte(body))
		if v.Valid || v.FailedStep != "decode" || v.Steps[0].Status != httpapi.StepFail {
			t.Errorf("%q: %+v", body, v)
		}
	}
	ts := newTestServer(t, cfg)
	for _, body := range []string{``, ` `, `null`, `[1,2]`, `"x"`, "\xff\xfe", `{"a":1} {"b":2}`} {
		if st, b, _ := do(t, ts, "POST", "/v1/verify", "", []byte(body)); st != 400 {
			t.Errorf("%q: %d %s, want 400 (not a JSON object)", body, st, b)
		}
	}
	deep := strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 40)
	if v := postVerify(t, cfg, []byte(deep)); v.Valid || v.FailedStep != "decode" {
		t.Errorf("deep document: %+v", v)
	}
}

// TestVerifyUnknownDevice: offline, a device missing from the registry
// fails device_key with a message saying so.
func TestVerifyUnknownDevice(t *testing.T) {
	v := loadVector(t, "valid")
	got := postVerify(t, httpapi.Config{Devices: devices.NewStatic(), Tokens: testTokens(t)}, v.RawBundle)
	if got.FailedStep != "device_key" || !strings.Contains(got.Message, "not in this server's registry") {
		t.Errorf("%+v", got)
	}
	if got.Reading == nil || got.Reading.DeviceID != "inv-002" || got.Reading.Seq != 2 {
		t.Errorf("reading %+v", got.Reading)
	}
}
