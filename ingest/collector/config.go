package collector

import (
	"errors"
	"fmt"
	"time"

	"github.com/sunproof/sunproof/ingest"
	"github.com/sunproof/sunproof/ingest/reading"
	"github.com/sunproof/sunproof/internal/mqttconn"
)

// Config configures a collector.
type Config struct {
	MQTTURL     string            `yaml:"mqtt_url"`    // tcp://host:1883 or ssl://host:8883
	ClientID    string            `yaml:"client_id"`   // stable: the persistent session is keyed by it; lane i uses "<id>-<i>"
	ShareGroup  string            `yaml:"share_group"` // $share/<group>/pv/+/readings
	Lanes       int               `yaml:"lanes"`       // MQTT connections on the shared subscription
	TLS         mqttconn.TLSFiles `yaml:"tls"`         // client certificate for ssl:// URLs
	Brokers     []string          `yaml:"kafka_brokers"`
	Topic       string            `yaml:"readings_topic"`
	RejectTopic string            `yaml:"rejects_topic"`
	Partitions  int               `yaml:"partitions"`   // used when creating the readings topic
	BatchSize   int               `yaml:"batch_size"`   // max messages per Kafka write
	BatchLinger time.Duration     `yaml:"batch_linger"` // max wait to fill a batch
	// DedupHorizon is how many recent seqs per device are remembered.
	DedupHorizon int            `yaml:"dedup_horizon"`
	Limits       reading.Limits `yaml:"-"`
	// RetryMax bounds the backoff between failed Kafka writes.
	RetryMax time.Duration `yaml:"retry_max"`
}

// DefaultConfig returns a collector configuration for the local stack.
func DefaultConfig() Config {
	return Config{
		MQTTURL:      "tcp://127.0.0.1:1883",
		ClientID:     "sunproof-collector",
		ShareGroup:   "collectors",
		Lanes:        4,
		Brokers:      []string{"127.0.0.1:9092"},
		Topic:        ingest.TopicReadings,
		RejectTopic:  ingest.TopicRejects,
		Partitions:   6,
		BatchSize:    1000,
		BatchLinger:  5 * time.Millisecond,
		DedupHorizon: 4096,
		Limits:       reading.DefaultLimits(),
		RetryMax:     5 * time.Second,
	}
}

// Validate reports the first configuration error.
func (c Config) Validate() error {
	var errs []error
	if c.MQTTURL == "" {
		errs = append(errs, errors.New("mqtt_url is empty"))
	}
	if c.ClientID == "" {
		errs = append(errs, errors.New("client_id is empty: persistent sessions need a stable id"))
	}
	if c.ShareGroup == "" {
		errs = append(errs, errors.New("share_group is empty"))
	}
	if c.Lanes < 1 || c.Lanes > 64 {
		errs = append(errs, fmt.Errorf("lanes %d: want 1..64", c.Lanes))
	}
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("kafka_brokers is empty"))
	}
	if c.Topic == "" || c.RejectTopic == "" {
		errs = append(errs, errors.New("readings_topic and rejects_topic must be set"))
	}
	if c.Partitions < 1 {
		errs = append(errs, fmt.Errorf("partitions %d: want ≥ 1", c.Partitions))
	}
	if c.BatchSize < 1 {
		errs = append(errs, fmt.Errorf("batch_size %d: want ≥ 1", c.BatchSize))
	}
	if c.BatchLinger <= 0 {
		errs = append(errs, fmt.Errorf("batch_linger %s: want > 0", c.BatchLinger))
	}
	if c.DedupHorizon < 1 {
		errs = append(errs, fmt.Errorf("dedup_horizon %d: want ≥ 1", c.DedupHorizon))
	}
	if c.RetryMax <= 0 {
		errs = append(errs, fmt.Errorf("retry_max %s: want > 0", c.RetryMax))
	}
	return errors.Join(errs...)
}
