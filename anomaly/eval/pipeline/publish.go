package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"golang.org/x/sync/errgroup"

	"github.com/sunproof/sunproof/anomaly"
	"github.com/sunproof/sunproof/anomaly/eval"
	"github.com/sunproof/sunproof/ingest"
	"github.com/sunproof/sunproof/ingest/reading"
	"github.com/sunproof/sunproof/internal/mqttconn"
)

// publishFleet simulates f, signs every delivered reading with its
// device's key and publishes its wire form to the device's readings topic
// (QoS 1) through cfg.Publishers connections, device i through connection
// i mod Publishers, in seq order. It returns the simulator's series, for
// the in-memory evaluation, and how many readings the broker acknowledged.
func publishFleet(ctx context.Context, cfg Config, n Names, f *eval.Fleet, log *slog.Logger) ([]anomaly.Series, int, error) {
	pubs := make([]*publisher, cfg.Publishers)
	defer func() {
		for _, p := range pubs {
			if p != nil {
				p.c.Disconnect(250)
			}
		}
	}()
	for i := range pubs {
		p, err := connect(ctx, cfg.MQTTURL, n.PublisherID(i), cfg.Window, log)
		if err != nil {
			return nil, 0, err
		}
		pubs[i] = p
	}
	type batch struct {
		topic string
		wires [][]byte
	}
	chans := make([]chan batch, len(pubs))
	g, gctx := errgroup.WithContext(ctx)
	var published atomic.Int64
	for i, p := range pubs {
		ch := make(chan batch, 2)
		chans[i] = ch
		g.Go(func() error {
			for b := range ch {
				if err := p.publish(gctx, b.topic, b.wires); err != nil {
					for range ch { // let the simulation finish
					}
					return err
				}
				published.Add(int64(len(b.wires)))
			}
			return p.drain(gctx)
		})
	}
	series := make([]anomaly.Series, len(f.Devices))
	var mu sync.Mutex
	var signErr error
	simErr := f.Simulate(func(i int, rs []reading.Reading) {
		d := f.Devices[i]
		key := DeviceKey(d.ID)
		smp := make([]anomaly.Sample, len(rs))
		wires := make([][]byte, 0, len(rs))
		for k := range rs {
			smp[k] = anomaly.SampleOf(&rs[k])
			r := rs[k]
			w, err := signedWire(&r, key)
			if err != nil {
				mu.Lock()
				signErr = fmt.Errorf("device %s seq %d: %w", d.ID, r.Seq, err)
				mu.Unlock()
				continue
			}
			wires = append(wires, w)
		}
		series[i] = anomaly.Series{Device: d, Samples: smp}
		select {
		case chans[i%len(chans)] <- batch{topic: ingest.ReadingsTopic(d.ID), wires: wires}:
		case <-gctx.Done():
		}
	})
	for _, ch := range chans {
		close(ch)
	}
	if err := g.Wait(); err != nil {
		return nil, 0, err
	}
	if simErr != nil {
		return nil, 0, fmt.Errorf("simulate: %w", simErr)
	}
	if signErr != nil {
		return nil, 0, fmt.Errorf("sign: %w", signErr)
	}
	return series, int(published.Load()), nil
}

func signedWire(r *reading.Reading, key []byte) ([]byte, error) {
	if err := r.Sign(key); err != nil {
		return nil, err
	}
	return r.Wire()
}

// publisher is one MQTT connection with a window of QoS 1 publishes
// awaiting their PUBACK.
type publisher struct {
	c       mqtt.Client
	id      string
	window  int
	pending []pendingPub
}

type pendingPub struct {
	topic   string
	payload []byte
	tok     mqtt.Token
}

// connect opens a persistent-session connection (the agent's settings:
// paho resends unacknowledged publishes after a reconnect).
func connect(ctx context.Context, url, id string, window int, log *slog.Logger) (*publisher, error) {
	opts, err := mqttconn.Options(url, id, mqttconn.TLSFiles{})
	if err != nil {
		return nil, err
	}
	opts.SetMaxResumePubInFlight(window).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			log.Warn("publisher connection lost; reconnecting", "client_id", id, "err", err)
		})
	c := mqtt.NewClient(opts)
	tok := c.Connect()
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			return nil, fmt.Errorf("publisher %s: connect %s: %w", id, url, err)
		}
	case <-ctx.Done():
		c.Disconnect(0)
		return nil, ctx.Err()
	case <-time.After(30 * time.Second):
		c.Disconnect(0)
		return nil, fmt.Errorf("publisher %s: connect %s: no answer in 30 s", id, url)
	}
	return &publisher{c: c, id: id, window: window}, nil
}

// publish sends wires to topic in order, waiting for the oldest PUBACK
// whenever the window is full.
func (p *publisher) publish(ctx context.Context, topic string, wires [][]byte) error {
	for _, w := range wires {
		if len(p.pending) >= p.window {
			if err := p.waitOldest(ctx); err != nil {
				return err
			}
		}
		p.pending = append(p.pending, pendingPub{topic: topic, payload: w, tok: p.c.Publish(topic, 1, false, w)})
	}
	return nil
}

// drain waits for every outstanding PUBACK.
func (p *publisher) drain(ctx context.Context) error {
	for len(p.pending) > 0 {
		if err := p.waitOldest(ctx); err != nil {
			return err
		}
	}
	return nil
}

// waitOldest waits for the oldest outstanding publish and republishes it
// (up to 4 times) if it failed: at least once, as agents do; the collector
// and InfluxDB drop duplicates by (device_id, seq).
func (p *publisher) waitOldest(ctx context.Context) error {
	q := &p.pending[0]
	for attempt := 1; ; attempt++ {
		select {
		case <-q.tok.Done():
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Minute):
			return fmt.Errorf("publisher %s: no PUBACK on %s within a minute", p.id, q.topic)
		}
		err := q.tok.Error()
		if err == nil {
			break
		}
		if attempt == 5 {
			return fmt.Errorf("publisher %s: publish to %s failed %d times: %w", p.id, q.topic, attempt, err)
		}
		q.tok = p.c.Publish(q.topic, 1, false, q.payload)
	}
	p.pending[0] = pendingPub{}
	p.pending = p.pending[1:]
	return nil
}
