package pvmodel

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Plant describes a fixed-tilt PV system with one inverter: where it is, how
// its modules face, its DC and AC ratings and the parameters of the
// temperature, loss and inverter models. Start from DefaultPlant and change
// what differs; Validate rejects zero values where a model needs a number.
type Plant struct {
	LatDeg     float64 // latitude, north positive, −90..90
	LonDeg     float64 // longitude, east positive, −180..180
	ElevationM float64 // site elevation above sea level, m (sets the pressure for refraction)

	TiltDeg    float64 // module tilt from horizontal, 0..90
	AzimuthDeg float64 // direction the modules face, clockwise from north: 180 = south, 0 = north

	KWp       float64 // DC nameplate at STC (1000 W/m², 25 °C cell), kW
	ACRatingW float64 // inverter AC rating: AC output is clipped here, W

	GammaPerC          float64 // power temperature coefficient γ, 1/°C (typically −0.002..−0.005)
	Albedo             float64 // ground reflectance for the POA ground component, 0..1
	LossFraction       float64 // DC system losses (soiling, wiring, mismatch, …), 0..1
	InverterEffNominal float64 // PVWatts nominal inverter efficiency η_nom, (0, 1]

	FaimanU0 float64 // Faiman constant heat-loss coefficient, W/(m²·K)
	FaimanU1 float64 // Faiman wind heat-loss coefficient, W·s/(m³·K)
	AmbientC float64 // air temperature assumed by ExpectedPower, °C
	WindMS   float64 // wind speed assumed by ExpectedPower, m/s
}

// DefaultPlant returns a 5 kWp rooftop system in Hefei, Anhui (31.82° N,
// 117.23° E, 30 m), facing south at 25° tilt, with a 4.6 kW inverter,
// γ = −0.004/°C, albedo 0.25, 14 % DC losses (the PVWatts default), η_nom =
// 0.96, Faiman u0 = 25, u1 = 6.84 (pvlib defaults), 25 °C air and 1 m/s wind.
func DefaultPlant() Plant {
	return Plant{
		LatDeg:             31.82,
		LonDeg:             117.23,
		ElevationM:         30,
		TiltDeg:            25,
		AzimuthDeg:         180,
		KWp:                5,
		ACRatingW:          4600,
		GammaPerC:          -0.004,
		Albedo:             0.25,
		LossFraction:       0.14,
		InverterEffNominal: 0.96,
		FaimanU0:           25,
		FaimanU1:           6.84,
		AmbientC:           25,
		WindMS:             1,
	}
}

// ErrInvalidPlant is wrapped by every error Plant.Validate returns.
var ErrInvalidPlant = errors.New("invalid plant")

// Validate reports the first parameter outside its range.
func (p Plant) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrInvalidPlant)
	}
	finite := []struct {
		name string
		v    float64
	}{
		{"lat_deg", p.LatDeg}, {"lon_deg", p.LonDeg}, {"elevation_m", p.ElevationM},
		{"tilt_deg", p.TiltDeg}, {"azimuth_deg", p.AzimuthDeg}, {"kwp", p.KWp},
		{"ac_rating_w", p.ACRatingW}, {"gamma_per_c", p.GammaPerC}, {"albedo", p.Albedo},
		{"loss_fraction", p.LossFraction}, {"inverter_eff_nominal", p.InverterEffNominal},
		{"faiman_u0", p.FaimanU0}, {"faiman_u1", p.FaimanU1}, {"ambient_c", p.AmbientC},
		{"wind_ms", p.WindMS},
	}
	for _, f := range finite {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return bad("%s is %v", f.name, f.v)
		}
	}
	switch {
	case p.LatDeg < -90 || p.LatDeg > 90:
		return bad("lat_deg %g outside -90..90", p.LatDeg)
	case p.LonDeg < -180 || p.LonDeg > 180:
		return bad("lon_deg %g outside -180..180", p.LonDeg)
	case p.ElevationM < -500 || p.ElevationM > 9000:
		return bad("elevation_m %g outside -500..9000", p.ElevationM)
	case p.TiltDeg < 0 || p.TiltDeg > 90:
		return bad("tilt_deg %g outside 0..90", p.TiltDeg)
	case p.AzimuthDeg < 0 || p.AzimuthDeg >= 360:
		return bad("azimuth_deg %g outside [0, 360)", p.AzimuthDeg)
	case p.KWp <= 0 || p.KWp > 1e6:
		return bad("kwp %g outside (0, 1e6]", p.KWp)
	case p.ACRatingW <= 0 || p.ACRatingW > 2*p.KWp*1000:
		return bad("ac_rating_w %g outside (0, 2 × kwp × 1000]", p.ACRatingW)
	case p.GammaPerC < -0.02 || p.GammaPerC > 0:
		return bad("gamma_per_c %g outside [-0.02, 0]", p.GammaPerC)
	case p.Albedo < 0 || p.Albedo > 1:
		return bad("albedo %g outside 0..1", p.Albedo)
	case p.LossFraction < 0 || p.LossFraction >= 1:
		return bad("loss_fraction %g outside [0, 1)", p.LossFraction)
	case p.InverterEffNominal <= 0.5 || p.InverterEffNominal > 1:
		return bad("inverter_eff_nominal %g outside (0.5, 1]", p.InverterEffNominal)
	case p.FaimanU0 <= 0:
		return bad("faiman_u0 %g must be positive", p.FaimanU0)
	case p.FaimanU1 < 0:
		return bad("faiman_u1 %g is negative", p.FaimanU1)
	case p.AmbientC < -60 || p.AmbientC > 60:
		return bad("ambient_c %g outside -60..60", p.AmbientC)
	case p.WindMS < 0 || p.WindMS > 60:
		return bad("wind_ms %g outside 0..60", p.WindMS)
	}
	return nil
}

// Observer returns the plant's location for SunPositionAt, with the
// standard-atmosphere pressure at its elevation and pvlib's 12 °C for
// refraction (what pvlib's Location.get_solarposition uses).
func (p Plant) Observer() Observer {
	return Observer{
		LatDeg:     p.LatDeg,
		LonDeg:     p.LonDeg,
		ElevationM: p.ElevationM,
		PressurePa: AltitudeToPressure(p.ElevationM),
		TempC:      DefaultRefractionTempC,
	}
}

// InverterDCLimitW is the DC input at which the inverter reaches its AC
// rating: ACRatingW / InverterEffNominal (PVWatts "pdc0" of the inverter).
func (p Plant) InverterDCLimitW() float64 { return p.ACRatingW / p.InverterEffNominal }

// Conditions are the weather a plant sees at one instant.
type Conditions struct {
	// ClearSkyIndex scales the Haurwitz clear-sky GHI: 1 = clear, ~0.2 =
	// overcast. Values a little above 1 (cloud enhancement) are allowed.
	ClearSkyIndex float64
	AmbientC      float64 // air temperature, °C
	WindMS        float64 // wind speed, m/s
}

// ClearSky returns clear-sky conditions at the plant's assumed air
// temperature and wind speed.
func (p Plant) ClearSky() Conditions {
	return Conditions{ClearSkyIndex: 1, AmbientC: p.AmbientC, WindMS: p.WindMS}
}

// Output is the model chain's result for one instant.
type Output struct {
	Sun        SolarPosition
	DNIExtra   float64    // extraterrestrial irradiance, W/m²
	Horizontal Components // GHI = kc × Haurwitz, split by Erbs
	POA        POA        // isotropic transposition
	CellTempC  float64    // Faiman
	DCAvailW   float64    // DC power at the maximum power point, after losses
	DCW        float64    // DC power drawn by the inverter (DCAvailW, or less when clipping)
	ACW        float64    // AC output, 0..ACRatingW
	Clipped    bool       // the inverter limited its output to ACRatingW
}

// Model runs the model chain for time t under conditions c:
// SPA sun position → Haurwitz GHI × c.ClearSkyIndex → Erbs DNI/DHI →
// isotropic POA → Faiman cell temperature → PVWatts DC (× (1 − losses)) →
// PVWatts inverter with clipping at ACRatingW. The plant must be valid.
func (p Plant) Model(t time.Time, c Conditions) Output {
	var o Output
	o.Sun = SunPositionAt(t, p.Observer())
	o.DNIExtra = ExtraterrestrialIrradiance(t)
	ghi := ClearSkyGHI(o.Sun.ApparentZenithDeg) * math.Max(c.ClearSkyIndex, 0)
	o.Horizontal = Erbs(ghi, o.Sun.ZenithDeg, o.DNIExtra)
	o.POA = POAIsotropic(p.TiltDeg, p.AzimuthDeg, o.Sun.ZenithDeg, o.Sun.AzimuthDeg, o.Horizontal, p.Albedo)
	o.CellTempC = CellTempFaiman(o.POA.Global, c.AmbientC, c.WindMS, p.FaimanU0, p.FaimanU1)
	o.DCAvailW = DCPower(o.POA.Global, o.CellTempC, p.KWp*1000, p.GammaPerC) * (1 - p.LossFraction)
	o.ACW, o.Clipped = InverterAC(o.DCAvailW, p.InverterDCLimitW(), p.InverterEffNominal)
	o.ACW = math.Min(o.ACW, p.ACRatingW) // η_nom · (ACRatingW / η_nom) may round above it
	o.DCW = o.DCAvailW
	if o.Clipped {
		// The inverter moves off the maximum power point until it draws what
		// it needs for its rating: PVWatts efficiency is η_nom at pdc0.
		o.DCW = p.InverterDCLimitW()
	}
	return o
}

// ExpectedPower returns the clear-sky AC power of the plant at t in W.
func (p Plant) ExpectedPower(t time.Time) float64 { return p.Model(t, p.ClearSky()).ACW }

// ExpectedEnergy integrates the plant's clear-sky AC power from from to to
// with the trapezoid rule on a grid of the given step (the last interval may
// be shorter), and returns the energy in Wh. Energy over an empty interval
// is 0.
func ExpectedEnergy(p Plant, from, to time.Time, step time.Duration) (float64, error) {
	if err := p.Validate(); err != nil {
		return 0, err
	}
	if step <= 0 {
		return 0, fmt.Errorf("expected energy: step %s must be positive", step)
	}
	if to.Before(from) {
		return 0, fmt.Errorf("expected energy: to %s is before from %s", to.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	if n := to.Sub(from) / step; n > 50_000_000 {
		return 0, fmt.Errorf("expected energy: %d steps of %s is too many", n, step)
	}
	c := p.ClearSky()
	var wh float64
	p0 := p.Model(from, c).ACW
	for t := from; t.Before(to); {
		next := t.Add(step)
		if next.After(to) {
			next = to
		}
		p1 := p.Model(next, c).ACW
		wh += (p0 + p1) / 2 * next.Sub(t).Hours()
		t, p0 = next, p1
	}
	return wh, nil
}
