package collector

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"golang.org/x/sync/errgroup"

	"github.com/sunproof/sunproof/ingest"
	"github.com/sunproof/sunproof/internal/kafkatopic"
	"github.com/sunproof/sunproof/internal/mqttconn"
)

// Collector is the MQTT → Kafka service.
type Collector struct {
	cfg     Config
	log     *slog.Logger
	devs    deviceLookup
	metrics *metrics
	dedup   *dedup
}

// New returns a collector. devs is typically a *devices.Registry that is
// already running; reg may be nil.
func New(cfg Config, devs deviceLookup, log *slog.Logger, reg prometheus.Registerer) (*Collector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("collector config: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Collector{cfg: cfg, log: log.With("component", "collector"), devs: devs,
		metrics: newMetrics(reg), dedup: newDedup(cfg.DedupHorizon)}, nil
}

// Topics returns the Kafka topics the collector writes, for Ensure.
func (c *Collector) Topics() []kafkatopic.Spec {
	return []kafkatopic.Spec{
		{Name: c.cfg.Topic, Partitions: c.cfg.Partitions},
		{Name: c.cfg.RejectTopic, Partitions: 1, Config: map[string]string{"retention.ms": fmt.Sprint((90 * 24 * time.Hour).Milliseconds())}},
	}
}

// Run creates the topics, connects the lanes and moves messages until ctx
// is cancelled. On return every lane has finished its current batch and
// disconnected; unacknowledged messages stay with the broker.
func (c *Collector) Run(ctx context.Context) error {
	if err := kafkatopic.Ensure(ctx, c.cfg.Brokers, c.Topics()...); err != nil {
		return err
	}
	w := &kafka.Writer{
		Addr:                   kafka.TCP(c.cfg.Brokers...),
		Balancer:               &kafka.Murmur2Balancer{},
		RequiredAcks:           kafka.RequireAll,
		BatchSize:              c.cfg.BatchSize,
		BatchBytes:             16 << 20,
		BatchTimeout:           time.Millisecond,
		Compression:            kafka.Lz4,
		AllowAutoTopicCreation: false,
		MaxAttempts:            3,
		WriteBackoffMin:        50 * time.Millisecond,
		WriteBackoffMax:        time.Second,
	}
	defer w.Close()
	g, ctx := errgroup.WithContext(ctx)
	for i := range c.cfg.Lanes {
		g.Go(func() error { return c.runLane(ctx, i, w) })
	}
	return g.Wait()
}

// lane is one MQTT connection with its own batch loop.
type lane struct {
	client mqtt.Client
	in     chan message
	log    *slog.Logger
}

func (l *lane) SendAck(deviceID string, a ingest.Ack) {
	tok := l.client.Publish(ingest.AckTopic(deviceID), 1, false, a.Marshal())
	go func() {
		if tok.WaitTimeout(30*time.Second) && tok.Error() != nil {
			// The agent resends after its ack timeout; the resend is acked then.
			l.log.Debug("e2e ack publish failed", "device_id", deviceID, "err", tok.Error())
		}
	}()
}

func (c *Collector) runLane(ctx context.Context, i int, w producer) error {
	log := c.log.With("lane", i)
	l := &lane{in: make(chan message, 4*c.cfg.BatchSize), log: log}
	handler := func(_ mqtt.Client, m mqtt.Message) {
		l.in <- message{Topic: m.Topic(), Payload: m.Payload(), Received: time.Now(), Ack: m.Ack}
	}
	opts, err := mqttconn.Options(c.cfg.MQTTURL, fmt.Sprintf("%s-%d", c.cfg.ClientID, i), c.cfg.TLS)
	if err != nil {
		return fmt.Errorf("lane %d: %w", i, err)
	}
	filter := "$share/" + c.cfg.ShareGroup + "/" + ingest.ReadingsFilter
	opts.SetAutoAckDisabled(true).
		SetDefaultPublishHandler(handler).
		SetOnConnectHandler(func(cl mqtt.Client) {
			tok := cl.Subscribe(filter, 1, handler)
			if tok.WaitTimeout(10*time.Second) && tok.Error() != nil {
				log.Error("subscribe failed", "topic", filter, "err", tok.Error())
				return
			}
			log.Info("connected and subscribed", "topic", filter)
		}).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			log.Warn("mqtt connection lost; reconnecting", "err", err)
		})
	l.client = mqtt.NewClient(opts)
	tok := l.client.Connect()
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			return fmt.Errorf("lane %d: connect %s: %w", i, c.cfg.MQTTURL, err)
		}
	case <-ctx.Done():
		l.client.Disconnect(0)
		return nil
	}
	defer l.client.Disconnect(250)

	p := &processor{cfg: c.cfg, log: log, devs: c.devs, out: w, acks: l,
		dedup: c.dedup, metrics: c.metrics, now: time.Now}
	batch := make([]message, 0, c.cfg.BatchSize)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case m := <-l.in:
			batch = append(batch[:0], m)
			timer.Reset(c.cfg.BatchLinger)
		fill:
			for len(batch) < c.cfg.BatchSize {
				select {
				case m := <-l.in:
					batch = append(batch, m)
				case <-timer.C:
					break fill
				case <-ctx.Done():
					return nil // nothing acked: the broker redelivers
				}
			}
			timer.Stop()
			if err := p.process(ctx, batch); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("lane %d: %w", i, err)
			}
		}
	}
}
