// Package influxql is the small InfluxDB 1.x HTTP client the services share
// for what influxdb-client-go does not cover on 1.8: InfluxQL queries
// (JSON, chunked CSV, or MessagePack read row by row with Rows) and
// line-protocol writes with basic auth and a
// retention policy. It holds no state besides its configuration and is
// safe for concurrent use.
package influxql

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Server locates a database on an InfluxDB 1.x server. Embed it (yaml
// ",inline") in a component's configuration.
type Server struct {
	URL             string `yaml:"influx_url"`       // http://127.0.0.1:8086
	Database        string `yaml:"influx_db"`        // sunproof; "" only for server-level statements
	RetentionPolicy string `yaml:"retention_policy"` // "" = the database default
	Username        string `yaml:"influx_username"`  // "" without auth
	Password        string `yaml:"influx_password"`
	// Gzip lets InfluxDB compress query answers (Go's HTTP client asks for
	// gzip unless told otherwise). Off by default: on loopback or a LAN,
	// compressing a fleet-day of readings costs InfluxDB about a quarter
	// more CPU and the client the inflating, to save bandwidth nobody lacks.
	Gzip bool `yaml:"influx_gzip"`
}

// Validate checks that the URL is absolute and a database is named.
func (s Server) Validate() error {
	if u, err := url.Parse(s.URL); err != nil || u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("influx_url %q is not an absolute URL", s.URL)
	}
	if s.Database == "" {
		return errors.New("influx_db must be set")
	}
	return nil
}

// Client talks to one Server.
type Client struct {
	s  Server
	hc *http.Client
}

// New returns a client; hc may be nil. It does not validate s: callers with
// a database call s.Validate first.
func New(s Server, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{}
	}
	return &Client{s: s, hc: hc}
}

// Query runs InfluxQL with epoch=ns. chunkSize 0 asks for one JSON
// document; chunkSize > 0 for chunked CSV with that many rows per chunk.
// The caller closes the body. A non-2xx answer is an error carrying the
// server's message.
func (c *Client) Query(ctx context.Context, q string, chunkSize int) (io.ReadCloser, error) {
	accept := ""
	if chunkSize > 0 {
		accept = "application/csv"
	}
	return c.query(ctx, q, chunkSize, accept)
}

// QueryRows runs InfluxQL with epoch=ns and reads the answer in
// MessagePack, row by row (chunked if chunkSize > 0). The caller closes
// the Rows. For large results it costs InfluxDB less CPU than CSV or JSON
// and its client less than either to decode.
func (c *Client) QueryRows(ctx context.Context, q string, chunkSize int) (*Rows, error) {
	body, err := c.query(ctx, q, chunkSize, "application/x-msgpack")
	if err != nil {
		return nil, err
	}
	return NewRows(body), nil
}

func (c *Client) query(ctx context.Context, q string, chunkSize int, accept string) (io.ReadCloser, error) {
	v := url.Values{"q": {q}, "epoch": {"ns"}}
	if c.s.Database != "" {
		v.Set("db", c.s.Database)
	}
	if c.s.RetentionPolicy != "" {
		v.Set("rp", c.s.RetentionPolicy)
	}
	if chunkSize > 0 {
		v.Set("chunked", "true")
		v.Set("chunk_size", strconv.Itoa(chunkSize))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.s.URL, "/")+"/query", strings.NewReader(v.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if !c.s.Gzip {
		req.Header.Set("Accept-Encoding", "identity")
	}
	return c.do(req, "influxql query")
}

// Write posts line protocol with nanosecond timestamps.
func (c *Client) Write(ctx context.Context, body string) error {
	v := url.Values{"db": {c.s.Database}, "precision": {"ns"}}
	if c.s.RetentionPolicy != "" {
		v.Set("rp", c.s.RetentionPolicy)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.s.URL, "/")+"/write?"+v.Encode(), strings.NewReader(body))
	if err != nil {
		return err
	}
	rc, err := c.do(req, "influx write")
	if err != nil {
		return err
	}
	return rc.Close()
}

func (c *Client) do(req *http.Request, what string) (io.ReadCloser, error) {
	if c.s.Username != "" {
		req.SetBasicAuth(c.s.Username, c.s.Password)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		return nil, fmt.Errorf("%s: %s: %s", what, resp.Status, strings.TrimSpace(string(b)))
	}
	return resp.Body, nil
}
