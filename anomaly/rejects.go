package anomaly

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/ingest"
	"github.com/sunproof/sunproof/ingest/reading"
)

// RejectConfig configures a RejectSource.
type RejectConfig struct {
	Brokers []string `yaml:"kafka_brokers"`
	Topic   string   `yaml:"rejects_topic"` // pv.rejects
	// Reasons are the collector's reject reasons whose authentic readings
	// are kept: counter_regression and implausible by default;
	// future_timestamp is allowed too (a clock running more than 5 minutes
	// ahead). The other reasons mean the reading is malformed, not
	// authentic or not new.
	Reasons []reading.Reason `yaml:"reasons"`
	// Replay: at start, Run reads back the records appended to the topic
	// within Replay before the start (Kafka record time); kept readings
	// expire Replay after their record time, so a restarted source holds
	// what a long-running one holds. It must cover the scans' reach: the
	// scan window + Lookback + the scan delay (48 h for hourly scans of
	// 24 h).
	Replay time.Duration `yaml:"replay"`
	// Lookback: Merge adds the readings in [from − Lookback, to), as
	// Source.Load reads them; keep it equal to InfluxConfig.Lookback (1 h).
	Lookback time.Duration `yaml:"lookback"`
	// MaxPerDevice bounds the readings kept per device; beyond it the
	// lowest seqs go (4096: 14 days at 5 minutes).
	MaxPerDevice int `yaml:"max_per_device"`
	// MaxReadings bounds the readings kept in all (1,000,000, ~60 MB);
	// beyond it the earliest received go.
	MaxReadings int `yaml:"max_readings"`
}

// DefaultRejectConfig returns the local stack's settings.
func DefaultRejectConfig() RejectConfig {
	return RejectConfig{
		Brokers: []string{"127.0.0.1:9092"}, Topic: ingest.TopicRejects,
		Reasons: []reading.Reason{reading.ReasonCounterRegression, reading.ReasonImplausible},
		Replay:  48 * time.Hour, Lookback: time.Hour, MaxPerDevice: 4096, MaxReadings: 1_000_000,
	}
}

// Validate checks the configuration.
func (c RejectConfig) Validate() error {
	var errs []error
	if len(c.Brokers) == 0 || c.Topic == "" {
		errs = append(errs, errors.New("kafka_brokers and rejects_topic must be set"))
	}
	if len(c.Reasons) == 0 {
		errs = append(errs, errors.New("reasons is empty: nothing would be kept"))
	}
	for _, r := range c.Reasons {
		switch r {
		case reading.ReasonCounterRegression, reading.ReasonImplausible, reading.ReasonFutureTimestamp:
		default:
			errs = append(errs, fmt.Errorf("reason %q: only counter_regression, implausible and future_timestamp reject an authentic reading for its values", r))
		}
	}
	if c.Replay <= 0 || c.Lookback < 0 || c.MaxPerDevice < 1 || c.MaxReadings < 1 {
		errs = append(errs, fmt.Errorf("replay %s, lookback %s, max_per_device %d, max_readings %d: replay and the bounds must be positive",
			c.Replay, c.Lookback, c.MaxPerDevice, c.MaxReadings))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return nil
}

// DeviceLookup returns a device's registry record (devices.Registry and
// devices.Static implement it).
type DeviceLookup interface {
	Device(id string) (devices.Device, error)
}

// RejectOptions are a RejectSource's collaborators; all may be zero.
type RejectOptions struct {
	Log        *slog.Logger          // nil: discard
	Registerer prometheus.Registerer // nil: metrics are not registered
	Now        func() time.Time      // nil: time.Now
}

// RejectSource keeps the authentic readings the collector rejected for
// their values and merges them into loaded series, so the detectors see
// what the devices reported and not a gap.
//
// The collector rejects, by design, a reading whose lifetime counter is
// below that of an earlier-seq reading of the same device
// (counter_regression), and one whose power exceeds the plant's rating
// (implausible). After a counter reset every later reading of the device
// is rejected: without the rejects the detectors would see a silent device
// (a comm gap), not a counter reset; without the implausible ones they
// would miss the inflated readings' peaks.
//
// Invariants:
//
//   - A reading is kept only if its record is from stage "collector" with
//     one of Config.Reasons, its payload (the wire form; else the record's
//     reading view) decodes, its device is in the registry with the same
//     site, and its signature verifies with the device's registered key. A
//     reject record is not trusted beyond that: it is a Kafka message like
//     any other.
//   - At most one reading per (device, seq) is kept; a second record of the
//     same reading changes nothing.
//   - Memory is bounded: Config.MaxPerDevice readings per device (lowest
//     seqs evicted) and Config.MaxReadings in all (earliest received
//     evicted). Readings expire Config.Replay after their Kafka record
//     time, so after a restart Run's replay rebuilds the same contents.
//   - Merge never adds a reading whose seq the loaded series already has
//     (a reading is stored or rejected, but a resent one could be both),
//     and returns every series in time order (ties by seq).
//
// The key is the registry's when the record is read: after a key rotation
// a restarted source drops the rejects signed with the old key.
//
// Metrics (namespace sunproof, subsystem analyze):
// reject_records_total{result} (kept, duplicate, other_stage,
// other_reason, undecodable, unknown_device, site_mismatch, bad_signature,
// expired), reject_readings (held), reject_evictions_total,
// reject_merged_total. No device ids as labels.
//
// Concurrency: Run is called once; Merge, Len, WaitSynced and the Loader
// returned by WithRejects are safe for concurrent use with it and with
// each other. Run should start after the registry is ready: records of
// devices it does not know yet are dropped.
type RejectSource struct {
	cfg     RejectConfig
	devs    DeviceLookup
	log     *slog.Logger
	now     func() time.Time
	reasons map[string]bool
	m       *rejectMetrics

	mu    sync.Mutex
	byDev map[string][]keptReading // per device, sorted by seq, unique seqs
	fifo  []keptRef                // kept readings in receipt order; may hold stale refs
	total int

	posMu   sync.Mutex
	started chan struct{} // closed when Run has positioned its readers
	pos     map[int]int64 // partition → next offset to read
	runErr  error         // why Run stopped before positioning, if it did
	ranOnce sync.Once
}

type keptReading struct {
	s        Sample
	received time.Time
}

type keptRef struct {
	dev      string
	seq      uint64
	received time.Time
}

// Results of handling one record: the label values of
// sunproof_analyze_reject_records_total.
const (
	rejectKept        = "kept"
	rejectDuplicate   = "duplicate"
	rejectOtherStage  = "other_stage"
	rejectOtherReason = "other_reason"
	rejectUndecodable = "undecodable"
	rejectUnknown     = "unknown_device"
	rejectSite        = "site_mismatch"
	rejectBadSig      = "bad_signature"
	rejectExpired     = "expired"
)

var rejectResults = []string{rejectKept, rejectDuplicate, rejectOtherStage, rejectOtherReason, rejectUndecodable,
	rejectUnknown, rejectSite, rejectBadSig, rejectExpired}

type rejectMetrics struct {
	records *prometheus.CounterVec
	kept    prometheus.Gauge
	evicted prometheus.Counter
	merged  prometheus.Counter
}

func newRejectMetrics(reg prometheus.Registerer) *rejectMetrics {
	m := &rejectMetrics{
		records: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "sunproof", Subsystem: "analyze",
			Name: "reject_records_total", Help: "Reject records read, by result (kept, duplicate, other_stage, other_reason, undecodable, unknown_device, site_mismatch, bad_signature, expired)."},
			[]string{"result"}),
		kept: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "sunproof", Subsystem: "analyze",
			Name: "reject_readings", Help: "Authentic rejected readings held for merging into scans."}),
		evicted: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "sunproof", Subsystem: "analyze",
			Name: "reject_evictions_total", Help: "Held rejected readings dropped by the memory bounds or expiry."}),
		merged: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "sunproof", Subsystem: "analyze",
			Name: "reject_merged_total", Help: "Rejected readings merged into loaded series."}),
	}
	for _, r := range rejectResults {
		m.records.WithLabelValues(r)
	}
	if reg != nil {
		reg.MustRegister(m.records, m.kept, m.evicted, m.merged)
	}
	return m
}

// NewRejectSource returns a source over cfg.Topic that checks readings
// against devs.
func NewRejectSource(cfg RejectConfig, devs DeviceLookup, o RejectOptions) (*RejectSource, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if devs == nil {
		return nil, fmt.Errorf("reject source: no device lookup: %w", ErrInvalidConfig)
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	s := &RejectSource{cfg: cfg, devs: devs, log: log.With("component", "rejects", "topic", cfg.Topic), now: now,
		reasons: map[string]bool{}, m: newRejectMetrics(o.Registerer), byDev: map[string][]keptReading{},
		started: make(chan struct{}), pos: map[int]int64{}}
	for _, r := range cfg.Reasons {
		s.reasons[string(r)] = true
	}
	return s, nil
}

// add handles one record value received at t (its Kafka record time) and
// returns the result label.
func (s *RejectSource) add(value []byte, t time.Time) string {
	var rec ingest.RejectRecord
	if err := json.Unmarshal(value, &rec); err != nil {
		return rejectUndecodable
	}
	if rec.Stage != "collector" {
		return rejectOtherStage
	}
	if !s.reasons[rec.Reason] {
		return rejectOtherReason
	}
	var r reading.Reading
	var err error
	switch {
	case len(rec.Payload) > 0:
		r, err = reading.Decode(rec.Payload)
	case rec.Reading != nil:
		r, err = rec.Reading.Reading()
	default:
		err = errors.New("no payload")
	}
	if err != nil {
		return rejectUndecodable
	}
	d, err := s.devs.Device(r.DeviceID)
	if err != nil {
		return rejectUnknown
	}
	if d.SiteID != r.SiteID {
		return rejectSite
	}
	if err := r.Verify(d.PublicKey); err != nil {
		return rejectBadSig
	}
	if t.IsZero() {
		t = rec.ReceivedAt
	}
	return s.keep(r.DeviceID, keptReading{s: SampleOf(&r), received: t})
}

// keep stores k for dev unless it is a duplicate or already expired, then
// applies the bounds.
func (s *RejectSource) keep(dev string, k keptReading) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	cutoff := s.now().Add(-s.cfg.Replay)
	if k.received.Before(cutoff) {
		return rejectExpired
	}
	rs := s.byDev[dev]
	i, found := slices.BinarySearchFunc(rs, k.s.Seq, func(e keptReading, seq uint64) int { return cmp.Compare(e.s.Seq, seq) })
	if found {
		return rejectDuplicate
	}
	rs = slices.Insert(rs, i, k)
	s.total++
	if len(rs) > s.cfg.MaxPerDevice {
		rs = slices.Delete(rs, 0, 1) // the lowest seq
		s.total--
		s.m.evicted.Inc()
	}
	s.byDev[dev] = rs
	s.fifo = append(s.fifo, keptRef{dev: dev, seq: k.s.Seq, received: k.received})
	s.expireLocked(cutoff)
	return rejectKept
}

// expireLocked drops readings received before cutoff and, while more than
// MaxReadings are held, the earliest received; it compacts the receipt
// queue when stale references dominate it.
func (s *RejectSource) expireLocked(cutoff time.Time) {
	n := 0
	for ; n < len(s.fifo); n++ {
		ref := s.fifo[n]
		if !ref.received.Before(cutoff) && s.total <= s.cfg.MaxReadings {
			break
		}
		if s.removeLocked(ref.dev, ref.seq) {
			s.m.evicted.Inc()
		}
	}
	s.fifo = s.fifo[n:]
	if len(s.fifo) > 2*s.total+1024 {
		live := s.fifo[:0:0]
		for _, ref := range s.fifo {
			if s.holdsLocked(ref.dev, ref.seq) {
				live = append(live, ref)
			}
		}
		s.fifo = live
	}
	s.m.kept.Set(float64(s.total))
}

func (s *RejectSource) removeLocked(dev string, seq uint64) bool {
	rs := s.byDev[dev]
	i, found := slices.BinarySearchFunc(rs, seq, func(e keptReading, seq uint64) int { return cmp.Compare(e.s.Seq, seq) })
	if !found {
		return false
	}
	rs = slices.Delete(rs, i, i+1)
	if len(rs) == 0 {
		delete(s.byDev, dev)
	} else {
		s.byDev[dev] = rs
	}
	s.total--
	return true
}

func (s *RejectSource) holdsLocked(dev string, seq uint64) bool {
	_, found := slices.BinarySearchFunc(s.byDev[dev], seq, func(e keptReading, seq uint64) int { return cmp.Compare(e.s.Seq, seq) })
	return found
}

// Len returns how many rejected readings are held.
func (s *RejectSource) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked(s.now().Add(-s.cfg.Replay))
	return s.total
}

// Merge returns series with the held readings whose timestamps are in
// [from − Lookback, to) added to their device's series, like Source.Load
// reads them for the scan [from, to), and how many it added. A series that
// gets nothing is returned as it is; one that does gets a new, time-ordered
// Samples slice (the input is not modified).
func (s *RejectSource) Merge(series []Series, from, to time.Time) ([]Series, int) {
	lo := from.Add(-s.cfg.Lookback)
	out := slices.Clone(series)
	added := 0
	s.mu.Lock()
	s.expireLocked(s.now().Add(-s.cfg.Replay))
	for i := range out {
		rs := s.byDev[out[i].Device.ID]
		if len(rs) == 0 {
			continue
		}
		var extra []Sample
		var have map[uint64]bool
		for _, k := range rs {
			if k.s.T.Before(lo) || !k.s.T.Before(to) {
				continue
			}
			if have == nil {
				have = make(map[uint64]bool, len(out[i].Samples))
				for _, smp := range out[i].Samples {
					if smp.Seq != 0 {
						have[smp.Seq] = true
					}
				}
			}
			if have[k.s.Seq] {
				continue
			}
			extra = append(extra, k.s)
		}
		if len(extra) == 0 {
			continue
		}
		out[i].Samples = mergeByTime(out[i].Samples, extra)
		added += len(extra)
	}
	s.mu.Unlock()
	s.m.merged.Add(float64(added))
	return out, added
}

// mergeByTime returns a new slice holding a and b in (T, Seq) order; a is
// sorted first if it is not.
func mergeByTime(a, b []Sample) []Sample {
	less := func(x, y *Sample) bool { return x.T.Before(y.T) || x.T.Equal(y.T) && x.Seq < y.Seq }
	sortSamples := func(xs []Sample) {
		if !sort.SliceIsSorted(xs, func(i, j int) bool { return less(&xs[i], &xs[j]) }) {
			sort.SliceStable(xs, func(i, j int) bool { return less(&xs[i], &xs[j]) })
		}
	}
	a = slices.Clone(a)
	sortSamples(a)
	sortSamples(b)
	out := make([]Sample, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if less(&b[j], &a[i]) {
			out = append(out, b[j])
			j++
		} else {
			out = append(out, a[i])
			i++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// WithRejects returns a Loader that loads with l and merges s's held
// readings into the result (RejectSource.Merge). Use it for scanning only:
// rejected readings are not anchored, so anchoring checks keep using l.
func WithRejects(l Loader, s *RejectSource) Loader { return rejectLoader{l: l, s: s} }

type rejectLoader struct {
	l Loader
	s *RejectSource
}

func (r rejectLoader) Load(ctx context.Context, devs []devices.Device, from, to time.Time) ([]Series, LoadStats, error) {
	series, st, err := r.l.Load(ctx, devs, from, to)
	if err != nil {
		return series, st, err
	}
	start := time.Now()
	series, n := r.s.Merge(series, from, to)
	st.Elapsed += time.Since(start)
	if n > 0 {
		r.s.log.Debug("merged rejected readings", "readings", n, "from", from, "to", to)
	}
	return series, st, nil
}

// Run reads the topic from Config.Replay before now, on every partition,
// until ctx is cancelled; it returns nil then. It waits for the topic to
// exist (the collector creates it). Partitions added while it runs are not
// read until it restarts.
func (s *RejectSource) Run(ctx context.Context) error {
	again := true
	s.ranOnce.Do(func() { again = false })
	if again {
		return errors.New("reject source: Run called twice")
	}
	readers, err := s.position(ctx)
	if err != nil {
		s.posMu.Lock()
		s.runErr = err
		s.posMu.Unlock()
		close(s.started)
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	close(s.started)
	var wg sync.WaitGroup
	for p, r := range readers {
		wg.Go(func() {
			defer r.Close()
			s.consume(ctx, p, r)
		})
	}
	wg.Wait()
	return nil
}

// position creates one reader per partition at the first offset whose
// record time is at or after now − Replay. It retries until ctx ends: the
// topic may not exist yet, or have no leader just after its creation.
func (s *RejectSource) position(ctx context.Context) (map[int]*kafka.Reader, error) {
	for backoff := 200 * time.Millisecond; ; backoff = min(2*backoff, 10*time.Second) {
		readers, err := s.tryPosition(ctx)
		if err == nil {
			return readers, nil
		}
		s.log.Info("rejects topic not readable yet; retrying", "err", err, "backoff", backoff)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("rejects topic %s: %w (last: %w)", s.cfg.Topic, ctx.Err(), err)
		case <-time.After(backoff):
		}
	}
}

func (s *RejectSource) tryPosition(ctx context.Context) (_ map[int]*kafka.Reader, err error) {
	client := &kafka.Client{Addr: kafka.TCP(s.cfg.Brokers...), Timeout: 10 * time.Second}
	parts, err := partitions(ctx, client, s.cfg.Topic)
	if err != nil {
		return nil, err
	}
	ends, err := endOffsets(ctx, client, s.cfg.Topic, parts)
	if err != nil {
		return nil, err
	}
	since := s.now().Add(-s.cfg.Replay)
	readers := make(map[int]*kafka.Reader, len(parts))
	offsets := make(map[int]int64, len(parts))
	defer func() {
		if err != nil {
			for _, r := range readers {
				r.Close()
			}
		}
	}()
	for _, p := range parts {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: s.cfg.Brokers, Topic: s.cfg.Topic, Partition: p,
			MinBytes: 1, MaxBytes: 16 << 20, MaxWait: 250 * time.Millisecond})
		readers[p] = r
		if err := r.SetOffsetAt(ctx, since); err != nil {
			return nil, fmt.Errorf("partition %d: offset at %s: %w", p, since.Format(time.RFC3339), err)
		}
		off := r.Offset()
		if off < 0 { // no record since then: start at the end as of now
			off = ends[p]
			if err := r.SetOffset(off); err != nil {
				return nil, fmt.Errorf("partition %d: %w", p, err)
			}
		}
		offsets[p] = off
	}
	s.posMu.Lock()
	maps.Copy(s.pos, offsets)
	s.posMu.Unlock()
	for _, p := range parts {
		s.log.Info("replaying rejects", "partition", p, "offset", offsets[p], "end", ends[p], "since", since)
	}
	return readers, nil
}

func (s *RejectSource) consume(ctx context.Context, p int, r *kafka.Reader) {
	for backoff := 100 * time.Millisecond; ; {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.log.Warn("reading rejects failed; retrying", "partition", p, "err", err, "backoff", backoff)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 10*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		res := s.add(m.Value, m.Time)
		s.m.records.WithLabelValues(res).Inc()
		if res != rejectKept && res != rejectOtherStage && res != rejectOtherReason && res != rejectDuplicate && res != rejectExpired {
			s.log.Debug("reject record not kept", "partition", p, "offset", m.Offset, "result", res)
		}
		s.posMu.Lock()
		s.pos[p] = m.Offset + 1
		s.posMu.Unlock()
	}
}

// WaitSynced returns once Run has read every record appended to the topic
// before the call, or ctx ends. Call it before a scan that must see the
// rejects of readings already accounted for (anomaly/eval/pipeline), or
// after a restart before the first scan.
func (s *RejectSource) WaitSynced(ctx context.Context) error {
	select {
	case <-s.started:
	case <-ctx.Done():
		return fmt.Errorf("wait for rejects replay: %w", ctx.Err())
	}
	s.posMu.Lock()
	runErr := s.runErr
	parts := make([]int, 0, len(s.pos))
	for p := range s.pos {
		parts = append(parts, p)
	}
	s.posMu.Unlock()
	if runErr != nil {
		return fmt.Errorf("reject source did not start: %w", runErr)
	}
	client := &kafka.Client{Addr: kafka.TCP(s.cfg.Brokers...), Timeout: 10 * time.Second}
	var ends map[int]int64
	for {
		var err error
		if ends, err = endOffsets(ctx, client, s.cfg.Topic, parts); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for rejects: %w (last: %w)", ctx.Err(), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
	for {
		behind := int64(0)
		s.posMu.Lock()
		for _, p := range parts {
			behind += max(ends[p]-s.pos[p], 0)
		}
		s.posMu.Unlock()
		if behind == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for rejects (%d records behind): %w", behind, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func partitions(ctx context.Context, c *kafka.Client, topic string) ([]int, error) {
	md, err := c.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, err
	}
	for _, t := range md.Topics {
		if t.Name != topic {
			continue
		}
		if t.Error != nil {
			return nil, t.Error
		}
		if len(t.Partitions) == 0 {
			return nil, fmt.Errorf("topic %s has no partitions", topic)
		}
		ps := make([]int, len(t.Partitions))
		for i, p := range t.Partitions {
			ps[i] = p.ID
		}
		slices.Sort(ps)
		return ps, nil
	}
	return nil, fmt.Errorf("topic %s: %w", topic, kafka.UnknownTopicOrPartition)
}

// endOffsets returns each partition's high-water mark.
func endOffsets(ctx context.Context, c *kafka.Client, topic string, parts []int) (map[int]int64, error) {
	req := &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: {}}}
	for _, p := range parts {
		req.Topics[topic] = append(req.Topics[topic], kafka.LastOffsetOf(p))
	}
	res, err := c.ListOffsets(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("rejects end offsets: %w", err)
	}
	out := make(map[int]int64, len(parts))
	for _, po := range res.Topics[topic] {
		if po.Error != nil {
			return nil, fmt.Errorf("rejects partition %d end offset: %w", po.Partition, po.Error)
		}
		out[po.Partition] = po.LastOffset
	}
	for _, p := range parts {
		if _, ok := out[p]; !ok {
			return nil, fmt.Errorf("rejects partition %d: no end offset", p)
		}
	}
	return out, nil
}
