// Package pvmodel computes where the sun is and how much power a PV plant
// should make: solar position, clear-sky irradiance, plane-of-array
// irradiance, cell temperature, DC power and inverter AC output. It is the
// single implementation shared by the inverter simulator (ingest/sim) and by
// anomaly detection (expected versus measured energy), and it imports nothing
// of ours.
//
// # Model chain
//
// Plant.Model runs, for one instant t and Conditions (clear-sky index, air
// temperature, wind):
//
//  1. Solar position: the NREL Solar Position Algorithm (SPA; Reda & Andreas
//     2004, corrigendum 2007), implemented step by step as pvlib's spa.py, with
//     its periodic-term tables generated from pvlib (spa_tables.go). ΔT = 67 s
//     unless Observer.DeltaTSec says otherwise (pvlib's default); DeltaT gives
//     the Espenak–Meeus polynomial. Refraction uses the site's standard
//     pressure (AltitudeToPressure) and 12 °C, as pvlib's Location does.
//  2. Extraterrestrial irradiance: Spencer (1971), solar constant 1366.1 W/m².
//  3. Air mass: Kasten & Young (1989) on the apparent zenith; NaN below the
//     horizon.
//  4. Clear-sky GHI: Haurwitz (1945), GHI = 1098 · cos z · exp(−0.059 / cos z)
//     on the apparent zenith for z < 90°, else 0; multiplied by the clear-sky
//     index (1 = clear).
//  5. DNI/DHI: Erbs, Klein & Duffie (1982) diffuse fraction of the clearness
//     index, on the true zenith (pvlib irradiance.erbs).
//  6. Plane of array: angle of incidence for the module tilt and azimuth,
//     isotropic sky diffuse and ground reflection with albedo (pvlib
//     get_total_irradiance, model "isotropic").
//  7. Cell temperature: Faiman (2008), T = T_air + G_poa / (u0 + u1 · wind).
//  8. DC power: PVWatts v5, P_dc = kWp × 1000 × (G_poa / 1000) ×
//     (1 + γ · (T_cell − 25)), then × (1 − LossFraction).
//  9. AC power: the PVWatts inverter efficiency curve (η = η_nom at the DC
//     input P_dc0 = ACRatingW / η_nom), clipped at ACRatingW. When it clips,
//     the inverter draws only P_dc0 from the array (Output.DCW).
//
// ExpectedPower is the chain under clear sky at the plant's assumed air
// temperature and wind; ExpectedEnergy integrates it (trapezoid rule, Wh).
//
// # Units and conventions
//
// Angles are degrees. Latitude is north positive, longitude east positive.
// Azimuths (sun and surface) are measured clockwise from geographic north:
// N = 0, E = 90, S = 180, W = 270; a south-facing array has AzimuthDeg 180, a
// north-facing one in the southern hemisphere 0. Tilt is from horizontal.
// Zenith = 90° − elevation; "apparent" angles include atmospheric refraction.
// Times are instants (time.Time); the zone does not matter, day of year is
// taken in UTC. Irradiance is W/m², power W, energy Wh, temperature °C.
//
// # Invariants
//
//   - Every function is pure and safe for concurrent use; the model functions
//     do not allocate.
//   - GHI, DNI, DHI and POA are ≥ 0; GHI = DNI · cos z + DHI whenever DNI > 0.
//   - With the sun below the horizon (apparent zenith ≥ 90°) GHI, POA and
//     AC power are 0.
//   - 0 ≤ AC ≤ ACRatingW and 0 ≤ DCW ≤ DCAvailW.
//   - Plant.Model assumes a plant that passes Validate; ExpectedEnergy
//     checks it.
//
// # Golden tests against pvlib
//
// testdata/golden.json holds pvlib 0.16.1 results (pandas 3.1.1, numpy
// 2.4.6) for 7 sites (Hefei, Beijing, Kunming at 1892 m, Harbin, Sydney,
// Pontianak on the equator, Quito at 2850 m) × 6 dates (2024 equinoxes and
// solstices, 2019-02-14, 2031-08-10) × 24 hours: solar zenith, apparent
// zenith, azimuth (get_solarposition default method), air mass, Haurwitz
// GHI, Erbs DNI/DHI, isotropic POA, AOI, Faiman cell temperature, PVWatts DC
// and AC. The Go test (golden_test.go) needs no Python; it requires angles
// within ±0.05° (azimuth only where zenith > 0.5°), irradiance, air mass and
// power within 0.5 % where the value is above 20 W/m² (or 20 W) and within
// 0.1 absolute at or below it, and cell temperature within 0.01 °C. Measured
// agreement is at the rounding of the file (12 significant digits): about
// 1e-9° for angles and 1e-11 relative elsewhere. Regenerate, from the
// repository root:
//
//	python3 -m venv /tmp/pvlibvenv
//	/tmp/pvlibvenv/bin/pip install -r anomaly/pvmodel/testdata/requirements.txt
//	/tmp/pvlibvenv/bin/python anomaly/pvmodel/testdata/gen_golden.py
//
// The SPA tables come from the same environment:
//
//	/tmp/pvlibvenv/bin/python anomaly/pvmodel/testdata/gen_spa_tables.py && gofmt -w anomaly/pvmodel/spa_tables.go
//
// # Limits
//
// Haurwitz needs only the sun's position and ignores altitude, turbidity and
// water vapour: it is a generous clear sky (about 6 kWh/kWp on a clear June
// day at 32° N) and the reference here, not a forecast. The isotropic sky
// underestimates circumsolar light on tilted planes by a few percent. No
// incidence-angle, spectral or shading losses are modelled beyond
// LossFraction.
//
// # References
//
//   - I. Reda, A. Andreas, "Solar position algorithm for solar radiation
//     applications", Solar Energy 76(5), 577–589, 2004; NREL/TP-560-34302.
//   - F. Kasten, A. T. Young, "Revised optical air mass tables and
//     approximation formula", Applied Optics 28(22), 4735–4738, 1989.
//   - B. Haurwitz, "Insolation in relation to cloudiness and cloud density",
//     Journal of Meteorology 2, 154–166, 1945.
//   - D. G. Erbs, S. A. Klein, J. A. Duffie, "Estimation of the diffuse
//     radiation fraction for hourly, daily and monthly-average global
//     radiation", Solar Energy 28(4), 293–302, 1982.
//   - D. Faiman, "Assessing the outdoor operating temperature of photovoltaic
//     modules", Progress in Photovoltaics 16(4), 307–315, 2008.
//   - A. P. Dobos, "PVWatts Version 5 Manual", NREL/TP-6A20-62641, 2014.
//   - pvlib python (BSD-3-Clause), https://pvlib-python.readthedocs.io.
package pvmodel
