package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/sunproof/sunproof/ingest"
	"github.com/sunproof/sunproof/ingest/e2e"
	"github.com/sunproof/sunproof/ingest/reading"
	"github.com/sunproof/sunproof/internal/influxql"
)

// tally reads the run's rejects topic from the start and keeps the reason
// of every distinct rejected reading.
// Records of probe messages (see waitSubscribed) are counted apart, and so
// are strangers: the run's collector shares the broker's pv/+/readings
// with whatever else publishes there (other tests, a demo fleet), and
// rejects those messages as unknown devices. A record is a stranger when
// neither its reading's device nor its MQTT topic's carries the run's
// device prefix.
type tally struct {
	probeTopic string
	prefix     string

	mu        sync.Mutex
	reasons   map[reading.Key]string
	unparsed  int
	probes    int
	strangers int
}

func newTally(probeTopic, prefix string) *tally {
	return &tally{probeTopic: probeTopic, prefix: prefix, reasons: map[reading.Key]string{}}
}

// ours reports whether a reject record concerns the run's devices.
func (t *tally) ours(rec *ingest.RejectRecord) bool {
	if rec.Reading != nil {
		return strings.HasPrefix(rec.Reading.DeviceID, t.prefix)
	}
	dev, ok := ingest.DeviceFromTopic(rec.MQTTTopic)
	return !ok || strings.HasPrefix(dev, t.prefix) // no topic: cannot tell, count it
}

func (t *tally) run(ctx context.Context, brokers []string, topic string) error {
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: 0, MinBytes: 1, MaxBytes: 16 << 20,
		MaxWait: 200 * time.Millisecond})
	defer r.Close()
	for {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("read rejects: %w", err)
		}
		t.add(m.Value)
	}
}

func (t *tally) add(value []byte) {
	var rec ingest.RejectRecord
	t.mu.Lock()
	defer t.mu.Unlock()
	err := json.Unmarshal(value, &rec)
	switch {
	case err == nil && rec.MQTTTopic != "" && rec.MQTTTopic == t.probeTopic:
		t.probes++
		return
	case err == nil && !t.ours(&rec):
		t.strangers++
		return
	case err != nil || rec.Reading == nil:
		t.unparsed++
		return
	}
	k := reading.Key{DeviceID: rec.Reading.DeviceID, Seq: rec.Reading.Seq}
	if _, ok := t.reasons[k]; !ok {
		t.reasons[k] = rec.Reason
	}
}

// snapshot returns the distinct rejected readings by reason and by device,
// and the unparsed records.
func (t *tally) snapshot() (byReason, byDevice map[string]int, unparsed int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	byReason, byDevice = map[string]int{}, map[string]int{}
	for k, r := range t.reasons {
		byReason[r]++
		byDevice[k.DeviceID]++
	}
	return byReason, byDevice, t.unparsed
}

// settle polls InfluxDB and the rejects tally until stored + rejected
// reaches published, cfg.Settle passes, or the count stalls for cfg.Stall.
// Then it checks the counts per device.
func settle(ctx context.Context, cfg Config, n Names, perDevice map[string]int, published int, t *tally, metrics *prometheus.Registry, log *slog.Logger) (Counts, error) {
	c := Counts{Published: published}
	query := func(ctx context.Context, db, q string) ([]byte, error) {
		body, err := influxql.New(influxql.Server{URL: cfg.InfluxURL, Database: db}, nil).Query(ctx, q, 0)
		if err != nil {
			return nil, err
		}
		defer body.Close()
		return io.ReadAll(body)
	}
	deadline := time.Now().Add(cfg.Settle)
	last, lastMove := -1, time.Now()
	var stored map[string][2]int
	var byDevice map[string]int
	for {
		qctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		var err error
		stored, err = e2e.Counts(qctx, query, n.DB)
		cancel()
		if err != nil && ctx.Err() == nil {
			log.Warn("counting stored readings failed; retrying", "err", err)
		}
		c.Stored = 0
		for _, v := range stored {
			c.Stored += v[0]
		}
		c.Rejected, byDevice, c.Unparsed = t.snapshot()
		done := c.Stored + c.RejectedTotal()
		if done >= published {
			break
		}
		if done != last {
			last, lastMove = done, time.Now()
		}
		now := time.Now()
		switch {
		case ctx.Err() != nil:
			return c, fmt.Errorf("settle: %w (%d of %d readings accounted for)", ctx.Err(), done, published)
		case now.After(deadline):
			return c, fmt.Errorf("settle: %d of %d readings accounted for after %s", done, published, cfg.Settle)
		case now.Sub(lastMove) > cfg.Stall:
			return c, fmt.Errorf("settle: stuck at %d of %d readings accounted for for %s", done, published, cfg.Stall)
		}
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond):
		}
	}
	c.Collector = collectorMessages(metrics)
	c.Probes = t.probed()
	t.mu.Lock()
	c.Strangers = t.strangers
	t.mu.Unlock()
	// Per device: published = stored + rejected, and nothing of a stranger.
	for _, dev := range sortedKeys(perDevice) {
		if got, want := stored[dev][0]+byDevice[dev], perDevice[dev]; got != want {
			c.Mismatched = append(c.Mismatched, fmt.Sprintf("%s: %d stored + %d rejected of %d published", dev, stored[dev][0], byDevice[dev], want))
		}
		if v := stored[dev]; v[0] != v[1] {
			c.Mismatched = append(c.Mismatched, fmt.Sprintf("%s: %d points but %d distinct seqs", dev, v[0], v[1]))
		}
	}
	for _, dev := range sortedKeys(stored) {
		if _, ok := perDevice[dev]; !ok {
			c.Mismatched = append(c.Mismatched, fmt.Sprintf("%s: %d points of a device not in the fleet", dev, stored[dev][0]))
		}
	}
	for _, dev := range sortedKeys(byDevice) {
		if _, ok := perDevice[dev]; !ok {
			c.Mismatched = append(c.Mismatched, fmt.Sprintf("%s: rejected readings of a device not in the fleet", dev))
		}
	}
	if len(c.Mismatched) > 20 {
		c.Mismatched = c.Mismatched[:20]
	}
	if c.Stored+c.RejectedTotal() != published || c.Unparsed != 0 || len(c.Mismatched) > 0 {
		return c, fmt.Errorf("accounting: published %d, stored %d, rejected %d, unparsed rejects %d, %v",
			published, c.Stored, c.RejectedTotal(), c.Unparsed, c.Mismatched)
	}
	return c, nil
}

// collectorMessages reads sunproof_ingest_messages_total by result.
func collectorMessages(reg *prometheus.Registry) map[string]int {
	out := map[string]int{}
	mfs, err := reg.Gather()
	if err != nil {
		return out
	}
	for _, mf := range mfs {
		if mf.GetName() != "sunproof_ingest_messages_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" {
					out[l.GetValue()] += int(m.GetCounter().GetValue())
				}
			}
		}
	}
	return out
}

// probed returns how many probe messages the collector has rejected.
func (t *tally) probed() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.probes
}

// waitSubscribed publishes a malformed probe message to the run's probe
// topic every 250 ms until the collector has rejected one (it shows in the
// rejects topic), so that the collector's shared subscription exists
// before the readings are published: Mosquitto drops a message nobody is
// subscribed to, and the publishers, unlike agents, do not resend on a
// missing end-to-end ack.
func waitSubscribed(ctx context.Context, cfg Config, n Names, t *tally, timeout time.Duration) error {
	opts := mqtt.NewClientOptions().AddBroker(cfg.MQTTURL).SetClientID(n.Group + "-probe").SetCleanSession(true).
		SetConnectTimeout(10 * time.Second)
	c := mqtt.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(15*time.Second) || tok.Error() != nil {
		return fmt.Errorf("probe: connect %s: %v", cfg.MQTTURL, tok.Error())
	}
	defer c.Disconnect(100)
	deadline := time.Now().Add(timeout)
	for t.probed() == 0 {
		if time.Now().After(deadline) {
			return fmt.Errorf("probe: the collector rejected no probe message within %s: not subscribed", timeout)
		}
		tok := c.Publish(n.ProbeTopic(), 1, false, []byte("probe"))
		tok.WaitTimeout(5 * time.Second)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	return nil
}
