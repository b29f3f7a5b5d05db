package pvmodel

import "math"

// CellTempFaiman returns the module temperature in °C with Faiman's (2008)
// model, as pvlib.temperature.faiman:
//
//	T = T_air + G_poa / (u0 + u1 · wind)
//
// poa in W/m², wind in m/s; pvlib's defaults are u0 = 25, u1 = 6.84.
func CellTempFaiman(poa, airC, windMS, u0, u1 float64) float64 {
	return airC + poa/(u0+u1*windMS)
}

// DCPower is the PVWatts (v5) DC model, pvlib.pvsystem.pvwatts_dc without the
// low-light correction:
//
//	P_dc = P_dc0 · (G_poa / 1000) · (1 + γ · (T_cell − 25))
//
// with P_dc0 = kWp × 1000 W. It never returns a negative power.
func DCPower(poa, cellC, pdc0W, gammaPerC float64) float64 {
	return math.Max(pdc0W*poa/1000*(1+gammaPerC*(cellC-25)), 0)
}

// PVWatts inverter reference efficiency (pvlib.inverter.pvwatts eta_inv_ref).
const inverterEffRef = 0.9637

// InverterEfficiency is the PVWatts inverter efficiency curve at a DC input
// of pdcW for an inverter whose DC input at its AC rating is pdc0W:
//
//	ζ = P_dc / P_dc0
//	η = η_nom / η_ref · (−0.0162 ζ − 0.0059 / ζ + 0.9858), η_ref = 0.9637
//
// η = η_nom at ζ = 1, ≈ 0.95·η_nom/η_ref at 10 % load and falls steeply
// below 1 %; it is 0 for P_dc = 0.
func InverterEfficiency(pdcW, pdc0W, effNominal float64) float64 {
	if pdcW <= 0 {
		return 0
	}
	z := pdcW / pdc0W
	return effNominal / inverterEffRef * (-0.0162*z - 0.0059/z + 0.9858)
}

// InverterAC returns the AC output of a PVWatts inverter (pvlib
// inverter.pvwatts) and whether it was clipped at its rating
// P_ac0 = η_nom · P_dc0. The output is in [0, P_ac0].
func InverterAC(pdcW, pdc0W, effNominal float64) (acW float64, clipped bool) {
	pac0 := effNominal * pdc0W
	ac := InverterEfficiency(pdcW, pdc0W, effNominal) * pdcW
	if ac > pac0 {
		return pac0, true
	}
	return math.Max(ac, 0), false
}
