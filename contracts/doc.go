// Package contracts holds the Solidity source of SunproofAnchor, the registry
// contract that Sunproof anchors batch roots and device keys in, together with
// its build (solc-js, build.mjs, gen.sh), its compiled artifacts (build/) and its
// Go bindings (package sunproofanchor). This package has no Go code; it
// documents what the contract guarantees. See README.md for building.
//
// # Anchors
//
// Once per anchoring interval a submitter calls
//
//	anchor(uint64 intervalStart, uint64 intervalEnd, bytes32 batchRoot, uint64 batchSize, uint8 scheme)
//
// where batchRoot is the RFC 9162 root over the interval's window commitments,
// batchSize the number of leaves of that tree and scheme the commitment-format
// version the anchor package defines (the contract treats it as opaque).
//
//   - Write-once: an interval, identified by intervalStart, is anchored at most
//     once; its record (root, end, size, scheme, submitter, block number, block
//     timestamp) is never changed or deleted, by anyone, admins included.
//   - A second anchor for the same start reverts with
//     IntervalAlreadyAnchored(intervalStart, existingRoot). A submitter that
//     retries after a lost receipt treats existingRoot == its root as success.
//   - Every record has intervalEnd > intervalStart, batchSize > 0, a non-zero
//     root and the address of an account that held the submitter role when it
//     anchored. isAnchored(s) is true exactly when getAnchor(s) is non-zero,
//     and anchorCount is the number of anchored intervals.
//   - Gas per anchor is constant: three fresh storage slots, one counter update
//     and one event, whatever the number of devices, windows or earlier anchors
//     (about 100k gas under Prague rules; TestAnchorGas reports it).
//   - The contract does not check that intervals with different starts do not
//     overlap, nor compare them with block time: it would need ordered storage
//     or forbid late back-fills, and block.timestamp units differ between
//     consortium chains (seconds on geth and Besu, milliseconds on FISCO BCOS,
//     nanoseconds on GoQuorum raft). The anchor service keeps intervals on a
//     fixed grid of Unix milliseconds; verifiers look an interval up by its start.
//
// # Device keys
//
// A registrar binds a device, identified by deviceIdHash = keccak256 of the
// UTF-8 device id string (sunproofanchor.DeviceIDHash), to a 32-byte Ed25519
// public key.
//
//   - Each device has an append-only key history (deviceKeyCount, getDeviceKey);
//     getDevice returns its latest entry. Entry i was valid from registeredAt
//     (block registeredBlock) until revokedAt (block revokedBlock), or is still
//     valid if revokedBlock is 0. Times are the chain's block.timestamp.
//   - At most one key of a device is valid at any time: registerDevice reverts
//     with DeviceAlreadyActive while one is. Key rotation is explicit:
//     rotateDeviceKey ends the current key (rotated = true) and starts the new
//     one in the same block, so the validity intervals neither overlap nor
//     leave a gap. revokeDevice ends the current key (rotated = false); the
//     device may later get a new key with registerDevice.
//   - A public key belongs to at most one device, ever: reusing it, even after
//     revocation and even for the same device, reverts with KeyAlreadyUsed.
//     deviceOfKey maps a key back to its device.
//
// A verifier holding a device-signed reading with timestamp ts (in the chain's
// block time unit; Unix seconds on geth and Besu), included in a window whose
// batch root was anchored at block B (getAnchor), accepts the signing key K of
// the device only if
//
//	K.registeredAt <= ts and (K.revokedBlock == 0 or ts < K.revokedAt), and
//	if K was revoked (revokedBlock != 0 and not rotated): B < K.revokedBlock.
//
// The first line says K was the device's key when the reading was taken; a
// rotated key stays good for readings it signed before rotation, even if a
// buffering edge agent delivers them later. The second line stops a leaked,
// revoked key from back-dating new readings: only what was anchored before
// the revocation counts.
//
// # Roles and admin changes
//
//   - Three roles, held independently: admin, submitter (may anchor) and
//     registrar (may register, rotate and revoke device keys). Admins have no
//     other power over anchors or keys.
//   - The constructor sets the initial admins, threshold, submitters and
//     registrars. After that, roles and the threshold change only through
//     proposals: an admin proposes an action (add or remove an admin, submitter
//     or registrar; set the threshold), which counts as its approval; other
//     admins approve; the approval that reaches the threshold executes it.
//     With threshold 1 a proposal executes when made.
//   - 1 <= threshold <= number of admins at all times: a proposal that would
//     break this (removing an admin below the threshold, a threshold of 0 or
//     above the admin count) reverts with InvalidThreshold.
//   - Each admin approves a proposal at most once; a proposal executes at most
//     once; an action that is no longer valid when approved (say the target
//     already holds the role) reverts and leaves the proposal pending.
//   - Changing the admin set or the threshold increments adminEpoch, and
//     proposals made in an earlier epoch can no longer be approved
//     (ProposalStale), so approvals from removed admins never count.
//
// # Build
//
// solc 0.8.37 (npm solc, pinned in package-lock.json), optimizer on (200 runs),
// evmVersion paris: no PUSH0 or later opcodes, which a chain whose EVM predates
// Shanghai (GoQuorum; FISCO BCOS or Besu networks, depending on their
// configuration) rejects. gen.sh writes build/ and sunproofanchor/bindings.go;
// check.sh fails if they are stale.
package contracts
