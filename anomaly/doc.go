// Package anomaly finds faults, integrity problems and data-quality issues
// in inverter readings, and keeps them as alerts.
//
//	src, _ := anomaly.NewSource(anomaly.DefaultInfluxConfig(), nil)
//	series, _, _ := src.Load(ctx, fleet.Devices(), from, to)   // InfluxQL, one statement per device
//	sc, _ := anomaly.NewScanner(anomaly.DefaultConfig())
//	res, _ := sc.Scan(ctx, series, from, to)                   // pure: no I/O
//	sc.JudgeTrends(&res, hist)                                 // multi-day judgements (History)
//	_ = days.Save(ctx, res.Days)                               // InfluxDayStore: survives a restart
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
// start: start scans at the fleet's local midnight. A bucket that lies
// inside the scan and begins and ends at night for a device (sun below
// Night.MaxElevationDeg) is a whole solar day; Result.Days summarises each
// device's whole days for the multi-day judgements below.
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
// under_performance over several days (JudgeTrends; a day's verdict
// needs a deficit of 10–15 %, which soiling takes weeks to reach). Each
// whole day has a PI ratio: its PI over the peers' median PI when at least
// MinPeers valid peers had one, their median PI reached Perf.ClearReference
// and their median yield Trend.MinSkyIndex (0.4) of the clear-sky
// expectation; without peers, its PI against the model's 1 when its own
// yield reached Trend.MinSkyIndex; never on a day with zero output among the
// PI's samples or a shifted clock. The median PI ratio of the device's most
// recent Trend.MaxDays (7) days with one, at least Trend.MinDays (3) of
// them, all against peers or all against the model like the most recent,
// at most 1 − Trend.Deficit (0.07; against the model 1 − Perf.Deficit,
// 0.15: the PR assumption is not as sure as the peers) is
// under-performance, basis "peers_trend" ("clear_sky_model_trend").
// Warning; critical below 0.5. While fewer than MinDays days show the
// deficit, the scan is inconclusive for under_performance, so that an open
// alert does not resolve while the evidence gathers. Why the PI and not
// the daily yield: measured with anomaly/eval (seeds 2–6, 12,000 healthy
// device-days), healthy devices' yield over their peers' median drifts to
// 0.86–0.92 for days on end (a slightly cloudier spot: the ±0.03 of cover),
// while their PI ratio on days with a sky index ≥ 0.4 was ≥ 0.98 on 99.9 %
// of the days and its 7-day median ≥ 0.98 throughout; soiled devices
// (5–25 %) lie at 0.75–0.95, falling by their soiling rate. Evidence:
// pi_ratio (the median), pi_ratio_first, pi_ratio_last, slope_per_day
// (Theil–Sen), days, sky_index (median).
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
// (basis "timestamps"); (2) a production day shifted in time. On a whole
// day, dayEdges finds the first and last output above the night flag's
// level (max(Night.MinW, Night.MinFraction × rating)) and the times the
// clear-sky expectation crosses the same level; each crossing must be
// observed (the sample before the morning one, after the evening one, is
// in the day, below the level, not in FAULT, with no gap between: an
// outage or a trip over sunrise hides the edge). The edge offset is the
// midpoint of the two output edges minus the model's: clouds delay the
// morning edge and advance the evening one alike, so the midpoint moves
// with the clock only, and a drifting clock gives its offset at noon.
// Against the peers' median edge offset it must reach Clock.MinOffset
// (15 min; alone, against the model, Clock.MinOffsetAlone, 40 min), and a
// cross-correlation of the 5-minute power profile against the peers'
// median clear-sky index × the device's own clear-sky power (alone: its
// clear-sky power) over ±max(2 h, offset + 1 h) must agree: lag within
// max(Clock.Agreement (10 min), Clock.AgreementFraction (0.3) × |offset|)
// of the offset, peak correlation ≥ Clock.MinCorrelation (0.3). Edges that
// say shifted without the profile's agreement leave the day inconclusive
// (a tree shading the morning moves one edge, not the profile). Measured
// with anomaly/eval (seeds 2–6): healthy devices' edge offset against
// their peers stayed within ±12.6 min on all 12,000 device-days (2.6 min
// on 90 %, 7.4 on 99 %; 5-minute samples quantise each edge; alone, within
// ±10 min), while the correlation lag alone exceeded 15 min on 2 % of them
// (cloudy days); shifted devices' edge offsets matched the injected offset
// within a few minutes, up to the 4.5 h a drift reached. Warning. A
// shifted day skips the PI test (its ratios are misaligned). Evidence:
// edge_offset_min, peer_edge_median_min, peers, offset_min, lag_min,
// correlation; backward_steps, max_backward_s.
// Over several days (JudgeTrends): the edge offsets of the device's most
// recent Trend.MinDays (3) days with one all reach the same threshold with
// one sign, and, against peers, the profile confirmed a shift on one day
// of the window (basis "peers_trend"; alone, basis "clear_sky_model_trend",
// persistence stands in for the profile, which has only the clear-sky
// shape to compare with and which clouds distort). This keeps an alert open
// on days the profile cannot confirm and finds lone devices' offsets on
// cloudy days. Evidence: offset_min, days, drift_min_per_day (Theil–Sen
// over the days since the first confirmed one).
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
// # Multi-day judgements
//
// A History keeps, per device, the DaySummary of each of its last
// Trend.Days (14) solar days: date (the local mean solar date, SolarDate),
// productive span, PI ratio and sky index, edge offset, whether they were
// against peers, whether the day's clock finding fired. Scan emits the
// summaries of the whole days it saw in Result.Days; JudgeTrends records
// them (a later summary of the same device and date replaces the earlier:
// a later scan saw at least as much of the day) and then judges every
// scanned device over its window, appending trend findings of the existing
// types to the result, before Tracker.Apply. With the analyzer's hourly
// scans of the last 24 h, the scans whose window begins and ends at night
// (about half of them) each summarise the same solar day, the others
// summarise nothing and only repeat the trend verdicts, so the judgements
// are essentially those of one scan per day at midnight (anomaly/eval). A day
// is 24 bytes (10,000 devices × 14 days ≈ 3.4 MB plus a map entry per
// device); devices without a summary for Trend.Days are forgotten.
//
// DayStore persists the summaries; InfluxDayStore keeps one point per
// device and solar date in measurement device_day (tags device_id,
// site_id; time = the date at 00:00 UTC, so that a re-scan overwrites it;
// fields from_s, to_s, pi_ratio, sky_index, offset_min, peer_pi,
// peer_offset, clock_shift). `sunproof analyze` saves each scan's summaries
// and resumes its History with LoadHistory (the last Trend.Days + 1 days)
// after a restart; TestAnalyzerHistory checks that a restarted analyzer
// judges as one that ran on.
//
// # Inconclusive scans
//
// A detector that cannot judge a device in a scan says so (Result.
// Inconclusive): no daylight sample (a night scan) for the production
// detectors, an overcast day without peers for performance, a performance
// deficit over fewer than Trend.MinDays sunny days, no whole day with
// observed production edges for the clock (a scan window that does not
// begin and end at night), fewer than two samples for everything but
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
// Source.Load sends one InfluxQL statement per device — SELECT ac_power_w,
// energy_wh, state, seq FROM reading WHERE time in [from − 1 h, to) AND
// device_id = '…' GROUP BY device_id — 500 statements per HTTP request, 2
// requests at a time (InfluxConfig.DevicesPerRequest, Requests), answered
// in MessagePack and decoded row by row (internal/influxql.Rows), without
// gzip (Server.Gzip).
//
// Measured on the local stack (InfluxDB 1.8.10, 2 cores, load average
// 1.4–1.9), 10,000 devices × 1 day at 5 min plus the lookback hour
// (3,000,000 rows), BenchmarkIntegrationInfluxLoadScan: load 2.40–2.58 s
// (1.2 M rows/s), scan 0.91–0.95 s, 3.32–3.51 s end to end. The load is
// bound by InfluxDB's CPU (3.6–3.8 s of it across both cores); decoding
// costs the client about 0.6 s of CPU. With the data laid out as the
// collector writes it (time after time, not yet compacted): 3.57–3.70 s.
// The earlier loader (one statement for the fleet, chunked CSV) took
// 7.5–8.4 s.
//
// Why this shape (server CPU for the fleet-day, answer discarded):
//   - One statement with GROUP BY device_id: 7.6 s as CSV, 6.5 s as
//     MessagePack, 9.1 s as JSON. 36 % of it is a heap InfluxDB merges the
//     10,000 device groups through (two tag-map lookups per comparison).
//     GROUP BY * (8.7–9.9 s) and no GROUP BY (10.1–10.3 s) are worse.
//   - Device ids OR-ed in one statement: fine at 100 (5.2–6.1 s in all),
//     worse at 1,000 (8.3–8.8 s); 10,000 of them took 31.7 s.
//   - One statement per device: 3.3–4.5 s of CPU, 2.1–2.2 s wall with two
//     requests at a time.
//   - Go's HTTP client asks for gzip by default: it costs InfluxDB about
//     25 % more CPU on large answers. Chunk size does not matter as long
//     as it is at least the rows per device; epoch=ms changes nothing.
//
// Flux (POST /api/v2/query, Flux v0.65), same fleet-day: range + filter +
// pivot takes 4.8 s and 5.4 s of server CPU, and sends 405 MB of annotated
// CSV (83 MB of MessagePack for the InfluxQL above); through
// influxdb-client-go, which always asks for gzip, 8.9 s. Two requests in
// parallel bring the server side to 3.2 s, still before parsing 405 MB (a
// bare encoding/csv pass takes 1 s). That is why the raw load is InfluxQL,
// not the Flux the issue suggests (BenchmarkIntegrationFlux reruns it).
// For narrow per-device aggregates Flux is fast: the daily counter spread
// of every device takes 0.41 s in Flux, 0.71 s as one InfluxQL statement
// per device, and 3.96 s as one InfluxQL statement with GROUP BY
// device_id. Use Flux, or a statement per device, for such aggregates,
// never GROUP BY device_id over the fleet.
//
// # Rejected readings
//
// The collector rejects, by design, a reading whose lifetime counter is
// below an earlier-seq reading of the same device ("a replaced inverter is
// a new device with a new key"), so after a counter reset every later
// reading of that device goes to pv.rejects and never reaches InfluxDB; a
// scan of InfluxDB alone sees a silent device (comm_gap). RejectSource
// reads the rejects topic back (replaying Config.Replay on start, so a
// restarted analyzer sees recent rejects again), keeps, bounded per device
// and in total, the rejected readings of the configured reasons that
// decode, match the registry's device and site and verify with the
// device's key, and WithRejects merges them into each loaded series
// (time-ordered, seqs already loaded skipped). `sunproof analyze` merges
// counter_regression and implausible by default (-merge-rejects). Measured
// through the real pipeline (anomaly/eval/pipeline): without the merge
// counter_reset recall is 0; with it the evaluation equals the in-memory
// one alarm by alarm.
//
// # Performance
//
// BenchmarkScanFleet: 10,000 devices × 1 day at 5 minutes (2.88 M samples),
// every detector, 2 cores (AMD EPYC): 0.78–0.84 s per scan (3.4–3.7 M
// samples/s), 333 MB and 0.57 M allocations per scan (before the edges and
// the day summaries: 0.81–0.85 s, 321 MB, 0.51 M on the same machine).
// Where the time goes (CPU profile, before): the clear-sky expectation
// 37 %, the peer search 14 % (the benchmark's areas hold 500 devices within
// 10 km), day metrics 13 %, peer decisions 7 %, GC 5 %. JudgeTrends is not
// in the benchmark: it reads each device's ≤ 14 summaries.
//
// # Concurrency
//
// Scanner, Tracker, History, MemStore, Source, InfluxStore and
// InfluxDayStore are safe for concurrent use. Scan runs Config.Workers
// goroutines (GOMAXPROCS by default) and sorts each series' samples in
// place if they are out of order; do not share one series slice between
// concurrent scans that might both sort it. Tracker.Apply and JudgeTrends
// must see scans in time order.
//
// # Limits
//
//   - The expectation is a clear-sky model without irradiance measurements:
//     performance is judged in relative terms (peers) or on the day's clear
//     moments. A lone device on a cloudy day is inconclusive, and a lone
//     device's losses below ~15 % go unseen.
//   - Soiling is found from ~7 % with peers after three sunny days (the
//     multi-day PI ratio), from ~15 % without; a device's PI ratio is
//     relative to its peers', so a plant whose PR is 7 % below its
//     neighbours' for other reasons (module quality, wiring, a wrong kWp in
//     the registry) is reported too. There is no cleaning-event or
//     soiling-rate model (RdTools' SRR/CODS). A lone device's sky index is
//     its own yield, which a large loss lowers: in a cloudy climate it may
//     have too few sunny days.
//   - Peers must share the weather; the coherence check only catches gross
//     differences.
//   - Clock shifts below ~15 min (with peers) or 40 min (alone) are not
//     found; a slowly drifting clock is found once it has drifted that far
//     by noon. A shift that moves the day's output across the scan's day
//     boundary (hours) leaves no observed edge: only night_generation
//     says so. Edges assume a symmetric horizon; an asymmetric one (a
//     mountain to the west) biases the edge offset, which the profile
//     check stops for a single day but not the lone-device trend.
//   - Samples carry no voltage or frequency, so a register frozen at zero
//     output is reported as zero output, not stuck.
//
// # References
//
//   - B. Iglewicz, D. C. Hoaglin, "How to Detect and Handle Outliers", ASQC
//     Quality Press, 1993 (modified z-score, 3.5).
//   - H. Theil (1950), P. K. Sen (1968): the median of pairwise slopes
//     (slope_per_day, drift_min_per_day).
//   - IEC 61724-1:2021, performance ratio and final yield.
//   - NREL PVAnalytics (quality.gaps.stale_values_diff, window 6;
//     features.clipping; quality.irradiance clear-sky index limits) and
//     RdTools documentation, https://pvanalytics.readthedocs.io.
//   - Models: see anomaly/pvmodel.
package anomaly
