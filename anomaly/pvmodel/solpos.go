package pvmodel

import (
	"math"
	"time"
)

// Default atmosphere for the refraction correction, as in pvlib.
const (
	// StandardPressurePa is the sea-level standard pressure.
	StandardPressurePa = 101325.0
	// DefaultRefractionTempC is the air temperature pvlib's
	// get_solarposition assumes for the refraction correction.
	DefaultRefractionTempC = 12.0
	// DefaultDeltaTSec is TT − UT in seconds used when an Observer leaves
	// DeltaTSec at 0: pvlib's spa_python default (67 s; the true value was
	// 69.2 s in 2024, and 1 s of error moves the sun by about 1e-5°).
	DefaultDeltaTSec = 67.0
	// atmosRefract is the SPA's atmospheric refraction at sunrise and
	// sunset, in degrees.
	atmosRefract = 0.5667
)

// SolarPosition is the sun's topocentric position seen from one place at one
// instant. All angles are in degrees.
//
// Zenith and Elevation are geometric (no refraction), Zenith = 90 − Elevation;
// ApparentZenith and ApparentElevation include the SPA's atmospheric
// refraction correction. Azimuth is measured clockwise from geographic north
// (N = 0, E = 90, S = 180, W = 270), in [0, 360). These are pvlib's
// "zenith", "apparent_zenith", "elevation", "apparent_elevation" and
// "azimuth".
type SolarPosition struct {
	ZenithDeg            float64
	ApparentZenithDeg    float64
	ElevationDeg         float64
	ApparentElevationDeg float64
	AzimuthDeg           float64
	EquationOfTimeMin    float64 // apparent minus mean solar time, minutes
	EarthSunDistanceAU   float64 // heliocentric radius vector R
}

// Up reports whether the sun's apparent centre is above the horizon.
func (p SolarPosition) Up() bool { return p.ApparentZenithDeg < 90 }

// Observer is a place on Earth for SunPositionAt.
type Observer struct {
	LatDeg     float64 // north positive, −90..90
	LonDeg     float64 // east positive, −180..180
	ElevationM float64 // above sea level
	PressurePa float64 // local pressure for refraction; 0 = AltitudeToPressure(ElevationM)
	TempC      float64 // air temperature for refraction (pvlib default 12 °C)
	// DeltaTSec is TT − UT in seconds; 0 means DefaultDeltaTSec (as pvlib).
	// DeltaT(t) gives the Espenak–Meeus polynomial estimate.
	DeltaTSec float64
}

// SunPosition returns the sun's position at t for a sea-level observer at
// latDeg, lonDeg with pvlib's default atmosphere (101325 Pa, 12 °C). It is
// pvlib.solarposition.get_solarposition(t, lat, lon) with the default method
// (NREL SPA, "nrel_numpy").
func SunPosition(t time.Time, latDeg, lonDeg float64) SolarPosition {
	return SunPositionAt(t, Observer{LatDeg: latDeg, LonDeg: lonDeg, PressurePa: StandardPressurePa, TempC: DefaultRefractionTempC})
}

// AltitudeToPressure returns the standard-atmosphere pressure in Pa at an
// altitude in metres (pvlib.atmosphere.alt2pres).
func AltitudeToPressure(altitudeM float64) float64 {
	return 100 * math.Pow((44331.514-altitudeM)/11880.516, 1/0.1902632)
}

// DeltaT returns TT − UT in seconds for the month of t, from the polynomial
// expressions of Espenak and Meeus (NASA Five Millennium Canon), as pvlib's
// spa.calculate_deltat. It is meant for years −1999..3000. The polynomial
// overestimates recent values (74 s for 2024 against a measured 69.2 s); pass
// its result as Observer.DeltaTSec for dates far from the present.
func DeltaT(t time.Time) float64 {
	t = t.UTC()
	return deltaT(t.Year(), int(t.Month()))
}

func deltaT(year, month int) float64 {
	y := float64(year) + (float64(month)-0.5)/12
	pow := math.Pow
	switch {
	case year < -500:
		return -20 + 32*pow((y-1820)/100, 2)
	case year < 500:
		u := y / 100
		return 10583.6 - 1014.41*u + 33.78311*u*u - 5.952053*pow(u, 3) - 0.1798452*pow(u, 4) +
			0.022174192*pow(u, 5) + 0.0090316521*pow(u, 6)
	case year < 1600:
		u := (y - 1000) / 100
		return 1574.2 - 556.01*u + 71.23472*u*u + 0.319781*pow(u, 3) - 0.8503463*pow(u, 4) -
			0.005050998*pow(u, 5) + 0.0083572073*pow(u, 6)
	case year < 1700:
		u := y - 1600
		return 120 - 0.9808*u - 0.01532*u*u + pow(u, 3)/7129
	case year < 1800:
		u := y - 1700
		return 8.83 + 0.1603*u - 0.0059285*u*u + 0.00013336*pow(u, 3) - pow(u, 4)/1174000
	case year < 1860:
		u := y - 1800
		return 13.72 - 0.332447*u + 0.0068612*u*u + 0.0041116*pow(u, 3) - 0.00037436*pow(u, 4) +
			0.0000121272*pow(u, 5) - 0.0000001699*pow(u, 6) + 0.000000000875*pow(u, 7)
	case year < 1900:
		u := y - 1860
		return 7.62 + 0.5737*u - 0.251754*u*u + 0.01680668*pow(u, 3) - 0.0004473624*pow(u, 4) + pow(u, 5)/233174
	case year < 1920:
		u := y - 1900
		return -2.79 + 1.494119*u - 0.0598939*u*u + 0.0061966*pow(u, 3) - 0.000197*pow(u, 4)
	case year < 1941:
		u := y - 1920
		return 21.20 + 0.84493*u - 0.076100*u*u + 0.0020936*pow(u, 3)
	case year < 1961:
		u := y - 1950
		return 29.07 + 0.407*u - u*u/233 + pow(u, 3)/2547
	case year < 1986:
		u := y - 1975
		return 45.45 + 1.067*u - u*u/260 - pow(u, 3)/718
	case year < 2005:
		u := y - 2000
		return 63.86 + 0.3345*u - 0.060374*u*u + 0.0017275*pow(u, 3) + 0.000651814*pow(u, 4) + 0.00002373599*pow(u, 5)
	case year < 2050:
		u := y - 2000
		return 62.92 + 0.32217*u + 0.005589*u*u
	case year < 2150:
		return -20 + 32*pow((y-1820)/100, 2) - 0.5628*(2150-y)
	default:
		return -20 + 32*pow((y-1820)/100, 2)
	}
}

type spaTerm struct{ a, b, c float64 }

func spaSum(terms []spaTerm, x float64) float64 {
	var s float64
	for _, t := range terms {
		s += t.a * math.Cos(t.b+t.c*x)
	}
	return s
}

const (
	deg = math.Pi / 180
	rad = 180 / math.Pi
)

func sind(x float64) float64 { return math.Sin(x * deg) }
func cosd(x float64) float64 { return math.Cos(x * deg) }

// mod360 returns x modulo 360 in [0, 360), like Python's x % 360.
func mod360(x float64) float64 {
	r := math.Mod(x, 360)
	if r < 0 {
		r += 360
	}
	return r
}

// SunPositionAt returns the sun's position at t for obs, using the NREL Solar
// Position Algorithm (Reda & Andreas 2004) step by step as pvlib's spa.py does.
// Accuracy of the algorithm: ±0.0003° for years −2000..6000 (given the true
// ΔT).
func SunPositionAt(t time.Time, obs Observer) SolarPosition {
	pressure := obs.PressurePa
	if pressure == 0 {
		pressure = AltitudeToPressure(obs.ElevationM)
	}
	dt := obs.DeltaTSec
	if dt == 0 {
		dt = DefaultDeltaTSec
	}
	return spa(unixSeconds(t), dt, obs.LatDeg, obs.LonDeg, obs.ElevationM, pressure/100, obs.TempC)
}

func unixSeconds(t time.Time) float64 {
	s := t.Unix()
	return float64(s) + float64(t.Nanosecond())/1e9
}

// spa is the SPA for one instant; pressure in millibars.
func spa(unixtime, deltaT, lat, lon, elev, pressure, temp float64) SolarPosition {
	jd := unixtime/86400 + 2440587.5
	jde := jd + deltaT/86400
	jc := (jd - 2451545) / 36525
	jce := (jde - 2451545) / 36525
	jme := jce / 10

	// Earth heliocentric longitude, latitude (degrees) and radius vector (AU).
	l := (spaSum(spaL0[:], jme) + jme*(spaSum(spaL1[:], jme)+jme*(spaSum(spaL2[:], jme)+
		jme*(spaSum(spaL3[:], jme)+jme*(spaSum(spaL4[:], jme)+jme*spaSum(spaL5[:], jme)))))) / 1e8
	L := mod360(l * rad)
	b := (spaSum(spaB0[:], jme) + jme*spaSum(spaB1[:], jme)) / 1e8
	B := b * rad
	R := (spaSum(spaR0[:], jme) + jme*(spaSum(spaR1[:], jme)+jme*(spaSum(spaR2[:], jme)+
		jme*(spaSum(spaR3[:], jme)+jme*spaSum(spaR4[:], jme))))) / 1e8

	// Geocentric longitude and latitude.
	theta := mod360(L + 180)
	beta := -B

	// Nutation in longitude and obliquity.
	x0 := 297.85036 + 445267.111480*jce - 0.0019142*jce*jce + jce*jce*jce/189474
	x1 := 357.52772 + 35999.050340*jce - 0.0001603*jce*jce - jce*jce*jce/300000
	x2 := 134.96298 + 477198.867398*jce + 0.0086972*jce*jce + jce*jce*jce/56250
	x3 := 93.27191 + 483202.017538*jce - 0.0036825*jce*jce + jce*jce*jce/327270
	x4 := 125.04452 - 1934.136261*jce + 0.0020708*jce*jce + jce*jce*jce/450000
	var dpsiSum, depsSum float64
	for i, y := range spaNutationY {
		arg := (y[0]*x0 + y[1]*x1 + y[2]*x2 + y[3]*x3 + y[4]*x4) * deg
		c := spaNutationABCD[i]
		dpsiSum += (c[0] + c[1]*jce) * math.Sin(arg)
		depsSum += (c[2] + c[3]*jce) * math.Cos(arg)
	}
	dpsi := dpsiSum / 36000000
	deps := depsSum / 36000000

	// True obliquity of the ecliptic.
	u := jme / 10
	e0 := 84381.448 + u*(-4680.93+u*(-1.55+u*(1999.25+u*(-51.38+u*(-249.67+u*(-39.05+u*(7.12+u*(27.87+u*(5.79+u*2.45)))))))))
	eps := e0/3600 + deps

	// Apparent sun longitude, sidereal time, geocentric RA and declination.
	dtau := -20.4898 / (3600 * R)
	lamda := theta + dpsi + dtau
	v0 := mod360(280.46061837 + 360.98564736629*(jd-2451545) + 0.000387933*jc*jc - jc*jc*jc/38710000)
	v := v0 + dpsi*cosd(eps)
	alpha := mod360(math.Atan2(sind(lamda)*cosd(eps)-math.Tan(beta*deg)*sind(eps), cosd(lamda)) * rad)
	delta := math.Asin(sind(beta)*cosd(eps)+cosd(beta)*sind(eps)*sind(lamda)) * rad

	// Equation of time.
	m := 280.4664567 + jme*(360007.6982779+jme*(0.03032028+jme*(1.0/49931+jme*(-1.0/15300+jme*(-1.0/2000000)))))
	eot := mod360(m-0.0057183-alpha+dpsi*cosd(eps)) * 4
	switch {
	case eot > 20:
		eot -= 1440
	case eot < -20:
		eot += 1440
	}

	// Topocentric position.
	H := mod360(v + lon - alpha)
	xi := 8.794 / (3600 * R)
	uu := math.Atan(0.99664719 * math.Tan(lat*deg))
	x := math.Cos(uu) + elev/6378140*cosd(lat)
	y := 0.99664719*math.Sin(uu) + elev/6378140*sind(lat)
	dalpha := math.Atan2(-x*sind(xi)*sind(H), cosd(delta)-x*sind(xi)*cosd(H)) * rad
	deltaP := math.Atan2((sind(delta)-y*sind(xi))*cosd(dalpha), cosd(delta)-x*sind(xi)*cosd(H)) * rad
	Hp := H - dalpha
	el0 := math.Asin(sind(lat)*sind(deltaP)+cosd(lat)*cosd(deltaP)*cosd(Hp)) * rad

	// Atmospheric refraction (zero when the sun is well below the horizon).
	var de float64
	if el0 >= -(0.26667 + atmosRefract) {
		de = (pressure / 1010) * (283 / (273 + temp)) * 1.02 / (60 * math.Tan((el0+10.3/(el0+5.11))*deg))
	}
	el := el0 + de

	gamma := mod360(math.Atan2(sind(Hp), cosd(Hp)*sind(lat)-math.Tan(deltaP*deg)*cosd(lat)) * rad)
	phi := mod360(gamma + 180)

	return SolarPosition{
		ZenithDeg:            90 - el0,
		ApparentZenithDeg:    90 - el,
		ElevationDeg:         el0,
		ApparentElevationDeg: el,
		AzimuthDeg:           phi,
		EquationOfTimeMin:    eot,
		EarthSunDistanceAU:   R,
	}
}
