package anomaly

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/sunproof/sunproof/anomaly/pvmodel"
)

// Config holds every detector parameter. Start from DefaultConfig; doc.go
// explains each parameter next to the detector that uses it.
type Config struct {
	// Plant supplies the model parameters that the device registry does not
	// hold (temperature coefficient, albedo, DC losses, inverter efficiency,
	// thermal model, assumed air temperature and wind, elevation). Location,
	// orientation, kWp and AC rating come from each devices.Device.
	// Plant.LossFraction is the performance-ratio assumption: the expected
	// power is the clear-sky PVWatts output after these losses.
	Plant pvmodel.Plant `yaml:"plant"`

	// Interval is the expected reporting interval, used when a device has too
	// few samples to estimate its own (the median spacing of its samples).
	Interval time.Duration `yaml:"interval"`
	// Workers is the number of goroutines per scan; 0 means GOMAXPROCS.
	Workers int `yaml:"workers"`
	// DaylightFraction: the model "says the plant should produce" at t when
	// the clear-sky expected AC power is at least this fraction of the AC
	// rating.
	DaylightFraction float64 `yaml:"daylight_fraction"`
	// ZeroFraction: output at or below this fraction of the AC rating is
	// near-zero.
	ZeroFraction float64 `yaml:"zero_fraction"`

	Zero     ZeroConfig        `yaml:"zero_output"`
	Perf     PerformanceConfig `yaml:"performance"`
	Peers    PeerConfig        `yaml:"peers"`
	Stuck    StuckConfig       `yaml:"stuck"`
	Gap      GapConfig         `yaml:"comm_gap"`
	Capacity CapacityConfig    `yaml:"over_capacity"`
	Energy   EnergyConfig      `yaml:"energy_mismatch"`
	Clock    ClockConfig       `yaml:"clock_offset"`
	Clip     ClipConfig        `yaml:"clipping"`
	Night    NightConfig       `yaml:"night_generation"`
	Trend    TrendConfig       `yaml:"trend"`
}

// ZeroConfig parameterises the zero-output detector.
type ZeroConfig struct {
	MinDuration      time.Duration `yaml:"min_duration"`      // shortest run reported (30 min)
	CriticalDuration time.Duration `yaml:"critical_duration"` // runs this long are critical (2 h)
}

// PerformanceConfig parameterises under- and over-performance.
type PerformanceConfig struct {
	// MinExpectedFraction: samples whose clear-sky expectation is at least
	// this fraction of the AC rating enter the performance index (0.3).
	MinExpectedFraction float64 `yaml:"min_expected_fraction"`
	// Quantile of measured/expected that defines the performance index PI
	// (0.9): the plant's output in the sunniest moments of the day.
	Quantile float64 `yaml:"quantile"`
	// MinSamples below which a day's PI is not computed (12 = 1 h at 5 min).
	MinSamples int `yaml:"min_samples"`
	// ClearReference: if the reference PI (peers' median, or 1 without
	// peers) is below this, no moment of the day was clear enough to judge
	// (0.7).
	ClearReference float64 `yaml:"clear_reference"`
	// Deficit: PI below (1 − Deficit) × reference is under-performance (0.15).
	Deficit float64 `yaml:"deficit"`
	// Excess: PI above (1 + Excess) × reference is over-performance (0.2).
	Excess float64 `yaml:"excess"`
	// SteadyCV: without peers, a low PI is judged only on a steady day, when
	// the robust coefficient of variation of measured/expected over the
	// day's productive samples is below this (0.08): a clear day or a fault,
	// not a cloudy day.
	SteadyCV float64 `yaml:"steady_cv"`
	// MinCoverage: a day's yield enters the peer statistics only if the
	// device reported over at least this fraction of the day's productive
	// hours (0.9).
	MinCoverage float64 `yaml:"min_coverage"`
}

// PeerConfig defines peers and the robust z-score.
type PeerConfig struct {
	RadiusKm float64 `yaml:"radius_km"` // devices within this distance are peers (30 km)
	MinPeers int     `yaml:"min_peers"` // fewer valid peers: peer tests are skipped (5)
	MaxPeers int     `yaml:"max_peers"` // nearest peers kept (24)
	// Normalize divides each device's specific yield by its clear-sky
	// expected specific yield before the z-score, so that orientation
	// differences between peers are not under-performance (true).
	Normalize bool    `yaml:"normalize"`
	Z         float64 `yaml:"z"` // |z| threshold of the modified z-score (3.5, Iglewicz & Hoaglin)
	// MinRelDiff: the device must also differ from the peer median by this
	// fraction (0.1) — statistical and practical significance.
	MinRelDiff float64 `yaml:"min_rel_diff"`
	// MADFloor: the MAD is at least this fraction of the median (0.03), so
	// that near-identical peers do not turn metering noise into alarms.
	MADFloor float64 `yaml:"mad_floor"`
	// MinCoherence: a peer-based finding needs the device's hourly
	// clear-sky index to correlate at least this well with the peers'
	// (0.5); below it the peers saw another sky and the day is
	// inconclusive. Hourly means of
	// 5-minute samples under broken cloud correlate only ~0.6–0.7 even
	// under one shared sky, so this guards against a different weather
	// regime, not subtle differences.
	MinCoherence float64 `yaml:"min_coherence"`
}

// StuckConfig parameterises the flat-line detector.
type StuckConfig struct {
	Window int `yaml:"window"` // consecutive identical samples (6, as PVAnalytics)
	// CounterTolerance: over a run of identical power, a counter that
	// advances consistently with that power (within this fraction) is a
	// plateau (clipping, export limit), not a frozen value (0.3).
	CounterTolerance float64 `yaml:"counter_tolerance"`
}

// GapConfig parameterises the communication-gap detector.
type GapConfig struct {
	Factor           float64       `yaml:"factor"`            // a gap is > Factor × the reporting interval (3)
	DaylightOnly     bool          `yaml:"daylight_only"`     // ignore gaps entirely at night (loggers that sleep)
	CriticalDuration time.Duration `yaml:"critical_duration"` // gaps this long are critical (24 h)
}

// CapacityConfig parameterises the over-capacity detector.
type CapacityConfig struct {
	Tolerance float64 `yaml:"tolerance"` // power above (1 + Tolerance) × AC rating (0.02)
	MarginW   float64 `yaml:"margin_w"`  // plus this many watts (10)
	// CounterTolerance: a counter increment above (1 + CounterTolerance) ×
	// rating × elapsed time (+ 2 Wh of rounding) is impossible (0.05).
	CounterTolerance float64 `yaml:"counter_tolerance"`
}

// EnergyConfig parameterises the counter-versus-power consistency check.
type EnergyConfig struct {
	Rel float64 `yaml:"rel"` // relative disagreement (0.15)
	// MinWhPerKWp: and at least this absolute disagreement per kWp (100 Wh/kWp).
	MinWhPerKWp float64 `yaml:"min_wh_per_kwp"`
	// Sigmas: and at least this many times the estimated sampling error of
	// the integrated power (3): on a broken-cloud day 5-minute samples miss
	// what the power did between them.
	Sigmas float64 `yaml:"sigmas"`
}

// ClockConfig parameterises the clock-offset detector.
type ClockConfig struct {
	MinOffset      time.Duration `yaml:"min_offset"`       // edge offset against the peers' (15 min)
	MinOffsetAlone time.Duration `yaml:"min_offset_alone"` // edge offset against the clear-sky model, without peers (40 min)
	// Agreement: the profile's cross-correlation lag must be within
	// max(Agreement, AgreementFraction × |offset|) of the edge offset
	// (10 min, 0.3).
	Agreement         time.Duration `yaml:"agreement"`
	AgreementFraction float64       `yaml:"agreement_fraction"`
	// MinCorrelation: the cross-correlation peak must reach this (0.3).
	MinCorrelation float64 `yaml:"min_correlation"`
}

// TrendConfig parameterises the multi-day judgements over a History
// (JudgeTrends).
type TrendConfig struct {
	// Days: a History keeps, and the judgements look back over, this many
	// days per device (14).
	Days int `yaml:"days"`
	// MinDays: a verdict needs at least this many days with a value (3).
	MinDays int `yaml:"min_days"`
	// MaxDays: the performance verdict uses the most recent this many days
	// with a value (7), so that it follows a cleaning within days.
	MaxDays int `yaml:"max_days"`
	// Deficit: a median PI ratio (the day's performance index over the
	// peers' median) at or below 1 − Deficit is under-performance (0.07).
	// Without peers the PI is compared with the model's 1 and
	// Perf.Deficit applies.
	Deficit float64 `yaml:"deficit"`
	// MinSkyIndex: a day's PI ratio counts only if the peers' median yield
	// (without peers: the device's own) was at least this fraction of the
	// clear-sky expectation (0.4): on a darker day a device may not see a
	// single clear moment.
	MinSkyIndex float64 `yaml:"min_sky_index"`
}

// ClipConfig parameterises the clipping flag.
type ClipConfig struct {
	MinSamples int     `yaml:"min_samples"` // consecutive samples on the plateau (3)
	Tolerance  float64 `yaml:"tolerance"`   // within this fraction of the day's maximum (0.005)
	MinLevel   float64 `yaml:"min_level"`   // plateaus below this fraction of the rating are ignored (0.3)
}

// NightConfig parameterises the night-generation flag.
type NightConfig struct {
	MaxElevationDeg float64 `yaml:"max_elevation_deg"` // "night" is apparent sun elevation below this (−3°)
	MinW            float64 `yaml:"min_w"`             // output above max(MinW, MinFraction × rating) (10 W)
	MinFraction     float64 `yaml:"min_fraction"`      // (0.002)
	MinWh           float64 `yaml:"min_wh"`            // or counter increments above this at night (5 Wh)
}

// DefaultConfig returns the parameters documented in doc.go.
func DefaultConfig() Config {
	p := pvmodel.DefaultPlant()
	p.ElevationM = 0
	return Config{
		Plant:            p,
		Interval:         5 * time.Minute,
		DaylightFraction: 0.2,
		ZeroFraction:     0.01,
		Zero:             ZeroConfig{MinDuration: 30 * time.Minute, CriticalDuration: 2 * time.Hour},
		Perf: PerformanceConfig{
			MinExpectedFraction: 0.3, Quantile: 0.9, MinSamples: 12, ClearReference: 0.7,
			Deficit: 0.15, Excess: 0.2, SteadyCV: 0.08, MinCoverage: 0.9,
		},
		Peers:    PeerConfig{RadiusKm: 30, MinPeers: 5, MaxPeers: 24, Normalize: true, Z: 3.5, MinRelDiff: 0.1, MADFloor: 0.03, MinCoherence: 0.5},
		Stuck:    StuckConfig{Window: 6, CounterTolerance: 0.3},
		Gap:      GapConfig{Factor: 3, CriticalDuration: 24 * time.Hour},
		Capacity: CapacityConfig{Tolerance: 0.02, MarginW: 10, CounterTolerance: 0.05},
		Energy:   EnergyConfig{Rel: 0.15, MinWhPerKWp: 100, Sigmas: 3},
		Clock: ClockConfig{MinOffset: 15 * time.Minute, MinOffsetAlone: 40 * time.Minute,
			Agreement: 10 * time.Minute, AgreementFraction: 0.3, MinCorrelation: 0.3},
		Clip:  ClipConfig{MinSamples: 3, Tolerance: 0.005, MinLevel: 0.3},
		Night: NightConfig{MaxElevationDeg: -3, MinW: 10, MinFraction: 0.002, MinWh: 5},
		Trend: TrendConfig{Days: 14, MinDays: 3, MaxDays: 7, Deficit: 0.07, MinSkyIndex: 0.4},
	}
}

// ErrInvalidConfig is wrapped by every error Validate returns.
var ErrInvalidConfig = errors.New("invalid anomaly config")

// Validate reports every parameter outside its range.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrInvalidConfig))
	}
	// The plant template needs a valid location and rating to validate;
	// those are replaced per device.
	if err := c.Plant.Validate(); err != nil {
		bad("plant: %v", err)
	}
	frac := func(name string, v float64, lo, hi float64) {
		if math.IsNaN(v) || v < lo || v > hi {
			bad("%s %g outside [%g, %g]", name, v, lo, hi)
		}
	}
	pos := func(name string, d time.Duration) {
		if d <= 0 {
			bad("%s %s must be positive", name, d)
		}
	}
	pos("interval", c.Interval)
	if c.Workers < 0 {
		bad("workers %d is negative", c.Workers)
	}
	frac("daylight_fraction", c.DaylightFraction, 0.01, 0.9)
	frac("zero_fraction", c.ZeroFraction, 0, 0.2)
	pos("zero_output.min_duration", c.Zero.MinDuration)
	pos("zero_output.critical_duration", c.Zero.CriticalDuration)
	frac("performance.min_expected_fraction", c.Perf.MinExpectedFraction, 0.05, 0.9)
	frac("performance.quantile", c.Perf.Quantile, 0.5, 0.99)
	if c.Perf.MinSamples < 3 {
		bad("performance.min_samples %d below 3", c.Perf.MinSamples)
	}
	frac("performance.clear_reference", c.Perf.ClearReference, 0, 1)
	frac("performance.deficit", c.Perf.Deficit, 0.01, 0.9)
	frac("performance.excess", c.Perf.Excess, 0.01, 5)
	frac("performance.steady_cv", c.Perf.SteadyCV, 0, 1)
	frac("performance.min_coverage", c.Perf.MinCoverage, 0, 1)
	frac("peers.radius_km", c.Peers.RadiusKm, 0.1, 500)
	if c.Peers.MinPeers < 2 || c.Peers.MaxPeers < c.Peers.MinPeers {
		bad("peers.min_peers %d must be ≥ 2 and ≤ max_peers %d", c.Peers.MinPeers, c.Peers.MaxPeers)
	}
	frac("peers.z", c.Peers.Z, 1, 20)
	frac("peers.min_rel_diff", c.Peers.MinRelDiff, 0, 1)
	frac("peers.mad_floor", c.Peers.MADFloor, 0, 1)
	frac("peers.min_coherence", c.Peers.MinCoherence, -1, 1)
	if c.Stuck.Window < 3 {
		bad("stuck.window %d below 3", c.Stuck.Window)
	}
	frac("stuck.counter_tolerance", c.Stuck.CounterTolerance, 0, 1)
	frac("comm_gap.factor", c.Gap.Factor, 1.5, 1000)
	pos("comm_gap.critical_duration", c.Gap.CriticalDuration)
	frac("over_capacity.tolerance", c.Capacity.Tolerance, 0, 1)
	frac("over_capacity.margin_w", c.Capacity.MarginW, 0, 1e6)
	frac("over_capacity.counter_tolerance", c.Capacity.CounterTolerance, 0, 1)
	frac("energy_mismatch.rel", c.Energy.Rel, 0.01, 1)
	frac("energy_mismatch.min_wh_per_kwp", c.Energy.MinWhPerKWp, 0, 1e4)
	frac("energy_mismatch.sigmas", c.Energy.Sigmas, 0, 100)
	pos("clock_offset.min_offset", c.Clock.MinOffset)
	pos("clock_offset.min_offset_alone", c.Clock.MinOffsetAlone)
	pos("clock_offset.agreement", c.Clock.Agreement)
	frac("clock_offset.agreement_fraction", c.Clock.AgreementFraction, 0, 1)
	frac("clock_offset.min_correlation", c.Clock.MinCorrelation, -1, 1)
	if c.Clip.MinSamples < 2 {
		bad("clipping.min_samples %d below 2", c.Clip.MinSamples)
	}
	frac("clipping.tolerance", c.Clip.Tolerance, 0, 0.1)
	frac("clipping.min_level", c.Clip.MinLevel, 0, 1)
	frac("night_generation.max_elevation_deg", c.Night.MaxElevationDeg, -18, 0)
	frac("night_generation.min_w", c.Night.MinW, 0, 1e6)
	frac("night_generation.min_fraction", c.Night.MinFraction, 0, 1)
	frac("night_generation.min_wh", c.Night.MinWh, 0, 1e6)
	if c.Trend.Days < 2 || c.Trend.Days > 366 {
		bad("trend.days %d outside [2, 366]", c.Trend.Days)
	}
	if c.Trend.MinDays < 1 || c.Trend.MaxDays < c.Trend.MinDays || c.Trend.MaxDays > c.Trend.Days {
		bad("trend.min_days %d, max_days %d: need 1 ≤ min_days ≤ max_days ≤ days %d", c.Trend.MinDays, c.Trend.MaxDays, c.Trend.Days)
	}
	frac("trend.deficit", c.Trend.Deficit, 0.01, 0.9)
	frac("trend.min_sky_index", c.Trend.MinSkyIndex, 0, 1)
	return errors.Join(errs...)
}
