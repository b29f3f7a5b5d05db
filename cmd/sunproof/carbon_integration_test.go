package main

// Carbon reports and loan coverage on the real local stack (Kafka, geth,
// InfluxDB; `go test ./cmd/sunproof -run TestIntegrationCarbonLoans -v`):
// signed readings of simulated devices go through Kafka to the real anchor
// batcher, which anchors them in a freshly deployed SunproofAnchor contract
// on the geth dev node and writes a real proof store; the same readings
// and an over-performance alert are in a fresh InfluxDB database; the
// devices are in a fresh registry topic. Then carbon reports (a device, a
// site) are built and verified against the chain, every kind of tampering
// fails with its own error, the CLI (`carbon report`, `verify-report`,
// `loans coverage`) runs end to end, and a loan's certified generation is
// the counter difference of boundaries whose proofs verify on chain.

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/segmentio/kafka-go"

	"github.com/sunproof/sunproof/anchor"
	"github.com/sunproof/sunproof/anchor/anchortest"
	"github.com/sunproof/sunproof/anomaly"
	"github.com/sunproof/sunproof/carbon"
	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/ingest/reading"
	"github.com/sunproof/sunproof/internal/kafkatopic"
	"github.com/sunproof/sunproof/internal/teststack"
	"github.com/sunproof/sunproof/loans"
)

// ciWorld is the integration test's slice of the stack.
type ciWorld struct {
	env      teststack.Env
	run      string
	contract string // lowercase hex
	reader   *anchor.EthReader
	store    string // proof store directory
	db       string // InfluxDB database
	devTopic string // device registry topic
	devs     []devices.Device
	// readings per device id, in seq order; ciUnanchored's are only in
	// InfluxDB.
	readings map[string][]reading.Reading
	alerts   []anomaly.Alert
	from, to time.Time // a period holding every reading
}

// Devices of the world: 0 and 1 form site A; 2 (anchored) and 3 (never
// sent to Kafka, so never anchored) are on site B.
const (
	ciDevices    = 4
	ciUnanchored = 3
	ciRounds     = 40
)

func ciKey(id string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("sunproof carbon integration " + id))
	return ed25519.NewKeyFromSeed(seed[:])
}

func newCIWorld(t *testing.T) *ciWorld {
	t.Helper()
	env := teststack.Require(t, teststack.Kafka, teststack.Eth, teststack.Influx)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	w := &ciWorld{env: env, run: teststack.RunID(), readings: map[string][]reading.Reading{}}
	cstz := time.FixedZone("CST", 8*3600)
	// Keep the readings inside one month (CST): loan months are calendar
	// months.
	now := time.Now().In(cstz)
	if next := time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, cstz); time.Until(next) < 3*time.Minute {
		t.Logf("waiting %s for the next month to start", time.Until(next).Round(time.Second))
		time.Sleep(time.Until(next) + time.Second)
	}

	// Chain: a funded key of our own, a fresh contract, the device keys.
	client, err := ethclient.DialContext(ctx, env.EthRPC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	anchortest.Fund(t, ctx, client, crypto.PubkeyToAddress(key.PublicKey))
	dir := t.TempDir()
	passFile := filepath.Join(dir, "password")
	if err := os.WriteFile(passFile, []byte("ci-"+w.run+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	keyFile, err := anchor.ImportDevKey(hex.EncodeToString(crypto.FromECDSA(key)), "ci-"+w.run, dir)
	if err != nil {
		t.Fatal(err)
	}
	dep, err := anchor.DeployDev(ctx, client, key, nil)
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	w.contract = strings.ToLower(dep.Contract.Hex())
	if w.reader, err = anchor.NewEthReader(client, anchor.DefaultEthReaderConfig()); err != nil {
		t.Fatal(err)
	}
	sc := anchor.DefaultSubmitterConfig()
	sc.RPCURL, sc.Contract, sc.KeystoreFile, sc.PasswordFile = env.EthRPC, dep.Contract, keyFile, passFile
	sc.PollInterval, sc.ReceiptTimeout = 100*time.Millisecond, time.Minute
	reg, err := anchor.NewRegistrarWith(ctx, sc, client, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	var regAtMS int64
	created := time.Now().UTC().Truncate(time.Second)
	for i := range ciDevices {
		site := "ci" + w.run + "-A"
		if i >= 2 {
			site = "ci" + w.run + "-B"
		}
		d := devices.Device{ID: fmt.Sprintf("ci%s-d%d", w.run, i), SiteID: site, KWp: 5, ACRatingW: 4600, Lat: 31.8, Lon: 117.2,
			TiltDeg: 25, AzimuthDeg: 180, GridRegion: "CN-East", Installer: "ci", Status: devices.StatusActive, CreatedAt: created}
		d.PublicKey = ciKey(d.ID).Public().(ed25519.PublicKey)
		ref, err := reg.RegisterDevice(ctx, d.ID, d.PublicKey)
		if err != nil {
			t.Fatalf("register %s: %v", d.ID, err)
		}
		h, err := client.HeaderByNumber(ctx, new(big.Int).SetUint64(ref.BlockNumber))
		if err != nil {
			t.Fatal(err)
		}
		regAtMS = max(regAtMS, int64(h.Time)*1000)
		w.devs = append(w.devs, d)
	}
	reg.Close()

	// Registry topic, readings topic.
	w.devTopic = "ci." + w.run + ".devices"
	readTopic := "ci." + w.run + ".readings"
	if err := devices.EnsureTopic(ctx, env.Brokers, w.devTopic); err != nil {
		t.Fatal(err)
	}
	if err := kafkatopic.Ensure(ctx, env.Brokers, kafkatopic.Spec{Name: readTopic, Partitions: 2}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c := &kafka.Client{Addr: kafka.TCP(env.Brokers...)}
		_, _ = c.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: []string{w.devTopic, readTopic}})
	})
	pub := devices.NewPublisher(env.Brokers, w.devTopic)
	for _, d := range w.devs {
		if err := pub.PutDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	pub.Close()

	// The batcher, as `sunproof anchor` runs it, with short intervals.
	sub, err := anchor.NewSubmitter(ctx, sc, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	w.store = filepath.Join(t.TempDir(), "proofs")
	st, err := anchor.OpenStore(w.store, anchor.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bc := anchor.DefaultBatcherConfig()
	bc.Brokers, bc.Topic, bc.Group = env.Brokers, readTopic, "ci-"+w.run
	bc.Interval, bc.Span, bc.Lateness, bc.RetryMax, bc.FailDelay = time.Second, 5*time.Second, time.Second, 2*time.Second, 300*time.Millisecond
	b, err := anchor.NewBatcher(bc, st, sub, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	bctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(bctx) }()

	// Readings are signed after the keys' registration.
	time.Sleep(time.Until(time.UnixMilli(regAtMS + 1000)))
	kw := &kafka.Writer{Addr: kafka.TCP(env.Brokers...), Topic: readTopic, Balancer: &kafka.Murmur2Balancer{},
		RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
	defer kw.Close()
	for k := range ciRounds {
		ts := time.Now().UnixMilli()
		var msgs []kafka.Message
		for i, d := range w.devs {
			r := reading.Reading{DeviceID: d.ID, SiteID: d.SiteID, Seq: uint64(k + 1), TimeMS: ts, Measurement: reading.Measurement{
				ACPowerW: 2000 + 100*float64(i), EnergyWh: uint64(1_000_000 + 20_000*i + (50+10*i)*(k+1)), ACVoltageV: 230, FrequencyHz: 50,
				PowerFactor: 0.99, DCVoltageV: 380, DCCurrentA: 5, DCPowerW: 2050, TempC: 40, State: reading.StateMPPT,
			}}
			if err := r.Sign(ciKey(d.ID)); err != nil {
				t.Fatal(err)
			}
			w.readings[d.ID] = append(w.readings[d.ID], r)
			if i == ciUnanchored {
				continue
			}
			wire, err := r.Wire()
			if err != nil {
				t.Fatal(err)
			}
			msgs = append(msgs, kafka.Message{Key: []byte(d.ID), Value: wire})
		}
		if err := kw.WriteMessages(ctx, msgs...); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	first, last := w.readings[w.devs[0].ID][0], w.readings[w.devs[0].ID][ciRounds-1]
	w.from, w.to = first.Time().Add(-time.Second).Truncate(time.Second), last.Time().Add(2*time.Second).Truncate(time.Second)

	// The same readings in InfluxDB (as the collector writes them), and
	// the alerts: an over-performance span on device 0 (excluded by the
	// policy), a communication gap on device 1 (not excluded).
	var all []reading.Reading
	for _, d := range w.devs {
		all = append(all, w.readings[d.ID]...)
	}
	w.db = influxTestDB(t, env.InfluxURL, all)
	r0, r1 := w.readings[w.devs[0].ID], w.readings[w.devs[1].ID]
	w.alerts = []anomaly.Alert{
		{ID: w.devs[0].ID + "/over_performance/x", DeviceID: w.devs[0].ID, SiteID: w.devs[0].SiteID, Type: anomaly.TypeOverPerformance,
			Severity: anomaly.SeverityWarning, State: anomaly.StateResolved, Span: anomaly.Span{From: r0[9].Time(), To: r0[19].Time()},
			Start: r0[9].Time(), OpenedAt: r0[19].Time(), UpdatedAt: r0[19].Time(), ResolvedAt: r0[30].Time(), Scans: 2, Summary: "integration"},
		{ID: w.devs[1].ID + "/comm_gap/x", DeviceID: w.devs[1].ID, SiteID: w.devs[1].SiteID, Type: anomaly.TypeCommGap,
			Severity: anomaly.SeverityCritical, State: anomaly.StateOpen, Span: anomaly.Span{From: r1[5].Time(), To: r1[15].Time()},
			Start: r1[5].Time(), OpenedAt: r1[15].Time(), UpdatedAt: r1[15].Time(), Scans: 1, Summary: "integration"},
	}
	icfg := anomaly.DefaultInfluxConfig()
	icfg.URL, icfg.Database = env.InfluxURL, w.db
	as, err := anomaly.NewInfluxStore(icfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := as.Save(ctx, w.alerts); err != nil {
		t.Fatal(err)
	}

	// Wait until every reading sent to Kafka is anchored.
	ro, err := anchor.OpenStore(w.store, anchor.StoreOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		missing := 0
		for i, d := range w.devs {
			for _, r := range w.readings[d.ID] {
				if ok, err := ro.Anchored(d.ID, r.Seq); err != nil {
					t.Fatal(err)
				} else if !ok && i != ciUnanchored {
					missing++
				}
			}
		}
		if missing == 0 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("batcher stopped: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d readings not anchored after 2 minutes", missing)
		}
		time.Sleep(200 * time.Millisecond)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return w
}

// proofs opens the proof store with device keys from the chain.
func (w *ciWorld) proofs(t *testing.T) *anchor.Store {
	t.Helper()
	s, err := anchor.OpenStore(w.store, anchor.StoreOptions{ReadOnly: true, Keys: anchor.ChainKeys(w.reader, w.contract)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (w *ciWorld) loader(t *testing.T) *anomaly.Source {
	t.Helper()
	icfg := anomaly.DefaultInfluxConfig()
	icfg.URL, icfg.Database = w.env.InfluxURL, w.db
	src, err := anomaly.NewSource(icfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// verifier is the real chain verifier, pinned to the world's contract.
func (w *ciWorld) verifier(t *testing.T) *carbon.AnchorVerifier {
	t.Helper()
	v, done, err := carbon.DialAnchorVerifier(context.Background(), w.env.EthRPC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(done)
	v.Contract = w.contract
	return v
}

// netWh is device i's expected certified generation: last − first counter
// (every reading sent to Kafka is anchored), minus, for device 0, the
// over-performance span: from the reading at its start (index 9) to the
// one at its end (index 19).
func (w *ciWorld) netWh(i int) (gross, excluded uint64) {
	rs := w.readings[w.devs[i].ID]
	gross = rs[len(rs)-1].EnergyWh - rs[0].EnergyWh
	if i == 0 {
		excluded = rs[19].EnergyWh - rs[9].EnergyWh
	}
	return gross, excluded
}

// captureStdout runs f with os.Stdout redirected and returns what it wrote.
func captureStdout(t *testing.T, f func() error) (string, error) {
	t.Helper()
	tmp, err := os.CreateTemp(t.TempDir(), "stdout")
	if err != nil {
		t.Fatal(err)
	}
	defer tmp.Close()
	old := os.Stdout
	os.Stdout = tmp
	ferr := f()
	os.Stdout = old
	out, err := os.ReadFile(tmp.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(out), ferr
}

func TestIntegrationCarbonLoans(t *testing.T) {
	w := newCIWorld(t)
	ctx := context.Background()
	store := w.proofs(t)
	v := w.verifier(t)
	table := carbon.DefaultTable()
	period := carbon.Period{From: w.from, To: w.to}
	in := reportInput{Kind: "device", ID: w.devs[0].ID, Period: period, Devices: w.devs[:1], Loader: w.loader(t), Alerts: w.alerts,
		Proofs: store, Options: carbon.Options{Table: table, Verifier: v}}

	var devReport *carbon.Report
	t.Run("device report verifies on chain", func(t *testing.T) {
		r, _, err := buildCarbonReport(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		d := r.Devices[0]
		rs := w.readings[w.devs[0].ID]
		gross, excl := w.netWh(0)
		if d.Start.Seq != 1 || d.End.Seq != ciRounds || d.GrossWh != gross || d.ExcludedWh != excl || d.NetWh != gross-excl || excl == 0 {
			t.Errorf("boundaries %d..%d, gross %d excluded %d net %d; want 1..%d, %d, %d, %d", d.Start.Seq, d.End.Seq, d.GrossWh, d.ExcludedWh, d.NetWh,
				ciRounds, gross, excl, gross-excl)
		}
		if d.Start.EnergyWh != rs[0].EnergyWh || d.End.EnergyWh != rs[ciRounds-1].EnergyWh {
			t.Errorf("boundary counters %d, %d", d.Start.EnergyWh, d.End.EnergyWh)
		}
		ver, err := carbon.Recompute(ctx, r, carbon.RecomputeOptions{Table: table, Verifier: v})
		if err != nil || ver.ProofsChecked != 2 || !ver.FactorChecked {
			t.Fatalf("recompute: %+v, %v", ver, err)
		}
		devReport = r
		t.Logf("device %s: net %d Wh (excluded %d), %.6f tCO2e, factor %s", d.DeviceID, d.NetWh, d.ExcludedWh, r.Totals.ERTCO2, r.Factor.FactorID)
	})
	if devReport == nil {
		t.FailNow()
	}

	t.Run("site report verifies on chain", func(t *testing.T) {
		site := in
		site.Kind, site.ID, site.Devices = "site", w.devs[0].SiteID, w.devs[:2]
		r, _, err := buildCarbonReport(ctx, site)
		if err != nil {
			t.Fatal(err)
		}
		g0, e0 := w.netWh(0)
		g1, _ := w.netWh(1)
		if len(r.Devices) != 2 || r.Totals.NetWh != g0-e0+g1 || r.Totals.ExcludedWh != e0 {
			t.Errorf("site: %d devices, net %d excluded %d; want 2, %d, %d (the comm gap is not excluded)", len(r.Devices), r.Totals.NetWh,
				r.Totals.ExcludedWh, g0-e0+g1, e0)
		}
		ver, err := carbon.Recompute(ctx, r, carbon.RecomputeOptions{Table: table, Verifier: v})
		if err != nil || ver.ProofsChecked != 4 {
			t.Fatalf("recompute: %+v, %v", ver, err)
		}
		// A site with a device that has no anchored reading has no report.
		b := in
		b.Kind, b.ID, b.Devices = "site", w.devs[2].SiteID, w.devs[2:]
		if _, _, err := buildCarbonReport(ctx, b); !errors.Is(err, errNoBoundary) {
			t.Errorf("site with an unanchored device: %v, want errNoBoundary", err)
		}
	})

	t.Run("tampering", func(t *testing.T) { testCITampering(t, w, devReport, store, v) })

	t.Run("CLI carbon report and verify-report", func(t *testing.T) {
		dir := t.TempDir()
		out, html := filepath.Join(dir, "site.json"), filepath.Join(dir, "site.html")
		err := runCarbon([]string{"report", "-site", w.devs[0].SiteID, "-from", w.from.Format(time.RFC3339), "-to", w.to.Format(time.RFC3339),
			"-out", out, "-html", html, "-influx", w.env.InfluxURL, "-db", w.db, "-store", w.store,
			"-kafka", w.env.Brokers[0], "-devices-topic", w.devTopic, "-keys", "chain", "-rpc", w.env.EthRPC, "-contract", w.contract})
		if err != nil {
			t.Fatalf("carbon report: %v", err)
		}
		f, err := os.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		r, err := carbon.DecodeReport(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		g0, e0 := w.netWh(0)
		g1, _ := w.netWh(1)
		if r.Totals.NetWh != g0-e0+g1 || len(r.Devices) != 2 {
			t.Errorf("CLI report net %d Wh over %d devices, want %d over 2", r.Totals.NetWh, len(r.Devices), g0-e0+g1)
		}
		if h, err := os.ReadFile(html); err != nil || !bytes.Contains(h, []byte("<svg")) {
			t.Errorf("HTML: %v", err)
		}
		stdout, err := captureStdout(t, func() error { return runVerifyReport([]string{out, "-rpc", w.env.EthRPC, "-contract", w.contract}) })
		if err != nil || !strings.HasPrefix(stdout, "OK site "+w.devs[0].SiteID+": 2 devices, 4 proofs verified") {
			t.Fatalf("verify-report: %v\n%s", err, stdout)
		}
		t.Logf("verify-report: %s", strings.TrimSpace(stdout))
		// The same report with one number changed fails, one line per check.
		var m map[string]any
		raw, _ := os.ReadFile(out)
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		m["totals"].(map[string]any)["er_tco2"] = m["totals"].(map[string]any)["er_tco2"].(float64) + 0.001
		bad := filepath.Join(dir, "bad.json")
		raw, _ = json.Marshal(m)
		if err := os.WriteFile(bad, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		stdout, err = captureStdout(t, func() error { return runVerifyReport([]string{bad, "-rpc", w.env.EthRPC, "-contract", w.contract}) })
		if !errors.Is(err, errVerifyFailed) || !strings.HasPrefix(stdout, "FAIL ") || !strings.Contains(stdout, "BE/PE/LE/ER") {
			t.Errorf("tampered report: %v\n%s", err, stdout)
		}
		// Pinned to another contract, the genuine report does not verify.
		stdout, err = captureStdout(t, func() error {
			return runVerifyReport([]string{out, "-rpc", w.env.EthRPC, "-contract", "0x00000000000000000000000000000000deadbeef"})
		})
		if !errors.Is(err, errVerifyFailed) || !strings.Contains(stdout, "proof device_key") {
			t.Errorf("another contract: %v\n%s", err, stdout)
		}
	})

	t.Run("loan month is the counter difference of verified anchored boundaries", func(t *testing.T) {
		testCILoans(t, w, store, v)
	})
}

// testCITampering alters the verified device report one way at a time (as
// JSON, as a verifier receives it); each must fail Recompute against the
// chain with its own error.
func testCITampering(t *testing.T, w *ciWorld, r *carbon.Report, store *anchor.Store, v *carbon.AnchorVerifier) {
	ctx := context.Background()
	var genuine bytes.Buffer
	if err := r.Encode(&genuine); err != nil {
		t.Fatal(err)
	}
	// A boundary of another device (2): its last reading and bundle.
	other := w.readings[w.devs[2].ID][ciRounds-1]
	ob, err := store.ProofFor(ctx, w.devs[2].ID, other.Seq)
	if err != nil {
		t.Fatal(err)
	}
	otherBundle, _ := json.Marshal(ob)

	editBundle := func(r *carbon.Report, edit func(b *anchor.Bundle)) {
		var b anchor.Bundle
		if err := json.Unmarshal(r.Devices[0].End.Bundle, &b); err != nil {
			t.Fatal(err)
		}
		edit(&b)
		raw, err := json.Marshal(&b)
		if err != nil {
			t.Fatal(err)
		}
		r.Devices[0].End.Bundle = raw
	}
	// fixTotals makes every number consistent again after a boundary edit,
	// so that only the proof can catch it.
	fixTotals := func(r *carbon.Report) {
		d := &r.Devices[0]
		d.GrossWh = d.End.EnergyWh - d.Start.EnergyWh
		d.NetWh = d.GrossWh - d.ExcludedWh
		r.Totals.GrossWh, r.Totals.NetWh = d.GrossWh, d.NetWh
		r.Totals.EGMWh = float64(d.NetWh) / 1e6
		r.Totals.BETCO2 = math.Round(r.Totals.EGMWh*r.Totals.EFTCO2PerMWh*1e6) / 1e6
		r.Totals.ERTCO2 = r.Totals.BETCO2
	}
	proofHashStep := anchor.Step("")
	tests := []struct {
		desc     string
		edit     func(r *carbon.Report)
		wantErr  error       // besides ErrMismatch
		wantStep anchor.Step // the proof step that fails, if any
		wantMsg  string
	}{
		{desc: "EG", edit: func(r *carbon.Report) { r.Totals.EGMWh += 0.000001 }, wantMsg: "EG "},
		{desc: "MWh: device net", edit: func(r *carbon.Report) { r.Devices[0].NetWh += 1000 }, wantMsg: "net"},
		{desc: "tCO2e", edit: func(r *carbon.Report) { r.Totals.ERTCO2 += 0.001 }, wantMsg: "BE/PE/LE/ER"},
		{desc: "factor", edit: func(r *carbon.Report) {
			r.Factor.Factor.TCO2PerMWh = 0.9
			r.Totals.EFTCO2PerMWh = 0.9
			fixTotals(r)
		}, wantMsg: "is not the table's"},
		{desc: "boundary reading in the bundle", edit: func(r *carbon.Report) {
			editBundle(r, func(b *anchor.Bundle) {
				rd, err := reading.Decode(b.Reading.Wire)
				if err != nil {
					t.Fatal(err)
				}
				rd.EnergyWh += 5000 // the device's signature no longer matches
				wire, err := rd.Wire()
				if err != nil {
					t.Fatal(err)
				}
				lh := reading.LeafHash(wire)
				view := rd.View()
				b.Reading.Wire, b.Reading.LeafHash, b.Reading.View = wire, lh[:], &view
			})
			r.Devices[0].End.EnergyWh += 5000
			fixTotals(r)
		}, wantErr: carbon.ErrProof, wantStep: anchor.StepSignature},
		{desc: "boundary counter in the report", edit: func(r *carbon.Report) {
			r.Devices[0].End.EnergyWh += 5000
			fixTotals(r)
		}, wantErr: carbon.ErrBoundary, wantMsg: "its proof is of"},
		{desc: "batch root", edit: func(r *carbon.Report) {
			editBundle(r, func(b *anchor.Bundle) { b.Batch.Root[0] ^= 1 })
		}, wantErr: carbon.ErrProof, wantStep: anchor.StepBatchRoot},
		{desc: "proof hash", edit: func(r *carbon.Report) {
			editBundle(r, func(b *anchor.Bundle) {
				// A reading alone in its window has no window path: then
				// the window's in the batch.
				switch {
				case len(b.Window.Path) > 0:
					b.Window.Path[0][3] ^= 1
				case len(b.Batch.Path) > 0:
					b.Batch.Path[0][3] ^= 1
					proofHashStep = anchor.StepBatchRoot
				default:
					t.Fatal("neither a window nor a batch path")
				}
			})
		}, wantErr: carbon.ErrProof, wantStep: anchor.StepWindowRoot},
		{desc: "anchored interval", edit: func(r *carbon.Report) {
			editBundle(r, func(b *anchor.Bundle) { b.Anchor.IntervalStartMS += 1000 })
		}, wantErr: carbon.ErrProof, wantStep: anchor.StepAnchor},
		{desc: "swapped boundary: another device's reading", edit: func(r *carbon.Report) {
			d := &r.Devices[0]
			d.End = carbon.Boundary{Seq: other.Seq, TimeMS: other.TimeMS, EnergyWh: other.EnergyWh, Bundle: otherBundle}
			fixTotals(r)
		}, wantErr: carbon.ErrBoundary, wantMsg: "its proof is of " + w.devs[2].ID},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			r, err := carbon.DecodeReport(bytes.NewReader(genuine.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			tc.edit(r)
			var buf bytes.Buffer
			if err := r.Encode(&buf); err != nil {
				t.Fatal(err)
			}
			got, err := carbon.DecodeReport(&buf)
			if err != nil {
				t.Fatal(err)
			}
			_, err = carbon.Recompute(ctx, got, carbon.RecomputeOptions{Table: carbon.DefaultTable(), Verifier: v})
			if err == nil {
				t.Fatal("tampered report verifies")
			}
			t.Logf("%v", err)
			if !errors.Is(err, carbon.ErrMismatch) || errors.Is(err, carbon.ErrChainUnavailable) {
				t.Errorf("not a mismatch: %v", err)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("does not wrap %v", tc.wantErr)
			}
			if tc.wantErr == nil && (errors.Is(err, carbon.ErrProof) || errors.Is(err, carbon.ErrBoundary)) {
				t.Errorf("a number's change blamed on the proofs")
			}
			want := tc.wantStep
			if proofHashStep != "" && tc.desc == "proof hash" {
				want = proofHashStep
			}
			if got := anchor.StepOf(err); got != want {
				t.Errorf("step %q, want %q", got, want)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("message lacks %q", tc.wantMsg)
			}
		})
	}
}

// testCILoans: the loan of site A plus device 3 (never anchored) in the
// readings' month: its certified generation is, per device, the counter
// difference between boundaries whose bundles verify on the real chain,
// minus the excluded span; device 3 is flagged; without a chain the same
// figures say they are not chain-verified. Then `sunproof loans coverage`.
func testCILoans(t *testing.T, w *ciWorld, store *anchor.Store, v *carbon.AnchorVerifier) {
	ctx := context.Background()
	cstz := time.FixedZone("CST", 8*3600)
	ft := w.from.In(cstz)
	month := time.Date(ft.Year(), ft.Month(), 1, 0, 0, 0, 0, cstz)
	loanDevs := []devices.Device{w.devs[0], w.devs[1], w.devs[ciUnanchored]}
	c := &certifier{loader: w.loader(t), proofs: store, verifier: v, alerts: w.alerts}
	g, err := c.monthGen(ctx, loanDevs, month, month.AddDate(0, 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	g0, e0 := w.netWh(0)
	g1, _ := w.netWh(1)
	if want := float64(g0 - e0 + g1); g.CertifiedWh != want || !g.ChainVerified || g.Complete || g.ExcludedWh != float64(e0) {
		t.Errorf("month %s: %g Wh (excluded %g), chain-verified %t, complete %t; want %g (%d), true, false", g.Month, g.CertifiedWh, g.ExcludedWh,
			g.ChainVerified, g.Complete, want, e0)
	}
	for i, d := range g.Devices[:2] {
		// Each boundary's bundle, verified independently against the chain,
		// proves the counter the loan used.
		var counters [2]uint64
		for k, seq := range []uint64{d.StartSeq, d.EndSeq} {
			b, err := store.ProofFor(ctx, d.DeviceID, seq)
			if err != nil {
				t.Fatal(err)
			}
			res, err := anchor.Verify(ctx, b, w.reader)
			if err != nil || !res.Anchored {
				t.Fatalf("%s/%d: %v", d.DeviceID, seq, err)
			}
			rd, err := reading.Decode(b.Reading.Wire)
			if err != nil {
				t.Fatal(err)
			}
			counters[k] = rd.EnergyWh
		}
		if !d.Certified || !d.ChainVerified || d.Partial || d.GrossWh != counters[1]-counters[0] || d.StartEnergyWh != counters[0] || d.EndEnergyWh != counters[1] {
			t.Errorf("%s: %+v; verified boundaries %d..%d Wh", d.DeviceID, d, counters[0], counters[1])
		}
		gross, excl := w.netWh(i)
		if d.GrossWh != gross || d.ExcludedWh != excl || d.NetWh != gross-excl {
			t.Errorf("%s: gross %d excluded %d net %d, want %d %d %d", d.DeviceID, d.GrossWh, d.ExcludedWh, d.NetWh, gross, excl, gross-excl)
		}
	}
	if d := g.Devices[2]; d.Certified || !strings.Contains(d.Problem, "fewer than two anchored") {
		t.Errorf("unanchored device: %+v", d)
	}
	// Without a chain: the same Wh, not chain-verified.
	nc := *c
	nc.verifier = nil
	if g2, err := nc.monthGen(ctx, loanDevs, month, month.AddDate(0, 1, 0)); err != nil || g2.CertifiedWh != g.CertifiedWh || g2.ChainVerified {
		t.Errorf("without a chain: %g Wh chain-verified %t, %v", g2.CertifiedWh, g2.ChainVerified, err)
	}

	// The CLI, with and without the chain.
	m := month.Format(loans.MonthLayout)
	book := filepath.Join(t.TempDir(), "loans.yaml")
	if err := os.WriteFile(book, fmt.Appendf(nil, `loans:
  - id: L-ci
    borrower: Integration
    site_id: %s
    device_ids: [%s]
    principal_cny: 50000
    tariff_cny_per_kwh: 0.3844
    schedule: [{month: %s, amount_cny: 1}]
`, w.devs[0].SiteID, w.devs[ciUnanchored].ID, m), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"coverage", "-file", book, "-json", "-from", m, "-to", m, "-influx", w.env.InfluxURL, "-db", w.db, "-store", w.store,
		"-kafka", w.env.Brokers[0], "-devices-topic", w.devTopic, "-contract", w.contract}
	for _, rpc := range []string{w.env.EthRPC, ""} {
		keys := "chain" // device keys for the bundles: from the contract, or without a chain from the registry
		if rpc == "" {
			keys = "registry"
		}
		stdout, err := captureStdout(t, func() error { return runLoans(append(args, "-rpc", rpc, "-keys", keys)) })
		if err != nil {
			t.Fatalf("loans coverage -rpc %q: %v\n%s", rpc, err, stdout)
		}
		var out struct {
			Loans     []loans.Status  `json:"loans"`
			Portfolio loans.Portfolio `json:"portfolio"`
		}
		if err := json.Unmarshal([]byte(stdout), &out); err != nil {
			t.Fatalf("%v\n%s", err, stdout)
		}
		if len(out.Loans) != 1 || len(out.Loans[0].Months) != 1 {
			t.Fatalf("loans %+v", out.Loans)
		}
		mc := out.Loans[0].Months[0]
		verified := rpc != ""
		if mc.Month != m || !mc.Actual || mc.GenWh != g.CertifiedWh || mc.Complete || mc.ChainVerified != verified ||
			out.Loans[0].ChainVerified != verified || out.Portfolio.ChainVerified != verified || len(mc.Problems) != 1 ||
			!strings.Contains(mc.Problems[0], w.devs[ciUnanchored].ID+" not certified") {
			t.Errorf("-rpc %q: %+v", rpc, mc)
		}
		t.Logf("loans coverage -rpc %q: %s %.3f kWh certified, complete %t, chain-verified %t, problems %q", rpc, mc.Month, mc.GenWh/1000,
			mc.Complete, mc.ChainVerified, mc.Problems)
	}
}
