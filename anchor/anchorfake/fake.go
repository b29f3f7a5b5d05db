// Package anchorfake is an in-memory anchor.ChainReader for tests and
// demos: a map of anchors by interval start and of device keys by device id,
// for one chain id and one contract. It is safe for concurrent use.
package anchorfake

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/sunproof/sunproof/anchor"
)

// Chain is a fake anchoring contract.
type Chain struct {
	id       uint64
	contract string

	mu      sync.Mutex
	anchors map[int64]anchor.AnchorRecord
	keys    map[string][]anchor.DeviceKeyRecord
}

// New returns an empty fake contract at address contract on chain id.
func New(id uint64, contract string) *Chain {
	return &Chain{
		id:       id,
		contract: strings.ToLower(contract),
		anchors:  make(map[int64]anchor.AnchorRecord),
		keys:     make(map[string][]anchor.DeviceKeyRecord),
	}
}

// AddAnchor records rec under its interval start, replacing any earlier one.
func (c *Chain) AddAnchor(rec anchor.AnchorRecord) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.anchors[rec.IntervalStartMS] = rec
}

// AddDeviceKey appends a key record for k.DeviceID.
func (c *Chain) AddDeviceKey(k anchor.DeviceKeyRecord) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.keys[k.DeviceID] = append(c.keys[k.DeviceID], k)
}

// ChainID returns the chain id given to New.
func (c *Chain) ChainID(context.Context) (uint64, error) { return c.id, nil }

func (c *Chain) checkContract(contract string) error {
	if strings.ToLower(contract) != c.contract {
		return fmt.Errorf("contract %s: %w", contract, anchor.ErrNotFound)
	}
	return nil
}

// Anchor implements anchor.ChainReader.
func (c *Chain) Anchor(ctx context.Context, contract string, intervalStartMS int64) (anchor.AnchorRecord, error) {
	if err := ctx.Err(); err != nil {
		return anchor.AnchorRecord{}, err
	}
	if err := c.checkContract(contract); err != nil {
		return anchor.AnchorRecord{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	rec, ok := c.anchors[intervalStartMS]
	if !ok {
		return anchor.AnchorRecord{}, fmt.Errorf("anchor for interval %d: %w", intervalStartMS, anchor.ErrNotFound)
	}
	return rec, nil
}

// DeviceKeys implements anchor.ChainReader.
func (c *Chain) DeviceKeys(ctx context.Context, contract, deviceID string) ([]anchor.DeviceKeyRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := c.checkContract(contract); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ks, ok := c.keys[deviceID]
	if !ok {
		return nil, fmt.Errorf("device %s: %w", deviceID, anchor.ErrNotFound)
	}
	return append([]anchor.DeviceKeyRecord(nil), ks...), nil
}
