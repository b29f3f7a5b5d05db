package anchor

// The batcher: consumes the readings topic, seals windows per partition and
// anchors one batch per interval, exactly once. The protocol and its crash
// analysis are in docs/formats/proof-store.md ("Exactly-once anchoring").

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/sunproof/sunproof/ingest/reading"
)

// BatcherConfig configures a Batcher.
type BatcherConfig struct {
	// Brokers are the Kafka bootstrap addresses (NewBatcher only).
	Brokers []string `yaml:"brokers"`
	// Topic is the readings topic (ingest.TopicReadings): values are
	// reading wire bytes.
	Topic string `yaml:"topic"`
	// Group is the batcher's consumer group. The batcher must be the
	// group's only member: its state lives in one proof store.
	Group string `yaml:"group"`
	// Interval is the anchoring cadence: at every multiple of Interval
	// (wall clock, aligned to the Unix epoch) the windows sealed since the
	// last tick are anchored in one transaction. Whole milliseconds.
	Interval time.Duration `yaml:"interval"`
	// Span and Lateness configure the windows (see Config).
	Span     time.Duration `yaml:"span"`
	Lateness time.Duration `yaml:"lateness"`
	// RetryMax caps the backoff between attempts of a retryable submit.
	RetryMax time.Duration `yaml:"retry_max"`
	// FailAt is a failpoint for crash tests: "after-prepare",
	// "during-submit", "after-submit", "after-mark" or "after-commit",
	// optionally with ":N" (the N-th time the point is reached; default
	// 1st). The process exits with FailExitCode there. `sunproof anchor`
	// takes it from -fail-at or SUNPROOF_ANCHOR_FAIL_AT. Never set it in
	// production.
	FailAt string `yaml:"-"`
	// FailDelay is how long after calling Submit the "during-submit"
	// failpoint exits (at once if Submit returns first): long enough for
	// the transaction to be sent, shorter than a block.
	FailDelay time.Duration `yaml:"-"`
}

// DefaultBatcherConfig returns the local stack's configuration: one anchor
// per minute over 15-minute windows with 2 minutes of lateness.
func DefaultBatcherConfig() BatcherConfig {
	return BatcherConfig{
		Brokers:  []string{"127.0.0.1:9092"},
		Topic:    "pv.readings", // ingest.TopicReadings
		Group:    "sunproof-anchor",
		Interval: time.Minute,
		Span:     15 * time.Minute,
		Lateness: 2 * time.Minute,
		RetryMax: 30 * time.Second,
	}
}

// Validate checks c (brokers are checked by NewBatcher, which uses them).
func (c BatcherConfig) Validate() error {
	var errs []error
	if c.Topic == "" || c.Group == "" {
		errs = append(errs, errors.New("topic and group must be set"))
	}
	if c.Interval < 10*time.Millisecond || c.Interval%time.Millisecond != 0 {
		errs = append(errs, fmt.Errorf("interval %s must be at least 10ms and a whole number of milliseconds", c.Interval))
	}
	if err := (Config{Shard: "p0", Span: c.Span, Lateness: c.Lateness}).Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.RetryMax <= 0 {
		errs = append(errs, fmt.Errorf("retry_max %s must be positive", c.RetryMax))
	}
	if _, err := parseFailpoint(c.FailAt); err != nil {
		errs = append(errs, err)
	}
	if c.FailDelay < 0 {
		errs = append(errs, fmt.Errorf("fail delay %s is negative", c.FailDelay))
	}
	return errors.Join(errs...)
}

func (c BatcherConfig) builderConfig(partition int) Config {
	return Config{Shard: ShardName(partition), Span: c.Span, Lateness: c.Lateness}
}

// Failpoints of BatcherConfig.FailAt, in protocol order.
const (
	FailAfterPrepare = "after-prepare" // manifest durable, nothing submitted
	FailDuringSubmit = "during-submit" // Submit called, FailDelay elapsed (or Submit returned)
	FailAfterSubmit  = "after-submit"  // anchored and confirmed, receipt not written
	FailAfterMark    = "after-mark"    // receipt written, offsets not committed
	FailAfterCommit  = "after-commit"  // offsets committed, readings not indexed
)

// FailExitCode is the exit status of a process stopped by a failpoint.
const FailExitCode = 3

type failpoint struct {
	name string
	nth  int
	hits int
}

func parseFailpoint(s string) (failpoint, error) {
	if s == "" {
		return failpoint{}, nil
	}
	name, n, found := strings.Cut(s, ":")
	fp := failpoint{name: name, nth: 1}
	if found {
		v, err := strconv.Atoi(n)
		if err != nil || v < 1 {
			return failpoint{}, fmt.Errorf("failpoint %q: count must be a positive integer", s)
		}
		fp.nth = v
	}
	switch name {
	case FailAfterPrepare, FailDuringSubmit, FailAfterSubmit, FailAfterMark, FailAfterCommit:
		return fp, nil
	}
	return failpoint{}, fmt.Errorf("unknown failpoint %q (want %s, %s, %s, %s or %s[:N])", name,
		FailAfterPrepare, FailDuringSubmit, FailAfterSubmit, FailAfterMark, FailAfterCommit)
}

// submitter anchors a batch root idempotently; *Submitter implements it.
type submitter interface {
	Submit(ctx context.Context, tx AnchorTx) (TxRef, error)
}

// SourceMessage is one record of the readings topic.
type SourceMessage struct {
	Partition int
	Offset    int64
	// HighWaterMark is the partition's end offset when the record was
	// fetched (0 if unknown): the partition is caught up when Offset+1 ==
	// HighWaterMark.
	HighWaterMark int64
	Value         []byte
	Time          time.Time
}

// ErrSessionEnded is what a consumer returns from Fetch or Commit once its
// consumer group session (generation) has ended, for example in a
// rebalance. The batcher then resumes from its proof store.
var ErrSessionEnded = errors.New("anchor: consumer group session ended")

// consumer is what the batcher needs of Kafka: one group session at a
// time. Join waits for an assignment and returns its partitions with their
// committed offsets (-1: none); Start begins fetching each partition at the
// given offset (-1: the first); Commit stores the next offsets to read.
type consumer interface {
	Join(ctx context.Context) (map[int]int64, error)
	Start(ctx context.Context, from map[int]int64) error
	Fetch(ctx context.Context) (SourceMessage, error)
	Commit(ctx context.Context, offsets map[int]int64) error
	Close() error
}

// Clock is the batcher's time source (wall time for intervals and the
// watermark of idle partitions).
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the wall clock.
var SystemClock Clock = systemClock{}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Batcher consumes the readings topic, groups readings into windows per
// partition (one Builder per partition, shard "p<partition>") and, at every
// interval tick, anchors the windows sealed since the last tick in one
// batch: prepare (manifest durable in the store), submit (idempotent, by
// interval start), mark anchored (receipt in the store), commit offsets,
// index. Each reading is anchored exactly once across crashes and
// restarts: see docs/formats/proof-store.md.
//
// Run must not be called concurrently; the Batcher is not reusable after
// Run returns.
type Batcher struct {
	cfg   BatcherConfig
	store *Store
	sub   submitter
	src   consumer
	clock Clock
	log   *slog.Logger
	m     *batcherMetrics
	fp    failpoint
	exit  func(int)

	// Owned by Run's goroutine.
	parts   map[int]*partition
	lastEnd int64 // end of the newest interval in the store
}

// partition is the batcher's state for one Kafka partition.
type partition struct {
	id    int
	b     *Builder
	floor int64 // every reading below it is in the store: skip them (-1: none)
	next  int64 // next offset expected (-1: unknown)
	// committed is the offset last committed to Kafka in this session;
	// commit is the offset to commit once the current interval is
	// anchored (-1: none).
	committed, commit int64
	caughtUp          bool
	// live are the sealed windows holding readings at or above the commit
	// offset (the next run reads those again), liveKeys their readings.
	live     []liveWindow
	liveKeys map[reading.Key]int // reference counts
}

type liveWindow struct {
	ref       WindowRef
	maxOffset int64
	keys      []reading.Key
}

func (p *partition) addLive(ref WindowRef, w *Window) {
	p.live = append(p.live, liveWindow{ref: ref, maxOffset: w.MaxOffset, keys: w.keys})
	for _, k := range w.keys {
		p.liveKeys[k]++
	}
}

// pruneLive drops the live windows whose readings all lie below off.
func (p *partition) pruneLive(off int64) {
	p.live = slices.DeleteFunc(p.live, func(l liveWindow) bool {
		if l.maxOffset >= off {
			return false
		}
		for _, k := range l.keys {
			if p.liveKeys[k]--; p.liveKeys[k] <= 0 {
				delete(p.liveKeys, k)
			}
		}
		return true
	})
}

// NewBatcher returns a batcher reading cfg.Topic with a kafka-go consumer
// group and anchoring through sub (a *Submitter). logger and reg may be nil.
func NewBatcher(cfg BatcherConfig, store *Store, sub submitter, logger *slog.Logger, reg prometheus.Registerer) (*Batcher, error) {
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("anchor batcher: no brokers")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("anchor batcher: %w", err)
	}
	return NewBatcherWith(cfg, store, sub, newKafkaConsumer(cfg, logger), SystemClock, logger, reg)
}

// NewBatcherWith returns a batcher reading from src (see the consumer
// interface; tests use in-memory and file-backed fakes) with clock.
func NewBatcherWith(cfg BatcherConfig, store *Store, sub submitter, src consumer, clock Clock, logger *slog.Logger, reg prometheus.Registerer) (*Batcher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("anchor batcher: %w", err)
	}
	if store == nil || sub == nil || src == nil || clock == nil {
		return nil, errors.New("anchor batcher: store, submitter, consumer and clock are required")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	fp, _ := parseFailpoint(cfg.FailAt)
	return &Batcher{
		cfg: cfg, store: store, sub: sub, src: src, clock: clock,
		log:  logger.With("component", "anchor-batcher", "topic", cfg.Topic),
		m:    newBatcherMetrics(reg),
		fp:   fp,
		exit: os.Exit,
	}, nil
}

// Run consumes and anchors until ctx is cancelled, then returns nil. It
// returns an error if anchoring cannot continue: a final chain error (for
// example ErrConflictingAnchor), a store write failure, or another member
// in the consumer group. Pending (unsealed) windows are not flushed on
// exit: their readings' offsets are not committed, so the next run reads
// them again.
func (b *Batcher) Run(ctx context.Context) error {
	defer b.src.Close()
	for {
		err := b.session(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, ErrSessionEnded):
			b.log.Info("consumer group session ended; resuming from the proof store")
		default:
			return err
		}
	}
}

// session runs one consumer group session: recover from the store, join,
// consume and anchor until the session or ctx ends.
func (b *Batcher) session(ctx context.Context) error {
	if err := b.recover(ctx); err != nil {
		return err
	}
	assigned, err := b.src.Join(ctx)
	if err != nil {
		return err
	}
	for id := range b.parts {
		if _, ok := assigned[id]; !ok {
			return fmt.Errorf("partition %d has state in the proof store but is not assigned to this member of group %s", id, b.cfg.Group)
		}
	}
	from := make(map[int]int64, len(assigned))
	commit := map[int]int64{}
	for id, off := range assigned {
		p := b.parts[id]
		if p == nil {
			if p, err = b.newPartition(id, State{}); err != nil {
				return err
			}
		}
		off = max(off, -1)
		switch {
		case p.floor >= 0 && off > p.floor:
			return fmt.Errorf("partition %d: group %s committed offset %d, but the proof store resumes at %d: "+
				"the store is behind the group (restored from a backup, or not this group's store?); refusing to skip readings", id, b.cfg.Group, off, p.floor)
		case p.floor >= 0 && off < p.floor:
			commit[id] = p.floor // the previous run stopped before committing
		}
		start := max(off, p.floor)
		from[id], p.next = start, start
		p.committed = off
		b.log.Info("partition assigned", "partition", id, "offset", start, "committed", off, "live_windows", len(p.live))
	}
	if len(commit) > 0 {
		if err := b.src.Commit(ctx, commit); err != nil {
			if errors.Is(err, ErrSessionEnded) {
				return err
			}
			b.log.Warn("offset commit failed; the proof store has the offsets", "err", err)
		} else {
			for id, off := range commit {
				b.parts[id].committed = off
			}
		}
	}
	if err := b.src.Start(ctx, from); err != nil {
		return err
	}

	type item struct {
		m   SourceMessage
		err error
	}
	msgs := make(chan item, 1024)
	var wg sync.WaitGroup
	defer wg.Wait()
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wg.Go(func() {
		for {
			m, err := b.src.Fetch(pctx)
			select {
			case msgs <- item{m, err}:
			case <-pctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	})

	timer := b.clock.After(b.untilTick())
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case it := <-msgs:
			if it.err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				if errors.Is(it.err, ErrSessionEnded) {
					return it.err
				}
				return fmt.Errorf("fetch from %s: %w", b.cfg.Topic, it.err)
			}
			if err := b.add(it.m); err != nil {
				return err
			}
		case <-timer:
			if err := b.tick(ctx, b.clock.Now()); err != nil {
				return err
			}
			timer = b.clock.After(b.untilTick())
		}
	}
}

func (b *Batcher) newPartition(id int, st State) (*partition, error) {
	bld, err := NewBuilder(b.cfg.builderConfig(id), st)
	if err != nil {
		return nil, err
	}
	p := &partition{id: id, b: bld, floor: -1, next: -1, committed: -1, commit: -1, liveKeys: map[reading.Key]int{}}
	b.parts[id] = p
	return p, nil
}

func (b *Batcher) sortedParts() []*partition {
	ps := make([]*partition, 0, len(b.parts))
	for _, p := range b.parts {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, func(x, y *partition) int { return x.id - y.id })
	return ps
}

// recover completes every prepared but unanchored interval (submitting
// exactly its batch again: Submit is idempotent), then rebuilds the
// partitions' state from the newest manifest: builder states, the offsets
// to resume from, and the sealed windows whose readings will be read again.
func (b *Batcher) recover(ctx context.Context) error {
	newest, ok, pending, err := b.store.Tail()
	if err != nil {
		return err
	}
	for _, iv := range pending {
		m, err := b.store.Manifest(iv.StartMS)
		if err != nil {
			return err
		}
		b.log.Info("completing an interval prepared by an earlier run", "interval_start", m.IntervalStartMS, "windows", len(m.Windows))
		if err := b.anchorInterval(ctx, m); err != nil {
			return err
		}
		b.m.intervals.WithLabelValues("recovered").Inc()
		newest, ok = IntervalStatus{StartMS: iv.StartMS, Anchored: true}, true
	}
	if err := b.store.catchUpIndex(); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	b.parts = map[int]*partition{}
	b.lastEnd = 0
	if !ok {
		b.log.Info("empty proof store: starting from the group's offsets")
		return nil
	}
	m, err := b.store.Manifest(newest.StartMS)
	if err != nil {
		return err
	}
	b.lastEnd = m.IntervalEndMS
	if m.Builder.SpanMS != b.cfg.Span.Milliseconds() || m.Builder.LatenessMS != b.cfg.Lateness.Milliseconds() {
		b.log.Warn("window configuration changed since the last interval",
			"span_was", time.Duration(m.Builder.SpanMS)*time.Millisecond, "lateness_was", time.Duration(m.Builder.LatenessMS)*time.Millisecond)
	}
	for _, mp := range m.Partitions {
		p, err := b.newPartition(mp.Partition, mp.State)
		if err != nil {
			return err
		}
		p.floor, p.next = mp.CommitOffset, mp.CommitOffset
		for _, ref := range mp.Live {
			lm, err := b.store.Manifest(ref.IntervalStartMS)
			if err != nil {
				return err
			}
			w, err := b.store.LoadWindow(lm, ref.Index)
			if err != nil {
				return err
			}
			if w.ID() != ref.ID {
				return corrupt("manifest %d: live window %d of interval %d is %s, not %s", m.IntervalStartMS, ref.Index, ref.IntervalStartMS, w.ID(), ref.ID)
			}
			p.b.Remember(w)
			p.addLive(ref, w)
		}
	}
	b.log.Info("resuming from the proof store", "interval_start", m.IntervalStartMS, "interval_end", m.IntervalEndMS, "partitions", len(m.Partitions))
	return nil
}

// add places one message. A reading whose span this partition has already
// sealed would go to a late window. If it is one of the live windows'
// readings (read again after a restart) the builder recognises it; if the
// store's index has it (a copy the collector stored twice, possibly long
// after), it is dropped here.
func (b *Batcher) add(m SourceMessage) error {
	p := b.parts[m.Partition]
	if p == nil {
		b.log.Warn("message from a partition not assigned to this member; ignored", "partition", m.Partition, "offset", m.Offset)
		return nil
	}
	if m.HighWaterMark > 0 {
		p.caughtUp = m.Offset+1 >= m.HighWaterMark
	}
	if m.Offset < p.floor || (p.next >= 0 && m.Offset < p.next) {
		b.m.messages.WithLabelValues("skipped").Inc() // anchored before, or delivered twice
		return nil
	}
	p.next = m.Offset + 1
	r, err := reading.Decode(m.Value)
	if err != nil {
		b.m.messages.WithLabelValues("undecodable").Inc()
		b.log.Error("undecodable message in the readings topic; skipped", "partition", m.Partition, "offset", m.Offset, "err", err)
		return nil
	}
	if b.spanEnd(r.TimeMS) <= p.b.State().SealedThroughMS && p.liveKeys[r.Key()] == 0 {
		dup, err := b.store.Anchored(r.DeviceID, r.Seq)
		if err != nil {
			return err
		}
		if dup {
			b.m.messages.WithLabelValues("duplicate").Inc()
			return nil
		}
	}
	pl, err := p.b.Add(m.Value, m.Offset)
	switch {
	case err != nil:
		b.m.messages.WithLabelValues("undecodable").Inc()
		b.log.Error("unplaceable message in the readings topic; skipped", "partition", m.Partition, "offset", m.Offset, "err", err)
	case pl.Conflict:
		b.m.messages.WithLabelValues("conflict").Inc()
		b.log.Warn("two different readings share a device id and seq; the smaller wire bytes are kept",
			"partition", m.Partition, "offset", m.Offset, "window_id", pl.WindowID, "device_id", r.DeviceID)
	case pl.Duplicate:
		b.m.messages.WithLabelValues("duplicate").Inc()
	case pl.Late:
		b.m.messages.WithLabelValues("late").Inc()
	default:
		b.m.messages.WithLabelValues("added").Inc()
	}
	return nil
}

// spanEnd returns the end of the window span holding ts.
func (b *Batcher) spanEnd(ts int64) int64 {
	span := b.cfg.Span.Milliseconds()
	start := ts - ts%span
	if ts%span < 0 {
		start -= span
	}
	return start + span
}

// untilTick returns the time until the next multiple of the interval.
func (b *Batcher) untilTick() time.Duration {
	now := b.clock.Now()
	iv := b.cfg.Interval.Milliseconds()
	next := (now.UnixMilli()/iv + 1) * iv
	return time.UnixMilli(next).Sub(now)
}

// tick seals what is ready and anchors it as the interval ending at the
// latest multiple of the interval at or before now.
func (b *Batcher) tick(ctx context.Context, now time.Time) error {
	iv := b.cfg.Interval.Milliseconds()
	end := now.UnixMilli() / iv * iv
	start := max(end-iv, b.lastEnd)
	if start >= end {
		return nil
	}
	parts := b.sortedParts()
	var ws []*Window
	pending := 0
	for _, p := range parts {
		wm, ok := p.b.Watermark()
		if p.caughtUp {
			// An idle partition's event time stands still: let the wall
			// clock close its windows.
			if wall := now.UnixMilli() - b.cfg.Lateness.Milliseconds(); !ok || wall > wm {
				wm, ok = wall, true
			}
		}
		if ok {
			ws = append(ws, p.b.SealReady(wm)...)
		}
		pending += p.b.Pending()
	}
	b.m.pending.Set(float64(pending))
	if len(ws) == 0 {
		b.m.intervals.WithLabelValues("empty").Inc()
		return nil
	}
	m, ordered, err := b.newManifest(start, end, now, ws, parts)
	if err != nil {
		return err
	}
	if err := b.store.Prepare(m, ordered); err != nil {
		return err
	}
	b.lastEnd = end
	b.failpoint(FailAfterPrepare)
	if err := b.anchorInterval(ctx, m); err != nil {
		return err
	}
	b.m.intervals.WithLabelValues("anchored").Inc()
	b.m.duration.Observe(b.clock.Now().Sub(now).Seconds())
	for _, w := range ordered {
		b.m.windows.WithLabelValues(w.Kind.String()).Inc()
		b.m.readings.Add(float64(w.Len()))
	}

	commit := map[int]int64{}
	for _, p := range parts {
		if p.commit > p.committed {
			commit[p.id] = p.commit
		}
	}
	if len(commit) > 0 {
		switch err := b.src.Commit(ctx, commit); {
		case errors.Is(err, ErrSessionEnded):
			return err
		case err != nil:
			b.log.Warn("offset commit failed; the proof store has the offsets", "err", err)
		default:
			for id, off := range commit {
				b.parts[id].committed = off
			}
		}
	}
	for _, p := range parts {
		if p.commit >= 0 {
			// The receipt makes p.commit durable as the floor of the next
			// run, whatever Kafka has: forget what lies below it.
			p.b.Committed(p.commit)
		}
	}
	b.failpoint(FailAfterCommit)
	return b.store.IndexInterval(m, ordered)
}

// newManifest describes the interval [start, end) holding ws (windows in
// batch order are returned with it) and the partitions' state after
// sealing them; it sets each partition's commit offset and live windows.
func (b *Batcher) newManifest(start, end int64, now time.Time, ws []*Window, parts []*partition) (*Manifest, []*Window, error) {
	m, ordered, err := NewManifest(start, end, ws, now)
	if err != nil {
		return nil, nil, err
	}
	m.Source = ManifestSource{Topic: b.cfg.Topic, Group: b.cfg.Group}
	m.Builder = ManifestBuilder{SpanMS: b.cfg.Span.Milliseconds(), LatenessMS: b.cfg.Lateness.Milliseconds()}
	for _, p := range parts {
		off, ok := p.b.CommitOffset()
		if !ok {
			off = p.next
		}
		shard := ShardName(p.id)
		for i, w := range ordered {
			if w.Shard == shard {
				p.addLive(WindowRef{IntervalStartMS: start, Index: i, ID: w.ID()}, w)
			}
		}
		if off >= 0 {
			p.pruneLive(off)
		}
		p.commit = off
		mp := ManifestPartition{Partition: p.id, Shard: shard, State: p.b.State(), CommitOffset: off}
		for _, l := range p.live {
			mp.Live = append(mp.Live, l.ref)
		}
		m.Partitions = append(m.Partitions, mp)
	}
	return m, ordered, nil
}

// anchorInterval submits m's batch (retrying retryable errors) and writes
// its receipt.
func (b *Batcher) anchorInterval(ctx context.Context, m *Manifest) error {
	tx, err := m.AnchorTx()
	if err != nil {
		return err
	}
	ref, err := b.submit(ctx, tx)
	if err != nil {
		return err
	}
	b.failpoint(FailAfterSubmit)
	rec := NewAnchorReceipt(m, ref, b.clock.Now())
	if err := b.store.MarkAnchored(rec); err != nil {
		return err
	}
	b.m.lastAnchored.Set(float64(m.IntervalEndMS) / 1000)
	b.log.Info("interval anchored", "interval_start", m.IntervalStartMS, "interval_end", m.IntervalEndMS,
		"windows", len(m.Windows), "tx_hash", rec.TxHash, "block", rec.BlockNumber, "existing", rec.Existing)
	b.failpoint(FailAfterMark)
	return nil
}

func (b *Batcher) submit(ctx context.Context, tx AnchorTx) (TxRef, error) {
	if b.fp.name == FailDuringSubmit {
		if b.fp.hits++; b.fp.hits == b.fp.nth {
			b.log.Warn("failpoint: exiting while the anchor is submitted", "failpoint", b.fp.name, "interval_start", tx.IntervalStart)
			delay := b.cfg.FailDelay
			go func() {
				time.Sleep(delay)
				b.exit(FailExitCode)
			}()
			_, _ = b.sub.Submit(ctx, tx)
			b.exit(FailExitCode)
		}
	}
	backoff := 200 * time.Millisecond
	for {
		ref, err := b.sub.Submit(ctx, tx)
		if err == nil {
			return ref, nil
		}
		if ctx.Err() != nil {
			return TxRef{}, ctx.Err()
		}
		if !IsRetryable(err) {
			return TxRef{}, fmt.Errorf("anchor interval %d: %w", tx.IntervalStart, err)
		}
		b.m.submitRetries.Inc()
		b.log.Warn("anchoring failed; retrying", "interval_start", tx.IntervalStart, "err", err, "backoff", backoff)
		select {
		case <-ctx.Done():
			return TxRef{}, ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, b.cfg.RetryMax)
	}
}

// failpoint exits the process if the configured failpoint is name and this
// is its N-th hit.
func (b *Batcher) failpoint(name string) {
	if b.fp.name != name {
		return
	}
	if b.fp.hits++; b.fp.hits == b.fp.nth {
		b.log.Warn("failpoint: exiting", "failpoint", name, "hit", b.fp.hits)
		b.exit(FailExitCode)
	}
}

// batcherMetrics are the batcher's Prometheus metrics.
type batcherMetrics struct {
	messages      *prometheus.CounterVec
	intervals     *prometheus.CounterVec
	windows       *prometheus.CounterVec
	readings      prometheus.Counter
	pending       prometheus.Gauge
	duration      prometheus.Histogram
	lastAnchored  prometheus.Gauge
	submitRetries prometheus.Counter
}

func newBatcherMetrics(reg prometheus.Registerer) *batcherMetrics {
	f := promauto.With(reg)
	return &batcherMetrics{
		messages: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: "sunproof", Subsystem: "anchor", Name: "messages_total",
			Help: "Messages consumed by result: added, late, duplicate, conflict, skipped (anchored before), undecodable.",
		}, []string{"result"}),
		intervals: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: "sunproof", Subsystem: "anchor", Name: "intervals_total",
			Help: "Interval ticks by result: anchored, empty (nothing sealed), recovered (prepared by an earlier run).",
		}, []string{"result"}),
		windows: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: "sunproof", Subsystem: "anchor", Name: "windows_total",
			Help: "Windows anchored by kind.",
		}, []string{"kind"}),
		readings: f.NewCounter(prometheus.CounterOpts{
			Namespace: "sunproof", Subsystem: "anchor", Name: "readings_anchored_total",
			Help: "Readings anchored (window leaves).",
		}),
		pending: f.NewGauge(prometheus.GaugeOpts{
			Namespace: "sunproof", Subsystem: "anchor", Name: "pending_readings",
			Help: "Readings held in unsealed windows at the last tick.",
		}),
		duration: f.NewHistogram(prometheus.HistogramOpts{
			Namespace: "sunproof", Subsystem: "anchor", Name: "interval_duration_seconds",
			Help:    "Time from an interval tick to its receipt being written (seal, prepare, submit, confirm, mark).",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 16),
		}),
		lastAnchored: f.NewGauge(prometheus.GaugeOpts{
			Namespace: "sunproof", Subsystem: "anchor", Name: "last_anchored_interval_end_seconds",
			Help: "End of the newest anchored interval, Unix seconds.",
		}),
		submitRetries: f.NewCounter(prometheus.CounterOpts{
			Namespace: "sunproof", Subsystem: "anchor", Name: "submit_retries_total",
			Help: "Retryable anchoring failures that were retried.",
		}),
	}
}
