package sim

import (
	"math"
	"time"
)

// Random streams. Each stream is an independent sequence of knots.
const (
	streamSynoptic  uint64 = iota + 1 // weather systems (days)
	streamFront                       // fronts (hours)
	streamMeso                        // cloud fields (tens of minutes)
	streamCellSlow                    // cloud passages (minutes)
	streamCellFast                    // cloud edges (tens of seconds)
	streamThickness                   // cloud optical thickness
	streamTurbidity                   // clear-sky haze, day to day
	streamAirTemp                     // air temperature anomaly
	streamWind                        // wind speed
	streamGridV                       // grid voltage, slow
	streamGridF                       // grid frequency, slow
	streamJitter                      // per-instant measurement noise
)

// mix is SplitMix64's finaliser: a bijective 64-bit hash.
func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// uniform returns a value in [−1, 1) determined by (seed, stream, k) alone.
func uniform(seed int64, stream uint64, k int64) float64 {
	h := mix(uint64(seed) ^ mix(stream*0x9e3779b97f4a7c15) ^ mix(uint64(k)+0x632be59bd9b4e019))
	return float64(h>>11)/(1<<52) - 1
}

// noise is value noise: uniform knots every period, joined by a smoothstep,
// so it is continuous in t, in [−1, 1], correlated over about one period and
// a pure function of (seed, stream, t).
func noise(seed int64, stream uint64, t time.Time, period time.Duration) float64 {
	ns := t.UnixNano() // valid 1678..2262
	p := int64(period)
	k := ns / p
	if ns%p < 0 {
		k--
	}
	f := float64(ns-k*p) / float64(p)
	f = f * f * (3 - 2*f)
	a, b := uniform(seed, stream, k), uniform(seed, stream, k+1)
	return a + (b-a)*f
}

// jitter is white noise in [−1, 1) for one instant (millisecond resolution)
// and one purpose.
func jitter(seed int64, purpose uint64, t time.Time) float64 {
	return uniform(seed, streamJitter+purpose<<8, t.UnixMilli())
}

func clamp(x, lo, hi float64) float64 { return math.Min(math.Max(x, lo), hi) }

// weather is the sky and air at one instant.
type weather struct {
	cover     float64 // cloud cover fraction of the regime, 0..1
	kc        float64 // clear-sky index applied to Haurwitz GHI
	ambientC  float64
	windMS    float64
	shadedFrc float64 // 0 = sun clear, 1 = sun behind cloud
}

// weatherAt is the stochastic sky of doc.go ("Weather"): a latent weather
// regime (synoptic + frontal value noise) sets the cloud cover; a fast cloud
// field decides whether the sun is behind a cloud at this instant.
func (s *Inverter) weatherAt(t time.Time) weather {
	seed, c := s.cfg.Seed, s.cfg.Cloudiness

	// Regime: latent variable in about [−1, 1], correlated over days and hours.
	latent := 0.55*noise(seed, streamSynoptic, t, 36*time.Hour) +
		0.3*noise(seed, streamFront, t, 9*time.Hour) +
		0.15*noise(seed, streamMeso, t, 70*time.Minute)
	spread := 1.6 * math.Sqrt(c*(1-c)) // 0 at c = 0 or 1, 0.8 at c = 0.5
	cover := clamp(c+spread*latent, 0, 1)

	// Cloud field over the sun: in [0, 1], minutes-scale passages with
	// sharper edges. The sun is shaded where the field is below the cover.
	field := 0.5 + 0.5*(0.7*noise(seed, streamCellSlow, t, 4*time.Minute)+0.3*noise(seed, streamCellFast, t, 40*time.Second))
	// Stretch the field's central bunching so the shaded time fraction is
	// close to the cover.
	field = clamp(0.5+1.6*(field-0.5), 0, 1)
	const edge = 0.05
	var shaded float64
	switch {
	case cover >= 1:
		shaded = 1
	case cover <= 0:
		shaded = 0
	default:
		shaded = clamp((cover-field)/edge+0.5, 0, 1)
	}

	// Clear sky: Haurwitz is generous, and haze varies from day to day.
	kClear := 0.955 + 0.03*noise(seed, streamTurbidity, t, 20*time.Hour)
	// Cloud enhancement just outside a cloud's edge in broken skies.
	if cover > 0.05 && cover < 0.95 && field > cover {
		kClear += 0.08 * math.Max(0, 1-(field-cover)/0.12)
	}
	// Transmittance of the cloud: thicker when the sky is overcast.
	thick := 0.5 + 0.5*noise(seed, streamThickness, t, 25*time.Minute)
	kCloud := 0.55 - 0.3*cover - 0.15*thick // 0.1..0.55
	kc := (1-shaded)*kClear + shaded*kCloud

	return weather{
		cover:     cover,
		kc:        kc,
		ambientC:  s.airTemp(t, cover),
		windMS:    clamp(2+1.5*noise(seed, streamWind, t, 3*time.Hour)+0.5*noise(seed, streamWind+100, t, 5*time.Minute), 0, 12),
		shadedFrc: shaded,
	}
}

// airTemp is the climate's air temperature at t: annual and daily cycles
// (the daily one damped by cloud) plus a weather anomaly.
func (s *Inverter) airTemp(t time.Time, cover float64) float64 {
	cfg := &s.cfg
	u := t.UTC()
	doy := float64(u.YearDay()) + float64(u.Hour())/24
	season := math.Cos(2 * math.Pi * (doy - 205) / 365.25) // +1 around 24 July
	if cfg.Plant.LatDeg < 0 {
		season = -season
	}
	solarHour := float64(u.Hour()) + float64(u.Minute())/60 + cfg.Plant.LonDeg/15
	daily := math.Cos(2 * math.Pi * (solarHour - 14.5) / 24)
	return cfg.AmbientMeanC + cfg.AmbientSeasonalC*season +
		cfg.AmbientDailyC*(1-0.6*cover)*daily +
		2.5*noise(cfg.Seed, streamAirTemp, t, 30*time.Hour)
}
