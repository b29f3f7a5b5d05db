// Package anchor groups signed readings into event-time windows, commits to
// each window with an RFC 9162 Merkle tree, commits to all windows of an
// anchoring interval with a batch tree whose root goes on chain, and builds
// and verifies proof bundles that link one reading to that root.
//
// This file and window.go, tree.go, batch.go and proof.go are the pure core:
// no Kafka, no chain, no clock. The consumer loop and the chain client live
// in the chain/batcher layer, which talks to the chain through ChainReader
// (for verification) and feeds Builder. The byte layouts, the bundle JSON
// and the verification steps are specified in docs/formats/proof.md; test
// vectors are in testdata/proofs, regenerated with
//
//	go test ./anchor -run TestGenerateVectors -update
//
// # Invariants
//
//   - Leaf data is a reading's wire bytes (canonical bytes ‖ Ed25519
//     signature, see package reading); leaf hash = SHA-256(0x00 ‖ wire).
//     A window's leaves are ordered by (device id bytewise, ts, seq) and
//     deduplicated by (device id, seq). Duplicates are byte-identical in
//     practice (redelivery), since the device signs the bytes; if two
//     different messages share a key (a device that reused a seq), the
//     lexicographically smallest wire bytes are kept, so the window never
//     depends on arrival order. A copy arriving after its window was sealed
//     is dropped and reported (Placement.Conflict if the bytes differ).
//   - Domain separation: every tree is RFC 6962/9162 — leaves SHA-256(0x00 ‖
//     data), nodes SHA-256(0x01 ‖ left ‖ right), the unbalanced right edge
//     is never padded — so a leaf can't pose as a node, [a,b,c] and [a,b,c,c]
//     have different roots, and no proof places a leaf at index ≥ size.
//     The data of the three kinds of leaf (reading "SPRD", device range
//     "SPDR", window commitment "SPWC") start with different magics, so one
//     can't pose as another either.
//   - Tree sizes come from commitments, never from a proof alone: a window's
//     size and device count from its commitment, a batch's size from the
//     chain's anchor record. Verify checks the proof's claimed sizes against
//     them.
//   - Windows are [start, end) spans of event time aligned to the Unix epoch
//     (Config.Span, 15 min by default). A span is sealed once the watermark
//     (max event time seen − Config.Lateness) reaches its end. A reading for
//     a sealed span goes to a late window: same span, Kind KindLate, Seq the
//     builder's late round. Its commitment's span therefore still contains
//     the reading's ts, and OriginalID names the on-time window it
//     complements. Late windows are sealed at every SealReady call.
//   - Determinism: windows, commitments and roots are functions of the set
//     of readings assigned to each window. Feeding the same readings in any
//     order, each within the allowed lateness, yields the same windows and
//     roots; window IDs are derived from (shard, start, kind, seq); batch
//     leaves are ordered by (shard, start, kind, seq).
//   - Completeness: each window commits to one DeviceRange per device (first
//     leaf, count, first and last seq) in a device tree; a bundle carries the
//     reading's range with its audit path, so a verifier can tell whether
//     the window is gap-free for the device (Count == LastSeq − FirstSeq + 1).
//
// # Concurrency
//
// Tree, Window, Batch and Commitment values are immutable once built and
// safe for concurrent readers. Builder is a single-goroutine state machine:
// use one per shard (Kafka partition) and don't share it. VerifyOffline and
// Verify are safe to call concurrently; Verify's concurrency with respect to
// the chain is the ChainReader's business. Nothing here starts goroutines.
//
// # Restart
//
// Builder.State (persist it with the sealed windows) plus Remember for the
// windows sealed after the last committed source offset restore a builder
// that makes the same on-time/late decisions for replayed messages and
// recognises redelivered copies of sealed readings. CommitOffset says how far
// the consumer may commit.
//
// # Chain layer
//
//   - The contract's intervalStart/intervalEnd are IntervalStartMS and
//     IntervalEndMS (Unix milliseconds). Device key times are
//     block.timestamp converted with EthReaderConfig.BlockTimeUnit (a key's
//     start rounded up, its end rounded down).
//   - Submit is idempotent per interval: an interval already on chain with
//     the same record returns its transaction (TxRef.Existing); any other
//     record is ErrConflictingAnchor. With the write-once contract this is
//     what makes anchoring exactly-once across crashes: a duplicate
//     transaction can at worst revert and waste gas, never record twice.
//   - A key revoked outright vouches only for readings anchored before its
//     revocation block; a rotated key keeps vouching for what it signed
//     before the rotation (DeviceKeyRecord.RevokedBlock, Rotated).
//   - One NonceManager per key and process (Submitter.Registrar shares it);
//     nonces are handed out under a mutex covering sign and send, and the
//     node's pending nonce wins after any failed send.
//   - Submitter, Registrar, EthReader and NonceManager are safe for
//     concurrent use; Submit calls for the same interval are serialised.
package anchor
