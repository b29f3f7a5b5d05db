package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/sunproof/sunproof/anchor"
	"github.com/sunproof/sunproof/anomaly"
	"github.com/sunproof/sunproof/devices"
)

// ErrNotFound is what a source returns (wrapped or bare) for an id it does
// not know; the API answers 404.
var ErrNotFound = errors.New("httpapi: not found")

// DeviceRegistry is what the API needs of the device registry
// (*devices.Registry and *devices.Static implement it). Device may return a
// disabled device together with devices.ErrDisabled; the API still shows it.
type DeviceRegistry interface {
	Device(id string) (devices.Device, error)
	Devices() []devices.Device
	Sites() []devices.Site
}

// ReadingSource reads the operational copy of the readings (InfluxDB, see
// docs/formats/influx.md). Influx implements it.
type ReadingSource interface {
	// Series aggregates one device's readings in [from, to) into buckets of
	// step aligned to the Unix epoch; buckets without readings are left out.
	Series(ctx context.Context, deviceID string, from, to time.Time, step time.Duration) ([]Point, error)
	// FleetSeries sums, per bucket, the mean AC power of each device in ids
	// (nil: every device) over [from, to).
	FleetSeries(ctx context.Context, ids []string, from, to time.Time, step time.Duration) ([]FleetPoint, error)
	// Latest returns, for each device in ids (nil: every device) that has a
	// reading at or after since, its newest reading and the increase of its
	// energy counter since then.
	Latest(ctx context.Context, ids []string, since time.Time) (map[string]Latest, error)
}

// Point is one bucket of a device's readings.
type Point struct {
	Time        time.Time `json:"t"`              // bucket start
	ACPowerW    float64   `json:"ac_power_w"`     // mean AC power
	ACPowerMaxW float64   `json:"ac_power_max_w"` // highest AC power
	EnergyWh    uint64    `json:"energy_wh"`      // lifetime counter at the bucket's last reading
	Count       int       `json:"count"`          // readings in the bucket
	FirstSeq    uint64    `json:"first_seq"`
	LastSeq     uint64    `json:"last_seq"`
}

// FleetPoint is one bucket of the fleet's summed power.
type FleetPoint struct {
	Time     time.Time `json:"t"`
	ACPowerW float64   `json:"ac_power_w"` // sum over devices of each device's mean power
	Devices  int       `json:"devices"`    // devices with a reading in the bucket
}

// Latest is a device's newest reading and its recent energy.
type Latest struct {
	Time          time.Time `json:"t"`
	Seq           uint64    `json:"seq"`
	ACPowerW      float64   `json:"ac_power_w"`
	EnergyWh      uint64    `json:"energy_wh"`       // lifetime counter
	EnergySinceWh uint64    `json:"energy_since_wh"` // counter increase over the queried period
}

// AlertSource lists alerts (the latest state of each). AlertFunc adapts
// anomaly.InfluxStore.All.
type AlertSource interface {
	Alerts(ctx context.Context) ([]anomaly.Alert, error)
}

// AlertFunc adapts a function to AlertSource.
type AlertFunc func(ctx context.Context) ([]anomaly.Alert, error)

// Alerts implements AlertSource.
func (f AlertFunc) Alerts(ctx context.Context) ([]anomaly.Alert, error) { return f(ctx) }

// AnchorStore is what the API reads of the proof store (*anchor.Store
// implements it): the anchoring intervals, their manifests and receipts,
// and where a reading was anchored.
type AnchorStore interface {
	Intervals() ([]anchor.IntervalStatus, error)
	Manifest(startMS int64) (*anchor.Manifest, error)
	// Receipt wraps anchor.ErrNotAnchored while the interval is prepared
	// but not anchored.
	Receipt(startMS int64) (*anchor.AnchorReceipt, error)
	Locate(deviceID string, seq uint64) ([]anchor.IndexEntry, error)
}

// ProofSource builds a reading's proof bundle (*anchor.Store implements
// it). It wraps anchor.ErrNoProof when the reading is not anchored.
type ProofSource interface {
	ProofFor(ctx context.Context, deviceID string, seq uint64) (*anchor.Bundle, error)
}

// CarbonReport summarises one carbon report (docs/formats/carbon-report.md,
// package carbon).
type CarbonReport struct {
	ID                 string    `json:"id"`
	DeviceID           string    `json:"device_id,omitempty"`
	SiteID             string    `json:"site_id"`
	From               time.Time `json:"from"`
	To                 time.Time `json:"to"`
	EnergyMWh          float64   `json:"energy_mwh"`              // certified generation
	FactorTCO2PerMWh   float64   `json:"factor_tco2_per_mwh"`     // grid emission factor used
	EmissionsTCO2e     float64   `json:"emissions_avoided_tco2e"` // energy × factor
	GridRegion         string    `json:"grid_region"`
	FactorSource       string    `json:"factor_source,omitempty"`
	ExcludedSpans      int       `json:"excluded_spans"`
	CreatedAt          time.Time `json:"created_at"`
	BoundaryProofCount int       `json:"boundary_proofs"` // proof bundles in the report
}

// CarbonSource lists carbon reports and returns a report's document.
type CarbonSource interface {
	CarbonReports(ctx context.Context) ([]CarbonReport, error)
	// CarbonReport returns the summary and the report's JSON document, or
	// ErrNotFound.
	CarbonReport(ctx context.Context, id string) (CarbonReport, json.RawMessage, error)
}

// Loan is one loan and its monthly coverage (package carbon's loans).
type Loan struct {
	Ref               string      `json:"ref"` // the loan_ref of its sites and devices
	Borrower          string      `json:"borrower"`
	SiteIDs           []string    `json:"site_ids"`
	DeviceIDs         []string    `json:"device_ids"`
	PrincipalCNY      float64     `json:"principal_cny"`
	TariffCNYPerKWh   float64     `json:"tariff_cny_per_kwh"`
	SubsidyCNYPerKWh  float64     `json:"subsidy_cny_per_kwh"`
	CoverageThreshold float64     `json:"coverage_threshold"` // alert when a month's coverage is below
	Months            []LoanMonth `json:"months"`             // oldest first
	// ChainVerified: every measured month's certified figure comes from
	// boundary proofs verified against the chain (false if the server has
	// no chain, or no month is measured).
	ChainVerified bool `json:"chain_verified"`
}

// LoanMonth is one month of a loan. Certified generation is computed as in
// carbon reports: the counter difference between the month's first and
// last anchored, signed readings, minus the spans the exclusion policy
// takes out.
type LoanMonth struct {
	Month        string  `json:"month"` // YYYY-MM
	CertifiedKWh float64 `json:"certified_kwh"`
	IncomeCNY    float64 `json:"income_cny"`
	DueCNY       float64 `json:"due_cny"`
	Coverage     float64 `json:"coverage"`  // income / due
	Projected    bool    `json:"projected"` // from expected generation, not measured
	// Complete (measured months): every device's generation is certified
	// over the whole month; else CertifiedKWh is a lower bound and
	// Problems say why.
	Complete bool `json:"complete"`
	// ChainVerified (measured months): the boundary proofs were verified
	// against the chain, not only found in the proof store.
	ChainVerified bool    `json:"chain_verified"`
	ExcludedKWh   float64 `json:"excluded_kwh"` // taken out by the exclusion policy
	// Problems: one line per device not (fully) certified; never null.
	Problems []string `json:"problems"`
}

// LoanSource lists loans.
type LoanSource interface {
	Loans(ctx context.Context) ([]Loan, error)
}

// ReportChecker recomputes a carbon report's numbers (package carbon's
// verify-report): it returns nil if every figure is consistent, else an
// error naming the first that is not. It does not verify the proofs; the
// API does that itself.
type ReportChecker interface {
	CheckReport(ctx context.Context, report []byte) error
}

// Config wires the API to its sources. Devices and Tokens are required;
// every other source is optional, and the routes that need a missing one
// answer 503.
type Config struct {
	Devices DeviceRegistry
	Tokens  *Tokens

	Readings ReadingSource
	Alerts   AlertSource
	Anchors  AnchorStore
	// Proofs serves GET /v1/proofs/{device_id}/{seq} after the API has
	// authorised the request (the proof store's handler). If nil,
	// ProofSource is used; if both are nil the route answers 503.
	Proofs      http.Handler
	ProofSource ProofSource
	Carbon      CarbonSource
	Loans       LoanSource

	// Chain reads anchors and device keys for POST /v1/verify (online
	// verification, every step); nil verifies offline with the registry's
	// device key and skips the anchor step.
	Chain anchor.ChainReader
	// Reports recomputes carbon report figures in POST /v1/verify; nil
	// checks only the report's proofs.
	Reports ReportChecker

	// TxURL formats a transaction link ("https://explorer/tx/%s"); empty
	// links to the API's own anchor record.
	TxURL string
	// MaxVerifyBytes bounds POST /v1/verify bodies (4 MiB).
	MaxVerifyBytes int64
	// VerifyTimeout bounds one verification's chain reads (15 s).
	VerifyTimeout time.Duration
	// Logger may be nil.
	Logger *slog.Logger
	// Now is the clock (time.Now).
	Now func() time.Time
}

// Limits of the API.
const (
	DefaultMaxVerifyBytes = 4 << 20
	MaxRange              = 31 * 24 * time.Hour // readings and fleet power
	MaxPoints             = 5000                // buckets per series
	MaxReportBundles      = 256                 // proof bundles checked in one carbon report
)

func (c *Config) setDefaults() {
	if c.MaxVerifyBytes <= 0 {
		c.MaxVerifyBytes = DefaultMaxVerifyBytes
	}
	if c.VerifyTimeout <= 0 {
		c.VerifyTimeout = 15 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Validate checks that the required parts are set.
func (c Config) Validate() error {
	var errs []error
	if c.Devices == nil {
		errs = append(errs, errors.New("httpapi: Devices is required"))
	}
	if c.Tokens == nil {
		errs = append(errs, errors.New("httpapi: Tokens is required (an empty token set refuses every protected route)"))
	}
	if c.MaxVerifyBytes < 0 {
		errs = append(errs, fmt.Errorf("httpapi: MaxVerifyBytes %d is negative", c.MaxVerifyBytes))
	}
	return errors.Join(errs...)
}
