package anomaly

import (
	"fmt"
	"time"

	"github.com/sunproof/sunproof/devices"
	"github.com/sunproof/sunproof/ingest/reading"
)

// Sample is one reading of one device, reduced to what the detectors use.
type Sample struct {
	T        time.Time // reading timestamp (as reported by the device)
	ACPowerW float64   // AC power, W (SunSpec W); small negative values are standby draw
	EnergyWh uint64    // lifetime AC energy counter, Wh (SunSpec WH)
	State    uint16    // SunSpec operating state (reading.State*)
	Seq      uint64    // per-device sequence number; 0 if unknown
}

// SampleOf reduces a reading to what the detectors use.
func SampleOf(r *reading.Reading) Sample {
	return Sample{T: r.Time(), ACPowerW: r.ACPowerW, EnergyWh: r.EnergyWh, State: r.State, Seq: r.Seq}
}

// Series is one device's samples over a scan range. Samples may come in
// time or seq order; Scan sorts them in place by (Seq, T) when they are not.
// A device with no samples at all still belongs in the scan (it is silent).
type Series struct {
	Device  devices.Device
	Samples []Sample
}

// Type names what a finding is about. The values are stable identifiers
// (alert tags, JSON, exclusion policies).
type Type string

// Finding types. Clipping and NightGeneration are data-quality flags
// (severity Info), the others are faults or integrity problems.
const (
	TypeZeroOutput        Type = "zero_output"
	TypeUnderPerformance  Type = "under_performance"
	TypeOverPerformance   Type = "over_performance"
	TypeStuck             Type = "stuck"
	TypeCommGap           Type = "comm_gap"
	TypeCounterRegression Type = "counter_regression"
	TypeOverCapacity      Type = "over_capacity"
	TypeEnergyMismatch    Type = "energy_mismatch"
	TypeClockOffset       Type = "clock_offset"
	TypeClipping          Type = "clipping"
	TypeNightGeneration   Type = "night_generation"
)

// Types lists every finding type, in a fixed order.
var Types = []Type{
	TypeZeroOutput, TypeUnderPerformance, TypeOverPerformance, TypeStuck, TypeCommGap,
	TypeCounterRegression, TypeOverCapacity, TypeEnergyMismatch, TypeClockOffset,
	TypeClipping, TypeNightGeneration,
}

// Severity orders findings and alerts.
type Severity int

// Severities. Info findings are data-quality flags: they are recorded but
// are not alarms (they do not count as false alarms in anomaly/eval and do
// not block loans or carbon reports unless a policy says so).
const (
	SeverityInfo Severity = iota + 1
	SeverityWarning
	SeverityCritical
)

var severityNames = map[Severity]string{SeverityInfo: "info", SeverityWarning: "warning", SeverityCritical: "critical"}

func (s Severity) String() string {
	if n, ok := severityNames[s]; ok {
		return n
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// MarshalText implements encoding.TextMarshaler.
func (s Severity) MarshalText() ([]byte, error) {
	if _, ok := severityNames[s]; !ok {
		return nil, fmt.Errorf("invalid severity %d", int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Severity) UnmarshalText(b []byte) error {
	for k, v := range severityNames {
		if v == string(b) {
			*s = k
			return nil
		}
	}
	return fmt.Errorf("unknown severity %q", b)
}

// ParseSeverity parses "info", "warning" or "critical".
func ParseSeverity(s string) (Severity, error) {
	var v Severity
	err := v.UnmarshalText([]byte(s))
	return v, err
}

// Span is a closed time interval [From, To] (From == To for an instant).
type Span struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Duration is To − From.
func (s Span) Duration() time.Duration { return s.To.Sub(s.From) }

// Overlaps reports whether the closed spans s and o share an instant.
func (s Span) Overlaps(o Span) bool { return !s.To.Before(o.From) && !o.To.Before(s.From) }

// Union is the smallest span holding both.
func (s Span) Union(o Span) Span {
	u := s
	if o.From.Before(u.From) {
		u.From = o.From
	}
	if o.To.After(u.To) {
		u.To = o.To
	}
	return u
}

// Finding is one detector's result for one device: what, how bad, when, and
// the numbers that support it. Evidence keys carry their unit as a suffix
// (_w, _wh, _s, _min, …); each detector's keys are listed in doc.go.
type Finding struct {
	DeviceID string             `json:"device_id"`
	SiteID   string             `json:"site_id"`
	Type     Type               `json:"type"`
	Severity Severity           `json:"severity"`
	Span     Span               `json:"span"`
	Basis    string             `json:"basis,omitempty"` // what it was compared with: "clear_sky_model", "peers", "counter", "power", "timestamps", …
	Summary  string             `json:"summary"`
	Evidence map[string]float64 `json:"evidence,omitempty"`
}

// Key identifies the alert a finding belongs to.
func (f *Finding) Key() Key { return Key{DeviceID: f.DeviceID, Type: f.Type} }

// Key is (device, type): at most one alert per key is open at a time.
type Key struct {
	DeviceID string
	Type     Type
}

func (k Key) String() string { return k.DeviceID + "/" + string(k.Type) }

// Result is the outcome of one scan.
type Result struct {
	From, To time.Time
	Findings []Finding
	// Inconclusive lists (device, type) pairs the scan could not judge (for
	// example performance on an overcast day with no peers): an open alert
	// for such a key is neither confirmed nor resolved by this scan.
	Inconclusive []Key
	// Scanned lists the ids of the devices the scan covered; an open alert of
	// a device not in it is left alone.
	Scanned []string
	// Skipped maps device ids the scan could not model to the reason (an
	// invalid location or rating).
	Skipped map[string]string
	Points  int // samples examined
	// Days summarises each scanned device's whole solar days (24-hour
	// buckets inside the scan that begin and end at night for the device)
	// for the multi-day judgements: JudgeTrends records them in a History,
	// a DayStore persists them.
	Days []DaySummary
}

// DaySummary is what the multi-day judgements keep of one device's solar
// day. A value that could not be computed is NaN.
type DaySummary struct {
	DeviceID string
	SiteID   string
	// Date is the local mean solar date of the day (SolarDate), at 00:00
	// UTC: a device has at most one summary per Date.
	Date time.Time
	Span Span // first to last sample with clear-sky output
	// PIRatio is the day's performance index over its peers' median
	// (PeerPI), or over 1 (the clear-sky model) without peers, on a day
	// sunny enough to have clear moments (see trendMetrics).
	PIRatio float64
	PeerPI  bool
	// SkyIndex is the day's yield over its clear-sky expectation: the
	// peers' median (PeerPI), or the device's own.
	SkyIndex float64
	// OffsetMin is the day's edge offset, minutes: the midpoint of its first
	// and last output against its peers' median (PeerOffset) or against its
	// clear-sky model.
	OffsetMin  float64
	PeerOffset bool
	// ClockShift: the day's clock_offset finding fired (the profile's
	// cross-correlation confirmed the edge offset).
	ClockShift bool
}

// SolarDate is the local mean solar date at t for longitude lon (degrees
// east), as 00:00 UTC of that date. A 24-hour bucket that begins and ends
// at night holds exactly one daylight period, and its middle falls on that
// daylight's solar date.
func SolarDate(t time.Time, lon float64) time.Time {
	local := t.Add(time.Duration(lon / 15 * float64(time.Hour))).UTC()
	return time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.UTC)
}
