package anomaly

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sunproof/sunproof/internal/influxql"
)

// DayStore persists DaySummaries so that a History survives a restart
// (LoadHistory). Save upserts by (device, Date); Load returns the summaries
// dated at or after since.
type DayStore interface {
	Save(ctx context.Context, days []DaySummary) error
	Load(ctx context.Context, since time.Time) ([]DaySummary, error)
}

// DayStoreConfig locates the day summaries in InfluxDB: the database and
// server of InfluxConfig, their own measurement.
type DayStoreConfig struct {
	InfluxConfig `yaml:",inline"`
	Measurement  string `yaml:"day_measurement"` // device_day
	BatchSize    int    `yaml:"day_batch_size"`  // lines per write (5000)
}

// DefaultDayStoreConfig returns the local stack's settings.
func DefaultDayStoreConfig() DayStoreConfig {
	return DayStoreConfig{InfluxConfig: DefaultInfluxConfig(), Measurement: "device_day", BatchSize: 5000}
}

// Validate checks the configuration.
func (c DayStoreConfig) Validate() error {
	if err := c.InfluxConfig.Validate(); err != nil {
		return err
	}
	if c.Measurement == "" || c.BatchSize < 1 {
		return fmt.Errorf("day_measurement %q, day_batch_size %d: need a measurement and a positive batch: %w", c.Measurement, c.BatchSize, ErrInvalidConfig)
	}
	return nil
}

// InfluxDayStore keeps DaySummaries in InfluxDB, one point per device and
// solar date in DayStoreConfig.Measurement: tags device_id, site_id; time =
// Date (00:00 UTC), so that a later scan of the same day overwrites the
// point; fields from_s, to_s (int, Unix s: Span), pi_ratio, sky_index,
// offset_min (float, absent when NaN), peer_pi, peer_offset, clock_shift
// (bool).
// It is safe for concurrent use.
type InfluxDayStore struct {
	cfg    DayStoreConfig
	client *influxql.Client
}

// NewInfluxDayStore returns a store; hc may be nil.
func NewInfluxDayStore(cfg DayStoreConfig, hc *http.Client) (*InfluxDayStore, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &InfluxDayStore{cfg: cfg, client: influxql.New(cfg.Server, hc)}, nil
}

// DayLine returns the line protocol of one summary (no trailing newline).
func DayLine(measurement string, d *DaySummary) string {
	var b strings.Builder
	b.WriteString(escapeKey(measurement))
	b.WriteString(",device_id=" + escapeTag(d.DeviceID))
	if d.SiteID != "" {
		b.WriteString(",site_id=" + escapeTag(d.SiteID))
	}
	fmt.Fprintf(&b, " from_s=%di,to_s=%di", d.Span.From.Unix(), d.Span.To.Unix())
	for _, f := range []struct {
		key string
		v   float64
	}{{"pi_ratio", d.PIRatio}, {"sky_index", d.SkyIndex}, {"offset_min", d.OffsetMin}} {
		if !math.IsNaN(f.v) && !math.IsInf(f.v, 0) {
			b.WriteString("," + f.key + "=" + strconv.FormatFloat(f.v, 'g', -1, 64))
		}
	}
	fmt.Fprintf(&b, ",peer_pi=%t,peer_offset=%t,clock_shift=%t %d", d.PeerPI, d.PeerOffset, d.ClockShift, d.Date.UnixNano())
	return b.String()
}

// Save implements DayStore, in batches.
func (s *InfluxDayStore) Save(ctx context.Context, days []DaySummary) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	for len(days) > 0 {
		n := min(len(days), s.cfg.BatchSize)
		var b strings.Builder
		for i := range days[:n] {
			b.WriteString(DayLine(s.cfg.Measurement, &days[i]))
			b.WriteByte('\n')
		}
		if err := s.client.Write(ctx, b.String()); err != nil {
			return fmt.Errorf("write %d day summaries: %w", n, err)
		}
		days = days[n:]
	}
	return nil
}

// Load implements DayStore: one InfluxQL query, streamed as CSV.
func (s *InfluxDayStore) Load(ctx context.Context, since time.Time) ([]DaySummary, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	q := fmt.Sprintf(`SELECT "device_id","site_id","from_s","to_s","pi_ratio","sky_index","offset_min","peer_pi","peer_offset","clock_shift" FROM %q WHERE time >= %d`,
		s.cfg.Measurement, since.UnixNano())
	body, err := s.client.Query(ctx, q, s.cfg.ChunkSize)
	if err != nil {
		return nil, fmt.Errorf("load day summaries: %w", err)
	}
	defer body.Close()
	r := csv.NewReader(bufio.NewReaderSize(body, 1<<16))
	r.FieldsPerRecord = -1
	var out []DaySummary
	col := map[string]int{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("day summaries csv: %w", err)
		}
		switch {
		case len(rec) == 0 || (len(rec) == 1 && rec[0] == ""):
			continue
		case rec[0] == "name": // a header (repeated per chunk)
			clear(col)
			for i, h := range rec {
				col[h] = i
			}
			continue
		case len(rec) == 1 && strings.HasPrefix(rec[0], "{"):
			return nil, fmt.Errorf("day summaries: %s", rec[0]) // an error object mid-stream
		}
		d, err := daySummaryFromRow(col, rec)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
}

// daySummaryFromRow parses one CSV row of Load's query.
func daySummaryFromRow(col map[string]int, rec []string) (DaySummary, error) {
	get := func(name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return rec[i]
		}
		return ""
	}
	num := func(name string) (float64, error) {
		if v := get(name); v != "" {
			return strconv.ParseFloat(v, 64)
		}
		return math.NaN(), nil
	}
	d := DaySummary{DeviceID: get("device_id"), SiteID: get("site_id"),
		PeerPI: get("peer_pi") == "true", PeerOffset: get("peer_offset") == "true", ClockShift: get("clock_shift") == "true"}
	ns, err1 := strconv.ParseInt(get("time"), 10, 64)
	from, err2 := strconv.ParseInt(get("from_s"), 10, 64)
	to, err3 := strconv.ParseInt(get("to_s"), 10, 64)
	var err4, err5, err6 error
	d.PIRatio, err4 = num("pi_ratio")
	d.SkyIndex, err5 = num("sky_index")
	d.OffsetMin, err6 = num("offset_min")
	if err := errors.Join(err1, err2, err3, err4, err5, err6); err != nil {
		return d, fmt.Errorf("day summary row %q: %w", rec, err)
	}
	if d.DeviceID == "" {
		return d, fmt.Errorf("day summary row %q has no device_id", rec)
	}
	d.Date = time.Unix(0, ns).UTC()
	d.Span = Span{From: time.Unix(from, 0).UTC(), To: time.Unix(to, 0).UTC()}
	return d, nil
}

var _ DayStore = (*InfluxDayStore)(nil)
