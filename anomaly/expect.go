package anomaly

import (
	"fmt"
	"math"
	"time"

	"github.com/sunproof/sunproof/anomaly/pvmodel"
	"github.com/sunproof/sunproof/devices"
)

// PlantFor returns the pvmodel plant the detectors expect device d to be:
// the template's model parameters with d's location, orientation, kWp and
// AC rating (a zero AC rating means kWp × 1000 W). It fails if the result
// does not validate.
func PlantFor(d devices.Device, template pvmodel.Plant) (pvmodel.Plant, error) {
	p := template
	p.LatDeg, p.LonDeg = d.Lat, d.Lon
	p.TiltDeg = d.TiltDeg
	p.AzimuthDeg = math.Mod(d.AzimuthDeg, 360)
	if p.AzimuthDeg < 0 {
		p.AzimuthDeg += 360
	}
	p.KWp = d.KWp
	p.ACRatingW = ratedW(d)
	if err := p.Validate(); err != nil {
		return p, fmt.Errorf("device %s: %w", d.ID, err)
	}
	return p, nil
}

// ratedW is the device's AC rating, or its DC nameplate if it has none.
func ratedW(d devices.Device) float64 {
	if d.ACRatingW > 0 {
		return d.ACRatingW
	}
	return d.KWp * 1000
}

// The expected-power path below is pvmodel.Plant.ExpectedPower, made cheap
// enough for a fleet scan (a full NREL SPA evaluation costs ~5–12 µs; a
// 10,000-device day at 5 minutes needs 2.88 M of them). The astronomy runs
// in pvmodel, once per ephemeris grid point (15 min) for an observer at the
// Earth's centre, which yields the geocentric declination δ and the
// Greenwich hour angle H; for each device and sample these are interpolated
// linearly in time and rotated to the device's latitude and longitude with
// the same horizon formulas and refraction correction SPA uses. What is left
// out is the topocentric parallax (at most 8.8″ = 0.0024°). Everything after
// the sun position calls pvmodel's own functions in Plant.Model's order.
// TestExpectedMatchesPVModel checks the result against
// pvmodel.Plant.ExpectedPower and pvmodel.SunPositionAt.

const ephemerisStep = 15 * time.Minute

// earthRadiusM is the SPA's Earth radius: an observer this far below sea
// level at latitude 0 sits at the geocentre, where SPA's parallax terms
// vanish and its "topocentric" position is the geocentric one.
const earthRadiusM = 6378140

var geocentre = pvmodel.Observer{
	LatDeg: 0, LonDeg: 0, ElevationM: -earthRadiusM,
	PressurePa: pvmodel.StandardPressurePa, TempC: pvmodel.DefaultRefractionTempC,
}

// ephemeris is the sun's geocentric declination and Greenwich hour angle on
// a regular grid, and the extraterrestrial irradiance per UTC day. It is
// read-only once built and shared by every worker of a scan.
type ephemeris struct {
	t0, step int64     // Unix ns of grid point 0, grid step in ns
	sinDecl  []float64 // sin δ at each grid point
	decl     []float64 // δ, degrees
	gha      []float64 // H at longitude 0, degrees, unwrapped (increasing)
	day0     int64     // Unix day (UTC) of e0[0]
	e0       []float64 // extraterrestrial irradiance per UTC day, W/m²
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// newEphemeris covers [from, to] with margin.
func newEphemeris(from, to time.Time) *ephemeris {
	step := int64(ephemerisStep)
	k0 := floorDiv(from.UnixNano(), step) - 1
	k1 := floorDiv(to.UnixNano(), step) + 2
	n := int(k1 - k0 + 1)
	e := &ephemeris{t0: k0 * step, step: step, sinDecl: make([]float64, n), decl: make([]float64, n), gha: make([]float64, n)}
	for i := range n {
		t := time.Unix(0, e.t0+int64(i)*step)
		sp := pvmodel.SunPositionAt(t, geocentre)
		// Invert SPA's horizon formulas at latitude 0 (see the comment
		// above): sin δ = cos e · cos A, cos δ · sin H = −cos e · sin A,
		// cos δ · cos H = sin e.
		se, ce := sincosd(sp.ElevationDeg)
		sa, ca := sincosd(sp.AzimuthDeg)
		e.decl[i] = math.Asin(ce*ca) * rad
		e.sinDecl[i] = ce * ca
		h := math.Atan2(-ce*sa, se) * rad
		if i > 0 {
			for h < e.gha[i-1] {
				h += 360
			}
		}
		e.gha[i] = h
	}
	d0 := floorDiv(from.UnixNano(), int64(24*time.Hour)) - 1
	d1 := floorDiv(to.UnixNano(), int64(24*time.Hour)) + 1
	e.day0 = d0
	for d := d0; d <= d1; d++ {
		e.e0 = append(e.e0, pvmodel.ExtraterrestrialIrradiance(time.Unix(d*86400, 0)))
	}
	return e
}

// at returns δ (degrees) and the Greenwich hour angle (degrees) at ns.
func (e *ephemeris) at(ns int64) (decl, gha float64) {
	x := float64(ns-e.t0) / float64(e.step)
	i := int(x)
	if i < 0 {
		i = 0
	}
	if i >= len(e.decl)-1 {
		i = len(e.decl) - 2
	}
	f := x - float64(i)
	return e.decl[i] + f*(e.decl[i+1]-e.decl[i]), e.gha[i] + f*(e.gha[i+1]-e.gha[i])
}

func (e *ephemeris) dniExtra(ns int64) float64 {
	d := floorDiv(ns, int64(24*time.Hour)) - e.day0
	if d < 0 || d >= int64(len(e.e0)) {
		return pvmodel.ExtraterrestrialIrradiance(time.Unix(0, ns))
	}
	return e.e0[d]
}

const (
	deg = math.Pi / 180
	rad = 180 / math.Pi
	// SPA: refraction applies above −(sun radius + refraction at sunrise).
	refractionMinElev = -(0.26667 + 0.5667)
)

func sincosd(x float64) (float64, float64) { return math.Sincos(x * deg) }

// plantModel is one device's clear-sky expectation.
type plantModel struct {
	p              pvmodel.Plant
	sinLat, cosLat float64
	pressureMbar   float64
	dcLimit        float64
}

func newPlantModel(p pvmodel.Plant) *plantModel {
	sl, cl := sincosd(p.LatDeg)
	return &plantModel{p: p, sinLat: sl, cosLat: cl, pressureMbar: pvmodel.AltitudeToPressure(p.ElevationM) / 100, dcLimit: p.InverterDCLimitW()}
}

// sun returns the sun's position for the plant at ns (pvmodel's
// conventions: geometric and apparent elevation, azimuth clockwise from
// north), without topocentric parallax.
func (m *plantModel) sun(e *ephemeris, ns int64) (elev, appElev, azimuth float64) {
	decl, gha := e.at(ns)
	sd, cd := sincosd(decl)
	sh, ch := sincosd(gha + m.p.LonDeg)
	el0 := math.Asin(clamp(m.sinLat*sd+m.cosLat*cd*ch, -1, 1)) * rad
	var de float64
	if el0 >= refractionMinElev {
		de = (m.pressureMbar / 1010) * (283 / (273 + pvmodel.DefaultRefractionTempC)) * 1.02 /
			(60 * math.Tan((el0+10.3/(el0+5.11))*deg))
	}
	gamma := math.Atan2(sh, ch*m.sinLat-sd/cd*m.cosLat) * rad
	az := gamma + 180
	if az >= 360 {
		az -= 360
	}
	return el0, el0 + de, az
}

// at returns the clear-sky expected AC power (W) and the apparent sun
// elevation (degrees) at ns: pvmodel.Plant.ExpectedPower on the sun
// position above.
func (m *plantModel) at(e *ephemeris, ns int64) (acW, appElev float64) {
	el, appEl, az := m.sun(e, ns)
	if appEl <= 0 {
		return 0, appEl
	}
	p := &m.p
	zen := 90 - el
	ghi := pvmodel.ClearSkyGHI(90 - appEl)
	hor := pvmodel.Erbs(ghi, zen, e.dniExtra(ns))
	poa := pvmodel.POAIsotropic(p.TiltDeg, p.AzimuthDeg, zen, az, hor, p.Albedo)
	cell := pvmodel.CellTempFaiman(poa.Global, p.AmbientC, p.WindMS, p.FaimanU0, p.FaimanU1)
	dc := pvmodel.DCPower(poa.Global, cell, p.KWp*1000, p.GammaPerC) * (1 - p.LossFraction)
	ac, _ := pvmodel.InverterAC(dc, m.dcLimit, p.InverterEffNominal)
	return math.Min(ac, p.ACRatingW), appEl
}

func clamp(x, lo, hi float64) float64 { return math.Min(math.Max(x, lo), hi) }
