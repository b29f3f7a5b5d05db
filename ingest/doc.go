// Package ingest holds what the edge agent and the central collector must
// agree on besides the reading format itself: the MQTT topic layout, the
// end-to-end acknowledgement message, and the Kafka topic names.
//
// Topics (docs/formats/ack.md has the byte layouts):
//
//	pv/<device_id>/readings   agent → broker → collector; payload = reading wire form (ingest/reading)
//	pv/<device_id>/ack        collector → agent; payload = Ack: seq ranges now durable in Kafka
//	pv.readings (Kafka)       valid readings, key = device_id, value = wire form, murmur2 partitioner
//	pv.rejects  (Kafka)       rejected payloads with their reason (JSON, see RejectRecord)
//	pv.devices  (Kafka)       the device registry, compacted (package devices)
//
// Invariants:
//
//   - A reading leaves the agent's disk queue only when an Ack covering its
//     seq arrives; an Ack is sent only after Kafka acknowledged the write with
//     acks=all. A broker PUBACK proves nothing about durability.
//   - Delivery into pv.readings is at-least-once; (device_id, seq) identifies
//     a reading, and every consumer (InfluxDB writer, anchor batcher) is
//     idempotent on it.
//   - Device ids used in topics are validated by reading.CheckID, so they
//     never contain MQTT wildcards or separators.
package ingest
