// Package collector moves readings from MQTT into Kafka: it subscribes to
// every device's readings topic on a shared subscription, validates each
// payload (framing, values, registry, signature, duplicates, counter), writes
// valid readings to pv.readings and rejects to pv.rejects, and only then
// acknowledges the MQTT messages and sends each device an end-to-end Ack.
//
// Invariants:
//
//   - An MQTT message is acknowledged to the broker (PUBACK, manual acks)
//     only after Kafka acknowledged the write with acks=all. If the write
//     fails it is retried with backoff while the messages stay unacknowledged,
//     so a crash at any point loses nothing: the broker redelivers them to
//     the persistent session.
//   - A device receives an Ack for a seq only once that reading is in
//     pv.readings, or in pv.rejects for a reason resending cannot fix. An
//     unknown device's readings are rejected but not acked: the registry may
//     not have caught up yet, so the agent keeps and resends them.
//   - Deduplication state (per device: recently stored seqs, highest seq and
//     its energy counter) is updated only after the Kafka write succeeded,
//     so a failed write never turns a redelivery into a "duplicate". It is
//     per process and bounded (Config.DedupHorizon seqs per device): a
//     duplicate that escapes it (another collector, a restart) is stored
//     twice in Kafka and dropped by the idempotent consumers.
//   - pv.readings is keyed by device_id with the murmur2 partitioner that
//     Java clients use, so other Kafka clients place a device's readings on
//     the same partition.
//
// Concurrency: Config.Lanes MQTT connections share one subscription; each
// lane runs its own batch loop (collect → validate in parallel → write →
// ack). Lanes share the Kafka writer, the registry and the dedup state.
//
// Metrics (namespace sunproof, subsystem ingest): messages_total{result},
// rejects_total{reason}, batch_size, kafka_write_seconds,
// kafka_write_errors_total, e2e_acks_total. No device ids as labels.
package collector
