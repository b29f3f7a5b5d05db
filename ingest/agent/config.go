package agent

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sunproof/sunproof/ingest/agent/queue"
	"github.com/sunproof/sunproof/ingest/reading"
	"github.com/sunproof/sunproof/internal/mqttconn"
)

// Config is the agent's YAML configuration (see deploy/agent.example.yaml).
type Config struct {
	DeviceID       string        `yaml:"device_id"`
	SiteID         string        `yaml:"site_id"`
	SigningKeyFile string        `yaml:"signing_key_file"` // PKCS#8 PEM Ed25519 private key
	Interval       time.Duration `yaml:"interval"`         // sampling period
	MQTT           MQTTConfig    `yaml:"mqtt"`
	Queue          queue.Config  `yaml:"queue"`
	Source         SourceConfig  `yaml:"source"`
	MetricsAddr    string        `yaml:"metrics_addr"` // e.g. 127.0.0.1:9464; "" = off
}

// MQTTConfig configures the connection to the broker.
type MQTTConfig struct {
	URL            string            `yaml:"url"`
	ClientID       string            `yaml:"client_id"` // default: device id
	TLS            mqttconn.TLSFiles `yaml:"tls"`
	MaxOutstanding int               `yaml:"max_outstanding"` // published, not yet acked end to end
	MaxInflight    int               `yaml:"max_inflight"`    // published, not yet PUBACKed by the broker
	AckTimeout     time.Duration     `yaml:"ack_timeout"`     // resend after this long without ack progress
}

// SourceConfig selects the inverter source. Only "sim" exists today;
// Modbus/SunSpec comes next.
type SourceConfig struct {
	Kind       string  `yaml:"kind"`
	Seed       int64   `yaml:"seed"`
	Lat        float64 `yaml:"lat"`
	Lon        float64 `yaml:"lon"`
	TiltDeg    float64 `yaml:"tilt_deg"`
	AzimuthDeg float64 `yaml:"azimuth_deg"`
	KWp        float64 `yaml:"kwp"`
	ACRatingW  float64 `yaml:"ac_rating_w"`
	Cloudiness float64 `yaml:"cloudiness"`
}

// DefaultConfig returns defaults; DeviceID, SiteID, the key and the source
// location must still be set.
func DefaultConfig() Config {
	return Config{
		Interval: 10 * time.Second,
		MQTT: MQTTConfig{URL: "ssl://127.0.0.1:8883", MaxOutstanding: 1000, MaxInflight: 100,
			AckTimeout: 30 * time.Second},
		Queue:  queue.DefaultConfig("/var/lib/sunproof-agent/queue"),
		Source: SourceConfig{Kind: "sim", TiltDeg: 25, AzimuthDeg: 180, KWp: 5, Cloudiness: 0.3},
	}
}

// Validate reports every configuration error at once.
func (c Config) Validate() error {
	var errs []error
	if err := reading.CheckID("device_id", c.DeviceID); err != nil {
		errs = append(errs, err)
	}
	if err := reading.CheckID("site_id", c.SiteID); err != nil {
		errs = append(errs, err)
	}
	if c.SigningKeyFile == "" {
		errs = append(errs, errors.New("signing_key_file is empty"))
	}
	if c.Interval < 10*time.Millisecond {
		errs = append(errs, fmt.Errorf("interval %s: want ≥ 10ms", c.Interval))
	}
	if c.MQTT.URL == "" {
		errs = append(errs, errors.New("mqtt.url is empty"))
	}
	if c.MQTT.MaxOutstanding < 1 || c.MQTT.MaxInflight < 1 {
		errs = append(errs, fmt.Errorf("mqtt.max_outstanding %d and mqtt.max_inflight %d must be ≥ 1", c.MQTT.MaxOutstanding, c.MQTT.MaxInflight))
	}
	if c.MQTT.AckTimeout < time.Second {
		errs = append(errs, fmt.Errorf("mqtt.ack_timeout %s: want ≥ 1s", c.MQTT.AckTimeout))
	}
	if err := c.Queue.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("queue: %w", err))
	}
	if c.Source.Kind != "sim" {
		errs = append(errs, fmt.Errorf("source.kind %q: only \"sim\" is supported", c.Source.Kind))
	}
	return errors.Join(errs...)
}

// LoadConfig reads a YAML file over DefaultConfig, then applies environment
// overrides (SUNPROOF_AGENT_MQTT_URL, SUNPROOF_AGENT_QUEUE_DIR,
// SUNPROOF_AGENT_METRICS_ADDR). Relative file paths are resolved against
// the config file's directory, so a config bundle can be moved as a whole.
func LoadConfig(path string) (Config, error) {
	c := DefaultConfig()
	b, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("read agent config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("parse agent config %s: %w", path, err)
	}
	if v := os.Getenv("SUNPROOF_AGENT_MQTT_URL"); v != "" {
		c.MQTT.URL = v
	}
	if v := os.Getenv("SUNPROOF_AGENT_QUEUE_DIR"); v != "" {
		c.Queue.Dir = v
	}
	if v := os.Getenv("SUNPROOF_AGENT_METRICS_ADDR"); v != "" {
		c.MetricsAddr = v
	}
	base := filepath.Dir(path)
	for _, p := range []*string{&c.SigningKeyFile, &c.MQTT.TLS.CAFile, &c.MQTT.TLS.CertFile, &c.MQTT.TLS.KeyFile, &c.Queue.Dir} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(base, *p)
		}
	}
	return c, c.Validate()
}

// LoadSigningKey reads a PKCS#8 PEM Ed25519 private key.
func LoadSigningKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("signing key %s: no PEM \"PRIVATE KEY\" block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key %s is a %T, want Ed25519", path, k)
	}
	return ek, nil
}
