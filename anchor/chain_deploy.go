package anchor

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/sunproof/sunproof/contracts/sunproofanchor"
)

// DeployConfig is the initial role assignment of a new SunproofAnchor
// contract (see contracts/doc.go).
type DeployConfig struct {
	Admins     []common.Address
	Threshold  uint32 // admin approvals a role change needs, 1..len(Admins)
	Submitters []common.Address
	Registrars []common.Address
}

// Deployment records where a contract was deployed; WriteDeployment stores
// it as JSON for scripts and configuration.
type Deployment struct {
	ChainID     uint64           `json:"chain_id"`
	Contract    common.Address   `json:"contract"`
	BlockNumber uint64           `json:"block_number"`
	BlockHash   common.Hash      `json:"block_hash"`
	TxHash      common.Hash      `json:"tx_hash"`
	GasUsed     uint64           `json:"gas_used"`
	Deployer    common.Address   `json:"deployer"`
	Admins      []common.Address `json:"admins"`
	Threshold   uint32           `json:"threshold"`
	Submitters  []common.Address `json:"submitters"`
	Registrars  []common.Address `json:"registrars"`
	DeployedAt  time.Time        `json:"deployed_at"`
}

// Deploy deploys a SunproofAnchor contract with cfg's roles, signed by key,
// and waits for one confirmation. It uses EIP-1559 fees if the chain has a
// base fee and a gas price otherwise, and takes nonces from the node (a
// fresh in-memory nonce manager), so do not deploy while a Submitter of the
// same key is sending. logger may be nil.
func Deploy(ctx context.Context, client Backend, key *ecdsa.PrivateKey, cfg DeployConfig, logger *slog.Logger) (Deployment, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Threshold == 0 || int(cfg.Threshold) > len(cfg.Admins) {
		return Deployment{}, fmt.Errorf("deploy: threshold %d with %d admins", cfg.Threshold, len(cfg.Admins))
	}
	opt := txOptions{
		gasMode:        gasModeAuto,
		confirmations:  1,
		poll:           200 * time.Millisecond,
		receiptTimeout: 2 * time.Minute,
		rpcTimeout:     10 * time.Second,
	}
	cctx, cancel := context.WithTimeout(ctx, opt.rpcTimeout)
	id, err := client.ChainID(cctx)
	cancel()
	if err != nil {
		return Deployment{}, fmt.Errorf("deploy: eth_chainId: %w", err)
	}
	from := crypto.PubkeyToAddress(key.PublicKey)
	nonces, err := NewNonceManager(ctx, client, from, id.Uint64(), "", logger)
	if err != nil {
		return Deployment{}, fmt.Errorf("deploy: %w", err)
	}
	tx := newTxSender(client, key, id.Uint64(), nonces, opt, logger)
	sa := chainContract()
	data := append(common.FromHex(sunproofanchor.SunproofAnchorMetaData.Bin),
		sa.PackConstructor(cfg.Admins, cfg.Threshold, cfg.Submitters, cfg.Registrars)...)
	gas, err := tx.estimateGas(ctx, nil, data)
	if err != nil {
		return Deployment{}, fmt.Errorf("deploy: estimate gas: %w", err)
	}
	p, err := tx.send(ctx, nil, data, gas)
	if err != nil {
		return Deployment{}, fmt.Errorf("deploy: %w", err)
	}
	r, err := tx.wait(ctx, p)
	if err != nil {
		return Deployment{}, fmt.Errorf("deploy: %w", err)
	}
	if r.Status != types.ReceiptStatusSuccessful {
		return Deployment{}, fmt.Errorf("deploy: %w", tx.replay(ctx, p, r))
	}
	d := Deployment{
		ChainID:     id.Uint64(),
		Contract:    r.ContractAddress,
		BlockNumber: r.BlockNumber.Uint64(),
		BlockHash:   r.BlockHash,
		TxHash:      r.TxHash,
		GasUsed:     r.GasUsed,
		Deployer:    from,
		Admins:      cfg.Admins,
		Threshold:   cfg.Threshold,
		Submitters:  cfg.Submitters,
		Registrars:  cfg.Registrars,
		DeployedAt:  time.Now().UTC().Truncate(time.Second),
	}
	logger.Info("contract deployed", "contract", d.Contract.Hex(), "tx_hash", d.TxHash.Hex(), "block", d.BlockNumber, "gas_used", d.GasUsed)
	return d, nil
}

// DeployDev deploys a contract for a dev or test chain in which key's
// address is the only admin (threshold 1), a submitter and a registrar.
func DeployDev(ctx context.Context, client Backend, key *ecdsa.PrivateKey, logger *slog.Logger) (Deployment, error) {
	a := []common.Address{crypto.PubkeyToAddress(key.PublicKey)}
	return Deploy(ctx, client, key, DeployConfig{Admins: a, Threshold: 1, Submitters: a, Registrars: a}, logger)
}

// WriteDeployment writes d as indented JSON to path, atomically.
func WriteDeployment(path string, d Deployment) error {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	if err := chainWriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write deployment: %w", err)
	}
	return nil
}

// ReadDeployment reads a file WriteDeployment wrote.
func ReadDeployment(path string) (Deployment, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Deployment{}, fmt.Errorf("read deployment: %w", err)
	}
	var d Deployment
	if err := json.Unmarshal(b, &d); err != nil {
		return Deployment{}, fmt.Errorf("read deployment %s: %w", path, err)
	}
	if d.Contract == (common.Address{}) {
		return Deployment{}, errors.New("read deployment " + path + ": no contract address")
	}
	return d, nil
}
