package agent

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sunproof/sunproof/ingest"
	"github.com/sunproof/sunproof/ingest/agent/queue"
	"github.com/sunproof/sunproof/ingest/reading"
	"github.com/sunproof/sunproof/internal/mqttconn"
)

// Source reads one measurement from an inverter at time t.
type Source interface {
	Read(t time.Time) (reading.Measurement, error)
}

// Resumer is implemented by sources whose lifetime counter lives in the
// agent's process (the simulator): after a restart the agent hands back the
// last reading it signed so the counter carries on instead of restarting.
// Real inverters keep their counter themselves and need not implement it.
type Resumer interface {
	Resume(energyWh uint64, t time.Time)
}

// Clock tells the agent what time it is. Tests and backfilling simulators
// inject their own.
type Clock interface {
	Now() time.Time
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

// Agent samples, signs, queues and publishes one device's readings.
type Agent struct {
	cfg     Config
	key     ed25519.PrivateKey
	src     Source
	clock   Clock
	log     *slog.Logger
	q       *queue.Queue
	client  mqtt.Client
	metrics *metrics

	wake      chan struct{} // new reading appended, ack arrived or connection came back
	mu        sync.Mutex
	cursor    uint64 // highest seq published in the current pass
	progress  time.Time
	reconnect bool
}

// Options are the agent's collaborators; Clock and Log may be nil.
type Options struct {
	Key      ed25519.PrivateKey
	Source   Source
	Clock    Clock
	Log      *slog.Logger
	Registry prometheus.Registerer
}

// New opens the disk queue and prepares the MQTT client (not yet connected).
func New(cfg Config, o Options) (*Agent, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("agent config: %w", err)
	}
	if len(o.Key) != ed25519.PrivateKeySize || o.Source == nil {
		return nil, errors.New("agent: a signing key and a source are required")
	}
	if o.Clock == nil {
		o.Clock = wallClock{}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	log := o.Log.With("device_id", cfg.DeviceID)
	q, err := queue.Open(cfg.Queue, log)
	if err != nil {
		return nil, fmt.Errorf("open queue: %w", err)
	}
	a := &Agent{cfg: cfg, key: o.Key, src: o.Source, clock: o.Clock, log: log, q: q,
		metrics: newMetrics(o.Registry), wake: make(chan struct{}, 1)}
	a.cursor = q.AckedThrough()
	if err := a.resumeSource(); err != nil {
		q.Close()
		return nil, err
	}
	clientID := cfg.MQTT.ClientID
	if clientID == "" {
		clientID = cfg.DeviceID
	}
	opts, err := mqttconn.Options(cfg.MQTT.URL, clientID, cfg.MQTT.TLS)
	if err != nil {
		q.Close()
		return nil, err
	}
	ackTopic := ingest.AckTopic(cfg.DeviceID)
	onAck := func(_ mqtt.Client, m mqtt.Message) { a.handleAck(m.Payload()) }
	opts.SetDefaultPublishHandler(onAck).
		SetOnConnectHandler(func(c mqtt.Client) {
			tok := c.Subscribe(ackTopic, 1, onAck)
			if tok.WaitTimeout(10*time.Second) && tok.Error() != nil {
				log.Error("subscribe to acks failed", "topic", ackTopic, "err", tok.Error())
			}
			a.mu.Lock()
			a.reconnect = true
			a.mu.Unlock()
			a.metrics.connects.Inc()
			a.signal()
		}).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			log.Warn("mqtt connection lost; readings stay queued", "err", err)
		})
	a.client = mqtt.NewClient(opts)
	return a, nil
}

// Queue exposes the disk queue (for status and tests).
func (a *Agent) Queue() *queue.Queue { return a.q }

// Run samples and publishes until ctx is cancelled, then closes the queue.
func (a *Agent) Run(ctx context.Context) error { return a.run(ctx, true) }

// RunPublisher only publishes what is queued (readings added with
// SampleAt) until ctx is cancelled, then closes the queue. Load tests and
// backfills use it.
func (a *Agent) RunPublisher(ctx context.Context) error { return a.run(ctx, false) }

func (a *Agent) run(ctx context.Context, sampling bool) error {
	defer a.q.Close()
	a.client.Connect() // retries in the background (ConnectRetry)
	defer a.client.Disconnect(500)
	if !sampling {
		return a.publish(ctx)
	}
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 2)
	go func() { errc <- a.sample(ctx) }()
	go func() { errc <- a.publish(ctx) }()
	err := <-errc
	cancel()
	<-errc
	if parent.Err() != nil {
		return nil
	}
	return err
}

func (a *Agent) signal() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// sample reads the source once per Interval, aligned to the interval grid.
func (a *Agent) sample(ctx context.Context) error {
	iv := a.cfg.Interval
	for {
		now := a.clock.Now()
		next := now.Truncate(iv).Add(iv)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(next.Sub(now)):
		}
		if err := a.SampleAt(a.clock.Now().Truncate(iv)); err != nil {
			if errors.Is(err, queue.ErrFull) {
				// Say so loudly; never drop an older reading to make room.
				a.log.Error("disk queue full: reading not taken", "err", err)
				a.metrics.queueFull.Inc()
				continue
			}
			return err
		}
	}
}

// SampleAt reads, signs and queues one reading timestamped t.
func (a *Agent) SampleAt(t time.Time) error {
	m, err := a.src.Read(t)
	if err != nil {
		a.metrics.sourceErrors.Inc()
		a.log.Warn("source read failed", "err", err)
		return nil
	}
	r := reading.Reading{DeviceID: a.cfg.DeviceID, SiteID: a.cfg.SiteID, Seq: a.q.LastSeq() + 1,
		TimeMS: t.UnixMilli(), Measurement: m}
	if err := r.Sign(a.key); err != nil {
		return fmt.Errorf("sign reading %d: %w", r.Seq, err)
	}
	w, err := r.Wire()
	if err != nil {
		return fmt.Errorf("encode reading %d: %w", r.Seq, err)
	}
	if err := a.q.Append(r.Seq, w); err != nil {
		return fmt.Errorf("queue reading %d: %w", r.Seq, err)
	}
	if err := a.saveLast(w); err != nil {
		return err
	}
	a.metrics.sampled.Inc()
	a.signal()
	return nil
}

func (a *Agent) handleAck(payload []byte) {
	ack, err := ingest.UnmarshalAck(payload)
	if err != nil {
		a.log.Warn("bad ack message", "err", err)
		return
	}
	before := a.q.AckedThrough()
	for _, r := range ack.Ranges {
		a.q.Ack(r.From, r.To)
	}
	a.metrics.acks.Inc()
	if a.q.AckedThrough() != before {
		a.mu.Lock()
		a.progress = time.Now()
		a.mu.Unlock()
	}
	a.signal()
}

// publish is the go-back-N sender.
func (a *Agent) publish(ctx context.Context) error {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var inflight []mqtt.Token
	topic := ingest.ReadingsTopic(a.cfg.DeviceID)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-a.wake:
		case <-tick.C:
		}
		a.metrics.queueLen.Set(float64(a.q.Len()))
		a.metrics.queueBytes.Set(float64(a.q.Bytes()))
		if !a.client.IsConnectionOpen() {
			continue
		}
		acked := a.q.AckedThrough()
		a.mu.Lock()
		if a.reconnect || a.cursor < acked {
			a.cursor, a.reconnect = acked, false
		}
		if a.cursor > acked && time.Since(a.progress) > a.cfg.MQTT.AckTimeout {
			a.log.Info("no end-to-end ack progress; resending unacked readings", "from_seq", acked+1, "to_seq", a.cursor)
			a.metrics.resends.Inc()
			a.cursor = acked
		}
		if a.cursor == acked {
			a.progress = time.Now() // the timeout counts from the first unacked send
		}
		cursor := a.cursor
		a.mu.Unlock()

		room := a.cfg.MQTT.MaxOutstanding - int(cursor-acked)
		if room <= 0 {
			continue
		}
		recs, err := a.q.Pending(cursor, room)
		var ce *queue.CorruptError
		if errors.As(err, &ce) {
			// A record rotted on disk after it was written: it cannot be
			// sent as signed. Skip it loudly rather than stop the device.
			a.log.Error("queued reading is corrupt on disk; skipping it", "seq", ce.Seq, "err", err)
			a.metrics.corrupt.Inc()
			a.q.Ack(ce.Seq, ce.Seq)
			a.signal()
			continue
		}
		if err != nil {
			return fmt.Errorf("read queue: %w", err)
		}
		for _, rec := range recs {
			// Bound what the broker has not PUBACKed yet.
			for len(inflight) >= a.cfg.MQTT.MaxInflight {
				if !inflight[0].WaitTimeout(10 * time.Second) {
					break
				}
				inflight = inflight[1:]
			}
			if len(inflight) >= a.cfg.MQTT.MaxInflight {
				break // broker stalled: go-back-N after AckTimeout recovers
			}
			inflight = append(inflight, a.client.Publish(topic, 1, false, rec.Data))
			a.metrics.published.Inc()
			a.mu.Lock()
			if rec.Seq > a.cursor {
				a.cursor = rec.Seq
			}
			a.mu.Unlock()
			if ctx.Err() != nil {
				return nil
			}
		}
		// Drop completed tokens.
		n := 0
		for _, t := range inflight {
			select {
			case <-t.Done():
			default:
				inflight[n] = t
				n++
			}
		}
		inflight = inflight[:n]
		if len(recs) > 0 {
			a.signal() // more may be waiting
		}
	}
}
