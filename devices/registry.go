package devices

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
)

// Config configures a Registry.
type Config struct {
	// Brokers are the Kafka bootstrap addresses, host:port.
	Brokers []string `yaml:"brokers"`
	// Topic is the compacted registry topic.
	Topic string `yaml:"topic"`
}

// DefaultConfig returns the configuration of the local stack.
func DefaultConfig() Config {
	return Config{Brokers: []string{"127.0.0.1:9092"}, Topic: DefaultTopic}
}

// Validate reports the first problem with c.
func (c Config) Validate() error {
	if len(c.Brokers) == 0 {
		return errors.New("devices config: brokers: at least one required")
	}
	for _, b := range c.Brokers {
		if b == "" {
			return errors.New("devices config: brokers: empty address")
		}
	}
	if c.Topic == "" {
		return errors.New("devices config: topic: required")
	}
	return nil
}

const (
	// publishEvery bounds the records applied between two snapshots while
	// catching up, so that replaying a long log costs O(records ×
	// keys / publishEvery) map copies rather than one copy per record.
	publishEvery = 4096
	// fetchMaxWait bounds a fetch's long poll (new records are returned as
	// soon as they arrive); it also bounds how long Close takes.
	fetchMaxWait = time.Second
	retryMin     = 200 * time.Millisecond
	retryMax     = 10 * time.Second
)

// Registry is the materialised view of the registry topic: Run tails the
// topic from its first offset and applies every record in order, so a
// change published anywhere reaches every running Registry without a
// restart. Lookups read an immutable snapshot through an atomic pointer and
// are safe for concurrent use; they never block on Kafka.
type Registry struct {
	cfg Config
	log *slog.Logger
	m   *metrics

	cur atomic.Pointer[view] // the snapshot lookups read

	// Owned by the goroutine calling Run (or by a unit test).
	st      *state
	pending int // records applied since the last publish

	started   atomic.Bool
	ready     chan struct{}
	readyOnce sync.Once
	done      chan struct{}
}

// NewRegistry returns a Registry that does nothing until Run is called; until
// it is ready, lookups see an empty registry. A nil logger discards; metrics
// are registered with reg unless it is nil (so a process with two Registries
// gives them different Registerers, or nil to one of them).
func NewRegistry(cfg Config, log *slog.Logger, reg prometheus.Registerer) (*Registry, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	r := &Registry{
		cfg:   cfg,
		log:   log.With("component", "devices", "topic", cfg.Topic),
		m:     m,
		st:    newState(),
		ready: make(chan struct{}),
		done:  make(chan struct{}),
	}
	r.cur.Store(r.st.snapshot())
	return r, nil
}

// Device returns the device with the given id. It returns ErrUnknownDevice
// (and a zero Device) if there is no such device, and the Device together
// with ErrDisabled if it is disabled. The errors are the bare sentinels, so
// this does not allocate.
func (r *Registry) Device(id string) (Device, error) { return r.cur.Load().device(id) }

// Site returns the site with the given id, or ErrUnknownSite.
func (r *Registry) Site(id string) (Site, error) { return r.cur.Load().site(id) }

// Devices returns every known device, disabled ones included, sorted by id.
// The slice is the caller's.
func (r *Registry) Devices() []Device { return r.cur.Load().deviceList() }

// Sites returns every known site sorted by id. The slice is the caller's.
func (r *Registry) Sites() []Site { return r.cur.Load().siteList() }

// Ready reports whether the view has caught up with the topic as it was when
// Run started.
func (r *Registry) Ready() bool {
	select {
	case <-r.ready:
		return true
	default:
		return false
	}
}

// WaitReady blocks until the view has caught up with the high-water mark the
// topic had when Run started, until ctx is done, or until Run has returned
// without catching up.
func (r *Registry) WaitReady(ctx context.Context) error {
	if r.Ready() {
		return nil
	}
	select {
	case <-r.ready:
		return nil
	case <-r.done:
		if r.Ready() {
			return nil
		}
		return errors.New("devices: registry stopped before catching up")
	case <-ctx.Done():
		return fmt.Errorf("devices: wait for registry: %w", ctx.Err())
	}
}

// Run tails the topic until ctx is cancelled, then returns nil. It waits (and
// retries) while the topic does not exist or the cluster is unreachable; it
// returns an error wrapping ErrTopicConfig if the topic has more than one
// partition. Run may be called once.
func (r *Registry) Run(ctx context.Context) error {
	if !r.started.CompareAndSwap(false, true) {
		return errors.New("devices: Registry.Run called twice")
	}
	defer close(r.done)

	start, err := r.waitForTopic(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	log := r.log.With("partition", 0)
	log.Info("replaying registry topic", "first_offset", start.first, "high_water_mark", start.last)
	if start.last <= start.first {
		r.markReady()
	}

	reader := kafka.NewReader(kafka.ReaderConfig{
		Brokers:   r.cfg.Brokers,
		Topic:     r.cfg.Topic,
		Partition: 0,
		MinBytes:  1,
		MaxBytes:  10 << 20,
		MaxWait:   fetchMaxWait,
		Logger: kafka.LoggerFunc(func(msg string, args ...any) {
			log.Debug(fmt.Sprintf(msg, args...))
		}),
		ErrorLogger: kafka.LoggerFunc(func(msg string, args ...any) {
			log.Warn("kafka reader: " + fmt.Sprintf(msg, args...))
		}),
	})
	defer reader.Close()
	if err := reader.SetOffset(kafka.FirstOffset); err != nil {
		return fmt.Errorf("devices: seek registry topic: %w", err)
	}

	failures := 0
	for {
		msg, err := reader.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, io.EOF) {
				return errors.New("devices: registry reader closed")
			}
			// The reader keeps retrying in the background; back off so a
			// persistent error does not spin.
			log.Warn("read registry topic", "err", err)
			failures++
			if !sleep(ctx, backoff(failures)) {
				return nil
			}
			continue
		}
		failures = 0
		r.apply(msg)
		caughtUp := msg.Offset+1 >= msg.HighWaterMark
		reachedStart := msg.Offset+1 >= start.last
		if r.pending > 0 && (caughtUp || reachedStart || r.pending >= publishEvery) {
			r.publish()
		}
		if reachedStart && !r.Ready() {
			log.Info("registry ready", "offset", msg.Offset, "devices", len(r.st.devices), "sites", len(r.st.sites))
			r.markReady()
		}
	}
}

// waitForTopic retries checkTopic until the topic exists with a leader.
func (r *Registry) waitForTopic(ctx context.Context) (topicState, error) {
	client := newClient(r.cfg.Brokers)
	for attempt := 1; ; attempt++ {
		st, err := checkTopic(ctx, client, r.cfg.Topic)
		switch {
		case err == nil:
			return st, nil
		case errors.Is(err, errNotCompacted):
			r.log.Error("registry topic is not compacted: devices will be lost when retention deletes their records; set cleanup.policy=compact", "err", err)
			return st, nil
		case errors.Is(err, ErrTopicConfig):
			return topicState{}, fmt.Errorf("devices: registry topic %s: %w", r.cfg.Topic, err)
		case errors.Is(err, errTopicMissing):
			r.log.Warn("waiting for registry topic to be created", "attempt", attempt)
		default:
			r.log.Warn("waiting for registry topic", "attempt", attempt, "err", err)
		}
		if !sleep(ctx, backoff(attempt)) {
			return topicState{}, ctx.Err()
		}
	}
}

func (r *Registry) markReady() { r.readyOnce.Do(func() { close(r.ready) }) }

// apply decodes one message of the topic into the working state. A message
// that does not decode is logged and counted, and leaves the state as it
// was. It reports whether the state changed.
func (r *Registry) apply(msg kafka.Message) bool {
	if msg.Value == nil { // tombstone
		kind, id, err := parseKey(msg.Key)
		if err != nil {
			r.decodeError(msg, err)
			return false
		}
		// Publisher never writes tombstones (disabling is a record), but
		// compaction would drop the key for a fresh reader, so drop it here
		// too to stay consistent with one.
		r.log.Warn("tombstone on registry topic: removing key", "kind", kind, "id", id, "offset", msg.Offset)
		r.st.remove(kind, id)
		r.m.records.WithLabelValues(kindTombstone).Inc()
		r.pending++
		return true
	}
	rec, err := DecodeRecord(msg.Key, msg.Value)
	if err != nil {
		r.decodeError(msg, err)
		return false
	}
	r.st.apply(rec)
	r.m.records.WithLabelValues(string(rec.Kind)).Inc()
	r.pending++
	return true
}

func (r *Registry) decodeError(msg kafka.Message, err error) {
	r.m.decodeErrors.Inc()
	r.log.Error("skipping undecodable registry record", "offset", msg.Offset, "err", err)
}

// publish makes the working state visible to lookups.
func (r *Registry) publish() {
	v := r.st.snapshot()
	r.cur.Store(v)
	r.m.known.Set(float64(len(v.devices)))
	r.pending = 0
}

func backoff(attempt int) time.Duration {
	d := retryMin
	for i := 1; i < attempt && d < retryMax; i++ {
		d *= 2
	}
	return min(d, retryMax)
}

// sleep waits for d or until ctx is done, and reports whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

const kindTombstone = "tombstone"

type metrics struct {
	records      *prometheus.CounterVec
	decodeErrors prometheus.Counter
	known        prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sunproof_devices_records_total",
			Help: "Registry records applied, by kind (device, site, tombstone).",
		}, []string{"kind"}),
		decodeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sunproof_devices_decode_errors_total",
			Help: "Registry records skipped because they did not decode or validate.",
		}),
		known: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sunproof_devices_known",
			Help: "Devices in the registry view, disabled ones included.",
		}),
	}
	for _, k := range []string{string(KindDevice), string(KindSite), kindTombstone} {
		m.records.WithLabelValues(k)
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.records, m.decodeErrors, m.known} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("devices: register metrics: %w", err)
			}
		}
	}
	return m, nil
}

// state is the mutable working copy of the view, owned by one goroutine.
type state struct {
	devices map[string]Device
	sites   map[string]Site
}

func newState() *state {
	return &state{devices: map[string]Device{}, sites: map[string]Site{}}
}

// apply stores a decoded, valid record: the last write for a key wins.
func (s *state) apply(rec Record) {
	switch rec.Kind {
	case KindDevice:
		s.devices[rec.Device.ID] = *rec.Device
	case KindSite:
		s.sites[rec.Site.ID] = *rec.Site
	}
}

func (s *state) remove(kind Kind, id string) {
	switch kind {
	case KindDevice:
		delete(s.devices, id)
	case KindSite:
		delete(s.sites, id)
	}
}

func (s *state) snapshot() *view {
	return &view{devices: maps.Clone(s.devices), sites: maps.Clone(s.sites)}
}

// view is an immutable snapshot of the registry.
type view struct {
	devices map[string]Device
	sites   map[string]Site
}

func (v *view) device(id string) (Device, error) {
	d, ok := v.devices[id]
	if !ok {
		return Device{}, ErrUnknownDevice
	}
	if d.Status != StatusActive {
		return d, ErrDisabled
	}
	return d, nil
}

func (v *view) site(id string) (Site, error) {
	s, ok := v.sites[id]
	if !ok {
		return Site{}, ErrUnknownSite
	}
	return s, nil
}

func (v *view) deviceList() []Device {
	return slices.SortedFunc(maps.Values(v.devices), func(a, b Device) int { return cmp.Compare(a.ID, b.ID) })
}

func (v *view) siteList() []Site {
	return slices.SortedFunc(maps.Values(v.sites), func(a, b Site) int { return cmp.Compare(a.ID, b.ID) })
}
