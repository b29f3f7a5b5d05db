package tsdbwriter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	"github.com/influxdata/influxdb-client-go/v2/api"
	influxhttp "github.com/influxdata/influxdb-client-go/v2/api/http"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/sunproof/sunproof/ingest"
	"github.com/sunproof/sunproof/ingest/reading"
)

// Measurement is the InfluxDB measurement readings are written to.
const Measurement = "reading"

// Config configures the writer.
type Config struct {
	Brokers     []string      `yaml:"kafka_brokers"`
	Topic       string        `yaml:"readings_topic"`
	RejectTopic string        `yaml:"rejects_topic"`
	GroupID     string        `yaml:"group_id"`
	InfluxURL   string        `yaml:"influx_url"`
	Token       string        `yaml:"influx_token"` // "" without auth, "user:pass" for 1.8 with auth
	Org         string        `yaml:"influx_org"`
	Bucket      string        `yaml:"influx_bucket"` // "db" or "db/rp" on 1.8
	BatchSize   int           `yaml:"batch_size"`
	BatchLinger time.Duration `yaml:"batch_linger"`
	RetryMax    time.Duration `yaml:"retry_max"`
}

// DefaultConfig returns the local-stack configuration.
func DefaultConfig() Config {
	return Config{
		Brokers: []string{"127.0.0.1:9092"}, Topic: ingest.TopicReadings, RejectTopic: ingest.TopicRejects,
		GroupID: "sunproof-tsdb", InfluxURL: "http://127.0.0.1:8086", Bucket: "sunproof",
		BatchSize: 5000, BatchLinger: 200 * time.Millisecond, RetryMax: 10 * time.Second,
	}
}

// Validate reports configuration errors.
func (c Config) Validate() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("kafka_brokers is empty"))
	}
	if c.Topic == "" || c.RejectTopic == "" || c.GroupID == "" {
		errs = append(errs, errors.New("readings_topic, rejects_topic and group_id must be set"))
	}
	if c.InfluxURL == "" || c.Bucket == "" {
		errs = append(errs, errors.New("influx_url and influx_bucket must be set"))
	}
	if c.BatchSize < 1 || c.BatchLinger <= 0 || c.RetryMax <= 0 {
		errs = append(errs, fmt.Errorf("batch_size %d, batch_linger %s, retry_max %s: all must be positive", c.BatchSize, c.BatchLinger, c.RetryMax))
	}
	return errors.Join(errs...)
}

// lineWriter is what the writer needs of InfluxDB.
type lineWriter interface {
	WriteRecord(ctx context.Context, line ...string) error
}

// fetcher is what the writer needs of a Kafka consumer group member.
type fetcher interface {
	FetchMessage(ctx context.Context) (kafka.Message, error)
	CommitMessages(ctx context.Context, msgs ...kafka.Message) error
}

type producer interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
}

// Writer is the Kafka → InfluxDB service.
type Writer struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics
}

// New returns a writer; reg may be nil.
func New(cfg Config, log *slog.Logger, reg prometheus.Registerer) (*Writer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("tsdb writer config: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Writer{cfg: cfg, log: log.With("component", "tsdb-writer"), metrics: newMetrics(reg)}, nil
}

// Run consumes until ctx is cancelled.
func (w *Writer) Run(ctx context.Context) error {
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: w.cfg.Brokers, GroupID: w.cfg.GroupID, Topic: w.cfg.Topic,
		StartOffset: kafka.FirstOffset, MinBytes: 1, MaxBytes: 16 << 20, MaxWait: 250 * time.Millisecond,
		QueueCapacity: 2 * w.cfg.BatchSize, CommitInterval: 0, // synchronous commits, after InfluxDB accepted
	})
	defer r.Close()
	client := influxdb2.NewClientWithOptions(w.cfg.InfluxURL, w.cfg.Token,
		influxdb2.DefaultOptions().SetHTTPRequestTimeout(30).SetPrecision(time.Nanosecond))
	defer client.Close()
	rejects := &kafka.Writer{Addr: kafka.TCP(w.cfg.Brokers...), Topic: w.cfg.RejectTopic,
		RequiredAcks: kafka.RequireAll, Balancer: &kafka.Murmur2Balancer{}}
	defer rejects.Close()
	return w.run(ctx, r, client.WriteAPIBlocking(w.cfg.Org, w.cfg.Bucket), rejects)
}

func (w *Writer) run(ctx context.Context, r fetcher, db lineWriter, rejects producer) error {
	batch := make([]kafka.Message, 0, w.cfg.BatchSize)
	for {
		batch = batch[:0]
		m, err := r.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("fetch from %s: %w", w.cfg.Topic, err)
		}
		batch = append(batch, m)
		lctx, cancel := context.WithTimeout(ctx, w.cfg.BatchLinger)
		for len(batch) < w.cfg.BatchSize {
			m, err := r.FetchMessage(lctx)
			if err != nil {
				break
			}
			batch = append(batch, m)
		}
		cancel()
		if err := w.flush(ctx, batch, db, rejects); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if err := r.CommitMessages(ctx, batch...); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("commit offsets: %w", err)
		}
	}
}

// flush writes a batch, retrying transient errors and isolating points
// InfluxDB refuses permanently.
func (w *Writer) flush(ctx context.Context, batch []kafka.Message, db lineWriter, rejects producer) error {
	lines := make([]string, 0, len(batch))
	idx := make([]int, 0, len(batch))
	var bad []kafka.Message
	var buf []byte
	for i, m := range batch {
		rd, err := reading.Decode(m.Value)
		if err != nil {
			bad = append(bad, w.reject(m, m.Value, "tsdb_rejected", "undecodable record in readings topic: "+err.Error()))
			continue
		}
		buf = AppendLine(buf[:0], &rd)
		lines = append(lines, string(buf))
		idx = append(idx, i)
	}
	err := w.write(ctx, db, lines)
	if isPermanent(err) {
		w.log.Warn("influxdb refused a batch; isolating points", "err", err, "points", len(lines))
		for j, line := range lines {
			if err := w.write(ctx, db, []string{line}); isPermanent(err) {
				m := batch[idx[j]]
				bad = append(bad, w.reject(m, m.Value, "tsdb_rejected", err.Error()))
			} else if err != nil {
				return err
			}
		}
	} else if err != nil {
		return err
	}
	if len(bad) > 0 {
		w.metrics.rejects.Add(float64(len(bad)))
		if err := rejects.WriteMessages(ctx, bad...); err != nil {
			return fmt.Errorf("report %d rejected points: %w", len(bad), err)
		}
	}
	w.metrics.points.Add(float64(len(lines) - len(bad)))
	return nil
}

// write retries transient errors until ctx ends; permanent errors return at once.
func (w *Writer) write(ctx context.Context, db lineWriter, lines []string) error {
	if len(lines) == 0 {
		return nil
	}
	backoff := 100 * time.Millisecond
	for {
		start := time.Now()
		err := db.WriteRecord(ctx, lines...)
		w.metrics.writeSeconds.Observe(time.Since(start).Seconds())
		if err == nil {
			return nil
		}
		if isPermanent(err) {
			w.metrics.writeErrors.WithLabelValues("permanent").Inc()
			return err
		}
		w.metrics.writeErrors.WithLabelValues("transient").Inc()
		w.log.Warn("influxdb write failed; retrying", "err", err, "points", len(lines), "backoff", backoff)
		select {
		case <-ctx.Done():
			return fmt.Errorf("write %d points: %w", len(lines), ctx.Err())
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, w.cfg.RetryMax)
	}
}

// permanentError marks errors that retrying cannot fix.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

func isPermanent(err error) bool {
	if err == nil {
		return false
	}
	var pe permanentError
	if errors.As(err, &pe) {
		return true
	}
	var he *influxhttp.Error
	if errors.As(err, &he) {
		return he.StatusCode >= 400 && he.StatusCode < 500 && he.StatusCode != 429 && he.StatusCode != 408
	}
	return false
}

func (w *Writer) reject(m kafka.Message, payload []byte, reason, detail string) kafka.Message {
	rec := ingest.RejectRecord{Reason: reason, Detail: detail, Stage: "tsdb-writer", ReceivedAt: m.Time.UTC(), Payload: payload}
	if rd, err := reading.Decode(payload); err == nil {
		v := rd.View()
		rec.Reading = &v
	}
	b, _ := json.Marshal(rec)
	return kafka.Message{Key: m.Key, Value: b}
}

// AppendLine appends r's InfluxDB line protocol (no trailing newline).
func AppendLine(b []byte, r *reading.Reading) []byte {
	b = append(b, Measurement...)
	b = append(b, ",device_id="...)
	b = append(b, r.DeviceID...) // ids are [A-Za-z0-9._-]: nothing to escape
	b = append(b, ",site_id="...)
	b = append(b, r.SiteID...)
	b = append(b, " seq="...)
	b = strconv.AppendUint(b, r.Seq, 10)
	b = append(b, "i,energy_wh="...)
	b = strconv.AppendUint(b, r.EnergyWh, 10)
	b = append(b, "i,state="...)
	b = strconv.AppendUint(b, uint64(r.State), 10)
	b = append(b, "i,events="...)
	b = strconv.AppendUint(b, uint64(r.Events), 10)
	b = append(b, 'i')
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"ac_power_w", r.ACPowerW}, {"ac_voltage_v", r.ACVoltageV}, {"frequency_hz", r.FrequencyHz},
		{"power_factor", r.PowerFactor}, {"dc_voltage_v", r.DCVoltageV}, {"dc_current_a", r.DCCurrentA},
		{"dc_power_w", r.DCPowerW}, {"temp_c", r.TempC},
	} {
		b = append(b, ',')
		b = append(b, f.name...)
		b = append(b, '=')
		b = strconv.AppendFloat(b, f.v, 'g', -1, 64)
	}
	b = append(b, ' ')
	return strconv.AppendInt(b, PointTime(r), 10)
}

// PointTime is the InfluxDB timestamp (ns) of a reading: unique per (device, seq).
func PointTime(r *reading.Reading) int64 {
	return r.TimeMS*1_000_000 + int64(r.Seq%1_000_000)
}

var _ lineWriter = (api.WriteAPIBlocking)(nil)
