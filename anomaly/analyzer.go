package anomaly

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sunproof/sunproof/devices"
)

// Loader loads a fleet's series for a scan range (Source implements it).
type Loader interface {
	Load(ctx context.Context, devs []devices.Device, from, to time.Time) ([]Series, LoadStats, error)
}

// Fleet lists the devices to scan (devices.Registry and devices.Static
// implement it).
type Fleet interface {
	Devices() []devices.Device
}

// Notifier receives the alerts that changed in a scan (Kafka pv.alerts,
// signed webhooks: implemented by the caller).
type Notifier interface {
	Notify(ctx context.Context, changed []Alert) error
}

// AnalyzerConfig schedules scans.
type AnalyzerConfig struct {
	Every  time.Duration `yaml:"every"`  // scan period, scans end on multiples of it (1 h)
	Window time.Duration `yaml:"window"` // each scan covers the Window before its end (24 h)
	Delay  time.Duration `yaml:"delay"`  // scan end lags the clock by this, for late readings (10 min)
}

// DefaultAnalyzerConfig returns hourly scans of the last 24 hours.
func DefaultAnalyzerConfig() AnalyzerConfig {
	return AnalyzerConfig{Every: time.Hour, Window: 24 * time.Hour, Delay: 10 * time.Minute}
}

// Validate checks the schedule.
func (c AnalyzerConfig) Validate() error {
	if c.Every <= 0 || c.Window <= 0 || c.Delay < 0 {
		return fmt.Errorf("every %s, window %s, delay %s: every and window must be positive: %w", c.Every, c.Window, c.Delay, ErrInvalidConfig)
	}
	return nil
}

// Analyzer runs scheduled scans: load → scan → multi-day judgements → alert
// transitions → anchoring state → store → notify. Scans must not overlap:
// Run is the only caller of ScanOnce while it runs.
type Analyzer struct {
	Config  AnalyzerConfig
	Scanner *Scanner
	Tracker *Tracker
	Source  Loader
	Fleet   Fleet
	Store   Store
	// History, if set, receives each scan's whole days and feeds the
	// multi-day judgements (Scanner.JudgeTrends); resume it with
	// LoadHistory after a restart.
	History *History
	// Days, if set (with History), persists each scan's day summaries.
	Days      DayStore
	Anchors   AnchorChecker    // optional
	Notifiers []Notifier       // optional
	Log       *slog.Logger     // nil: discard
	Now       func() time.Time // nil: time.Now
}

func (a *Analyzer) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *Analyzer) log() *slog.Logger {
	if a.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Log
}

// ScanOnce scans [from, to) and returns the result and the alerts that
// changed, after saving them and notifying.
func (a *Analyzer) ScanOnce(ctx context.Context, from, to time.Time) (Result, []Alert, error) {
	var devs []devices.Device
	for _, d := range a.Fleet.Devices() {
		if d.Active() {
			devs = append(devs, d)
		}
	}
	series, st, err := a.Source.Load(ctx, devs, from, to)
	if err != nil {
		return Result{}, nil, fmt.Errorf("load %s..%s: %w", from.Format(time.RFC3339), to.Format(time.RFC3339), err)
	}
	start := time.Now()
	res, err := a.Scanner.Scan(ctx, series, from, to)
	if err != nil {
		return res, nil, err
	}
	var errs []error
	if a.History != nil {
		a.Scanner.JudgeTrends(&res, a.History)
		if a.Days != nil && len(res.Days) > 0 {
			// A lost save costs the history these days after a restart,
			// not this scan's alerts: report it, go on.
			if err := a.Days.Save(ctx, res.Days); err != nil {
				errs = append(errs, fmt.Errorf("save %d day summaries: %w", len(res.Days), err))
			}
		}
	}
	changed := a.Tracker.Apply(res, a.now())
	if a.Anchors != nil {
		for i := range changed {
			c := &changed[i]
			if c.State != StateOpen {
				continue
			}
			s, err := a.Anchors.Anchored(ctx, c.DeviceID, c.Span.From, c.Span.To)
			if err != nil {
				a.log().Warn("anchoring state unknown", "device_id", c.DeviceID, "err", err)
				continue
			}
			c.Anchored = s
			a.Tracker.SetAnchoring(c.Key(), s)
		}
	}
	if err := a.Store.Save(ctx, changed); err != nil {
		return res, changed, errors.Join(append(errs, fmt.Errorf("save %d alerts: %w", len(changed), err))...)
	}
	for _, n := range a.Notifiers {
		if err := n.Notify(ctx, changed); err != nil {
			errs = append(errs, err)
		}
	}
	a.log().Info("scan done", "from", from, "to", to, "devices", len(devs), "rows", st.Rows,
		"load_s", st.Elapsed.Seconds(), "scan_s", time.Since(start).Seconds(),
		"findings", len(res.Findings), "days", len(res.Days), "changed", len(changed))
	return res, changed, errors.Join(errs...)
}

// Run scans every Config.Every until ctx is cancelled; it returns nil then.
// A failed scan is logged and retried at the next period.
func (a *Analyzer) Run(ctx context.Context) error {
	if err := a.Config.Validate(); err != nil {
		return err
	}
	for {
		end := a.now().Add(-a.Config.Delay).Truncate(a.Config.Every)
		if _, _, err := a.ScanOnce(ctx, end.Add(-a.Config.Window), end); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			a.log().Error("scan failed", "err", err)
		}
		next := end.Add(a.Config.Every + a.Config.Delay)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Until(next)):
		}
	}
}
