package anomaly_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sunproof/sunproof/anomaly"
	"github.com/sunproof/sunproof/internal/kafkatopic"
	"github.com/sunproof/sunproof/internal/teststack"
)

// TestIntegrationKafkaNotifier publishes alerts to a fresh topic on the
// local Kafka and reads them back.
func TestIntegrationKafkaNotifier(t *testing.T) {
	env := teststack.Require(t, teststack.Kafka)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	topic := "test.alerts." + teststack.RunID()
	if err := kafkatopic.Ensure(ctx, env.Brokers, kafkatopic.Spec{Name: topic, Partitions: 3}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c := &kafka.Client{Addr: kafka.TCP(env.Brokers...)}
		_, _ = c.DeleteTopics(context.Background(), &kafka.DeleteTopicsRequest{Topics: []string{topic}})
	})
	w := anomaly.NewKafkaWriter(env.Brokers, topic)
	defer w.Close()
	t0 := time.Date(2024, 6, 21, 2, 0, 0, 0, time.UTC)
	alerts := []anomaly.Alert{
		{ID: "a/zero_output/1", DeviceID: "a", Type: anomaly.TypeZeroOutput, Severity: anomaly.SeverityCritical, State: anomaly.StateOpen, Span: anomaly.Span{From: t0, To: t0.Add(time.Hour)}, Start: t0},
		{ID: "b/stuck/1", DeviceID: "b", Type: anomaly.TypeStuck, Severity: anomaly.SeverityWarning, State: anomaly.StateOpen, Span: anomaly.Span{From: t0, To: t0.Add(time.Hour)}, Start: t0},
	}
	if err := (&anomaly.KafkaNotifier{W: w}).Notify(ctx, alerts); err != nil {
		t.Fatal(err)
	}
	got := map[string]anomaly.AlertMessage{}
	for p := 0; p < 3; p++ {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: env.Brokers, Topic: topic, Partition: p, MaxWait: 200 * time.Millisecond})
		conn, err := kafka.DialLeader(ctx, "tcp", env.Brokers[0], topic, p)
		if err != nil {
			t.Fatal(err)
		}
		last, err := conn.ReadLastOffset()
		conn.Close()
		if err != nil {
			t.Fatal(err)
		}
		for i := int64(0); i < last; i++ {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var am anomaly.AlertMessage
			if err := json.Unmarshal(m.Value, &am); err != nil {
				t.Fatal(err)
			}
			if string(m.Key) != am.Alert.DeviceID {
				t.Errorf("key %q for device %q", m.Key, am.Alert.DeviceID)
			}
			got[am.Alert.ID] = am
		}
		r.Close()
	}
	if len(got) != 2 || got["a/zero_output/1"].Alert.Severity != anomaly.SeverityCritical || got["b/stuck/1"].Alert.Type != anomaly.TypeStuck {
		t.Fatalf("read back %+v", got)
	}
}
