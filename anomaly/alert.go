package anomaly

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// State is an alert's lifecycle state.
type State string

// Alert states: an alert opens with its first finding and resolves after
// enough conclusive scans without one.
const (
	StateOpen     State = "open"
	StateResolved State = "resolved"
)

// Anchoring says whether the readings in an alert's span are anchored on
// chain (see package anchor). The tracker leaves it AnchoringUnknown; an
// AnchorChecker fills it in.
type Anchoring string

// Anchoring values.
const (
	AnchoringUnknown Anchoring = "unknown"
	AnchoringFull    Anchoring = "anchored"   // every reading in the span is in an anchored window
	AnchoringPartial Anchoring = "partial"    // some are
	AnchoringNone    Anchoring = "unanchored" // none are (yet)
)

// AnchorChecker reports whether a device's readings in [from, to] are
// anchored. It is implemented on top of package anchor by the caller.
type AnchorChecker interface {
	Anchored(ctx context.Context, deviceID string, from, to time.Time) (Anchoring, error)
}

// Alert is one fault of one device: the findings of one Type for one device
// in consecutive scans, from the first until a clean scan resolves it.
type Alert struct {
	ID         string             `json:"id"` // device/type/first span start in Unix ms
	DeviceID   string             `json:"device_id"`
	SiteID     string             `json:"site_id"`
	Type       Type               `json:"type"`
	Severity   Severity           `json:"severity"` // highest seen
	State      State              `json:"state"`
	Span       Span               `json:"span"`  // union of the findings' spans
	Start      time.Time          `json:"start"` // Span.From of the first finding: the alert's identity in stores
	OpenedAt   time.Time          `json:"opened_at"`
	UpdatedAt  time.Time          `json:"updated_at"`           // last scan that confirmed it
	ResolvedAt time.Time          `json:"resolved_at,omitzero"` // zero while open
	Scans      int                `json:"scans"`                // scans that confirmed it
	Clean      int                `json:"clean"`                // conclusive scans since, without a finding
	Basis      string             `json:"basis,omitempty"`
	Summary    string             `json:"summary"`
	Evidence   map[string]float64 `json:"evidence,omitempty"` // of the most severe, then latest, finding
	Anchored   Anchoring          `json:"anchored"`
}

// Key returns the alert's (device, type).
func (a *Alert) Key() Key { return Key{DeviceID: a.DeviceID, Type: a.Type} }

// TrackerConfig sets when alerts resolve.
type TrackerConfig struct {
	// ResolveAfter is the number of conclusive scans without a finding that
	// resolve an alert (1).
	ResolveAfter int `yaml:"resolve_after"`
	// ResolveAfterType overrides ResolveAfter per type. Day-level
	// judgements flicker with the weather: by default under- and
	// over-performance and clock offset need 2 clean scans.
	ResolveAfterType map[Type]int `yaml:"resolve_after_type"`
	// Reopen: a finding that overlaps the span of an alert of the same key
	// resolved less than this long ago reopens it rather than opening a new
	// one (7 days).
	Reopen time.Duration `yaml:"reopen"`
}

// DefaultTrackerConfig returns the defaults above.
func DefaultTrackerConfig() TrackerConfig {
	return TrackerConfig{
		ResolveAfter: 1,
		ResolveAfterType: map[Type]int{
			TypeUnderPerformance: 2, TypeOverPerformance: 2, TypeClockOffset: 2,
		},
		Reopen: 7 * 24 * time.Hour,
	}
}

// Validate checks the configuration.
func (c TrackerConfig) Validate() error {
	if c.ResolveAfter < 1 {
		return fmt.Errorf("resolve_after %d below 1: %w", c.ResolveAfter, ErrInvalidConfig)
	}
	for t, n := range c.ResolveAfterType {
		if n < 1 {
			return fmt.Errorf("resolve_after_type[%s] %d below 1: %w", t, n, ErrInvalidConfig)
		}
	}
	if c.Reopen < 0 {
		return fmt.Errorf("reopen %s is negative: %w", c.Reopen, ErrInvalidConfig)
	}
	return nil
}

func (c TrackerConfig) resolveAfter(t Type) int {
	if n, ok := c.ResolveAfterType[t]; ok {
		return n
	}
	return c.ResolveAfter
}

// Tracker is the alert state machine: it turns each scan's findings into
// alert transitions (open → open (updated) → resolved; resolved → open again
// if a finding overlaps its span within TrackerConfig.Reopen). It is safe
// for concurrent use, but scans must be applied in time order.
type Tracker struct {
	cfg      TrackerConfig
	mu       sync.Mutex
	open     map[Key]*Alert
	resolved map[Key]*Alert // most recently resolved per key, for reopening
}

// NewTracker returns a tracker that resumes with the given open alerts (from
// Store.Open after a restart).
func NewTracker(cfg TrackerConfig, open []Alert) (*Tracker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t := &Tracker{cfg: cfg, open: map[Key]*Alert{}, resolved: map[Key]*Alert{}}
	for _, a := range open {
		if a.State == StateOpen {
			c := a
			t.open[a.Key()] = &c
		}
	}
	return t, nil
}

// Apply feeds one scan's result, taken at now, and returns the alerts that
// changed (opened, updated, reopened or resolved), sorted by ID: what to
// save and to notify.
func (t *Tracker) Apply(res Result, now time.Time) []Alert {
	t.mu.Lock()
	defer t.mu.Unlock()
	byKey := map[Key][]Finding{}
	for _, f := range res.Findings {
		byKey[f.Key()] = append(byKey[f.Key()], f)
	}
	changed := map[Key]*Alert{}
	for _, k := range slices.SortedFunc(maps.Keys(byKey), func(a, b Key) int {
		return cmp.Or(cmp.Compare(a.DeviceID, b.DeviceID), cmp.Compare(a.Type, b.Type))
	}) {
		fs := byKey[k]
		a := t.open[k]
		if a == nil {
			if r := t.resolved[k]; r != nil && now.Sub(r.ResolvedAt) <= t.cfg.Reopen && overlapsAny(r.Span, fs) {
				a = r
				a.State, a.ResolvedAt = StateOpen, time.Time{}
				delete(t.resolved, k)
			} else {
				first := fs[0]
				a = &Alert{
					ID:       fmt.Sprintf("%s/%s/%d", k.DeviceID, k.Type, first.Span.From.UnixMilli()),
					DeviceID: k.DeviceID, SiteID: first.SiteID, Type: k.Type, State: StateOpen,
					Span: first.Span, Start: first.Span.From, OpenedAt: now, Anchored: AnchoringUnknown,
				}
			}
			t.open[k] = a
		}
		for _, f := range fs {
			a.Span = a.Span.Union(f.Span)
			if f.Severity >= a.Severity {
				a.Severity = f.Severity
				a.Basis, a.Summary, a.Evidence = f.Basis, f.Summary, f.Evidence
			}
		}
		a.Scans++
		a.Clean = 0
		a.UpdatedAt = now
		changed[k] = a
	}
	scanned := make(map[string]bool, len(res.Scanned))
	for _, id := range res.Scanned {
		scanned[id] = true
	}
	inconclusive := make(map[Key]bool, len(res.Inconclusive))
	for _, k := range res.Inconclusive {
		inconclusive[k] = true
	}
	for k, a := range t.open {
		if _, hit := byKey[k]; hit || !scanned[k.DeviceID] || inconclusive[k] {
			continue
		}
		a.Clean++
		if a.Clean >= t.cfg.resolveAfter(k.Type) {
			a.State, a.ResolvedAt = StateResolved, now
			delete(t.open, k)
			t.resolved[k] = a
			changed[k] = a
		}
	}
	// Forget resolved alerts too old to reopen.
	for k, a := range t.resolved {
		if now.Sub(a.ResolvedAt) > t.cfg.Reopen {
			delete(t.resolved, k)
		}
	}
	out := make([]Alert, 0, len(changed))
	for _, a := range changed {
		out = append(out, cloneAlert(a))
	}
	slices.SortFunc(out, func(a, b Alert) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Open returns the open alerts, sorted by ID.
func (t *Tracker) Open() []Alert {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Alert, 0, len(t.open))
	for _, a := range t.open {
		out = append(out, cloneAlert(a))
	}
	slices.SortFunc(out, func(a, b Alert) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// SetAnchoring records the anchoring state of an open alert.
func (t *Tracker) SetAnchoring(k Key, s Anchoring) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if a := t.open[k]; a != nil {
		a.Anchored = s
	}
}

func overlapsAny(s Span, fs []Finding) bool {
	for _, f := range fs {
		if s.Overlaps(f.Span) {
			return true
		}
	}
	return false
}

func cloneAlert(a *Alert) Alert {
	c := *a
	c.Evidence = maps.Clone(a.Evidence)
	return c
}

// Store persists alerts. Save upserts by ID (the latest state wins); Open
// returns the alerts whose latest state is open, to resume a Tracker.
type Store interface {
	Save(ctx context.Context, alerts []Alert) error
	Open(ctx context.Context) ([]Alert, error)
}

// MemStore is an in-memory Store, for tests and single-process demos. It is
// safe for concurrent use.
type MemStore struct {
	mu     sync.Mutex
	alerts map[string]Alert
}

// NewMemStore returns an empty store.
func NewMemStore() *MemStore { return &MemStore{alerts: map[string]Alert{}} }

// Save implements Store.
func (m *MemStore) Save(_ context.Context, alerts []Alert) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, a := range alerts {
		m.alerts[a.ID] = cloneAlert(&a)
	}
	return nil
}

// Open implements Store.
func (m *MemStore) Open(context.Context) ([]Alert, error) {
	return m.filter(func(a *Alert) bool { return a.State == StateOpen }), nil
}

// All returns every alert ever saved, sorted by ID.
func (m *MemStore) All() []Alert { return m.filter(func(*Alert) bool { return true }) }

func (m *MemStore) filter(keep func(*Alert) bool) []Alert {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Alert
	for _, a := range m.alerts {
		if keep(&a) {
			out = append(out, cloneAlert(&a))
		}
	}
	slices.SortFunc(out, func(a, b Alert) int { return cmp.Compare(a.ID, b.ID) })
	return out
}
