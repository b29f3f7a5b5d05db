package anomaly

import (
	"math"
	"slices"
	"time"
)

// profilePeers is how many of the nearest peers form a reference profile.
const profilePeers = 8

// profile is one device-day on a grid of Config.Interval.
type profile struct {
	dev  []float64 // the device's mean AC power per bin, W (NaN: no sample)
	pcs  []float64 // its clear-sky expected power at each bin's centre, W
	kref []float64 // the peers' median clear-sky index per bin (NaN: unknown); nil without peers
}

// profiles bins day k of the device and, with at least MinPeers valid
// peers among the nearest profilePeers, their median clear-sky index
// (measured over expected power, which removes their orientations).
func (s *Scanner) profiles(d *devScan, k int, peers []int, all []*devScan) (profile, bool) {
	var p profile
	g := s.cfg.Interval
	dayStart := d.from.Add(time.Duration(k) * 24 * time.Hour)
	dayEnd := minTime(dayStart.Add(24*time.Hour), d.to)
	n := int(dayEnd.Sub(dayStart) / g)
	if n < 12 {
		return p, false
	}
	bin := func(t time.Time) int {
		if t.Before(dayStart) {
			return -1
		}
		return int(t.Sub(dayStart) / g)
	}
	mean := func(sum, cnt []float64) {
		for b := range sum {
			if cnt[b] > 0 {
				sum[b] /= cnt[b]
			} else {
				sum[b] = math.NaN()
			}
		}
	}
	p.dev = make([]float64, n)
	cnt := make([]float64, n)
	for i := range d.smp {
		if b := bin(d.smp[i].T); b >= 0 && b < n && !d.stuck[i] && d.iv[i]&ivTimeBack == 0 {
			p.dev[b] += math.Max(d.smp[i].ACPowerW, 0)
			cnt[b]++
		}
	}
	mean(p.dev, cnt)
	p.pcs = make([]float64, n)
	for b := range p.pcs {
		p.pcs[b], _ = d.model.at(d.eph, dayStart.Add(time.Duration(b)*g+g/2).UnixNano())
	}
	var idx [][]float64
	for _, j := range peers {
		if len(idx) == profilePeers {
			break
		}
		o := all[j]
		if !o.days[k].valid {
			continue
		}
		r := make([]float64, n)
		c := make([]float64, n)
		for i := range o.smp {
			if b := bin(o.smp[i].T); b >= 0 && b < n && o.exp[i] >= 0.05*o.rated && !o.stuck[i] {
				r[b] += math.Max(o.smp[i].ACPowerW, 0) / o.exp[i]
				c[b]++
			}
		}
		mean(r, c)
		idx = append(idx, r)
	}
	if len(idx) >= s.cfg.Peers.MinPeers {
		p.kref = make([]float64, n)
		vals := make([]float64, 0, len(idx))
		for b := range p.kref {
			vals = vals[:0]
			for _, r := range idx {
				if !math.IsNaN(r[b]) {
					vals = append(vals, r[b])
				}
			}
			p.kref[b] = math.NaN()
			if len(vals) >= 3 {
				slices.Sort(vals)
				p.kref[b], _ = medianMAD(vals)
			}
		}
	}
	return p, true
}

// smooth is a centred moving average over w bins that skips NaNs; a bin
// with no value within the window stays NaN.
func smooth(x []float64, w int) []float64 {
	out := make([]float64, len(x))
	h := w / 2
	for i := range x {
		var sum, n float64
		for j := max(i-h, 0); j <= min(i+h, len(x)-1); j++ {
			if !math.IsNaN(x[j]) {
				sum += x[j]
				n++
			}
		}
		out[i] = math.NaN()
		if n > 0 {
			out[i] = sum / n
		}
	}
	return out
}

// profileLag estimates, by cross-correlation, how far the device's power
// profile of day k is shifted in time against a reference: the peers'
// median clear-sky index applied to this device's clear-sky power, or
// without peers its clear-sky power alone, unsmoothed: smoothing lets the
// cloud regime, which peers see at different cover levels, pull the peak
// (measured: many false shifts of ~20 min), while at the sample resolution
// the diurnal envelope dominates. Lags up to ±maxLag are tried and the
// peak refined by a parabola. It returns the lag
// (positive: the device's timestamps are late) and the peak correlation.
func (s *Scanner) profileLag(d *devScan, k int, peers []int, all []*devScan, maxLag time.Duration) (lag time.Duration, peak float64, ok bool) {
	p, ok := s.profiles(d, k, peers, all)
	if !ok {
		return 0, 0, false
	}
	ref := slices.Clone(p.pcs)
	if p.kref != nil {
		for b := range ref {
			if ref[b] > 0 {
				ref[b] *= p.kref[b]
			}
		}
	}
	return s.bestLag(p.dev, ref, maxLag)
}

// bestLag finds the lag of dev against ref, within ±maxLag, with the
// highest correlation.
func (s *Scanner) bestLag(dev, ref []float64, maxLagDur time.Duration) (lag time.Duration, peak float64, ok bool) {
	g := s.cfg.Interval
	maxLag := int(maxLagDur / g)
	corr := make([]float64, 2*maxLag+1)
	for li := range corr {
		corr[li] = pearsonLag(dev, ref, li-maxLag)
	}
	best := -1
	for li, c := range corr {
		if !math.IsNaN(c) && (best < 0 || c > corr[best]) {
			best = li
		}
	}
	if best < 0 {
		return 0, 0, false
	}
	shift := float64(best - maxLag)
	if best > 0 && best < len(corr)-1 && !math.IsNaN(corr[best-1]) && !math.IsNaN(corr[best+1]) {
		a, b, c := corr[best-1], corr[best], corr[best+1]
		if den := a - 2*b + c; den < 0 {
			shift += 0.5 * (a - c) / den
		}
	}
	return time.Duration(shift * float64(g)), corr[best], true
}

// pearsonLag is the correlation of dev[i] with ref[i−lag] over the bins
// where both are known and at least one is positive (daytime).
func pearsonLag(dev, ref []float64, lag int) float64 {
	var n, sx, sy, sxx, syy, sxy float64
	for i := range dev {
		j := i - lag
		if j < 0 || j >= len(ref) {
			continue
		}
		x, y := dev[i], ref[j]
		if math.IsNaN(x) || math.IsNaN(y) || (x <= 0 && y <= 0) {
			continue
		}
		n++
		sx += x
		sy += y
		sxx += x * x
		syy += y * y
		sxy += x * y
	}
	if n < 6 {
		return math.NaN()
	}
	cov := sxy - sx*sy/n
	vx, vy := sxx-sx*sx/n, syy-sy*sy/n
	if vx <= 1e-12 || vy <= 1e-12 {
		return math.NaN()
	}
	return cov / math.Sqrt(vx*vy)
}

// coherence says whether the device saw the same sky as its peers on day
// k: the correlation of its hourly clear-sky index with the peers' median
// index (best lag within ±1 h, so that a shifted clock does not count), or
// 1 when the peers' sky was steady (a clear day: nothing to correlate, and
// nothing that could make the peers mislead). NaN without enough peers.
func (s *Scanner) coherence(d *devScan, k int, peers []int, all []*devScan) float64 {
	p, ok := s.profiles(d, k, peers, all)
	if !ok || p.kref == nil {
		return math.NaN()
	}
	kdev := make([]float64, len(p.dev))
	kref := make([]float64, len(p.dev))
	for b := range kdev {
		kdev[b], kref[b] = math.NaN(), math.NaN()
		if p.pcs[b] >= s.cfg.Perf.MinExpectedFraction*d.rated {
			kdev[b] = p.dev[b] / p.pcs[b]
			kref[b] = p.kref[b]
		}
	}
	w := max(int(time.Hour/s.cfg.Interval), 1)
	kdev, kref = smooth(kdev, w), smooth(kref, w)
	var vals []float64
	for _, v := range kref {
		if !math.IsNaN(v) {
			vals = append(vals, v)
		}
	}
	if len(vals) < 6 {
		return math.NaN()
	}
	slices.Sort(vals)
	med, _ := medianMAD(vals)
	if med > 0 && (vals[len(vals)*9/10]-vals[len(vals)/10])/med < 0.1 {
		return 1
	}
	_, peak, ok := s.bestLag(kdev, kref, time.Hour)
	if !ok {
		return math.NaN()
	}
	return peak
}
