// Package agent is the edge agent: it samples an inverter Source on a fixed
// schedule, signs each reading with the device's Ed25519 key, appends it to
// a crash-safe disk queue, publishes it over MQTT (QoS 1, persistent
// session, TLS client certificate), and deletes it from the queue only when
// the collector's end-to-end Ack says it is in Kafka.
//
// Invariants:
//
//   - seq is LastSeq()+1 of the disk queue, which survives restarts even
//     when the queue is empty, so seq is strictly increasing per device for
//     the life of the queue directory.
//   - A reading is in the queue (per the fsync policy) before it is
//     published; it leaves only on an Ack. A broker PUBACK removes nothing.
//   - Publishing is go-back-N over the queue: at most MaxOutstanding
//     readings are published but not yet acked end to end; when no ack
//     progress happens for AckTimeout, or after a reconnect, publishing
//     restarts from the first unacked seq. Resends can duplicate a reading
//     downstream; (device_id, seq) lets every consumer drop it.
//   - Readings go out in seq order, so after hours offline the backlog
//     drains oldest first.
//
// The agent binary links no Kafka or chain code: it depends only on
// ingest, ingest/reading, ingest/agent/queue, ingest/sim and paho.
package agent
