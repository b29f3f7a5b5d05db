// Package devices is the registry of Sunproof sites and devices: who may
// publish readings (each device's Ed25519 public key and status) and what
// each plant is (capacity, orientation, location, grid region, installer,
// loan). It also provisions devices: signing keys (GenerateKey and the PEM
// helpers) and MQTT client certificates issued by the stack's CA
// (CA.IssueClientCert).
//
// # The shared log
//
// The registry lives in one compacted Kafka topic (DefaultTopic,
// "pv.devices"; 1 partition; cleanup.policy=compact; see EnsureTopic). Each
// message is keyed "device/<id>" or "site/<id>" and its value is a JSON
// Record: {"kind":"device","version":1,"device":{...}}. A Publisher writes
// records with acks from all in-sync replicas; a Registry in every service
// that needs it tails the topic from the first offset and keeps an in-memory
// view, so changes reach running services without a restart.
//
// Invariants:
//
//   - Last write wins per key: records are applied in offset order, and a
//     record replaces the whole previous value of its key. There is no
//     merge, so a writer sends the complete Device or Site.
//   - The registry is eventually consistent: two Registries may briefly
//     disagree, and a Registry lags the topic by the fetch round trip.
//     WaitReady only promises that the view covers everything that was on
//     the topic when Run started. Nothing here orders a device record with
//     respect to readings: a reading that arrives just after a device is
//     disabled may still be accepted by a collector that has not seen the
//     record yet.
//   - Disabling is a record (Status "disabled", DisabledAt set), never a
//     deletion, so the device's key — and every reading it signed — stays
//     verifiable. The Publisher cannot delete. A tombstone written by other
//     tools removes the key from the view (as compaction would for a fresh
//     reader), with a warning.
//   - A record that does not decode, is of another version, fails Validate
//     or whose key does not match its content is logged, counted and
//     skipped; the previous value of the key stays. Run never stops on bad
//     data.
//   - Only the Publisher writes the topic, without transactions, so the last
//     offset of the partition always holds a record; the readiness and
//     catch-up logic rely on it.
//   - The devices package imports nothing of ours, and knows nothing of
//     readings: collectors check signatures with keys they get from here.
//
// # Lookups and concurrency
//
// Registry and Static offer the same lookups: Device, Site, Devices and
// Sites. They are safe for concurrent use. Device is the hot path (a
// collector looks one up per message): it is one atomic pointer load and a
// map read, and returns bare sentinel errors (ErrUnknownDevice,
// ErrDisabled with the Device) so it does not allocate. Snapshots are
// immutable; the Device values they hand out share their PublicKey slice
// and must be treated as read-only. Consumers define the interface they
// need, e.g.
//
//	type deviceLookup interface {
//		Device(id string) (devices.Device, error)
//	}
//
// Run, WaitReady and Ready are the Registry's lifecycle; Run returns nil
// when its context is cancelled.
//
// # Metrics
//
// A Registry exports (when given a Registerer):
//
//	sunproof_devices_records_total{kind}   records applied; kind is device, site or tombstone
//	sunproof_devices_decode_errors_total   records skipped as undecodable or invalid
//	sunproof_devices_known                 devices in the view, disabled ones included
//
// No metric has a device or site id label: the label set would grow with
// the fleet.
package devices
