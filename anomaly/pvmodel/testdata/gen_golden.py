#!/usr/bin/env python3
"""Write golden.json: reference values from pvlib for the Go package pvmodel.

For each site x date x hour it records pvlib's
  * solar position (Location.get_solarposition, default method "nrel_numpy",
    i.e. NREL SPA, pressure from the site altitude, 12 degC),
  * relative air mass (Location.get_airmass, Kasten-Young 1989, apparent zenith),
  * extraterrestrial irradiance (irradiance.get_extra_radiation, Spencer),
  * Haurwitz clear-sky GHI (Location.get_clearsky(model="haurwitz")),
  * the Erbs split of that GHI (irradiance.erbs, true zenith),
  * isotropic plane-of-array irradiance with ground albedo
    (irradiance.get_total_irradiance(model="isotropic")),
  * Faiman cell temperature (temperature.faiman), PVWatts DC
    (pvsystem.pvwatts_dc, times 1 - losses) and PVWatts inverter AC with
    clipping (inverter.pvwatts, pdc0 = ac_rating / eta_nom).

Regenerate (from the repository root):
    python3 -m venv /tmp/pvlibvenv
    /tmp/pvlibvenv/bin/pip install -r anomaly/pvmodel/testdata/requirements.txt
    /tmp/pvlibvenv/bin/python anomaly/pvmodel/testdata/gen_golden.py
"""
import json
import os
import sys

import numpy as np
import pandas as pd
import pvlib
from pvlib import inverter, irradiance, pvsystem, temperature
from pvlib.location import Location

PVLIB_VERSION = "0.16.1"

AIR_C = 25.0
WIND_MS = 1.0

# name, lat, lon, altitude m, tilt, surface azimuth (clockwise from north),
# kWp, AC rating W, gamma 1/degC, albedo, DC loss fraction, eta_nom
SITES = [
    ("Hefei", 31.82, 117.23, 30, 25, 180, 5.0, 4600, -0.004, 0.25, 0.14, 0.96),
    ("Beijing", 39.90, 116.40, 44, 35, 180, 10.0, 7000, -0.0037, 0.20, 0.0, 0.96),
    ("Kunming", 25.04, 102.71, 1892, 20, 160, 6.0, 5000, -0.0045, 0.20, 0.10, 0.97),
    ("Harbin", 45.75, 126.65, 150, 45, 200, 8.0, 8000, -0.0035, 0.60, 0.0, 0.96),
    ("Sydney", -33.87, 151.21, 40, 30, 0, 5.0, 4000, -0.004, 0.25, 0.0, 0.965),
    ("Pontianak", -0.03, 109.33, 5, 10, 180, 4.0, 3600, -0.004, 0.25, 0.0, 0.96),
    ("Quito", -0.18, -78.47, 2850, 5, 90, 3.0, 3000, -0.003, 0.15, 0.05, 0.96),
]

# Equinoxes and solstices of 2024, plus two other years to exercise Delta T.
DATES = ["2024-03-20", "2024-06-21", "2024-09-22", "2024-12-21",
         "2019-02-14", "2031-08-10"]


def sig(x, n=12):
    """A float rounded to n significant digits, or None for NaN."""
    x = float(x)
    if np.isnan(x):
        return None
    return float(f"{x:.{n}g}")


def main():
    if pvlib.__version__ != PVLIB_VERSION:
        sys.exit(f"need pvlib {PVLIB_VERSION}, have {pvlib.__version__}")
    sites, rows = [], []
    for (name, lat, lon, alt, tilt, saz, kwp, acw, gamma, albedo,
         losses, eta_nom) in SITES:
        sites.append(dict(name=name, lat=lat, lon=lon, elevation_m=alt,
                          tilt=tilt, azimuth=saz, kwp=kwp, ac_rating_w=acw,
                          gamma=gamma, albedo=albedo, loss_fraction=losses,
                          inverter_eff_nominal=eta_nom, air_c=AIR_C,
                          wind_ms=WIND_MS))
        loc = Location(lat, lon, tz="UTC", altitude=alt, name=name)
        stamps = []
        for d in DATES:
            day = pd.Timestamp(d, tz="UTC")
            # hourly, with the minute varying so that not every row is on
            # the hour
            stamps += [day + pd.Timedelta(hours=h, minutes=(7 * h) % 60)
                       for h in range(24)]
        times = pd.DatetimeIndex(stamps)
        sp = loc.get_solarposition(times)
        am = loc.get_airmass(solar_position=sp)["airmass_relative"]
        extra = irradiance.get_extra_radiation(times)
        cs = loc.get_clearsky(times, model="haurwitz", solar_position=sp)
        ghi = cs["ghi"]
        split = irradiance.erbs(ghi, sp["zenith"], times)
        poa = irradiance.get_total_irradiance(
            tilt, saz, sp["zenith"], sp["azimuth"], split["dni"], ghi,
            split["dhi"], albedo=albedo, model="isotropic")
        aoi = irradiance.aoi(tilt, saz, sp["zenith"], sp["azimuth"])
        tcell = temperature.faiman(poa["poa_global"], AIR_C, WIND_MS)
        pdc = pvsystem.pvwatts_dc(poa["poa_global"], tcell, kwp * 1000,
                                  gamma) * (1 - losses)
        pac = inverter.pvwatts(pdc, acw / eta_nom, eta_inv_nom=eta_nom)
        for i, t in enumerate(times):
            rows.append(dict(
                site=name,
                time=t.strftime("%Y-%m-%dT%H:%M:%SZ"),
                zenith=sig(sp["zenith"].iloc[i]),
                apparent_zenith=sig(sp["apparent_zenith"].iloc[i]),
                elevation=sig(sp["elevation"].iloc[i]),
                azimuth=sig(sp["azimuth"].iloc[i]),
                airmass=sig(am.iloc[i]),
                dni_extra=sig(extra.iloc[i]),
                ghi=sig(ghi.iloc[i]),
                dni=sig(split["dni"].iloc[i]),
                dhi=sig(split["dhi"].iloc[i]),
                poa_global=sig(poa["poa_global"].iloc[i]),
                aoi=sig(aoi.iloc[i]),
                temp_cell=sig(tcell.iloc[i]),
                pdc=sig(pdc.iloc[i]),
                pac=sig(pac.iloc[i]),
            ))
    out = dict(
        generator="anomaly/pvmodel/testdata/gen_golden.py",
        pvlib=pvlib.__version__, pandas=pd.__version__, numpy=np.__version__,
        solar_position_method="nrel_numpy (get_solarposition default)",
        sites=sites, rows=rows)
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "golden.json"), "w") as f:
        json.dump(out, f, indent=None, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {len(rows)} rows for {len(sites)} sites")


if __name__ == "__main__":
    main()
