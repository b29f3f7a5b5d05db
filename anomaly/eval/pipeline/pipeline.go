package pipeline

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"golang.org/x/sync/errgroup"

	"github.com/sunproof/sunproof/anomaly"
	"github.com/sunproof/sunproof/anomaly/eval"
	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/ingest"
	"github.com/sunproof/sunproof/ingest/collector"
	"github.com/sunproof/sunproof/ingest/e2e"
	"github.com/sunproof/sunproof/ingest/reading"
	"github.com/sunproof/sunproof/ingest/tsdbwriter"
	"github.com/sunproof/sunproof/internal/influxql"
	"github.com/sunproof/sunproof/internal/kafkatopic"
)

// Config configures one run through the stack.
type Config struct {
	// RunID names the run's topics, database, MQTT clients and devices
	// ([A-Za-z0-9], at most 16); "" draws a random one.
	RunID     string
	MQTTURL   string   // plain MQTT: the publishers send for every device of the fleet
	Brokers   []string // Kafka
	InfluxURL string
	// Publishers is the number of concurrent MQTT connections publishing
	// (each device's readings go through one of them, in seq order).
	Publishers int
	// Window bounds the QoS 1 publishes awaiting their PUBACK per connection.
	Window int
	// CollectorLanes is the collector's MQTT connections.
	CollectorLanes int
	// Settle bounds the wait, after the last PUBACK, until every published
	// reading is stored in InfluxDB or recorded in the rejects topic; Stall
	// ends it earlier when that count stops moving.
	Settle, Stall time.Duration
	// Reasons are the collector reject reasons whose authentic readings are
	// merged back into the scans (anomaly.RejectSource). Empty: none, the
	// detectors see only what InfluxDB holds.
	Reasons []reading.Reason
	// Keep leaves the run's topics, database and MQTT sessions in place.
	Keep bool
}

// DefaultConfig returns the local stack's settings.
func DefaultConfig() Config {
	return Config{
		MQTTURL: "tcp://127.0.0.1:1883", Brokers: []string{"127.0.0.1:9092"}, InfluxURL: "http://127.0.0.1:8086",
		Publishers: 4, Window: 500, CollectorLanes: 2, Settle: 5 * time.Minute, Stall: time.Minute,
		Reasons: anomaly.DefaultRejectConfig().Reasons,
	}
}

var runIDRE = regexp.MustCompile(`^[A-Za-z0-9]{1,16}$`)

// Validate checks the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.RunID != "" && !runIDRE.MatchString(c.RunID) {
		errs = append(errs, fmt.Errorf("run id %q: want 1..16 of [A-Za-z0-9]", c.RunID))
	}
	if c.MQTTURL == "" || len(c.Brokers) == 0 || c.InfluxURL == "" {
		errs = append(errs, errors.New("mqtt url, kafka brokers and influx url must be set"))
	}
	if c.Publishers < 1 || c.Window < 1 || c.CollectorLanes < 1 || c.CollectorLanes > 64 {
		errs = append(errs, fmt.Errorf("publishers %d, window %d, collector lanes %d: want ≥ 1 (lanes ≤ 64)", c.Publishers, c.Window, c.CollectorLanes))
	}
	if c.Settle <= 0 || c.Stall <= 0 {
		errs = append(errs, fmt.Errorf("settle %s, stall %s: want > 0", c.Settle, c.Stall))
	}
	if len(c.Reasons) > 0 {
		rc := anomaly.DefaultRejectConfig()
		rc.Reasons = c.Reasons
		if err := rc.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Names are one run's names; nothing of one run is shared with another
// run or with the demo on the same servers.
type Names struct {
	Run      string
	Readings string // Kafka ev.<run>.readings
	Rejects  string // Kafka ev.<run>.rejects
	Devices  string // Kafka ev.<run>.devices (the run's registry)
	Group    string // ev-<run>: collector share group and client ids, writer group, publisher client ids
	DB       string // InfluxDB ev_<run>
	Prefix   string // ev<run>-: prepended to every fleet device and site id
}

// NewNames derives every name from a run id.
func NewNames(run string) Names {
	return Names{Run: run, Readings: "ev." + run + ".readings", Rejects: "ev." + run + ".rejects", Devices: "ev." + run + ".devices",
		Group: "ev-" + run, DB: "ev_" + run, Prefix: "ev" + run + "-"}
}

// PublisherID is the MQTT client id of publisher i.
func (n Names) PublisherID(i int) string { return fmt.Sprintf("%s-pub-%d", n.Group, i) }

// ProbeTopic is the MQTT topic of the probe messages that check the
// collector is subscribed; no device of the run has its id.
func (n Names) ProbeTopic() string { return ingest.ReadingsTopic(n.Prefix + "probe") }

// ClientIDs lists every MQTT client id of the run (collector lanes,
// publishers, probe), for dropping their sessions.
func (n Names) ClientIDs(lanes, publishers int) []string {
	ids := e2e.CollectorClientIDs(e2e.Names{Group: n.Group, CollectorLanes: lanes})
	for i := range publishers {
		ids = append(ids, n.PublisherID(i))
	}
	return append(ids, n.Group+"-probe")
}

// DeviceKey derives a device's Ed25519 key from its (run-prefixed) id:
// deterministic, and different in every run.
func DeviceKey(deviceID string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("sunproof/eval/pipeline/v1/" + deviceID))
	return ed25519.NewKeyFromSeed(seed[:])
}

// WithPrefix returns a copy of f whose device, site and label ids carry
// prefix. It simulates exactly the readings of f with the ids replaced:
// Fleet.Simulate takes ids from Fleet.Devices and everything else
// (weather, phases, faults) from the device index.
func WithPrefix(f *eval.Fleet, prefix string) *eval.Fleet {
	g := *f
	g.Devices = slices.Clone(f.Devices)
	for i := range g.Devices {
		g.Devices[i].ID = prefix + g.Devices[i].ID
		g.Devices[i].SiteID = prefix + g.Devices[i].SiteID
	}
	g.Labels = slices.Clone(f.Labels)
	for i := range g.Labels {
		g.Labels[i].DeviceID = prefix + g.Labels[i].DeviceID
	}
	return &g
}

// Counts account for every published reading.
type Counts struct {
	Published int // distinct readings published (QoS 1, PUBACKed by the broker)
	Stored    int // distinct (device, seq) points in InfluxDB
	// Rejected counts distinct readings in the rejects topic by reason
	// (collector reasons, or tsdb_rejected from the writer).
	Rejected map[string]int
	// Unparsed counts reject records without a decodable reading, other
	// than the probes.
	Unparsed int
	// Probes counts the probe messages the collector rejected (malformed)
	// before publishing started.
	Probes int
	// Strangers counts reject records of devices outside the run (other
	// publishers on the shared broker); they are not the run's readings.
	Strangers int
	// Collector holds the collector's sunproof_ingest_messages_total by
	// result (accepted, rejected, duplicate): redeliveries included.
	Collector map[string]int
	// Held is what the reject source held for merging when the scans ran.
	Held int
	// Mismatched lists devices whose stored + rejected differs from
	// published (at most 20).
	Mismatched []string
}

// RejectedTotal sums Rejected.
func (c Counts) RejectedTotal() int {
	n := 0
	for _, v := range c.Rejected {
		n += v
	}
	return n
}

// Accounted reports whether every published reading is stored or rejected
// and nothing else arrived.
func (c Counts) Accounted() bool {
	return c.Stored+c.RejectedTotal() == c.Published && c.Unparsed == 0 && len(c.Mismatched) == 0
}

// Result is one run's outcome.
type Result struct {
	Names    Names
	Counts   Counts
	Pipeline *eval.Report // scans over InfluxDB (+ merged rejects)
	InMemory *eval.Report // the same fleet's readings straight from the simulator
	// Unmerged is the evaluation from InfluxDB alone, without the rejects
	// merged back (nil when Config.Reasons is empty): what the detectors
	// would see without anomaly.RejectSource.
	Unmerged *eval.Report
	// Differences lists, per fault type and overall, where the two reports
	// disagree, and the alarms only one of them raised.
	Differences []string
	// Wall-clock phases: provisioning, simulating + signing + publishing
	// (until the last PUBACK), settling (until every reading is accounted
	// for), the pipeline evaluation, the in-memory evaluation, and the whole
	// run including clean-up.
	Provision, Publish, Settle, EvalPipeline, EvalMemory, EvalUnmerged, Total time.Duration
}

// Run registers f's devices under a run's names, runs the collector and
// the tsdb writer in-process against the stack, publishes every simulated
// reading signed with its device's key over MQTT, waits until each is
// stored or rejected, evaluates the detectors on what InfluxDB holds (plus
// the rejects merged back) and on the simulator's output, and compares.
// Unless cfg.Keep, it removes the run's topics, database and sessions.
func Run(ctx context.Context, cfg Config, f *eval.Fleet, log *slog.Logger) (res *Result, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("pipeline config: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	start := time.Now()
	run := cfg.RunID
	if run == "" {
		run = randomRunID()
	}
	names := NewNames(run)
	pf := WithPrefix(f, names.Prefix)
	log = log.With("run", run)
	res = &Result{Names: names}
	admin := influxql.New(influxql.Server{URL: cfg.InfluxURL}, nil)

	if err := influxExec(ctx, admin, "CREATE DATABASE "+names.DB); err != nil {
		return nil, err
	}
	defer func() {
		if cfg.Keep {
			log.Info("keeping the run's topics, database and sessions", "db", names.DB, "topics", []string{names.Readings, names.Rejects, names.Devices})
			return
		}
		cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if cerr := cleanup(cctx, cfg, names); cerr != nil {
			log.Warn("clean-up incomplete", "err", cerr)
		}
		res.Total = time.Since(start)
	}()
	if err := provision(ctx, cfg, names, pf); err != nil {
		return res, err
	}

	// Services.
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	g, gctx := errgroup.WithContext(sctx)
	metrics := prometheus.NewRegistry()
	reg, err := devices.NewRegistry(devices.Config{Brokers: cfg.Brokers, Topic: names.Devices}, log, nil)
	if err != nil {
		return res, err
	}
	g.Go(func() error { return reg.Run(gctx) })
	stopServices := func() error {
		stop()
		done := make(chan error, 1)
		go func() { done <- g.Wait() }()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			return errors.New("services did not stop within 30 s")
		}
	}
	defer func() { _ = stopServices() }()
	wctx, wcancel := context.WithTimeout(gctx, 2*time.Minute)
	err = reg.WaitReady(wctx)
	wcancel()
	if err != nil {
		return res, fmt.Errorf("registry: %w", err)
	}
	if n := len(reg.Devices()); n != len(pf.Devices) {
		return res, fmt.Errorf("registry holds %d devices, want %d", n, len(pf.Devices))
	}
	col, err := collector.New(collectorConfig(cfg, names), reg, log, metrics)
	if err != nil {
		return res, err
	}
	g.Go(func() error { return col.Run(gctx) })
	w, err := tsdbwriter.New(writerConfig(cfg, names), log, metrics)
	if err != nil {
		return res, err
	}
	g.Go(func() error { return w.Run(gctx) })
	var rejects *anomaly.RejectSource
	if len(cfg.Reasons) > 0 {
		rc := anomaly.DefaultRejectConfig()
		rc.Brokers, rc.Topic, rc.Reasons = cfg.Brokers, names.Rejects, cfg.Reasons
		rc.Lookback = anomaly.DefaultInfluxConfig().Lookback
		rc.Replay = 7 * 24 * time.Hour // everything of the run
		if rejects, err = anomaly.NewRejectSource(rc, reg, anomaly.RejectOptions{Log: log, Registerer: metrics}); err != nil {
			return res, err
		}
		g.Go(func() error { return rejects.Run(gctx) })
	}
	tal := newTally(names.ProbeTopic(), names.Prefix)
	g.Go(func() error { return tal.run(gctx, cfg.Brokers, names.Rejects) })
	if err := waitSubscribed(gctx, cfg, names, tal, time.Minute); err != nil {
		return res, servicesErr(g, gctx, err)
	}
	res.Provision = time.Since(start)

	// Simulate, sign, publish.
	t0 := time.Now()
	series, published, err := publishFleet(gctx, cfg, names, pf, log)
	if err != nil {
		return res, servicesErr(g, gctx, err)
	}
	res.Publish = time.Since(t0)
	res.Counts.Published = published
	log.Info("published", "readings", published, "elapsed", res.Publish.Round(time.Millisecond))

	// Settle.
	t0 = time.Now()
	perDevice := make(map[string]int, len(series))
	for _, s := range series {
		perDevice[s.Device.ID] = len(s.Samples)
	}
	counts, err := settle(gctx, cfg, names, perDevice, published, tal, metrics, log)
	res.Counts = counts
	res.Settle = time.Since(t0)
	if err != nil {
		return res, servicesErr(g, gctx, err)
	}
	if rejects != nil {
		wctx, wcancel := context.WithTimeout(gctx, time.Minute)
		err := rejects.WaitSynced(wctx)
		wcancel()
		if err != nil {
			return res, servicesErr(g, gctx, err)
		}
		res.Counts.Held = rejects.Len()
	}

	// Evaluate both ways.
	icfg := anomaly.DefaultInfluxConfig()
	icfg.URL, icfg.Database = cfg.InfluxURL, names.DB
	src, err := anomaly.NewSource(icfg, nil)
	if err != nil {
		return res, err
	}
	var loader anomaly.Loader = src
	if rejects != nil {
		loader = anomaly.WithRejects(src, rejects)
	}
	t0 = time.Now()
	res.Pipeline, err = eval.Evaluate(gctx, pf, eval.FromLoader(loader))
	res.EvalPipeline = time.Since(t0)
	if err != nil {
		return res, servicesErr(g, gctx, fmt.Errorf("evaluate from the pipeline: %w", err))
	}
	if rejects != nil {
		t0 = time.Now()
		res.Unmerged, err = eval.Evaluate(gctx, pf, eval.FromLoader(src))
		res.EvalUnmerged = time.Since(t0)
		if err != nil {
			return res, servicesErr(g, gctx, fmt.Errorf("evaluate from InfluxDB alone: %w", err))
		}
	}
	if err := stopServices(); err != nil {
		log.Warn("services stopped with an error", "err", err)
	}
	t0 = time.Now()
	res.InMemory, err = eval.Evaluate(ctx, pf, eval.MemoryLoader(series, icfg.Lookback))
	res.EvalMemory = time.Since(t0)
	if err != nil {
		return res, fmt.Errorf("evaluate in memory: %w", err)
	}
	res.Differences = Compare(res.Pipeline, res.InMemory)
	res.Total = time.Since(start)
	return res, nil
}

// servicesErr prefers the error of a service that failed (and so cancelled
// the group) over the error it caused downstream.
func servicesErr(g *errgroup.Group, gctx context.Context, err error) error {
	if gctx.Err() == nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- g.Wait() }()
	select {
	case gerr := <-done:
		if gerr != nil {
			return fmt.Errorf("%w (service: %w)", err, gerr)
		}
	case <-time.After(10 * time.Second):
	}
	return err
}

func collectorConfig(cfg Config, n Names) collector.Config {
	c := collector.DefaultConfig()
	c.MQTTURL, c.Brokers = cfg.MQTTURL, cfg.Brokers
	c.ClientID, c.ShareGroup, c.Lanes = n.Group+"-col", n.Group, cfg.CollectorLanes
	c.Topic, c.RejectTopic = n.Readings, n.Rejects
	return c
}

func writerConfig(cfg Config, n Names) tsdbwriter.Config {
	c := tsdbwriter.DefaultConfig()
	c.Brokers, c.Topic, c.RejectTopic, c.GroupID = cfg.Brokers, n.Readings, n.Rejects, n.Group+"-tsdb"
	c.InfluxURL, c.Bucket = cfg.InfluxURL, n.DB
	c.BatchLinger = 50 * time.Millisecond
	return c
}

// provision creates the run's topics and registers every device of f with
// its key.
func provision(ctx context.Context, cfg Config, n Names, f *eval.Fleet) error {
	if err := devices.EnsureTopic(ctx, cfg.Brokers, n.Devices); err != nil {
		return err
	}
	c := collector.DefaultConfig()
	if err := kafkatopic.Ensure(ctx, cfg.Brokers, kafkatopic.Spec{Name: n.Readings, Partitions: c.Partitions},
		kafkatopic.Spec{Name: n.Rejects, Partitions: 1}); err != nil {
		return err
	}
	pub := devices.NewPublisher(cfg.Brokers, n.Devices)
	defer pub.Close()
	now := time.Now().UTC()
	recs := make([]devices.Record, 0, len(f.Devices))
	for _, d := range f.Devices {
		d.PublicKey = DeviceKey(d.ID).Public().(ed25519.PublicKey)
		d.Installer, d.Status, d.CreatedAt, d.UpdatedAt = "sunproof eval -pipeline", devices.StatusActive, now, now
		recs = append(recs, devices.DeviceRecord(d))
	}
	for len(recs) > 0 {
		k := min(len(recs), 500)
		if err := pub.Put(ctx, recs[:k]...); err != nil {
			return err
		}
		recs = recs[k:]
	}
	return nil
}

// cleanup drops the run's MQTT sessions, Kafka topics and database.
func cleanup(ctx context.Context, cfg Config, n Names) error {
	e2e.DropSessions(cfg.MQTTURL, n.ClientIDs(cfg.CollectorLanes, cfg.Publishers)...)
	var errs []error
	c := &kafka.Client{Addr: kafka.TCP(cfg.Brokers...), Timeout: 30 * time.Second}
	topics := []string{n.Readings, n.Rejects, n.Devices}
	resp, err := c.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: topics})
	if err != nil {
		errs = append(errs, fmt.Errorf("delete topics: %w", err))
	} else {
		for topic, err := range resp.Errors {
			if err != nil && !errors.Is(err, kafka.UnknownTopicOrPartition) {
				errs = append(errs, fmt.Errorf("delete topic %s: %w", topic, err))
			}
		}
		// Deletion completes asynchronously: wait until metadata agrees.
		for left := topics; len(left) > 0; {
			md, err := c.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
			if err != nil {
				errs = append(errs, fmt.Errorf("topics after deletion: %w", err))
				break
			}
			left = left[:0:0]
			for _, t := range md.Topics {
				if t.Error == nil {
					left = append(left, t.Name)
				}
			}
			if len(left) == 0 {
				break
			}
			select {
			case <-ctx.Done():
				errs = append(errs, fmt.Errorf("topics %v still listed: %w", left, ctx.Err()))
				left = nil
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	if resp, err := c.DeleteGroups(ctx, &kafka.DeleteGroupsRequest{GroupIDs: []string{n.Group + "-tsdb"}}); err != nil {
		errs = append(errs, fmt.Errorf("delete consumer group: %w", err))
	} else {
		for g, err := range resp.Errors {
			if err != nil && !errors.Is(err, kafka.GroupIdNotFound) {
				errs = append(errs, fmt.Errorf("delete consumer group %s: %w", g, err))
			}
		}
	}
	if err := influxExec(ctx, influxql.New(influxql.Server{URL: cfg.InfluxURL}, nil), "DROP DATABASE "+n.DB); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func influxExec(ctx context.Context, c *influxql.Client, q string) error {
	body, err := c.Query(ctx, q, 0)
	if err != nil {
		return fmt.Errorf("%s: %w", q, err)
	}
	defer body.Close()
	b, err := io.ReadAll(body)
	if err != nil {
		return fmt.Errorf("%s: %w", q, err)
	}
	if strings.Contains(string(b), `"error"`) {
		return fmt.Errorf("%s: %s", q, b)
	}
	return nil
}

// Compare lists where two reports differ: per fault type (faults,
// detected, TP and FP alerts), points, false alarms, collateral alarms and
// flags, and the alarms (device, type, span) raised by only one of them.
func Compare(got, want *eval.Report) []string {
	var out []string
	for _, t := range eval.FaultTypes {
		g, w := got.PerType[t], want.PerType[t]
		if g.Faults != w.Faults || g.Detected != w.Detected || g.TruePositive != w.TruePositive || g.FalsePositive != w.FalsePositive {
			out = append(out, fmt.Sprintf("%s: faults/detected/TP/FP %d/%d/%d/%d through the pipeline, %d/%d/%d/%d in memory",
				t, g.Faults, g.Detected, g.TruePositive, g.FalsePositive, w.Faults, w.Detected, w.TruePositive, w.FalsePositive))
		}
	}
	if got.Points != want.Points {
		out = append(out, fmt.Sprintf("points scanned: %d through the pipeline, %d in memory", got.Points, want.Points))
	}
	if got.FalseAlarms != want.FalseAlarms || got.Collateral != want.Collateral {
		out = append(out, fmt.Sprintf("false alarms %d vs %d, collateral %d vs %d", got.FalseAlarms, want.FalseAlarms, got.Collateral, want.Collateral))
	}
	flags := map[string]bool{}
	for k := range got.Flags {
		flags[k] = true
	}
	for k := range want.Flags {
		flags[k] = true
	}
	for _, k := range sortedKeys(flags) {
		if got.Flags[k] != want.Flags[k] {
			out = append(out, fmt.Sprintf("%s flags: %d vs %d", k, got.Flags[k], want.Flags[k]))
		}
	}
	key := func(a *anomaly.Alert) string {
		return fmt.Sprintf("%s %s %s %s–%s UTC", a.DeviceID, a.Type, a.Severity, a.Span.From.UTC().Format("01-02 15:04"), a.Span.To.UTC().Format("01-02 15:04"))
	}
	count := func(as []anomaly.Alert) map[string]int {
		m := map[string]int{}
		for i := range as {
			m[key(&as[i])]++
		}
		return m
	}
	g, w := count(got.Alarms), count(want.Alarms)
	for _, k := range sortedKeys(g) {
		if g[k] > w[k] {
			out = append(out, "alarm only through the pipeline: "+k)
		}
	}
	for _, k := range sortedKeys(w) {
		if w[k] > g[k] {
			out = append(out, "alarm only in memory: "+k)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// WriteText prints the pipeline counts, the pipeline's report and the
// comparison with the in-memory evaluation.
func (r *Result) WriteText(w io.Writer) {
	c := r.Counts
	fmt.Fprintf(w, "pipeline run %s: MQTT → collector → Kafka → tsdb writer → InfluxDB (+ rejects merged back: %d held)\n", r.Names.Run, c.Held)
	rate := 0.0
	if s := (r.Publish + r.Settle).Seconds(); s > 0 {
		rate = float64(c.Published) / s
	}
	fmt.Fprintf(w, "published %d readings, stored %d, rejected %d (%s), unaccounted %d; %.0f readings/s end to end\n",
		c.Published, c.Stored, c.RejectedTotal(), formatCounts(c.Rejected), c.Published-c.Stored-c.RejectedTotal(), rate)
	if len(c.Collector) > 0 {
		fmt.Fprintf(w, "collector messages: %s (rejected includes %d subscription probe(s) and %d message(s) of other publishers on the broker)\n", formatCounts(c.Collector), c.Probes, c.Strangers)
	}
	unmerged := ""
	if r.Unmerged != nil {
		unmerged = fmt.Sprintf(" (without the rejects %s)", r.EvalUnmerged.Round(time.Millisecond))
	}
	fmt.Fprintf(w, "time: provision %s, simulate+sign+publish %s, settle %s, evaluate pipeline %s%s, in memory %s, total %s\n",
		r.Provision.Round(time.Millisecond), r.Publish.Round(time.Millisecond), r.Settle.Round(time.Millisecond),
		r.EvalPipeline.Round(time.Millisecond), unmerged, r.EvalMemory.Round(time.Millisecond), r.Total.Round(time.Millisecond))
	if r.Pipeline != nil {
		r.Pipeline.WriteText(w)
	}
	if r.Unmerged != nil {
		if d := Compare(r.Unmerged, r.Pipeline); len(d) == 0 {
			fmt.Fprintln(w, "from InfluxDB alone (no rejects merged back): the same")
		} else {
			fmt.Fprintf(w, "from InfluxDB alone (no rejects merged back), per fault type:\n")
			for _, t := range eval.FaultTypes {
				g, m := r.Unmerged.PerType[t], r.Pipeline.PerType[t]
				if g.Detected != m.Detected || g.TruePositive != m.TruePositive || g.FalsePositive != m.FalsePositive {
					fmt.Fprintf(w, "  %s: detected %d of %d, TP %d, FP %d, F1 %.3f (merged: detected %d, TP %d, FP %d, F1 %.3f)\n",
						t, g.Detected, g.Faults, g.TruePositive, g.FalsePositive, g.F1, m.Detected, m.TruePositive, m.FalsePositive, m.F1)
				}
			}
			fmt.Fprintf(w, "  false alarms %d (%.2f per 1,000 healthy device-days), collateral %d\n", r.Unmerged.FalseAlarms, r.Unmerged.FalseAlarmsPer1k, r.Unmerged.Collateral)
		}
	}
	if r.InMemory == nil {
		return
	}
	if len(r.Differences) == 0 {
		fmt.Fprintln(w, "in-memory evaluation of the same fleet: identical (per fault type, points, false alarms, flags, every alarm)")
		return
	}
	fmt.Fprintf(w, "in-memory evaluation of the same fleet differs (%d):\n", len(r.Differences))
	for _, d := range r.Differences {
		fmt.Fprintln(w, "  "+d)
	}
}

func formatCounts(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// randomRunID returns 8 random hex digits.
func randomRunID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
