package anchor_test

// Chain-layer tests on go-ethereum's simulated backend. Helpers here are
// prefixed sim/chain so they stay apart from the core's test helpers in
// this package.

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	"github.com/ethereum/go-ethereum/node"

	"github.com/sunproof/sunproof/anchor"
	"github.com/sunproof/sunproof/ingest/reading"
)

// simRealisticGas turns off the "Bogota" and "Amsterdam" forks of geth
// 1.17's dev chain config, which reprice new storage several-fold; what
// remains are the Prague/Osaka rules of the consortium chains we target
// (same idea as realisticGas in contracts/sunproofanchor).
func simRealisticGas(_ *node.Config, ethConf *ethconfig.Config) {
	cfg := *ethConf.Genesis.Config
	cfg.BogotaTime = nil
	cfg.AmsterdamTime = nil
	ethConf.Genesis.Config = &cfg
}

// simClient is the simulated backend's client that mines: a block after
// every accepted transaction (unless manual), and an empty one on every
// head query when mineOnHead is set (time passing, for confirmations).
type simClient struct {
	simulated.Client
	sim *simulated.Backend

	mu         sync.Mutex
	sends      atomic.Int64 // transactions accepted by SendTransaction
	manual     atomic.Bool
	mineOnHead atomic.Bool
	// lostAnswer makes the next SendTransaction report a timeout after the
	// node accepted the transaction (the answer was lost on the way back).
	lostAnswer atomic.Bool
	// beforeSend and beforeEstimate, if set, run before each
	// SendTransaction and EstimateGas; accepted, after each transaction
	// the node accepted.
	beforeSend     func(tx *types.Transaction)
	accepted       func(tx *types.Transaction)
	beforeEstimate func()
	// onHead, if set, runs at each BlockNumber call before it mines.
	onHead func()
	// fixedGas, if non-zero, replaces gas estimation (to mine doomed calls).
	fixedGas uint64
}

func (c *simClient) commit() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sim.Commit()
}

func (c *simClient) SendTransaction(ctx context.Context, tx *types.Transaction) error {
	if f := c.beforeSend; f != nil {
		f(tx)
	}
	if err := c.Client.SendTransaction(ctx, tx); err != nil {
		return err
	}
	c.sends.Add(1)
	if f := c.accepted; f != nil {
		f(tx)
	}
	if !c.manual.Load() {
		c.commit()
	}
	if c.lostAnswer.CompareAndSwap(true, false) {
		return &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}
	}
	return nil
}

func (c *simClient) BlockNumber(ctx context.Context) (uint64, error) {
	if f := c.onHead; f != nil {
		f()
	}
	if c.mineOnHead.Load() {
		c.commit()
	}
	return c.Client.BlockNumber(ctx)
}

func (c *simClient) EstimateGas(ctx context.Context, msg ethereum.CallMsg) (uint64, error) {
	if f := c.beforeEstimate; f != nil {
		f()
	}
	if c.fixedGas != 0 {
		return c.fixedGas, nil
	}
	return c.Client.EstimateGas(ctx, msg)
}

// simEnv is a simulated chain with a contract deployed by DeployDev: owner
// is its only admin (threshold 1), a submitter and a registrar. other is a
// funded account with no role.
type simEnv struct {
	sim    *simulated.Backend
	client *simClient
	owner  *ecdsa.PrivateKey
	other  *ecdsa.PrivateKey
	dep    anchor.Deployment
}

type simConfig struct {
	realisticGas bool
}

func newSimEnv(tb testing.TB, cfg simConfig) *simEnv {
	tb.Helper()
	e := &simEnv{owner: simKey(tb), other: simKey(tb)}
	alloc := types.GenesisAlloc{}
	balance := new(big.Int).Mul(big.NewInt(1_000_000), big.NewInt(1e18))
	for _, k := range []*ecdsa.PrivateKey{e.owner, e.other} {
		alloc[crypto.PubkeyToAddress(k.PublicKey)] = types.Account{Balance: balance}
	}
	var opts []func(*node.Config, *ethconfig.Config)
	if cfg.realisticGas {
		opts = append(opts, simRealisticGas)
	}
	e.sim = simulated.NewBackend(alloc, opts...)
	tb.Cleanup(func() { _ = e.sim.Close() })
	e.client = &simClient{Client: e.sim.Client(), sim: e.sim}
	var err error
	if e.dep, err = anchor.DeployDev(context.Background(), e.client, e.owner, nil); err != nil {
		tb.Fatalf("deploy: %v", err)
	}
	return e
}

func simKey(tb testing.TB) *ecdsa.PrivateKey {
	tb.Helper()
	k, err := crypto.GenerateKey()
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// config returns a submitter configuration for the env's contract with
// fast polling.
func (e *simEnv) config() anchor.SubmitterConfig {
	c := anchor.DefaultSubmitterConfig()
	c.Contract = e.dep.Contract
	c.PollInterval = time.Millisecond
	c.ReceiptTimeout = 10 * time.Second
	c.FeeBumpAfter = 0
	return c
}

func (e *simEnv) submitter(tb testing.TB, cfg anchor.SubmitterConfig) *anchor.Submitter {
	tb.Helper()
	s, err := anchor.NewSubmitterWith(context.Background(), cfg, e.client, e.owner, nil, nil)
	if err != nil {
		tb.Fatalf("new submitter: %v", err)
	}
	return s
}

func (e *simEnv) reader(tb testing.TB) *anchor.EthReader {
	tb.Helper()
	r, err := anchor.NewEthReader(e.client, anchor.DefaultEthReaderConfig())
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// rawSend signs data to the contract with key (tip 2 gwei, so that it goes
// first in a block) and sends it past simClient's hooks and counter; it
// mines a block if commit.
func (e *simEnv) rawSend(tb testing.TB, key *ecdsa.PrivateKey, data []byte, commit bool) *types.Transaction {
	tb.Helper()
	ctx := context.Background()
	from := crypto.PubkeyToAddress(key.PublicKey)
	nonce, err := e.client.PendingNonceAt(ctx, from)
	if err != nil {
		tb.Fatal(err)
	}
	id := new(big.Int).SetUint64(e.dep.ChainID)
	to := e.dep.Contract
	tx, err := types.SignTx(types.NewTx(&types.DynamicFeeTx{
		ChainID: id, Nonce: nonce, GasTipCap: big.NewInt(2e9), GasFeeCap: big.NewInt(100e9),
		Gas: 500_000, To: &to, Data: data,
	}), types.LatestSignerForChainID(id), key)
	if err != nil {
		tb.Fatal(err)
	}
	if err := e.client.Client.SendTransaction(ctx, tx); err != nil {
		tb.Fatal(err)
	}
	if commit {
		e.client.commit()
	}
	return tx
}

func (e *simEnv) contract() string { return strings.ToLower(e.dep.Contract.Hex()) }

// header returns the header of block n.
func (e *simEnv) header(tb testing.TB, n uint64) *types.Header {
	tb.Helper()
	h, err := e.client.HeaderByNumber(context.Background(), new(big.Int).SetUint64(n))
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

// chainRoot returns a distinct non-zero root for n.
func chainRoot(n int) [32]byte { return sha256.Sum256(fmt.Appendf(nil, "batch root %d", n)) }

// chainInterval returns an hourly interval's bounds in Unix ms.
func chainInterval(i int) (start, end uint64) {
	const base, hour = 1_767_225_600_000, 3_600_000
	return base + uint64(i)*hour, base + uint64(i+1)*hour
}

func chainAnchorTx(i, rootN int, size uint64) anchor.AnchorTx {
	s, e := chainInterval(i)
	return anchor.AnchorTx{IntervalStart: s, IntervalEnd: e, BatchRoot: chainRoot(rootN), BatchSize: size, Scheme: anchor.SchemeRFC9162SHA256}
}

// chainDeviceKey returns a fixed Ed25519 key for device n of the chain tests.
func chainDeviceKey(n int) ed25519.PrivateKey {
	seed := sha256.Sum256(fmt.Appendf(nil, "sunproof chain test device %d", n))
	return ed25519.NewKeyFromSeed(seed[:])
}

func chainDeviceID(n int) string { return fmt.Sprintf("chain-inv-%03d", n) }

// chainReading returns the wire bytes of a signed reading of device n.
func chainReading(tb testing.TB, n int, seq uint64, tsMS int64) []byte {
	tb.Helper()
	r := reading.Reading{
		DeviceID: chainDeviceID(n), SiteID: "site-chain", Seq: seq, TimeMS: tsMS,
		Measurement: reading.Measurement{
			ACPowerW: 1200, EnergyWh: 5000 + seq, ACVoltageV: 230, FrequencyHz: 50,
			PowerFactor: 1, DCVoltageV: 380, DCCurrentA: 3, DCPowerW: 1140, TempC: 35,
			State: reading.StateMPPT,
		},
	}
	if err := r.Sign(chainDeviceKey(n)); err != nil {
		tb.Fatal(err)
	}
	w, err := r.Wire()
	if err != nil {
		tb.Fatal(err)
	}
	return w
}

func TestEthReaderAnchor(t *testing.T) {
	e := newSimEnv(t, simConfig{})
	s := e.submitter(t, e.config())
	ctx := context.Background()
	a := chainAnchorTx(0, 1, 7)
	ref, err := s.Submit(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	r := e.reader(t)
	if id, err := r.ChainID(ctx); err != nil || id != e.dep.ChainID {
		t.Errorf("ChainID = %d, %v, want %d", id, err, e.dep.ChainID)
	}

	got, err := r.Anchor(ctx, e.contract(), int64(a.IntervalStart))
	if err != nil {
		t.Fatal(err)
	}
	want := anchor.AnchorRecord{
		IntervalStartMS: int64(a.IntervalStart), IntervalEndMS: int64(a.IntervalEnd),
		Root: a.BatchRoot, Size: 7, Scheme: a.Scheme,
		TxHash: ref.TxHash.Hex(), BlockNumber: ref.BlockNumber,
	}
	if got != want {
		t.Errorf("Anchor = %+v, want %+v", got, want)
	}
	// Mixed-case addresses are the same contract.
	if _, err := r.Anchor(ctx, e.dep.Contract.Hex(), int64(a.IntervalStart)); err != nil {
		t.Errorf("checksummed address: %v", err)
	}

	for _, tc := range []struct {
		desc     string
		contract string
		start    int64
	}{
		{"not anchored", e.contract(), int64(a.IntervalEnd)},
		{"negative start", e.contract(), -1},
		{"no contract there", "0x00000000000000000000000000000000000000aa", int64(a.IntervalStart)},
		{"not an address", "0x1234", int64(a.IntervalStart)},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			_, err := r.Anchor(ctx, tc.contract, tc.start)
			if !errors.Is(err, anchor.ErrNotFound) {
				t.Errorf("Anchor: %v, want ErrNotFound", err)
			}
		})
	}
}

func TestRegistrarAndDeviceKeys(t *testing.T) {
	e := newSimEnv(t, simConfig{})
	s := e.submitter(t, e.config())
	reg := s.Registrar()
	r := e.reader(t)
	ctx := context.Background()
	dev := chainDeviceID(1)
	k1, k2, k3 := chainDeviceKey(1).Public().(ed25519.PublicKey), chainDeviceKey(2).Public().(ed25519.PublicKey), chainDeviceKey(3).Public().(ed25519.PublicKey)

	if _, err := r.DeviceKeys(ctx, e.contract(), dev); !errors.Is(err, anchor.ErrNotFound) {
		t.Errorf("DeviceKeys(unknown) = %v, want ErrNotFound", err)
	}
	if _, err := reg.RevokeDevice(ctx, dev); !errors.Is(err, anchor.ErrNotFound) || anchor.IsRetryable(err) {
		t.Errorf("RevokeDevice(unknown) = %v, want final ErrNotFound", err)
	}

	ref1, err := reg.RegisterDevice(ctx, dev, k1)
	if err != nil || ref1.Existing || ref1.GasUsed == 0 {
		t.Fatalf("RegisterDevice = %+v, %v", ref1, err)
	}
	sends := e.client.sends.Load()
	again, err := reg.RegisterDevice(ctx, dev, k1)
	if err != nil || !again.Existing || again.TxHash != ref1.TxHash || again.BlockHash != ref1.BlockHash {
		t.Errorf("RegisterDevice again = %+v, %v, want existing %s", again, err, ref1.TxHash.Hex())
	}
	if n := e.client.sends.Load() - sends; n != 0 {
		t.Errorf("registering the same key again sent %d transactions", n)
	}
	_, err = reg.RegisterDevice(ctx, dev, k2)
	if !errors.Is(err, anchor.ErrConflictingDeviceKey) || anchor.IsRetryable(err) {
		t.Errorf("RegisterDevice(other key) = %v, want final ErrConflictingDeviceKey", err)
	}

	if err := e.sim.AdjustTime(time.Hour); err != nil {
		t.Fatal(err)
	}
	ref2, err := reg.RotateDeviceKey(ctx, dev, k2)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := reg.RotateDeviceKey(ctx, dev, k2); err != nil || again.TxHash != ref2.TxHash || !again.Existing {
		t.Errorf("RotateDeviceKey again = %+v, %v", again, err)
	}
	if err := e.sim.AdjustTime(time.Hour); err != nil {
		t.Fatal(err)
	}
	ref3, err := reg.RevokeDevice(ctx, dev)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := reg.RevokeDevice(ctx, dev); err != nil || again.TxHash != ref3.TxHash || !again.Existing {
		t.Errorf("RevokeDevice again = %+v, %v", again, err)
	}
	// A key is never reused: the contract's custom error comes back decoded.
	_, err = reg.RegisterDevice(ctx, dev, k1)
	var rev *anchor.RevertError
	if !errors.As(err, &rev) || rev.Name != "KeyAlreadyUsed" || anchor.IsRetryable(err) {
		t.Errorf("RegisterDevice(reused key) = %v, want final KeyAlreadyUsed revert", err)
	}
	ref4, err := reg.RegisterDevice(ctx, dev, k3)
	if err != nil {
		t.Fatal(err)
	}

	t1, t2, t3, t4 := e.header(t, ref1.BlockNumber).Time, e.header(t, ref2.BlockNumber).Time,
		e.header(t, ref3.BlockNumber).Time, e.header(t, ref4.BlockNumber).Time
	got, err := r.DeviceKeys(ctx, e.contract(), dev)
	if err != nil {
		t.Fatal(err)
	}
	want := []anchor.DeviceKeyRecord{
		{DeviceID: dev, PublicKey: k1, RegisteredAtMS: int64(t1) * 1000, RevokedAtMS: int64(t2) * 1000, RevokedBlock: ref2.BlockNumber, Rotated: true},
		{DeviceID: dev, PublicKey: k2, RegisteredAtMS: int64(t2) * 1000, RevokedAtMS: int64(t3) * 1000, RevokedBlock: ref3.BlockNumber},
		{DeviceID: dev, PublicKey: k3, RegisteredAtMS: int64(t4) * 1000},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("DeviceKeys =\n%+v\nwant\n%+v", got, want)
	}
	hist, err := r.KeyHistory(ctx, e.dep.Contract, dev)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 3 || !hist[0].Rotated || hist[1].Rotated || hist[1].RevokedBlock != ref3.BlockNumber || hist[2].Ended() {
		t.Errorf("KeyHistory = %+v", hist)
	}
}

// TestVerifyOnSimulatedChain runs the whole path: readings → window →
// batch → Submit → bundle → anchor.Verify through EthReader.
func TestVerifyOnSimulatedChain(t *testing.T) {
	e := newSimEnv(t, simConfig{})
	s := e.submitter(t, e.config())
	ctx := context.Background()
	var regBlock uint64
	for n := 1; n <= 2; n++ {
		ref, err := s.Registrar().RegisterDevice(ctx, chainDeviceID(n), chainDeviceKey(n).Public().(ed25519.PublicKey))
		if err != nil {
			t.Fatal(err)
		}
		regBlock = ref.BlockNumber
	}
	// Readings taken after the keys were registered.
	ts := int64(e.header(t, regBlock).Time)*1000 + 1000
	const span = 15 * 60 * 1000
	start := ts / span * span
	if ts+10 >= start+span {
		start += span
		ts = start
	}
	var wires [][]byte
	for n := 1; n <= 2; n++ {
		for seq := uint64(1); seq <= 3; seq++ {
			wires = append(wires, chainReading(t, n, seq, ts+int64(seq)))
		}
	}
	w, err := anchor.NewWindow("p0", start, start+span, anchor.KindOnTime, 0, wires)
	if err != nil {
		t.Fatal(err)
	}
	b, err := anchor.NewBatch(start, start+span, []anchor.Commitment{w.Commitment()})
	if err != nil {
		t.Fatal(err)
	}
	a, err := anchor.AnchorTxFor(b.Record())
	if err != nil {
		t.Fatal(err)
	}
	ref, err := s.Submit(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	i, ok := w.Find(reading.Key{DeviceID: chainDeviceID(2), Seq: 2})
	if !ok {
		t.Fatal("reading not in window")
	}
	bundle, err := anchor.NewBundle(w, i, b, chainDeviceKey(2).Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	bundle.Anchor = ref.AnchorRef(b.IntervalStartMS, b.IntervalEndMS)

	res, err := anchor.Verify(ctx, bundle, e.reader(t))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !res.Anchored || res.DeviceID != chainDeviceID(2) || res.Seq != 2 {
		t.Errorf("Verify result = %+v", res)
	}

	for _, tc := range []struct {
		desc   string
		tamper func(*anchor.Bundle)
		step   anchor.Step
	}{
		{"other contract", func(b *anchor.Bundle) { b.Anchor.Contract = "0x00000000000000000000000000000000000000aa" }, anchor.StepDeviceKey},
		{"other chain", func(b *anchor.Bundle) { b.Anchor.ChainID++ }, anchor.StepAnchor},
		{"not anchored interval", func(b *anchor.Bundle) { b.Anchor.IntervalStartMS -= span; b.Anchor.IntervalEndMS -= span }, anchor.StepAnchor},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			c := *bundle
			tc.tamper(&c)
			_, err := anchor.Verify(ctx, &c, e.reader(t))
			if got := anchor.StepOf(err); got != tc.step {
				t.Errorf("Verify: step %q (%v), want %q", got, err, tc.step)
			}
		})
	}
}
