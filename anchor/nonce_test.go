package anchor_test

import (
	"context"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/sunproof/sunproof/anchor"
)

// fakeNonces is a NonceSource whose pending nonce the test sets.
type fakeNonces struct {
	pending atomic.Uint64
	calls   atomic.Int64
}

func (f *fakeNonces) PendingNonceAt(context.Context, common.Address) (uint64, error) {
	f.calls.Add(1)
	return f.pending.Load(), nil
}

func readNonceFile(tb testing.TB, path string) uint64 {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var st struct {
		NextNonce uint64 `json:"next_nonce"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		tb.Fatal(err)
	}
	return st.NextNonce
}

// TestNonceManagerConcurrent: concurrent Use calls get distinct,
// consecutive nonces; the file survives a restart, whose manager takes the
// larger of file and node.
func TestNonceManagerConcurrent(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "nonce.json")
	addr := common.HexToAddress("0x00000000000000000000000000000000000000a1")
	src := &fakeNonces{}
	src.pending.Store(5)
	m, err := anchor.NewNonceManager(ctx, src, addr, 1337, file, nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 50
	var (
		mu  sync.Mutex
		got []uint64
		wg  sync.WaitGroup
	)
	inUse := atomic.Int32{}
	for range n {
		wg.Go(func() {
			if err := m.Use(ctx, func(nonce uint64) error {
				if inUse.Add(1) != 1 {
					t.Error("two sends at once")
				}
				defer inUse.Add(-1)
				mu.Lock()
				got = append(got, nonce)
				mu.Unlock()
				return nil
			}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	slices.Sort(got)
	for i, v := range got {
		if v != uint64(5+i) {
			t.Fatalf("nonces %v: want 5..%d once each", got, 5+n-1)
		}
	}
	if v := readNonceFile(t, file); v != 5+n {
		t.Errorf("file says %d, want %d", v, 5+n)
	}

	// Restart: the node lags behind (its pool lost nothing, a load
	// balancer sent us to a node that has not seen the last transactions).
	m2, err := anchor.NewNonceManager(ctx, src, addr, 1337, file, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := m2.Next(); got != 5+n {
		t.Errorf("after restart Next = %d, want %d (persisted)", got, 5+n)
	}
	// Restart: the node is ahead (another process used the key).
	src.pending.Store(100)
	m3, err := anchor.NewNonceManager(ctx, src, addr, 1337, file, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := m3.Next(); got != 100 {
		t.Errorf("after restart Next = %d, want 100 (node)", got)
	}

	// Another key or chain must not take over the file.
	if _, err := anchor.NewNonceManager(ctx, src, common.HexToAddress("0xb2"), 1337, file, nil); err == nil {
		t.Error("nonce file of another address accepted")
	}
	if _, err := anchor.NewNonceManager(ctx, src, addr, 1, file, nil); err == nil {
		t.Error("nonce file of another chain accepted")
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(file), ".*tmp*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestNonceManagerResyncAfterError: a failed send consumes no nonce, and the
// next Use asks the node again, even if that goes down.
func TestNonceManagerResyncAfterError(t *testing.T) {
	ctx := context.Background()
	src := &fakeNonces{}
	src.pending.Store(10)
	m, err := anchor.NewNonceManager(ctx, src, common.HexToAddress("0xa1"), 1, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	use := func(fail error) uint64 {
		t.Helper()
		var used uint64
		err := m.Use(ctx, func(n uint64) error { used = n; return fail })
		if !errors.Is(err, fail) {
			t.Fatalf("Use = %v, want %v", err, fail)
		}
		return used
	}
	if got := use(nil); got != 10 {
		t.Errorf("first nonce %d, want 10", got)
	}
	calls := src.calls.Load()
	if got := use(nil); got != 11 || src.calls.Load() != calls {
		t.Errorf("second nonce %d (node asked %d times), want 11 without asking", got, src.calls.Load()-calls)
	}
	src.pending.Store(20) // someone else used the key
	if got := use(errors.New("nonce too low")); got != 12 {
		t.Errorf("stale nonce %d, want 12", got)
	}
	if got := use(nil); got != 20 {
		t.Errorf("nonce after the error %d, want 20 from the node", got)
	}
	src.pending.Store(3) // the node lost its pool: a gap would block every later transaction
	if err := m.Resync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := m.Next(); got != 3 {
		t.Errorf("Next after Resync = %d, want 3", got)
	}
}

// TestNonceAfterExternalTx: another process sends with the submitter's key;
// the next Submit hits "nonce too low", resyncs and succeeds. A restarted
// submitter continues from the persisted nonce.
func TestNonceAfterExternalTx(t *testing.T) {
	e := newSimEnv(t, simConfig{})
	ctx := context.Background()
	cfg := e.config()
	cfg.NonceFile = filepath.Join(t.TempDir(), "submitter.nonce")
	s := e.submitter(t, cfg)
	owner := crypto.PubkeyToAddress(e.owner.PublicKey)
	if _, err := s.Submit(ctx, chainAnchorTx(0, 1, 1)); err != nil {
		t.Fatal(err)
	}
	next := s.Nonces().Next()
	if got := readNonceFile(t, cfg.NonceFile); got != next {
		t.Errorf("nonce file %d, want %d", got, next)
	}

	// The external transaction: a plain transfer with the same key.
	id := new(big.Int).SetUint64(e.dep.ChainID)
	tx, err := types.SignTx(types.NewTx(&types.DynamicFeeTx{
		ChainID: id, Nonce: next, GasTipCap: big.NewInt(1e9), GasFeeCap: big.NewInt(100e9), Gas: 21_000, To: &owner,
	}), types.LatestSignerForChainID(id), e.owner)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.client.Client.SendTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	e.client.commit()

	var rejected atomic.Int32
	e.client.beforeSend = func(tx *types.Transaction) {
		if tx.Nonce() == next {
			rejected.Add(1)
		}
	}
	ref, err := s.Submit(ctx, chainAnchorTx(1, 1, 1))
	if err != nil {
		t.Fatalf("Submit after an external tx: %v", err)
	}
	if rejected.Load() != 1 {
		t.Errorf("%d sends with the stale nonce %d, want 1 (then a resync)", rejected.Load(), next)
	}
	mined, _, err := e.client.TransactionByHash(ctx, ref.TxHash)
	if err != nil || mined.Nonce() != next+1 {
		t.Errorf("anchor mined with nonce %v (%v), want %d", mined.Nonce(), err, next+1)
	}
	if got := readNonceFile(t, cfg.NonceFile); got != next+2 {
		t.Errorf("nonce file %d, want %d", got, next+2)
	}

	restarted := e.submitter(t, cfg)
	if got := restarted.Nonces().Next(); got != next+2 {
		t.Errorf("restarted submitter starts at %d, want %d", got, next+2)
	}
	if _, err := restarted.Submit(ctx, chainAnchorTx(2, 1, 1)); err != nil {
		t.Fatal(err)
	}
}

// TestNonceGapRecovered: a nonce file ahead of the chain (say the chain was
// reset, or the node lost its pool) makes the first transaction wait
// behind a gap; the submitter notices it is not executable, resyncs and
// sends again.
func TestNonceGapRecovered(t *testing.T) {
	e := newSimEnv(t, simConfig{})
	ctx := context.Background()
	owner := crypto.PubkeyToAddress(e.owner.PublicKey)
	pending, err := e.client.PendingNonceAt(ctx, owner)
	if err != nil {
		t.Fatal(err)
	}
	cfg := e.config()
	cfg.NonceFile = filepath.Join(t.TempDir(), "submitter.nonce")
	b, _ := json.Marshal(map[string]any{"address": owner, "chain_id": e.dep.ChainID, "next_nonce": pending + 3})
	if err := os.WriteFile(cfg.NonceFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	s := e.submitter(t, cfg)
	if got := s.Nonces().Next(); got != pending+3 {
		t.Fatalf("Next = %d, want the persisted %d", got, pending+3)
	}
	ref, err := s.Submit(ctx, chainAnchorTx(0, 1, 1))
	if err != nil {
		t.Fatalf("Submit behind a gap: %v", err)
	}
	mined, _, err := e.client.TransactionByHash(ctx, ref.TxHash)
	if err != nil || mined.Nonce() != pending {
		t.Errorf("mined with nonce %d (%v), want %d", mined.Nonce(), err, pending)
	}
	if got := s.Nonces().Next(); got != pending+1 {
		t.Errorf("Next = %d, want %d", got, pending+1)
	}
}
