package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/sunproof/sunproof/anchor"
	"github.com/sunproof/sunproof/anomaly"
	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/ingest"
	"github.com/sunproof/sunproof/ingest/reading"
	"github.com/sunproof/sunproof/internal/kafkatopic"
	"github.com/sunproof/sunproof/internal/service"
)

// analyzeOptions are the settings of `sunproof analyze`.
type analyzeOptions struct {
	influx, db    string
	sched         anomaly.AnalyzerConfig
	brokers       string
	alertsTopic   string
	partitions    int
	webhooks      []string
	secretFile    string
	proofStore    string
	metricsAddr   string
	logFormat     string
	devicesTopic  string
	once          bool
	end           string
	explicitStore bool
	rejectsTopic  string
	mergeRejects  string
}

func (o *analyzeOptions) register(fs *flag.FlagSet) {
	o.sched = anomaly.DefaultAnalyzerConfig()
	fs.StringVar(&o.influx, "influx", env("SUNPROOF_INFLUX_URL", "http://127.0.0.1:8086"), "InfluxDB URL (env SUNPROOF_INFLUX_URL)")
	fs.StringVar(&o.db, "db", env("SUNPROOF_INFLUX_DB", "sunproof"), "InfluxDB database holding the readings; alerts go to its \"alert\" measurement, day summaries for the multi-day judgements to \"device_day\" (env SUNPROOF_INFLUX_DB)")
	fs.DurationVar(&o.sched.Every, "interval", o.sched.Every, "scan period; scans end on multiples of it")
	fs.DurationVar(&o.sched.Window, "lookback", o.sched.Window, "each scan covers this much time before its end")
	fs.DurationVar(&o.sched.Delay, "delay", o.sched.Delay, "scan end lags the clock by this, for late readings")
	fs.StringVar(&o.brokers, "kafka", env("SUNPROOF_KAFKA_BROKERS", "127.0.0.1:9092"), "Kafka brokers, comma-separated, for the registry and alerts (env SUNPROOF_KAFKA_BROKERS)")
	fs.StringVar(&o.alertsTopic, "alerts-topic", anomaly.AlertsTopic, "Kafka topic for alert transitions; empty: do not publish")
	fs.IntVar(&o.partitions, "alerts-partitions", 3, "partitions of the alerts topic when creating it")
	fs.StringVar(&o.devicesTopic, "devices-topic", devices.DefaultTopic, "compacted registry topic")
	fs.Func("webhook", "POST signed alert transitions to this URL (repeatable)", func(s string) error {
		o.webhooks = append(o.webhooks, s)
		return nil
	})
	fs.StringVar(&o.secretFile, "webhook-secret-file", env("SUNPROOF_WEBHOOK_SECRET_FILE", ""), "file holding the webhooks' HMAC secret (env SUNPROOF_WEBHOOK_SECRET_FILE)")
	fs.StringVar(&o.proofStore, "proof-store", defaultStoreDir(), "proof store directory, read-only, for the alerts' anchoring state; empty: leave it unknown (env SUNPROOF_PROOF_STORE)")
	fs.StringVar(&o.metricsAddr, "metrics-addr", "127.0.0.1:9474", "serve /metrics here; empty to disable")
	fs.StringVar(&o.logFormat, "log-format", "text", "text or json")
	fs.BoolVar(&o.once, "once", false, "run one scan and exit")
	fs.StringVar(&o.end, "end", "", "with -once: the scan's end (RFC 3339; default: now − delay, truncated to -interval)")
	fs.StringVar(&o.rejectsTopic, "rejects-topic", ingest.TopicRejects, "Kafka topic of the collector's rejects, read back for -merge-rejects")
	fs.StringVar(&o.mergeRejects, "merge-rejects", "counter_regression,implausible", "reject reasons whose authentic (registry-key-signed) readings are merged into the scans: a counter reset's later readings, power above the rating; \"none\" scans InfluxDB alone")
}

// rejectSource reads back the collector's rejects so that the scans see
// authentic readings the collector refused (a counter reset and everything
// after it, power above the rating); nil with -merge-rejects none. It
// replays far enough back to cover the first scan's window.
func (o *analyzeOptions) rejectSource(ctx context.Context, devs anomaly.DeviceLookup, end time.Time, log *slog.Logger, reg prometheus.Registerer) (*anomaly.RejectSource, error) {
	if o.mergeRejects == "" || o.mergeRejects == "none" {
		return nil, nil
	}
	rc := anomaly.DefaultRejectConfig()
	rc.Brokers, rc.Topic, rc.Lookback = splitList(o.brokers), o.rejectsTopic, anomaly.DefaultInfluxConfig().Lookback
	rc.Reasons = nil
	for _, r := range splitList(o.mergeRejects) {
		rc.Reasons = append(rc.Reasons, reading.Reason(r))
	}
	reach := o.sched.Window + rc.Lookback + o.sched.Delay + o.sched.Every
	if !end.IsZero() {
		reach += time.Since(end)
	}
	rc.Replay = max(rc.Replay, reach)
	// The collector creates the topic with this spec; creating it here too
	// lets the replay finish at once on a stack where nothing was rejected yet.
	spec := kafkatopic.Spec{Name: o.rejectsTopic, Partitions: 1, Config: map[string]string{"retention.ms": fmt.Sprint((90 * 24 * time.Hour).Milliseconds())}}
	if err := kafkatopic.Ensure(ctx, rc.Brokers, spec); err != nil {
		return nil, fmt.Errorf("rejects topic: %w", err)
	}
	return anomaly.NewRejectSource(rc, devs, anomaly.RejectOptions{Log: log, Registerer: reg})
}

// readSecret reads an HMAC secret file; surrounding white space is not part
// of the secret.
func readSecret(path string) ([]byte, error) {
	if path == "" {
		return nil, errors.New("-webhook needs -webhook-secret-file")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("webhook secret: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if len(s) < 16 {
		return nil, fmt.Errorf("webhook secret in %s is %d bytes: use at least 16", path, len(s))
	}
	return []byte(s), nil
}

// analyzeMetrics are the Prometheus metrics of the analyzer.
type analyzeMetrics struct {
	scans    *prometheus.CounterVec
	duration prometheus.Histogram
	changed  *prometheus.CounterVec
	open     prometheus.Gauge
	last     prometheus.Gauge
	notify   *prometheus.CounterVec
}

func newAnalyzeMetrics(reg prometheus.Registerer) *analyzeMetrics {
	m := &analyzeMetrics{
		scans: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sunproof_analyze_scans_total", Help: "Scans by result (ok, error)."}, []string{"result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sunproof_analyze_scan_seconds", Help: "Duration of a scan: load, scan, store, notify.",
			Buckets: prometheus.ExponentialBuckets(0.1, 2, 10)}),
		changed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sunproof_analyze_alert_transitions_total", Help: "Alerts changed by scans, by new state."}, []string{"state"}),
		open:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "sunproof_analyze_open_alerts", Help: "Open alerts after the last scan."}),
		last:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "sunproof_analyze_last_success_timestamp_seconds", Help: "End of the last successful scan."}),
		notify:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sunproof_analyze_notify_errors_total", Help: "Failed notifications by sink."}, []string{"sink"}),
	}
	if reg != nil {
		reg.MustRegister(m.scans, m.duration, m.changed, m.open, m.last, m.notify)
	}
	return m
}

// countingNotifier counts a sink's failures.
func countingNotifier(n anomaly.Notifier, sink string, m *analyzeMetrics) anomaly.Notifier {
	return anomaly.NotifierFunc(func(ctx context.Context, changed []anomaly.Alert) error {
		err := n.Notify(ctx, changed)
		if err != nil {
			m.notify.WithLabelValues(sink).Inc()
		}
		return err
	})
}

// openProofIndex opens the proof store read-only for Anchored lookups. A
// missing default store is not an error: anchoring stays unknown.
func openProofIndex(dir string, explicit bool, log *slog.Logger) (anomaly.AnchorIndex, error) {
	if dir == "" {
		return nil, nil
	}
	if _, err := os.Stat(filepath.Join(dir, "STORE")); errors.Is(err, fs.ErrNotExist) && !explicit {
		log.Warn("no proof store: alerts' anchoring state stays unknown", "dir", dir)
		return nil, nil
	}
	st, err := anchor.OpenStore(dir, anchor.StoreOptions{ReadOnly: true, Logger: log})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// analyzer is an assembled anomaly.Analyzer with what it must release.
type analyzer struct {
	*anomaly.Analyzer
	metrics *analyzeMetrics
	closers []io.Closer
}

func (a *analyzer) Close() error {
	var errs []error
	for _, c := range a.closers {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// newAnalyzer wires loader, alert store (InfluxDB), tracker (resumed from
// the store's open alerts), history of day summaries (resumed from
// InfluxDB), anchoring checker and notifiers.
func newAnalyzer(ctx context.Context, o *analyzeOptions, fleet anomaly.Fleet, index anomaly.AnchorIndex, log *slog.Logger, reg prometheus.Registerer) (*analyzer, error) {
	if err := o.sched.Validate(); err != nil {
		return nil, err
	}
	icfg := anomaly.DefaultInfluxConfig()
	icfg.URL, icfg.Database = o.influx, o.db
	src, err := anomaly.NewSource(icfg, nil)
	if err != nil {
		return nil, err
	}
	store, err := anomaly.NewInfluxStore(icfg, nil)
	if err != nil {
		return nil, err
	}
	open, err := store.Open(ctx)
	if err != nil {
		return nil, fmt.Errorf("read open alerts: %w", err)
	}
	tr, err := anomaly.NewTracker(anomaly.DefaultTrackerConfig(), open)
	if err != nil {
		return nil, err
	}
	sc, err := anomaly.NewScanner(anomaly.DefaultConfig())
	if err != nil {
		return nil, err
	}
	// The multi-day judgements resume from the day summaries in InfluxDB.
	dcfg := anomaly.DefaultDayStoreConfig()
	dcfg.InfluxConfig = icfg
	days, err := anomaly.NewInfluxDayStore(dcfg, nil)
	if err != nil {
		return nil, err
	}
	hist, err := anomaly.LoadHistory(ctx, days, sc.Config().Trend.Days, time.Now())
	if err != nil {
		return nil, err
	}
	m := newAnalyzeMetrics(reg)
	a := &analyzer{metrics: m, Analyzer: &anomaly.Analyzer{
		Config: o.sched, Scanner: sc, Tracker: tr, Source: src, Fleet: fleet, Store: store, History: hist, Days: days, Log: log,
	}}
	if index != nil {
		a.Anchors = &anomaly.IndexChecker{Index: index, Seqs: anomaly.LoaderSeqs(src)}
	}
	if o.alertsTopic != "" {
		brokers := splitList(o.brokers)
		if err := kafkatopic.Ensure(ctx, brokers, kafkatopic.Spec{Name: o.alertsTopic, Partitions: o.partitions}); err != nil {
			return nil, err
		}
		w := anomaly.NewKafkaWriter(brokers, o.alertsTopic)
		a.closers = append(a.closers, w)
		a.Notifiers = append(a.Notifiers, countingNotifier(&anomaly.KafkaNotifier{W: w}, "kafka", m))
	}
	if len(o.webhooks) > 0 {
		secret, err := readSecret(o.secretFile)
		if err != nil {
			a.Close()
			return nil, err
		}
		for _, u := range o.webhooks {
			n, err := anomaly.NewWebhookNotifier(anomaly.DefaultWebhookConfig(u, secret), nil)
			if err != nil {
				a.Close()
				return nil, err
			}
			a.Notifiers = append(a.Notifiers, countingNotifier(n, "webhook", m))
		}
	}
	histDevices, histDays := hist.Len()
	log.Info("analyzer ready", "influx", o.influx, "db", o.db, "open_alerts", len(open), "anchoring", index != nil,
		"history_devices", histDevices, "history_days", histDays,
		"alerts_topic", o.alertsTopic, "webhooks", len(o.webhooks), "every", o.sched.Every, "window", o.sched.Window)
	return a, nil
}

// scan runs one scan ending at end and records its metrics.
func (a *analyzer) scan(ctx context.Context, end time.Time) ([]anomaly.Alert, error) {
	start := time.Now()
	_, changed, err := a.ScanOnce(ctx, end.Add(-a.Config.Window), end)
	a.metrics.duration.Observe(time.Since(start).Seconds())
	for _, c := range changed {
		a.metrics.changed.WithLabelValues(string(c.State)).Inc()
	}
	a.metrics.open.Set(float64(len(a.Tracker.Open())))
	if err != nil {
		a.metrics.scans.WithLabelValues("error").Inc()
		return changed, err
	}
	a.metrics.scans.WithLabelValues("ok").Inc()
	a.metrics.last.Set(float64(end.Unix()))
	return changed, nil
}

// scanEnd is the end of the scan due at now.
func (a *analyzer) scanEnd(now time.Time) time.Time {
	return now.Add(-a.Config.Delay).Truncate(a.Config.Every)
}

// run scans on the schedule of anomaly.Analyzer.Run, with metrics, until
// ctx ends.
func (a *analyzer) run(ctx context.Context) error {
	for {
		end := a.scanEnd(time.Now())
		if _, err := a.scan(ctx, end); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			a.Log.Error("scan failed", "end", end, "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Until(end.Add(a.Config.Every + a.Config.Delay))):
		}
	}
}

func runAnalyze(args []string) error {
	fs := flag.NewFlagSet("analyze", flag.ExitOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: sunproof analyze [flags]\n\nScans the fleet's readings in InfluxDB for faults on a schedule; alert transitions go to\nInfluxDB (measurement alert), Kafka (-alerts-topic) and signed webhooks (docs/formats/alerts.md).\n\nflags:")
		fs.PrintDefaults()
	}
	var o analyzeOptions
	o.register(fs)
	_ = fs.Parse(args)
	fs.Visit(func(f *flag.Flag) { o.explicitStore = o.explicitStore || f.Name == "proof-store" })
	var end time.Time
	if o.end != "" {
		if !o.once {
			return errors.New("-end needs -once")
		}
		var err error
		if end, err = time.Parse(time.RFC3339, o.end); err != nil {
			return fmt.Errorf("-end: %w", err)
		}
	}
	log := service.Logger(o.logFormat)
	reg := service.NewRegistry()
	ctx, stop := service.SignalContext()
	defer stop()

	devs, err := devices.NewRegistry(devices.Config{Brokers: splitList(o.brokers), Topic: o.devicesTopic}, log, reg)
	if err != nil {
		return err
	}
	if err := devices.EnsureTopic(ctx, splitList(o.brokers), o.devicesTopic); err != nil {
		return err
	}
	index, err := openProofIndex(o.proofStore, o.explicitStore, log)
	if err != nil {
		return err
	}
	rejects, err := o.rejectSource(ctx, devs, end, log, reg)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	rctx, rcancel := context.WithCancel(gctx)
	defer rcancel()
	g.Go(func() error { return devs.Run(rctx) })
	if !o.once {
		g.Go(func() error { return service.ServeMetrics(gctx, o.metricsAddr, reg, log) })
	}
	g.Go(func() error {
		defer rcancel()
		wctx, cancel := context.WithTimeout(gctx, 2*time.Minute)
		defer cancel()
		if err := devs.WaitReady(wctx); err != nil {
			return fmt.Errorf("device registry not ready: %w", err)
		}
		if rejects != nil { // after the registry: it checks signatures with its keys
			g.Go(func() error { return rejects.Run(rctx) })
			if err := rejects.WaitSynced(wctx); err != nil {
				return fmt.Errorf("rejects replay: %w", err)
			}
		}
		a, err := newAnalyzer(gctx, &o, devs, index, log, reg)
		if err != nil {
			return err
		}
		defer a.Close()
		if rejects != nil { // scans only: anchoring checks keep using InfluxDB alone
			a.Source = anomaly.WithRejects(a.Source, rejects)
		}
		if !o.once {
			return a.run(gctx)
		}
		if end.IsZero() {
			end = a.scanEnd(time.Now())
		}
		changed, err := a.scan(gctx, end)
		for _, c := range changed {
			fmt.Printf("%s\t%s\t%s\t%s..%s\t%s\t%s\n", c.ID, c.State, c.Severity, c.Span.From.Format(time.RFC3339), c.Span.To.Format(time.RFC3339), c.Anchored, c.Summary)
		}
		return err
	})
	return g.Wait()
}
