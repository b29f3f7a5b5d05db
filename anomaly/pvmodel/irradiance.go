package pvmodel

import (
	"math"
	"time"
)

// SolarConstant is the solar constant pvlib's get_extra_radiation uses, W/m².
const SolarConstant = 1366.1

// ExtraterrestrialIrradiance returns the extraterrestrial normal irradiance
// at t in W/m², Spencer's (1971) Earth–Sun distance correction applied to
// SolarConstant with t's UTC day of year (pvlib get_extra_radiation,
// method "spencer").
func ExtraterrestrialIrradiance(t time.Time) float64 {
	return ExtraterrestrialIrradianceDOY(t.UTC().YearDay())
}

// ExtraterrestrialIrradianceDOY is ExtraterrestrialIrradiance for a day of
// year (1 = 1 January).
func ExtraterrestrialIrradianceDOY(doy int) float64 {
	b := 2 * math.Pi / 365 * float64(doy-1)
	r := 1.00011 + 0.034221*math.Cos(b) + 0.00128*math.Sin(b) + 0.000719*math.Cos(2*b) + 7.7e-05*math.Sin(2*b)
	return SolarConstant * r
}

// AirMass returns the relative optical air mass for an apparent zenith in
// degrees, Kasten & Young (1989):
//
//	AM = 1 / (cos z + 0.50572 · (96.07995 − z)^−1.6364)
//
// It returns NaN when z > 90°, as pvlib's get_relative_airmass does.
func AirMass(apparentZenithDeg float64) float64 {
	z := apparentZenithDeg
	if z > 90 || math.IsNaN(z) {
		return math.NaN()
	}
	return 1 / (cosd(z) + 0.50572*math.Pow(6.07995+(90-z), -1.6364))
}

// ClearSkyGHI returns the Haurwitz (1945) clear-sky global horizontal
// irradiance in W/m² for an apparent zenith in degrees:
//
//	GHI = 1098 · cos z · exp(−0.059 / cos z) for z < 90°, else 0.
//
// This is pvlib.clearsky.haurwitz.
func ClearSkyGHI(apparentZenithDeg float64) float64 {
	c := cosd(apparentZenithDeg)
	if !(c > 0) {
		return 0
	}
	return 1098 * c * math.Exp(-0.059/c)
}

// Erbs decomposition limits, as pvlib.irradiance.erbs defaults.
const (
	erbsMinCosZenith = 0.065
	erbsMaxZenith    = 87.0
)

// ClearnessIndex returns kt = GHI / (E0 · max(cos z, 0.065)), clipped to
// [0, maxKt] (pvlib.irradiance.clearness_index).
func ClearnessIndex(ghi, zenithDeg, dniExtra, maxKt float64) float64 {
	kt := ghi / (dniExtra * math.Max(cosd(zenithDeg), erbsMinCosZenith))
	return math.Min(math.Max(kt, 0), maxKt)
}

// Components are the three components of sunlight on a horizontal surface,
// W/m²; GHI = DNI · cos z + DHI.
type Components struct {
	GHI, DNI, DHI float64
	Kt            float64 // clearness index used by the decomposition
}

// Erbs splits global horizontal irradiance into direct normal and diffuse
// horizontal with the Erbs, Klein & Duffie (1982) diffuse-fraction
// correlation. zenithDeg is the true (geometric) zenith; dniExtra the
// extraterrestrial irradiance. As pvlib.irradiance.erbs: kt is clipped to
// [0, 1]; when z > 87°, GHI < 0 or the DNI would be negative, DNI = 0 and
// DHI = GHI.
func Erbs(ghi, zenithDeg, dniExtra float64) Components {
	kt := ClearnessIndex(ghi, zenithDeg, dniExtra, 1)
	var df float64
	switch {
	case kt <= 0.22:
		df = 1 - 0.09*kt
	case kt <= 0.8:
		df = 0.9511 - 0.1604*kt + 4.388*kt*kt - 16.638*kt*kt*kt + 12.336*kt*kt*kt*kt
	default:
		df = 0.165
	}
	dhi := df * ghi
	dni := (ghi - dhi) / cosd(zenithDeg)
	if zenithDeg > erbsMaxZenith || ghi < 0 || dni < 0 || math.IsNaN(dni) {
		dni, dhi = 0, ghi
	}
	return Components{GHI: ghi, DNI: dni, DHI: dhi, Kt: kt}
}

// AOIProjection returns the cosine of the angle of incidence of the sun's
// rays on a surface of the given tilt (0 = horizontal) and azimuth (clockwise
// from north, 180 = facing south), clipped to [−1, 1]. Negative values mean
// the sun is behind the surface.
func AOIProjection(tiltDeg, surfaceAzimuthDeg, zenithDeg, sunAzimuthDeg float64) float64 {
	p := cosd(tiltDeg)*cosd(zenithDeg) + sind(tiltDeg)*sind(zenithDeg)*cosd(sunAzimuthDeg-surfaceAzimuthDeg)
	return math.Min(math.Max(p, -1), 1)
}

// AngleOfIncidence returns the angle between the sun's rays and the surface
// normal in degrees, 0..180 (pvlib.irradiance.aoi).
func AngleOfIncidence(tiltDeg, surfaceAzimuthDeg, zenithDeg, sunAzimuthDeg float64) float64 {
	return math.Acos(AOIProjection(tiltDeg, surfaceAzimuthDeg, zenithDeg, sunAzimuthDeg)) * rad
}

// POA is irradiance in the plane of array, W/m². Global = Direct + SkyDiffuse
// + GroundDiffuse.
type POA struct {
	Global, Direct, SkyDiffuse, GroundDiffuse float64
	AOIDeg                                    float64
}

// POAIsotropic transposes horizontal components to a tilted plane with the
// isotropic sky model (Hottel & Woertz; Liu & Jordan) and ground reflection
// with albedo rho, as pvlib.irradiance.get_total_irradiance(model="isotropic"):
//
//	direct = max(DNI · cos AOI, 0)
//	sky    = DHI · (1 + cos β) / 2
//	ground = GHI · ρ · (1 − cos β) / 2
//
// zenithDeg is the true zenith.
func POAIsotropic(tiltDeg, surfaceAzimuthDeg, zenithDeg, sunAzimuthDeg float64, c Components, albedo float64) POA {
	proj := AOIProjection(tiltDeg, surfaceAzimuthDeg, zenithDeg, sunAzimuthDeg)
	direct := math.Max(c.DNI*proj, 0)
	sky := c.DHI * (1 + cosd(tiltDeg)) * 0.5
	ground := c.GHI * albedo * (1 - cosd(tiltDeg)) * 0.5
	return POA{
		Global:        direct + sky + ground,
		Direct:        direct,
		SkyDiffuse:    sky,
		GroundDiffuse: ground,
		AOIDeg:        math.Acos(proj) * rad,
	}
}
