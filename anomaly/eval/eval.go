package eval

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sunproof/sunproof/anomaly"
	"github.com/sunproof/sunproof/devices"
)

// LoadFunc returns the fleet's series for one scan range: from memory
// (Fleet.Series) or from InfluxDB (anomaly.Source).
type LoadFunc func(ctx context.Context, devs []devices.Device, from, to time.Time) ([]anomaly.Series, error)

// Metrics are one fault type's scores.
type Metrics struct {
	Faults        int     // labelled faults
	Detected      int     // with at least one matching alert
	TruePositive  int     // alerts matching a fault of this type
	FalsePositive int     // alerts of a detecting type that match no fault at all
	AlertsPerHit  float64 // matching alerts per detected fault (1 = one fault, one alert)
	Precision     float64
	Recall        float64
	F1            float64
	MeanDelay     time.Duration // first matching alert's scan time − fault start
	Missed        []Label
}

// Report is the evaluation outcome.
type Report struct {
	Devices, Days     int
	Points            int
	HealthyDeviceDays int
	FalseAlarms       int     // alerts (≥ warning) on healthy device-days
	FalseAlarmsPer1k  float64 // per 1,000 healthy device-days
	Alarms            []anomaly.Alert
	FalseAlarmList    []anomaly.Alert
	Collateral        int            // alarms on faulty devices during a fault, of another type
	Flags             map[string]int // info-level data-quality flags by type
	PerType           map[FaultType]*Metrics
	ScanTime          time.Duration
	LoadTime          time.Duration
}

// Evaluate scans the fleet day by day (each day one scan, at the end of the
// day) through anomaly.Analyzer.ScanOnce, as `sunproof analyze` does: the
// scan, the multi-day judgements over an anomaly.History, the alert tracker
// and an alert store; then it scores the alerts against the labels.
func Evaluate(ctx context.Context, f *Fleet, load LoadFunc) (*Report, error) {
	cfg := f.Config
	sc, err := anomaly.NewScanner(cfg.Anomaly)
	if err != nil {
		return nil, err
	}
	tr, err := anomaly.NewTracker(cfg.Tracker, nil)
	if err != nil {
		return nil, err
	}
	store := anomaly.NewMemStore()
	src := &timedLoader{load: load}
	var now time.Time
	a := &anomaly.Analyzer{
		Scanner: sc, Tracker: tr, Source: src, Fleet: fleetDevices(f.Devices), Store: store,
		History: anomaly.NewHistory(cfg.Anomaly.Trend.Days), Now: func() time.Time { return now },
	}
	rep := &Report{Devices: len(f.Devices), Days: cfg.Days, Flags: map[string]int{}, PerType: map[FaultType]*Metrics{}}
	firstSeen := map[string]time.Time{} // alert id → scan time it opened
	for k := range cfg.Days {
		from := cfg.Start.Add(time.Duration(k) * 24 * time.Hour)
		to := from.Add(24 * time.Hour)
		now, src.elapsed = to, 0
		t0 := time.Now()
		res, changed, err := a.ScanOnce(ctx, from, to)
		if err != nil {
			return nil, fmt.Errorf("day %d: %w", k, err)
		}
		rep.LoadTime += src.elapsed
		rep.ScanTime += time.Since(t0) - src.elapsed
		rep.Points += res.Points
		for _, al := range changed {
			if _, ok := firstSeen[al.ID]; !ok {
				firstSeen[al.ID] = to
			}
		}
	}
	score(f, store.All(), firstSeen, rep)
	return rep, nil
}

// fleetDevices is the evaluated fleet as an anomaly.Fleet (every device
// active, in the fleet's order).
type fleetDevices []devices.Device

func (f fleetDevices) Devices() []devices.Device { return f }

// timedLoader is a LoadFunc as an anomaly.Loader that times its loads.
type timedLoader struct {
	load    LoadFunc
	elapsed time.Duration
}

func (l *timedLoader) Load(ctx context.Context, devs []devices.Device, from, to time.Time) ([]anomaly.Series, anomaly.LoadStats, error) {
	t0 := time.Now()
	series, err := l.load(ctx, devs, from, to)
	l.elapsed += time.Since(t0)
	return series, anomaly.LoadStats{Elapsed: time.Since(t0)}, err
}

// matches reports whether alert a detects label l.
func matches(a *anomaly.Alert, l *Label, slack time.Duration) bool {
	if a.DeviceID != l.DeviceID || !slices.Contains(Detects[l.Type], a.Type) {
		return false
	}
	return overlaps(a.Span, l, slack)
}

func overlaps(s anomaly.Span, l *Label, slack time.Duration) bool {
	return !s.To.Before(l.From.Add(-slack)) && !l.To.Add(slack).Before(s.From)
}

func score(f *Fleet, alerts []anomaly.Alert, firstSeen map[string]time.Time, rep *Report) {
	slack := 2 * f.Config.Step
	byDev := map[string][]*Label{}
	for i := range f.Labels {
		l := &f.Labels[i]
		byDev[l.DeviceID] = append(byDev[l.DeviceID], l)
	}
	for _, t := range FaultTypes {
		rep.PerType[t] = &Metrics{}
	}
	for i := range f.Labels {
		rep.PerType[f.Labels[i].Type].Faults++
	}
	hits := map[*Label][]*anomaly.Alert{}
	for i := range alerts {
		a := &alerts[i]
		if a.Severity < anomaly.SeverityWarning {
			rep.Flags[string(a.Type)]++
			continue
		}
		rep.Alarms = append(rep.Alarms, *a)
		matched, duringFault := false, false
		for _, l := range byDev[a.DeviceID] {
			if matches(a, l, slack) {
				matched = true
				hits[l] = append(hits[l], a)
			}
			if overlaps(a.Span, l, 24*time.Hour) {
				duringFault = true
			}
		}
		switch {
		case matched:
			for _, t := range FaultTypes {
				for _, l := range byDev[a.DeviceID] {
					if l.Type == t && matches(a, l, slack) {
						rep.PerType[t].TruePositive++
						break
					}
				}
			}
		case duringFault:
			rep.Collateral++
		default:
			for _, t := range FaultTypes {
				if slices.Contains(Detects[t], a.Type) {
					rep.PerType[t].FalsePositive++
				}
			}
			rep.FalseAlarmList = append(rep.FalseAlarmList, *a)
		}
	}
	for i := range f.Labels {
		l := &f.Labels[i]
		m := rep.PerType[l.Type]
		hs := hits[l]
		if len(hs) == 0 {
			m.Missed = append(m.Missed, *l)
			continue
		}
		m.Detected++
		m.AlertsPerHit += float64(len(hs))
		first := firstSeen[hs[0].ID]
		for _, h := range hs[1:] {
			if t := firstSeen[h.ID]; t.Before(first) {
				first = t
			}
		}
		if first.After(l.From) {
			m.MeanDelay += first.Sub(l.From)
		}
	}
	for _, m := range rep.PerType {
		if m.Detected > 0 {
			m.AlertsPerHit /= float64(m.Detected)
			m.MeanDelay /= time.Duration(m.Detected)
		}
		if m.Faults > 0 {
			m.Recall = float64(m.Detected) / float64(m.Faults)
		}
		if m.TruePositive+m.FalsePositive > 0 {
			m.Precision = float64(m.TruePositive) / float64(m.TruePositive+m.FalsePositive)
		}
		if m.Precision+m.Recall > 0 {
			m.F1 = 2 * m.Precision * m.Recall / (m.Precision + m.Recall)
		}
	}
	// Healthy device-days: days on which no label of the device acts. A
	// false alarm is an alarm matching no label whose span starts on one.
	healthy := map[string]bool{}
	cfg := f.Config
	for _, d := range f.Devices {
		for k := range cfg.Days {
			from := cfg.Start.Add(time.Duration(k) * 24 * time.Hour)
			day := &Label{From: from, To: from.Add(24 * time.Hour)}
			sick := false
			for _, l := range byDev[d.ID] {
				if !l.To.Before(day.From) && l.From.Before(day.To) {
					sick = true
				}
			}
			if !sick {
				healthy[fmt.Sprintf("%s/%d", d.ID, k)] = true
				rep.HealthyDeviceDays++
			}
		}
	}
	for i := range rep.FalseAlarmList {
		a := &rep.FalseAlarmList[i]
		k := int(a.Span.From.Sub(cfg.Start) / (24 * time.Hour))
		if healthy[fmt.Sprintf("%s/%d", a.DeviceID, max(k, 0))] {
			rep.FalseAlarms++
		}
	}
	if rep.HealthyDeviceDays > 0 {
		rep.FalseAlarmsPer1k = 1000 * float64(rep.FalseAlarms) / float64(rep.HealthyDeviceDays)
	}
}

// WriteText prints the report as tables.
func (r *Report) WriteText(w io.Writer) {
	fmt.Fprintf(w, "fleet: %d devices × %d days, %d points; load %s, scan %s\n", r.Devices, r.Days, r.Points,
		r.LoadTime.Round(time.Millisecond), r.ScanTime.Round(time.Millisecond))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "fault\tfaults\tdetected\tTP alerts\tFP alerts\talerts/fault\tprecision\trecall\tF1\tmean delay\t")
	for _, t := range FaultTypes {
		m := r.PerType[t]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%.2f\t%.3f\t%.3f\t%.3f\t%s\t\n", t, m.Faults, m.Detected, m.TruePositive, m.FalsePositive,
			m.AlertsPerHit, m.Precision, m.Recall, m.F1, m.MeanDelay.Round(time.Minute))
	}
	tw.Flush()
	fmt.Fprintf(w, "false alarms: %d on %d healthy device-days = %.2f per 1,000 healthy device-days\n",
		r.FalseAlarms, r.HealthyDeviceDays, r.FalseAlarmsPer1k)
	fmt.Fprintf(w, "collateral alarms (another type, on a faulty device during its fault): %d\n", r.Collateral)
	if len(r.Flags) > 0 {
		keys := make([]string, 0, len(r.Flags))
		for k := range r.Flags {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s %d", k, r.Flags[k]))
		}
		fmt.Fprintf(w, "data-quality flags (info, not alarms): %s\n", strings.Join(parts, ", "))
	}
	for _, t := range FaultTypes {
		for _, l := range r.PerType[t].Missed {
			fmt.Fprintf(w, "missed %s on %s %s–%s (%s)\n", l.Type, l.DeviceID, l.From.Format("01-02 15:04"), l.To.Format("01-02 15:04"), l.Detail)
		}
	}
	for _, a := range r.FalseAlarmList {
		fmt.Fprintf(w, "unmatched alarm %s %s %s %s–%s: %s\n", a.DeviceID, a.Type, a.Severity, a.Span.From.Format("01-02 15:04"), a.Span.To.Format("01-02 15:04"), a.Summary)
	}
}

// MemoryLoader returns a LoadFunc over series already in memory that, like
// anomaly.Source, returns the samples in [from − lookback, to).
func MemoryLoader(series []anomaly.Series, lookback time.Duration) LoadFunc {
	return func(_ context.Context, _ []devices.Device, from, to time.Time) ([]anomaly.Series, error) {
		out := make([]anomaly.Series, len(series))
		lo := from.Add(-lookback)
		for i, s := range series {
			out[i].Device = s.Device
			for _, smp := range s.Samples {
				if !smp.T.Before(lo) && smp.T.Before(to) {
					out[i].Samples = append(out[i].Samples, smp)
				}
			}
		}
		return out, nil
	}
}

// FromLoader returns a LoadFunc over an anomaly.Loader (an anomaly.Source
// on InfluxDB, possibly wrapped with anomaly.WithRejects).
func FromLoader(l anomaly.Loader) LoadFunc {
	return func(ctx context.Context, devs []devices.Device, from, to time.Time) ([]anomaly.Series, error) {
		s, _, err := l.Load(ctx, devs, from, to)
		return s, err
	}
}
