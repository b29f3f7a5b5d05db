// Package eval measures the anomaly detectors on a simulated fleet with
// labelled faults: precision, recall and F1 per fault type, and false
// alarms per 1,000 healthy device-days.
//
//	f, _ := eval.Generate(eval.DefaultConfig())
//	series, _ := f.Series()                          // ingest/sim, in memory
//	rep, _ := eval.Evaluate(ctx, f, eval.MemoryLoader(series, time.Hour))
//	rep.WriteText(os.Stdout)
//
// The same Evaluate runs on data read back from InfluxDB by passing a
// LoadFunc over anomaly.Source (TestIntegrationEvaluateInflux).
//
// # Fleet
//
// Areas of neighbouring devices (within ~12 km, centres ≥ 100 km apart)
// share a weather seed with per-device cloud cover ±0.03 around the area's,
// plus isolated devices with no peer; kWp 3–20, AC/DC 0.8–1.05, tilt 10–35°,
// azimuth 150–210°. Each device polls every Step at its own phase with ±5 s
// of jitter. FaultyFraction of the devices, chosen at random, get one fault
// each, the eight types in turn: inverter trip (1–4 h in daytime), loss of
// one of 2–4 strings (from a random time, at least a day before the end),
// soiling (5–25 % at the start, +0.5–2 %/day), stuck meter (1–4 h in
// daytime), communication outage (0.5–12 h, any time), counter reset to 0,
// inflated readings (×1.2–1.6 for 1–3 days; 70 % also inflate the counter
// consistently), clock error (a step of ±20–90 min or a drift of 10–40
// min/day, from at least a day before the end). Everything follows from
// Config.Seed.
//
// # Scoring
//
// Each day is one scan (at the end of the day) through
// anomaly.Analyzer.ScanOnce, the code `sunproof analyze` runs: the scan,
// the multi-day judgements over an anomaly.History (JudgeTrends), an
// anomaly.Tracker and an alert store. Alerts (severity ≥ warning) are
// scored, info flags are counted apart. An
// alert detects a label when it is on the labelled device, of a type in
// Detects[label type], and its span overlaps the label's window (± 2
// steps). Recall = labels with at least one detecting alert / labels.
// Precision per fault type = alerts detecting a label of that type / (those
// + alerts of a detecting type that match no label at all). Alerts of
// another type on a faulty device within a day of its fault are
// consequences ("collateral": a clock shift empties the first hour of the
// day, an inflated counter makes impossible increments), neither hits nor
// false alarms. A false alarm is an unmatched alert that starts on a healthy
// device-day (no label active that day).
//
// # Results
//
// Ten seeds of 40 areas × 10 devices + 20 isolated devices, 10 days from
// 2024-04-01, 40 % faulty (21 faults per type per run), 1.2 M points per
// run, scanned in 0.6–0.7 s per run. Seeds 2–6 were used to develop the
// multi-day judgements and the edge offset, seeds 7–11 only to report:
//
//	                seeds 2–6                                seeds 7–11
//	fault           recall       precision    F1             recall       precision    F1
//	trip            1.00         1.00         1.00           1.00         1.00         1.00
//	string_loss     0.952–1.00   0.952–1.00   0.952–1.00     0.952–1.00   1.00         0.976–1.00
//	soiling         0.905–1.00   0.952–1.00   0.950–1.00     0.952–1.00   1.00         0.976–1.00
//	stuck_meter     1.00         1.00         1.00           1.00         1.00         1.00
//	comm_outage     1.00         1.00         1.00           1.00         1.00         1.00
//	counter_reset   1.00         1.00         1.00           1.00         1.00         1.00
//	inflated        1.00         0.947–1.00   0.973–1.00     1.00         0.913–1.00   0.955–1.00
//	clock_drift     0.952–1.00   1.00         0.976–1.00     0.952–1.00   1.00         0.976–1.00
//
// False alarms: 0–0.83 per 1,000 healthy device-days on seeds 2–6 (0–3 per
// run of ~3,600), 0–1.11 on seeds 7–11 (0–4; seed 9's four, an energy
// mismatch and three over-performance days, are there without the
// multi-day judgements too). Before them and the edge offset (single-day
// verdicts, energy centroid): soiling F1 0.895–0.98 and clock 0.80–0.92 on
// seeds 2–6, 0.833–0.976 and 0.778–0.923 on seeds 7–11, with 0.28–0.83 and
// 0–1.11 false alarms.
//
//	for s in 2 3 4 5 6 7 8 9 10 11; do
//	  SUNPROOF_EVAL_SEED=$s SUNPROOF_EVAL_AREAS=40 SUNPROOF_EVAL_ISOLATED=20 SUNPROOF_EVAL_DAYS=10 \
//	    go test ./anomaly/eval -run 'TestEvaluate$' -v -count=1
//	done
//
// The default run (`go test ./anomaly/eval -run 'TestEvaluate$' -v`, 128
// devices × 7 days) gives F1 1.00 except string loss 0.92 (a lone device
// losing 1 of 4 strings under cloud), with no false alarm.
//
// What is left: clocks that drift less than ~15 min by noon of the last
// day (a drift that starts on it); lone devices (no peer within 30 km) in a
// cloudy climate: their soiling and string losses are judged against the
// clear-sky model on days sunny enough by their own yield, which the loss
// itself lowers, so some have too few such days in 10 days, and their clock
// needs three days; and false alarms from peers' weather: devices of one
// area see the same clouds at different cover (the ±0.03), and 16–21 %
// yield differences between them are occasionally flagged by the single-day
// yield test. Inflated readings raise 1.7–2.3 alerts per fault (one per
// detecting type). The simulated weather is identical across an area and
// differs only in cover, and every simulated plant has the same
// performance ratio and a clear horizon: real neighbours share less, and
// their PR differs by a few per cent, which lowers peer sensitivity and
// would make the 7 % multi-day deficit flag some healthy plants; expect
// lower recall for string loss and soiling, and more performance alerts,
// in the field.
//
// One finding about the simulator: reading ingest/sim every 5 minutes at
// the same instants for every device lines the samples up with its
// cloud-noise knots; under broken cloud the sampled mean power was 30 %
// below the 1-minute mean in one case, while the counter (integrated every
// minute) was not, and the energy-mismatch detector fired for a whole
// area. Polling at per-device phases with jitter, as here, avoids it.
package eval
