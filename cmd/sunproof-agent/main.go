// Command sunproof-agent is the Sunproof edge agent: it reads an inverter,
// signs every reading with the device key, keeps it in a crash-safe disk
// queue and publishes it over MQTT until the collector confirms it is stored.
//
// Usage:
//
//	sunproof-agent -config /etc/sunproof-agent/agent.yaml
//
// The config bundle written by `sunproof devices add` holds agent.yaml, the
// signing key, the TLS client certificate and the CA. deploy/ has a systemd
// unit.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"

	"golang.org/x/sync/errgroup"

	"github.com/sunproof/sunproof/ingest/agent"
	"github.com/sunproof/sunproof/internal/service"
)

var version = "dev"

func main() {
	cfgPath := flag.String("config", "agent.yaml", "agent configuration file (YAML)")
	showVersion := flag.Bool("version", false, "print the version and exit")
	logFormat := flag.String("log-format", "text", "log format: text or json")
	flag.Parse()
	if *showVersion {
		fmt.Println("sunproof-agent", version)
		return
	}
	log := service.Logger(*logFormat)
	if err := run(*cfgPath, log); err != nil {
		log.Error("agent stopped", "err", err)
		os.Exit(1)
	}
}

func run(cfgPath string, log *slog.Logger) error {
	cfg, err := agent.LoadConfig(cfgPath)
	if err != nil {
		return err
	}
	key, err := agent.LoadSigningKey(cfg.SigningKeyFile)
	if err != nil {
		return err
	}
	src, err := agent.NewSource(cfg.Source)
	if err != nil {
		return err
	}
	reg := service.NewRegistry()
	a, err := agent.New(cfg, agent.Options{Key: key, Source: src, Log: log, Registry: reg})
	if err != nil {
		return err
	}
	ctx, stop := service.SignalContext()
	defer stop()
	log.Info("agent starting", "device_id", cfg.DeviceID, "mqtt", cfg.MQTT.URL, "queue", cfg.Queue.Dir,
		"queued", a.Queue().Len(), "next_seq", a.Queue().LastSeq()+1)
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return a.Run(ctx) })
	g.Go(func() error { return service.ServeMetrics(ctx, cfg.MetricsAddr, reg, log) })
	return g.Wait()
}
