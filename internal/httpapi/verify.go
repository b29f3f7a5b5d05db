package httpapi

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sunproof/sunproof/anchor"
	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/ingest/reading"
)

// Verification is the answer of POST /v1/verify: the verdict and every
// step of docs/formats/proof.md §7, in order.
type Verification struct {
	Kind       string           `json:"kind"` // proof, carbon_report or unknown
	Valid      bool             `json:"valid"`
	Mode       string           `json:"mode"`        // online (every step, device keys and anchor from the chain) or offline
	FailedStep string           `json:"failed_step"` // first failing step; "" if valid
	Message    string           `json:"message"`
	Steps      []StepResult     `json:"steps"`
	Reading    *VerifiedReading `json:"reading"` // a proof's reading, once it decodes
	Bundles    []BundleResult   `json:"bundles"` // a carbon report's proofs
}

// StepResult is one step's outcome.
type StepResult struct {
	Name   string `json:"name"`   // decode, device_key, signature, leaf, window_root, batch_root, anchor; report for a carbon report's figures
	Status string `json:"status"` // pass, fail, skipped or not_run
	Detail string `json:"detail"`
}

// Step statuses.
const (
	StepPass    = "pass"
	StepFail    = "fail"
	StepSkipped = "skipped"
	StepNotRun  = "not_run"
)

// StepReport is the carbon report step: the report's own figures.
const StepReport = "report"

// VerifiedReading is what a proof says about its reading.
type VerifiedReading struct {
	DeviceID       string    `json:"device_id"`
	SiteID         string    `json:"site_id"`
	Seq            uint64    `json:"seq"`
	Time           time.Time `json:"ts"`
	ACPowerW       float64   `json:"ac_power_w"`
	EnergyWh       uint64    `json:"energy_wh"`
	WindowID       string    `json:"window_id"`
	Late           bool      `json:"late"`
	WindowComplete *bool     `json:"window_complete"` // no seq gap for the device in the window; null unless verified
	BatchRoot      string    `json:"batch_root"`
	BatchSize      uint64    `json:"batch_size"`
	Anchored       bool      `json:"anchored"` // the batch root was found on chain
	ChainID        uint64    `json:"chain_id"`
	Contract       string    `json:"contract"`
	TxHash         string    `json:"tx_hash"`
	BlockNumber    uint64    `json:"block_number"`
}

// BundleResult is one proof of a carbon report.
type BundleResult struct {
	Path       string `json:"path"` // JSON pointer of the bundle in the report
	Valid      bool   `json:"valid"`
	FailedStep string `json:"failed_step"`
	Message    string `json:"message"`
	DeviceID   string `json:"device_id"`
	Seq        uint64 `json:"seq"`
	EnergyWh   uint64 `json:"energy_wh"`
}

func (s *Server) postVerify(w http.ResponseWriter, r *http.Request, _ *Principal) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxVerifyBytes))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		writeError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("the body is larger than %d bytes", s.cfg.MaxVerifyBytes))
		return
	case err != nil:
		writeError(w, http.StatusBadRequest, "bad_request", "reading the body: "+err.Error())
		return
	case !isJSONObject(body):
		writeError(w, http.StatusBadRequest, "bad_request", "the body is not a JSON object: send a proof bundle or a carbon report")
		return
	}
	writeJSON(w, http.StatusOK, s.Verify(r.Context(), body))
}

// isJSONObject reports whether b is one JSON object.
func isJSONObject(b []byte) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal(b, &m) == nil && m != nil
}

// Verify checks a proof bundle or a carbon report. It never fails: what
// is wrong with the document is the answer.
func (s *Server) Verify(ctx context.Context, doc []byte) *Verification {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.VerifyTimeout)
	defer cancel()
	v := &Verification{Kind: "unknown", Mode: "offline", Bundles: []BundleResult{}}
	if s.cfg.Chain != nil {
		v.Mode = "online"
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(doc, &top); err != nil {
		v.fail(s, "decode", "not a JSON object: "+err.Error())
		return v
	}
	var format string
	_ = json.Unmarshal(top["format"], &format)
	if format == anchor.BundleFormat {
		v.Kind = "proof"
		s.verifyBundle(ctx, v, doc)
		return v
	}
	bundles, err := findBundles(doc)
	if err != nil {
		v.fail(s, "decode", err.Error())
		return v
	}
	if len(bundles) == 0 {
		if strings.Contains(format, "carbon") {
			v.Kind = "carbon_report"
			v.fail(s, "decode", "the carbon report holds no proof bundles")
			return v
		}
		v.fail(s, "decode", fmt.Sprintf("not a proof bundle (format %q, want %q) and no carbon report with proof bundles", format, anchor.BundleFormat))
		return v
	}
	v.Kind = "carbon_report"
	s.verifyReport(ctx, v, doc, bundles)
	return v
}

// fail marks the document as failing at step before any step ran.
func (v *Verification) fail(s *Server, step, msg string) {
	v.FailedStep, v.Message = step, msg
	v.Steps = s.steps(anchor.Step(step), msg)
	if v.Kind == "carbon_report" {
		v.Steps = append(v.Steps, StepResult{Name: StepReport, Status: StepNotRun})
	}
}

// steps lists the proof steps with failed the failing one ("" for none).
func (s *Server) steps(failed anchor.Step, detail string) []StepResult {
	out := make([]StepResult, 0, len(anchor.Steps))
	state := StepPass
	for _, st := range anchor.Steps {
		r := StepResult{Name: string(st), Status: state}
		switch {
		case st == failed:
			r.Status, r.Detail = StepFail, detail
			state = StepNotRun
		case st == anchor.StepAnchor && s.cfg.Chain == nil && state == StepPass:
			r.Status, r.Detail = StepSkipped, "offline: this server has no chain reader; the batch root was not looked up on chain"
		}
		out = append(out, r)
	}
	return out
}

// checkBundle verifies one bundle's JSON.
func (s *Server) checkBundle(ctx context.Context, raw []byte) (*anchor.Bundle, *anchor.Result, error) {
	var b anchor.Bundle
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, nil, &anchor.StepError{Step: anchor.StepDecode, Err: fmt.Errorf("bundle JSON: %w", err)}
	}
	if s.cfg.Chain != nil {
		res, err := anchor.Verify(ctx, &b, s.cfg.Chain)
		return &b, res, err
	}
	var key ed25519.PublicKey
	d, err := s.cfg.Devices.Device(b.Device.DeviceID)
	known := err == nil || errors.Is(err, devices.ErrDisabled)
	if known {
		key = d.PublicKey
	}
	res, err := anchor.VerifyOffline(&b, key)
	if err != nil && !known && anchor.StepOf(err) == anchor.StepDeviceKey {
		err = &anchor.StepError{Step: anchor.StepDeviceKey, Err: fmt.Errorf("device %q is not in this server's registry, so no trusted key is known", b.Device.DeviceID)}
	}
	return &b, res, err
}

func stepOf(err error) anchor.Step {
	if st := anchor.StepOf(err); st != "" {
		return st
	}
	return anchor.StepDecode
}

func (s *Server) verifyBundle(ctx context.Context, v *Verification, raw []byte) {
	b, res, err := s.checkBundle(ctx, raw)
	v.Reading = readingOf(b, res)
	if err != nil {
		st := stepOf(err)
		v.FailedStep, v.Message = string(st), err.Error()
		v.Steps = s.steps(st, err.Error())
		return
	}
	v.Valid = true
	v.Message = "the reading is signed by its device and committed under the batch root"
	if res.Anchored {
		v.Message += fmt.Sprintf(", which is anchored on chain %d in block %d", b.Anchor.ChainID, res.Anchor.BlockNumber)
	} else {
		v.Message += " (not looked up on chain: offline verification)"
	}
	v.Steps = s.steps("", "")
}

// readingOf describes what the bundle's wire bytes say, if they decode.
func readingOf(b *anchor.Bundle, res *anchor.Result) *VerifiedReading {
	if b == nil {
		return nil
	}
	r, err := reading.Decode(b.Reading.Wire)
	if err != nil {
		return nil
	}
	out := &VerifiedReading{
		DeviceID: r.DeviceID, SiteID: r.SiteID, Seq: r.Seq, Time: r.Time(), ACPowerW: r.ACPowerW, EnergyWh: r.EnergyWh,
		BatchRoot: hex.EncodeToString(b.Batch.Root), BatchSize: b.Batch.TreeSize,
		ChainID: b.Anchor.ChainID, Contract: b.Anchor.Contract, TxHash: b.Anchor.TxHash, BlockNumber: b.Anchor.BlockNumber,
	}
	if c, err := anchor.DecodeCommitment(b.Window.Commitment); err == nil {
		out.WindowID, out.Late = c.ID(), c.Kind == anchor.KindLate
	}
	if res != nil {
		complete := res.Device.Complete()
		out.WindowComplete = &complete
		out.Anchored = res.Anchored
	}
	return out
}

// foundBundle is a proof bundle inside a larger document.
type foundBundle struct {
	path string
	raw  json.RawMessage
}

// findBundles returns every object with "format": "sunproof.proof" in doc,
// depth first, with its JSON pointer.
func findBundles(doc []byte) ([]foundBundle, error) {
	var out []foundBundle
	var walk func(path string, raw json.RawMessage, depth int) error
	walk = func(path string, raw json.RawMessage, depth int) error {
		if depth > 32 {
			return errors.New("the document nests deeper than 32 levels")
		}
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 {
			return nil
		}
		switch raw[0] {
		case '{':
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(raw, &obj); err != nil {
				return err
			}
			var f string
			if json.Unmarshal(obj["format"], &f) == nil && f == anchor.BundleFormat {
				if len(out) == MaxReportBundles {
					return fmt.Errorf("the report holds more than %d proof bundles", MaxReportBundles)
				}
				out = append(out, foundBundle{path: path, raw: raw})
				return nil
			}
			keys := make([]string, 0, len(obj))
			for k := range obj {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				if err := walk(path+"/"+pointerEscape(k), obj[k], depth+1); err != nil {
					return err
				}
			}
		case '[':
			var arr []json.RawMessage
			if err := json.Unmarshal(raw, &arr); err != nil {
				return err
			}
			for i, e := range arr {
				if err := walk(path+"/"+strconv.Itoa(i), e, depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return out, walk("", doc, 0)
}

func pointerEscape(k string) string {
	return strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1")
}

func (s *Server) verifyReport(ctx context.Context, v *Verification, doc []byte, bundles []foundBundle) {
	var firstFail anchor.Step
	var firstMsg string
	for _, fb := range bundles {
		br := BundleResult{Path: fb.path}
		b, _, err := s.checkBundle(ctx, fb.raw)
		if b != nil {
			if r, derr := reading.Decode(b.Reading.Wire); derr == nil {
				br.DeviceID, br.Seq, br.EnergyWh = r.DeviceID, r.Seq, r.EnergyWh
			}
		}
		if err != nil {
			st := stepOf(err)
			br.FailedStep, br.Message = string(st), err.Error()
			if firstFail == "" || stepIndex(st) < stepIndex(firstFail) {
				firstFail, firstMsg = st, fmt.Sprintf("proof at %s: %v", fb.path, err)
			}
		} else {
			br.Valid = true
		}
		v.Bundles = append(v.Bundles, br)
	}
	v.Steps = s.steps(firstFail, firstMsg)
	report := StepResult{Name: StepReport}
	switch {
	case firstFail != "":
		report.Status = StepNotRun
		v.FailedStep, v.Message = string(firstFail), firstMsg
	case s.cfg.Reports == nil:
		report.Status = StepSkipped
		report.Detail = "this server has no carbon report checker: the report's figures were not recomputed"
		v.Valid = true
		v.Message = fmt.Sprintf("all %d proofs in the report verify; its figures were not recomputed", len(bundles))
	default:
		if err := s.cfg.Reports.CheckReport(ctx, doc); err != nil {
			report.Status, report.Detail = StepFail, err.Error()
			v.FailedStep, v.Message = StepReport, err.Error()
		} else {
			report.Status = StepPass
			v.Valid = true
			v.Message = fmt.Sprintf("all %d proofs in the report verify and its figures recompute", len(bundles))
		}
	}
	v.Steps = append(v.Steps, report)
}

func stepIndex(st anchor.Step) int { return slices.Index(anchor.Steps, st) }
