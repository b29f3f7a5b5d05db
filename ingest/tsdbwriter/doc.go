// Package tsdbwriter copies pv.readings from Kafka into InfluxDB.
//
// Schema (docs/formats/influx.md): measurement "reading", tags device_id and
// site_id (cardinality = fleet size, bounded by the registry), fields
// seq, energy_wh, state, events (integers) and ac_power_w, ac_voltage_v,
// frequency_hz, power_factor, dc_voltage_v, dc_current_a, dc_power_w,
// temp_c (floats). The point timestamp is ts_ms × 10⁶ + (seq mod 10⁶) ns:
// the reading's millisecond timestamp plus a sub-millisecond offset derived
// from seq, so two readings of one device never share a timestamp (InfluxDB
// would silently merge them) and a replayed reading overwrites itself with
// identical values.
//
// Invariants:
//
//   - Kafka offsets are committed only after InfluxDB accepted the batch, so
//     a crash replays at most the uncommitted batches; replays are harmless
//     because a point's identity (series + timestamp) is a function of
//     (device_id, seq).
//   - Transient failures (network, 5xx, 429) are retried with capped
//     exponential backoff, holding the batch; a permanent refusal (4xx)
//     isolates the refused points one by one, reports each to the rejects
//     topic with reason "tsdb_rejected", and moves on: the writer never
//     stalls the partition on one bad point nor drops a good one with it.
//
// Metrics: sunproof_tsdb_points_total, sunproof_tsdb_write_seconds,
// sunproof_tsdb_write_errors_total{kind}, sunproof_tsdb_rejects_total.
package tsdbwriter
