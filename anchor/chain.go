package anchor

// The chain layer: EthReader (a ChainReader over JSON-RPC), Submitter
// (submit.go), Registrar (chain_registrar.go), the nonce manager (nonce.go),
// keystores (keystore.go) and deployment (chain_deploy.go). Everything here
// talks to the SunproofAnchor contract through the abigen bindings in
// contracts/sunproofanchor; see contracts/doc.go for what the contract
// guarantees.
//
// Units on chain: the contract's intervalStart and intervalEnd are the
// AnchorRecord's IntervalStartMS and IntervalEndMS, Unix milliseconds, as
// they are (docs/formats/proof.md §5: the record is keyed by
// interval_start_ms). Device key times are the chain's block.timestamp,
// converted to Unix ms with EthReaderConfig.BlockTimeUnit.

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/sunproof/sunproof/contracts/sunproofanchor"
)

// ErrNoContract: there is no contract code at the configured address (wrong
// address or wrong chain). EthReader wraps it together with ErrNotFound.
var ErrNoContract = errors.New("anchor: no contract code at address")

// Backend is the Ethereum JSON-RPC client that Submitter, Registrar and
// Deploy use. *ethclient.Client and go-ethereum's simulated.Client
// implement it.
type Backend interface {
	bind.ContractBackend
	TransactionReceipt(ctx context.Context, txHash common.Hash) (*types.Receipt, error)
	ChainID(ctx context.Context) (*big.Int, error)
	BlockNumber(ctx context.Context) (uint64, error)
	NonceAt(ctx context.Context, account common.Address, blockNumber *big.Int) (uint64, error)
}

// ReaderBackend is the read-only part of Backend that EthReader needs.
type ReaderBackend interface {
	bind.ContractCaller
	ethereum.LogFilterer
	ChainID(ctx context.Context) (*big.Int, error)
	BlockNumber(ctx context.Context) (uint64, error)
}

var (
	chainContract = sync.OnceValue(sunproofanchor.NewSunproofAnchor)
	chainABI      = sync.OnceValue(func() *abi.ABI { a := chainContract().GetABI(); return &a })
)

// TxRef says where a transaction of the chain layer was recorded.
type TxRef struct {
	TxHash      common.Hash
	BlockNumber uint64
	BlockHash   common.Hash
	ChainID     uint64
	Contract    common.Address
	// GasUsed is the receipt's gas; 0 when Existing.
	GasUsed uint64
	// Existing is true when the chain already held the record (an earlier
	// attempt, possibly of a process that crashed, anchored or registered
	// it): this call sent nothing and TxRef names the earlier transaction.
	Existing bool
}

// AnchorRef returns the bundle's anchor reference for the interval
// [startMS, endMS) anchored by the transaction r. The contract address is
// lowercase hex.
func (r TxRef) AnchorRef(startMS, endMS int64) AnchorRef {
	return AnchorRef{
		ChainID:         r.ChainID,
		Contract:        strings.ToLower(r.Contract.Hex()),
		IntervalStartMS: startMS,
		IntervalEndMS:   endMS,
		TxHash:          r.TxHash.Hex(),
		BlockNumber:     r.BlockNumber,
	}
}

// EthReaderConfig configures an EthReader.
type EthReaderConfig struct {
	// RPCURL is the node's JSON-RPC endpoint (http, https, ws or wss).
	RPCURL string `yaml:"rpc_url"`
	// BlockTimeUnit is the unit of the chain's block.timestamp, in which the
	// contract records device key times: time.Second on geth and Besu,
	// time.Millisecond on FISCO BCOS, time.Nanosecond on GoQuorum raft.
	BlockTimeUnit time.Duration `yaml:"block_time_unit"`
	// RPCTimeout bounds each JSON-RPC call.
	RPCTimeout time.Duration `yaml:"rpc_timeout"`
}

// DefaultEthReaderConfig returns the defaults: seconds, 10 s per call, the
// local stack's node.
func DefaultEthReaderConfig() EthReaderConfig {
	return EthReaderConfig{RPCURL: "http://127.0.0.1:8545", BlockTimeUnit: time.Second, RPCTimeout: 10 * time.Second}
}

// Validate checks the configuration. RPCURL may be empty for NewEthReader.
func (c EthReaderConfig) Validate() error {
	switch c.BlockTimeUnit {
	case time.Second, time.Millisecond, time.Microsecond, time.Nanosecond:
	default:
		return fmt.Errorf("eth reader: block_time_unit %s: want 1s, 1ms, 1µs or 1ns", c.BlockTimeUnit)
	}
	if c.RPCTimeout <= 0 {
		return fmt.Errorf("eth reader: rpc_timeout %s must be positive", c.RPCTimeout)
	}
	return nil
}

// EthReader implements ChainReader over an Ethereum JSON-RPC endpoint and
// the SunproofAnchor contract. It is safe for concurrent use. Each call
// reads at one block (the head when it starts), so a record is never
// assembled from two states.
type EthReader struct {
	client ReaderBackend
	closer func()
	cfg    EthReaderConfig

	mu      sync.Mutex
	chainID uint64 // 0 until known
}

var _ ChainReader = (*EthReader)(nil)

// DialEthReader connects to cfg.RPCURL.
func DialEthReader(ctx context.Context, cfg EthReaderConfig) (*EthReader, error) {
	if cfg.RPCURL == "" {
		return nil, errors.New("eth reader: rpc_url is empty")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c, err := ethclient.DialContext(ctx, cfg.RPCURL)
	if err != nil {
		return nil, fmt.Errorf("eth reader: dial %s: %w", cfg.RPCURL, err)
	}
	r, err := NewEthReader(c, cfg)
	if err != nil {
		c.Close()
		return nil, err
	}
	r.closer = c.Close
	return r, nil
}

// NewEthReader returns a reader over client; cfg.RPCURL is ignored.
func NewEthReader(client ReaderBackend, cfg EthReaderConfig) (*EthReader, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &EthReader{client: client, cfg: cfg}, nil
}

// Close closes the connection DialEthReader opened; it does nothing for a
// reader made by NewEthReader.
func (r *EthReader) Close() {
	if r.closer != nil {
		r.closer()
	}
}

func (r *EthReader) rpcCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, r.cfg.RPCTimeout)
}

// ChainID returns the node's chain id (asked once). Verify compares it with
// the bundle's.
func (r *EthReader) ChainID(ctx context.Context) (uint64, error) {
	r.mu.Lock()
	id := r.chainID
	r.mu.Unlock()
	if id != 0 {
		return id, nil
	}
	cctx, cancel := r.rpcCtx(ctx)
	defer cancel()
	n, err := r.client.ChainID(cctx)
	if err != nil {
		return 0, fmt.Errorf("eth_chainId: %w", err)
	}
	if !n.IsUint64() {
		return 0, fmt.Errorf("chain id %s does not fit 64 bits", n)
	}
	r.mu.Lock()
	r.chainID = n.Uint64()
	r.mu.Unlock()
	return n.Uint64(), nil
}

// head returns the current block number, to read at.
func (r *EthReader) head(ctx context.Context) (*big.Int, error) {
	cctx, cancel := r.rpcCtx(ctx)
	defer cancel()
	n, err := r.client.BlockNumber(cctx)
	if err != nil {
		return nil, fmt.Errorf("eth_blockNumber: %w", err)
	}
	return new(big.Int).SetUint64(n), nil
}

func parseContract(contract string) (common.Address, error) {
	if !common.IsHexAddress(contract) {
		return common.Address{}, fmt.Errorf("contract %q is not an address: %w", contract, ErrNotFound)
	}
	return common.HexToAddress(contract), nil
}

// Anchor implements ChainReader: the record anchored under intervalStartMS,
// with the block it was anchored in and, when the node still serves the
// Anchored log, the transaction hash. It wraps ErrNotFound if the interval
// is not anchored or there is no contract at the address.
func (r *EthReader) Anchor(ctx context.Context, contract string, intervalStartMS int64) (AnchorRecord, error) {
	addr, err := parseContract(contract)
	if err != nil {
		return AnchorRecord{}, err
	}
	if intervalStartMS < 0 {
		return AnchorRecord{}, fmt.Errorf("interval %d: %w", intervalStartMS, ErrNotFound)
	}
	block, err := r.head(ctx)
	if err != nil {
		return AnchorRecord{}, err
	}
	cctx, cancel := r.rpcCtx(ctx)
	defer cancel()
	a, err := readAnchor(cctx, r.client, addr, uint64(intervalStartMS), block)
	if err != nil {
		return AnchorRecord{}, notFoundIfNoCode(err)
	}
	if a.Submitter == (common.Address{}) {
		return AnchorRecord{}, fmt.Errorf("interval %d at %s: %w", intervalStartMS, addr.Hex(), ErrNotFound)
	}
	if a.IntervalEnd > 1<<63-1 {
		return AnchorRecord{}, fmt.Errorf("interval %d: end %d does not fit int64", intervalStartMS, a.IntervalEnd)
	}
	rec := AnchorRecord{
		IntervalStartMS: intervalStartMS,
		IntervalEndMS:   int64(a.IntervalEnd),
		Root:            a.BatchRoot,
		Size:            a.BatchSize,
		Scheme:          a.Scheme,
		BlockNumber:     a.BlockNumber,
	}
	// The transaction hash is informational: leave it empty if the node
	// does not serve the log (some restrict eth_getLogs).
	if l, err := findAnchoredLog(cctx, r.client, addr, uint64(intervalStartMS), a.BlockNumber); err == nil && l != nil {
		rec.TxHash = l.TxHash.Hex()
	}
	return rec, nil
}

// DeviceKeyEntry is one entry of a device's on-chain key history, in the
// chain's own units (see contracts/doc.go for the rule a verifier applies).
type DeviceKeyEntry struct {
	PublicKey       ed25519.PublicKey
	RegisteredAt    uint64 // block.timestamp
	RevokedAt       uint64 // block.timestamp; 0 while valid
	RegisteredBlock uint64
	RevokedBlock    uint64 // 0 while valid
	Rotated         bool   // ended by rotation (retired), not by revocation (suspect)
}

// Ended reports whether the key stopped being valid.
func (k *DeviceKeyEntry) Ended() bool { return k.RevokedBlock != 0 }

// KeyHistory returns every key the contract at contract has recorded for
// deviceID, oldest first, with blocks and the rotated flag that
// DeviceKeyRecord leaves out. It wraps ErrNotFound if the device was never
// registered.
func (r *EthReader) KeyHistory(ctx context.Context, contract common.Address, deviceID string) ([]DeviceKeyEntry, error) {
	block, err := r.head(ctx)
	if err != nil {
		return nil, err
	}
	cctx, cancel := r.rpcCtx(ctx)
	defer cancel()
	hist, err := readKeyHistory(cctx, r.client, contract, deviceID, block)
	if err != nil {
		return nil, notFoundIfNoCode(err)
	}
	if len(hist) == 0 {
		return nil, fmt.Errorf("device %s at %s: %w", deviceID, contract.Hex(), ErrNotFound)
	}
	return hist, nil
}

// DeviceKeys implements ChainReader: every key registered for deviceID, with
// its validity [RegisteredAtMS, RevokedAtMS) converted to Unix ms. A key
// retired by rotation and one revoked as compromised both get RevokedAtMS;
// DeviceKeyRecord cannot carry the rule that a revoked key only counts for
// windows anchored before its revocation block (use KeyHistory for that).
func (r *EthReader) DeviceKeys(ctx context.Context, contract, deviceID string) ([]DeviceKeyRecord, error) {
	addr, err := parseContract(contract)
	if err != nil {
		return nil, err
	}
	hist, err := r.KeyHistory(ctx, addr, deviceID)
	if err != nil {
		return nil, err
	}
	out := make([]DeviceKeyRecord, len(hist))
	for i, k := range hist {
		out[i] = DeviceKeyRecord{
			DeviceID:       deviceID,
			PublicKey:      k.PublicKey,
			RegisteredAtMS: chainTimeToMS(k.RegisteredAt, r.cfg.BlockTimeUnit, true),
		}
		if k.Ended() {
			out[i].RevokedAtMS = chainTimeToMS(k.RevokedAt, r.cfg.BlockTimeUnit, false)
			out[i].RevokedBlock, out[i].Rotated = k.RevokedBlock, k.Rotated
		}
	}
	return out, nil
}

// chainTimeToMS converts a block.timestamp in unit to Unix ms, rounding up
// or down (a key's start rounds up and its end down, so the validity in ms
// never exceeds the chain's).
func chainTimeToMS(t uint64, unit time.Duration, up bool) int64 {
	switch {
	case unit >= time.Millisecond:
		f := uint64(unit / time.Millisecond)
		if t > (1<<63-1)/f {
			return 1<<63 - 1
		}
		return int64(t * f)
	default:
		d := uint64(time.Millisecond / unit)
		q := t / d
		if up && t%d != 0 {
			q++
		}
		return int64(q)
	}
}

func notFoundIfNoCode(err error) error {
	if errors.Is(err, ErrNoContract) {
		return fmt.Errorf("%w (%w)", err, ErrNotFound)
	}
	return err
}

// callContract runs a view call at block (nil = latest) and unpacks it. An
// empty result from an address without code is ErrNoContract; a revert is
// a *RevertError.
func callContract[T any](ctx context.Context, c bind.ContractCaller, contract common.Address, block *big.Int, data []byte, unpack func([]byte) (T, error)) (T, error) {
	var zero T
	out, err := c.CallContract(ctx, ethereum.CallMsg{To: &contract, Data: data}, block)
	if err != nil {
		if rev := revertFromRPC(err); rev != nil {
			return zero, rev
		}
		return zero, fmt.Errorf("eth_call %s: %w", contract.Hex(), err)
	}
	if len(out) == 0 {
		code, err := c.CodeAt(ctx, contract, block)
		if err != nil {
			return zero, fmt.Errorf("eth_getCode %s: %w", contract.Hex(), err)
		}
		if len(code) == 0 {
			return zero, fmt.Errorf("%w %s", ErrNoContract, contract.Hex())
		}
	}
	v, err := unpack(out)
	if err != nil {
		return zero, fmt.Errorf("decode result from %s: %w", contract.Hex(), err)
	}
	return v, nil
}

func readAnchor(ctx context.Context, c bind.ContractCaller, contract common.Address, start uint64, block *big.Int) (sunproofanchor.GetAnchorOutput, error) {
	sa := chainContract()
	return callContract(ctx, c, contract, block, sa.PackGetAnchor(start), sa.UnpackGetAnchor)
}

func readKeyHistory(ctx context.Context, c bind.ContractCaller, contract common.Address, deviceID string, block *big.Int) ([]DeviceKeyEntry, error) {
	sa := chainContract()
	h := sunproofanchor.DeviceIDHash(deviceID)
	n, err := callContract(ctx, c, contract, block, sa.PackDeviceKeyCount(h), sa.UnpackDeviceKeyCount)
	if err != nil {
		return nil, fmt.Errorf("device %s: %w", deviceID, err)
	}
	if !n.IsUint64() || n.Uint64() > 1<<16 {
		return nil, fmt.Errorf("device %s: implausible key count %s", deviceID, n)
	}
	out := make([]DeviceKeyEntry, 0, n.Uint64())
	for i := range n.Uint64() {
		k, err := callContract(ctx, c, contract, block, sa.PackGetDeviceKey(h, new(big.Int).SetUint64(i)), sa.UnpackGetDeviceKey)
		if err != nil {
			return nil, fmt.Errorf("device %s key %d: %w", deviceID, i, err)
		}
		out = append(out, DeviceKeyEntry{
			PublicKey:       ed25519.PublicKey(k.PublicKey[:]),
			RegisteredAt:    k.RegisteredAt,
			RevokedAt:       k.RevokedAt,
			RegisteredBlock: k.RegisteredBlock,
			RevokedBlock:    k.RevokedBlock,
			Rotated:         k.Rotated,
		})
	}
	return out, nil
}

// findAnchoredLog returns the Anchored log of intervalStart in block, or
// nil if the node has none.
func findAnchoredLog(ctx context.Context, f ethereum.LogFilterer, contract common.Address, start, block uint64) (*types.Log, error) {
	topic := common.BigToHash(new(big.Int).SetUint64(start))
	logs, err := filterLogs(ctx, f, contract, chainABI().Events[sunproofanchor.SunproofAnchorAnchoredEventName].ID, topic, block)
	if err != nil || len(logs) == 0 {
		return nil, err
	}
	return &logs[0], nil
}

// filterLogs returns the logs of contract in block with topics [event, topic1].
func filterLogs(ctx context.Context, f ethereum.LogFilterer, contract common.Address, event, topic1 common.Hash, block uint64) ([]types.Log, error) {
	b := new(big.Int).SetUint64(block)
	logs, err := f.FilterLogs(ctx, ethereum.FilterQuery{
		FromBlock: b, ToBlock: b,
		Addresses: []common.Address{contract},
		Topics:    [][]common.Hash{{event}, {topic1}},
	})
	if err != nil {
		return nil, fmt.Errorf("eth_getLogs block %d: %w", block, err)
	}
	out := logs[:0]
	for _, l := range logs {
		if !l.Removed {
			out = append(out, l)
		}
	}
	return out, nil
}
