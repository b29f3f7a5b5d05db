package anomaly

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

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
	Timeout          time.Duration `yaml:"timeout"`           // per Load or alert request (5 min: a fleet-day is millions of rows)
	// Lookback: Load also reads this far before the scan start, so that the
	// scan has the last reading before it as context (1 h; at least the
	// reporting interval).
	Lookback time.Duration `yaml:"lookback"`
	// DevicesPerRequest: Load reads each device with its own InfluxQL
	// statement (InfluxDB merges the series of one statement through a
	// heap that costs it more CPU than the rest of the query) and sends
	// this many statements per HTTP request (500).
	DevicesPerRequest int `yaml:"devices_per_request"`
	// Requests: how many of those requests Load runs at a time (2: InfluxDB
	// runs a request's statements one after another on one core).
	Requests int `yaml:"requests"`
}

// DefaultInfluxConfig returns the local stack's settings.
func DefaultInfluxConfig() InfluxConfig {
	return InfluxConfig{
		Server:      influxql.Server{URL: "http://127.0.0.1:8086", Database: "sunproof"},
		Measurement: "reading", AlertMeasurement: "alert",
		ChunkSize: 10000, Timeout: 5 * time.Minute, Lookback: time.Hour, DevicesPerRequest: 500, Requests: 2,
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
	if c.ChunkSize < 1 || c.Timeout <= 0 || c.Lookback < 0 || c.DevicesPerRequest < 1 || c.Requests < 1 {
		errs = append(errs, fmt.Errorf("chunk_size %d, timeout %s, lookback %s, devices_per_request %d, requests %d: lookback must not be negative, the others must be positive",
			c.ChunkSize, c.Timeout, c.Lookback, c.DevicesPerRequest, c.Requests))
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

// query runs one InfluxQL statement and returns its JSON answer; the
// caller closes the body.
func (c *influx) query(ctx context.Context, q string) (io.ReadCloser, error) {
	return c.client.Query(ctx, q, 0)
}

// write posts line protocol with nanosecond timestamps.
func (c *influx) write(ctx context.Context, body string) error { return c.client.Write(ctx, body) }

// Source loads readings from InfluxDB for a scan: one InfluxQL SELECT per
// device, DevicesPerRequest of them per HTTP request, Requests requests at
// a time, answered in MessagePack.
//
// Why InfluxQL and not Flux: on InfluxDB 1.8 (Flux v0.65) the same
// fleet-day through Flux (range, filter, pivot) costs InfluxDB about 1.5
// times the CPU and arrives as 5 times the bytes of annotated CSV, which
// is slower to parse; see doc.go ("Loading from InfluxDB") for the
// measurements.
type Source struct {
	c *influx
}

// NewSource returns a source; hc may be nil (http.DefaultClient settings
// with the configured timeout per Load).
func NewSource(cfg InfluxConfig, hc *http.Client) (*Source, error) {
	c, err := newInflux(cfg, hc)
	if err != nil {
		return nil, err
	}
	return &Source{c: c}, nil
}

// LoadStats describes one Load.
type LoadStats struct {
	Rows     int           // rows received
	Skipped  int           // rows with a missing field or of a device not asked for
	Requests int           // HTTP requests made
	Elapsed  time.Duration // requests and decoding
}

// Requests returns the InfluxQL of each request Load makes (statements
// separated by ";"), and for each the positions in devs of the devices it
// asks for. Each device id is asked for once; an empty id never.
func (s *Source) Requests(devs []devices.Device, from, to time.Time) (qs []string, groups [][]int) {
	cfg := s.c.cfg
	seen := make(map[string]bool, len(devs))
	var g []int
	for i, d := range devs {
		if d.ID == "" || seen[d.ID] {
			continue
		}
		seen[d.ID] = true
		if g = append(g, i); len(g) == cfg.DevicesPerRequest {
			groups, g = append(groups, g), nil
		}
	}
	if len(g) > 0 {
		groups = append(groups, g)
	}
	head := fmt.Sprintf(`SELECT "ac_power_w","energy_wh","state","seq" FROM %s WHERE time >= %d AND time < %d AND "device_id" = `,
		quoteIdent(cfg.Measurement), from.Add(-cfg.Lookback).UnixNano(), to.UnixNano())
	for _, g := range groups {
		var b strings.Builder
		for k, i := range g {
			if k > 0 {
				b.WriteString("; ")
			}
			b.WriteString(head)
			b.WriteString(quoteString(devs[i].ID))
			b.WriteString(` GROUP BY "device_id"`)
		}
		qs = append(qs, b.String())
	}
	return qs, groups
}

// quoteIdent and quoteString quote an InfluxQL identifier and string literal.
func quoteIdent(s string) string  { return `"` + identEscaper.Replace(s) + `"` }
func quoteString(s string) string { return `'` + stringEscaper.Replace(s) + `'` }

// Load returns one Series per device of devs (in that order; a device with
// no reading, or a repeated or empty id, gets an empty series) holding its
// readings with timestamps in [from − Lookback, to) in time order; Scan
// uses the last one before from as context. It sends the requests that
// Requests returns, InfluxConfig.Requests at a time, and stops at the
// first error (including one InfluxDB reports mid-answer).
func (s *Source) Load(ctx context.Context, devs []devices.Device, from, to time.Time) ([]Series, LoadStats, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, s.c.cfg.Timeout)
	defer cancel()
	out := make([]Series, len(devs))
	for i, d := range devs {
		out[i].Device = d
	}
	qs, groups := s.Requests(devs, from, to)
	st := LoadStats{Requests: len(qs)}
	stats := make([]LoadStats, len(qs))
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(s.c.cfg.Requests)
	for k := range qs {
		eg.Go(func() error {
			var err error
			stats[k], err = s.loadGroup(ctx, qs[k], devs, groups[k], out)
			return err
		})
	}
	err := eg.Wait()
	for _, g := range stats {
		st.Rows += g.Rows
		st.Skipped += g.Skipped
	}
	if err != nil {
		return nil, st, err
	}
	for i := range out {
		sortSamples(out[i].Samples)
	}
	st.Elapsed = time.Since(start)
	return out, st, nil
}

// loadGroup makes one request and appends its rows to the series of its
// devices (group: positions in devs); it touches no other series, so that
// requests can run concurrently.
func (s *Source) loadGroup(ctx context.Context, q string, devs []devices.Device, group []int, out []Series) (LoadStats, error) {
	var st LoadStats
	index := make(map[string]int, len(group))
	for _, i := range group {
		index[devs[i].ID] = i
	}
	rows, err := s.c.client.QueryRows(ctx, q, s.c.cfg.ChunkSize)
	if err != nil {
		return st, err
	}
	defer rows.Close()
	cur := -1
	var ti, ip, ie, is, iq int
	for rows.Next() {
		if rows.NewSeries() {
			sr := rows.Series()
			ti, ip, ie, is, iq = sr.Column("time"), sr.Column("ac_power_w"), sr.Column("energy_wh"), sr.Column("state"), sr.Column("seq")
			if min(ti, ip, ie, is, iq) < 0 {
				return st, fmt.Errorf("influxql: series %s %v has columns %q", sr.Name, sr.Tags, sr.Columns)
			}
			var ok bool
			if cur, ok = index[sr.Tag("device_id")]; !ok {
				cur = -1
			} else {
				out[cur].Samples = slices.Grow(out[cur].Samples, min(rows.SeriesRows(), 1<<20))
			}
		}
		st.Rows++
		v := rows.Row()
		if cur < 0 || v[ip].Kind == influxql.KindNil || v[ie].Kind == influxql.KindNil {
			st.Skipped++
			continue
		}
		smp, err := sampleOf(v[ti], v[ip], v[ie], v[is], v[iq])
		if err != nil {
			return st, fmt.Errorf("influxql row %v of %s: %w", v, devs[cur].ID, err)
		}
		out[cur].Samples = append(out[cur].Samples, smp)
	}
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("influxql: %w", err)
	}
	return st, nil
}

// sampleOf converts one row; state and seq may be missing (0).
func sampleOf(t, p, e, stt, seq influxql.Value) (Sample, error) {
	ns, ok1 := t.Int64()
	w, ok2 := p.Float64()
	wh, ok3 := e.Uint64()
	st, ok4 := stt.Uint64()
	sq, ok5 := seq.Uint64()
	ok4 = (ok4 && st <= math.MaxUint16) || stt.Kind == influxql.KindNil
	ok5 = ok5 || seq.Kind == influxql.KindNil
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 {
		return Sample{}, errors.New("unexpected value types")
	}
	// The point time is ts_ms × 10⁶ + seq mod 10⁶ ns (tsdbwriter): the
	// reading's timestamp is the millisecond part.
	return Sample{T: time.UnixMilli(ns / 1e6).UTC(), ACPowerW: w, EnergyWh: wh, State: uint16(st), Seq: sq}, nil
}

// sortSamples puts samples in time order if they are not (InfluxDB
// returns each device's rows in time order; this only guards it).
func sortSamples(s []Sample) {
	less := func(a, b Sample) int { return cmp.Or(a.T.Compare(b.T), cmp.Compare(a.Seq, b.Seq)) }
	if !slices.IsSortedFunc(s, less) {
		slices.SortStableFunc(s, less)
	}
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
	// InfluxQL: identifiers in double quotes, strings in single quotes.
	identEscaper  = strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	stringEscaper = strings.NewReplacer(`\`, `\\`, `'`, `\'`)
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
	body, err := s.c.query(ctx, q)
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
