package anchor_test

// Integration tests against the local stack's geth dev node (scripts/stack.sh
// up; SUNPROOF_ETH_RPC, default http://127.0.0.1:8545):
//
//	go test ./anchor -run Integration -v
//	go test ./anchor -run '^$' -bench BenchmarkIntegrationAnchorGas -benchtime 5x
//
// They sign with geth's dev key, imported into a keystore like a deployment
// would, and deploy a fresh contract per test. Other tests may use the dev
// key at the same time: the nonce manager resyncs, and the tests retry
// what IsRetryable says is transient (the stack may also restart briefly).

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/sunproof/sunproof/anchor"
	"github.com/sunproof/sunproof/ingest/reading"
	"github.com/sunproof/sunproof/internal/teststack"
)

// gethEnv is a fresh contract on the stack's geth, deployed by the dev key
// (admin, submitter and registrar), with the key in a keystore file.
type gethEnv struct {
	rpc      string
	client   *ethclient.Client
	key      *ecdsa.PrivateKey
	dep      anchor.Deployment
	keystore string
	password string
	dir      string
}

// chainRetry calls f until it succeeds, fails with an error IsRetryable
// calls final, or a minute passes: what a caller of the chain layer does.
func chainRetry[T any](tb testing.TB, ctx context.Context, what string, f func() (T, error)) (T, error) {
	tb.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		v, err := f()
		if err == nil || !anchor.IsRetryable(err) || time.Now().After(deadline) || ctx.Err() != nil {
			return v, err
		}
		tb.Logf("%s: retrying after %v", what, err)
		time.Sleep(500 * time.Millisecond)
	}
}

func chainTestLogger(tb testing.TB) *slog.Logger {
	if !testing.Verbose() {
		return nil
	}
	return slog.New(slog.NewTextHandler(tb.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func newGethEnv(tb testing.TB, ctx context.Context) *gethEnv {
	tb.Helper()
	stack := teststack.Require(tb, teststack.Eth)
	e := &gethEnv{rpc: stack.EthRPC, dir: tb.TempDir()}
	var err error
	if e.client, err = ethclient.DialContext(ctx, e.rpc); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(e.client.Close)
	e.password = filepath.Join(e.dir, "password")
	if err := os.WriteFile(e.password, []byte("integration\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	if e.keystore, err = anchor.ImportDevKey(anchor.GethDevKey, "integration", filepath.Join(e.dir, "keystore")); err != nil {
		tb.Fatal(err)
	}
	if e.key, err = anchor.LoadKey(e.keystore, e.password); err != nil {
		tb.Fatal(err)
	}
	e.dep, err = chainRetry(tb, ctx, "deploy", func() (anchor.Deployment, error) {
		return anchor.DeployDev(ctx, e.client, e.key, chainTestLogger(tb))
	})
	if err != nil {
		tb.Fatalf("deploy: %v", err)
	}
	tb.Logf("contract %s deployed in block %d (tx %s, %d gas)", e.dep.Contract.Hex(), e.dep.BlockNumber, e.dep.TxHash.Hex(), e.dep.GasUsed)
	return e
}

func (e *gethEnv) config() anchor.SubmitterConfig {
	c := anchor.DefaultSubmitterConfig()
	c.RPCURL = e.rpc
	c.Contract = e.dep.Contract
	c.KeystoreFile, c.PasswordFile = e.keystore, e.password
	c.NonceFile = filepath.Join(e.dir, "submitter.nonce")
	c.PollInterval = 100 * time.Millisecond
	c.ReceiptTimeout = time.Minute
	return c
}

func (e *gethEnv) submitter(tb testing.TB, ctx context.Context, cfg anchor.SubmitterConfig) *anchor.Submitter {
	tb.Helper()
	s, err := chainRetry(tb, ctx, "new submitter", func() (*anchor.Submitter, error) {
		return anchor.NewSubmitter(ctx, cfg, chainTestLogger(tb), nil)
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s
}

func (e *gethEnv) submit(tb testing.TB, ctx context.Context, s *anchor.Submitter, a anchor.AnchorTx) (anchor.TxRef, error) {
	tb.Helper()
	return chainRetry(tb, ctx, "submit", func() (anchor.TxRef, error) { return s.Submit(ctx, a) })
}

// gethInterval returns the i-th hourly interval after the current hour, in
// Unix ms (the contract is fresh, so any grid works; this one is realistic).
func gethInterval(i int) (start, end uint64) {
	const hour = 3_600_000
	h := uint64(time.Now().UnixMilli())/hour*hour + uint64(i)*hour
	return h, h + hour
}

func TestIntegrationSubmitter(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	e := newGethEnv(t, ctx)
	d := filepath.Join(e.dir, "deployment.json")
	if err := anchor.WriteDeployment(d, e.dep); err != nil {
		t.Fatal(err)
	}
	if got, err := anchor.ReadDeployment(d); err != nil || got.Contract != e.dep.Contract || got.ChainID != 1337 || got.TxHash != e.dep.TxHash {
		t.Errorf("ReadDeployment = %+v, %v", got, err)
	}

	cfg := e.config()
	cfg.Confirmations = 3
	s := e.submitter(t, ctx, cfg)
	start, end := gethInterval(0)
	a := anchor.AnchorTx{IntervalStart: start, IntervalEnd: end, BatchRoot: chainRoot(1), BatchSize: 17, Scheme: anchor.SchemeRFC9162SHA256}
	began := time.Now()
	ref, err := e.submit(t, ctx, s, a)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("anchored in %s: tx %s block %d, %d gas", time.Since(began).Round(time.Millisecond), ref.TxHash.Hex(), ref.BlockNumber, ref.GasUsed)
	head, err := e.client.BlockNumber(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if head < ref.BlockNumber+2 {
		t.Errorf("Submit returned at head %d for a tx in block %d: want 3 confirmations", head, ref.BlockNumber)
	}
	r, err := e.client.TransactionReceipt(ctx, ref.TxHash)
	if err != nil || r.Status != types.ReceiptStatusSuccessful || r.BlockHash != ref.BlockHash || ref.ChainID != 1337 {
		t.Fatalf("receipt %+v, %v; ref %+v", r, err, ref)
	}
	if ref.GasUsed > 110_000 {
		t.Errorf("anchor used %d gas with the stack's Prague genesis, want ≤ 110000", ref.GasUsed)
	}

	// The same interval again: nothing sent, the first transaction returned.
	next := s.Nonces().Next()
	again, err := e.submit(t, ctx, s, a)
	if err != nil || !again.Existing || again.TxHash != ref.TxHash || again.BlockHash != ref.BlockHash {
		t.Errorf("Submit again = %+v, %v, want existing %s", again, err, ref.TxHash.Hex())
	}
	if s.Nonces().Next() != next {
		t.Error("resubmitting the same interval used a nonce")
	}
	// After a restart (same nonce file), too.
	restarted := e.submitter(t, ctx, cfg)
	if again, err := e.submit(t, ctx, restarted, a); err != nil || again.TxHash != ref.TxHash {
		t.Errorf("Submit after restart = %+v, %v", again, err)
	}
	// Another root for the interval: final.
	other := a
	other.BatchRoot = chainRoot(2)
	if _, err := e.submit(t, ctx, restarted, other); !errors.Is(err, anchor.ErrConflictingAnchor) || anchor.IsRetryable(err) {
		t.Errorf("Submit(other root) = %v, want final ErrConflictingAnchor", err)
	}

	// A burst: concurrent intervals, one nonce manager.
	var wg sync.WaitGroup
	refs := make([]anchor.TxRef, 8)
	errs := make([]error, len(refs))
	for i := range refs {
		wg.Go(func() {
			s, e2 := gethInterval(i + 1)
			refs[i], errs[i] = e.submit(t, ctx, restarted, anchor.AnchorTx{IntervalStart: s, IntervalEnd: e2, BatchRoot: chainRoot(10 + i), BatchSize: 1, Scheme: 1})
		})
	}
	wg.Wait()
	seen := map[common.Hash]bool{}
	for i, err := range errs {
		if err != nil {
			t.Errorf("burst submit %d: %v", i, err)
		} else if seen[refs[i].TxHash] || refs[i].Existing {
			t.Errorf("burst submit %d: %+v", i, refs[i])
		}
		seen[refs[i].TxHash] = true
	}

	reader, err := anchor.DialEthReader(ctx, anchor.EthReaderConfig{RPCURL: e.rpc, BlockTimeUnit: time.Second, RPCTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	rec, err := reader.Anchor(ctx, e.dep.Contract.Hex(), int64(start))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Root != a.BatchRoot || rec.Size != 17 || rec.IntervalEndMS != int64(end) || rec.TxHash != ref.TxHash.Hex() || rec.BlockNumber != ref.BlockNumber {
		t.Errorf("Anchor = %+v, want root %x size 17 tx %s block %d", rec, a.BatchRoot, ref.TxHash.Hex(), ref.BlockNumber)
	}
}

// TestIntegrationVerify registers device keys, anchors a window of their
// readings and verifies a bundle through EthReader, all on geth.
func TestIntegrationVerify(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	e := newGethEnv(t, ctx)
	s := e.submitter(t, ctx, e.config())
	reg := s.Registrar()
	reader, err := anchor.DialEthReader(ctx, anchor.EthReaderConfig{RPCURL: e.rpc, BlockTimeUnit: time.Second, RPCTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()

	// Device ids unique per run: keys are never reused on a contract, but
	// this one is fresh anyway.
	run := teststack.RunID()
	devID := func(n int) string { return fmt.Sprintf("it-%s-%d", run, n) }
	devKey := func(n int) ed25519.PrivateKey { return chainDeviceKey(1000 + n) }
	var regRef anchor.TxRef
	for n := 1; n <= 2; n++ {
		regRef, err = chainRetry(t, ctx, "register", func() (anchor.TxRef, error) {
			return reg.RegisterDevice(ctx, devID(n), devKey(n).Public().(ed25519.PublicKey))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if again, err := reg.RegisterDevice(ctx, devID(2), devKey(2).Public().(ed25519.PublicKey)); err != nil || !again.Existing || again.TxHash != regRef.TxHash {
		t.Errorf("RegisterDevice again = %+v, %v", again, err)
	}
	h, err := e.client.HeaderByNumber(ctx, new(big.Int).SetUint64(regRef.BlockNumber))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := reader.DeviceKeys(ctx, e.dep.Contract.Hex(), devID(2))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || !keys[0].PublicKey.Equal(devKey(2).Public()) || keys[0].RegisteredAtMS != int64(h.Time)*1000 || keys[0].RevokedAtMS != 0 {
		t.Errorf("DeviceKeys = %+v, want one key registered at %d s", keys, h.Time)
	}

	// Readings signed after registration, in one 15-minute window.
	const span = 15 * 60 * 1000
	ts := int64(h.Time)*1000 + 1000
	startMS := ts / span * span
	if ts+10 >= startMS+span {
		startMS += span
		ts = startMS
	}
	var wires [][]byte
	for n := 1; n <= 2; n++ {
		for seq := uint64(1); seq <= 4; seq++ {
			r := reading.Reading{DeviceID: devID(n), SiteID: "site-it", Seq: seq, TimeMS: ts + int64(seq),
				Measurement: reading.Measurement{ACPowerW: 800, EnergyWh: seq, ACVoltageV: 231, FrequencyHz: 50, PowerFactor: 1,
					DCVoltageV: 370, DCCurrentA: 2.2, DCPowerW: 814, TempC: 30, State: reading.StateMPPT}}
			if err := r.Sign(devKey(n)); err != nil {
				t.Fatal(err)
			}
			w, err := r.Wire()
			if err != nil {
				t.Fatal(err)
			}
			wires = append(wires, w)
		}
	}
	w, err := anchor.NewWindow("p0", startMS, startMS+span, anchor.KindOnTime, 0, wires)
	if err != nil {
		t.Fatal(err)
	}
	b, err := anchor.NewBatch(startMS, startMS+span, []anchor.Commitment{w.Commitment()})
	if err != nil {
		t.Fatal(err)
	}
	a, err := anchor.AnchorTxFor(b.Record())
	if err != nil {
		t.Fatal(err)
	}
	ref, err := e.submit(t, ctx, s, a)
	if err != nil {
		t.Fatal(err)
	}
	for i := range w.Len() {
		bundle, err := anchor.NewBundle(w, i, b, devKey(1+i/4).Public().(ed25519.PublicKey))
		if err != nil {
			t.Fatal(err)
		}
		bundle.Anchor = ref.AnchorRef(b.IntervalStartMS, b.IntervalEndMS)
		if res, err := anchor.Verify(ctx, bundle, reader); err != nil || !res.Anchored {
			t.Errorf("Verify leaf %d: %+v, %v", i, res, err)
		}
	}
}

// BenchmarkIntegrationAnchorGas reports the gas per anchoring transaction
// on the local geth (genesis scripts/stack/geth/genesis-prague.json:
// Prague/Osaka without the Bogota/Amsterdam repricing) for batches of 1,
// 100 and 10,000 windows. Each iteration waits for a block (1 s):
//
//	go test ./anchor -run '^$' -bench BenchmarkIntegrationAnchorGas -benchtime 5x
func BenchmarkIntegrationAnchorGas(b *testing.B) {
	ctx := context.Background()
	e := newGethEnv(b, ctx)
	cfg := e.config()
	cfg.PollInterval = 50 * time.Millisecond
	s := e.submitter(b, ctx, cfg)
	round := 0
	for _, n := range gasBatchSizes {
		b.Run(fmt.Sprintf("windows=%d", n), func(b *testing.B) {
			batch := syntheticBatch(b, n, 1_767_225_600_000)
			var total uint64
			i := 0
			for b.Loop() {
				round++
				ref, err := e.submit(b, ctx, s, anchorTxAt(b, batch, round))
				if err != nil {
					b.Fatal(err)
				}
				total += ref.GasUsed
				i++
			}
			b.ReportMetric(float64(total)/float64(i), "gas/anchor")
		})
	}
}
