package main

import (
	"context"
	"errors"
	"flag"
	"net"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/sunproof/sunproof/anchor"
	"github.com/sunproof/sunproof/internal/proofhttp"
	"github.com/sunproof/sunproof/internal/service"
)

// runServe serves the HTTP API. For now that is GET
// /v1/proofs/{device_id}/{seq} from the proof store (read-only, next to a
// running `sunproof anchor`); more routes are added to the mux.
func runServe(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	addr := fs.String("addr", env("SUNPROOF_HTTP_ADDR", "127.0.0.1:8080"), "listen address (env SUNPROOF_HTTP_ADDR)")
	metricsAddr := fs.String("metrics-addr", "127.0.0.1:9474", "serve /metrics here; empty to disable")
	logFormat := fs.String("log-format", "text", "text or json")
	storeDir := fs.String("store", defaultStoreDir(), "proof store directory (env SUNPROOF_PROOF_STORE)")
	var kf keyFlags
	kf.register(fs)
	_ = fs.Parse(args)
	log := service.Logger(*logFormat)
	reg := service.NewRegistry()
	ctx, stop := service.SignalContext()
	defer stop()
	keys, done, err := kf.open(ctx)
	if err != nil {
		return err
	}
	defer done()
	store, err := anchor.OpenStore(*storeDir, anchor.StoreOptions{ReadOnly: true, Keys: keys, Logger: log})
	if err != nil {
		return err
	}
	mux := proofhttp.NewMux(store, log)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return service.ServeMetrics(ctx, *metricsAddr, reg, log) })
	g.Go(func() error {
		log.Info("serving", "addr", ln.Addr().String(), "store", *storeDir, "keys", kf.source)
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
