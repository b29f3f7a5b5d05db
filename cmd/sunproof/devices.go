package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/ingest/agent"
	"github.com/sunproof/sunproof/internal/service"
)

func runDevices(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: sunproof devices add|list|show|disable [flags]")
	}
	switch args[0] {
	case "add":
		return devicesAdd(args[1:])
	case "list":
		return devicesList(args[1:])
	case "show":
		return devicesShow(args[1:])
	case "disable":
		return devicesDisable(args[1:])
	}
	return fmt.Errorf("unknown devices subcommand %q (want add, list, show or disable)", args[0])
}

// registryFlags are shared by the devices subcommands.
type registryFlags struct{ brokers, topic string }

func (r *registryFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&r.brokers, "kafka", env("SUNPROOF_KAFKA_BROKERS", "127.0.0.1:9092"), "Kafka brokers (env SUNPROOF_KAFKA_BROKERS)")
	fs.StringVar(&r.topic, "devices-topic", devices.DefaultTopic, "compacted registry topic")
}

// snapshot reads the registry up to its current end.
func (r *registryFlags) snapshot(ctx context.Context) (*devices.Registry, func(), error) {
	log := service.Logger("text")
	reg, err := devices.NewRegistry(devices.Config{Brokers: splitList(r.brokers), Topic: r.topic}, log, nil)
	if err != nil {
		return nil, nil, err
	}
	if err := devices.EnsureTopic(ctx, splitList(r.brokers), r.topic); err != nil {
		return nil, nil, err
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- reg.Run(rctx) }()
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	if err := reg.WaitReady(wctx); err != nil {
		cancel()
		return nil, nil, fmt.Errorf("read registry: %w", err)
	}
	return reg, func() { cancel(); <-done }, nil
}

func devicesAdd(args []string) error {
	fs := flag.NewFlagSet("devices add", flag.ExitOnError)
	var rf registryFlags
	rf.register(fs)
	d := devices.Device{Status: devices.StatusActive}
	fs.StringVar(&d.ID, "id", "", "device id ([A-Za-z0-9._-], ≤ 64); also the TLS certificate CN")
	fs.StringVar(&d.SiteID, "site", "", "site id; the site is created if it does not exist")
	fs.Float64Var(&d.KWp, "kwp", 5, "rated DC capacity, kWp")
	fs.Float64Var(&d.ACRatingW, "ac-rating", 0, "inverter AC rating, W (default kWp × 1000)")
	fs.Float64Var(&d.Lat, "lat", 31.82, "latitude, degrees north")
	fs.Float64Var(&d.Lon, "lon", 117.23, "longitude, degrees east")
	fs.Float64Var(&d.TiltDeg, "tilt", 25, "module tilt, degrees")
	fs.Float64Var(&d.AzimuthDeg, "azimuth", 180, "module azimuth, degrees clockwise from north")
	fs.StringVar(&d.GridRegion, "region", "CN-East", "grid region (selects the emission factor)")
	fs.StringVar(&d.Installer, "installer", "", "installer name")
	fs.StringVar(&d.LoanRef, "loan", "", "loan reference (optional)")
	out := fs.String("out", "", "directory to write the agent's config bundle to (required)")
	pubFile := fs.String("public-key", "", "use this PEM public key instead of generating a key pair (the bundle then has no signing key)")
	caDir := fs.String("ca-dir", env("SUNPROOF_CA_DIR", ".stack/ca"), "CA that signs the client certificate (ca.crt, ca.key)")
	mqttURL := fs.String("mqtt", env("SUNPROOF_MQTTS_URL", "ssl://127.0.0.1:8883"), "broker URL written into agent.yaml")
	_ = fs.Parse(args)
	if *out == "" {
		return errors.New("-out is required")
	}
	if d.ACRatingW == 0 {
		d.ACRatingW = d.KWp * 1000
	}
	now := time.Now().UTC()
	d.CreatedAt, d.UpdatedAt = now, now
	var priv ed25519.PrivateKey
	if *pubFile != "" {
		b, err := os.ReadFile(*pubFile)
		if err != nil {
			return err
		}
		if d.PublicKey, err = devices.DecodePublicKeyPEM(b); err != nil {
			return err
		}
	} else {
		var err error
		if d.PublicKey, priv, err = devices.GenerateKey(rand.Reader); err != nil {
			return err
		}
	}
	if err := d.Validate(); err != nil {
		return err
	}
	ca, err := devices.LoadCA(filepath.Join(*caDir, "ca.crt"), filepath.Join(*caDir, "ca.key"))
	if err != nil {
		return err
	}
	certPEM, keyPEM, err := ca.IssueClientCert(d.ID, 5*365*24*time.Hour)
	if err != nil {
		return err
	}
	caPEM, err := os.ReadFile(filepath.Join(*caDir, "ca.crt"))
	if err != nil {
		return err
	}
	if err := writeBundle(*out, d, priv, certPEM, keyPEM, caPEM, *mqttURL); err != nil {
		return err
	}
	ctx, stop := service.SignalContext()
	defer stop()
	reg, done, err := rf.snapshot(ctx)
	if err != nil {
		return err
	}
	defer done()
	if old, err := reg.Device(d.ID); err == nil || errors.Is(err, devices.ErrDisabled) {
		return fmt.Errorf("device %s already exists (status %s); pick another id", d.ID, old.Status)
	}
	pub := devices.NewPublisher(splitList(rf.brokers), rf.topic)
	defer pub.Close()
	if _, err := reg.Site(d.SiteID); errors.Is(err, devices.ErrUnknownSite) {
		s := devices.Site{ID: d.SiteID, Name: d.SiteID, Installer: d.Installer, GridRegion: d.GridRegion,
			Lat: d.Lat, Lon: d.Lon, LoanRef: d.LoanRef, CreatedAt: now}
		if err := pub.PutSite(ctx, s); err != nil {
			return err
		}
	}
	if err := pub.PutDevice(ctx, d); err != nil {
		return err
	}
	fmt.Printf("device %s registered; agent bundle in %s\n", d.ID, *out)
	return nil
}

// writeBundle writes everything an installer copies to the edge box.
func writeBundle(dir string, d devices.Device, priv ed25519.PrivateKey, certPEM, keyPEM, caPEM []byte, mqttURL string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	cfg := agent.DefaultConfig()
	cfg.DeviceID, cfg.SiteID = d.ID, d.SiteID
	cfg.SigningKeyFile = "device.key"
	cfg.MQTT.URL = mqttURL
	cfg.MQTT.TLS.CAFile, cfg.MQTT.TLS.CertFile, cfg.MQTT.TLS.KeyFile = "ca.crt", "client.crt", "client.key"
	cfg.Queue.Dir = "queue"
	cfg.Source.Lat, cfg.Source.Lon, cfg.Source.TiltDeg, cfg.Source.AzimuthDeg = d.Lat, d.Lon, d.TiltDeg, d.AzimuthDeg
	cfg.Source.KWp, cfg.Source.ACRatingW = d.KWp, d.ACRatingW
	y, err := yaml.Marshal(cfg)
	if err != nil {
		return err
	}
	files := map[string][]byte{"agent.yaml": y, "client.crt": certPEM, "client.key": keyPEM, "ca.crt": caPEM}
	if priv != nil {
		kp, err := devices.EncodePrivateKeyPEM(priv)
		if err != nil {
			return err
		}
		files["device.key"] = kp
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}

func devicesList(args []string) error {
	fs := flag.NewFlagSet("devices list", flag.ExitOnError)
	var rf registryFlags
	rf.register(fs)
	_ = fs.Parse(args)
	ctx, stop := service.SignalContext()
	defer stop()
	reg, done, err := rf.snapshot(ctx)
	if err != nil {
		return err
	}
	defer done()
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSITE\tKWP\tREGION\tINSTALLER\tLOAN\tSTATUS")
	for _, d := range reg.Devices() {
		fmt.Fprintf(tw, "%s\t%s\t%.2f\t%s\t%s\t%s\t%s\n", d.ID, d.SiteID, d.KWp, d.GridRegion, d.Installer, d.LoanRef, d.Status)
	}
	return tw.Flush()
}

// oneDevice parses the flags of a subcommand that takes one DEVICE_ID and
// looks the device up in a registry snapshot (disabled devices included).
func oneDevice(name string, args []string) (context.Context, registryFlags, devices.Device, func(), error) {
	fs := flag.NewFlagSet("devices "+name, flag.ExitOnError)
	var rf registryFlags
	rf.register(fs)
	_ = fs.Parse(args)
	if fs.NArg() != 1 {
		return nil, rf, devices.Device{}, nil, fmt.Errorf("usage: sunproof devices %s DEVICE_ID", name)
	}
	ctx, stop := service.SignalContext()
	reg, done, err := rf.snapshot(ctx)
	if err != nil {
		stop()
		return nil, rf, devices.Device{}, nil, err
	}
	d, err := reg.Device(fs.Arg(0))
	release := func() { done(); stop() }
	if err != nil && !errors.Is(err, devices.ErrDisabled) {
		release()
		return nil, rf, devices.Device{}, nil, err
	}
	return ctx, rf, d, release, nil
}

func devicesShow(args []string) error {
	_, _, d, release, err := oneDevice("show", args)
	if err != nil {
		return err
	}
	defer release()
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}

func devicesDisable(args []string) error {
	ctx, rf, d, release, err := oneDevice("disable", args)
	if err != nil {
		return err
	}
	defer release()
	if !d.Active() {
		fmt.Printf("device %s is already disabled (since %s)\n", d.ID, d.DisabledAt.Format(time.RFC3339))
		return nil
	}
	pub := devices.NewPublisher(splitList(rf.brokers), rf.topic)
	defer pub.Close()
	if err := pub.PutDevice(ctx, d.AsDisabled(time.Now().UTC())); err != nil {
		return err
	}
	fmt.Printf("device %s disabled; collectors reject its readings from now on\n", d.ID)
	return nil
}
