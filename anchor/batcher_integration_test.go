package anchor_test

// Integration tests of the batcher on the local stack: readings written to
// a fresh Kafka topic, anchored on the geth dev node in a freshly deployed
// contract, every bundle verified against the chain; tampered bundles fail
// at the right step; and the crash test with real servers.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/segmentio/kafka-go"

	"github.com/sunproof/sunproof/anchor"
	"github.com/sunproof/sunproof/anchor/anchortest"
	"github.com/sunproof/sunproof/contracts/sunproofanchor"
	"github.com/sunproof/sunproof/ingest/reading"
	"github.com/sunproof/sunproof/internal/kafkatopic"
	"github.com/sunproof/sunproof/internal/teststack"
)

// itEnv is one integration test's slice of the local stack: a funded key
// of its own, a contract deployed with it, devices registered in it, and a
// Kafka topic.
type itEnv struct {
	stack    teststack.Env
	run      string
	client   *ethclient.Client
	key      *ecdsa.PrivateKey
	keyFile  string // keystore of key
	passFile string
	dep      anchor.Deployment
	reader   *anchor.EthReader
	topic    string
	group    string
	devices  []string
	regAtMS  int64 // device keys are valid from here
}

func itDeviceKey(id string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte(id))
	return ed25519.NewKeyFromSeed(seed[:])
}

// itKeys is the registry of the integration tests' devices.
var itKeys = anchor.KeySourceFunc(func(_ context.Context, id string) ([]ed25519.PublicKey, error) {
	return []ed25519.PublicKey{itDeviceKey(id).Public().(ed25519.PublicKey)}, nil
})

func newITEnv(t testing.TB, ndev, partitions int) *itEnv {
	t.Helper()
	stack := teststack.Require(t, teststack.Kafka, teststack.Eth)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	e := &itEnv{stack: stack, run: teststack.RunID()}
	var err error
	if e.client, err = ethclient.DialContext(ctx, stack.EthRPC); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.client.Close)
	if e.key, err = crypto.GenerateKey(); err != nil {
		t.Fatal(err)
	}
	anchortest.Fund(t, ctx, e.client, crypto.PubkeyToAddress(e.key.PublicKey))
	dir := t.TempDir()
	e.passFile = filepath.Join(dir, "password")
	if err := os.WriteFile(e.passFile, []byte("it-"+e.run+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if e.keyFile, err = anchor.ImportDevKey(hex.EncodeToString(crypto.FromECDSA(e.key)), "it-"+e.run, dir); err != nil {
		t.Fatal(err)
	}
	if e.dep, err = anchor.DeployDev(ctx, e.client, e.key, testLogger(t)); err != nil {
		t.Fatalf("deploy: %v", err)
	}
	if e.reader, err = anchor.NewEthReader(e.client, anchor.DefaultEthReaderConfig()); err != nil {
		t.Fatal(err)
	}
	reg, err := anchor.NewRegistrarWith(ctx, e.submitterConfig(), e.client, e.key, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	for i := range ndev {
		id := fmt.Sprintf("it%s-d%04d", e.run, i)
		ref, err := reg.RegisterDevice(ctx, id, itDeviceKey(id).Public().(ed25519.PublicKey))
		if err != nil {
			t.Fatalf("register %s: %v", id, err)
		}
		h, err := e.client.HeaderByNumber(ctx, new(big.Int).SetUint64(ref.BlockNumber))
		if err != nil {
			t.Fatal(err)
		}
		e.regAtMS = max(e.regAtMS, int64(h.Time)*1000)
		e.devices = append(e.devices, id)
	}
	e.topic, e.group = "it."+e.run+".anchor.readings", "it-"+e.run+"-anchor"
	if err := kafkatopic.Ensure(ctx, stack.Brokers, kafkatopic.Spec{Name: e.topic, Partitions: partitions}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c := &kafka.Client{Addr: kafka.TCP(stack.Brokers...)}
		_, _ = c.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: []string{e.topic}})
	})
	// Readings must be signed after the keys' registration time.
	time.Sleep(time.Until(time.UnixMilli(e.regAtMS + 1000)))
	return e
}

func (e *itEnv) submitterConfig() anchor.SubmitterConfig {
	c := anchor.DefaultSubmitterConfig()
	c.RPCURL = e.stack.EthRPC
	c.Contract = e.dep.Contract
	c.KeystoreFile, c.PasswordFile = e.keyFile, e.passFile
	c.PollInterval = 100 * time.Millisecond
	c.ReceiptTimeout = time.Minute
	return c
}

func (e *itEnv) batcherConfig() anchor.BatcherConfig {
	c := anchor.DefaultBatcherConfig()
	c.Brokers, c.Topic, c.Group = e.stack.Brokers, e.topic, e.group
	c.Interval = time.Second
	c.Span = 5 * time.Second
	c.Lateness = time.Second
	c.RetryMax = 2 * time.Second
	c.FailDelay = 300 * time.Millisecond
	return c
}

// itProducer writes signed readings of the env's devices to its topic,
// keyed by device id (murmur2, as the collector does), with copies and
// late readings mixed in, and records each distinct reading and when it
// was written.
type itProducer struct {
	e        *itEnv
	w        *kafka.Writer
	mu       sync.Mutex
	seq      map[string]uint64
	produced map[string][]byte
	at       map[string]time.Time
	sent     int
	rounds   int
}

func (e *itEnv) producer(t testing.TB) *itProducer {
	w := &kafka.Writer{Addr: kafka.TCP(e.stack.Brokers...), Topic: e.topic, Balancer: &kafka.Murmur2Balancer{},
		RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
	t.Cleanup(func() { w.Close() })
	return &itProducer{e: e, w: w, seq: map[string]uint64{}, produced: map[string][]byte{}, at: map[string]time.Time{}}
}

func itReading(t testing.TB, id string, seq uint64, ts int64) []byte {
	t.Helper()
	r := reading.Reading{DeviceID: id, SiteID: "it-site", Seq: seq, TimeMS: ts, Measurement: reading.Measurement{
		ACPowerW: 1500 + float64(seq%50), EnergyWh: 10_000 + seq*3, ACVoltageV: 230, FrequencyHz: 50,
		PowerFactor: 0.99, DCVoltageV: 380, DCCurrentA: 4, DCPowerW: 1520, TempC: 40, State: reading.StateMPPT,
	}}
	if err := r.Sign(itDeviceKey(id)); err != nil {
		t.Fatal(err)
	}
	w, err := r.Wire()
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// round writes one reading per device (ts now); every 5th round also a
// copy of an earlier reading and a reading 4 s late per device.
func (p *itProducer) round(t testing.TB, ctx context.Context) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rounds++
	now := time.Now()
	var msgs []kafka.Message
	for _, id := range p.e.devices {
		p.seq[id]++
		w := itReading(t, id, p.seq[id], now.UnixMilli())
		msgs = append(msgs, kafka.Message{Key: []byte(id), Value: w})
		k := reading.Key{DeviceID: id, Seq: p.seq[id]}.String()
		p.produced[k], p.at[k] = w, now
		if p.rounds%5 == 0 {
			old := reading.Key{DeviceID: id, Seq: p.seq[id] / 2}.String()
			if w, ok := p.produced[old]; ok {
				msgs = append(msgs, kafka.Message{Key: []byte(id), Value: w})
			}
			if late := now.UnixMilli() - 4000; late > p.e.regAtMS {
				p.seq[id]++
				w := itReading(t, id, p.seq[id], late)
				msgs = append(msgs, kafka.Message{Key: []byte(id), Value: w})
				k := reading.Key{DeviceID: id, Seq: p.seq[id]}.String()
				p.produced[k], p.at[k] = w, now
			}
		}
	}
	if err := p.w.WriteMessages(ctx, msgs...); err != nil {
		t.Errorf("produce: %v", err)
		return
	}
	p.sent += len(msgs)
}

// runFor produces a round every period for d.
func (p *itProducer) runFor(t testing.TB, d, period time.Duration) {
	ctx := context.Background()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(period) {
		p.round(t, ctx)
	}
}

// chainAnchors returns every anchor the contract's Anchored events record,
// by interval start; an interval with two events fails the test.
func (e *itEnv) chainAnchors(t testing.TB) map[int64]anchor.AnchorRecord {
	t.Helper()
	ctx := context.Background()
	logs, err := e.client.FilterLogs(ctx, ethereum.FilterQuery{
		FromBlock: new(big.Int).SetUint64(e.dep.BlockNumber), Addresses: []common.Address{e.dep.Contract},
	})
	if err != nil {
		t.Fatal(err)
	}
	sa := sunproofanchor.NewSunproofAnchor()
	out := map[int64]anchor.AnchorRecord{}
	for i := range logs {
		ev, err := sa.UnpackAnchoredEvent(&logs[i])
		if err != nil {
			continue // another event
		}
		start := int64(ev.IntervalStart)
		if _, dup := out[start]; dup {
			t.Errorf("interval %d anchored twice", start)
		}
		out[start] = anchor.AnchorRecord{IntervalStartMS: start, IntervalEndMS: int64(ev.IntervalEnd), Root: ev.BatchRoot, Size: ev.BatchSize, Scheme: ev.Scheme}
	}
	return out
}

// latencies returns, per reading, the time from its write to Kafka to the
// receipt of its interval.
func latencies(t testing.TB, storeDir string, at map[string]time.Time) []time.Duration {
	t.Helper()
	s, err := anchor.OpenStore(storeDir, anchor.StoreOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var out []time.Duration
	for k, when := range at {
		i := strings.LastIndexByte(k, '/')
		var seq uint64
		fmt.Sscan(k[i+1:], &seq)
		locs, err := s.Locate(k[:i], seq)
		if err != nil || len(locs) == 0 {
			continue
		}
		rec, err := s.Receipt(locs[0].IntervalStartMS)
		if err != nil {
			continue
		}
		out = append(out, rec.AnchoredAt.Sub(when))
	}
	slices.Sort(out)
	return out
}

func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	return ds[min(len(ds)-1, int(q*float64(len(ds))))]
}

// TestIntegrationBatcher: readings → Kafka → batcher → geth; every
// reading's bundle verifies against the chain; tampered bundles fail with
// the right step.
func TestIntegrationBatcher(t *testing.T) {
	e := newITEnv(t, 4, 3)
	ctx := context.Background()
	sub, err := anchor.NewSubmitter(ctx, e.submitterConfig(), testLogger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	storeDir := filepath.Join(t.TempDir(), "proofs")
	store, err := anchor.OpenStore(storeDir, anchor.StoreOptions{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := anchor.NewBatcher(e.batcherConfig(), store, sub, testLogger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	bctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- b.Run(bctx) }()

	p := e.producer(t)
	p.runFor(t, 12*time.Second, 100*time.Millisecond)
	live := func() error {
		select {
		case err := <-done:
			return fmt.Errorf("batcher stopped: %v", err)
		default:
			return nil
		}
	}
	waitAnchored(t, storeDir, p.produced, 2*time.Minute, live, nil)
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	store.Close()

	verifyCrashRun(t, storeDir, itKeys, p.produced, e.chainAnchors(t), e.reader)
	lat := latencies(t, storeDir, p.at)
	t.Logf("%d readings in %d messages; reading → anchored latency p50 %s, p95 %s, max %s",
		len(p.produced), p.sent, quantile(lat, 0.5), quantile(lat, 0.95), quantile(lat, 1))

	t.Run("tampered", func(t *testing.T) { testTamperedOnChain(t, e, storeDir) })
}

// waitAnchored waits until every produced reading is in an anchored
// window and no interval is pending; live reports a batcher that stopped,
// detail (may be nil) adds to the timeout message.
func waitAnchored(t *testing.T, storeDir string, produced map[string][]byte, timeout time.Duration, live func() error, detail func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		keys, pending := anchoredKeys(t, storeDir)
		missing := 0
		for k := range produced {
			if keys[k] == 0 {
				missing++
			}
		}
		if missing == 0 && !pending {
			return
		}
		if err := live(); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			more := ""
			if detail != nil {
				more = detail()
			}
			t.Fatalf("after %s: %d of %d readings not anchored (pending interval: %t)%s", timeout, missing, len(produced), pending, more)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// testTamperedOnChain alters valid bundles and checks the step at which
// Verify, reading the real chain, rejects each.
func testTamperedOnChain(t *testing.T, e *itEnv, storeDir string) {
	ctx := context.Background()
	s, err := anchor.OpenStore(storeDir, anchor.StoreOptions{ReadOnly: true, Keys: itKeys})
	if err != nil {
		t.Fatal(err)
	}
	// Two bundles of the same device from different windows.
	var a, other *anchor.Bundle
	for seq := uint64(1); seq < 500 && other == nil; seq++ {
		b, err := s.ProofFor(ctx, e.devices[0], seq)
		if err != nil {
			continue
		}
		switch {
		case a == nil && b.Window.Device.View != nil && b.Window.Device.View.Count > 1:
			a = b
		case a != nil && !bytes.Equal(b.Window.Commitment, a.Window.Commitment):
			other = b
		}
	}
	if a == nil || other == nil {
		t.Fatal("no two bundles from different windows")
	}
	if _, err := anchor.Verify(ctx, a, e.reader); err != nil {
		t.Fatalf("untampered bundle: %v", err)
	}
	otherKey := itDeviceKey(e.devices[1]).Public().(ed25519.PublicKey)
	rewire := func(b *anchor.Bundle, edit func(r *reading.Reading, wire []byte) []byte) {
		r, err := reading.Decode(b.Reading.Wire)
		if err != nil {
			t.Fatal(err)
		}
		w := edit(&r, slices.Clone(b.Reading.Wire))
		lh := reading.LeafHash(w)
		b.Reading.Wire, b.Reading.LeafHash = w, lh[:]
		if r2, err := reading.Decode(w); err == nil {
			v := anchor.NewReadingView(&r2)
			b.Reading.View = &v
		}
	}
	for _, tc := range []struct {
		desc   string
		tamper func(b *anchor.Bundle)
		want   anchor.Step
	}{
		{"changed value", func(b *anchor.Bundle) {
			rewire(b, func(r *reading.Reading, _ []byte) []byte {
				r.EnergyWh++
				w, err := r.Wire()
				if err != nil {
					t.Fatal(err)
				}
				return w
			})
		}, anchor.StepSignature},
		{"changed signature", func(b *anchor.Bundle) {
			rewire(b, func(_ *reading.Reading, w []byte) []byte { w[len(w)-1] ^= 1; return w })
		}, anchor.StepSignature},
		{"wrong index", func(b *anchor.Bundle) {
			if b.Window.LeafIndex > b.Window.Device.View.FirstLeaf {
				b.Window.LeafIndex--
			} else {
				b.Window.LeafIndex++
			}
		}, anchor.StepWindowRoot},
		{"wrong size", func(b *anchor.Bundle) { b.Window.TreeSize++ }, anchor.StepWindowRoot},
		{"phantom leaf", func(b *anchor.Bundle) { b.Window.LeafIndex = b.Window.TreeSize }, anchor.StepWindowRoot},
		{"swapped device key", func(b *anchor.Bundle) { b.Device.PublicKey = anchor.Hex(otherKey) }, anchor.StepDeviceKey},
		{"another window's root", func(b *anchor.Bundle) {
			c, err := anchor.DecodeCommitment(b.Window.Commitment)
			if err != nil {
				t.Fatal(err)
			}
			oc, err := anchor.DecodeCommitment(other.Window.Commitment)
			if err != nil {
				t.Fatal(err)
			}
			c.Root = oc.Root
			if b.Window.Commitment, err = c.MarshalBinary(); err != nil {
				t.Fatal(err)
			}
			b.Window.View = nil
		}, anchor.StepWindowRoot},
		{"another window's proof", func(b *anchor.Bundle) {
			b.Window.Commitment, b.Window.View, b.Batch = other.Window.Commitment, other.Window.View, other.Batch
		}, anchor.StepLeaf},
		{"truncated batch proof", func(b *anchor.Bundle) {
			if len(b.Batch.Path) == 0 {
				b.Batch.Path = []anchor.Hex{make([]byte, 32)}
			} else {
				b.Batch.Path = b.Batch.Path[:len(b.Batch.Path)-1]
			}
		}, anchor.StepBatchRoot},
		{"wrong chain", func(b *anchor.Bundle) { b.Anchor.ChainID++ }, anchor.StepAnchor},
		{"wrong interval", func(b *anchor.Bundle) { b.Anchor.IntervalStartMS++ }, anchor.StepAnchor},
		{"wrong contract", func(b *anchor.Bundle) {
			b.Anchor.Contract = strings.ToLower(common.HexToAddress("0x00000000000000000000000000000000deadbeef").Hex())
		}, anchor.StepDeviceKey},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			b := cloneBundle(t, a)
			tc.tamper(b)
			_, err := anchor.Verify(ctx, b, e.reader)
			if got := anchor.StepOf(err); got != tc.want {
				t.Errorf("Verify: %v (step %q), want step %q", err, got, tc.want)
			}
		})
	}
}

func cloneBundle(t testing.TB, b *anchor.Bundle) *anchor.Bundle {
	t.Helper()
	data, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	var c anchor.Bundle
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

// Environment of the integration crash test's child process.
const itChildEnv = "SUNPROOF_ANCHOR_IT_CHILD" // JSON itChildConfig

type itChildConfig struct {
	Store     string
	Batcher   anchor.BatcherConfig
	Submitter anchor.SubmitterConfig
}

// TestIntegrationBatcherCrashChild is the batcher process of
// TestIntegrationBatcherCrash.
func TestIntegrationBatcherCrashChild(t *testing.T) {
	raw := os.Getenv(itChildEnv)
	if raw == "" {
		t.Skip("child process of TestIntegrationBatcherCrash")
	}
	var c itChildConfig
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		t.Fatal(err)
	}
	c.Batcher.FailAt = os.Getenv(crashFailAtEnv)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	log := testLogger(t)
	sub, err := anchor.NewSubmitter(ctx, c.Submitter, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	store, err := anchor.OpenStore(c.Store, anchor.StoreOptions{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	b, err := anchor.NewBatcher(c.Batcher, store, sub, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Run(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestIntegrationBatcherCrash is TestBatcherCrash with Kafka and geth: the
// batcher process is stopped at each failpoint (twice), restarted, and
// must anchor every reading exactly once, with exactly one anchor per
// interval on chain.
func TestIntegrationBatcherCrash(t *testing.T) {
	for _, fp := range crashFailpoints {
		t.Run(fp, func(t *testing.T) {
			t.Parallel()
			e := newITEnv(t, 3, 3)
			dir := t.TempDir()
			sc := e.submitterConfig()
			sc.NonceFile = filepath.Join(dir, "nonce.json")
			cfg, _ := json.Marshal(itChildConfig{Store: filepath.Join(dir, "proofs"), Batcher: e.batcherConfig(), Submitter: sc})
			env := func(failAt string) []string {
				return []string{itChildEnv + "=" + string(cfg), crashFailAtEnv + "=" + failAt}
			}
			p := e.producer(t)
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				for {
					p.round(t, context.Background())
					select {
					case <-stop:
						return
					case <-time.After(100 * time.Millisecond):
					}
				}
			}()
			startChild(t, env(fp+":2")...).expectExit(t, anchor.FailExitCode, 2*time.Minute)
			startChild(t, env(fp+":1")...).expectExit(t, anchor.FailExitCode, 2*time.Minute)
			last := startChild(t, env("")...)
			time.Sleep(3 * time.Second)
			close(stop)
			<-done
			waitAllAnchored(t, filepath.Join(dir, "proofs"), p.produced, 2*time.Minute, last)
			if err := last.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			last.expectExit(t, 0, time.Minute)
			verifyCrashRun(t, filepath.Join(dir, "proofs"), itKeys, p.produced, e.chainAnchors(t), e.reader)
			t.Logf("%d readings in %d messages", len(p.produced), p.sent)
		})
	}
}
