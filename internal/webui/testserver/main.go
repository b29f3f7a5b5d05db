// Command testserver serves the web UI and the API against the real local
// stack with a freshly seeded fleet, for the browser tests and the API
// fuzzing (scripts/ui-tests.sh). It is a test fixture, not a product: the
// production wiring is `sunproof serve`.
//
// On start it
//
//   - deploys a fresh SunproofAnchor contract on the stack's geth (dev key)
//     and registers the six seeded devices' keys;
//   - publishes four sites and six devices (two installers, two loans) to a
//     fresh registry topic on Kafka, and tails it with a devices.Registry;
//   - simulates -hours of signed readings every -interval per device
//     (ingest/sim; one device trips at midday) into a fresh InfluxDB
//     database;
//   - builds 15-minute windows and hourly batches of them, anchors every
//     interval except the newest -pending on chain, and writes manifests,
//     receipts and the device index into a proof store (anchor.Store), as
//     the batcher does;
//   - runs one anomaly scan over the seeded day (anomaly.Analyzer, alerts
//     stored in InfluxDB);
//   - writes a token file (hashed) with one token per role, carbon reports
//     and loans (see fixtures.go), and sample documents to verify;
//   - serves webui.New on -addr and writes -dir/session.json (URL, tokens,
//     fixture paths) for the tests.
//
// The seeded day starts after the device keys are registered on chain (so
// that online verification finds every key valid at every reading's
// time), which puts it in the future: the server's clock is fixed at the
// end of the seeded day, -hours ahead of the wall clock.
//
// Usage:
//
//	go run ./internal/webui/testserver -addr 127.0.0.1:8787 -dir out/uitest
package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/sunproof/sunproof/anchor"
	"github.com/sunproof/sunproof/anomaly"
	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/internal/httpapi"
	"github.com/sunproof/sunproof/internal/influxql"
	"github.com/sunproof/sunproof/internal/teststack"
	"github.com/sunproof/sunproof/internal/webui"
)

// session is what the tests read from -dir/session.json.
type session struct {
	URL      string            `json:"url"`
	RunID    string            `json:"run_id"`
	Database string            `json:"database"`
	Topic    string            `json:"topic"`
	Contract string            `json:"contract"`
	ChainID  uint64            `json:"chain_id"`
	Now      time.Time         `json:"now"` // the server's clock
	Tokens   map[string]string `json:"tokens"`
	// Scopes: what each role's token is limited to.
	Installer string   `json:"installer"`
	BankLoans []string `json:"bank_loans"`
	Devices   []string `json:"devices"`
	Fixtures  struct {
		ValidProof     string `json:"valid_proof"`
		TamperedProof  string `json:"tampered_proof"`
		ValidReport    string `json:"valid_report"`
		TamperedReport string `json:"tampered_report"`
	} `json:"fixtures"`
	Intervals int `json:"anchored_intervals"`
	Alerts    int `json:"alerts"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8787", "listen address")
	dir := flag.String("dir", "out/uitest", "state directory (proof store, tokens, session.json, fixtures); emptied on start")
	hours := flag.Duration("hours", 24*time.Hour, "span of seeded readings")
	interval := flag.Duration("interval", 5*time.Minute, "reading interval")
	pending := flag.Duration("pending", 2*time.Hour, "the newest intervals left unanchored")
	keep := flag.Bool("keep", false, "keep the InfluxDB database on exit")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, log, *addr, *dir, *hours, *interval, *pending, *keep); err != nil {
		log.Error("testserver failed", "err", err)
		os.Exit(1)
	}
}

func reachable(env teststack.Env) error {
	hp := func(raw string) string {
		if u, err := url.Parse(raw); err == nil && u.Host != "" {
			return u.Host
		}
		return raw
	}
	for name, a := range map[string]string{"kafka": env.Brokers[0], "influxdb": hp(env.InfluxURL), "geth": hp(env.EthRPC)} {
		c, err := net.DialTimeout("tcp", a, 3*time.Second)
		if err != nil {
			return fmt.Errorf("%s is not reachable at %s (start the stack: make up): %w", name, a, err)
		}
		c.Close()
	}
	return nil
}

func run(ctx context.Context, log *slog.Logger, addr, dir string, hours, interval, pending time.Duration, keep bool) error {
	env := teststack.Load()
	if err := reachable(env); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, "fixtures"), 0o755); err != nil {
		return err
	}
	runID := teststack.RunID()
	s := &seed{run: runID, topic: "pv.devices.uitest-" + runID, db: "sunproof_uitest_" + runID, keys: map[string]ed25519.PrivateKey{}}
	for _, f := range fleet {
		s.keys[f.id] = deviceKey(runID, f.id)
	}
	for _, f := range fleet { // the chain registration needs the registry's device records
		s.devs = append(s.devs, devices.Device{ID: f.id, PublicKey: s.keys[f.id].Public().(ed25519.PublicKey)})
	}
	began := time.Now()
	c, registered, err := deployChain(ctx, env, s, log)
	if err != nil {
		return err
	}
	defer c.sub.Close()
	s.devs = nil
	s.start = registered.Add(interval).Truncate(interval)
	s.end = s.start.Add(hours)
	now := s.end.Add(time.Minute)
	log.Info("chain ready", "contract", s.contract, "registered", registered, "seeded_from", s.start, "to", s.end)

	if err := publishRegistry(ctx, env, s, registered); err != nil {
		return err
	}
	if err := simulate(s, interval); err != nil {
		return err
	}
	if err := writeInflux(ctx, env, s); err != nil {
		return err
	}
	if !keep {
		defer func() {
			cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := teststack.InfluxQL(cctx, env.InfluxURL, "", "DROP DATABASE "+s.db); err != nil {
				log.Warn("drop database", "db", s.db, "err", err)
			}
		}()
	}

	eth, err := anchor.DialEthReader(ctx, anchor.EthReaderConfig{RPCURL: env.EthRPC, BlockTimeUnit: time.Second, RPCTimeout: 10 * time.Second})
	if err != nil {
		return err
	}
	defer eth.Close()
	store, err := anchor.OpenStore(filepath.Join(dir, "proofstore"), anchor.StoreOptions{Keys: anchor.ChainKeys(eth, s.contract), Logger: log})
	if err != nil {
		return err
	}
	defer store.Close()
	nIntervals, err := anchorReadings(ctx, s, c, store, pending, log)
	if err != nil {
		return err
	}
	log.Info("anchored", "intervals", nIntervals)

	reg, err := devices.NewRegistry(devices.Config{Brokers: env.Brokers, Topic: s.topic}, log, nil)
	if err != nil {
		return err
	}
	rctx, cancelReg := context.WithCancel(ctx)
	defer cancelReg()
	go reg.Run(rctx)
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	err = reg.WaitReady(wctx)
	for err == nil && len(reg.Devices()) < len(fleet) {
		select {
		case <-wctx.Done():
			err = fmt.Errorf("registry has %d of %d devices", len(reg.Devices()), len(fleet))
		case <-time.After(100 * time.Millisecond):
		}
	}
	cancel()
	if err != nil {
		return fmt.Errorf("device registry: %w", err)
	}

	alerts, nAlerts, err := scanAlerts(ctx, env, s, reg, store, now, log)
	if err != nil {
		return err
	}
	carbon, err := buildReports(ctx, s, store)
	if err != nil {
		return err
	}
	loans, err := buildLoans(s)
	if err != nil {
		return err
	}

	sess := session{RunID: runID, Database: s.db, Topic: s.topic, Contract: s.contract, ChainID: s.chainID, Now: now,
		Tokens: map[string]string{}, Installer: "acme-solar", BankLoans: []string{"LOAN-A", "LOAN-B"}, Intervals: nIntervals, Alerts: nAlerts}
	tokFile := filepath.Join(dir, "tokens.yaml")
	for _, e := range []httpapi.TokenEntry{
		{Name: "ops-admin", Role: httpapi.RoleAdmin},
		{Name: "acme-solar-ops", Role: httpapi.RoleInstaller, Installer: sess.Installer},
		{Name: "green-bank", Role: httpapi.RoleBank, Loans: sess.BankLoans},
		{Name: "carbon-verifier", Role: httpapi.RoleVerifier},
	} {
		tok, err := httpapi.AddToken(tokFile, e)
		if err != nil {
			return err
		}
		sess.Tokens[string(e.Role)] = tok
	}
	tokens, err := httpapi.LoadTokens(tokFile)
	if err != nil {
		return err
	}
	for _, d := range reg.Devices() {
		sess.Devices = append(sess.Devices, d.ID)
	}
	if err := writeFixtures(ctx, dir, s, store, carbon, &sess); err != nil {
		return err
	}

	influx, err := httpapi.NewInflux(httpapi.InfluxConfig{Server: influxql.Server{URL: env.InfluxURL, Database: s.db}, Measurement: "reading", Timeout: 30 * time.Second}, nil)
	if err != nil {
		return err
	}
	api, err := httpapi.NewServer(httpapi.Config{
		Devices: reg, Tokens: tokens, Readings: influx, Alerts: alerts, Anchors: store, ProofSource: store,
		Carbon: carbon, Loans: loans, Chain: eth, Logger: log, Now: func() time.Time { return now },
	})
	if err != nil {
		return err
	}
	ui, err := webui.New(api, webui.Config{Logger: log})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	sess.URL = "http://" + ln.Addr().String()
	b, _ := json.MarshalIndent(sess, "", "  ")
	// Written last and atomically: its appearance tells the tests that the
	// server is up.
	if err := os.WriteFile(filepath.Join(dir, ".session.json"), b, 0o600); err != nil {
		return err
	}
	if err := os.Rename(filepath.Join(dir, ".session.json"), filepath.Join(dir, "session.json")); err != nil {
		return err
	}
	srv := &http.Server{Handler: ui, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10}
	log.Info("serving", "url", sess.URL, "seeded_in", time.Since(began).Round(time.Millisecond), "session", filepath.Join(dir, "session.json"))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// scanAlerts runs one anomaly scan of the seeded day with the real
// analyzer; alerts go to the run's database.
func scanAlerts(ctx context.Context, env teststack.Env, s *seed, reg *devices.Registry, store *anchor.Store, now time.Time, log *slog.Logger) (httpapi.AlertSource, int, error) {
	icfg := anomaly.DefaultInfluxConfig()
	icfg.URL, icfg.Database, icfg.Timeout = env.InfluxURL, s.db, time.Minute
	src, err := anomaly.NewSource(icfg, nil)
	if err != nil {
		return nil, 0, err
	}
	ist, err := anomaly.NewInfluxStore(icfg, nil)
	if err != nil {
		return nil, 0, err
	}
	sc, err := anomaly.NewScanner(anomaly.DefaultConfig())
	if err != nil {
		return nil, 0, err
	}
	tr, err := anomaly.NewTracker(anomaly.DefaultTrackerConfig(), nil)
	if err != nil {
		return nil, 0, err
	}
	an := &anomaly.Analyzer{Config: anomaly.DefaultAnalyzerConfig(), Scanner: sc, Tracker: tr, Source: src, Fleet: reg, Store: ist,
		Anchors: anchoring{s: s, store: store}, Log: log, Now: func() time.Time { return now }}
	_, changed, err := an.ScanOnce(ctx, s.start, s.end.Add(time.Second))
	if err != nil {
		return nil, 0, fmt.Errorf("anomaly scan: %w", err)
	}
	log.Info("anomaly scan", "alerts", len(changed))
	return httpapi.AlertFunc(ist.All), len(changed), nil
}

// anchoring tells the analyzer whether a span's readings are anchored, from
// the proof store's device index.
type anchoring struct {
	s     *seed
	store *anchor.Store
}

func (a anchoring) Anchored(_ context.Context, deviceID string, from, to time.Time) (anomaly.Anchoring, error) {
	n, anchored := 0, 0
	for _, r := range a.s.readings[deviceID] {
		if t := r.Time(); t.Before(from) || t.After(to) {
			continue
		}
		n++
		ok, err := a.store.Anchored(deviceID, r.Seq)
		if err != nil {
			return anomaly.AnchoringUnknown, err
		}
		if ok {
			anchored++
		}
	}
	switch {
	case n == 0:
		return anomaly.AnchoringUnknown, nil
	case anchored == n:
		return anomaly.AnchoringFull, nil
	case anchored > 0:
		return anomaly.AnchoringPartial, nil
	}
	return anomaly.AnchoringNone, nil
}

// writeFixtures writes documents for the verify tests: a valid proof, the
// same proof with an inflated energy counter, and a carbon report whole
// and with one boundary proof tampered with.
func writeFixtures(ctx context.Context, dir string, s *seed, store *anchor.Store, carbon *carbonFixture, sess *session) error {
	if len(carbon.reports) == 0 {
		return errors.New("no carbon report could be built: nothing anchored")
	}
	rep := carbon.reports[0]
	var doc reportDoc
	if err := json.Unmarshal(carbon.docs[rep.ID], &doc); err != nil {
		return err
	}
	valid := doc.Boundaries["end"].Proof
	bad, err := tamperedBundle(valid)
	if err != nil {
		return err
	}
	write := func(name string, v any) (string, error) {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return "", err
		}
		p, err := filepath.Abs(filepath.Join(dir, "fixtures", name))
		if err != nil {
			return "", err
		}
		return p, os.WriteFile(p, b, 0o644)
	}
	if sess.Fixtures.ValidProof, err = write("proof-valid.json", valid); err != nil {
		return err
	}
	if sess.Fixtures.TamperedProof, err = write("proof-tampered.json", bad); err != nil {
		return err
	}
	if sess.Fixtures.ValidReport, err = write("report-valid.json", json.RawMessage(carbon.docs[rep.ID])); err != nil {
		return err
	}
	end := doc.Boundaries["end"]
	end.Proof = bad
	doc.Boundaries["end"] = end
	if sess.Fixtures.TamperedReport, err = write("report-tampered.json", doc); err != nil {
		return err
	}
	return nil
}
