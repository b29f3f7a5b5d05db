package anomaly

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/internal/influxql"
)

// InfluxConfig locates the readings and the alert measurement in InfluxDB
// 1.8 (InfluxQL over HTTP; see docs/formats/influx.md for the schema the
// collector writes).
type InfluxConfig struct {
	influxql.Server  `yaml:",inline"`
	Measurement      string        `yaml:"measurement"`       // reading
	AlertMeasurement string        `yaml:"alert_measurement"` // alert
	ChunkSize        int           `yaml:"chunk_size"`        // rows per streamed chunk (10000)
	Timeout          time.Duration `yaml:"timeout"`           // per request (5 min: a fleet-day is millions of rows)
	// Lookback: Load also reads this far before the scan start, so that the
	// scan has the last reading before it as context (1 h; at least the
	// reporting interval).
	Lookback time.Duration `yaml:"lookback"`
	// FilterMax: when a load asks for at most this many devices, the query
	// filters on device_id; beyond it, it reads every device and drops the
	// ones not asked for (one regex over thousands of ids costs more than
	// it saves) (100).
	FilterMax int `yaml:"filter_max"`
}

// DefaultInfluxConfig returns the local stack's settings.
func DefaultInfluxConfig() InfluxConfig {
	return InfluxConfig{
		Server:      influxql.Server{URL: "http://127.0.0.1:8086", Database: "sunproof"},
		Measurement: "reading", AlertMeasurement: "alert",
		ChunkSize: 10000, Timeout: 5 * time.Minute, Lookback: time.Hour, FilterMax: 100,
	}
}

// Validate checks the configuration.
func (c InfluxConfig) Validate() error {
	var errs []error
	if err := c.Server.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Measurement == "" || c.AlertMeasurement == "" {
		errs = append(errs, errors.New("measurement and alert_measurement must be set"))
	}
	if c.ChunkSize < 1 || c.Timeout <= 0 || c.FilterMax < 0 || c.Lookback < 0 {
		errs = append(errs, fmt.Errorf("chunk_size %d, timeout %s, lookback %s, filter_max %d: chunk size and timeout must be positive",
			c.ChunkSize, c.Timeout, c.Lookback, c.FilterMax))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return nil
}

// influx is the InfluxDB client of the scanner and the alert store.
type influx struct {
	cfg    InfluxConfig
	client *influxql.Client
}

func newInflux(cfg InfluxConfig, hc *http.Client) (*influx, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &influx{cfg: cfg, client: influxql.New(cfg.Server, hc)}, nil
}

// query runs one InfluxQL statement (chunked CSV if csvOut); the caller
// closes the body.
func (c *influx) query(ctx context.Context, q string, csvOut bool) (io.ReadCloser, error) {
	chunk := 0
	if csvOut {
		chunk = c.cfg.ChunkSize
	}
	return c.client.Query(ctx, q, chunk)
}

// write posts line protocol with nanosecond timestamps.
func (c *influx) write(ctx context.Context, body string) error { return c.client.Write(ctx, body) }

// Source loads readings from InfluxDB for a scan: one InfluxQL query per
// Load, for every device at once, streamed as CSV in chunks.
//
// Why InfluxQL and not Flux: on InfluxDB 1.8 (Flux v0.65, no push-down) a
// raw range+filter+pivot of a fleet-day in Flux is several times slower than
// the equivalent InfluxQL SELECT … GROUP BY device_id; see doc.go
// ("Loading from InfluxDB") for the measurements.
type Source struct {
	c *influx
}

// NewSource returns a source; hc may be nil (http.DefaultClient settings
// with the configured timeout per request).
func NewSource(cfg InfluxConfig, hc *http.Client) (*Source, error) {
	c, err := newInflux(cfg, hc)
	if err != nil {
		return nil, err
	}
	return &Source{c: c}, nil
}

// LoadStats describes one Load.
type LoadStats struct {
	Rows    int           // rows received
	Skipped int           // rows with a missing field or of a device not asked for
	Elapsed time.Duration // query and parse
}

var idRE = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// Query returns the InfluxQL statement Load runs.
func (s *Source) Query(devs []devices.Device, from, to time.Time) string {
	cfg := s.c.cfg
	q := fmt.Sprintf(`SELECT "ac_power_w","energy_wh","state","seq" FROM %q WHERE time >= %d AND time < %d`,
		cfg.Measurement, from.Add(-cfg.Lookback).UnixNano(), to.UnixNano())
	if n := len(devs); n > 0 && n <= cfg.FilterMax {
		alts := make([]string, 0, n)
		for _, d := range devs {
			if idRE.MatchString(d.ID) {
				alts = append(alts, regexp.QuoteMeta(d.ID))
			}
		}
		q += ` AND "device_id" =~ /^(` + strings.Join(alts, "|") + `)$/`
	}
	return q + ` GROUP BY "device_id"`
}

// Load returns one Series per device of devs (in that order; a device with
// no reading gets an empty series) holding its readings with timestamps in
// [from − Lookback, to); Scan uses the last one before from as context.
func (s *Source) Load(ctx context.Context, devs []devices.Device, from, to time.Time) ([]Series, LoadStats, error) {
	start := time.Now()
	var st LoadStats
	ctx, cancel := context.WithTimeout(ctx, s.c.cfg.Timeout)
	defer cancel()
	body, err := s.c.query(ctx, s.Query(devs, from, to), true)
	if err != nil {
		return nil, st, err
	}
	defer body.Close()

	out := make([]Series, len(devs))
	index := make(map[string]int, len(devs))
	for i, d := range devs {
		out[i].Device = d
		index[d.ID] = i
	}
	r := csv.NewReader(bufio.NewReaderSize(body, 1<<16))
	r.ReuseRecord = true
	r.FieldsPerRecord = -1
	col := map[string]int{}
	cur, curTag := -1, ""
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, st, fmt.Errorf("influxql csv: %w", err)
		}
		if len(rec) == 0 || (len(rec) == 1 && rec[0] == "") {
			continue
		}
		if rec[0] == "name" { // a header (repeated per chunk)
			clear(col)
			for i, h := range rec {
				col[h] = i
			}
			continue
		}
		if len(rec) == 1 && strings.HasPrefix(rec[0], "{") {
			return nil, st, fmt.Errorf("influxql: %s", rec[0]) // an error object mid-stream
		}
		st.Rows++
		ti, tg, ip, ie, is, iq := col["time"], col["tags"], col["ac_power_w"], col["energy_wh"], col["state"], col["seq"]
		if len(col) == 0 || max(ti, tg, ip, ie, is, iq) >= len(rec) {
			return nil, st, fmt.Errorf("influxql csv: unexpected row %q", rec)
		}
		if rec[tg] != curTag {
			curTag = rec[tg]
			id, _ := strings.CutPrefix(curTag, "device_id=")
			var ok bool
			if cur, ok = index[id]; !ok {
				cur = -1
			}
		}
		if cur < 0 || rec[ip] == "" || rec[ie] == "" {
			st.Skipped++
			continue
		}
		ns, err1 := strconv.ParseInt(rec[ti], 10, 64)
		p, err2 := strconv.ParseFloat(rec[ip], 64)
		e, err3 := strconv.ParseUint(rec[ie], 10, 64)
		var stt, seq uint64
		var err4, err5 error
		if rec[is] != "" {
			stt, err4 = strconv.ParseUint(rec[is], 10, 16)
		}
		if rec[iq] != "" {
			seq, err5 = strconv.ParseUint(rec[iq], 10, 64)
		}
		if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
			return nil, st, fmt.Errorf("influxql csv row %q: %w", rec, err)
		}
		// The point time is ts_ms × 10⁶ + seq mod 10⁶ ns (tsdbwriter):
		// the reading's timestamp is the millisecond part.
		out[cur].Samples = append(out[cur].Samples, Sample{
			T: time.UnixMilli(ns / 1e6).UTC(), ACPowerW: p, EnergyWh: e, State: uint16(stt), Seq: seq,
		})
	}
	st.Elapsed = time.Since(start)
	return out, st, nil
}

// InfluxStore keeps alerts in InfluxDB, one point per alert in the alert
// measurement: tags device_id, site_id, type; the point time is the alert's
// Start (its first finding's span start), so every Save of the same alert
// overwrites the same point and the measurement always holds each alert's
// latest state. Fields: id, state, severity (strings), severity_level (int,
// 1 info … 3 critical), span_from, span_to, opened_at, updated_at,
// resolved_at (int, Unix ns; resolved_at 0 while open), scans (int), basis,
// summary, anchored (strings), evidence (a JSON object as a string).
type InfluxStore struct {
	c *influx
}

// NewInfluxStore returns a store; hc may be nil.
func NewInfluxStore(cfg InfluxConfig, hc *http.Client) (*InfluxStore, error) {
	c, err := newInflux(cfg, hc)
	if err != nil {
		return nil, err
	}
	return &InfluxStore{c: c}, nil
}

// AlertLine returns the line protocol of one alert (no trailing newline).
func AlertLine(measurement string, a *Alert) (string, error) {
	ev, err := json.Marshal(a.Evidence)
	if err != nil {
		return "", fmt.Errorf("alert %s evidence: %w", a.ID, err)
	}
	var b strings.Builder
	b.WriteString(escapeKey(measurement))
	b.WriteString(",device_id=" + escapeTag(a.DeviceID))
	if a.SiteID != "" {
		b.WriteString(",site_id=" + escapeTag(a.SiteID))
	}
	b.WriteString(",type=" + escapeTag(string(a.Type)))
	fmt.Fprintf(&b, " id=%s,state=%s,severity=%s,severity_level=%di", quoteField(a.ID), quoteField(string(a.State)),
		quoteField(a.Severity.String()), int(a.Severity))
	fmt.Fprintf(&b, ",span_from=%di,span_to=%di,opened_at=%di,updated_at=%di,resolved_at=%di,scans=%di",
		a.Span.From.UnixNano(), a.Span.To.UnixNano(), a.OpenedAt.UnixNano(), a.UpdatedAt.UnixNano(), unixNanoOrZero(a.ResolvedAt), a.Scans)
	fmt.Fprintf(&b, ",basis=%s,summary=%s,anchored=%s,evidence=%s %d", quoteField(a.Basis), quoteField(a.Summary),
		quoteField(string(a.Anchored)), quoteField(string(ev)), a.Start.UnixNano())
	return b.String(), nil
}

func unixNanoOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

var (
	tagEscaper   = strings.NewReplacer(`,`, `\,`, `=`, `\=`, ` `, `\ `, `\`, `\\`)
	keyEscaper   = strings.NewReplacer(`,`, `\,`, ` `, `\ `, `\`, `\\`)
	fieldEscaper = strings.NewReplacer(`"`, `\"`, `\`, `\\`)
)

func escapeTag(s string) string  { return tagEscaper.Replace(s) }
func escapeKey(s string) string  { return keyEscaper.Replace(s) }
func quoteField(s string) string { return `"` + fieldEscaper.Replace(s) + `"` }
func nsTime(ns int64) (t time.Time) {
	if ns == 0 {
		return t
	}
	return time.Unix(0, ns).UTC()
}

// Save implements Store.
func (s *InfluxStore) Save(ctx context.Context, alerts []Alert) error {
	if len(alerts) == 0 {
		return nil
	}
	var b strings.Builder
	for i := range alerts {
		line, err := AlertLine(s.c.cfg.AlertMeasurement, &alerts[i])
		if err != nil {
			return err
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	ctx, cancel := context.WithTimeout(ctx, s.c.cfg.Timeout)
	defer cancel()
	return s.c.write(ctx, b.String())
}

// Open implements Store; alerts are sorted by ID.
func (s *InfluxStore) Open(ctx context.Context) ([]Alert, error) {
	return s.query(ctx, `SELECT * FROM `+strconv.Quote(s.c.cfg.AlertMeasurement)+` WHERE "state" = 'open'`)
}

// All returns every stored alert (latest state of each).
func (s *InfluxStore) All(ctx context.Context) ([]Alert, error) {
	return s.query(ctx, `SELECT * FROM `+strconv.Quote(s.c.cfg.AlertMeasurement))
}

func (s *InfluxStore) query(ctx context.Context, q string) ([]Alert, error) {
	ctx, cancel := context.WithTimeout(ctx, s.c.cfg.Timeout)
	defer cancel()
	body, err := s.c.query(ctx, q, false)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	dec := json.NewDecoder(body)
	dec.UseNumber()
	// Values mix numbers (kept exact with UseNumber: ns timestamps exceed 2⁵³) and strings.
	var raw struct {
		Results []struct {
			Error  string `json:"error"`
			Series []struct {
				Columns []string `json:"columns"`
				Values  [][]any  `json:"values"`
			} `json:"series"`
		} `json:"results"`
	}
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("alert query: %w", err)
	}
	var out []Alert
	for _, r := range raw.Results {
		if r.Error != "" {
			return nil, fmt.Errorf("alert query: %s", r.Error)
		}
		for _, sr := range r.Series {
			for _, row := range sr.Values {
				a, err := alertFromRow(sr.Columns, row)
				if err != nil {
					return nil, err
				}
				out = append(out, a)
			}
		}
	}
	slices.SortFunc(out, func(a, b Alert) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

func alertFromRow(cols []string, row []any) (Alert, error) {
	var a Alert
	str := func(v any) string { s, _ := v.(string); return s }
	num := func(v any) int64 {
		if n, ok := v.(json.Number); ok {
			i, _ := n.Int64()
			return i
		}
		return 0
	}
	for i, c := range cols {
		if i >= len(row) || row[i] == nil {
			continue
		}
		v := row[i]
		switch c {
		case "time":
			a.Start = nsTime(num(v))
		case "device_id":
			a.DeviceID = str(v)
		case "site_id":
			a.SiteID = str(v)
		case "type":
			a.Type = Type(str(v))
		case "id":
			a.ID = str(v)
		case "state":
			a.State = State(str(v))
		case "severity":
			sv, err := ParseSeverity(str(v))
			if err != nil {
				return a, fmt.Errorf("alert row: %w", err)
			}
			a.Severity = sv
		case "span_from":
			a.Span.From = nsTime(num(v))
		case "span_to":
			a.Span.To = nsTime(num(v))
		case "opened_at":
			a.OpenedAt = nsTime(num(v))
		case "updated_at":
			a.UpdatedAt = nsTime(num(v))
		case "resolved_at":
			a.ResolvedAt = nsTime(num(v))
		case "scans":
			a.Scans = int(num(v))
		case "basis":
			a.Basis = str(v)
		case "summary":
			a.Summary = str(v)
		case "anchored":
			a.Anchored = Anchoring(str(v))
		case "evidence":
			if s := str(v); s != "" && s != "null" {
				if err := json.Unmarshal([]byte(s), &a.Evidence); err != nil {
					return a, fmt.Errorf("alert row evidence: %w", err)
				}
			}
		}
	}
	return a, nil
}

var _ Store = (*InfluxStore)(nil)
var _ Store = (*MemStore)(nil)
