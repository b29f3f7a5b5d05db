package anomaly

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/sunproof/sunproof/ingest/reading"
	"gonum.org/v1/gonum/stat"
)

// The per-device detectors. Each runs on a devScan prepared by
// Scanner.prepare, in the order prepare calls them: later ones read the
// interval flags (iv) and sample marks (stuck, zero) set by earlier ones.

func hours(d time.Duration) float64 { return d.Hours() }

// detectTimestamps flags timestamps that go backwards in seq order: the
// device's clock was set back (or jumped) while it kept counting readings.
func (s *Scanner) detectTimestamps(d *devScan) {
	var n, first, last int
	var worst time.Duration
	for i := 1; i < len(d.smp); i++ {
		if back := d.smp[i-1].T.Sub(d.smp[i].T); back > 0 {
			d.iv[i] |= ivTimeBack
			if n == 0 {
				first = i - 1
			}
			last = i
			n++
			worst = max(worst, back)
		}
	}
	if n == 0 {
		return
	}
	d.add(Finding{
		Type: TypeClockOffset, Severity: SeverityWarning, Span: d.span(first, last), Basis: "timestamps",
		Summary:  fmt.Sprintf("timestamps went backwards %d times (by up to %s) while seq increased: the device clock was changed", n, worst.Round(time.Second)),
		Evidence: map[string]float64{"backward_steps": float64(n), "max_backward_s": worst.Seconds()},
	})
}

// detectGaps flags silences longer than Gap.Factor reporting intervals,
// including at the edges of the scan range and a scan with no sample.
func (s *Scanner) detectGaps(d *devScan, eph *ephemeris) {
	cfg := s.cfg.Gap
	limit := time.Duration(cfg.Factor * float64(d.interval))
	sev := func(dt time.Duration) Severity {
		if dt >= cfg.CriticalDuration {
			return SeverityCritical
		}
		return SeverityWarning
	}
	report := func(a, b time.Time, ev map[string]float64, what string) {
		expWh := d.expectedWh(eph, a, b, d.interval)
		if cfg.DaylightOnly && expWh <= 0 {
			return
		}
		ev["gap_s"] = b.Sub(a).Seconds()
		ev["interval_s"] = d.interval.Seconds()
		ev["expected_clear_wh"] = expWh
		d.add(Finding{
			Type: TypeCommGap, Severity: sev(b.Sub(a)), Span: Span{From: a, To: b}, Basis: "interval",
			Summary:  fmt.Sprintf("no reading for %s (%s; reporting interval %s)", b.Sub(a).Round(time.Second), what, d.interval.Round(time.Second)),
			Evidence: ev,
		})
	}
	// A device cannot be silent before it existed: a gap at the start of
	// the scan counts from the device's registration if that is later (a
	// plant installed today, or one whose agent backfilled history before
	// it was registered, is not an outage).
	start := d.from
	if c := d.dev.CreatedAt; c.After(start) {
		start = c
	}
	if len(d.smp) == 0 {
		if d.to.Sub(start) > limit {
			report(start, d.to, map[string]float64{"samples": 0}, "silent for the whole scan")
		}
		return
	}
	if dt := d.smp[0].T.Sub(start); dt > limit {
		report(start, d.smp[0].T, map[string]float64{}, "from the start of the scan")
	}
	for i := 1; i < len(d.smp); i++ {
		a, b := d.smp[i-1], d.smp[i]
		dt := b.T.Sub(a.T)
		if dt <= limit {
			continue
		}
		d.iv[i] |= ivGap
		ev := map[string]float64{}
		if a.Seq != 0 && b.Seq > a.Seq {
			ev["missing_seq"] = float64(b.Seq - a.Seq - 1)
		}
		what := "readings lost"
		if b.EnergyWh >= a.EnergyWh {
			ev["energy_in_gap_wh"] = float64(b.EnergyWh - a.EnergyWh)
			if b.EnergyWh > a.EnergyWh {
				what = "the counter advanced meanwhile: the plant ran, its data did not arrive"
			}
		}
		report(a.T, b.T, ev, what)
	}
	last := d.smp[len(d.smp)-1].T
	if dt := d.to.Sub(last); dt > limit {
		report(last, d.to, map[string]float64{}, "until the end of the scan: ongoing")
	}
}

// detectCounter flags lifetime-counter regressions and resets.
func (s *Scanner) detectCounter(d *devScan) {
	for i := 1; i < len(d.smp); i++ {
		a, b := d.smp[i-1], d.smp[i]
		if b.EnergyWh >= a.EnergyWh {
			continue
		}
		d.iv[i] |= ivRegress
		drop := a.EnergyWh - b.EnergyWh
		reset := 0.0
		what := "went down"
		if float64(b.EnergyWh) < 0.01*float64(a.EnergyWh) {
			reset, what = 1, "was reset"
		}
		if b.T.Before(a.T) {
			// Out-of-order timestamps already explain it only if the
			// counter is in seq order, which it is: still a regression.
			what += " (with a backward timestamp)"
		}
		d.add(Finding{
			Type: TypeCounterRegression, Severity: SeverityCritical, Span: d.span(i-1, i), Basis: "counter",
			Summary:  fmt.Sprintf("lifetime energy counter %s from %d Wh to %d Wh", what, a.EnergyWh, b.EnergyWh),
			Evidence: map[string]float64{"before_wh": float64(a.EnergyWh), "after_wh": float64(b.EnergyWh), "drop_wh": float64(drop), "reset": reset},
		})
	}
}

// detectStuck flags runs of at least Stuck.Window samples with exactly the
// same non-zero AC power whose counter did not advance with that power.
func (s *Scanner) detectStuck(d *devScan) {
	cfg := s.cfg.Stuck
	zeroW := s.cfg.ZeroFraction * d.rated
	n := len(d.smp)
	for i := 0; i < n; {
		j := i
		for j+1 < n && d.smp[j+1].ACPowerW == d.smp[i].ACPowerW {
			j++
		}
		a, b := i, j
		i = j + 1
		if b-a+1 < cfg.Window || d.smp[a].ACPowerW <= zeroW {
			continue
		}
		dt := d.smp[b].T.Sub(d.smp[a].T)
		if dt <= 0 {
			continue
		}
		powerWh := d.smp[a].ACPowerW * hours(dt)
		var counterWh float64
		if d.smp[b].EnergyWh >= d.smp[a].EnergyWh {
			counterWh = float64(d.smp[b].EnergyWh - d.smp[a].EnergyWh)
		}
		if math.Abs(counterWh-powerWh) <= cfg.CounterTolerance*powerWh {
			continue // a plateau: clipping or an export limit, the counter agrees
		}
		for k := a; k <= b; k++ {
			d.stuck[k] = true
			if k > a {
				d.iv[k] |= ivStuck
			}
		}
		if b+1 < n {
			d.iv[b+1] |= ivStuck // the thaw: the counter catches up
		}
		what := "power and counter frozen"
		if counterWh > 0 {
			what = "power register frozen while the counter advanced differently"
		}
		d.add(Finding{
			Type: TypeStuck, Severity: SeverityWarning, Span: d.span(a, b), Basis: "rolling_window",
			Summary: fmt.Sprintf("%d consecutive readings of exactly %.1f W over %s: %s", b-a+1, d.smp[a].ACPowerW, dt.Round(time.Second), what),
			Evidence: map[string]float64{"samples": float64(b - a + 1), "value_w": d.smp[a].ACPowerW, "counter_advance_wh": counterWh,
				"power_implied_wh": powerWh, "duration_s": dt.Seconds()},
		})
	}
}

// detectCapacity flags power above the AC rating and counter increments
// that would need more than the rating.
func (s *Scanner) detectCapacity(d *devScan) {
	cfg := s.cfg.Capacity
	limitW := (1+cfg.Tolerance)*d.rated + cfg.MarginW
	var nP, firstP, lastP int
	var maxW float64
	var nC, firstC, lastC int
	var worstInc, worstAllowed float64
	flatFrom := 0 // first sample of the current stretch with an unchanged counter
	for i := range d.smp {
		if w := d.smp[i].ACPowerW; w > limitW {
			if nP == 0 {
				firstP = i
			}
			lastP = i
			nP++
			maxW = max(maxW, w)
		}
		if i == 0 {
			continue
		}
		a, b := d.smp[i-1], d.smp[i]
		if d.iv[i]&(ivRegress|ivTimeBack) != 0 {
			flatFrom = i
			continue
		}
		if b.EnergyWh == a.EnergyWh {
			continue
		}
		dt := b.T.Sub(d.smp[flatFrom].T)
		flatFrom = i
		inc := float64(b.EnergyWh - a.EnergyWh)
		allowed := (1+cfg.CounterTolerance)*d.rated*hours(dt) + 2
		if inc > allowed {
			d.iv[i] |= ivImpossibl
			if nC == 0 {
				firstC = i - 1
			}
			lastC = i
			nC++
			if inc-allowed > worstInc-worstAllowed {
				worstInc, worstAllowed = inc, allowed
			}
		}
	}
	if nP > 0 {
		sev := SeverityWarning
		if maxW > 1.5*d.rated {
			sev = SeverityCritical
		}
		d.add(Finding{
			Type: TypeOverCapacity, Severity: sev, Span: d.span(firstP, lastP), Basis: "power",
			Summary:  fmt.Sprintf("%d readings above the %.0f W AC rating (max %.0f W)", nP, d.rated, maxW),
			Evidence: map[string]float64{"samples": float64(nP), "max_w": maxW, "rated_w": d.rated, "ratio": maxW / d.rated},
		})
	}
	if nC > 0 {
		d.add(Finding{
			Type: TypeOverCapacity, Severity: SeverityCritical, Span: d.span(firstC, lastC), Basis: "counter",
			Summary: fmt.Sprintf("%d counter increments need more than the %.0f W rating (worst %.0f Wh where at most %.0f Wh was possible)",
				nC, d.rated, worstInc, worstAllowed),
			Evidence: map[string]float64{"increments": float64(nC), "increment_wh": worstInc, "max_possible_wh": worstAllowed, "rated_w": d.rated},
		})
	}
}

// detectNight flags output or counter increments with the sun well below
// the horizon (a data-quality flag: usually a clock or time-zone error).
func (s *Scanner) detectNight(d *devScan) {
	cfg := s.cfg.Night
	minW := math.Max(cfg.MinW, cfg.MinFraction*d.rated)
	var n, first, last int
	var maxW, nightWh float64
	mark := func(i int) {
		if n == 0 {
			first = i
		}
		last = max(last, i)
		n++
	}
	for i := range d.smp {
		if d.elev[i] >= cfg.MaxElevationDeg {
			continue
		}
		if w := d.smp[i].ACPowerW; w > minW {
			mark(i)
			maxW = max(maxW, w)
			continue
		}
		if i > 0 && d.elev[i-1] < cfg.MaxElevationDeg && d.iv[i] == 0 {
			if inc := float64(d.smp[i].EnergyWh) - float64(d.smp[i-1].EnergyWh); inc > cfg.MinWh {
				mark(i)
				nightWh += inc
			}
		}
	}
	if n == 0 {
		return
	}
	d.add(Finding{
		Type: TypeNightGeneration, Severity: SeverityInfo, Span: d.span(first, last), Basis: "sun_position",
		Summary: fmt.Sprintf("%d readings show output with the sun below %.0f° (max %.0f W, %.0f Wh counted): check the clock and time zone",
			n, cfg.MaxElevationDeg, maxW, nightWh),
		Evidence: map[string]float64{"samples": float64(n), "max_w": maxW, "night_counter_wh": nightWh},
	})
}

// findZeroRuns marks runs of near-zero output while the model expects
// production; judge turns them into findings once peers are known.
func (s *Scanner) findZeroRuns(d *devScan) {
	zeroW := s.cfg.ZeroFraction * d.rated
	dayW := s.cfg.DaylightFraction * d.rated
	n := len(d.smp)
	for i := 0; i < n; {
		if !(d.smp[i].ACPowerW <= zeroW && d.exp[i] >= dayW) {
			i++
			continue
		}
		j := i
		for j+1 < n && d.smp[j+1].ACPowerW <= zeroW && d.exp[j+1] >= dayW {
			j++
		}
		r := zeroRun{i: i, j: j}
		for k := i; k <= j; k++ {
			d.zero[k] = true
			switch d.smp[k].State {
			case reading.StateFault:
				r.fault = true
			case reading.StateSleeping, reading.StateOff:
				r.sleeping = true
			}
		}
		dur := d.smp[j].T.Sub(d.smp[i].T) + d.interval
		if j > i && dur >= s.cfg.Zero.MinDuration {
			d.zeroRuns = append(d.zeroRuns, r)
		}
		i = j + 1
	}
}

// dayMetrics computes the per-day yield, expectation and performance index.
func (s *Scanner) dayMetrics(d *devScan, eph *ephemeris) {
	cfg := s.cfg.Perf
	prodW := cfg.MinExpectedFraction * d.rated
	n := len(d.smp)
	type acc struct {
		ratios               []float64
		first, last          int
		haveFirst, haveRange bool
	}
	accs := make([]acc, len(d.days))
	for i := range d.smp {
		k := d.dayOf(d.smp[i].T)
		day, a := &d.days[k], &accs[k]
		day.n++
		if !a.haveFirst {
			a.first, a.haveFirst = i, true
		}
		a.last = i
		if d.exp[i] > 0 {
			if !a.haveRange {
				day.from, a.haveRange = d.smp[i].T, true
			}
			day.to = d.smp[i].T
		}
		if d.exp[i] >= prodW {
			day.productive++
			if !d.stuck[i] {
				a.ratios = append(a.ratios, math.Max(d.smp[i].ACPowerW, 0)/d.exp[i])
				if d.zero[i] {
					day.piZero++
				}
			}
		}
		if i == 0 {
			continue
		}
		// The interval (i−1, i] belongs to the day of sample i.
		prev, cur := d.smp[i-1], d.smp[i]
		flags := d.iv[i]
		if flags&(ivRegress|ivImpossibl|ivTimeBack) == 0 {
			day.yieldWh += float64(cur.EnergyWh - prev.EnergyWh)
		}
		if flags&ivRegress != 0 {
			day.regressions++
		}
		if flags&ivTimeBack != 0 {
			continue
		}
		dtH := hours(cur.T.Sub(prev.T))
		if flags&ivGap != 0 {
			day.expWh += d.expectedWh(eph, prev.T, cur.T, d.interval)
			continue
		}
		e := (d.exp[i-1] + d.exp[i]) / 2 * dtH
		day.expWh += e
		day.coveredWh += e
		if d.zero[i-1] && d.zero[i] {
			day.zeroExpWh += e
		}
		if flags == 0 {
			p0, p1 := math.Max(prev.ACPowerW, 0), math.Max(cur.ACPowerW, 0)
			day.counterWh += float64(cur.EnergyWh - prev.EnergyWh)
			day.powerWh += (p0 + p1) / 2 * dtH
			// What the power did between the two samples is unknown: the
			// trapezoid may be off by up to half the step times the interval.
			e := (p1 - p0) / 2 * dtH
			day.samplingVar += e * e
		}
	}
	for k := range d.days {
		day, a := &d.days[k], &accs[k]
		dayStart := d.from.Add(time.Duration(k) * 24 * time.Hour)
		dayEnd := minTime(dayStart.Add(24*time.Hour), d.to)
		switch {
		case !a.haveFirst:
			day.expWh = d.expectedWh(eph, dayStart, dayEnd, d.interval)
		default:
			if a.first == 0 {
				day.expWh += d.expectedWh(eph, dayStart, d.smp[0].T, d.interval)
			}
			if a.last == n-1 {
				day.expWh += d.expectedWh(eph, d.smp[n-1].T, dayEnd, d.interval)
			}
		}
		day.pi, day.cv = math.NaN(), math.NaN()
		day.piN = len(a.ratios)
		if len(a.ratios) >= cfg.MinSamples {
			slices.Sort(a.ratios)
			day.pi = stat.Quantile(cfg.Quantile, stat.Empirical, a.ratios, nil)
			// Spread of the central 80 % over the median, scaled to equal
			// σ/μ for a normal distribution: a day is steady only if (almost)
			// all of it is, not just its better half.
			med := stat.Quantile(0.5, stat.Empirical, a.ratios, nil)
			q10 := stat.Quantile(0.1, stat.Empirical, a.ratios, nil)
			q90 := stat.Quantile(0.9, stat.Empirical, a.ratios, nil)
			if med > 0 {
				day.cv = (q90 - q10) / (2 * 1.2816 * med)
			}
		}
		day.valid = day.expWh > 0 && day.coverage() >= cfg.MinCoverage && day.productive >= cfg.MinSamples
	}
}

// dayEdges finds, per day, when the device's output first and last
// exceeded the output level of the night flag (max(Night.MinW,
// Night.MinFraction × rating)) and when its clear-sky expectation did, and
// sets whole and edgeS (NaN unless all four crossings were observed). A
// crossing is observed when the sample before it (after it, in the evening)
// is in the same day, below the level, not in FAULT, and no gap or
// backward timestamp separates the two: a day that starts with an outage or
// a trip has no morning edge. Clouds delay the morning crossing and advance
// the evening one alike, so the midpoint of the two moves only with the
// device's clock.
func (s *Scanner) dayEdges(d *devScan, eph *ephemeris) {
	level := math.Max(s.cfg.Night.MinW, s.cfg.Night.MinFraction*d.rated)
	type edges struct{ on, off, rise, set int }
	es := make([]edges, len(d.days))
	for k := range es {
		es[k] = edges{-1, -1, -1, -1}
	}
	for i := range d.smp {
		if d.smp[i].T.Before(d.from) {
			continue // the context sample
		}
		e := &es[d.dayOf(d.smp[i].T)]
		if d.smp[i].ACPowerW > level && !d.stuck[i] {
			if e.on < 0 {
				e.on = i
			}
			e.off = i
		}
		if d.exp[i] > level {
			if e.rise < 0 {
				e.rise = i
			}
			e.set = i
		}
	}
	// observed reports whether the crossing at sample i has a neighbour j =
	// i + dir in the same day for which below(j) holds, with a clean
	// interval between them.
	observed := func(i, dir, k int, below func(j int) bool) bool {
		j := i + dir
		if j < 0 || j >= len(d.smp) || d.smp[j].T.Before(d.from) || d.dayOf(d.smp[j].T) != k {
			return false
		}
		if d.iv[max(i, j)]&(ivGap|ivTimeBack) != 0 || d.smp[j].State == reading.StateFault {
			return false
		}
		return below(j)
	}
	quiet := func(j int) bool { return d.smp[j].ACPowerW <= level }
	dark := func(j int) bool { return d.exp[j] <= level }
	secs := func(i int) float64 { return float64(d.smp[i].T.UnixNano()) / 1e9 }
	for k := range d.days {
		day := &d.days[k]
		day.edgeS = math.NaN()
		dayStart := d.from.Add(time.Duration(k) * 24 * time.Hour)
		dayEnd := dayStart.Add(24 * time.Hour)
		_, elev0 := d.model.at(eph, dayStart.UnixNano())
		_, elev1 := d.model.at(eph, dayEnd.UnixNano())
		day.whole = !dayEnd.After(d.to) && elev0 < s.cfg.Night.MaxElevationDeg && elev1 < s.cfg.Night.MaxElevationDeg
		e := es[k]
		if !day.whole || e.on < 0 || e.rise < 0 ||
			!observed(e.on, -1, k, quiet) || !observed(e.off, 1, k, quiet) ||
			!observed(e.rise, -1, k, dark) || !observed(e.set, 1, k, dark) {
			continue
		}
		day.edgeS = (secs(e.on) + secs(e.off) - secs(e.rise) - secs(e.set)) / 2
	}
}

// detectEnergyMismatch compares, per day, the counter's increments with the
// integral of the reported power over the same clean intervals.
func (s *Scanner) detectEnergyMismatch(d *devScan) {
	cfg := s.cfg.Energy
	for k := range d.days {
		day := &d.days[k]
		diff := day.counterWh - day.powerWh
		sigma := math.Sqrt(day.samplingVar)
		limit := math.Max(math.Max(cfg.Rel*math.Max(day.counterWh, day.powerWh), cfg.MinWhPerKWp*d.kwp), cfg.Sigmas*sigma)
		if math.Abs(diff) <= limit {
			continue
		}
		rel := math.Abs(diff) / math.Max(math.Max(day.counterWh, day.powerWh), 1)
		sev := SeverityWarning
		if rel > 0.5 {
			sev = SeverityCritical
		}
		what := "more"
		if diff < 0 {
			what = "less"
		}
		sp := Span{From: day.from, To: day.to}
		if sp.From.IsZero() {
			sp = Span{From: d.from.Add(time.Duration(k) * 24 * time.Hour), To: minTime(d.from.Add(time.Duration(k+1)*24*time.Hour), d.to)}
		}
		d.add(Finding{
			Type: TypeEnergyMismatch, Severity: sev, Span: sp, Basis: "counter_vs_power",
			Summary: fmt.Sprintf("energy counter advanced %.0f Wh, %.0f %% %s than the %.0f Wh the reported power integrates to",
				day.counterWh, 100*rel, what, day.powerWh),
			Evidence: map[string]float64{"counter_wh": day.counterWh, "integrated_power_wh": day.powerWh, "diff_wh": diff, "rel": rel,
				"sampling_sigma_wh": sigma, "limit_wh": limit},
		})
	}
}

// detectClipping flags plateaus at the day's maximum output (a data-quality
// flag: the inverter limits its output at its rating or an export limit).
func (s *Scanner) detectClipping(d *devScan) {
	cfg := s.cfg.Clip
	n := len(d.smp)
	for k := range d.days {
		var maxW float64
		lo, hi := -1, -1
		for i := range d.smp {
			if d.dayOf(d.smp[i].T) != k {
				continue
			}
			if lo < 0 {
				lo = i
			}
			hi = i
			if !d.stuck[i] {
				maxW = max(maxW, d.smp[i].ACPowerW)
			}
		}
		if lo < 0 || maxW < cfg.MinLevel*d.rated {
			continue
		}
		level := (1 - cfg.Tolerance) * maxW
		var clipped, first, last int
		var dur time.Duration
		for i := lo; i <= hi && i < n; {
			if d.smp[i].ACPowerW < level || d.stuck[i] {
				i++
				continue
			}
			j := i
			for j+1 <= hi && d.smp[j+1].ACPowerW >= level && !d.stuck[j+1] {
				j++
			}
			// A plateau is clipping when it sits at the rating or when the
			// clear-sky expectation moved over it (at solar noon a healthy
			// output is flat too).
			expLo, expHi := math.Inf(1), math.Inf(-1)
			for k := i; k <= j; k++ {
				expLo, expHi = math.Min(expLo, d.exp[k]), math.Max(expHi, d.exp[k])
			}
			moved := expHi > 0 && (expHi-expLo)/expHi > 3*cfg.Tolerance
			if j-i+1 >= cfg.MinSamples && (maxW >= 0.98*d.rated || moved) {
				if clipped == 0 {
					first = i
				}
				last = j
				clipped += j - i + 1
				dur += d.smp[j].T.Sub(d.smp[i].T)
			}
			i = j + 1
		}
		if clipped == 0 {
			continue
		}
		what := "at its AC rating"
		if maxW < 0.98*d.rated {
			what = fmt.Sprintf("at %.0f %% of its AC rating (export limit or derating)", 100*maxW/d.rated)
		}
		d.add(Finding{
			Type: TypeClipping, Severity: SeverityInfo, Span: d.span(first, last), Basis: "power",
			Summary: fmt.Sprintf("output flat at %.0f W for %d readings (%s): clipped %s", maxW, clipped, dur.Round(time.Minute), what),
			Evidence: map[string]float64{"level_w": maxW, "rated_w": d.rated, "level_fraction": maxW / d.rated,
				"samples": float64(clipped), "duration_s": dur.Seconds()},
		})
	}
}

// medianMAD returns the median and the median absolute deviation of sorted
// values (the empirical quantile of gonum/stat: the lower median for an
// even count).
func medianMAD(sorted []float64) (med, mad float64) {
	if len(sorted) == 0 {
		return math.NaN(), math.NaN()
	}
	med = stat.Quantile(0.5, stat.Empirical, sorted, nil)
	dev := make([]float64, len(sorted))
	for i, v := range sorted {
		dev[i] = math.Abs(v - med)
	}
	slices.Sort(dev)
	mad = stat.Quantile(0.5, stat.Empirical, dev, nil)
	return med, mad
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
