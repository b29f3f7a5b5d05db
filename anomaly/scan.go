package anomaly

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sunproof/sunproof/devices"
)

// Scanner runs every detector over a fleet's series. It is safe for
// concurrent use; each Scan is independent.
type Scanner struct {
	cfg Config
}

// NewScanner returns a scanner, or an error if cfg is invalid.
func NewScanner(cfg Config) (*Scanner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Scanner{cfg: cfg}, nil
}

// Config returns the scanner's configuration.
func (s *Scanner) Config() Config { return s.cfg }

// Scan examines the samples of every series with timestamps in [from, to)
// and returns the findings. The last sample before from, if a series has
// one (Source loads it), is used as context for the interval across from,
// so consecutive scans miss nothing between them. Per-day metrics (yield,
// performance index, production edges) use 24-hour buckets starting at
// from: align from to local midnight of the fleet. Result.Days summarises
// the buckets that are whole solar days for the multi-day judgements
// (JudgeTrends). Scan sorts each series' samples in place by (Seq,
// T) when they are not already in that order; it does not otherwise modify
// them. It returns early with ctx's error if ctx is cancelled.
func (s *Scanner) Scan(ctx context.Context, series []Series, from, to time.Time) (Result, error) {
	res := Result{From: from, To: to, Skipped: map[string]string{}}
	if !to.After(from) {
		return res, fmt.Errorf("scan: range [%s, %s) is empty", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	eph := newEphemeris(from, to)
	nDays := int((to.Sub(from) + 24*time.Hour - 1) / (24 * time.Hour))
	ds := make([]*devScan, len(series))
	workers := s.cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	// Stage 1: per device, everything that needs no peers.
	err := parallel(ctx, len(series), workers, func(i int) {
		ds[i] = s.prepare(&series[i], eph, from, to, nDays)
	})
	if err != nil {
		return res, err
	}
	// Stage 2: peers and the decisions that need them.
	idx := newPeerIndex(ds, s.cfg.Peers)
	err = parallel(ctx, len(ds), workers, func(i int) {
		if ds[i].skip == "" {
			s.judge(ds[i], idx.peers(i), ds)
		}
	})
	if err != nil {
		return res, err
	}
	for _, d := range ds {
		res.Points += len(d.smp)
		if d.skip != "" {
			res.Skipped[d.dev.ID] = d.skip
			continue
		}
		res.Scanned = append(res.Scanned, d.dev.ID)
		res.Findings = append(res.Findings, d.findings...)
		res.Days = append(res.Days, d.summaries...)
		for _, t := range d.inconclusive {
			res.Inconclusive = append(res.Inconclusive, Key{DeviceID: d.dev.ID, Type: t})
		}
	}
	sortFindings(res.Findings)
	return res, nil
}

// sortFindings orders findings by device, type and span start, stably.
func sortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.DeviceID, b.DeviceID), cmp.Compare(a.Type, b.Type), a.Span.From.Compare(b.Span.From))
	})
}

// parallel runs f(0..n-1) on workers goroutines.
func parallel(ctx context.Context, n, workers int, f func(i int)) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, max(n, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
	return ctx.Err()
}

// Interval flags: why an interval (between sample i−1 and i) is left out
// of energy accounting.
const (
	ivGap       uint8 = 1 << iota // longer than Gap.Factor × interval
	ivTimeBack                    // timestamp went backwards
	ivRegress                     // counter went down
	ivStuck                       // inside or closing a flat-lined run
	ivImpossibl                   // counter increment above the rating
)

// devScan is one device's working state during a scan.
type devScan struct {
	dev      devices.Device
	rated    float64 // AC rating, W
	kwp      float64
	model    *plantModel
	eph      *ephemeris
	skip     string
	smp      []Sample
	exp      []float64 // clear-sky expected AC power at each sample, W
	elev     []float64 // apparent sun elevation at each sample, degrees
	iv       []uint8   // flags of the interval ending at sample i (iv[0] unused)
	zero     []bool    // sample i is in a zero-output candidate run
	stuck    []bool    // sample i is in a flat-lined run
	interval time.Duration
	from, to time.Time
	nDay     int // samples where the model says the plant should produce
	nNight   int // samples at night

	zeroRuns  []zeroRun
	days      []dayStats
	summaries []DaySummary // of the whole days, set by judge

	findings     []Finding
	inconclusive []Type
}

type zeroRun struct {
	i, j     int // first and last sample
	fault    bool
	sleeping bool
}

// dayStats are one device's metrics for one 24-hour bucket of the scan.
type dayStats struct {
	n           int       // samples in the bucket
	from, to    time.Time // first and last productive sample (expected > 0)
	yieldWh     float64   // sum of plausible counter increments
	expWh       float64   // clear-sky expected energy over the whole bucket
	coveredWh   float64   // expected energy inside intervals without gaps
	zeroExpWh   float64   // expected energy inside zero-output runs
	counterWh   float64   // counter increments over clean intervals
	powerWh     float64   // integrated reported power over clean intervals
	samplingVar float64   // variance estimate of powerWh's sampling error, Wh²
	pi          float64   // performance index (NaN if not computed)
	piN         int       // samples behind pi
	piZero      int       // of which in zero-output runs
	cv          float64   // spread of measured/expected: (q90 − q10) / (2.563 × median)
	valid       bool      // coverage enough for the peer statistics
	productive  int       // samples with expected ≥ MinExpectedFraction × rating
	regressions int
	// whole: the bucket is a complete solar day, 24 h inside the scan with
	// the sun below Night.MaxElevationDeg at both ends; only whole days
	// have edges and a DaySummary.
	whole bool
	// edgeS is the midpoint of the day's first and last output minus the
	// midpoint of the clear-sky model's, s (NaN unless all four crossings
	// were observed: dayEdges).
	edgeS      float64
	clockOffS  float64 // edgeS against the peers' median (or alone), set by judgeClock; NaN if not judged
	clockPeers bool    // clockOffS is relative to peers
	clockShift bool    // judgeClock found the profile shifted: the PI is not time-aligned
	// Set on whole days by trendMetrics (NaN: not computed):
	piRatio  float64 // pi over the peers' median (or alone) on a sunny-enough day
	peerPI   bool    // piRatio and skyIndex are the peers'
	skyIndex float64 // the peers' median (or own) yield over clear-sky expectation
}

func (d *dayStats) coverage() float64 {
	if d.expWh <= 0 {
		return 0
	}
	return d.coveredWh / d.expWh
}

// normYield is the day's yield over its clear-sky expectation.
func (d *dayStats) normYield() float64 {
	if d.expWh <= 0 {
		return math.NaN()
	}
	return d.yieldWh / d.expWh
}

func (s *Scanner) prepare(sr *Series, eph *ephemeris, from, to time.Time, nDays int) *devScan {
	d := &devScan{dev: sr.Device, rated: ratedW(sr.Device), kwp: sr.Device.KWp, from: from, to: to}
	p, err := PlantFor(sr.Device, s.cfg.Plant)
	if err != nil {
		d.skip = err.Error()
		return d
	}
	d.model, d.eph = newPlantModel(p), eph
	d.smp = normalize(sr, from, to)
	n := len(d.smp)
	d.exp = make([]float64, n)
	d.elev = make([]float64, n)
	d.iv = make([]uint8, n)
	d.zero = make([]bool, n)
	d.stuck = make([]bool, n)
	dayMin := s.cfg.DaylightFraction * d.rated
	for i := range d.smp {
		d.exp[i], d.elev[i] = d.model.at(eph, d.smp[i].T.UnixNano())
		if d.exp[i] >= dayMin {
			d.nDay++
		}
		if d.elev[i] < s.cfg.Night.MaxElevationDeg {
			d.nNight++
		}
	}
	d.interval = estimateInterval(d.smp, s.cfg.Interval)
	d.days = make([]dayStats, nDays)

	s.detectTimestamps(d)
	s.detectGaps(d, eph)
	s.detectCounter(d)
	s.detectStuck(d)
	s.detectCapacity(d)
	s.detectNight(d)
	s.findZeroRuns(d)
	s.dayMetrics(d, eph)
	s.dayEdges(d, eph)
	s.detectEnergyMismatch(d)
	s.detectClipping(d)
	if n < 2 {
		for _, t := range Types {
			if t != TypeCommGap {
				d.inconclusive = append(d.inconclusive, t)
			}
		}
		return d
	}
	if d.nDay == 0 {
		d.inconclusive = append(d.inconclusive, TypeZeroOutput, TypeStuck, TypeUnderPerformance, TypeOverPerformance,
			TypeClipping, TypeOverCapacity, TypeEnergyMismatch, TypeClockOffset)
	}
	if d.nNight == 0 {
		d.inconclusive = append(d.inconclusive, TypeNightGeneration)
	}
	return d
}

// normalize returns the series' samples in [from, to), in (Seq, T) order,
// without duplicate seqs, preceded by the last sample before from if there
// is one: that context sample lets the scan examine the interval across
// its start (a counter reset at 23:58 is between two days' scans). It sorts
// sr.Samples in place if needed and copies only when it must drop samples.
func normalize(sr *Series, from, to time.Time) []Sample {
	smp := sr.Samples
	bySeq := func(a, b Sample) int { return cmp.Or(cmp.Compare(a.Seq, b.Seq), a.T.Compare(b.T)) }
	if !slices.IsSortedFunc(smp, bySeq) {
		slices.SortStableFunc(smp, bySeq)
	}
	ctx := -1 // the context sample: the last before from
	for i := range smp {
		if smp[i].T.Before(from) {
			ctx = i
		}
	}
	keep := func(i int) bool {
		if i > 0 && dup(smp[i-1], smp[i]) {
			return false
		}
		return i == ctx || (!smp[i].T.Before(from) && smp[i].T.Before(to))
	}
	drop := 0
	for i := range smp {
		if !keep(i) {
			drop++
		}
	}
	if drop == 0 {
		return smp
	}
	out := make([]Sample, 0, len(smp)-drop)
	for i := range smp {
		if keep(i) {
			out = append(out, smp[i])
		}
	}
	return out
}

func dup(a, b Sample) bool {
	if a.Seq != 0 || b.Seq != 0 {
		return a.Seq == b.Seq
	}
	return a.T.Equal(b.T)
}

// estimateInterval is the median positive spacing of the samples, or def
// with fewer than 4 samples.
func estimateInterval(smp []Sample, def time.Duration) time.Duration {
	if len(smp) < 4 {
		return def
	}
	dts := make([]int64, 0, len(smp)-1)
	for i := 1; i < len(smp); i++ {
		if dt := smp[i].T.Sub(smp[i-1].T); dt > 0 {
			dts = append(dts, int64(dt))
		}
	}
	if len(dts) < 3 {
		return def
	}
	slices.Sort(dts)
	return max(time.Duration(dts[len(dts)/2]), time.Second)
}

// dayOf is the index of t's 24-hour bucket.
func (d *devScan) dayOf(t time.Time) int {
	k := int(t.Sub(d.from) / (24 * time.Hour))
	return min(max(k, 0), len(d.days)-1)
}

func (d *devScan) add(f Finding) {
	f.DeviceID, f.SiteID = d.dev.ID, d.dev.SiteID
	for k, v := range f.Evidence {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			delete(f.Evidence, k) // not representable in JSON; absent means "not computed"
		}
	}
	d.findings = append(d.findings, f)
}

// span returns [T_i, T_j] (ordered).
func (d *devScan) span(i, j int) Span {
	a, b := d.smp[i].T, d.smp[j].T
	if b.Before(a) {
		a, b = b, a
	}
	return Span{From: a, To: b}
}

// expectedWh integrates the clear-sky expectation over [a, b] with steps of
// at most step (trapezoid), W·h.
func (d *devScan) expectedWh(eph *ephemeris, a, b time.Time, step time.Duration) float64 {
	if !b.After(a) {
		return 0
	}
	n := int64((b.Sub(a) + step - 1) / step)
	n = max(n, 1)
	an, bn := a.UnixNano(), b.UnixNano()
	prev, _ := d.model.at(eph, an)
	var wh float64
	for k := int64(1); k <= n; k++ {
		tn := an + (bn-an)*k/n
		p, _ := d.model.at(eph, tn)
		wh += (prev + p) / 2 * float64(bn-an) / float64(n) / float64(time.Hour)
		prev = p
	}
	return wh
}
