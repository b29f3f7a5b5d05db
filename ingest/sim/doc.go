// Package sim is a deterministic, realistic PV inverter simulator: a source
// of reading.Measurement values for demos, tests and load generation when no
// real inverter is at hand.
//
//	s, err := sim.New(sim.DefaultConfig()) // 5 kWp in Hefei, seed 1
//	m := s.Read(time.Now())
//
// # Models
//
// Production uses anomaly/pvmodel (the same model chain anomaly detection
// uses for expected power): NREL SPA sun position, Haurwitz clear-sky GHI
// scaled by a stochastic clear-sky index, Erbs DNI/DHI split, isotropic
// plane-of-array irradiance, Faiman cell temperature, PVWatts DC with the
// temperature coefficient γ, and the PVWatts inverter efficiency curve with
// clipping at the AC rating. On top of it the simulator adds:
//
//   - Weather. A latent regime variable (value noise with knots every 36 h,
//     9 h and 70 min) sets the cloud cover around Config.Cloudiness; a fast
//     cloud field (knots every 4 min and 40 s) puts the sun behind a cloud
//     for the cover's share of the time, in passages of a few minutes, with
//     ramps at cloud edges. Behind a cloud the clear-sky index is 0.1–0.55
//     (thicker under a full overcast); in the clear it is 0.925–0.985
//     (day-to-day haze: Haurwitz is generous), up to 0.08 more next to a cloud
//     edge (cloud enhancement). Cloudiness 0 is always clear, 1 always
//     overcast. Air temperature follows annual and daily cycles (the daily one
//     damped by cloud) plus a weather anomaly; wind varies over hours.
//   - Inverter. Below a wake-up DC power (WakeFraction × kWp) it is SLEEPING
//     at night or STANDBY by day (array at open-circuit voltage), drawing
//     StandbyDrawW (AC power −StandbyDrawW, ≥ −5 W). Otherwise it is MPPT, or
//     THROTTLED when it clips at its AC rating or derates in air hotter than
//     DerateAmbientC (2.5 %/°C, at most 50 %); while limited it moves off the
//     maximum power point towards open circuit and draws only the DC power it
//     needs. The DC voltage is the array's MPP voltage (VmpSTCV, −0.35 %/°C,
//     logarithmic in irradiance); DCA = DCW / DCV. AC voltage is nominal ±3 V
//     drift, +2 V at full export, ±0.3 V noise; frequency nominal ±0.03 Hz;
//     PF 0.99–1 while producing (0 asleep); cabinet temperature is air
//     temperature + 1.5 °C + 18 °C × load.
//   - Energy counter. EnergyWh (uint64 Wh, starting at StartEnergyWh)
//     integrates the exported AC power (negative standby power is not
//     subtracted) between consecutive Reads by the trapezoid rule on steps of
//     at most one minute; gaps are filled by evaluating the model at the
//     intermediate instants (at most 10,080 steps per Read), so the day's
//     energy hardly depends on the polling interval.
//
// # Determinism
//
// All randomness is a hash (SplitMix64) of (Seed, stream, time bucket), never
// a sequential generator: every value except EnergyWh is a pure function of
// (Config, t), whatever times were read before or how often Read is called.
// EnergyWh is a pure function of Config and the sequence of Read times. Two
// Inverters with equal Config (and fresh stateful faults) read at the same
// times return identical measurements.
//
// # Faults
//
// Config.Faults hooks failures in (see Fault): Trip (grid disconnect, FAULT
// state), StringLoss (lost parallel strings, optionally the blown-fuse event),
// Soiling (a linear loss ramp until a cleaning) and StuckMeter (a frozen
// report; the true counter goes on and jumps when it thaws). Physical faults
// act on what the plant produces and so on the energy counter; ArrayDerater
// faults act on the DC side before the inverter, so clipping can hide them; a
// Reporter fault changes only what is reported. Later faults (comm outage,
// counter reset, inflated readings, clock drift) implement the same
// interfaces.
//
// # Invariants
//
//   - The lifetime counter never decreases; a Read at or before the previous
//     one adds nothing.
//   - −5 W ≤ ACPowerW ≤ Plant.ACRatingW; DCW, DCA, DCV ≥ 0; while producing,
//     |DCV × DCA − DCW| < 0.3 % of DCW.
//   - Without faults, every measurement passes reading.Check with
//     reading.DefaultLimits() and RatedW = kWp × 1000.
//   - Times are valid from 1678 to 2262 (time.Time.UnixNano); the zone of t
//     does not matter.
//
// # Concurrency
//
// An Inverter is not safe for concurrent use: Read updates the counter.
// Stateful faults (StuckMeter) belong to one Inverter; pass them by pointer
// and do not share them.
//
// # References
//
// Models and their sources are listed in anomaly/pvmodel's package
// documentation; SunSpec states and event bits are those of package
// ingest/reading (SunSpec models 101/103 St and Evt1). The cloud process follows the common two-state (clear/cloudy)
// view of the clear-sky index, whose distribution is bimodal in broken skies.
package sim
