package anomaly

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// AlertsTopic is the default Kafka topic for alert transitions.
const AlertsTopic = "pv.alerts"

// AlertMessage is the JSON value of one pv.alerts message and one element
// of a webhook delivery: the alert's latest state (docs/formats/alerts.md).
// Version is AlertMessageVersion.
type AlertMessage struct {
	Version int   `json:"version"`
	Alert   Alert `json:"alert"`
}

// AlertMessageVersion is the current AlertMessage version.
const AlertMessageVersion = 1

// MessageWriter is the part of *kafka.Writer the Kafka notifier uses.
type MessageWriter interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
}

// KafkaNotifier publishes every changed alert to a Kafka topic (pv.alerts):
// key = device id (one device's alerts stay in order on one partition),
// value = AlertMessage JSON, headers type, state and severity. A consumer
// keeps the latest message per alert id: an alert is re-published at each
// transition (opened, updated, resolved).
type KafkaNotifier struct {
	W MessageWriter
}

// NewKafkaWriter returns a writer for topic that hashes keys to partitions
// and waits for all in-sync replicas. Close it when done.
func NewKafkaWriter(brokers []string, topic string) *kafka.Writer {
	return &kafka.Writer{
		Addr:         kafka.TCP(brokers...),
		Topic:        topic,
		Balancer:     &kafka.Hash{},
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: 10 * time.Millisecond,
		WriteTimeout: 10 * time.Second,
	}
}

// EncodeAlert returns the Kafka message for a.
func EncodeAlert(a *Alert) (kafka.Message, error) {
	v, err := json.Marshal(AlertMessage{Version: AlertMessageVersion, Alert: *a})
	if err != nil {
		return kafka.Message{}, fmt.Errorf("encode alert %s: %w", a.ID, err)
	}
	return kafka.Message{
		Key:   []byte(a.DeviceID),
		Value: v,
		Headers: []kafka.Header{
			{Key: "type", Value: []byte(a.Type)},
			{Key: "state", Value: []byte(a.State)},
			{Key: "severity", Value: []byte(a.Severity.String())},
		},
	}, nil
}

// Notify implements Notifier: one message per changed alert, written in one
// batch.
func (k *KafkaNotifier) Notify(ctx context.Context, changed []Alert) error {
	if len(changed) == 0 {
		return nil
	}
	msgs := make([]kafka.Message, 0, len(changed))
	for i := range changed {
		m, err := EncodeAlert(&changed[i])
		if err != nil {
			return err
		}
		msgs = append(msgs, m)
	}
	if err := k.W.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("kafka notifier: write %d alerts: %w", len(msgs), err)
	}
	return nil
}

// NotifierFunc adapts a function to Notifier.
type NotifierFunc func(ctx context.Context, changed []Alert) error

// Notify implements Notifier.
func (f NotifierFunc) Notify(ctx context.Context, changed []Alert) error { return f(ctx, changed) }

// MultiNotifier calls each notifier in turn and joins their errors: one
// failing sink does not starve the others.
type MultiNotifier []Notifier

// Notify implements Notifier.
func (m MultiNotifier) Notify(ctx context.Context, changed []Alert) error {
	var errs []error
	for _, n := range m {
		if err := n.Notify(ctx, changed); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
