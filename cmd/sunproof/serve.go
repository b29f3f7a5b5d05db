package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/sunproof/sunproof/anchor"
	"github.com/sunproof/sunproof/anomaly"
	"github.com/sunproof/sunproof/carbon"
	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/internal/httpapi"
	"github.com/sunproof/sunproof/internal/proofhttp"
	"github.com/sunproof/sunproof/internal/service"
	"github.com/sunproof/sunproof/internal/webui"
	"github.com/sunproof/sunproof/loans"
)

func defaultTokenFile() string {
	return env("SUNPROOF_TOKENS_FILE", filepath.Join(stackDir(), "serve", "tokens.yaml"))
}

// runServe serves the versioned JSON API (/v1, docs/api/openapi.yaml) and
// the web UI (/) over the registry, InfluxDB, the proof store, the alert
// store and the chain. `sunproof serve token` manages API tokens.
func runServe(args []string) error {
	if len(args) > 0 && args[0] == "token" {
		return serveToken(args[1:])
	}
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	addr := fs.String("addr", env("SUNPROOF_HTTP_ADDR", "127.0.0.1:8080"), "listen address (env SUNPROOF_HTTP_ADDR)")
	metricsAddr := fs.String("metrics-addr", "127.0.0.1:9475", "serve /metrics here; empty to disable")
	logFormat := fs.String("log-format", "text", "text or json")
	storeDir := fs.String("store", defaultStoreDir(), "proof store directory (env SUNPROOF_PROOF_STORE)")
	tokenFile := fs.String("tokens", defaultTokenFile(), "API token file (hashed tokens; env SUNPROOF_TOKENS_FILE); create one with: sunproof serve token add")
	influxURL := fs.String("influx", env("SUNPROOF_INFLUX_URL", "http://127.0.0.1:8086"), "InfluxDB URL (env SUNPROOF_INFLUX_URL)")
	db := fs.String("db", env("SUNPROOF_INFLUX_DB", "sunproof"), "InfluxDB database")
	reports := fs.String("reports", env("SUNPROOF_REPORTS_DIR", filepath.Join(stackDir(), "reports")), "directory of carbon reports, the JSON files written by: sunproof carbon report -out DIR/NAME.json")
	loanFile := fs.String("loans", defaultLoanBook(), "loan book (YAML; env SUNPROOF_LOANS_FILE); without it /v1/loans answers 503")
	var rf registryFlags
	rf.register(fs)
	var cf chainFlags
	cf.register(fs)
	_ = fs.Parse(args)
	log := service.Logger(*logFormat)
	reg := service.NewRegistry()
	ctx, stop := service.SignalContext()
	defer stop()

	tokens, err := httpapi.LoadTokens(*tokenFile)
	if err != nil {
		return fmt.Errorf("%w (create one with `sunproof serve token add -role admin -name me`)", err)
	}
	if err := devices.EnsureTopic(ctx, splitList(rf.brokers), rf.topic); err != nil {
		return err
	}
	devs, err := devices.NewRegistry(devices.Config{Brokers: splitList(rf.brokers), Topic: rf.topic}, log, reg)
	if err != nil {
		return err
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return devs.Run(ctx) })
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	err = devs.WaitReady(wctx)
	cancel()
	if err != nil {
		return fmt.Errorf("device registry: %w", err)
	}
	keys := anchor.KeySourceFunc(func(_ context.Context, id string) ([]ed25519.PublicKey, error) {
		d, err := devs.Device(id)
		if err != nil && !errors.Is(err, devices.ErrDisabled) {
			return nil, err
		}
		return []ed25519.PublicKey{d.PublicKey}, nil
	})
	cfg := httpapi.Config{Devices: devs, Tokens: tokens, Logger: log,
		Carbon: reportDir{*reports}, Reports: reportChecker{}}
	var store *anchor.Store
	if _, err := os.Stat(*storeDir); err == nil {
		if store, err = anchor.OpenStore(*storeDir, anchor.StoreOptions{ReadOnly: true, Keys: keys, Logger: log}); err != nil {
			return err
		}
		cfg.Anchors, cfg.Proofs = store, proofhttp.Handler(store, log)
	} else {
		log.Warn("no proof store yet: anchors and proofs answer 503 until `sunproof anchor` has run", "store", *storeDir)
	}
	ic := httpapi.DefaultInfluxConfig()
	ic.URL, ic.Database = *influxURL, *db
	if cfg.Readings, err = httpapi.NewInflux(ic, nil); err != nil {
		return err
	}
	ac := anomaly.DefaultInfluxConfig()
	ac.URL, ac.Database = *influxURL, *db
	alerts, err := anomaly.NewInfluxStore(ac, nil)
	if err != nil {
		return err
	}
	cfg.Alerts = httpapi.AlertFunc(alerts.All)
	if cf.rpc != "" {
		rc := anchor.DefaultEthReaderConfig()
		rc.RPCURL = cf.rpc
		eth, err := anchor.DialEthReader(ctx, rc)
		if err != nil {
			log.Warn("chain unreachable: POST /v1/verify checks offline only, loan figures are not chain-verified", "rpc", cf.rpc, "err", err)
		} else {
			defer eth.Close()
			cfg.Chain = eth
		}
	}
	// Loans: certified generation as in carbon reports, over the proof
	// store (with device keys, for the boundary bundles), verified against
	// the chain when there is one.
	if book, err := loans.Load(*loanFile); err != nil {
		log.Warn("no loan book: /v1/loans answers 503", "file", *loanFile, "err", err)
	} else if store == nil {
		log.Warn("no proof store: /v1/loans answers 503 (certified generation is between anchored readings)", "store", *storeDir)
	} else {
		src, err := anomaly.NewSource(ac, nil)
		if err != nil {
			return err
		}
		sl := &serveLoans{book: book, devs: devs, src: src, proofs: store, alerts: alerts, ttl: 5 * time.Minute}
		if cfg.Chain != nil {
			contract, err := trustedContract(&cf)
			if err != nil {
				return err
			}
			sl.verifier = &carbon.AnchorVerifier{Chain: cfg.Chain, Contract: contract}
		} else {
			log.Warn("no chain: loan figures are NOT chain-verified (chain_verified false in /v1/loans)")
		}
		cfg.Loans = sl
	}
	api, err := httpapi.NewServer(cfg)
	if err != nil {
		return err
	}
	ui, err := webui.New(api, webui.Config{Logger: log})
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: ui, ReadHeaderTimeout: 5 * time.Second, MaxHeaderBytes: 64 << 10}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	g.Go(func() error { return service.ServeMetrics(ctx, *metricsAddr, reg, log) })
	g.Go(func() error {
		log.Info("serving API and web UI", "url", "http://"+ln.Addr().String(), "store", *storeDir)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	})
	return g.Wait()
}

// serveToken: sunproof serve token add -role R -name N [-installer I] [-loan L]...
func serveToken(args []string) error {
	if len(args) == 0 || args[0] != "add" {
		return errors.New("usage: sunproof serve token add -role admin|installer|bank|verifier -name NAME [-installer I] [-loans L1,L2]")
	}
	fs := flag.NewFlagSet("serve token add", flag.ExitOnError)
	file := fs.String("tokens", defaultTokenFile(), "token file")
	role := fs.String("role", "", "admin, installer, bank or verifier")
	name := fs.String("name", "", "who the token is for")
	inst := fs.String("installer", "", "installer scope (role installer)")
	loans := fs.String("loans", "", "loan references, comma-separated (role bank)")
	_ = fs.Parse(args[1:])
	if err := os.MkdirAll(filepath.Dir(*file), 0o700); err != nil {
		return err
	}
	tok, err := httpapi.AddToken(*file, httpapi.TokenEntry{Name: *name, Role: httpapi.Role(*role), Installer: *inst, Loans: splitList(*loans)})
	if err != nil {
		return err
	}
	fmt.Println(tok) // shown once; only its SHA-256 is stored
	return nil
}
