package anomaly

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// JudgeTrends records res.Days in h and appends to res.Findings the
// multi-day judgements of every device res scanned, over its summaries in h
// dated at most Trend.Days before res.To (this scan's whole days included):
//
//   - under_performance: the median PI ratio of the device's most recent
//     Trend.MaxDays days with one (at least Trend.MinDays, all against
//     peers or all against the model, like the most recent) is at most
//     1 − Trend.Deficit against peers (basis "peers_trend"), or
//     1 − Perf.Deficit against the clear-sky model (basis
//     "clear_sky_model_trend": the model's PR assumption is not as sure as
//     the peers).
//   - clock_offset: the edge offsets of the device's most recent
//     Trend.MinDays days with one all reach Clock.MinOffset against peers
//     (basis "peers_trend"), or Clock.MinOffsetAlone against the model
//     ("clear_sky_model_trend"), with one sign. Against peers, the profile's
//     cross-correlation must also have confirmed a shift on one day of the
//     window; against the model alone it has only the clear-sky shape to
//     compare with, which clouds distort, and persistence stands in for it.
//
// While the performance judgement has fewer than Trend.MinDays days and
// their median shows the deficit, the scan is inconclusive for
// under_performance (res.Inconclusive): an open alert does not resolve
// while the evidence that would keep it open is still gathering.
//
// A trend finding is repeated by every scan while its condition holds, so
// that the alert it belongs to stays open between the scans that hold
// whole days: call JudgeTrends after every scan, in time order, before
// Tracker.Apply. It does no I/O; persisting res.Days is the caller's
// (DayStore).
func (s *Scanner) JudgeTrends(res *Result, h *History) {
	h.Add(res.Days)
	h.Prune(res.To)
	n := len(res.Findings)
	for _, id := range res.Scanned {
		days := h.Device(id, res.To)
		if len(days) == 0 {
			continue
		}
		switch f, v := s.performanceTrend(days); v {
		case trendFires:
			res.Findings = append(res.Findings, f)
		case trendPending:
			res.Inconclusive = append(res.Inconclusive, Key{DeviceID: id, Type: TypeUnderPerformance})
		}
		if f, ok := s.clockTrend(days); ok {
			res.Findings = append(res.Findings, f)
		}
	}
	if len(res.Findings) > n {
		sortFindings(res.Findings)
	}
}

// trendVerdict is the outcome of a multi-day performance judgement.
type trendVerdict int

const (
	trendNone    trendVerdict = iota
	trendPending              // a deficit on fewer than Trend.MinDays days
	trendFires
)

// performanceTrend judges a persistent performance deficit from a device's
// summaries (oldest first).
func (s *Scanner) performanceTrend(days []DaySummary) (Finding, trendVerdict) {
	cfg := s.cfg.Trend
	var used []DaySummary
	for i := len(days) - 1; i >= 0 && len(used) < cfg.MaxDays; i-- {
		if d := days[i]; !math.IsNaN(d.PIRatio) && (len(used) == 0 || d.PeerPI == used[0].PeerPI) {
			used = append(used, d)
		}
	}
	if len(used) == 0 {
		return Finding{}, trendNone
	}
	slices.Reverse(used)
	first, last := used[0], used[len(used)-1]
	deficit, basis, against := cfg.Deficit, "peers_trend", "its peers' median"
	if !last.PeerPI {
		deficit, basis, against = s.cfg.Perf.Deficit, "clear_sky_model_trend", "the clear-sky model"
	}
	ratios := make([]float64, len(used))
	sky := make([]float64, len(used))
	for i, d := range used {
		ratios[i], sky[i] = d.PIRatio, d.SkyIndex
	}
	slope := theilSen(used, func(d *DaySummary) float64 { return d.PIRatio })
	slices.Sort(ratios)
	med, _ := medianMAD(ratios)
	switch {
	case med > 1-deficit:
		return Finding{}, trendNone
	case len(used) < cfg.MinDays:
		return Finding{}, trendPending
	}
	slices.Sort(sky)
	skyMed, _ := medianMAD(sky)
	sev := SeverityWarning
	if med < 0.5 {
		sev = SeverityCritical
	}
	return Finding{
		DeviceID: last.DeviceID, SiteID: last.SiteID, Type: TypeUnderPerformance, Severity: sev,
		Span: Span{From: first.Span.From, To: last.Span.To}, Basis: basis,
		Summary: fmt.Sprintf("performance index %.0f %% below %s over %d sunny days (%+.1f %%/day): soiling, shading or a failing string",
			100*(1-med), against, len(used), 100*slope),
		Evidence: map[string]float64{"pi_ratio": med, "pi_ratio_first": first.PIRatio, "pi_ratio_last": last.PIRatio,
			"slope_per_day": slope, "days": float64(len(used)), "sky_index": skyMed},
	}, trendFires
}

// clockTrend judges a persistent clock offset from a device's summaries
// (oldest first).
func (s *Scanner) clockTrend(days []DaySummary) (Finding, bool) {
	cfg := s.cfg.Trend
	var offs []DaySummary
	confirmed := -1 // index in offs of the first confirmed day
	for _, d := range days {
		if math.IsNaN(d.OffsetMin) {
			continue
		}
		if d.ClockShift && confirmed < 0 {
			confirmed = len(offs)
		}
		offs = append(offs, d)
	}
	if len(offs) < cfg.MinDays {
		return Finding{}, false
	}
	recent := offs[len(offs)-cfg.MinDays:]
	last := recent[len(recent)-1]
	sign := math.Copysign(1, last.OffsetMin)
	for _, d := range recent {
		limit := s.cfg.Clock.MinOffsetAlone
		if d.PeerOffset {
			limit = s.cfg.Clock.MinOffset
		}
		if sign*d.OffsetMin < limit.Minutes() {
			return Finding{}, false
		}
	}
	basis := "clear_sky_model_trend"
	if last.PeerOffset {
		if confirmed < 0 {
			return Finding{}, false
		}
		basis = "peers_trend"
	}
	ev := map[string]float64{"offset_min": last.OffsetMin, "days": float64(len(recent))}
	// The drift: since the first confirmed day, or over the persistent days.
	since := recent
	if confirmed >= 0 && confirmed < len(offs)-len(recent) {
		since = offs[confirmed:]
	}
	rate := theilSen(since, func(d *DaySummary) float64 { return d.OffsetMin })
	ev["drift_min_per_day"] = rate
	return Finding{
		DeviceID: last.DeviceID, SiteID: last.SiteID, Type: TypeClockOffset, Severity: SeverityWarning,
		Span: Span{From: recent[0].Span.From, To: last.Span.To}, Basis: basis, Evidence: ev,
		Summary: fmt.Sprintf("production day shifted by %+.0f min, by at least %.0f min on each of the last %d days (%+.0f min/day since %s): clock or time-zone error",
			last.OffsetMin, minAbs(recent), len(recent), rate, since[0].Date.Format(time.DateOnly)),
	}, true
}

// minAbs is the smallest |OffsetMin| of days.
func minAbs(days []DaySummary) float64 {
	m := math.Inf(1)
	for _, d := range days {
		m = math.Min(m, math.Abs(d.OffsetMin))
	}
	return m
}

// theilSen is the Theil–Sen slope of y(d) per day over days (the median of
// the pairwise slopes; the lower median for an even count), or 0 when no
// two days differ in date.
func theilSen(days []DaySummary, y func(*DaySummary) float64) float64 {
	var slopes []float64
	for i := range days {
		for j := i + 1; j < len(days); j++ {
			dx := days[j].Date.Sub(days[i].Date).Hours() / 24
			if dx != 0 {
				slopes = append(slopes, (y(&days[j])-y(&days[i]))/dx)
			}
		}
	}
	if len(slopes) == 0 {
		return 0
	}
	slices.Sort(slopes)
	med, _ := medianMAD(slopes)
	return med
}
