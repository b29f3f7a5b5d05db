package anomaly

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// peerIndex finds, for each device, the devices within Peers.RadiusKm
// , nearest first, at most Peers.MaxPeers.
type peerIndex struct {
	ds    []*devScan
	cfg   PeerConfig
	cellD float64 // cell size in degrees of latitude
	grid  map[[2]int][]int
}

const earthRadiusKm = 6371.0

func newPeerIndex(ds []*devScan, cfg PeerConfig) *peerIndex {
	x := &peerIndex{ds: ds, cfg: cfg, cellD: cfg.RadiusKm / 111.19, grid: map[[2]int][]int{}}
	for i, d := range ds {
		if d.skip != "" {
			continue
		}
		c := x.cell(d.dev.Lat, d.dev.Lon)
		x.grid[c] = append(x.grid[c], i)
	}
	return x
}

func (x *peerIndex) cell(lat, lon float64) [2]int {
	return [2]int{int(math.Floor(lat / x.cellD)), int(math.Floor(lon / x.cellD))}
}

// peers returns the indices of device i's peers, nearest first. Distances
// are equirectangular (exact to < 0.1 % at 30 km), ties broken by index.
func (x *peerIndex) peers(i int) []int {
	d := x.ds[i].dev
	c := x.cell(d.Lat, d.Lon)
	// Longitude cells shrink with latitude: widen the search accordingly.
	cl := math.Max(math.Cos(math.Min(math.Abs(d.Lat)+x.cellD, 89.9)*deg), 0.01)
	nLon := int(math.Ceil(1 / cl))
	kmPerDeg := earthRadiusKm * deg
	cosLat := math.Cos(d.Lat * deg)
	r2 := x.cfg.RadiusKm * x.cfg.RadiusKm
	type cand struct {
		j  int
		d2 float64
	}
	var cs []cand
	for dy := -1; dy <= 1; dy++ {
		for dx := -nLon; dx <= nLon; dx++ {
			for _, j := range x.grid[[2]int{c[0] + dy, c[1] + dx}] {
				if j == i {
					continue
				}
				o := x.ds[j].dev
				dLon := math.Remainder(o.Lon-d.Lon, 360)
				ex := dLon * cosLat * kmPerDeg
				ey := (o.Lat - d.Lat) * kmPerDeg
				if d2 := ex*ex + ey*ey; d2 <= r2 {
					cs = append(cs, cand{j, d2})
				}
			}
		}
	}
	less := func(a, b cand) bool { return a.d2 < b.d2 || (a.d2 == b.d2 && a.j < b.j) }
	if k := x.cfg.MaxPeers; len(cs) > k {
		// Quickselect the k nearest, then sort only those.
		lo, hi := 0, len(cs)-1
		for lo < hi {
			p := cs[(lo+hi)/2]
			i, j := lo, hi
			for i <= j {
				for less(cs[i], p) {
					i++
				}
				for less(p, cs[j]) {
					j--
				}
				if i <= j {
					cs[i], cs[j] = cs[j], cs[i]
					i++
					j--
				}
			}
			switch {
			case k-1 <= j:
				hi = j
			case k-1 >= i:
				lo = i
			default:
				lo = hi
			}
		}
		cs = cs[:k]
	}
	slices.SortFunc(cs, func(a, b cand) int { return cmp.Or(cmp.Compare(a.d2, b.d2), cmp.Compare(a.j, b.j)) })
	out := make([]int, len(cs))
	for k, c := range cs {
		out[k] = c.j
	}
	return out
}

// robustZ is the modified z-score 0.6745 (x − median) / MAD of Iglewicz and
// Hoaglin (1993), with the MAD floored at floor.
func robustZ(x, med, mad, floor float64) float64 {
	return 0.6745 * (x - med) / math.Max(mad, floor)
}

// judge makes the decisions that need peers: zero output (is it regional?),
// under- and over-performance, and the clock offset; then it summarises
// the whole days for the multi-day judgements.
func (s *Scanner) judge(d *devScan, peers []int, all []*devScan) {
	s.judgeZero(d, peers, all)
	conclPerf, conclClock := false, false
	for k := range d.days {
		if s.judgeClock(d, k, peers, all) {
			conclClock = true
		}
		if s.judgePerformance(d, k, peers, all) {
			conclPerf = true
		}
		if d.days[k].whole {
			s.trendMetrics(d, k, peers, all)
		}
	}
	d.summaries = d.summarize()
	if d.nDay > 0 && len(d.smp) >= 2 {
		if !conclPerf {
			d.inconclusive = append(d.inconclusive, TypeUnderPerformance, TypeOverPerformance)
		}
		if !conclClock {
			d.inconclusive = append(d.inconclusive, TypeClockOffset)
		}
	}
}

// peerOutputFraction is the peers' median of mean AC power over their
// rating during [a, b]; ok is false with fewer than MinPeers reporting.
func (s *Scanner) peerOutputFraction(a, b time.Time, peers []int, all []*devScan) (float64, int, bool) {
	var fr []float64
	for _, j := range peers {
		p := all[j]
		lo := sort.Search(len(p.smp), func(k int) bool { return !p.smp[k].T.Before(a) })
		var sum float64
		var n int
		for k := lo; k < len(p.smp) && !p.smp[k].T.After(b); k++ {
			sum += math.Max(p.smp[k].ACPowerW, 0)
			n++
		}
		if n > 0 {
			fr = append(fr, sum/float64(n)/p.rated)
		}
	}
	if len(fr) < s.cfg.Peers.MinPeers {
		return math.NaN(), len(fr), false
	}
	slices.Sort(fr)
	med, _ := medianMAD(fr)
	return med, len(fr), true
}

func (s *Scanner) judgeZero(d *devScan, peers []int, all []*devScan) {
	for _, r := range d.zeroRuns {
		sp := d.span(r.i, r.j)
		var expWh, expMaxW float64
		for k := r.i; k <= r.j; k++ {
			expMaxW = max(expMaxW, d.exp[k])
			if k > r.i {
				expWh += (d.exp[k-1] + d.exp[k]) / 2 * hours(d.smp[k].T.Sub(d.smp[k-1].T))
			}
		}
		var measWh float64
		if e0, e1 := d.smp[r.i].EnergyWh, d.smp[r.j].EnergyWh; e1 >= e0 {
			measWh = float64(e1 - e0)
		}
		ev := map[string]float64{
			"samples": float64(r.j - r.i + 1), "duration_s": sp.Duration().Seconds() + d.interval.Seconds(),
			"expected_clear_wh": expWh, "expected_max_w": expMaxW, "measured_wh": measWh,
		}
		basis := "clear_sky_model"
		sev := SeverityWarning
		if r.fault || sp.Duration()+d.interval >= s.cfg.Zero.CriticalDuration {
			sev = SeverityCritical
		}
		state := ""
		switch {
		case r.fault:
			state = "; inverter reports FAULT"
		case r.sleeping:
			state = "; inverter reports SLEEPING in daylight"
		}
		summary := fmt.Sprintf("near-zero output for %s while clear sky would give up to %.0f W%s",
			(sp.Duration() + d.interval).Round(time.Minute), expMaxW, state)
		if frac, np, ok := s.peerOutputFraction(sp.From, sp.To, peers, all); ok {
			basis = "clear_sky_model+peers"
			ev["peer_output_fraction"] = frac
			ev["peers"] = float64(np)
			if frac <= 2*s.cfg.ZeroFraction {
				sev = SeverityInfo
				summary += fmt.Sprintf("; peers produced nothing either (median %.1f %% of rating): regional (snow, grid outage, deep overcast)", 100*frac)
			} else {
				summary += fmt.Sprintf("; peers produced %.0f %% of their rating", 100*frac)
			}
		}
		if r.fault {
			ev["fault_state"] = 1
		}
		d.add(Finding{Type: TypeZeroOutput, Severity: sev, Span: sp, Basis: basis, Summary: summary, Evidence: ev})
	}
}

// judgePerformance decides under- and over-performance for day k and
// reports whether the day could be judged.
func (s *Scanner) judgePerformance(d *devScan, k int, peers []int, all []*devScan) bool {
	cfg, pc := s.cfg.Perf, s.cfg.Peers
	day := &d.days[k]
	if day.productive < cfg.MinSamples || day.n == 0 {
		return false
	}
	var pis, ys []float64
	for _, j := range peers {
		pd := &all[j].days[k]
		if !math.IsNaN(pd.pi) && pd.piN >= cfg.MinSamples && pd.piZero*2 < pd.piN {
			pis = append(pis, pd.pi)
		}
		if pd.valid {
			ys = append(ys, s.yieldMetric(all[j], pd))
		}
	}
	ev := map[string]float64{"expected_clear_wh": day.expWh, "measured_wh": day.yieldWh, "coverage": day.coverage()}
	var bases []string
	var under, over bool
	var worst float64 = 1 // measured / reference, for severity
	judged := false

	// (b) first: the robust z-score of the (normalised) specific yield among
	// peers, which (a) uses as corroboration.
	yieldOK := false
	var z, yr float64 // z-score and yield over the peer median
	// A day with zero-output runs is short by their energy: that is the
	// zero-output finding's to report, not under-performance.
	zeroShare := 0.0
	if day.expWh > 0 {
		zeroShare = day.zeroExpWh / day.expWh
	}
	if zeroShare > 0 {
		ev["zero_output_share"] = zeroShare
	}
	if day.valid && len(ys) >= pc.MinPeers {
		slices.Sort(ys)
		x := s.yieldMetric(d, day)
		med, mad := medianMAD(ys)
		if med > 0 {
			judged, yieldOK = true, true
			z = robustZ(x, med, mad, pc.MADFloor*med)
			yr = x / med
			ev["yield"] = x
			ev["specific_yield_kwh_per_kwp"] = day.yieldWh / 1000 / d.kwp
			ev["peer_median"] = med
			ev["peer_mad"] = mad
			ev["z"] = z
			ev["peers_yield"] = float64(len(ys))
			ev["weather_expected_wh"] = s.expectedFromPeers(d, day, med)
			switch {
			case z <= -pc.Z && yr < 1-pc.MinRelDiff && zeroShare < 0.1:
				under = true
				bases = append(bases, "peers")
				worst = math.Min(worst, yr)
			case z >= pc.Z && yr > 1+pc.MinRelDiff:
				over = true
				bases = append(bases, "peers")
				worst = math.Max(worst, yr)
			}
		}
	}

	// (a) The performance index (the output in the day's sunniest moments
	// over the clear-sky model) against a reference: the peers' median
	// index when there are enough (they saw the same sky), else 1.
	if !math.IsNaN(day.pi) && day.piZero*2 < day.piN && !day.clockShift {
		ref, basis := 1.0, "clear_sky_model"
		if len(pis) >= pc.MinPeers {
			slices.Sort(pis)
			ref, _ = medianMAD(pis)
			basis = "clear_sky_model+peers"
			ev["peer_pi"] = ref
			ev["peers"] = float64(len(pis))
		}
		ev["pi"] = day.pi
		ev["cv"] = day.cv
		if ref >= cfg.ClearReference {
			low := day.pi / ref
			// Nothing exceeds the clear-sky model by much, whatever the
			// peers saw: over-performance is judged against at least 1.
			high := day.pi / math.Max(ref, 1)
			ev["pi_ratio"] = low
			// A low index means a fault only if the device saw a clear
			// moment: on a steady day (clear, or a fault under any sky).
			// With peers on an unsteady day, their sky had clear moments
			// but a cloud may have sat over this one device: then only the
			// yield comparison (b) decides, unless it could not be made.
			steady := !math.IsNaN(day.cv) && day.cv < cfg.SteadyCV
			peerOnly := basis == "clear_sky_model+peers" && !yieldOK
			switch {
			case high > 1+cfg.Excess:
				over, judged = true, true
				bases = append(bases, basis)
				worst = math.Max(worst, high)
			case low >= 1-cfg.Deficit:
				judged = true
			case steady || peerOnly:
				under, judged = true, true
				bases = append(bases, basis)
				worst = math.Min(worst, low)
			}
		}
	}
	if !judged {
		return false
	}
	// Peer comparisons assume the peers saw the same sky. Before raising a
	// finding that rests on them, check that the device's profile follows
	// theirs; if not (a front between them, a local storm), the day cannot
	// be judged against peers.
	if (under || over) && slices.ContainsFunc(bases, func(b string) bool { return strings.Contains(b, "peers") }) {
		c := s.coherence(d, k, peers, all)
		if !math.IsNaN(c) {
			ev["weather_correlation"] = c
		}
		if c < s.cfg.Peers.MinCoherence {
			kept := bases[:0]
			for _, b := range bases {
				if !strings.Contains(b, "peers") {
					kept = append(kept, b)
				}
			}
			bases = kept
			if len(bases) == 0 {
				return false
			}
		}
	}
	sp := Span{From: day.from, To: day.to}
	basis := joinBases(bases)
	switch {
	case under && !over:
		sev := SeverityWarning
		if worst < 0.5 {
			sev = SeverityCritical
		}
		d.add(Finding{Type: TypeUnderPerformance, Severity: sev, Span: sp, Basis: basis, Evidence: ev,
			Summary: fmt.Sprintf("produced %.0f %% of what %s say it should (%.1f kWh measured)", 100*worst, basisWords(basis), day.yieldWh/1000)})
	case over && !under:
		sev := SeverityWarning
		if worst > 1.5 {
			sev = SeverityCritical
		}
		d.add(Finding{Type: TypeOverPerformance, Severity: sev, Span: sp, Basis: basis, Evidence: ev,
			Summary: fmt.Sprintf("reported %.0f %% of what %s allow (%.1f kWh): fabricated or mis-scaled data", 100*worst, basisWords(basis), day.yieldWh/1000)})
	}
	return true
}

// yieldMetric is what the peer z-score compares: the specific yield
// (kWh/kWp), or the yield over the clear-sky expectation with Normalize.
func (s *Scanner) yieldMetric(d *devScan, day *dayStats) float64 {
	if s.cfg.Peers.Normalize {
		return day.normYield()
	}
	return day.yieldWh / 1000 / d.kwp
}

// expectedFromPeers turns the peers' median metric into this device's
// expected energy for the day, Wh.
func (s *Scanner) expectedFromPeers(d *devScan, day *dayStats, med float64) float64 {
	if s.cfg.Peers.Normalize {
		return med * day.expWh
	}
	return med * 1000 * d.kwp
}

func joinBases(bs []string) string {
	var out []string
	for _, b := range bs {
		if !slices.Contains(out, b) {
			out = append(out, b)
		}
	}
	s := ""
	for i, b := range out {
		if i > 0 {
			s += ","
		}
		s += b
	}
	return s
}

func basisWords(b string) string {
	switch b {
	case "clear_sky_model":
		return "the clear-sky model"
	case "peers":
		return "its peers"
	}
	return "the clear-sky model and its peers"
}

// judgeClock looks for a production profile shifted in time. The day's
// edge offset (dayEdges) against the peers' median edge offset, or alone
// against the clear-sky model, screens and measures; a cross-correlation
// of the profile with a reference (profileLag) must confirm it. It reports
// whether the day could be judged.
func (s *Scanner) judgeClock(d *devScan, k int, peers []int, all []*devScan) bool {
	cfg := s.cfg.Clock
	day := &d.days[k]
	day.clockOffS = math.NaN()
	if math.IsNaN(day.edgeS) {
		return false
	}
	var es []float64
	for _, j := range peers {
		if e := all[j].days[k].edgeS; !math.IsNaN(e) {
			es = append(es, e)
		}
	}
	ev := map[string]float64{"edge_offset_min": day.edgeS / 60}
	off, basis, minOff := day.edgeS, "clear_sky_model", cfg.MinOffsetAlone
	if len(es) >= s.cfg.Peers.MinPeers {
		slices.Sort(es)
		med, _ := medianMAD(es)
		off -= med
		ev["peer_edge_median_min"] = med / 60
		ev["peers"] = float64(len(es))
		basis, minOff = "peers", cfg.MinOffset
		day.clockPeers = true
	}
	day.clockOffS = off
	ev["offset_min"] = off / 60
	if math.Abs(off) < minOff.Seconds() {
		return true
	}
	// The edges say shifted: the whole profile must say so too, or the
	// day is inconclusive (a tree shading the morning moves one edge).
	maxLag := max(2*time.Hour, time.Duration(math.Abs(off))*time.Second+time.Hour)
	lag, peak, ok := s.profileLag(d, k, peers, all, maxLag)
	if !ok {
		return false
	}
	ev["lag_min"] = lag.Minutes()
	ev["correlation"] = peak
	if peak < cfg.MinCorrelation || math.Abs(lag.Seconds()-off) > math.Max(cfg.Agreement.Seconds(), cfg.AgreementFraction*math.Abs(off)) {
		return false
	}
	day.clockShift = true
	d.add(Finding{
		Type: TypeClockOffset, Severity: SeverityWarning, Span: Span{From: day.from, To: day.to}, Basis: basis, Evidence: ev,
		Summary: fmt.Sprintf("production day shifted by %+.0f min against %s (first and last output; profile correlation %+.0f min, %.2f): clock or time-zone error",
			off/60, basisWords(basis), lag.Minutes(), peak),
	})
	return true
}

// trendMetrics sets day k's PI ratio and sky index, the inputs of the
// multi-day performance judgement. With MinPeers valid peers: the day's PI
// over the peers' median PI, if that reaches Perf.ClearReference and their
// median yield Trend.MinSkyIndex of the clear-sky expectation (a day with
// clear moments for everyone). Without: the day's PI (against the model's
// 1), if the device's own yield reached Trend.MinSkyIndex of its clear-sky
// expectation. Either way the device's PI must be unaffected by zero
// output or a shifted clock.
func (s *Scanner) trendMetrics(d *devScan, k int, peers []int, all []*devScan) {
	cfg, pc := s.cfg.Perf, s.cfg.Peers
	day := &d.days[k]
	day.piRatio, day.skyIndex, day.peerPI = math.NaN(), math.NaN(), false
	piOK := !math.IsNaN(day.pi) && day.piN >= cfg.MinSamples && day.piZero == 0 && !day.clockShift
	var pis, sky []float64
	for _, j := range peers {
		pd := &all[j].days[k]
		if !pd.valid {
			continue
		}
		sky = append(sky, pd.normYield())
		if !math.IsNaN(pd.pi) && pd.piN >= cfg.MinSamples && pd.piZero == 0 {
			pis = append(pis, pd.pi)
		}
	}
	if len(sky) < pc.MinPeers {
		if day.valid {
			day.skyIndex = day.normYield()
			if piOK && day.skyIndex >= s.cfg.Trend.MinSkyIndex {
				day.piRatio = day.pi
			}
		}
		return
	}
	slices.Sort(sky)
	day.skyIndex, _ = medianMAD(sky)
	day.peerPI = true
	if len(pis) < pc.MinPeers || !piOK || day.skyIndex < s.cfg.Trend.MinSkyIndex {
		return
	}
	slices.Sort(pis)
	if ref, _ := medianMAD(pis); ref >= cfg.ClearReference {
		day.piRatio = day.pi / ref
	}
}

// summarize returns the DaySummary of each whole day that has something
// for the multi-day judgements.
func (d *devScan) summarize() []DaySummary {
	var out []DaySummary
	for k := range d.days {
		day := &d.days[k]
		if !day.whole || (math.IsNaN(day.piRatio) && math.IsNaN(day.clockOffS)) {
			continue
		}
		mid := d.from.Add(time.Duration(k)*24*time.Hour + 12*time.Hour)
		out = append(out, DaySummary{
			DeviceID: d.dev.ID, SiteID: d.dev.SiteID, Date: SolarDate(mid, d.dev.Lon),
			Span: Span{From: day.from, To: day.to}, PIRatio: day.piRatio, PeerPI: day.peerPI, SkyIndex: day.skyIndex,
			OffsetMin: day.clockOffS / 60, PeerOffset: day.clockPeers, ClockShift: day.clockShift,
		})
	}
	return out
}
