package carbon_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sunproof/sunproof/anchor"
	"github.com/sunproof/sunproof/anchor/anchorfake"
	"github.com/sunproof/sunproof/anomaly"
	"github.com/sunproof/sunproof/carbon"
	"github.com/sunproof/sunproof/ingest/reading"
)

const (
	avChainID  = 1337
	avContract = "0x5fbdb2315678afecb367f032d93f642f64180aa3"
)

// anchoredMonth signs June's hourly readings of one device, commits each
// day to a window, all days to one batch, and anchors it on a fake chain.
type anchoredMonth struct {
	samples []anomaly.Sample
	windows []*anchor.Window
	batch   *anchor.Batch
	chain   *anchorfake.Chain
	pub     ed25519.PublicKey
}

func newAnchoredMonth(t *testing.T, id string) *anchoredMonth {
	t.Helper()
	seed := sha256.Sum256([]byte("carbon anchor verifier " + id))
	priv := ed25519.NewKeyFromSeed(seed[:])
	m := &anchoredMonth{samples: monthOf(5_000_000), pub: priv.Public().(ed25519.PublicKey)}
	byDay := map[int][][]byte{}
	for _, s := range m.samples {
		r := reading.Reading{DeviceID: id, SiteID: "site-1", Seq: s.Seq, TimeMS: s.T.UnixMilli(),
			Measurement: reading.Measurement{ACPowerW: s.ACPowerW, EnergyWh: s.EnergyWh, State: reading.StateMPPT}}
		if err := r.Sign(priv); err != nil {
			t.Fatal(err)
		}
		w, err := r.Wire()
		if err != nil {
			t.Fatal(err)
		}
		d := int(s.T.Sub(june.From) / (24 * time.Hour))
		byDay[d] = append(byDay[d], w)
	}
	var cs []anchor.Commitment
	for d := 0; d < 30; d++ {
		from := june.From.Add(time.Duration(d) * 24 * time.Hour)
		w, err := anchor.NewWindow("p0", from.UnixMilli(), from.Add(24*time.Hour).UnixMilli(), anchor.KindOnTime, 0, byDay[d])
		if err != nil {
			t.Fatal(err)
		}
		m.windows = append(m.windows, w)
		cs = append(cs, w.Commitment())
	}
	var err error
	if m.batch, err = anchor.NewBatch(june.From.UnixMilli(), june.To.UnixMilli(), cs); err != nil {
		t.Fatal(err)
	}
	m.chain = anchorfake.New(avChainID, avContract)
	rec := m.batch.Record()
	rec.TxHash, rec.BlockNumber = "0x"+strings.Repeat("ab", 32), 7
	m.chain.AddAnchor(rec)
	m.chain.AddDeviceKey(anchor.DeviceKeyRecord{DeviceID: id, PublicKey: m.pub, RegisteredAtMS: june.From.Add(-time.Hour).UnixMilli()})
	return m
}

// boundary returns the boundary for sample i with its real bundle.
func (m *anchoredMonth) boundary(t *testing.T, id string, i int) carbon.Boundary {
	t.Helper()
	s := m.samples[i]
	w := m.windows[int(s.T.Sub(june.From)/(24*time.Hour))]
	leaf, ok := w.Find(reading.Key{DeviceID: id, Seq: s.Seq})
	if !ok {
		t.Fatalf("%s/%d not in %s", id, s.Seq, w.ID())
	}
	b, err := anchor.NewBundle(w, leaf, m.batch, m.pub)
	if err != nil {
		t.Fatal(err)
	}
	b.Anchor.ChainID, b.Anchor.Contract, b.Anchor.TxHash, b.Anchor.BlockNumber = avChainID, avContract, "0x"+strings.Repeat("ab", 32), 7
	raw, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return carbon.Boundary{Seq: s.Seq, TimeMS: s.T.UnixMilli(), EnergyWh: s.EnergyWh, Bundle: raw}
}

func TestAnchorVerifierBuildAndRecompute(t *testing.T) {
	ctx := context.Background()
	m := newAnchoredMonth(t, "inv-a")
	v := &carbon.AnchorVerifier{Chain: m.chain}
	in := carbon.DeviceInput{Device: device("inv-a"), Start: m.boundary(t, "inv-a", 0), End: m.boundary(t, "inv-a", len(m.samples)-1), Readings: m.samples}
	r, err := carbon.Build(ctx, "device", "inv-a", june, []carbon.DeviceInput{in}, carbon.Options{Verifier: v, Now: june.To})
	if err != nil {
		t.Fatal(err)
	}
	if want := m.samples[len(m.samples)-1].EnergyWh - m.samples[0].EnergyWh; r.Totals.NetWh != want || want == 0 {
		t.Fatalf("net %d Wh", r.Totals.NetWh)
	}
	ver, err := carbon.Recompute(ctx, r, carbon.RecomputeOptions{Table: carbon.DefaultTable(), Verifier: v})
	if err != nil || ver.ProofsChecked != 2 {
		t.Fatalf("recompute: %+v, %v", ver, err)
	}

	// Any altered proof fails.
	tamper := []struct {
		name string
		edit func(b *anchor.Bundle)
	}{
		{"batch root", func(b *anchor.Bundle) { b.Batch.Root[0] ^= 1 }},
		{"wire", func(b *anchor.Bundle) { b.Reading.Wire[len(b.Reading.Wire)-70] ^= 1 }},
		{"window path", func(b *anchor.Bundle) { b.Window.Path[0][0] ^= 1 }},
		{"interval", func(b *anchor.Bundle) { b.Anchor.IntervalStartMS += 1000 }},
	}
	for _, c := range tamper {
		t.Run(c.name, func(t *testing.T) {
			var b anchor.Bundle
			if err := json.Unmarshal(in.End.Bundle, &b); err != nil {
				t.Fatal(err)
			}
			c.edit(&b)
			raw, _ := json.Marshal(&b)
			if _, err := v.Verify(ctx, raw); err == nil {
				t.Fatal("tampered bundle verifies")
			}
			bad := *r
			bad.Devices = append([]carbon.DeviceGen(nil), r.Devices...)
			bad.Devices[0].End.Bundle = raw
			if _, err := carbon.Recompute(ctx, &bad, carbon.RecomputeOptions{Table: carbon.DefaultTable(), Verifier: v}); err == nil || !strings.Contains(err.Error(), "proof") {
				t.Fatalf("recompute of a report with a tampered proof: %v", err)
			}
		})
	}
	// A bundle of another reading than the boundary claims fails.
	bad := *r
	bad.Devices = append([]carbon.DeviceGen(nil), r.Devices...)
	bad.Devices[0].End.Bundle = m.boundary(t, "inv-a", len(m.samples)-2).Bundle
	if _, err := carbon.Recompute(ctx, &bad, carbon.RecomputeOptions{Table: carbon.DefaultTable(), Verifier: v}); err == nil {
		t.Fatal("a proof of another reading verifies the boundary")
	}
	// Unknown key on chain, garbage, no chain.
	other := anchorfake.New(avChainID, avContract)
	other.AddAnchor(m.batch.Record())
	if _, err := (&carbon.AnchorVerifier{Chain: other}).Verify(ctx, in.End.Bundle); anchor.StepOf(err) != anchor.StepDeviceKey {
		t.Errorf("unregistered key: %v", err)
	}
	if _, err := v.Verify(ctx, json.RawMessage(`{"format":1,"x":2}`)); err == nil {
		t.Error("garbage verifies")
	}
	if _, err := (&carbon.AnchorVerifier{}).Verify(ctx, in.End.Bundle); err == nil {
		t.Error("no chain verifies")
	}
}

// downChain is a chain whose node does not answer.
type downChain struct{}

var errDown = errors.New("dial tcp 127.0.0.1:8545: connect: connection refused")

func (downChain) Anchor(context.Context, string, int64) (anchor.AnchorRecord, error) {
	return anchor.AnchorRecord{}, errDown
}

func (downChain) DeviceKeys(context.Context, string, string) ([]anchor.DeviceKeyRecord, error) {
	return nil, errDown
}

// TestRecomputeProofErrors: a rejected proof is a discrepancy (ErrMismatch,
// ErrProof, the verifier's step kept); a proof that could not be checked
// because the chain is down is not (ErrChainUnavailable only); a pinned
// contract rejects bundles of another contract.
func TestRecomputeProofErrors(t *testing.T) {
	ctx := context.Background()
	m := newAnchoredMonth(t, "inv-a")
	v := &carbon.AnchorVerifier{Chain: m.chain}
	in := carbon.DeviceInput{Device: device("inv-a"), Start: m.boundary(t, "inv-a", 0), End: m.boundary(t, "inv-a", len(m.samples)-1), Readings: m.samples}
	r, err := carbon.Build(ctx, "device", "inv-a", june, []carbon.DeviceInput{in}, carbon.Options{Verifier: v, Now: june.To})
	if err != nil {
		t.Fatal(err)
	}
	opt := carbon.RecomputeOptions{Table: carbon.DefaultTable(), Verifier: v}

	var b anchor.Bundle
	if err := json.Unmarshal(in.End.Bundle, &b); err != nil {
		t.Fatal(err)
	}
	b.Batch.Root[0] ^= 1
	bad := *r
	bad.Devices = slices.Clone(r.Devices)
	bad.Devices[0].End.Bundle, _ = json.Marshal(&b)
	_, err = carbon.Recompute(ctx, &bad, opt)
	if !errors.Is(err, carbon.ErrMismatch) || !errors.Is(err, carbon.ErrProof) || errors.Is(err, carbon.ErrChainUnavailable) {
		t.Errorf("tampered proof: %v; want ErrMismatch and ErrProof", err)
	}
	if got, want := anchor.StepOf(err), anchor.StepBatchRoot; got != want {
		t.Errorf("step %q, want %q", got, want)
	}

	// Another reading's proof for the boundary: a mismatch (ErrBoundary).
	bad.Devices[0].End.Bundle = m.boundary(t, "inv-a", len(m.samples)-2).Bundle
	if _, err := carbon.Recompute(ctx, &bad, opt); !errors.Is(err, carbon.ErrMismatch) || !errors.Is(err, carbon.ErrBoundary) {
		t.Errorf("proof of another reading: %v; want ErrMismatch and ErrBoundary", err)
	}

	down := carbon.RecomputeOptions{Table: carbon.DefaultTable(), Verifier: &carbon.AnchorVerifier{Chain: downChain{}}}
	ver, err := carbon.Recompute(ctx, r, down)
	if !errors.Is(err, carbon.ErrChainUnavailable) || errors.Is(err, carbon.ErrMismatch) || errors.Is(err, carbon.ErrProof) || !errors.Is(err, errDown) {
		t.Errorf("chain down: %v; want ErrChainUnavailable only", err)
	}
	if ver.ProofsChecked != 0 {
		t.Errorf("chain down: %d proofs checked", ver.ProofsChecked)
	}
	if _, err := carbon.DeviceGeneration(ctx, in, june, carbon.Options{Verifier: &carbon.AnchorVerifier{Chain: downChain{}}}); !errors.Is(err, carbon.ErrChainUnavailable) || errors.Is(err, carbon.ErrProof) {
		t.Errorf("DeviceGeneration, chain down: %v", err)
	}

	pinned := &carbon.AnchorVerifier{Chain: m.chain, Contract: strings.ToUpper(avContract[2:])}
	pinned.Contract = "0x" + pinned.Contract // case does not matter
	if _, err := pinned.Verify(ctx, in.End.Bundle); err != nil {
		t.Errorf("pinned to the bundle's contract: %v", err)
	}
	other := &carbon.AnchorVerifier{Chain: m.chain, Contract: "0x00000000000000000000000000000000deadbeef"}
	_, err = carbon.Recompute(ctx, r, carbon.RecomputeOptions{Verifier: other})
	if !errors.Is(err, carbon.ErrProof) || anchor.StepOf(err) != anchor.StepDeviceKey {
		t.Errorf("pinned to another contract: %v (step %q), want ErrProof at device_key", err, anchor.StepOf(err))
	}
}

// TestDeviceGenerationIsBuild: DeviceGeneration gives the figures of the
// report's device entry, with the default exclusion policy.
func TestDeviceGenerationIsBuild(t *testing.T) {
	r := buildDevice(t)
	rs := monthOf(5_000_000)
	in := carbon.DeviceInput{
		Device: device("inv-1"), Start: boundary("inv-1", rs[0]), End: boundary("inv-1", rs[len(rs)-1]), Readings: rs,
		Alerts: []anomaly.Alert{
			alert("inv-1", anomaly.TypeOverPerformance, anomaly.SeverityWarning, day(10, 6), day(11, 19)),
			alert("inv-1", anomaly.TypeEnergyMismatch, anomaly.SeverityWarning, day(11, 8), day(12, 12)),
			alert("inv-1", anomaly.TypeCommGap, anomaly.SeverityCritical, day(20, 9), day(20, 15)),
			alert("inv-1", anomaly.TypeOverCapacity, anomaly.SeverityInfo, day(25, 9), day(25, 15)),
			alert("inv-1", anomaly.TypeOverCapacity, anomaly.SeverityCritical, day(28, 10), day(28, 12)),
		},
	}
	g, err := carbon.DeviceGeneration(context.Background(), in, june, carbon.Options{Verifier: fakeVerifier{}})
	if err != nil {
		t.Fatal(err)
	}
	want := r.Devices[0]
	if g.GrossWh != want.GrossWh || g.ExcludedWh != want.ExcludedWh || g.NetWh != want.NetWh || len(g.Excluded) != len(want.Excluded) {
		t.Errorf("DeviceGeneration %d/%d/%d Wh in %d spans, Build %d/%d/%d in %d", g.GrossWh, g.ExcludedWh, g.NetWh, len(g.Excluded),
			want.GrossWh, want.ExcludedWh, want.NetWh, len(want.Excluded))
	}
	forged := in
	forged.End.Bundle = json.RawMessage(strings.Replace(string(in.End.Bundle), "valid", "forged", 1))
	if _, err := carbon.DeviceGeneration(context.Background(), forged, june, carbon.Options{Verifier: fakeVerifier{}}); !errors.Is(err, carbon.ErrProof) {
		t.Errorf("forged bundle: %v, want ErrProof", err)
	}
}
