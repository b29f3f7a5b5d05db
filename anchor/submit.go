package anchor

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/big"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/sunproof/sunproof/contracts/sunproofanchor"
)

// Environment variables from which ApplyEnv takes the key's paths, so that
// deployments can mount secrets without naming them in YAML.
const (
	EnvKeystoreFile = "SUNPROOF_KEYSTORE_FILE"
	EnvPasswordFile = "SUNPROOF_KEYSTORE_PASSWORD_FILE"
)

// SubmitterConfig configures a Submitter (and a Registrar). The signing key
// comes from an encrypted keystore file and a password file, never from the
// configuration itself.
type SubmitterConfig struct {
	// RPCURL is the node's JSON-RPC endpoint.
	RPCURL string `yaml:"rpc_url"`
	// ChainID is the chain to sign for; 0 asks the node. A non-zero value
	// that differs from the node's is an error (wrong endpoint).
	ChainID uint64 `yaml:"chain_id"`
	// Contract is the SunproofAnchor contract's address.
	Contract common.Address `yaml:"contract"`
	// KeystoreFile is the go-ethereum keystore JSON of the submitting key
	// (env SUNPROOF_KEYSTORE_FILE, see ApplyEnv).
	KeystoreFile string `yaml:"keystore_file"`
	// PasswordFile holds the keystore's password on its first line (env
	// SUNPROOF_KEYSTORE_PASSWORD_FILE).
	PasswordFile string `yaml:"password_file"`
	// NonceFile persists the key's next nonce across restarts; "" keeps it
	// in memory (the node's pending nonce is then the only source).
	NonceFile string `yaml:"nonce_file"`
	// GasMode is GasModeEIP1559 or GasModeLegacy.
	GasMode string `yaml:"gas_mode"`
	// MaxFeeGwei caps the fee cap (EIP-1559) or gas price (legacy) per gas,
	// in gwei; 0 = no cap. MaxTipGwei caps the priority fee.
	MaxFeeGwei float64 `yaml:"max_fee_gwei"`
	MaxTipGwei float64 `yaml:"max_tip_gwei"`
	// Confirmations is how many blocks, the transaction's own included,
	// must be on the chain before Submit returns (1 = mined).
	Confirmations int `yaml:"confirmations"`
	// PollInterval is how often receipts and the head are polled.
	PollInterval time.Duration `yaml:"poll_interval"`
	// ReceiptTimeout bounds how long one Submit waits for its transaction
	// to be mined and confirmed; it then fails with ErrReceiptTimeout and
	// the next Submit of the interval resumes waiting.
	ReceiptTimeout time.Duration `yaml:"receipt_timeout"`
	// FeeBumpAfter: a transaction still pending after this long is replaced
	// by one paying 12.5% more (within the caps); 0 = never.
	FeeBumpAfter time.Duration `yaml:"fee_bump_after"`
	// RPCTimeout bounds each JSON-RPC call.
	RPCTimeout time.Duration `yaml:"rpc_timeout"`
}

// DefaultSubmitterConfig returns the defaults for the local stack's node
// (contract and key paths still to fill in).
func DefaultSubmitterConfig() SubmitterConfig {
	return SubmitterConfig{
		RPCURL:         "http://127.0.0.1:8545",
		GasMode:        GasModeEIP1559,
		Confirmations:  1,
		PollInterval:   500 * time.Millisecond,
		ReceiptTimeout: 5 * time.Minute,
		FeeBumpAfter:   time.Minute,
		RPCTimeout:     10 * time.Second,
	}
}

// ApplyEnv sets KeystoreFile and PasswordFile from EnvKeystoreFile and
// EnvPasswordFile when getenv returns them non-empty (pass os.Getenv).
func (c *SubmitterConfig) ApplyEnv(getenv func(string) string) {
	if v := getenv(EnvKeystoreFile); v != "" {
		c.KeystoreFile = v
	}
	if v := getenv(EnvPasswordFile); v != "" {
		c.PasswordFile = v
	}
}

// Validate checks the configuration for NewSubmitter.
func (c SubmitterConfig) Validate() error {
	if c.RPCURL == "" {
		return errors.New("submitter: rpc_url is empty")
	}
	if c.KeystoreFile == "" || c.PasswordFile == "" {
		return fmt.Errorf("submitter: keystore_file and password_file are required (or %s and %s)", EnvKeystoreFile, EnvPasswordFile)
	}
	return c.validateTx()
}

// validateTx checks everything but the endpoint and key paths.
func (c SubmitterConfig) validateTx() error {
	switch {
	case c.Contract == (common.Address{}):
		return errors.New("submitter: contract address is empty")
	case c.GasMode != GasModeEIP1559 && c.GasMode != GasModeLegacy:
		return fmt.Errorf("submitter: gas_mode %q: want %q or %q", c.GasMode, GasModeEIP1559, GasModeLegacy)
	case c.MaxFeeGwei < 0 || c.MaxTipGwei < 0 || math.IsNaN(c.MaxFeeGwei) || math.IsNaN(c.MaxTipGwei) ||
		math.IsInf(c.MaxFeeGwei, 0) || math.IsInf(c.MaxTipGwei, 0):
		return errors.New("submitter: max_fee_gwei and max_tip_gwei must be finite and ≥ 0")
	case c.MaxFeeGwei > 0 && c.MaxTipGwei > c.MaxFeeGwei:
		return fmt.Errorf("submitter: max_tip_gwei %g exceeds max_fee_gwei %g", c.MaxTipGwei, c.MaxFeeGwei)
	case c.Confirmations < 1 || c.Confirmations > 1000:
		return fmt.Errorf("submitter: confirmations %d: want 1..1000", c.Confirmations)
	case c.PollInterval <= 0:
		return fmt.Errorf("submitter: poll_interval %s must be positive", c.PollInterval)
	case c.ReceiptTimeout < c.PollInterval:
		return fmt.Errorf("submitter: receipt_timeout %s is shorter than poll_interval %s", c.ReceiptTimeout, c.PollInterval)
	case c.FeeBumpAfter < 0:
		return fmt.Errorf("submitter: fee_bump_after %s is negative", c.FeeBumpAfter)
	case c.RPCTimeout <= 0:
		return fmt.Errorf("submitter: rpc_timeout %s must be positive", c.RPCTimeout)
	}
	return nil
}

func gweiToWei(g float64) *big.Int {
	if g == 0 {
		return nil
	}
	w, _ := new(big.Float).Mul(big.NewFloat(g), big.NewFloat(1e9)).Int(nil)
	return w
}

func (c SubmitterConfig) txOptions() txOptions {
	return txOptions{
		gasMode:        c.GasMode,
		maxFee:         gweiToWei(c.MaxFeeGwei),
		maxTip:         gweiToWei(c.MaxTipGwei),
		confirmations:  uint64(c.Confirmations),
		poll:           c.PollInterval,
		receiptTimeout: c.ReceiptTimeout,
		bumpAfter:      c.FeeBumpAfter,
		rpcTimeout:     c.RPCTimeout,
	}
}

// AnchorTx is what one anchoring transaction records: the contract's
// anchor(intervalStart, intervalEnd, batchRoot, batchSize, scheme).
// IntervalStart and IntervalEnd are Unix milliseconds (the AnchorRecord's);
// see AnchorTxFor.
type AnchorTx struct {
	IntervalStart uint64
	IntervalEnd   uint64
	BatchRoot     [32]byte
	BatchSize     uint64
	Scheme        uint8
}

// AnchorTxFor returns the transaction that anchors rec (Batch.Record()).
func AnchorTxFor(rec AnchorRecord) (AnchorTx, error) {
	if rec.IntervalStartMS < 0 || rec.IntervalEndMS < 0 {
		return AnchorTx{}, fmt.Errorf("anchor interval [%d, %d): negative time", rec.IntervalStartMS, rec.IntervalEndMS)
	}
	a := AnchorTx{
		IntervalStart: uint64(rec.IntervalStartMS),
		IntervalEnd:   uint64(rec.IntervalEndMS),
		BatchRoot:     rec.Root,
		BatchSize:     rec.Size,
		Scheme:        rec.Scheme,
	}
	return a, a.Validate()
}

// Validate checks what the contract would reject anyway.
func (a AnchorTx) Validate() error {
	switch {
	case a.IntervalEnd <= a.IntervalStart:
		return fmt.Errorf("anchor interval [%d, %d) is empty", a.IntervalStart, a.IntervalEnd)
	case a.BatchSize == 0:
		return fmt.Errorf("anchor interval %d: batch size 0", a.IntervalStart)
	case a.BatchRoot == [32]byte{}:
		return fmt.Errorf("anchor interval %d: zero batch root", a.IntervalStart)
	}
	return nil
}

func anchorTxOf(start uint64, a sunproofanchor.GetAnchorOutput) AnchorTx {
	return AnchorTx{IntervalStart: start, IntervalEnd: a.IntervalEnd, BatchRoot: a.BatchRoot, BatchSize: a.BatchSize, Scheme: a.Scheme}
}

// Submitter anchors batch roots: one transaction per interval, signed
// locally with one key, sent with nonces from that key's NonceManager,
// awaited with Confirmations. Submit is idempotent, which makes crash and
// retry safe: see Submit. A Submitter is safe for concurrent use; calls for
// the same interval are serialised.
type Submitter struct {
	tx       *txSender
	contract common.Address
	chainID  uint64
	logger   *slog.Logger
	metrics  *submitMetrics
	closer   func()

	mu       sync.Mutex
	inflight map[uint64]*pendingTx    // by interval start: sent, not yet confirmed
	busy     map[uint64]chan struct{} // by interval start: a Submit is running
}

// NewSubmitter loads the key from cfg's keystore, dials cfg.RPCURL and
// returns NewSubmitterWith's submitter. Close it when done.
func NewSubmitter(ctx context.Context, cfg SubmitterConfig, logger *slog.Logger, reg prometheus.Registerer) (*Submitter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	key, err := LoadKey(cfg.KeystoreFile, cfg.PasswordFile)
	if err != nil {
		return nil, fmt.Errorf("submitter: %w", err)
	}
	client, err := ethclient.DialContext(ctx, cfg.RPCURL)
	if err != nil {
		return nil, fmt.Errorf("submitter: dial %s: %w", cfg.RPCURL, err)
	}
	s, err := NewSubmitterWith(ctx, cfg, client, key, logger, reg)
	if err != nil {
		client.Close()
		return nil, err
	}
	s.closer = client.Close
	return s, nil
}

// NewSubmitterWith returns a submitter over client signing with key
// (cfg.RPCURL, KeystoreFile and PasswordFile are ignored). It checks the
// chain id, that the contract exists and that key's address may anchor,
// and syncs the nonce manager. logger and reg may be nil.
func NewSubmitterWith(ctx context.Context, cfg SubmitterConfig, client Backend, key *ecdsa.PrivateKey, logger *slog.Logger, reg prometheus.Registerer) (*Submitter, error) {
	if err := cfg.validateTx(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	from := crypto.PubkeyToAddress(key.PublicKey)
	logger = logger.With("component", "anchor-submitter", "contract", cfg.Contract.Hex(), "address", from.Hex())
	chainID, err := checkChain(ctx, client, cfg.ChainID, cfg.Contract, cfg.RPCTimeout)
	if err != nil {
		return nil, fmt.Errorf("submitter: %w", err)
	}
	cctx, cancel := context.WithTimeout(ctx, cfg.RPCTimeout)
	defer cancel()
	sa := chainContract()
	ok, err := callContract(cctx, client, cfg.Contract, nil, sa.PackIsSubmitter(from), sa.UnpackIsSubmitter)
	if err != nil {
		return nil, fmt.Errorf("submitter: %w", err)
	}
	if !ok {
		return nil, fmt.Errorf("submitter: %s does not hold the submitter role in %s", from.Hex(), cfg.Contract.Hex())
	}
	nonces, err := NewNonceManager(cctx, client, from, chainID, cfg.NonceFile, logger)
	if err != nil {
		return nil, fmt.Errorf("submitter: %w", err)
	}
	return &Submitter{
		tx:       newTxSender(client, key, chainID, nonces, cfg.txOptions(), logger),
		contract: cfg.Contract,
		chainID:  chainID,
		logger:   logger,
		metrics:  newSubmitMetrics(reg),
		inflight: make(map[uint64]*pendingTx),
		busy:     make(map[uint64]chan struct{}),
	}, nil
}

// checkChain returns the node's chain id, checking it against want (0 =
// any), and that contract has code.
func checkChain(ctx context.Context, client Backend, want uint64, contract common.Address, timeout time.Duration) (uint64, error) {
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	id, err := client.ChainID(cctx)
	if err != nil {
		return 0, fmt.Errorf("eth_chainId: %w", err)
	}
	if !id.IsUint64() {
		return 0, fmt.Errorf("chain id %s does not fit 64 bits", id)
	}
	if want != 0 && id.Uint64() != want {
		return 0, fmt.Errorf("node is on chain %d, configured chain_id is %d", id, want)
	}
	code, err := client.CodeAt(cctx, contract, nil)
	if err != nil {
		return 0, fmt.Errorf("eth_getCode: %w", err)
	}
	if len(code) == 0 {
		return 0, fmt.Errorf("%w %s on chain %d", ErrNoContract, contract.Hex(), id)
	}
	return id.Uint64(), nil
}

// Close closes the connection NewSubmitter opened.
func (s *Submitter) Close() {
	if s.closer != nil {
		s.closer()
	}
}

// Address returns the submitting account.
func (s *Submitter) Address() common.Address { return s.tx.from }

// ChainID returns the chain the submitter signs for.
func (s *Submitter) ChainID() uint64 { return s.chainID }

// Contract returns the anchoring contract's address.
func (s *Submitter) Contract() common.Address { return s.contract }

// Nonces returns the key's nonce manager.
func (s *Submitter) Nonces() *NonceManager { return s.tx.nonces }

// Registrar returns a registrar that signs with the submitter's key and
// shares its nonce manager (the key must also hold the registrar role).
func (s *Submitter) Registrar() *Registrar {
	return &Registrar{tx: s.tx, contract: s.contract, chainID: s.chainID, logger: s.logger}
}

// lock serialises Submit calls for one interval.
func (s *Submitter) lock(ctx context.Context, start uint64) (func(), error) {
	for {
		s.mu.Lock()
		ch, held := s.busy[start]
		if !held {
			s.busy[start] = make(chan struct{})
			s.mu.Unlock()
			return func() {
				s.mu.Lock()
				close(s.busy[start])
				delete(s.busy, start)
				s.mu.Unlock()
			}, nil
		}
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Lookup returns the anchor of the interval starting at intervalStart and
// the transaction that recorded it, or an error wrapping ErrNotFound.
func (s *Submitter) Lookup(ctx context.Context, intervalStart uint64) (AnchorTx, TxRef, error) {
	cctx, cancel := s.tx.rpcCtx(ctx)
	defer cancel()
	a, err := readAnchor(cctx, s.tx.client, s.contract, intervalStart, nil)
	if err != nil {
		return AnchorTx{}, TxRef{}, fmt.Errorf("lookup interval %d: %w", intervalStart, err)
	}
	if a.Submitter == (common.Address{}) {
		return AnchorTx{}, TxRef{}, fmt.Errorf("interval %d: %w", intervalStart, ErrNotFound)
	}
	ref, err := s.anchorTxRef(cctx, intervalStart, a.BlockNumber)
	if err != nil {
		return AnchorTx{}, TxRef{}, err
	}
	return anchorTxOf(intervalStart, a), ref, nil
}

// anchorTxRef finds the transaction that anchored start in block.
func (s *Submitter) anchorTxRef(ctx context.Context, start, block uint64) (TxRef, error) {
	ref := TxRef{BlockNumber: block, ChainID: s.chainID, Contract: s.contract, Existing: true}
	l, err := findAnchoredLog(ctx, s.tx.client, s.contract, start, block)
	if err != nil {
		return TxRef{}, fmt.Errorf("interval %d: find its Anchored event: %w", start, err)
	}
	if l == nil {
		// The record says block, so the node should have the log; it may
		// not serve old logs. The hash is informational.
		s.logger.Warn("no Anchored event in the anchor's block", "interval_start", start, "block", block)
		return ref, nil
	}
	ref.TxHash, ref.BlockHash = l.TxHash, l.BlockHash
	return ref, nil
}

// existing handles an interval that is already anchored: the same record
// returns its transaction once its block has the configured confirmations;
// another record is ErrConflictingAnchor (with the other record's TxRef).
// done is false if the anchor was reorged out while waiting.
func (s *Submitter) existing(ctx context.Context, a AnchorTx, on sunproofanchor.GetAnchorOutput) (ref TxRef, done bool, err error) {
	ref, err = s.anchorTxRef(ctx, a.IntervalStart, on.BlockNumber)
	if err != nil {
		return TxRef{}, false, err
	}
	if got := anchorTxOf(a.IntervalStart, on); got != a {
		s.metrics.results.WithLabelValues("conflict").Inc()
		return ref, true, fmt.Errorf("interval %d is anchored with root %x (end %d, size %d, scheme %d) in tx %s, want root %x (end %d, size %d, scheme %d): %w",
			a.IntervalStart, got.BatchRoot, got.IntervalEnd, got.BatchSize, got.Scheme, ref.TxHash.Hex(),
			a.BatchRoot, a.IntervalEnd, a.BatchSize, a.Scheme, ErrConflictingAnchor)
	}
	if ref.BlockHash != (common.Hash{}) {
		canonical, err := s.tx.confirmBlock(ctx, ref.BlockNumber, ref.BlockHash)
		if err != nil {
			return TxRef{}, false, fmt.Errorf("interval %d: %w", a.IntervalStart, err)
		}
		if !canonical {
			return TxRef{}, false, nil
		}
	}
	s.metrics.results.WithLabelValues("existing").Inc()
	return ref, true, nil
}

// checkExisting reads the interval's anchor and, if there is one, handles
// it like existing.
func (s *Submitter) checkExisting(ctx context.Context, a AnchorTx) (TxRef, bool, error) {
	for {
		cctx, cancel := s.tx.rpcCtx(ctx)
		on, err := readAnchor(cctx, s.tx.client, s.contract, a.IntervalStart, nil)
		cancel()
		if err != nil {
			return TxRef{}, false, fmt.Errorf("read anchor %d: %w", a.IntervalStart, err)
		}
		if on.Submitter == (common.Address{}) {
			return TxRef{}, false, nil
		}
		ref, done, err := s.existing(ctx, a, on)
		if err != nil || done {
			return ref, true, err
		}
		// reorged out while confirming: read again
	}
}

// Submit anchors a and returns the transaction that recorded it once its
// block has the configured confirmations. It is idempotent: if the interval
// is already anchored with the same record (checked before sending, and
// again when the contract reverts with IntervalAlreadyAnchored), it sends
// nothing and returns the earlier transaction's TxRef with Existing set; if
// it is anchored with a different record it fails with
// ErrConflictingAnchor (final) and returns that record's TxRef. A
// transaction sent by an earlier call that failed with ErrReceiptTimeout is
// awaited again rather than sent twice. Reverts are *RevertError (final);
// classify other errors with IsRetryable, and on a retryable one call
// Submit again with the same a.
func (s *Submitter) Submit(ctx context.Context, a AnchorTx) (ref TxRef, err error) {
	if err := a.Validate(); err != nil {
		return TxRef{}, err
	}
	start := time.Now()
	defer func() {
		s.metrics.duration.Observe(time.Since(start).Seconds())
		if err != nil && !errors.Is(err, ErrConflictingAnchor) {
			s.metrics.results.WithLabelValues("error").Inc()
		}
	}()
	unlock, err := s.lock(ctx, a.IntervalStart)
	if err != nil {
		return TxRef{}, err
	}
	defer unlock()
	ref, err = s.submit(ctx, a)
	if err != nil {
		return ref, fmt.Errorf("anchor interval %d: %w", a.IntervalStart, err)
	}
	return ref, nil
}

func (s *Submitter) submit(ctx context.Context, a AnchorTx) (TxRef, error) {
	if ref, done, err := s.checkExisting(ctx, a); err != nil || done {
		if done {
			s.setInflight(a.IntervalStart, nil)
		}
		return ref, err
	}
	data := chainContract().PackAnchor(a.IntervalStart, a.IntervalEnd, a.BatchRoot, a.BatchSize, a.Scheme)
	s.mu.Lock()
	p := s.inflight[a.IntervalStart]
	s.mu.Unlock()
	if p != nil && !bytes.Equal(p.data, data) {
		// An earlier call sent another record for this interval and is
		// not mined: if it ever is, this call's transaction reverts.
		s.logger.Warn("replacing the record of an unconfirmed anchor", "interval_start", a.IntervalStart, "tx_hash", p.last().Hash().Hex())
		p = nil
	}
	for attempt := 1; ; attempt++ {
		if p == nil {
			gas, err := s.tx.estimateGas(ctx, &s.contract, data)
			if err != nil {
				return s.afterRevert(ctx, a, err)
			}
			if p, err = s.tx.send(ctx, &s.contract, data, gas); err != nil {
				if p != nil { // the node may have it: the next call waits for it
					s.setInflight(a.IntervalStart, p)
				}
				return TxRef{}, err
			}
			s.logger.Info("anchor sent", "interval_start", a.IntervalStart, "tx_hash", p.last().Hash().Hex(), "nonce", p.nonce)
			s.setInflight(a.IntervalStart, p)
		}
		r, err := s.tx.wait(ctx, p)
		if errors.Is(err, ErrTxDropped) && attempt < 2 {
			// Lost (or behind a nonce gap the manager now resynced):
			// unless it got anchored meanwhile, send it again once.
			s.logger.Warn("anchor transaction dropped, sending again", "interval_start", a.IntervalStart, "err", err)
			s.setInflight(a.IntervalStart, nil)
			p = nil
			if ref, done, err := s.checkExisting(ctx, a); err != nil || done {
				return ref, err
			}
			continue
		}
		if err != nil {
			if errors.Is(err, ErrTxDropped) {
				s.setInflight(a.IntervalStart, nil)
			}
			return TxRef{}, err
		}
		s.setInflight(a.IntervalStart, nil)
		if r.Status != types.ReceiptStatusSuccessful {
			// Most likely another transaction anchored the interval first
			// (a retry racing its own earlier attempt): ask the contract.
			if ref, done, err := s.checkExisting(ctx, a); err != nil || done {
				return ref, err
			}
			return TxRef{}, s.tx.replay(ctx, p, r)
		}
		s.metrics.results.WithLabelValues("sent").Inc()
		s.metrics.gas.Set(float64(r.GasUsed))
		s.logger.Info("anchored", "interval_start", a.IntervalStart, "tx_hash", r.TxHash.Hex(), "block", r.BlockNumber, "gas_used", r.GasUsed)
		return TxRef{
			TxHash: r.TxHash, BlockNumber: r.BlockNumber.Uint64(), BlockHash: r.BlockHash,
			ChainID: s.chainID, Contract: s.contract, GasUsed: r.GasUsed,
		}, nil
	}
}

func (s *Submitter) setInflight(start uint64, p *pendingTx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p == nil {
		delete(s.inflight, start)
	} else {
		s.inflight[start] = p
	}
}

// afterRevert handles a failed gas estimate: IntervalAlreadyAnchored means
// the interval got anchored since checkExisting looked.
func (s *Submitter) afterRevert(ctx context.Context, a AnchorTx, err error) (TxRef, error) {
	var rev *RevertError
	if errors.As(err, &rev) && rev.Name == "IntervalAlreadyAnchored" {
		ref, done, cerr := s.checkExisting(ctx, a)
		if cerr != nil || done {
			return ref, cerr
		}
	}
	return TxRef{}, fmt.Errorf("estimate gas: %w", err)
}

// submitMetrics are the submitter's Prometheus metrics.
type submitMetrics struct {
	duration prometheus.Histogram
	results  *prometheus.CounterVec
	gas      prometheus.Gauge
}

func newSubmitMetrics(reg prometheus.Registerer) *submitMetrics {
	f := promauto.With(reg)
	return &submitMetrics{
		duration: f.NewHistogram(prometheus.HistogramOpts{
			Namespace: "sunproof", Subsystem: "anchor", Name: "submit_duration_seconds",
			Help:    "Time Submit took, confirmations included.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 14),
		}),
		results: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: "sunproof", Subsystem: "anchor", Name: "submits_total",
			Help: "Submit calls by result: sent (new transaction), existing (already anchored with the same record), conflict, error.",
		}, []string{"result"}),
		gas: f.NewGauge(prometheus.GaugeOpts{
			Namespace: "sunproof", Subsystem: "anchor", Name: "tx_gas_used",
			Help: "Gas used by the last anchoring transaction.",
		}),
	}
}
