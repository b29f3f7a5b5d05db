package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/ingest/agent"
	"github.com/sunproof/sunproof/internal/service"
)

// A plant location of the simulated fleet and its grid region.
type simCity struct {
	name, region string
	lat, lon     float64
}

var simCities = []simCity{
	{"hefei", "CN-East", 31.82, 117.23}, {"nanjing", "CN-East", 32.06, 118.80},
	{"hangzhou", "CN-East", 30.27, 120.16}, {"jinan", "CN-North", 36.65, 117.12},
	{"wuhan", "CN-Central", 30.59, 114.31}, {"changsha", "CN-Central", 28.23, 112.94},
	{"xian", "CN-Northwest", 34.34, 108.94}, {"kunming", "CN-Southwest", 25.04, 102.71},
	{"guangzhou", "CN-South", 23.13, 113.26}, {"harbin", "CN-Northeast", 45.80, 126.53},
}

// simDevice derives device i of a fleet deterministically from the fleet secret.
func simDevice(secret []byte, prefix string, i int) (devices.Device, ed25519.PrivateKey) {
	h := sha256.Sum256(append(append([]byte{}, secret...), fmt.Sprintf("%s/%d", prefix, i)...))
	key := ed25519.NewKeyFromSeed(h[:])
	c := simCities[i%len(simCities)]
	jit := func(b byte, span float64) float64 { return (float64(b)/255 - 0.5) * span }
	kwp := math.Round((3+float64(h[0]%18))*10) / 10 // 3..20 kWp
	now := time.Now().UTC()
	d := devices.Device{
		ID: fmt.Sprintf("%s-%s-%04d", prefix, c.name, i), SiteID: fmt.Sprintf("%s-site-%04d", prefix, i/2),
		PublicKey: key.Public().(ed25519.PublicKey), KWp: kwp, ACRatingW: math.Round(kwp * 920),
		Lat: c.lat + jit(h[1], 0.4), Lon: c.lon + jit(h[2], 0.4), TiltDeg: 15 + float64(h[3]%20),
		AzimuthDeg: 150 + float64(h[4]%60), GridRegion: c.region, Installer: "sim-installer-" + fmt.Sprint(i%3),
		Status: devices.StatusActive, CreatedAt: now, UpdatedAt: now,
	}
	if i%5 == 0 {
		d.LoanRef = fmt.Sprintf("LOAN-%s-%04d", prefix, i)
	}
	// Two plants share a site: keep the site's location consistent.
	return d, key
}

// fleetSecret loads or creates the secret the fleet's keys derive from.
func fleetSecret(dir string) ([]byte, error) {
	p := filepath.Join(dir, "fleet.secret")
	if b, err := os.ReadFile(p); err == nil && len(b) == 32 {
		return b, nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return b, os.WriteFile(p, b, 0o600)
}

func runSim(args []string) error {
	fs := flag.NewFlagSet("sim", flag.ExitOnError)
	n := fs.Int("devices", 50, "simulated plants")
	prefix := fs.String("prefix", "sim", "device id prefix")
	dir := fs.String("dir", ".stack/fleet", "state: fleet secret and each agent's disk queue")
	interval := fs.Duration("interval", 10*time.Second, "sampling interval")
	backfill := fs.Duration("backfill", 0, "queue this much history (at -interval) before going live, e.g. 6h; such readings predate the devices' on-chain key registration, so their proofs fail the device_key step")
	mqttURL := fs.String("mqtt", env("SUNPROOF_MQTT_URL", "tcp://127.0.0.1:1883"), "broker URL (env SUNPROOF_MQTT_URL)")
	brokers := fs.String("kafka", env("SUNPROOF_KAFKA_BROKERS", "127.0.0.1:9092"), "Kafka brokers, to register the fleet")
	devTopic := fs.String("devices-topic", devices.DefaultTopic, "registry topic")
	cloud := fs.Float64("cloudiness", 0.3, "mean cloud cover 0..1")
	registerOnly := fs.Bool("register-only", false, "register the fleet in the registry and exit (so its keys can go on chain before the first reading)")
	_ = fs.Parse(args)
	log := service.Logger("text")
	ctx, stop := service.SignalContext()
	defer stop()

	secret, err := fleetSecret(*dir)
	if err != nil {
		return err
	}
	// Register the fleet (idempotent: existing devices are left alone).
	bl := splitList(*brokers)
	if err := devices.EnsureTopic(ctx, bl, *devTopic); err != nil {
		return err
	}
	reg, err := devices.NewRegistry(devices.Config{Brokers: bl, Topic: *devTopic}, log, nil)
	if err != nil {
		return err
	}
	rctx, rcancel := context.WithCancel(ctx)
	go func() { _ = reg.Run(rctx) }()
	if err := reg.WaitReady(ctx); err != nil {
		rcancel()
		return err
	}
	var recs []devices.Record
	sites := map[string]bool{}
	type member struct {
		d   devices.Device
		key ed25519.PrivateKey
	}
	fleet := make([]member, *n)
	for i := range *n {
		d, key := simDevice(secret, *prefix, i)
		fleet[i] = member{d, key}
		if _, err := reg.Site(d.SiteID); errors.Is(err, devices.ErrUnknownSite) && !sites[d.SiteID] {
			sites[d.SiteID] = true
			recs = append(recs, devices.SiteRecord(devices.Site{ID: d.SiteID, Name: "Simulated plant " + d.SiteID,
				Installer: d.Installer, GridRegion: d.GridRegion, Lat: d.Lat, Lon: d.Lon, LoanRef: d.LoanRef, CreatedAt: d.CreatedAt}))
		}
		if _, err := reg.Device(d.ID); errors.Is(err, devices.ErrUnknownDevice) {
			recs = append(recs, devices.DeviceRecord(d))
		}
	}
	rcancel()
	if len(recs) > 0 {
		pub := devices.NewPublisher(bl, *devTopic)
		err := pub.Put(ctx, recs...)
		pub.Close()
		if err != nil {
			return fmt.Errorf("register fleet: %w", err)
		}
	}
	log.Info("fleet registered", "devices", *n, "new_records", len(recs))
	if *registerOnly {
		return nil
	}

	agents := make([]*agent.Agent, *n)
	for i, m := range fleet {
		cfg := agent.DefaultConfig()
		cfg.DeviceID, cfg.SiteID, cfg.SigningKeyFile = m.d.ID, m.d.SiteID, "derived"
		cfg.Interval = *interval
		cfg.MQTT.URL = *mqttURL
		cfg.Queue.Dir = filepath.Join(*dir, "queues", m.d.ID)
		cfg.Queue.Fsync = "interval" // a simulator on a laptop: don't fsync 50 queues per reading
		cfg.Source = agent.SourceConfig{Kind: "sim", Seed: int64(i + 1), Lat: m.d.Lat, Lon: m.d.Lon,
			TiltDeg: m.d.TiltDeg, AzimuthDeg: m.d.AzimuthDeg, KWp: m.d.KWp, ACRatingW: m.d.ACRatingW, Cloudiness: *cloud}
		src, err := agent.NewSource(cfg.Source)
		if err != nil {
			return err
		}
		a, err := agent.New(cfg, agent.Options{Key: m.key, Source: src, Log: log})
		if err != nil {
			return fmt.Errorf("agent %s: %w", m.d.ID, err)
		}
		agents[i] = a
	}
	if *backfill > 0 {
		var wg sync.WaitGroup
		for _, a := range agents {
			wg.Go(func() {
				if a.Queue().LastSeq() > 0 {
					return // backfilled on an earlier run
				}
				end := time.Now().Truncate(*interval)
				for t := end.Add(-*backfill); t.Before(end); t = t.Add(*interval) {
					_ = a.SampleAt(t)
				}
			})
		}
		wg.Wait()
		log.Info("backfill queued", "span", backfill.String())
	}
	fmt.Printf("simulating %d plants every %s → %s (Ctrl-C to stop)\n", *n, *interval, *mqttURL)
	g, gctx := errgroup.WithContext(ctx)
	for _, a := range agents {
		g.Go(func() error { return a.Run(gctx) })
	}
	return g.Wait()
}
