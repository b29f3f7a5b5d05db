package carbon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sunproof/sunproof/anchor"
	"github.com/sunproof/sunproof/ingest/reading"
)

// AnchorVerifier is the BundleVerifier over package anchor: it decodes a
// boundary's proof bundle (docs/formats/proof.md), verifies it completely
// with anchor.Verify against the chain (device key registered on chain and
// valid at the reading's time, signature, window and batch inclusion, batch
// root anchored) and returns the reading the bundle's wire bytes hold.
type AnchorVerifier struct {
	Chain anchor.ChainReader
}

var _ BundleVerifier = (*AnchorVerifier)(nil)

// ErrNotAnchored: a bundle verified offline but the chain does not confirm
// its anchor (anchor.Result.Anchored false).
var ErrNotAnchored = errors.New("proof bundle is not anchored")

// Verify implements BundleVerifier.
func (v *AnchorVerifier) Verify(ctx context.Context, raw json.RawMessage) (reading.Reading, error) {
	if v == nil || v.Chain == nil {
		return reading.Reading{}, errors.New("anchor verifier: no chain reader")
	}
	var b anchor.Bundle
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return reading.Reading{}, fmt.Errorf("decode proof bundle: %w", err)
	}
	if dec.More() {
		return reading.Reading{}, errors.New("decode proof bundle: trailing data")
	}
	res, err := anchor.Verify(ctx, &b, v.Chain)
	if err != nil {
		return reading.Reading{}, err
	}
	if !res.Anchored {
		return reading.Reading{}, ErrNotAnchored
	}
	r, err := reading.Decode(b.Reading.Wire)
	if err != nil {
		return reading.Reading{}, fmt.Errorf("proof bundle reading: %w", err)
	}
	if r.DeviceID != res.DeviceID || r.Seq != res.Seq || r.TimeMS != res.TimeMS {
		return reading.Reading{}, fmt.Errorf("proof bundle reading %s/%d at %d, verified %s/%d at %d", r.DeviceID, r.Seq, r.TimeMS, res.DeviceID, res.Seq, res.TimeMS)
	}
	return r, nil
}

// DialAnchorVerifier connects to a chain's JSON-RPC endpoint (seconds as
// block time unit: geth, Besu) and returns a verifier and its closer.
func DialAnchorVerifier(ctx context.Context, rpcURL string) (*AnchorVerifier, func(), error) {
	cfg := anchor.DefaultEthReaderConfig()
	cfg.RPCURL = rpcURL
	r, err := anchor.DialEthReader(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	return &AnchorVerifier{Chain: r}, r.Close, nil
}
