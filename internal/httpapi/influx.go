package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/internal/influxql"
)

// InfluxConfig locates the readings in InfluxDB 1.8 (InfluxQL over HTTP;
// schema in docs/formats/influx.md).
type InfluxConfig struct {
	influxql.Server `yaml:",inline"`
	Measurement     string        `yaml:"measurement"` // reading
	Timeout         time.Duration `yaml:"timeout"`     // per query (30 s)
}

// DefaultInfluxConfig returns the local stack's settings.
func DefaultInfluxConfig() InfluxConfig {
	return InfluxConfig{Server: influxql.Server{URL: "http://127.0.0.1:8086", Database: "sunproof"}, Measurement: "reading", Timeout: 30 * time.Second}
}

// Validate checks the configuration.
func (c InfluxConfig) Validate() error {
	if err := c.Server.Validate(); err != nil {
		return err
	}
	if c.Measurement == "" {
		return errors.New("measurement must be set")
	}
	if c.Timeout <= 0 {
		return fmt.Errorf("timeout %s must be positive", c.Timeout)
	}
	return nil
}

// Influx is the ReadingSource on InfluxDB. It is safe for concurrent use.
type Influx struct {
	cfg    InfluxConfig
	client *influxql.Client
}

var _ ReadingSource = (*Influx)(nil)

// NewInflux returns a reading source; hc may be nil.
func NewInflux(cfg InfluxConfig, hc *http.Client) (*Influx, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Influx{cfg: cfg, client: influxql.New(cfg.Server, hc)}, nil
}

// influxResult is InfluxDB 1.x's JSON answer.
type influxResult struct {
	Results []struct {
		Error  string `json:"error"`
		Series []struct {
			Tags    map[string]string `json:"tags"`
			Columns []string          `json:"columns"`
			Values  [][]any           `json:"values"`
		} `json:"series"`
	} `json:"results"`
	Error string `json:"error"`
}

// row is one result row by column name.
type row map[string]any

func (r row) float(k string) float64 {
	if n, ok := r[k].(json.Number); ok {
		f, _ := n.Float64()
		return f
	}
	return 0
}

func (r row) uint(k string) uint64 {
	if n, ok := r[k].(json.Number); ok {
		if u, err := strconv.ParseUint(n.String(), 10, 64); err == nil {
			return u
		}
		f, _ := n.Float64()
		if f > 0 {
			return uint64(f)
		}
	}
	return 0
}

// time is the row's time to the millisecond: the writer adds seq mod 10⁶
// nanoseconds to each reading's ts_ms (docs/formats/influx.md), which is
// not part of the reading's time.
func (r row) time() time.Time {
	if n, ok := r["time"].(json.Number); ok {
		ns, _ := n.Int64()
		return time.Unix(0, ns).UTC().Truncate(time.Millisecond)
	}
	return time.Time{}
}

// query runs q and calls f for every row of every series.
func (c *Influx) query(ctx context.Context, q string, f func(tags map[string]string, r row)) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	body, err := c.client.Query(ctx, q, 0)
	if err != nil {
		return err
	}
	defer body.Close()
	dec := json.NewDecoder(body)
	dec.UseNumber()
	var res influxResult
	if err := dec.Decode(&res); err != nil {
		return fmt.Errorf("influxql: %w", err)
	}
	if res.Error != "" {
		return fmt.Errorf("influxql: %s", res.Error)
	}
	for _, r := range res.Results {
		// A missing database is no data, not an error: a fresh stack has
		// no readings yet.
		if r.Error != "" && !strings.Contains(r.Error, "database not found") {
			return fmt.Errorf("influxql: %s", r.Error)
		}
		for _, s := range r.Series {
			for _, vals := range s.Values {
				rw := make(row, len(s.Columns))
				for i, col := range s.Columns {
					if i < len(vals) {
						rw[col] = vals[i]
					}
				}
				f(s.Tags, rw)
			}
		}
	}
	return nil
}

func (c *Influx) measurement() string { return strconv.Quote(c.cfg.Measurement) }

func timeRange(from, to time.Time) string {
	return fmt.Sprintf("time >= %d AND time < %d", from.UnixNano(), to.UnixNano())
}

// deviceFilter is an InfluxQL condition selecting ids ("" for nil: all).
// Ids are registry ids ([A-Za-z0-9._-]); anything else is refused.
func deviceFilter(ids []string) (string, error) {
	if ids == nil {
		return "", nil
	}
	parts := make([]string, len(ids))
	for i, id := range ids {
		if err := devices.ValidateID(id); err != nil {
			return "", err
		}
		parts[i] = regexp.QuoteMeta(id)
	}
	return ` AND "device_id" =~ /^(?:` + strings.Join(parts, "|") + `)$/`, nil
}

func stepClause(step time.Duration) string {
	return strconv.FormatInt(int64(step/time.Second), 10) + "s"
}

// Series implements ReadingSource.
func (c *Influx) Series(ctx context.Context, deviceID string, from, to time.Time, step time.Duration) ([]Point, error) {
	if err := devices.ValidateID(deviceID); err != nil {
		return nil, err
	}
	q := `SELECT mean("ac_power_w") AS p, max("ac_power_w") AS pmax, last("energy_wh") AS e, count("seq") AS n, ` +
		`min("seq") AS s0, max("seq") AS s1 FROM ` + c.measurement() +
		` WHERE "device_id" = '` + deviceID + `' AND ` + timeRange(from, to) +
		` GROUP BY time(` + stepClause(step) + `) fill(none)`
	var out []Point
	err := c.query(ctx, q, func(_ map[string]string, r row) {
		out = append(out, Point{
			Time: r.time(), ACPowerW: r.float("p"), ACPowerMaxW: r.float("pmax"), EnergyWh: r.uint("e"),
			Count: int(r.uint("n")), FirstSeq: r.uint("s0"), LastSeq: r.uint("s1"),
		})
	})
	return out, err
}

// FleetSeries implements ReadingSource.
func (c *Influx) FleetSeries(ctx context.Context, ids []string, from, to time.Time, step time.Duration) ([]FleetPoint, error) {
	filter, err := deviceFilter(ids)
	if err != nil {
		return nil, err
	}
	q := `SELECT sum("p") AS p, count("p") AS n FROM (SELECT mean("ac_power_w") AS p FROM ` + c.measurement() +
		` WHERE ` + timeRange(from, to) + filter + ` GROUP BY time(` + stepClause(step) + `), "device_id" fill(none))` +
		` WHERE ` + timeRange(from, to) + ` GROUP BY time(` + stepClause(step) + `) fill(none)`
	var out []FleetPoint
	err = c.query(ctx, q, func(_ map[string]string, r row) {
		out = append(out, FleetPoint{Time: r.time(), ACPowerW: r.float("p"), Devices: int(r.uint("n"))})
	})
	return out, err
}

// Latest implements ReadingSource.
func (c *Influx) Latest(ctx context.Context, ids []string, since time.Time) (map[string]Latest, error) {
	filter, err := deviceFilter(ids)
	if err != nil {
		return nil, err
	}
	where := ` WHERE time >= ` + strconv.FormatInt(since.UnixNano(), 10) + filter + ` GROUP BY "device_id"`
	out := map[string]Latest{}
	err = c.query(ctx, `SELECT last("ac_power_w") AS p, "energy_wh" AS e, "seq" AS s FROM `+c.measurement()+where,
		func(tags map[string]string, r row) {
			out[tags["device_id"]] = Latest{Time: r.time(), ACPowerW: r.float("p"), EnergyWh: r.uint("e"), Seq: r.uint("s")}
		})
	if err != nil {
		return nil, err
	}
	err = c.query(ctx, `SELECT spread("energy_wh") AS e FROM `+c.measurement()+where,
		func(tags map[string]string, r row) {
			if l, ok := out[tags["device_id"]]; ok {
				l.EnergySinceWh = r.uint("e")
				out[tags["device_id"]] = l
			}
		})
	return out, err
}
