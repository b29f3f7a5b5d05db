package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sunproof/sunproof/anchor"
	"github.com/sunproof/sunproof/anchor/anchorfake"
	"github.com/sunproof/sunproof/anomaly"
	"github.com/sunproof/sunproof/carbon"
	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/ingest/reading"
)

const (
	ctChainID  = 1337
	ctContract = "0x5fbdb2315678afecb367f032d93f642f64180aa3"
	ctTx       = "0xabababababababababababababababababababababababababababababababab"
)

// memProofs is an in-memory proof store over real windows and one batch:
// readings at or after anchoredBefore are not anchored yet, and unsigned
// ones (in unsigned) have no bundle.
type memProofs struct {
	windows map[reading.Key]*anchor.Window
	batch   *anchor.Batch
	keys    map[string]ed25519.PublicKey
}

func (m *memProofs) Anchored(id string, seq uint64) (bool, error) {
	_, ok := m.windows[reading.Key{DeviceID: id, Seq: seq}]
	return ok, nil
}

func (m *memProofs) ProofFor(_ context.Context, id string, seq uint64) (*anchor.Bundle, error) {
	w, ok := m.windows[reading.Key{DeviceID: id, Seq: seq}]
	if !ok {
		return nil, anchor.ErrNoProof
	}
	i, _ := w.Find(reading.Key{DeviceID: id, Seq: seq})
	b, err := anchor.NewBundle(w, i, m.batch, m.keys[id])
	if err != nil {
		return nil, err
	}
	b.Anchor.ChainID, b.Anchor.Contract, b.Anchor.TxHash, b.Anchor.BlockNumber = ctChainID, ctContract, ctTx, 9
	return b, nil
}

type memLoader []anomaly.Series

func (m memLoader) Load(_ context.Context, devs []devices.Device, from, to time.Time) ([]anomaly.Series, anomaly.LoadStats, error) {
	var out []anomaly.Series
	for _, d := range devs {
		for _, s := range m {
			if s.Device.ID == d.ID {
				out = append(out, s)
			}
		}
	}
	return out, anomaly.LoadStats{}, nil
}

// signedMonth: n devices of site ct-site with hourly readings over June
// 2024 (CST), 1500 (+100 per device) Wh an hour from 08:00 to 18:00, all
// signed; edit, if set, may change a sample before it is signed. The
// readings for which anchored(device, hour, hours) holds are committed to
// daily windows of one batch, anchored on a fake chain where every
// device's key is registered.
func signedMonth(t *testing.T, n int, anchored func(dev, h, hours int) bool, edit func(dev, h int, s *anomaly.Sample)) (memLoader, *memProofs, *anchorfake.Chain, []devices.Device) {
	t.Helper()
	cstz := time.FixedZone("CST", 8*3600)
	from := time.Date(2024, 6, 1, 0, 0, 0, 0, cstz)
	to := from.AddDate(0, 1, 0)
	chain := anchorfake.New(ctChainID, ctContract)
	mp := &memProofs{windows: map[reading.Key]*anchor.Window{}, keys: map[string]ed25519.PublicKey{}}
	var series memLoader
	var devs []devices.Device
	var cs []anchor.Commitment
	byWindow := map[int64][][]byte{}
	for n := range n {
		d := devices.Device{ID: fmt.Sprintf("ct-%d", n), SiteID: "ct-site", KWp: 5, ACRatingW: 4600, GridRegion: "CN-East", Lat: 31.8, Lon: 117.2, Status: devices.StatusActive}
		devs = append(devs, d)
		seed := sha256.Sum256([]byte(d.ID))
		priv := ed25519.NewKeyFromSeed(seed[:])
		mp.keys[d.ID] = priv.Public().(ed25519.PublicKey)
		chain.AddDeviceKey(anchor.DeviceKeyRecord{DeviceID: d.ID, PublicKey: mp.keys[d.ID], RegisteredAtMS: from.Add(-time.Hour).UnixMilli()})
		s := anomaly.Series{Device: d}
		e := uint64(3_000_000 + n*1000)
		hours := int(to.Sub(from) / time.Hour)
		for h := range hours {
			tm := from.Add(time.Duration(h)*time.Hour + time.Minute)
			if hr := tm.Hour(); hr >= 8 && hr < 18 {
				e += uint64(1500 + 100*n)
			}
			smp := anomaly.Sample{T: tm, ACPowerW: 1500, EnergyWh: e, Seq: uint64(100 + h)}
			if edit != nil {
				edit(n, h, &smp)
			}
			s.Samples = append(s.Samples, smp)
			if !anchored(n, h, hours) {
				continue
			}
			r := reading.Reading{DeviceID: d.ID, SiteID: d.SiteID, Seq: smp.Seq, TimeMS: smp.T.UnixMilli(), Measurement: reading.Measurement{ACPowerW: 1500, EnergyWh: smp.EnergyWh, State: reading.StateMPPT}}
			if err := r.Sign(priv); err != nil {
				t.Fatal(err)
			}
			w, _ := r.Wire()
			day := dayStart(tm, cstz).UnixMilli()
			byWindow[day] = append(byWindow[day], w)
		}
		series = append(series, s)
	}
	for start, wires := range byWindow {
		w, err := anchor.NewWindow("p0", start, start+86_400_000, anchor.KindOnTime, 0, wires)
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, w.Commitment())
		for i := range w.Len() {
			r, _ := reading.Decode(w.Wire(i))
			mp.windows[r.Key()] = w
		}
	}
	if len(cs) > 0 {
		var err error
		if mp.batch, err = anchor.NewBatch(from.UnixMilli(), to.UnixMilli(), cs); err != nil {
			t.Fatal(err)
		}
		rec := mp.batch.Record()
		rec.TxHash, rec.BlockNumber = ctTx, 9
		chain.AddAnchor(rec)
	}
	return series, mp, chain, devs
}

// carbonWorld: two devices of one site, hourly readings over June 2024
// (CST), signed and anchored except each device's first 5 and last 3
// hours, on a fake chain; ct-1 has a resolved over-performance alert on
// 11 June 09:00–15:00.
func carbonWorld(t *testing.T) (reportInput, *anchorfake.Chain) {
	t.Helper()
	series, mp, chain, devs := signedMonth(t, 2, func(_, h, hours int) bool { return h >= 5 && h < hours-3 }, nil)
	from := time.Date(2024, 6, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))
	to := from.AddDate(0, 1, 0)
	alerts := []anomaly.Alert{{ID: "ct-1/over_performance/x", DeviceID: "ct-1", Type: anomaly.TypeOverPerformance, Severity: anomaly.SeverityWarning,
		State: anomaly.StateResolved, Span: anomaly.Span{From: from.AddDate(0, 0, 10).Add(9 * time.Hour), To: from.AddDate(0, 0, 10).Add(15 * time.Hour)}}}
	return reportInput{Kind: "site", ID: "ct-site", Period: carbon.Period{From: from, To: to}, Devices: devs, Loader: series,
		Alerts: alerts, Proofs: mp, Options: carbon.Options{Verifier: &carbon.AnchorVerifier{Chain: chain}, Now: to}}, chain
}

func TestCarbonReportVerifies(t *testing.T) {
	ctx := context.Background()
	in, chain := carbonWorld(t)
	r, daily, err := buildCarbonReport(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Devices) != 2 || len(daily) != 30 {
		t.Fatalf("%d devices, %d days", len(r.Devices), len(daily))
	}
	for _, d := range r.Devices {
		// Boundaries are the first and last anchored readings: hours 5 and 716.
		if d.Start.Seq != 105 || d.End.Seq != 100+720-4 {
			t.Errorf("%s: boundaries seq %d..%d, want 105..816", d.DeviceID, d.Start.Seq, d.End.Seq)
		}
	}
	if g := r.Devices[1]; g.ExcludedWh != 7*1600 || len(g.Excluded) != 1 {
		// 09:00–15:00 → from the 08:01 reading to the 15:01 one: 7 hours.
		t.Errorf("ct-1 excluded %d Wh in %d spans, want 11200 in 1", g.ExcludedWh, len(g.Excluded))
	}
	var sum uint64
	for _, d := range daily {
		sum += d.Wh
	}
	if sum != r.Totals.GrossWh {
		t.Errorf("chart sums to %d Wh, report gross %d", sum, r.Totals.GrossWh)
	}
	var js bytes.Buffer
	if err := r.Encode(&js); err != nil {
		t.Fatal(err)
	}
	var html bytes.Buffer
	if err := renderReportHTML(&html, r, daily); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<svg", "<rect", "ct-site", "tCO2e", "over_performance", r.Factor.FactorID} {
		if !strings.Contains(html.String(), want) {
			t.Errorf("HTML lacks %q", want)
		}
	}

	v := &carbon.AnchorVerifier{Chain: chain}
	decoded, err := carbon.DecodeReport(bytes.NewReader(js.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if !verifyReport(ctx, decoded, carbon.DefaultTable(), v, &out) || !strings.HasPrefix(out.String(), "OK site ct-site: 2 devices, 4 proofs") {
		t.Fatalf("genuine report: %s", out.String())
	}

	// Any altered number or proof fails, one line per failing check.
	edits := map[string]func(m map[string]any){
		"net":    func(m map[string]any) { dev(m, 0)["net_wh"] = dev(m, 0)["net_wh"].(float64) + 1 },
		"er":     func(m map[string]any) { m["totals"].(map[string]any)["er_tco2"] = 99.0 },
		"factor": func(m map[string]any) { m["factor"].(map[string]any)["factor"].(map[string]any)["tco2_per_mwh"] = 0.9 },
		"start energy": func(m map[string]any) {
			dev(m, 1)["start"].(map[string]any)["energy_wh"] = dev(m, 1)["start"].(map[string]any)["energy_wh"].(float64) - 1000
		},
		"proof": func(m map[string]any) {
			b := dev(m, 0)["end"].(map[string]any)["bundle"].(map[string]any)["batch"].(map[string]any)
			b["root"] = strings.Repeat("0", 64)
		},
	}
	for name, edit := range edits {
		t.Run(name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(js.Bytes(), &m); err != nil {
				t.Fatal(err)
			}
			edit(m)
			raw, _ := json.Marshal(m)
			bad, err := carbon.DecodeReport(bytes.NewReader(raw))
			if err != nil {
				return // refused at decoding: fails too
			}
			var out bytes.Buffer
			if verifyReport(ctx, bad, carbon.DefaultTable(), v, &out) {
				t.Fatalf("altered report verifies: %s", out.String())
			}
			if !strings.HasPrefix(out.String(), "FAIL ") {
				t.Errorf("output %q", out.String())
			}
			t.Logf("%s", strings.TrimSpace(out.String()))
		})
	}
}

func dev(m map[string]any, i int) map[string]any { return m["devices"].([]any)[i].(map[string]any) }

func TestCarbonReportNeedsAnchoredReadings(t *testing.T) {
	in, _ := carbonWorld(t)
	in.Proofs = &memProofs{windows: map[reading.Key]*anchor.Window{}}
	if _, _, err := buildCarbonReport(context.Background(), in); !errors.Is(err, errNoBoundary) {
		t.Fatalf("err = %v", err)
	}
}

// TestVerifyReportChainDown: a chain that cannot be read leaves the proofs
// unchecked: the report does not verify, and each line says NOT CHECKED
// rather than blaming the report.
func TestVerifyReportChainDown(t *testing.T) {
	ctx := context.Background()
	in, _ := carbonWorld(t)
	r, _, err := buildCarbonReport(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if verifyReport(ctx, r, carbon.DefaultTable(), &carbon.AnchorVerifier{Chain: downChain{}}, &out) {
		t.Fatal("verifies without a chain")
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	for _, l := range lines {
		if !strings.HasPrefix(l, "FAIL (NOT CHECKED) ") {
			t.Errorf("line %q", l)
		}
	}
	if len(lines) != 4 {
		t.Errorf("%d lines, want one per boundary (4):\n%s", len(lines), out.String())
	}
}
