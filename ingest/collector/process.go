package collector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/ingest"
	"github.com/sunproof/sunproof/ingest/reading"
)

// deviceLookup is what the collector needs of the registry.
type deviceLookup interface {
	Device(id string) (devices.Device, error)
}

// producer is what the collector needs of a Kafka writer.
type producer interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
}

// ackSender delivers an end-to-end Ack to a device.
type ackSender interface {
	SendAck(deviceID string, a ingest.Ack)
}

// message is one MQTT message awaiting a decision.
type message struct {
	Topic    string
	Payload  []byte
	Received time.Time
	Ack      func() // acknowledges the MQTT message to the broker
}

// outcome of validating one message.
type outcome struct {
	r      reading.Reading
	parsed bool
	err    error
}

// processor validates batches, writes them to Kafka and acknowledges them.
type processor struct {
	cfg     Config
	log     *slog.Logger
	devs    deviceLookup
	out     producer
	acks    ackSender
	dedup   *dedup
	metrics *metrics
	now     func() time.Time
}

// process handles one batch end to end. It returns only when the batch was
// written and acknowledged, or ctx was cancelled (then nothing is acked and
// the broker will redeliver).
func (p *processor) process(ctx context.Context, batch []message) error {
	res := p.validate(batch)

	// Serial part: duplicates and counter order, against state as of the
	// last successful write plus this batch.
	pending := p.dedup.begin()
	msgs := make([]kafka.Message, 0, len(batch))
	ackSeqs := make(map[string][]uint64)
	for i := range batch {
		o := &res[i]
		if o.err == nil {
			o.err = pending.check(&o.r)
		}
		if o.err == nil {
			msgs = append(msgs, kafka.Message{Topic: p.cfg.Topic, Key: []byte(o.r.DeviceID), Value: batch[i].Payload})
			p.metrics.messages.WithLabelValues("accepted").Inc()
		} else {
			reason := reading.ReasonOf(o.err)
			p.metrics.rejects.WithLabelValues(string(reason)).Inc()
			if reason == reading.ReasonDuplicate {
				p.metrics.messages.WithLabelValues("duplicate").Inc()
			} else {
				p.metrics.messages.WithLabelValues("rejected").Inc()
				msgs = append(msgs, p.rejectMessage(batch[i], o))
			}
		}
		if o.parsed && ackable(o.err) {
			ackSeqs[o.r.DeviceID] = append(ackSeqs[o.r.DeviceID], o.r.Seq)
		}
	}
	if len(msgs) > 0 {
		if err := p.write(ctx, msgs); err != nil {
			return err
		}
	}
	pending.commit()
	for i := range batch {
		batch[i].Ack()
	}
	for dev, seqs := range ackSeqs {
		p.acks.SendAck(dev, ingest.Ack{Ranges: ingest.Compact(seqs)})
		p.metrics.e2eAcks.Inc()
	}
	p.metrics.batchSize.Observe(float64(len(batch)))
	return nil
}

// ackable reports whether a reading with this outcome may leave the agent's
// queue: stored, duplicate, or rejected for a reason resending cannot fix.
func ackable(err error) bool {
	return err == nil || reading.ReasonOf(err) != reading.ReasonUnknownDevice
}

// write retries a Kafka write with capped exponential backoff until it
// succeeds or ctx ends.
func (p *processor) write(ctx context.Context, msgs []kafka.Message) error {
	backoff := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		start := time.Now()
		err := p.out.WriteMessages(ctx, msgs...)
		p.metrics.writeSeconds.Observe(time.Since(start).Seconds())
		if err == nil {
			return nil
		}
		p.metrics.writeErrors.Inc()
		if ctx.Err() != nil {
			return fmt.Errorf("write %d messages to kafka: %w", len(msgs), ctx.Err())
		}
		p.log.Warn("kafka write failed; retrying, messages stay unacknowledged",
			"err", err, "messages", len(msgs), "attempt", attempt, "backoff", backoff)
		select {
		case <-ctx.Done():
			return fmt.Errorf("write %d messages to kafka: %w", len(msgs), ctx.Err())
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, p.cfg.RetryMax)
	}
}

func (p *processor) rejectMessage(m message, o *outcome) kafka.Message {
	var e *reading.Error
	detail := o.err.Error()
	if errors.As(o.err, &e) {
		detail = e.Detail
	}
	rec := ingest.RejectRecord{Reason: string(reading.ReasonOf(o.err)), Detail: detail, Stage: "collector", MQTTTopic: m.Topic,
		ReceivedAt: m.Received.UTC(), Payload: m.Payload}
	var key []byte
	if o.parsed {
		v := o.r.View()
		rec.Reading = &v
		key = []byte(o.r.DeviceID)
	}
	b, err := json.Marshal(rec)
	if err != nil { // cannot happen for this type; keep the payload anyway
		b = m.Payload
	}
	return kafka.Message{Topic: p.cfg.RejectTopic, Key: key, Value: b}
}

// validate runs the stateless checks of a batch on all cores.
func (p *processor) validate(batch []message) []outcome {
	res := make([]outcome, len(batch))
	now := p.now()
	workers := min(runtime.GOMAXPROCS(0), (len(batch)+63)/64)
	if workers <= 1 {
		for i := range batch {
			res[i] = p.check(&batch[i], now)
		}
		return res
	}
	var wg sync.WaitGroup
	chunk := (len(batch) + workers - 1) / workers
	for lo := 0; lo < len(batch); lo += chunk {
		hi := min(lo+chunk, len(batch))
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				res[i] = p.check(&batch[i], now)
			}
		})
	}
	wg.Wait()
	return res
}

// check applies every stateless rule, cheapest first, signature last.
func (p *processor) check(m *message, now time.Time) outcome {
	r, err := reading.Decode(m.Payload)
	if err != nil {
		return outcome{err: err}
	}
	o := outcome{r: r, parsed: true}
	if id, ok := ingest.DeviceFromTopic(m.Topic); !ok || id != r.DeviceID {
		o.err = reading.Errorf(reading.ReasonTopicMismatch, "topic %q carries a reading of device %q", m.Topic, r.DeviceID)
		return o
	}
	d, err := p.devs.Device(r.DeviceID)
	switch {
	case errors.Is(err, devices.ErrUnknownDevice):
		o.err = reading.Errorf(reading.ReasonUnknownDevice, "device %q is not registered", r.DeviceID)
		return o
	case errors.Is(err, devices.ErrDisabled):
		o.err = reading.Errorf(reading.ReasonDisabledDevice, "device %q is disabled", r.DeviceID)
		return o
	case err != nil:
		o.err = reading.Errorf(reading.ReasonUnknownDevice, "look up device %q: %v", r.DeviceID, err)
		return o
	case !d.Active():
		o.err = reading.Errorf(reading.ReasonDisabledDevice, "device %q is %s", r.DeviceID, d.Status)
		return o
	case d.SiteID != r.SiteID:
		o.err = reading.Errorf(reading.ReasonSiteMismatch, "device %q belongs to site %q, reading says %q", r.DeviceID, d.SiteID, r.SiteID)
		return o
	}
	lim := p.cfg.Limits
	lim.RatedW = d.KWp * 1000
	if err := reading.Check(&o.r, lim, now); err != nil {
		o.err = err
		return o
	}
	o.err = o.r.Verify(d.PublicKey)
	return o
}
