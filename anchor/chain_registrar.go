package anchor

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/sunproof/sunproof/contracts/sunproofanchor"
	"github.com/sunproof/sunproof/ingest/reading"
)

// Registrar registers, rotates and revokes device keys in the anchoring
// contract, idempotently: asking for a state the chain already has returns
// the transaction that made it (TxRef.Existing) without sending anything.
// It is safe for concurrent use, but calls for one device should not race.
type Registrar struct {
	tx       *txSender
	contract common.Address
	chainID  uint64
	logger   *slog.Logger
	closer   func()
}

// NewRegistrar loads the key from cfg's keystore, dials cfg.RPCURL and
// returns NewRegistrarWith's registrar. Close it when done. If the same key
// also submits anchors in this process, use Submitter.Registrar instead so
// that both share one nonce manager.
func NewRegistrar(ctx context.Context, cfg SubmitterConfig, logger *slog.Logger) (*Registrar, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	key, err := LoadKey(cfg.KeystoreFile, cfg.PasswordFile)
	if err != nil {
		return nil, fmt.Errorf("registrar: %w", err)
	}
	client, err := ethclient.DialContext(ctx, cfg.RPCURL)
	if err != nil {
		return nil, fmt.Errorf("registrar: dial %s: %w", cfg.RPCURL, err)
	}
	r, err := NewRegistrarWith(ctx, cfg, client, key, logger)
	if err != nil {
		client.Close()
		return nil, err
	}
	r.closer = client.Close
	return r, nil
}

// NewRegistrarWith returns a registrar over client signing with key, which
// must hold the registrar role. cfg's endpoint and key paths are ignored.
func NewRegistrarWith(ctx context.Context, cfg SubmitterConfig, client Backend, key *ecdsa.PrivateKey, logger *slog.Logger) (*Registrar, error) {
	if err := cfg.validateTx(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	from := crypto.PubkeyToAddress(key.PublicKey)
	logger = logger.With("component", "anchor-registrar", "contract", cfg.Contract.Hex(), "address", from.Hex())
	chainID, err := checkChain(ctx, client, cfg.ChainID, cfg.Contract, cfg.RPCTimeout)
	if err != nil {
		return nil, fmt.Errorf("registrar: %w", err)
	}
	cctx, cancel := context.WithTimeout(ctx, cfg.RPCTimeout)
	defer cancel()
	sa := chainContract()
	ok, err := callContract(cctx, client, cfg.Contract, nil, sa.PackIsRegistrar(from), sa.UnpackIsRegistrar)
	if err != nil {
		return nil, fmt.Errorf("registrar: %w", err)
	}
	if !ok {
		return nil, fmt.Errorf("registrar: %s does not hold the registrar role in %s", from.Hex(), cfg.Contract.Hex())
	}
	nonces, err := NewNonceManager(cctx, client, from, chainID, cfg.NonceFile, logger)
	if err != nil {
		return nil, fmt.Errorf("registrar: %w", err)
	}
	return &Registrar{
		tx:       newTxSender(client, key, chainID, nonces, cfg.txOptions(), logger),
		contract: cfg.Contract,
		chainID:  chainID,
		logger:   logger,
	}, nil
}

// Close closes the connection NewRegistrar opened.
func (r *Registrar) Close() {
	if r.closer != nil {
		r.closer()
	}
}

func devicePubKey(deviceID string, pub ed25519.PublicKey) ([32]byte, error) {
	var k [32]byte
	if err := reading.CheckID("device_id", deviceID); err != nil {
		return k, err
	}
	if len(pub) != ed25519.PublicKeySize {
		return k, fmt.Errorf("device %s: public key has %d bytes, want %d", deviceID, len(pub), ed25519.PublicKeySize)
	}
	copy(k[:], pub)
	if k == [32]byte{} {
		return k, fmt.Errorf("device %s: zero public key", deviceID)
	}
	return k, nil
}

// history reads deviceID's key history at the head.
func (r *Registrar) history(ctx context.Context, deviceID string) ([]DeviceKeyEntry, error) {
	cctx, cancel := r.tx.rpcCtx(ctx)
	defer cancel()
	return readKeyHistory(cctx, r.tx.client, r.contract, deviceID, nil)
}

// eventRef finds the event of kind (DeviceRegistered or DeviceRevoked) for
// deviceID's key pub in block, and waits for the block's confirmations.
// done is false if the block was reorged out.
func (r *Registrar) eventRef(ctx context.Context, deviceID string, revoked bool, pub [32]byte, block uint64) (TxRef, bool, error) {
	sa := chainContract()
	name := sunproofanchor.SunproofAnchorDeviceRegisteredEventName
	if revoked {
		name = sunproofanchor.SunproofAnchorDeviceRevokedEventName
	}
	cctx, cancel := r.tx.rpcCtx(ctx)
	logs, err := filterLogs(cctx, r.tx.client, r.contract, chainABI().Events[name].ID, sunproofanchor.DeviceIDHash(deviceID), block)
	cancel()
	if err != nil {
		return TxRef{}, false, fmt.Errorf("device %s: %w", deviceID, err)
	}
	ref := TxRef{BlockNumber: block, ChainID: r.chainID, Contract: r.contract, Existing: true}
	for i := range logs {
		var key [32]byte
		if revoked {
			ev, err := sa.UnpackDeviceRevokedEvent(&logs[i])
			if err != nil {
				continue
			}
			key = ev.PublicKey
		} else {
			ev, err := sa.UnpackDeviceRegisteredEvent(&logs[i])
			if err != nil {
				continue
			}
			key = ev.PublicKey
		}
		if key == pub {
			ref.TxHash, ref.BlockHash = logs[i].TxHash, logs[i].BlockHash
			break
		}
	}
	if ref.BlockHash == (common.Hash{}) {
		r.logger.Warn("no event for the device key in its block", "device_id", deviceID, "block", block)
		return ref, true, nil
	}
	canonical, err := r.tx.confirmBlock(ctx, block, ref.BlockHash)
	if err != nil {
		return TxRef{}, false, fmt.Errorf("device %s: %w", deviceID, err)
	}
	return ref, canonical, nil
}

// check reports whether the chain already has what a call asks for.
type deviceCheck func(ctx context.Context) (TxRef, bool, error)

// transact sends data unless check says the chain already has its effect,
// and checks again when the call reverts (another process may have made
// the same change meanwhile).
func (r *Registrar) transact(ctx context.Context, what string, data []byte, check deviceCheck) (TxRef, error) {
	for attempt := 1; ; attempt++ {
		ref, done, err := check(ctx)
		if err != nil || done {
			return ref, err
		}
		gas, err := r.tx.estimateGas(ctx, &r.contract, data)
		if err != nil {
			var rev *RevertError
			if errors.As(err, &rev) {
				if ref, done, cerr := check(ctx); cerr != nil || done {
					return ref, cerr
				}
			}
			return TxRef{}, fmt.Errorf("%s: estimate gas: %w", what, err)
		}
		p, err := r.tx.send(ctx, &r.contract, data, gas)
		if err != nil {
			return TxRef{}, fmt.Errorf("%s: %w", what, err)
		}
		rc, err := r.tx.wait(ctx, p)
		if errors.Is(err, ErrTxDropped) && attempt < 2 {
			r.logger.Warn("transaction dropped, checking and sending again", "what", what, "err", err)
			continue
		}
		if err != nil {
			return TxRef{}, fmt.Errorf("%s: %w", what, err)
		}
		if rc.Status != types.ReceiptStatusSuccessful {
			if ref, done, cerr := check(ctx); cerr != nil || done {
				return ref, cerr
			}
			return TxRef{}, fmt.Errorf("%s: %w", what, r.tx.replay(ctx, p, rc))
		}
		r.logger.Info(what, "tx_hash", rc.TxHash.Hex(), "block", rc.BlockNumber)
		return TxRef{
			TxHash: rc.TxHash, BlockNumber: rc.BlockNumber.Uint64(), BlockHash: rc.BlockHash,
			ChainID: r.chainID, Contract: r.contract, GasUsed: rc.GasUsed,
		}, nil
	}
}

// RegisterDevice registers pub as deviceID's key. If it already is the
// device's valid key, it returns the registering transaction (Existing).
// If the device has another valid key it fails with
// ErrConflictingDeviceKey; a key used before (by any device) reverts with
// KeyAlreadyUsed.
func (r *Registrar) RegisterDevice(ctx context.Context, deviceID string, pub ed25519.PublicKey) (TxRef, error) {
	key, err := devicePubKey(deviceID, pub)
	if err != nil {
		return TxRef{}, err
	}
	what := "register device " + deviceID
	data := chainContract().PackRegisterDevice(sunproofanchor.DeviceIDHash(deviceID), key)
	return r.transact(ctx, what, data, func(ctx context.Context) (TxRef, bool, error) {
		hist, err := r.history(ctx, deviceID)
		if err != nil {
			return TxRef{}, false, fmt.Errorf("%s: %w", what, err)
		}
		if n := len(hist); n > 0 && !hist[n-1].Ended() {
			last := &hist[n-1]
			if !bytes.Equal(last.PublicKey, key[:]) {
				return TxRef{}, true, fmt.Errorf("%s: valid key %x registered at block %d: %w", what, []byte(last.PublicKey), last.RegisteredBlock, ErrConflictingDeviceKey)
			}
			return r.eventRef(ctx, deviceID, false, key, last.RegisteredBlock)
		}
		return TxRef{}, false, nil
	})
}

// RotateDeviceKey replaces deviceID's valid key by pub (the old key stays
// good for what it signed before). If pub already is the valid key, it
// returns the transaction that made it so (Existing).
func (r *Registrar) RotateDeviceKey(ctx context.Context, deviceID string, pub ed25519.PublicKey) (TxRef, error) {
	key, err := devicePubKey(deviceID, pub)
	if err != nil {
		return TxRef{}, err
	}
	what := "rotate key of device " + deviceID
	data := chainContract().PackRotateDeviceKey(sunproofanchor.DeviceIDHash(deviceID), key)
	return r.transact(ctx, what, data, func(ctx context.Context) (TxRef, bool, error) {
		hist, err := r.history(ctx, deviceID)
		if err != nil {
			return TxRef{}, false, fmt.Errorf("%s: %w", what, err)
		}
		if n := len(hist); n > 0 && !hist[n-1].Ended() && bytes.Equal(hist[n-1].PublicKey, key[:]) {
			return r.eventRef(ctx, deviceID, false, key, hist[n-1].RegisteredBlock)
		}
		return TxRef{}, false, nil
	})
}

// RevokeDevice ends the validity of deviceID's key (compromised or
// decommissioned: verifiers accept its readings only from windows anchored
// before). If the device's last key is already revoked it returns the
// revoking transaction (Existing); an unknown device wraps ErrNotFound.
func (r *Registrar) RevokeDevice(ctx context.Context, deviceID string) (TxRef, error) {
	if err := reading.CheckID("device_id", deviceID); err != nil {
		return TxRef{}, err
	}
	what := "revoke device " + deviceID
	data := chainContract().PackRevokeDevice(sunproofanchor.DeviceIDHash(deviceID))
	return r.transact(ctx, what, data, func(ctx context.Context) (TxRef, bool, error) {
		hist, err := r.history(ctx, deviceID)
		if err != nil {
			return TxRef{}, false, fmt.Errorf("%s: %w", what, err)
		}
		n := len(hist)
		if n == 0 {
			return TxRef{}, true, fmt.Errorf("%s: %w", what, ErrNotFound)
		}
		if last := &hist[n-1]; last.Ended() {
			var key [32]byte
			copy(key[:], last.PublicKey)
			return r.eventRef(ctx, deviceID, true, key, last.RevokedBlock)
		}
		return TxRef{}, false, nil
	})
}
