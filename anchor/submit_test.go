package anchor_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rpc"
	"go.yaml.in/yaml/v3"

	"github.com/sunproof/sunproof/anchor"
	"github.com/sunproof/sunproof/contracts/sunproofanchor"
)

func TestSubmitterConfigValidate(t *testing.T) {
	valid := anchor.DefaultSubmitterConfig()
	valid.Contract = common.HexToAddress("0x00000000000000000000000000000000000000aa")
	valid.KeystoreFile, valid.PasswordFile = "key.json", "password"
	if err := valid.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	for _, tc := range []struct {
		desc string
		edit func(*anchor.SubmitterConfig)
	}{
		{"no rpc url", func(c *anchor.SubmitterConfig) { c.RPCURL = "" }},
		{"no keystore", func(c *anchor.SubmitterConfig) { c.KeystoreFile = "" }},
		{"no password file", func(c *anchor.SubmitterConfig) { c.PasswordFile = "" }},
		{"no contract", func(c *anchor.SubmitterConfig) { c.Contract = common.Address{} }},
		{"gas mode", func(c *anchor.SubmitterConfig) { c.GasMode = "cheap" }},
		{"negative max fee", func(c *anchor.SubmitterConfig) { c.MaxFeeGwei = -1 }},
		{"tip above fee", func(c *anchor.SubmitterConfig) { c.MaxFeeGwei, c.MaxTipGwei = 1, 2 }},
		{"zero confirmations", func(c *anchor.SubmitterConfig) { c.Confirmations = 0 }},
		{"zero poll", func(c *anchor.SubmitterConfig) { c.PollInterval = 0 }},
		{"timeout below poll", func(c *anchor.SubmitterConfig) { c.ReceiptTimeout = time.Millisecond }},
		{"zero rpc timeout", func(c *anchor.SubmitterConfig) { c.RPCTimeout = 0 }},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			c := valid
			tc.edit(&c)
			if err := c.Validate(); err == nil {
				t.Errorf("Validate accepted %+v", c)
			}
		})
	}
	c := valid
	env := map[string]string{anchor.EnvKeystoreFile: "/run/secrets/key", anchor.EnvPasswordFile: "/run/secrets/pw"}
	c.ApplyEnv(func(k string) string { return env[k] })
	if c.KeystoreFile != "/run/secrets/key" || c.PasswordFile != "/run/secrets/pw" {
		t.Errorf("ApplyEnv: %q, %q", c.KeystoreFile, c.PasswordFile)
	}
}

// TestSubmitterConfigYAML: the configuration reads from YAML, the address
// and durations included.
func TestSubmitterConfigYAML(t *testing.T) {
	c := anchor.DefaultSubmitterConfig()
	err := yaml.Unmarshal([]byte(`
rpc_url: http://geth:8545
chain_id: 1337
contract: "0x5FbDB2315678afecb367f032d93F642f64180aa3"
keystore_file: /run/secrets/anchor-key.json
password_file: /run/secrets/anchor-password
gas_mode: legacy
max_fee_gwei: 2.5
confirmations: 3
poll_interval: 250ms
receipt_timeout: 2m
`), &c)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Contract != common.HexToAddress("0x5FbDB2315678afecb367f032d93F642f64180aa3") || c.PollInterval != 250*time.Millisecond ||
		c.ReceiptTimeout != 2*time.Minute || c.MaxFeeGwei != 2.5 || c.Confirmations != 3 || c.GasMode != anchor.GasModeLegacy ||
		c.RPCTimeout != anchor.DefaultSubmitterConfig().RPCTimeout {
		t.Errorf("decoded %+v", c)
	}
}

func TestSubmit(t *testing.T) {
	e := newSimEnv(t, simConfig{realisticGas: true})
	s := e.submitter(t, e.config())
	ctx := context.Background()
	a := chainAnchorTx(0, 1, 42)
	sends := e.client.sends.Load()
	ref, err := s.Submit(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if n := e.client.sends.Load() - sends; n != 1 {
		t.Errorf("Submit sent %d transactions, want 1", n)
	}
	h := e.header(t, ref.BlockNumber)
	if ref.BlockHash != h.Hash() || ref.ChainID != e.dep.ChainID || ref.Contract != e.dep.Contract ||
		ref.Existing || ref.GasUsed == 0 || ref.TxHash == (common.Hash{}) {
		t.Errorf("TxRef = %+v (block hash %s)", ref, h.Hash().Hex())
	}
	r, err := e.client.TransactionReceipt(ctx, ref.TxHash)
	if err != nil || r.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("receipt: %+v, %v", r, err)
	}
	got, gotRef, err := s.Lookup(ctx, a.IntervalStart)
	if err != nil || got != a || gotRef.TxHash != ref.TxHash {
		t.Errorf("Lookup = %+v, %+v, %v", got, gotRef, err)
	}
	if _, _, err := s.Lookup(ctx, a.IntervalEnd); !errors.Is(err, anchor.ErrNotFound) {
		t.Errorf("Lookup(not anchored) = %v, want ErrNotFound", err)
	}
	if ref.GasUsed > 110_000 {
		t.Errorf("anchor used %d gas under Prague rules, want ≤ 110000", ref.GasUsed)
	}
}

// TestSubmitGasModes: EIP-1559 and legacy transactions, with fee caps.
func TestSubmitGasModes(t *testing.T) {
	e := newSimEnv(t, simConfig{})
	ctx := context.Background()
	for i, tc := range []struct {
		desc    string
		mode    string
		maxFee  float64 // gwei
		wantTyp uint8
		wantErr error
	}{
		{"eip1559", anchor.GasModeEIP1559, 0, types.DynamicFeeTxType, nil},
		{"eip1559 capped", anchor.GasModeEIP1559, 50, types.DynamicFeeTxType, nil},
		{"legacy", anchor.GasModeLegacy, 0, types.LegacyTxType, nil},
		{"legacy capped", anchor.GasModeLegacy, 50, types.LegacyTxType, nil},
		{"cap below base fee", anchor.GasModeEIP1559, 1e-9, 0, anchor.ErrFeeCapTooLow},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			cfg := e.config()
			cfg.GasMode, cfg.MaxFeeGwei = tc.mode, tc.maxFee
			s := e.submitter(t, cfg)
			ref, err := s.Submit(ctx, chainAnchorTx(10+i, 1, 1))
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || !anchor.IsRetryable(err) {
					t.Fatalf("Submit = %v, want retryable %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tx, _, err := e.client.TransactionByHash(ctx, ref.TxHash)
			if err != nil {
				t.Fatal(err)
			}
			if tx.Type() != tc.wantTyp {
				t.Errorf("tx type %d, want %d", tx.Type(), tc.wantTyp)
			}
			if tc.maxFee > 0 && tx.GasFeeCap().Cmp(big.NewInt(int64(tc.maxFee*1e9))) > 0 {
				t.Errorf("fee cap %s above %g gwei", tx.GasFeeCap(), tc.maxFee)
			}
		})
	}
}

func TestSubmitRejectsInvalid(t *testing.T) {
	e := newSimEnv(t, simConfig{})
	s := e.submitter(t, e.config())
	for _, tc := range []struct {
		desc string
		a    anchor.AnchorTx
	}{
		{"empty interval", anchor.AnchorTx{IntervalStart: 5, IntervalEnd: 5, BatchRoot: chainRoot(1), BatchSize: 1}},
		{"zero size", anchor.AnchorTx{IntervalStart: 5, IntervalEnd: 6, BatchRoot: chainRoot(1)}},
		{"zero root", anchor.AnchorTx{IntervalStart: 5, IntervalEnd: 6, BatchSize: 1}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			sends := e.client.sends.Load()
			if _, err := s.Submit(context.Background(), tc.a); err == nil || anchor.IsRetryable(err) {
				t.Errorf("Submit = %v, want a final error", err)
			}
			if e.client.sends.Load() != sends {
				t.Error("an invalid anchor was sent")
			}
		})
	}
}

// TestSubmitIdempotent: resubmitting an anchored interval sends nothing;
// the same record returns the first transaction, any other record is a
// final ErrConflictingAnchor.
func TestSubmitIdempotent(t *testing.T) {
	e := newSimEnv(t, simConfig{})
	s := e.submitter(t, e.config())
	ctx := context.Background()
	first := chainAnchorTx(3, 1, 10)
	ref, err := s.Submit(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	otherEnd := first
	otherEnd.IntervalEnd++
	otherScheme := first
	otherScheme.Scheme = 2
	restarted := e.submitter(t, e.config()) // a new process: nothing in memory
	for _, tc := range []struct {
		desc     string
		s        *anchor.Submitter
		a        anchor.AnchorTx
		conflict bool
	}{
		{"same record", s, first, false},
		{"same record after restart", restarted, first, false},
		{"other root", s, chainAnchorTx(3, 2, 10), true},
		{"other size", s, chainAnchorTx(3, 1, 11), true},
		{"other end", s, otherEnd, true},
		{"other scheme", restarted, otherScheme, true},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			sends := e.client.sends.Load()
			got, err := tc.s.Submit(ctx, tc.a)
			if n := e.client.sends.Load() - sends; n != 0 {
				t.Errorf("sent %d transactions, want none", n)
			}
			if tc.conflict {
				if !errors.Is(err, anchor.ErrConflictingAnchor) || anchor.IsRetryable(err) {
					t.Errorf("Submit = %v, want final ErrConflictingAnchor", err)
				}
			} else if err != nil {
				t.Fatalf("Submit: %v", err)
			}
			want := ref
			want.Existing, want.GasUsed = true, 0
			if got != want {
				t.Errorf("TxRef = %+v, want %+v", got, want)
			}
		})
	}
}

// TestSubmitRaces: another submitter anchors the interval after Submit
// checked the chain — before its gas estimate (the estimate reverts with
// IntervalAlreadyAnchored) or in the same block as its transaction (mined
// with status 0). The same root is success with the other's transaction;
// another root is ErrConflictingAnchor.
func TestSubmitRaces(t *testing.T) {
	for _, tc := range []struct {
		desc      string
		sameBlock bool
		otherRoot int
		conflict  bool
	}{
		{"before estimate, same root", false, 1, false},
		{"before estimate, other root", false, 2, true},
		{"same block, same root", true, 1, false},
		{"same block, other root", true, 2, true},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			e := newSimEnv(t, simConfig{})
			sa := sunproofanchor.NewSunproofAnchor()
			e.rawSend(t, e.owner, sa.PackPropose(sunproofanchor.ActionAddSubmitter, crypto.PubkeyToAddress(e.other.PublicKey), 0), true)
			s := e.submitter(t, e.config())
			a := chainAnchorTx(5, 1, 3)
			o := chainAnchorTx(5, tc.otherRoot, 3)
			data := sa.PackAnchor(o.IntervalStart, o.IntervalEnd, o.BatchRoot, o.BatchSize, o.Scheme)
			var other *types.Transaction
			if tc.sameBlock {
				e.client.beforeSend = func(*types.Transaction) {
					if other == nil {
						other = e.rawSend(t, e.other, data, false)
					}
				}
			} else {
				e.client.beforeEstimate = func() {
					if other == nil {
						other = e.rawSend(t, e.other, data, true)
					}
				}
			}
			sends := e.client.sends.Load()
			ref, err := s.Submit(context.Background(), a)
			if tc.conflict {
				if !errors.Is(err, anchor.ErrConflictingAnchor) || anchor.IsRetryable(err) {
					t.Fatalf("Submit = %v, want final ErrConflictingAnchor", err)
				}
			} else if err != nil {
				t.Fatalf("Submit: %v", err)
			}
			if other == nil || ref.TxHash != other.Hash() || !ref.Existing {
				t.Errorf("TxRef = %+v, want the other submitter's transaction", ref)
			}
			wantSends := int64(0)
			if tc.sameBlock {
				wantSends = 1 // ours, mined with status 0
			}
			if n := e.client.sends.Load() - sends; n != wantSends {
				t.Errorf("sent %d transactions, want %d", n, wantSends)
			}
		})
	}
}

// TestSubmitRevertDecoded: a revert comes back as a final *RevertError
// with the contract's custom error, whether gas estimation reports it or
// the transaction is mined with status 0 and replayed at its parent block.
func TestSubmitRevertDecoded(t *testing.T) {
	for _, tc := range []struct {
		desc     string
		fixedGas uint64 // skip estimation: the call is mined and fails
	}{
		{"from gas estimation", 0},
		{"replay of a mined failure", 300_000},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			e := newSimEnv(t, simConfig{})
			s := e.submitter(t, e.config())
			owner := crypto.PubkeyToAddress(e.owner.PublicKey)
			sa := sunproofanchor.NewSunproofAnchor()
			e.rawSend(t, e.owner, sa.PackPropose(sunproofanchor.ActionRemoveSubmitter, owner, 0), true)
			e.client.fixedGas = tc.fixedGas
			_, err := s.Submit(context.Background(), chainAnchorTx(1, 1, 1))
			var rev *anchor.RevertError
			if !errors.As(err, &rev) {
				t.Fatalf("Submit = %v, want a *RevertError", err)
			}
			if rev.Name != "Unauthorized" || len(rev.Args) != 2 || rev.Args[0] != sunproofanchor.RoleSubmitter || rev.Args[1] != owner {
				t.Errorf("revert = %s %v, want Unauthorized(%d, %s)", rev.Name, rev.Args, sunproofanchor.RoleSubmitter, owner)
			}
			if anchor.IsRetryable(err) {
				t.Error("a revert is retryable")
			}
			if mined := tc.fixedGas != 0; mined != errors.Is(err, anchor.ErrTxFailed) || mined != (rev.TxHash != common.Hash{}) {
				t.Errorf("mined %t: ErrTxFailed %t, TxHash %s", mined, errors.Is(err, anchor.ErrTxFailed), rev.TxHash.Hex())
			}
			t.Log(err)
		})
	}
}

// TestSubmitResumesAfterTimeout: a transaction not mined within
// ReceiptTimeout fails retryably; the next Submit of the interval waits for
// the same transaction instead of sending another.
func TestSubmitResumesAfterTimeout(t *testing.T) {
	for _, tc := range []struct {
		desc       string
		mineBefore bool // mined before the retry (found by the pre-check) or during it (in-flight wait)
		lostAnswer bool // the send itself timed out after the node took the transaction
	}{
		{"mined before the retry", true, false},
		{"mined during the retry", false, false},
		{"send answer lost, mined during the retry", false, true},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			e := newSimEnv(t, simConfig{})
			cfg := e.config()
			cfg.ReceiptTimeout = 50 * time.Millisecond
			s := e.submitter(t, cfg)
			ctx := context.Background()
			e.client.manual.Store(true)
			var sent common.Hash
			e.client.beforeSend = func(tx *types.Transaction) { sent = tx.Hash() }
			a := chainAnchorTx(2, 1, 1)
			e.client.lostAnswer.Store(tc.lostAnswer)
			_, err := s.Submit(ctx, a)
			if want := anchor.ErrReceiptTimeout; !tc.lostAnswer && !errors.Is(err, want) || !anchor.IsRetryable(err) {
				t.Fatalf("Submit = %v, want retryable error", err)
			}
			sends := e.client.sends.Load()
			var ref anchor.TxRef
			if tc.mineBefore {
				e.client.commit()
				ref, err = s.Submit(ctx, a)
			} else {
				go func() { time.Sleep(20 * time.Millisecond); e.client.commit() }()
				ref, err = s.Submit(ctx, a)
			}
			if err != nil {
				t.Fatal(err)
			}
			if ref.TxHash != sent || ref.Existing != tc.mineBefore {
				t.Errorf("TxRef = %+v, want tx %s", ref, sent.Hex())
			}
			if n := e.client.sends.Load() - sends; n != 0 {
				t.Errorf("the retry sent %d transactions", n)
			}
		})
	}
}

// TestSubmitFeeBump: a transaction that stays pending is replaced by one
// with higher fees and the same nonce; exactly one of them is mined.
func TestSubmitFeeBump(t *testing.T) {
	e := newSimEnv(t, simConfig{})
	cfg := e.config()
	cfg.FeeBumpAfter = 5 * time.Millisecond
	cfg.PollInterval = 2 * time.Millisecond
	s := e.submitter(t, cfg)
	ctx := context.Background()
	e.client.manual.Store(true)
	var (
		mu   sync.Mutex
		sent []*types.Transaction
	)
	e.client.accepted = func(tx *types.Transaction) { mu.Lock(); sent = append(sent, tx); mu.Unlock() }
	go func() { time.Sleep(100 * time.Millisecond); e.client.commit() }()
	ref, err := s.Submit(ctx, chainAnchorTx(4, 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sent) < 2 {
		t.Fatalf("sent %d versions, want a replacement", len(sent))
	}
	first, last := sent[0], sent[len(sent)-1]
	if last.Nonce() != first.Nonce() || last.GasTipCap().Cmp(first.GasTipCap()) <= 0 || last.GasFeeCap().Cmp(first.GasFeeCap()) <= 0 {
		t.Errorf("replacement nonce %d tip %s cap %s, first nonce %d tip %s cap %s",
			last.Nonce(), last.GasTipCap(), last.GasFeeCap(), first.Nonce(), first.GasTipCap(), first.GasFeeCap())
	}
	// The block is built while bumps go on: any replacement may be the one mined.
	if i := slices.IndexFunc(sent, func(tx *types.Transaction) bool { return tx.Hash() == ref.TxHash }); i < 1 {
		t.Errorf("mined %s: index %d among the %d versions sent, want a replacement", ref.TxHash.Hex(), i, len(sent))
	}
	if n := s.Nonces().Next(); n != first.Nonce()+1 {
		t.Errorf("next nonce %d, want %d", n, first.Nonce()+1)
	}
}

func TestSubmitConfirmations(t *testing.T) {
	e := newSimEnv(t, simConfig{})
	cfg := e.config()
	cfg.Confirmations = 4
	s := e.submitter(t, cfg)
	e.client.mineOnHead.Store(true) // each head poll is a new block
	ctx := context.Background()
	for _, a := range []anchor.AnchorTx{chainAnchorTx(6, 1, 1), chainAnchorTx(6, 1, 1)} { // new, then existing
		ref, err := s.Submit(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		head, err := e.client.Client.BlockNumber(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if head < ref.BlockNumber+3 {
			t.Errorf("Submit (existing %t) returned at head %d, tx in block %d: want 4 confirmations", ref.Existing, head, ref.BlockNumber)
		}
	}
}

// TestSubmitFollowsReorg: the block holding the anchor is replaced while
// Submit counts confirmations; the transaction is mined again in the new
// branch and Submit returns that block.
func TestSubmitFollowsReorg(t *testing.T) {
	e := newSimEnv(t, simConfig{})
	cfg := e.config()
	cfg.Confirmations = 3
	s := e.submitter(t, cfg)
	ctx := context.Background()
	var orphan common.Hash
	e.client.onHead = func() {
		if orphan != (common.Hash{}) {
			return
		}
		head, err := e.client.Client.HeaderByNumber(ctx, nil)
		if err != nil {
			t.Error(err)
			return
		}
		orphan = head.Hash()
		if err := e.sim.Fork(head.ParentHash); err != nil {
			t.Error(err)
		}
		e.client.commit() // a sibling of the anchor's block, with the anchor again
	}
	e.client.mineOnHead.Store(true)
	ref, err := s.Submit(ctx, chainAnchorTx(7, 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	if orphan == (common.Hash{}) || ref.BlockHash == orphan {
		t.Fatalf("TxRef %+v names the orphaned block %s", ref, orphan.Hex())
	}
	if h := e.header(t, ref.BlockNumber); h.Hash() != ref.BlockHash {
		t.Errorf("TxRef block %s is not canonical (%s)", ref.BlockHash.Hex(), h.Hash().Hex())
	}
}

func TestNewSubmitterChecks(t *testing.T) {
	e := newSimEnv(t, simConfig{})
	ctx := context.Background()
	for _, tc := range []struct {
		desc string
		edit func(*anchor.SubmitterConfig)
		key  bool // sign with e.other, which holds no role
	}{
		{"wrong chain id", func(c *anchor.SubmitterConfig) { c.ChainID = e.dep.ChainID + 1 }, false},
		{"no contract", func(c *anchor.SubmitterConfig) { c.Contract = common.HexToAddress("0xaa") }, false},
		{"not a submitter", func(*anchor.SubmitterConfig) {}, true},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			cfg := e.config()
			tc.edit(&cfg)
			key := e.owner
			if tc.key {
				key = e.other
			}
			if _, err := anchor.NewSubmitterWith(ctx, cfg, e.client, key, nil, nil); err == nil {
				t.Error("NewSubmitterWith succeeded")
			}
		})
	}
	if _, err := anchor.NewRegistrarWith(ctx, e.config(), e.client, e.other, nil); err == nil {
		t.Error("NewRegistrarWith accepted a key without the registrar role")
	}
}

// rpcError is a JSON-RPC error as ethclient returns it.
type rpcError struct {
	code int
	msg  string
}

func (e rpcError) Error() string  { return e.msg }
func (e rpcError) ErrorCode() int { return e.code }

func TestIsRetryable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{context.DeadlineExceeded, true},
		{fmt.Errorf("eth_call: %w", context.DeadlineExceeded), true},
		{context.Canceled, false},
		{io.EOF, true},
		{io.ErrUnexpectedEOF, true},
		{&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, true},
		{fmt.Errorf("post: %w", syscall.ECONNRESET), true},
		{rpc.HTTPError{StatusCode: 503, Status: "503 Service Unavailable"}, true},
		{rpc.HTTPError{StatusCode: 429, Status: "429 Too Many Requests"}, true},
		{rpc.HTTPError{StatusCode: 400, Status: "400 Bad Request"}, false},
		{rpcError{-32000, "nonce too low: next nonce 7, tx nonce 5"}, true},
		{rpcError{-32000, "Nonce too low"}, true},
		{rpcError{-32000, "replacement transaction underpriced"}, true},
		{rpcError{-32000, "transaction underpriced: tip needed 1, tip permitted 0"}, true},
		{rpcError{-32000, "already known"}, true},
		{rpcError{-32000, "txpool is full"}, true},
		{rpcError{-32000, "insufficient funds for gas * price + value: balance 0"}, false},
		{rpcError{3, "execution reverted"}, false},
		{anchor.ErrReceiptTimeout, true},
		{fmt.Errorf("anchor interval 5: %w", anchor.ErrTxDropped), true},
		{anchor.ErrFeeCapTooLow, true},
		{fmt.Errorf("anchor interval 5: %w", anchor.ErrConflictingAnchor), false},
		{anchor.ErrConflictingDeviceKey, false},
		{fmt.Errorf("x: %w", anchor.ErrTxFailed), false},
		{fmt.Errorf("estimate gas: %w", &anchor.RevertError{Name: "Unauthorized"}), false},
		// A revert whose message happens to contain a retryable phrase is still final.
		{&anchor.RevertError{Name: "Error", Args: []any{"nonce too low"}}, false},
		{errors.New("something unexpected"), false},
	} {
		t.Run(fmt.Sprint(tc.err), func(t *testing.T) {
			if got := anchor.IsRetryable(tc.err); got != tc.want {
				t.Errorf("IsRetryable(%v) = %t, want %t", tc.err, got, tc.want)
			}
		})
	}
}
