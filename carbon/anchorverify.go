package carbon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/sunproof/sunproof/anchor"
	"github.com/sunproof/sunproof/ingest/reading"
)

// AnchorVerifier is the BundleVerifier over package anchor: it decodes a
// boundary's proof bundle (docs/formats/proof.md), verifies it completely
// with anchor.Verify against the chain (device key registered on chain and
// valid at the reading's time, signature, window and batch inclusion, batch
// root anchored) and returns the reading the bundle's wire bytes hold.
//
// Chain errors other than "not found" (anchor.ErrNotFound) are transport
// failures: Verify returns them wrapping ErrChainUnavailable (inside the
// *anchor.StepError of the step that read the chain), so that callers can
// tell "this proof is bad" from "the proof could not be checked".
type AnchorVerifier struct {
	Chain anchor.ChainReader
	// Contract, if set, is the only anchoring contract trusted: a bundle
	// naming another one fails at step device_key (as `sunproof verify
	// --contract`). Empty trusts the bundle's own contract address.
	Contract string
}

var _ BundleVerifier = (*AnchorVerifier)(nil)

// ErrNotAnchored: a bundle verified offline but the chain does not confirm
// its anchor (anchor.Result.Anchored false).
var ErrNotAnchored = errors.New("proof bundle is not anchored")

// ErrChainUnavailable: the chain could not be read (a transport failure,
// not an answer), so a proof was neither accepted nor rejected.
var ErrChainUnavailable = errors.New("chain unavailable: proof not checked")

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
	res, err := anchor.Verify(ctx, &b, v.chain())
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

// chain returns v.Chain with transport errors marked and the contract
// pinned; it keeps ChainID (anchor.Verify checks the bundle's chain id
// with it) if v.Chain has it.
func (v *AnchorVerifier) chain() anchor.ChainReader {
	c := classifyingChain{c: v.Chain, contract: strings.ToLower(v.Contract)}
	if id, ok := v.Chain.(chainIdentifier); ok {
		return classifyingChainID{c, id}
	}
	return c
}

type chainIdentifier interface {
	ChainID(ctx context.Context) (uint64, error)
}

type classifyingChain struct {
	c        anchor.ChainReader
	contract string // lowercase; "" trusts any
}

func (c classifyingChain) check(contract string) error {
	if c.contract != "" && strings.ToLower(contract) != c.contract {
		return fmt.Errorf("the bundle names contract %s, the trusted contract is %s: %w", contract, c.contract, anchor.ErrNotFound)
	}
	return nil
}

func transport(err error) error {
	if err == nil || errors.Is(err, anchor.ErrNotFound) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrChainUnavailable, err)
}

func (c classifyingChain) Anchor(ctx context.Context, contract string, startMS int64) (anchor.AnchorRecord, error) {
	if err := c.check(contract); err != nil {
		return anchor.AnchorRecord{}, err
	}
	rec, err := c.c.Anchor(ctx, contract, startMS)
	return rec, transport(err)
}

func (c classifyingChain) DeviceKeys(ctx context.Context, contract, deviceID string) ([]anchor.DeviceKeyRecord, error) {
	if err := c.check(contract); err != nil {
		return nil, err
	}
	ks, err := c.c.DeviceKeys(ctx, contract, deviceID)
	return ks, transport(err)
}

type classifyingChainID struct {
	classifyingChain
	id chainIdentifier
}

func (c classifyingChainID) ChainID(ctx context.Context) (uint64, error) {
	n, err := c.id.ChainID(ctx)
	return n, transport(err)
}

// DialAnchorVerifier connects to a chain's JSON-RPC endpoint (seconds as
// block time unit: geth, Besu) and returns a verifier and its closer. Set
// the verifier's Contract to pin the anchoring contract.
func DialAnchorVerifier(ctx context.Context, rpcURL string) (*AnchorVerifier, func(), error) {
	cfg := anchor.DefaultEthReaderConfig()
	cfg.RPCURL = rpcURL
	r, err := anchor.DialEthReader(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	return &AnchorVerifier{Chain: r}, r.Close, nil
}
