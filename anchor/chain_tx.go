package anchor

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rpc"
)

// Gas modes of SubmitterConfig.GasMode.
const (
	GasModeEIP1559 = "eip1559" // type-2 transactions: tip + fee cap over the base fee
	GasModeLegacy  = "legacy"  // type-0 transactions with a gas price, for chains without a fee market
	gasModeAuto    = "auto"    // EIP-1559 if the head has a base fee (Deploy)
)

// txOptions are the transaction settings shared by Submitter, Registrar
// and Deploy.
type txOptions struct {
	gasMode        string
	maxFee, maxTip *big.Int // wei; nil = no cap
	confirmations  uint64   // ≥ 1
	poll           time.Duration
	receiptTimeout time.Duration
	bumpAfter      time.Duration // 0 = never replace with higher fees
	rpcTimeout     time.Duration
}

// txSender signs transactions locally with one key, sends them with nonces
// from the key's NonceManager and waits for their receipts itself.
type txSender struct {
	client  Backend
	key     *ecdsa.PrivateKey
	from    common.Address
	chainID *big.Int
	signer  types.Signer
	nonces  *NonceManager
	opt     txOptions
	logger  *slog.Logger
}

func newTxSender(client Backend, key *ecdsa.PrivateKey, chainID uint64, nonces *NonceManager, opt txOptions, logger *slog.Logger) *txSender {
	id := new(big.Int).SetUint64(chainID)
	return &txSender{
		client:  client,
		key:     key,
		from:    crypto.PubkeyToAddress(key.PublicKey),
		chainID: id,
		signer:  types.LatestSignerForChainID(id),
		nonces:  nonces,
		opt:     opt,
		logger:  logger,
	}
}

func (s *txSender) rpcCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.opt.rpcTimeout)
}

// txFees are the fee fields of one transaction version.
type txFees struct {
	legacy   bool
	gasPrice *big.Int // legacy
	tip      *big.Int // EIP-1559
	feeCap   *big.Int // EIP-1559
}

func capAt(v, limit *big.Int) *big.Int {
	if limit != nil && v.Cmp(limit) > 0 {
		return new(big.Int).Set(limit)
	}
	return v
}

// suggestFees asks the node for current fees and applies the caps.
func (s *txSender) suggestFees(ctx context.Context) (txFees, error) {
	cctx, cancel := s.rpcCtx(ctx)
	defer cancel()
	var baseFee *big.Int
	if s.opt.gasMode != GasModeLegacy {
		head, err := s.client.HeaderByNumber(cctx, nil)
		if err != nil {
			return txFees{}, fmt.Errorf("head: %w", err)
		}
		baseFee = head.BaseFee
		if baseFee == nil && s.opt.gasMode == GasModeEIP1559 {
			return txFees{}, errors.New("the chain has no base fee (no EIP-1559): set gas_mode: legacy")
		}
	}
	if baseFee == nil {
		price, err := s.client.SuggestGasPrice(cctx)
		if err != nil {
			return txFees{}, fmt.Errorf("eth_gasPrice: %w", err)
		}
		return txFees{legacy: true, gasPrice: capAt(price, s.opt.maxFee)}, nil
	}
	tip, err := s.client.SuggestGasTipCap(cctx)
	if err != nil {
		return txFees{}, fmt.Errorf("eth_maxPriorityFeePerGas: %w", err)
	}
	tip = capAt(tip, s.opt.maxTip)
	feeCap := new(big.Int).Add(new(big.Int).Mul(baseFee, big.NewInt(2)), tip)
	feeCap = capAt(feeCap, s.opt.maxFee)
	if feeCap.Cmp(baseFee) < 0 {
		return txFees{}, fmt.Errorf("base fee %s wei, max fee %s wei: %w", baseFee, feeCap, ErrFeeCapTooLow)
	}
	if tip.Cmp(feeCap) > 0 {
		tip = new(big.Int).Set(feeCap)
	}
	return txFees{tip: tip, feeCap: feeCap}, nil
}

// bumpFees returns fees at least 12.5% above old (nodes require 10% to
// replace a pending transaction) and at least the current suggestion, or
// false if the caps leave no room for that.
func bumpFees(old, now txFees, maxFee, maxTip *big.Int) (txFees, bool) {
	up := func(v *big.Int) *big.Int { // ceil(v · 9/8), at least v + 1
		r := new(big.Int).Mul(v, big.NewInt(9))
		r.Add(r, big.NewInt(7))
		r.Div(r, big.NewInt(8))
		if r.Cmp(v) <= 0 {
			r.Add(v, big.NewInt(1))
		}
		return r
	}
	enough := func(n, o *big.Int) bool { // n ≥ 1.1 · o
		l := new(big.Int).Mul(n, big.NewInt(10))
		return l.Cmp(new(big.Int).Mul(o, big.NewInt(11))) >= 0 && n.Cmp(o) > 0
	}
	if old.legacy {
		p := up(old.gasPrice)
		if now.gasPrice != nil && now.gasPrice.Cmp(p) > 0 {
			p = now.gasPrice
		}
		p = capAt(p, maxFee)
		return txFees{legacy: true, gasPrice: p}, enough(p, old.gasPrice)
	}
	tip, feeCap := up(old.tip), up(old.feeCap)
	if now.tip != nil && now.tip.Cmp(tip) > 0 {
		tip = now.tip
	}
	if now.feeCap != nil && now.feeCap.Cmp(feeCap) > 0 {
		feeCap = now.feeCap
	}
	tip, feeCap = capAt(tip, maxTip), capAt(feeCap, maxFee)
	if tip.Cmp(feeCap) > 0 {
		tip = new(big.Int).Set(feeCap)
	}
	return txFees{tip: tip, feeCap: feeCap}, enough(tip, old.tip) && enough(feeCap, old.feeCap)
}

// pendingTx is one logical transaction: its nonce and every version sent
// with it (the first and its fee-bumped replacements, newest last). Only
// one goroutine may wait on it at a time.
type pendingTx struct {
	to       *common.Address
	data     []byte
	gas      uint64
	nonce    uint64
	fees     txFees
	sent     []*types.Transaction
	lastSend time.Time
}

func (p *pendingTx) last() *types.Transaction { return p.sent[len(p.sent)-1] }

func (s *txSender) sign(nonce uint64, to *common.Address, data []byte, gas uint64, f txFees) (*types.Transaction, error) {
	var inner types.TxData
	if f.legacy {
		inner = &types.LegacyTx{Nonce: nonce, GasPrice: f.gasPrice, Gas: gas, To: to, Data: data}
	} else {
		inner = &types.DynamicFeeTx{ChainID: s.chainID, Nonce: nonce, GasTipCap: f.tip, GasFeeCap: f.feeCap, Gas: gas, To: to, Data: data}
	}
	return types.SignTx(types.NewTx(inner), s.signer, s.key)
}

// sendRaw sends tx; a node that already has it counts as success.
func (s *txSender) sendRaw(ctx context.Context, tx *types.Transaction) error {
	cctx, cancel := s.rpcCtx(ctx)
	defer cancel()
	if err := s.client.SendTransaction(cctx, tx); err != nil && !isKnownTx(err) {
		return err
	}
	return nil
}

// estimateGas returns the gas limit for a call of data to to (nil: contract
// creation): the node's estimate plus 25%. A revert is a *RevertError.
func (s *txSender) estimateGas(ctx context.Context, to *common.Address, data []byte) (uint64, error) {
	cctx, cancel := s.rpcCtx(ctx)
	defer cancel()
	est, err := s.client.EstimateGas(cctx, ethereum.CallMsg{From: s.from, To: to, Data: data})
	if err != nil {
		if rev := revertFromRPC(err); rev != nil {
			return 0, rev
		}
		return 0, fmt.Errorf("eth_estimateGas: %w", err)
	}
	return est + est/4, nil
}

// maxNonceAttempts bounds how often send re-signs after nonce errors.
const maxNonceAttempts = 4

// send signs data with the next nonce and sends it. After a nonce error
// (another process used the key, the node lost a transaction) the nonce
// manager resyncs and send tries again with the new nonce. If sending
// failed in a way that leaves open whether the node got the transaction (a
// timeout, a broken connection), send returns it with the error: wait on
// it before sending the same call again.
func (s *txSender) send(ctx context.Context, to *common.Address, data []byte, gas uint64) (*pendingTx, error) {
	fees, err := s.suggestFees(ctx)
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		var tx *types.Transaction
		err = s.nonces.Use(ctx, func(nonce uint64) error {
			var err error
			if tx, err = s.sign(nonce, to, data, gas, fees); err != nil {
				return err
			}
			return s.sendRaw(ctx, tx)
		})
		if err == nil {
			s.logger.Debug("transaction sent", "tx_hash", tx.Hash().Hex(), "nonce", tx.Nonce(), "gas", gas)
			return &pendingTx{to: to, data: data, gas: gas, nonce: tx.Nonce(), fees: fees, sent: []*types.Transaction{tx}, lastSend: time.Now()}, nil
		}
		if !isNonceError(err) || attempt == maxNonceAttempts || ctx.Err() != nil {
			var p *pendingTx
			var answer rpc.Error // the node answered: it did not take the transaction
			if tx != nil && IsRetryable(err) && !isNonceError(err) && !errors.As(err, &answer) {
				p = &pendingTx{to: to, data: data, gas: gas, nonce: tx.Nonce(), fees: fees, sent: []*types.Transaction{tx}, lastSend: time.Now()}
			}
			return p, fmt.Errorf("send transaction: %w", err)
		}
		s.logger.Info("nonce rejected, resyncing", "err", err, "attempt", attempt)
	}
}

// findReceipt returns the receipt of any version of p, or nil.
func (s *txSender) findReceipt(ctx context.Context, p *pendingTx) (*types.Receipt, error) {
	for i := len(p.sent) - 1; i >= 0; i-- {
		cctx, cancel := s.rpcCtx(ctx)
		r, err := s.client.TransactionReceipt(cctx, p.sent[i].Hash())
		cancel()
		switch {
		case err == nil && r != nil:
			return r, nil
		case err != nil && !errors.Is(err, ethereum.NotFound):
			return nil, err
		}
	}
	return nil, nil
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// dropCheckEvery is how many receipt polls pass between checks that a
// pending transaction is still executable.
const dropCheckEvery = 10

// wait polls for the receipt of p every poll interval, replaces it with
// higher fees every bumpAfter, and returns the receipt once it has the
// configured confirmations. It returns ErrReceiptTimeout after
// receiptTimeout (p stays valid: wait again to resume) and ErrTxDropped if
// the node no longer counts p's nonce as pending (the nonce manager then
// resyncs). The receipt may have status 0: see replay.
func (s *txSender) wait(ctx context.Context, p *pendingTx) (*types.Receipt, error) {
	deadline := time.Now().Add(s.opt.receiptTimeout)
	for polls := 1; ; polls++ {
		r, err := s.findReceipt(ctx, p)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			s.logger.Debug("receipt poll failed", "tx_hash", p.last().Hash().Hex(), "err", err)
		}
		if r != nil {
			r, err := s.confirm(ctx, r, deadline)
			if err != nil || r != nil {
				return r, err
			}
			continue // reorged out: back in the pool, or dropped
		}
		now := time.Now()
		if now.After(deadline) {
			return nil, fmt.Errorf("tx %s (nonce %d) not mined after %s: %w", p.last().Hash().Hex(), p.nonce, s.opt.receiptTimeout, ErrReceiptTimeout)
		}
		if polls%dropCheckEvery == 0 {
			if err := s.checkDropped(ctx, p); err != nil {
				return nil, err
			}
		}
		if s.opt.bumpAfter > 0 && now.Sub(p.lastSend) >= s.opt.bumpAfter {
			s.bump(ctx, p)
		}
		if err := sleepCtx(ctx, s.opt.poll); err != nil {
			return nil, err
		}
	}
}

// checkDropped returns ErrTxDropped if no version of p can be mined any
// more: the node's pending nonce does not count p's nonce (p is neither
// mined nor executable in the pool), or a transaction other than p's
// versions was mined with p's nonce.
func (s *txSender) checkDropped(ctx context.Context, p *pendingTx) error {
	cctx, cancel := s.rpcCtx(ctx)
	pending, err := s.client.PendingNonceAt(cctx, s.from)
	var mined uint64
	if err == nil && pending > p.nonce {
		mined, err = s.client.NonceAt(cctx, s.from, nil)
	}
	cancel()
	if err != nil || (pending > p.nonce && mined <= p.nonce) {
		return nil // pending in the pool, or unknown: keep polling
	}
	if r, err := s.findReceipt(ctx, p); err != nil || r != nil {
		return nil // mined meanwhile, or unknown: keep polling
	}
	s.nonces.invalidate()
	if pending > p.nonce {
		return fmt.Errorf("tx %s: another transaction was mined with its nonce %d: %w", p.last().Hash().Hex(), p.nonce, ErrTxDropped)
	}
	return fmt.Errorf("tx %s (nonce %d): the node's pending nonce is %d: %w", p.last().Hash().Hex(), p.nonce, pending, ErrTxDropped)
}

// bump replaces p's latest version with one paying higher fees, within the
// caps. Failures are logged: waiting goes on either way.
func (s *txSender) bump(ctx context.Context, p *pendingTx) {
	p.lastSend = time.Now() // try again only after another bumpAfter
	now, err := s.suggestFees(ctx)
	if err != nil && !errors.Is(err, ErrFeeCapTooLow) {
		s.logger.Warn("fee bump: fees", "err", err)
		return
	}
	f, ok := bumpFees(p.fees, now, s.opt.maxFee, s.opt.maxTip)
	if !ok {
		s.logger.Warn("fee bump: at the configured maximum fee, waiting", "tx_hash", p.last().Hash().Hex())
		return
	}
	tx, err := s.sign(p.nonce, p.to, p.data, p.gas, f)
	if err != nil {
		s.logger.Warn("fee bump: sign", "err", err)
		return
	}
	if err := s.sendRaw(ctx, tx); err != nil {
		// "nonce too low": a version was mined; the next poll finds it.
		s.logger.Info("fee bump: replacement not accepted", "tx_hash", tx.Hash().Hex(), "err", err)
		return
	}
	s.logger.Info("fee bump: replaced", "old_tx_hash", p.last().Hash().Hex(), "tx_hash", tx.Hash().Hex(), "nonce", p.nonce)
	p.sent, p.fees = append(p.sent, tx), f
}

// headNumber returns the chain's head block number.
func (s *txSender) headNumber(ctx context.Context) (uint64, error) {
	cctx, cancel := s.rpcCtx(ctx)
	defer cancel()
	return s.client.BlockNumber(cctx)
}

// pause sleeps one poll interval, or fails with ErrReceiptTimeout after
// deadline or with ctx's error.
func (s *txSender) pause(ctx context.Context, deadline time.Time, what string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if time.Now().After(deadline) {
		return fmt.Errorf("%s: not confirmed after %s: %w", what, s.opt.receiptTimeout, ErrReceiptTimeout)
	}
	return sleepCtx(ctx, s.opt.poll)
}

// confirm waits until r's block has the configured confirmations (1 = the
// block itself) and r is still in the canonical chain. It returns the
// receipt as of then (possibly in another block after a reorg), or nil if
// the transaction was reorged out (it may be back in the pool, or gone
// with a reset chain). The receipt is checked again whenever the head
// reaches the target or falls below r's block.
func (s *txSender) confirm(ctx context.Context, r *types.Receipt, deadline time.Time) (*types.Receipt, error) {
	if s.opt.confirmations <= 1 {
		return r, nil
	}
	for {
		n := r.BlockNumber.Uint64()
		target := n + s.opt.confirmations - 1
		if head, err := s.headNumber(ctx); err == nil && (head >= target || head < n) {
			cctx, cancel := s.rpcCtx(ctx)
			again, err := s.client.TransactionReceipt(cctx, r.TxHash)
			cancel()
			switch {
			case errors.Is(err, ethereum.NotFound):
				s.logger.Warn("transaction reorged out", "tx_hash", r.TxHash.Hex(), "block", n, "head", head)
				return nil, nil
			case err != nil:
				// transient: poll again
			case again.BlockHash != r.BlockHash:
				r = again // moved by a reorg: count from its new block
				continue
			case head >= target:
				return again, nil
			}
		}
		if err := s.pause(ctx, deadline, "tx "+r.TxHash.Hex()); err != nil {
			return nil, err
		}
	}
}

// confirmBlock waits until block number has the configured confirmations
// and reports whether hash is still the canonical block at that height
// (false as soon as it is not).
func (s *txSender) confirmBlock(ctx context.Context, number uint64, hash common.Hash) (bool, error) {
	deadline := time.Now().Add(s.opt.receiptTimeout)
	target := number + s.opt.confirmations - 1
	for {
		if head, err := s.headNumber(ctx); err == nil && (head >= target || head < number) {
			cctx, cancel := s.rpcCtx(ctx)
			h, err := s.client.HeaderByNumber(cctx, new(big.Int).SetUint64(number))
			cancel()
			switch {
			case errors.Is(err, ethereum.NotFound), err == nil && h.Hash() != hash:
				return false, nil
			case err == nil && head >= target:
				return true, nil
			}
		}
		if err := s.pause(ctx, deadline, fmt.Sprintf("block %d", number)); err != nil {
			return false, err
		}
	}
}

// replay re-runs the failed transaction of r as an eth_call at its parent
// block to recover the revert reason a mined transaction does not carry.
// It returns ErrTxFailed, wrapping the *RevertError when there is one.
func (s *txSender) replay(ctx context.Context, p *pendingTx, r *types.Receipt) error {
	tx := p.last()
	for _, t := range p.sent {
		if t.Hash() == r.TxHash {
			tx = t
		}
	}
	parent := new(big.Int).Sub(r.BlockNumber, big.NewInt(1))
	cctx, cancel := s.rpcCtx(ctx)
	defer cancel()
	_, err := s.client.CallContract(cctx, ethereum.CallMsg{From: s.from, To: tx.To(), Gas: tx.Gas(), Value: tx.Value(), Data: tx.Data()}, parent)
	if rev := revertFromRPC(err); rev != nil {
		rev.TxHash = tx.Hash()
		return fmt.Errorf("tx %s in block %d: %w: %w", tx.Hash().Hex(), r.BlockNumber, ErrTxFailed, rev)
	}
	if err != nil {
		return fmt.Errorf("tx %s in block %d: %w (replay at block %s: %v)", tx.Hash().Hex(), r.BlockNumber, ErrTxFailed, parent, err)
	}
	if r.GasUsed >= tx.Gas() {
		return fmt.Errorf("tx %s in block %d: %w: out of gas (limit %d)", tx.Hash().Hex(), r.BlockNumber, ErrTxFailed, tx.Gas())
	}
	return fmt.Errorf("tx %s in block %d: %w, but succeeds replayed at block %s: an earlier transaction of its block changed the state",
		tx.Hash().Hex(), r.BlockNumber, ErrTxFailed, parent)
}
