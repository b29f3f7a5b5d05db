// Package anomaly finds faults, integrity problems and data-quality issues
// in inverter readings, and keeps them as alerts.
//
//	src, _ := anomaly.NewSource(anomaly.DefaultInfluxConfig(), nil)
//	series, _, _ := src.Load(ctx, fleet.Devices(), from, to)   // one InfluxQL query
//	sc, _ := anomaly.NewScanner(anomaly.DefaultConfig())
//	res, _ := sc.Scan(ctx, series, from, to)                   // pure: no I/O
//	tr, _ := anomaly.NewTracker(anomaly.DefaultTrackerConfig(), open)
//	changed := tr.Apply(res, time.Now())                       // open → resolved
//	_ = store.Save(ctx, changed)                               // MemStore or InfluxStore
//
// Analyzer runs these steps on a schedule (hourly scans of the last 24 h by
// default) and hands changed alerts to Notifiers (Kafka, webhooks: wired by
// the caller).
//
// # The core
//
// Scanner.Scan is a pure function of its inputs: per device a Series of
// Samples (time, AC power, lifetime energy counter, SunSpec state, seq) and
// its devices.Device (location, orientation, kWp, AC rating). It needs no
// database and is what the tests and anomaly/eval drive. Samples are put in
// (Seq, T) order: seq is the device's own order, so a clock that jumps back
// shows as a timestamp regression instead of scrambling the series. The last
// sample before the scan start, when present, is context for the interval
// across it (Source loads one hour before), so consecutive scans miss
// nothing between them. Per-day metrics use 24-hour buckets from the scan
// start: start scans at the fleet's local midnight.
//
// # Expected power
//
// The expectation is pvmodel's clear-sky model chain (NREL SPA sun
// position, Haurwitz GHI, Erbs split, isotropic plane of array, Faiman cell
// temperature, PVWatts DC and inverter with clipping) for the device's
// plant, PlantFor: the registry's location, tilt, azimuth, kWp and AC rating
// with Config.Plant's model parameters. Config.Plant.LossFraction (0.14,
// the PVWatts default) is the performance-ratio assumption: with the
// temperature and inverter models it makes the clear-sky PR ≈ 0.8. The SPA is
// evaluated once per 15 minutes for the Earth's centre and rotated to each
// device (expect.go); the result matches pvmodel.Plant.ExpectedPower to
// 0.05 % of the rating and the sun's position to 0.0025° (parallax), checked
// by TestExpectedMatchesPVModel. It costs ~0.4 µs per sample instead of
// ~5–12 µs.
//
// "The model says the plant should produce" means the clear-sky expectation
// is at least DaylightFraction (20 %) of the AC rating. Clouds make real
// output lower than clear sky, never much higher: every comparison with the
// model below is either one-sided upwards, restricted to the sunniest
// moments of a day, or referenced to peers who saw the same sky.
//
// # Peers
//
// A device's peers are the devices within Peers.RadiusKm (30 km), nearest
// first, at most MaxPeers (24); peer tests need MinPeers (5) valid peers.
// Robust statistics use gonum/stat's empirical quantile (median: the lower
// median for an even count) and the median absolute deviation (MAD); the
// modified z-score is z = 0.6745 (x − median) / max(MAD, floor) (Iglewicz &
// Hoaglin 1993), |z| ≥ Peers.Z (3.5). Peer comparisons assume peers share
// the weather. Before a peer-based performance finding is raised, the
// device's hourly clear-sky index must correlate with the peers' median
// index (Peers.MinCoherence, 0.5, at the best lag within ±1 h; a steady
// peer sky counts as coherent); otherwise the day is inconclusive. Measured
// with ingest/sim: hourly means of 5-minute samples under one shared broken
// sky correlate only 0.6–0.7, so this guard catches a different weather
// regime (a front between the device and its peers), not subtle
// differences.
//
// # Detectors
//
// Each finding has a Type, a Severity (info findings are data-quality flags,
// not alarms), a Span, a Basis naming what it was compared with, a Summary
// and Evidence: named numbers whose key ends in their unit.
//
// zero_output — runs of samples with AC ≤ ZeroFraction (1 %) of the rating
// while the model says the plant should produce, lasting at least
// Zero.MinDuration (30 min, ≥ 2 samples). Critical if a sample reports
// SunSpec FAULT or the run lasts Zero.CriticalDuration (2 h), else warning;
// info when the peers' median output over the run was also ≤ 2 × ZeroFraction
// (regional: snow, grid outage, deep overcast). Evidence: samples,
// duration_s, expected_clear_wh, expected_max_w, measured_wh (counter),
// peer_output_fraction, peers, fault_state.
//
// under_performance, over_performance — per day, two tests. (a) The
// performance index PI is the Perf.Quantile (0.9) quantile of measured /
// expected over samples expected at ≥ Perf.MinExpectedFraction (30 %) of
// the rating (at least Perf.MinSamples, 12; flat-lined samples excluded):
// the plant's output in the day's sunniest moments, which clouds rarely
// reach below on a day with any sun. Its reference is the peers' median PI
// if there are enough peers, else 1 (the model × PR assumption); below a
// reference of Perf.ClearReference (0.7) no moment was clear and the day is
// inconclusive. PI < (1 − Perf.Deficit (0.15)) × reference is
// under-performance if the day was steady (spread of measured/expected
// (q90 − q10)/(2.563 × median) < Perf.SteadyCV, 0.08: clear, or a fault
// under any sky) or, with peers, if no yield comparison could be made.
// PI > (1 + Perf.Excess (0.2)) × max(reference, 1) is over-performance:
// nothing beats the clear-sky model by that much. (b) With peers, the modified
// z-score of the day's yield (counter increments; with Peers.Normalize,
// divided by the day's clear-sky expected energy so orientation does not
// count): z ≤ −3.5 and at least Peers.MinRelDiff (10 %) below the median is
// under-performance; z ≥ 3.5 and 10 % above is over-performance (fabricated
// or mis-scaled data). The yield test needs Perf.MinCoverage (90 %) of the
// day's expected energy inside intervals without gaps. A day whose
// zero-output runs hold ≥ 10 % of its expected energy is left to the
// zero-output finding. Warning; critical below 50 % or above 150 %.
// Evidence: expected_clear_wh (clear sky × PR), measured_wh,
// weather_expected_wh (peers' median × the device's expectation), pi, cv,
// peer_pi, pi_ratio, yield, specific_yield_kwh_per_kwp, peer_median,
// peer_mad, z, peers, peers_yield, coverage, zero_output_share,
// weather_correlation.
//
// stuck — runs of at least Stuck.Window (6, as PVAnalytics' stale-value
// check) consecutive samples with exactly the same non-zero AC power whose
// counter did not advance with that power (within Stuck.CounterTolerance,
// 30 %): a frozen register. A flat output whose counter agrees is a plateau
// (clipping, an export limit), not stuck. Warning. Evidence: samples,
// value_w, counter_advance_wh, power_implied_wh, duration_s.
//
// comm_gap — consecutive samples further apart than Gap.Factor (3) times
// the device's reporting interval (the median spacing of its samples, else
// Config.Interval), and silences at either end of the scan or for all of
// it. Critical from Gap.CriticalDuration (24 h), else warning. Evidence:
// gap_s, interval_s, missing_seq (readings taken but never delivered),
// energy_in_gap_wh (> 0: the plant ran, the data was lost), expected_clear_wh.
//
// counter_regression — the lifetime counter goes down between consecutive
// readings (seq order). Always critical: it breaks carbon accounting.
// Evidence: before_wh, after_wh, drop_wh, reset (1 if it fell below 1 % of
// its value).
//
// over_capacity — AC power above (1 + Capacity.Tolerance (2 %)) × rating +
// 10 W (basis "power", warning; critical above 150 %), or a counter increment
// above (1 + 5 %) × rating × the time since the counter last moved + 2 Wh
// (basis "counter", critical: no inverter can produce it). Evidence:
// samples, max_w, rated_w, ratio; increments, increment_wh, max_possible_wh.
//
// energy_mismatch — per day, the counter's increments against the trapezoid
// integral of the reported power over the same clean intervals (no gap,
// regression, timestamp regression, flat-line or impossible increment).
// A difference above the largest of Energy.Rel (15 %), Energy.MinWhPerKWp
// (100 Wh/kWp) and Energy.Sigmas (3) × the sampling error (√Σ (ΔP/2 · Δt)²:
// 5-minute samples miss what the power did between them under broken cloud)
// is a tampering signal: one of the two registers is not what the meter
// measured. Warning; critical above 50 %. Evidence: counter_wh,
// integrated_power_wh, diff_wh, rel, sampling_sigma_wh, limit_wh.
//
// clock_offset — (1) timestamps that go backwards while seq increases
// (basis "timestamps"); (2) a production profile shifted in time. The
// energy centroid (time weighted by power) minus the clear-sky centroid,
// against the peers' median of the same (or alone, on a steady day),
// screens at half the threshold; a cross-correlation of the 5-minute power
// profile against the peers' median clear-sky index × the device's own
// clear-sky power (or its clear-sky power alone) over ±2 h decides and
// measures the shift, which must reach Clock.MinOffset (15 min; alone
// Clock.MinOffsetAlone, 40 min), agree with the centroid, and have a peak
// correlation ≥ Clock.MinCorrelation (0.8). Warning. A shifted day skips
// the PI test (its ratios are misaligned). Evidence: centroid_offset_min,
// peer_median_min, peer_mad_min, z, lag_min, correlation, offset_min;
// backward_steps, max_backward_s.
//
// clipping (info) — per day, at least Clip.MinSamples (3) consecutive
// samples within Clip.Tolerance (0.5 %) of the day's maximum, which is at
// least Clip.MinLevel (30 %) of the rating, at the rating (≥ 98 %) or while
// the clear-sky expectation moved by more than 3 × the tolerance (at solar
// noon a healthy output is flat too). Below the rating it is an export limit
// or derating. Evidence: level_w, rated_w, level_fraction, samples,
// duration_s.
//
// night_generation (info) — output above max(Night.MinW (10 W),
// Night.MinFraction (0.2 %) × rating) or counter increments above
// Night.MinWh (5 Wh) with the sun's apparent elevation below
// Night.MaxElevationDeg (−3°): usually a clock or time-zone error.
// Evidence: samples, max_w, night_counter_wh.
//
// # Inconclusive scans
//
// A detector that cannot judge a device in a scan says so (Result.
// Inconclusive): no daylight sample (a night scan) for the production
// detectors, an overcast day without peers for performance, an unsteady day
// without peers for the clock, fewer than two samples for everything but
// comm_gap. An open alert is neither confirmed nor resolved by such a scan,
// nor by a scan that did not cover its device.
//
// # Alerts
//
// Tracker is the state machine. Key = (device, type). A finding whose key
// has an open alert updates it (span = union, severity = the highest, the
// evidence of the most severe then latest finding, Scans + 1); otherwise it
// opens one, or reopens the key's last resolved alert if the finding
// overlaps its span and it resolved less than TrackerConfig.Reopen (7 days)
// ago. An open alert with no finding in a conclusive scan of its device
// counts a clean scan; ResolveAfter (1; 2 for performance and clock, whose
// day-level verdicts flicker with the weather) clean scans resolve it. So one
// fault is one alert however many scans see it; a fault seen by several
// detectors (inflated readings: over-performance, over-capacity, energy
// mismatch) is one alert per type. Alert.Anchored says whether the span's
// readings are anchored (AnchorChecker, implemented over package anchor;
// "unknown" until then).
//
// Stores: MemStore, and InfluxStore, which keeps one point per alert in
// measurement "alert" (tags device_id, site_id, type; time = the alert's
// Start, so each Save overwrites the same point with the latest state;
// fields documented on InfluxStore). Open alerts are read back to resume a
// Tracker after a restart.
//
// # Loading from InfluxDB
//
// Source.Load runs one InfluxQL statement per scan — SELECT ac_power_w,
// energy_wh, state, seq FROM reading WHERE time in [from − 1 h, to) GROUP BY
// device_id (filtered by device_id when ≤ 100 devices are asked for) —
// streamed as chunked CSV. Measured on the local stack (InfluxDB 1.8.10, 2
// cores; BenchmarkIntegrationInfluxLoad): 300,000 rows (1,000 devices ×
// 1 day) in 0.78–0.91 s; 3,000,000 rows (10,000 devices) in 9.0 s. The same
// data through Flux (range, filter, pivot; only iterating the records) took
// 1.66 s and 10.3 s. InfluxDB's query execution dominates; a 10,000-device
// scan is therefore ~9 s of loading plus ~1 s of scanning.
//
// # Performance
//
// BenchmarkScanFleet: 10,000 devices × 1 day at 5 minutes (2.88 M samples),
// every detector, 2 cores (AMD EPYC): 0.80–0.96 s per scan (3.0–3.6 M
// samples/s), 321 MB and 0.5 M allocations per scan. Where the time goes
// (CPU profile): the clear-sky expectation 37 %, the peer search 14 % (the
// benchmark's areas hold 500 devices within 10 km), day metrics 13 %, peer
// decisions 7 %, GC 5 %.
//
// # Concurrency
//
// Scanner, Tracker, MemStore, Source and InfluxStore are safe for
// concurrent use. Scan runs Config.Workers goroutines (GOMAXPROCS by
// default) and sorts each series' samples in place if they are out of
// order; do not share one series slice between concurrent scans that might
// both sort it. Tracker.Apply must see scans in time order.
//
// # Limits
//
//   - The expectation is a clear-sky model without irradiance measurements:
//     performance is judged in relative terms (peers) or on the day's clear
//     moments. A lone device on a cloudy day is inconclusive, and a lone
//     device's losses below ~15 % go unseen.
//   - Soiling is found once it reaches ~15 % (peer z-score, or the PI
//     deficit); there is no multi-day trend (RdTools' SRR/CODS) yet.
//   - Peers must share the weather; the coherence check only catches gross
//     differences.
//   - Clock shifts below ~15 min (with peers) or 40 min (alone) are not
//     found; a slowly drifting clock is found once it has drifted that far.
//   - Samples carry no voltage or frequency, so a register frozen at zero
//     output is reported as zero output, not stuck.
//
// # References
//
//   - B. Iglewicz, D. C. Hoaglin, "How to Detect and Handle Outliers", ASQC
//     Quality Press, 1993 (modified z-score, 3.5).
//   - IEC 61724-1:2021, performance ratio and final yield.
//   - NREL PVAnalytics (quality.gaps.stale_values_diff, window 6;
//     features.clipping; quality.irradiance clear-sky index limits) and
//     RdTools documentation, https://pvanalytics.readthedocs.io.
//   - Models: see anomaly/pvmodel.
package anomaly
