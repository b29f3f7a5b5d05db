// Package reading defines the Sunproof inverter reading: its fields, its
// canonical byte encoding (the exact bytes a device signs), its wire form
// (canonical bytes followed by the Ed25519 signature), and the value checks
// that need nothing but the reading itself.
//
// The format is specified in docs/formats/reading.md; test vectors live in
// ingest/testdata/vectors.json and are regenerated with
// `go test ./ingest/reading -run TestVectors -update`.
//
// Invariants:
//
//   - Canonical bytes are a fixed binary layout (big-endian integers,
//     IEEE-754 binary64 floats with -0 written as +0, length-prefixed ASCII
//     identifiers) that begins with the magic "SPRD" and a version byte, so a
//     signature over a reading can never be confused with a signature over
//     anything else.
//   - Encode(Decode(b)) == b for every b that Decode accepts: there is exactly
//     one wire form per reading, which is what makes the Merkle leaf (the RFC
//     9162 leaf hash of the wire bytes) reproducible by a third party.
//   - Decode never panics and never allocates more than the input size; it
//     rejects trailing bytes, NaN and ±Inf.
//   - The package imports nothing of ours: it is the leaf that every other
//     package shares.
//
// Values are SI: W, Wh, V, A, Hz, °C. State is the SunSpec operating state
// (St, 1..8) and Events the SunSpec Evt1 bit field.
package reading
