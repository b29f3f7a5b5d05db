package pvmodel

import (
	"errors"
	"math"
	"testing"
	"time"
)

// The worked example of Reda & Andreas (2004), Table A5.1: an independent
// check of the SPA, not derived from pvlib.
func TestSunPositionSPAPaperExample(t *testing.T) {
	tm := time.Date(2003, 10, 17, 12, 30, 30, 0, time.FixedZone("MST", -7*3600))
	obs := Observer{LatDeg: 39.742476, LonDeg: -105.1786, ElevationM: 1830.14, PressurePa: 82000, TempC: 11, DeltaTSec: 67}
	got := SunPositionAt(tm, obs)
	// The paper's "topocentric zenith angle" includes refraction.
	if want := 50.11162; math.Abs(got.ApparentZenithDeg-want) > 1e-5 {
		t.Errorf("apparent zenith got %.6f, want %.5f", got.ApparentZenithDeg, want)
	}
	if want := 194.34024; math.Abs(got.AzimuthDeg-want) > 1e-5 {
		t.Errorf("azimuth got %.6f, want %.5f", got.AzimuthDeg, want)
	}
	if want := 0.9965422974; math.Abs(got.EarthSunDistanceAU-want) > 1e-9 {
		t.Errorf("R got %.10f, want %.10f", got.EarthSunDistanceAU, want)
	}
	if got.ZenithDeg-got.ApparentZenithDeg <= 0 {
		t.Errorf("refraction should raise the sun: zenith %g, apparent %g", got.ZenithDeg, got.ApparentZenithDeg)
	}
}

func TestSunPositionConventions(t *testing.T) {
	hefei := DefaultPlant()
	tests := []struct {
		desc    string
		t       time.Time
		lat     float64
		lon     float64
		azMin   float64
		azMax   float64
		up      bool
		zenBand [2]float64
	}{
		// Solar noon in Hefei is about 04:13 UTC: sun due south.
		{"hefei noon june", time.Date(2024, 6, 21, 4, 13, 0, 0, time.UTC), hefei.LatDeg, hefei.LonDeg, 170, 190, true, [2]float64{8, 9}},
		{"hefei morning june", time.Date(2024, 6, 21, 0, 0, 0, 0, time.UTC), hefei.LatDeg, hefei.LonDeg, 60, 100, true, [2]float64{50, 80}},
		{"hefei afternoon june", time.Date(2024, 6, 21, 8, 0, 0, 0, time.UTC), hefei.LatDeg, hefei.LonDeg, 260, 300, true, [2]float64{30, 70}},
		{"hefei midnight", time.Date(2024, 6, 21, 16, 13, 0, 0, time.UTC), hefei.LatDeg, hefei.LonDeg, 0, 360, false, [2]float64{90, 180}},
		// Sydney noon (about 01:55 UTC): sun due north, azimuth near 0/360.
		{"sydney noon december", time.Date(2024, 12, 21, 1, 50, 0, 0, time.UTC), -33.87, 151.21, 0, 360, true, [2]float64{10, 11}},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			p := SunPosition(tc.t, tc.lat, tc.lon)
			if got, want := p.Up(), tc.up; got != want {
				t.Errorf("Up() got %v, want %v (apparent zenith %g)", got, want, p.ApparentZenithDeg)
			}
			if p.AzimuthDeg < tc.azMin || p.AzimuthDeg > tc.azMax {
				t.Errorf("azimuth got %g, want %g..%g", p.AzimuthDeg, tc.azMin, tc.azMax)
			}
			if p.ZenithDeg < tc.zenBand[0] || p.ZenithDeg > tc.zenBand[1] {
				t.Errorf("zenith got %g, want %g..%g", p.ZenithDeg, tc.zenBand[0], tc.zenBand[1])
			}
			if math.Abs(p.ZenithDeg+p.ElevationDeg-90) > 1e-9 {
				t.Errorf("zenith %g + elevation %g != 90", p.ZenithDeg, p.ElevationDeg)
			}
		})
	}
	// Sydney at noon: azimuth within 5° of north.
	p := SunPosition(time.Date(2024, 12, 21, 1, 55, 0, 0, time.UTC), -33.87, 151.21)
	if d := angleDiff(p.AzimuthDeg, 0); d > 5 {
		t.Errorf("sydney noon azimuth got %g, want within 5° of north", p.AzimuthDeg)
	}
}

func TestDeltaT(t *testing.T) {
	tests := []struct {
		year, month int
		want, tol   float64
	}{
		{2000, 1, 63.8, 0.2},
		{2024, 6, 74.2, 0.2}, // polynomial value (measured: 69.2 s)
		{1950, 6, 29.1, 0.2},
		{2100, 1, 202.7, 1},
	}
	for _, tc := range tests {
		if got := deltaT(tc.year, tc.month); math.Abs(got-tc.want) > tc.tol {
			t.Errorf("deltaT(%d, %d) got %.2f, want %.1f±%g", tc.year, tc.month, got, tc.want, tc.tol)
		}
	}
}

func TestClearSkyGHIAndAirMass(t *testing.T) {
	tests := []struct {
		zenith  float64
		wantGHI float64
		wantAM  float64 // NaN: undefined
	}{
		{0, 1098 * math.Exp(-0.059), 0.99971},
		{30, 1098 * math.Cos(30*deg) * math.Exp(-0.059/math.Cos(30*deg)), 1.15411},
		{60, 1098 * 0.5 * math.Exp(-0.118), 1.99427},
		{89.9, 1098 * math.Cos(89.9*deg) * math.Exp(-0.059/math.Cos(89.9*deg)), 36.47},
		{90, 0, 37.92},
		{95, 0, math.NaN()},
		{180, 0, math.NaN()},
	}
	for _, tc := range tests {
		if got := ClearSkyGHI(tc.zenith); math.Abs(got-tc.wantGHI) > 1e-9 {
			t.Errorf("ClearSkyGHI(%g) got %g, want %g", tc.zenith, got, tc.wantGHI)
		}
		got := AirMass(tc.zenith)
		switch {
		case math.IsNaN(tc.wantAM):
			if !math.IsNaN(got) {
				t.Errorf("AirMass(%g) got %g, want NaN", tc.zenith, got)
			}
		case math.Abs(got-tc.wantAM) > 0.01*tc.wantAM:
			t.Errorf("AirMass(%g) got %g, want %g", tc.zenith, got, tc.wantAM)
		}
	}
}

func TestExtraterrestrial(t *testing.T) {
	// Perihelion (early January) is brighter than aphelion (early July).
	jan, jul := ExtraterrestrialIrradianceDOY(3), ExtraterrestrialIrradianceDOY(185)
	if jan < 1405 || jan > 1420 || jul < 1315 || jul > 1325 {
		t.Errorf("E0 January got %.1f, July %.1f; want about 1412 and 1321", jan, jul)
	}
}

func TestErbs(t *testing.T) {
	const e0 = 1366.1
	tests := []struct {
		desc       string
		ghi, zen   float64
		wantDHIMin float64 // as a fraction of GHI
		wantDHIMax float64
		wantDNI0   bool
	}{
		{"overcast kt<0.22", 100, 30, 0.98, 1, false},
		{"broken clouds", 700, 30, 0.3, 0.7, false},
		{"clear kt>0.8", 1200, 20, 0.165, 0.165, false},
		{"sun too low", 10, 88, 1, 1, true},
		{"night", 0, 120, 0, 1, true},
		{"negative ghi", -5, 30, 1, 1, true},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			c := Erbs(tc.ghi, tc.zen, e0)
			if tc.wantDNI0 && c.DNI != 0 {
				t.Errorf("DNI got %g, want 0", c.DNI)
			}
			if c.DNI < 0 {
				t.Errorf("DNI got %g, negative", c.DNI)
			}
			if tc.ghi > 0 {
				f := c.DHI / tc.ghi
				if f < tc.wantDHIMin-1e-9 || f > tc.wantDHIMax+1e-9 {
					t.Errorf("diffuse fraction got %g, want %g..%g", f, tc.wantDHIMin, tc.wantDHIMax)
				}
			}
			// Closure: GHI = DNI cos z + DHI whenever DNI is used.
			if c.DNI > 0 {
				if got := c.DNI*math.Cos(tc.zen*deg) + c.DHI; math.Abs(got-tc.ghi) > 1e-9 {
					t.Errorf("closure got %g, want %g", got, tc.ghi)
				}
			}
		})
	}
}

func TestPOAIsotropic(t *testing.T) {
	c := Components{GHI: 800, DNI: 700, DHI: 150}
	tests := []struct {
		desc                  string
		tilt, saz, zen, sunAz float64
		want                  float64
	}{
		{"horizontal equals GHI-like sum", 0, 180, 30, 180, 700*math.Cos(30*deg) + 150},
		{"normal to the sun", 30, 180, 30, 180, 700 + 150*(1+math.Cos(30*deg))/2 + 800*0.25*(1-math.Cos(30*deg))/2},
		{"sun behind the panel", 90, 0, 30, 180, 150*0.5 + 800*0.25*0.5},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			got := POAIsotropic(tc.tilt, tc.saz, tc.zen, tc.sunAz, c, 0.25)
			if math.Abs(got.Global-tc.want) > 1e-9 {
				t.Errorf("POA global got %g, want %g", got.Global, tc.want)
			}
			if s := got.Direct + got.SkyDiffuse + got.GroundDiffuse; math.Abs(s-got.Global) > 1e-9 {
				t.Errorf("components sum %g != global %g", s, got.Global)
			}
		})
	}
}

func TestInverter(t *testing.T) {
	const pdc0, eta = 5000.0, 0.96
	tests := []struct {
		desc        string
		pdc         float64
		wantAC      float64
		wantClipped bool
		tol         float64
	}{
		{"no input", 0, 0, false, 0},
		{"negative input", -10, 0, false, 0},
		{"tiny input gives no output", 10, 0, false, 0},
		{"nominal", pdc0, eta * pdc0, false, 1e-9},
		{"half load", pdc0 / 2, eta / inverterEffRef * (-0.0162*0.5 - 0.0059/0.5 + 0.9858) * pdc0 / 2, false, 1e-9},
		{"overload clips", 1.3 * pdc0, eta * pdc0, true, 1e-9},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			ac, clipped := InverterAC(tc.pdc, pdc0, eta)
			if math.Abs(ac-tc.wantAC) > tc.tol || clipped != tc.wantClipped {
				t.Errorf("InverterAC(%g) got (%g, %v), want (%g, %v)", tc.pdc, ac, clipped, tc.wantAC, tc.wantClipped)
			}
		})
	}
}

func TestPlantValidate(t *testing.T) {
	mod := func(f func(*Plant)) Plant { p := DefaultPlant(); f(&p); return p }
	tests := []struct {
		desc    string
		p       Plant
		wantErr bool
	}{
		{"default", DefaultPlant(), false},
		{"southern north-facing", mod(func(p *Plant) { p.LatDeg, p.AzimuthDeg = -33.9, 0 }), false},
		{"zero value", Plant{}, true},
		{"lat out of range", mod(func(p *Plant) { p.LatDeg = 91 }), true},
		{"lon NaN", mod(func(p *Plant) { p.LonDeg = math.NaN() }), true},
		{"tilt negative", mod(func(p *Plant) { p.TiltDeg = -1 }), true},
		{"azimuth 360", mod(func(p *Plant) { p.AzimuthDeg = 360 }), true},
		{"no kwp", mod(func(p *Plant) { p.KWp = 0 }), true},
		{"no ac rating", mod(func(p *Plant) { p.ACRatingW = 0 }), true},
		{"positive gamma", mod(func(p *Plant) { p.GammaPerC = 0.004 }), true},
		{"albedo > 1", mod(func(p *Plant) { p.Albedo = 1.5 }), true},
		{"losses 100%", mod(func(p *Plant) { p.LossFraction = 1 }), true},
		{"efficiency 0", mod(func(p *Plant) { p.InverterEffNominal = 0 }), true},
		{"u0 zero", mod(func(p *Plant) { p.FaimanU0 = 0 }), true},
		{"wind negative", mod(func(p *Plant) { p.WindMS = -1 }), true},
		{"inf ambient", mod(func(p *Plant) { p.AmbientC = math.Inf(1) }), true},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			err := tc.p.Validate()
			if got := err != nil; got != tc.wantErr {
				t.Fatalf("Validate() got %v, want error %v", err, tc.wantErr)
			}
			if err != nil && !errors.Is(err, ErrInvalidPlant) {
				t.Errorf("error %v does not wrap ErrInvalidPlant", err)
			}
		})
	}
}

func TestExpectedPowerNightAndClipping(t *testing.T) {
	p := DefaultPlant()
	// 00:00 local (UTC+8) in Hefei.
	if got := p.ExpectedPower(time.Date(2024, 6, 21, 16, 0, 0, 0, time.UTC)); got != 0 {
		t.Errorf("midnight power got %g, want 0", got)
	}
	noon := time.Date(2024, 6, 21, 4, 13, 0, 0, time.UTC)
	if got := p.ExpectedPower(noon); got < 3000 || got > p.ACRatingW {
		t.Errorf("noon power got %g, want 3000..%g", got, p.ACRatingW)
	}
	small := p
	small.ACRatingW = 2500
	o := small.Model(noon, small.ClearSky())
	if !o.Clipped || o.ACW != small.ACRatingW {
		t.Errorf("2.5 kW inverter at noon got AC %g clipped %v, want %g clipped", o.ACW, o.Clipped, small.ACRatingW)
	}
	if o.DCW >= o.DCAvailW || math.Abs(o.DCW-small.InverterDCLimitW()) > 1e-9 {
		t.Errorf("clipped DC got %g (available %g), want %g", o.DCW, o.DCAvailW, small.InverterDCLimitW())
	}
	// Hotter cells make less power.
	hot := p.Model(noon, Conditions{ClearSkyIndex: 1, AmbientC: 40, WindMS: 1})
	cool := p.Model(noon, Conditions{ClearSkyIndex: 1, AmbientC: 5, WindMS: 1})
	if hot.DCAvailW >= cool.DCAvailW {
		t.Errorf("DC at 40 °C (%g) should be below DC at 5 °C (%g)", hot.DCAvailW, cool.DCAvailW)
	}
	// Clouds make less power and more diffuse light.
	cloudy := p.Model(noon, Conditions{ClearSkyIndex: 0.3, AmbientC: 25, WindMS: 1})
	if cloudy.ACW >= 0.5*p.ExpectedPower(noon) || cloudy.Horizontal.DHI/cloudy.Horizontal.GHI < 0.7 {
		t.Errorf("cloudy noon AC %g, diffuse fraction %g", cloudy.ACW, cloudy.Horizontal.DHI/cloudy.Horizontal.GHI)
	}
}

func TestExpectedEnergy(t *testing.T) {
	p := DefaultPlant()
	day := time.Date(2024, 6, 20, 16, 0, 0, 0, time.UTC) // 2024-06-21 00:00 CST
	next := day.Add(24 * time.Hour)
	wh, err := ExpectedEnergy(p, day, next, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// Haurwitz is a generous clear sky: a 5 kWp plant with 14 % losses
	// makes roughly 5.5–6.5 kWh/kWp on a clear June day in Hefei.
	if wh < 25000 || wh > 33000 {
		t.Errorf("clear June day in Hefei: got %.0f Wh, want 25000..33000", wh)
	}
	coarse, err := ExpectedEnergy(p, day, next, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(coarse-wh) > 0.005*wh {
		t.Errorf("10-minute grid got %.1f Wh, 1-minute %.1f Wh: want within 0.5 %%", coarse, wh)
	}
	// Additivity over a split that is not on the grid.
	mid := day.Add(7*time.Hour + 17*time.Minute + 30*time.Second)
	a, _ := ExpectedEnergy(p, day, mid, time.Minute)
	b, _ := ExpectedEnergy(p, mid, next, time.Minute)
	if math.Abs(a+b-wh) > 0.001*wh {
		t.Errorf("split got %.1f + %.1f = %.1f Wh, whole %.1f Wh", a, b, a+b, wh)
	}
	// December is lower than June in Hefei.
	dec := time.Date(2024, 12, 20, 16, 0, 0, 0, time.UTC)
	whDec, _ := ExpectedEnergy(p, dec, dec.Add(24*time.Hour), 5*time.Minute)
	if whDec >= wh || whDec < 10000 {
		t.Errorf("December got %.0f Wh, June %.0f Wh", whDec, wh)
	}

	errTests := []struct {
		desc     string
		p        Plant
		from, to time.Time
		step     time.Duration
		want     float64
		wantErr  bool
	}{
		{"empty interval", p, day, day, time.Minute, 0, false},
		{"night only", p, day, day.Add(3 * time.Hour), time.Minute, 0, false},
		{"zero step", p, day, next, 0, 0, true},
		{"backwards", p, next, day, time.Minute, 0, true},
		{"invalid plant", Plant{}, day, next, time.Minute, 0, true},
		{"too many steps", p, day, day.Add(1000 * time.Hour), time.Microsecond, 0, true},
	}
	for _, tc := range errTests {
		t.Run(tc.desc, func(t *testing.T) {
			got, err := ExpectedEnergy(tc.p, tc.from, tc.to, tc.step)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("got (%g, %v), want (%g, error %v)", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func FuzzModel(f *testing.F) {
	f.Add(int64(1718942400), 31.82, 117.23, 25.0, 180.0, 1.0, 25.0)
	f.Add(int64(0), -89.9, -179.9, 90.0, 0.0, 1.2, -40.0)
	f.Add(int64(4102444800), 0.0, 0.0, 0.0, 359.9, 0.0, 50.0)
	f.Fuzz(func(t *testing.T, unix int64, lat, lon, tilt, az, kc, air float64) {
		p := DefaultPlant()
		p.LatDeg, p.LonDeg, p.TiltDeg, p.AzimuthDeg = lat, lon, tilt, az
		if p.Validate() != nil || unix < -1e10 || unix > 1e11 || !(kc >= 0 && kc <= 1.5) || !(air >= -50 && air <= 55) {
			t.Skip()
		}
		o := p.Model(time.Unix(unix, 0), Conditions{ClearSkyIndex: kc, AmbientC: air, WindMS: 1})
		s := o.Sun
		for _, v := range []float64{s.ZenithDeg, s.ApparentZenithDeg, s.AzimuthDeg, o.POA.Global, o.DCW, o.ACW, o.CellTempC} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("non-finite output %+v", o)
			}
		}
		if s.ZenithDeg < 0 || s.ZenithDeg > 180 || s.AzimuthDeg < 0 || s.AzimuthDeg >= 360 {
			t.Fatalf("angles out of range: %+v", s)
		}
		if o.Horizontal.GHI < 0 || o.Horizontal.DNI < 0 || o.Horizontal.DHI < 0 || o.POA.Global < 0 {
			t.Fatalf("negative irradiance: %+v %+v", o.Horizontal, o.POA)
		}
		if o.ACW < 0 || o.ACW > p.ACRatingW || o.DCW < 0 || o.DCW > o.DCAvailW+1e-9 {
			t.Fatalf("power out of range: DC %g (avail %g) AC %g", o.DCW, o.DCAvailW, o.ACW)
		}
		if !s.Up() && o.ACW != 0 {
			t.Fatalf("AC %g with the sun down", o.ACW)
		}
	})
}

// Run: go test -run '^$' -bench . -benchmem -count 6 ./anomaly/pvmodel/ | benchstat -
func BenchmarkSolarPosition(b *testing.B) {
	obs := DefaultPlant().Observer()
	t0 := time.Date(2024, 6, 21, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	i := 0
	var sink float64
	for b.Loop() {
		sink += SunPositionAt(t0.Add(time.Duration(i)*time.Minute), obs).ZenithDeg
		i++
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "positions/s")
	_ = sink
}

func BenchmarkExpectedPower(b *testing.B) {
	p := DefaultPlant()
	t0 := time.Date(2024, 6, 21, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	i := 0
	var sink float64
	for b.Loop() {
		sink += p.ExpectedPower(t0.Add(time.Duration(i) * time.Minute))
		i++
	}
	// A day at one-minute resolution takes 1440 evaluations.
	b.ReportMetric(1440*b.Elapsed().Seconds()/float64(i)*1e3, "ms/day@1min")
	_ = sink
}

func BenchmarkExpectedEnergyDay(b *testing.B) {
	p := DefaultPlant()
	day := time.Date(2024, 6, 20, 16, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	var wh float64
	for b.Loop() {
		wh, _ = ExpectedEnergy(p, day, day.Add(24*time.Hour), 5*time.Minute)
	}
	b.ReportMetric(wh, "Wh/day")
}
