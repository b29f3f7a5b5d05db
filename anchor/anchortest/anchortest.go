// Package anchortest holds what integration tests on the local geth dev
// node need and anchor does not export for production use.
//
// Invariant: Fund only ever spends from anchor.GethDevKey, the key that
// `geth --dev` funds; it never touches another chain than the one the
// client is connected to.
package anchortest

import (
	"context"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/sunproof/sunproof/anchor"
)

// fundMu serialises transfers from the dev key within one test process.
var fundMu sync.Mutex

// Fund sends 100 ETH from the geth dev key to addr and waits until addr
// has a balance. Other test processes may spend from the dev key at the
// same time: a transaction whose nonce a concurrent sender took is sent
// again (up to 20 attempts), and an already funded addr returns at once.
func Fund(tb testing.TB, ctx context.Context, c *ethclient.Client, addr common.Address) {
	tb.Helper()
	fundMu.Lock()
	defer fundMu.Unlock()
	dev, err := crypto.HexToECDSA(anchor.GethDevKey)
	if err != nil {
		tb.Fatal(err)
	}
	from := crypto.PubkeyToAddress(dev.PublicKey)
	id, err := c.ChainID(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	value := new(big.Int).Mul(big.NewInt(100), big.NewInt(1e18))
	var lastErr error
	for attempt := range 20 {
		if attempt > 0 {
			time.Sleep(500 * time.Millisecond)
		}
		if b, err := c.BalanceAt(ctx, addr, nil); err == nil && b.Sign() > 0 {
			return
		}
		nonce, err := c.PendingNonceAt(ctx, from)
		if err != nil {
			lastErr = err
			continue
		}
		head, err := c.HeaderByNumber(ctx, nil)
		if err != nil {
			lastErr = err
			continue
		}
		tip := big.NewInt(2e9)
		feeCap := new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), tip)
		tx, err := types.SignTx(types.NewTx(&types.DynamicFeeTx{
			ChainID: id, Nonce: nonce, GasTipCap: tip, GasFeeCap: feeCap, Gas: 21000, To: &addr, Value: value,
		}), types.LatestSignerForChainID(id), dev)
		if err != nil {
			tb.Fatal(err)
		}
		if err := c.SendTransaction(ctx, tx); err != nil {
			lastErr = err
			continue
		}
		// Wait for this transaction, or for the nonce to move on without
		// it (a concurrent sender replaced it: the balance check decides).
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if ctx.Err() != nil {
				tb.Fatal(ctx.Err())
			}
			if r, err := c.TransactionReceipt(ctx, tx.Hash()); err == nil {
				if r.Status != types.ReceiptStatusSuccessful {
					tb.Fatal("funding transaction failed")
				}
				return
			}
			if n, err := c.NonceAt(ctx, from, nil); err == nil && n > nonce {
				break
			}
		}
	}
	tb.Fatalf("fund %s: %v", addr.Hex(), lastErr)
}
