// SPDX-License-Identifier: Apache-2.0
// Pinned to the exact compiler that package-lock.json installs (npm solc 0.8.37);
// build.mjs refuses any other compiler version.
pragma solidity 0.8.37;

/// @title SunproofAnchor
/// @notice Registry of Sunproof batch roots and device signing keys on a consortium EVM chain.
///
/// Anchors: once per anchoring interval a submitter stores one batch root, the
/// RFC 9162 Merkle root over all window commitments of that interval. An interval
/// is identified by its start; it is written once and never changed or deleted.
/// Gas per anchor is constant: it writes three storage slots whatever the fleet size.
///
/// Device keys: a registrar binds keccak256(bytes(deviceId)) to an Ed25519 public
/// key. Keys are kept as an append-only history per device, each with the block
/// time and number at which it became valid and stopped being valid, and whether
/// it ended by rotation (retired, not suspect) or by revocation (compromised or
/// decommissioned), so a verifier can tell whether a key was valid when a
/// reading was signed and when it was anchored.
///
/// Roles: admins, submitters, registrars. Role changes and the admin threshold
/// change only through k-of-n admin proposals.
///
/// Times: registeredAt, revokedAt and the anchor timestamp are `block.timestamp`
/// of the chain this contract runs on (seconds on geth and Besu; some consortium
/// chains use milliseconds or nanoseconds). Interval bounds are whatever the
/// submitter sends (Sunproof uses Unix milliseconds); the contract only orders them.
contract SunproofAnchor {
    // ------------------------------------------------------------------ types

    /// @notice Roles an account may hold; an account may hold several.
    enum Role {
        Admin,
        Submitter,
        Registrar
    }

    /// @notice What an admin proposal does once enough admins approve it.
    enum Action {
        AddAdmin,
        RemoveAdmin,
        SetThreshold,
        AddSubmitter,
        RemoveSubmitter,
        AddRegistrar,
        RemoveRegistrar
    }

    /// @dev Three storage slots per anchored interval.
    struct Anchor {
        bytes32 batchRoot; // slot 0
        uint64 intervalEnd; // slot 1 (4 x 8 bytes)
        uint64 batchSize;
        uint64 blockNumber;
        uint64 timestamp;
        address submitter; // slot 2 (20 + 1 bytes); non-zero iff anchored
        uint8 scheme;
    }

    /// @dev Two storage slots per key. revokedBlock == 0 means the key is still valid.
    /// Block numbers fit 56 bits; times keep 64 bits as some chains count nanoseconds.
    struct DeviceKey {
        bytes32 publicKey; // slot 0
        uint64 registeredAt; // slot 1 (8 + 8 + 7 + 7 + 1 bytes)
        uint64 revokedAt;
        uint56 registeredBlock;
        uint56 revokedBlock;
        bool rotated; // ended by rotateDeviceKey rather than revokeDevice
    }

    struct Proposal {
        address target; // slot 0
        Action action;
        uint32 value;
        uint32 approvals;
        bool executed;
        address proposer; // slot 1; non-zero iff the proposal exists
        uint64 adminEpoch;
    }

    // ---------------------------------------------------------------- storage

    // Packed into one slot, so anchor() updates the counter with a warm,
    // non-zero to non-zero write.
    uint32 private _threshold;
    uint32 private _adminCount;
    uint64 private _adminEpoch;
    uint64 private _anchorCount;
    uint64 private _proposalCount;

    mapping(address => uint8) private _roles; // bit i set = holds Role(i)
    mapping(uint64 => Anchor) private _anchors; // by interval start
    mapping(bytes32 => DeviceKey[]) private _deviceKeys; // by device id hash
    mapping(bytes32 => bytes32) private _keyDevice; // public key => device id hash
    mapping(uint256 => Proposal) private _proposals;
    mapping(uint256 => mapping(address => bool)) private _approvedBy;

    // ----------------------------------------------------------------- errors

    error Unauthorized(Role required, address caller);
    error ZeroAddress();
    error RoleAlreadyGranted(Role role, address account);
    error RoleNotGranted(Role role, address account);
    error InvalidThreshold(uint256 threshold, uint256 adminCount);
    error InvalidProposal();
    error UnknownProposal(uint256 id);
    error ProposalAlreadyExecuted(uint256 id);
    error ProposalStale(uint256 id, uint64 proposalEpoch, uint64 currentEpoch);
    error AlreadyApproved(uint256 id, address admin);

    error InvalidInterval(uint64 intervalStart, uint64 intervalEnd);
    error ZeroBatchSize();
    error ZeroRoot();
    error IntervalAlreadyAnchored(uint64 intervalStart, bytes32 existingRoot);

    error ZeroDeviceId();
    error ZeroKey();
    error UnknownDevice(bytes32 deviceIdHash);
    error UnknownDeviceKey(bytes32 deviceIdHash, uint256 index);
    error DeviceAlreadyActive(bytes32 deviceIdHash);
    error DeviceNotActive(bytes32 deviceIdHash);
    error KeyAlreadyUsed(bytes32 publicKey, bytes32 deviceIdHash);

    // ----------------------------------------------------------------- events

    event Anchored(
        uint64 indexed intervalStart,
        uint64 intervalEnd,
        bytes32 batchRoot,
        uint64 batchSize,
        uint8 scheme,
        address submitter
    );

    event DeviceRegistered(bytes32 indexed deviceIdHash, bytes32 publicKey, uint32 keyIndex, address registrar);
    /// @param rotated true if the key was replaced by rotateDeviceKey, false if revoked by revokeDevice.
    event DeviceRevoked(
        bytes32 indexed deviceIdHash, bytes32 publicKey, uint32 keyIndex, bool rotated, address registrar
    );

    event RoleGranted(Role indexed role, address indexed account);
    event RoleRevoked(Role indexed role, address indexed account);
    event ThresholdChanged(uint32 oldThreshold, uint32 newThreshold);

    event ProposalCreated(uint256 indexed id, Action action, address target, uint32 value, address indexed proposer);
    event ProposalApproved(uint256 indexed id, address indexed admin, uint32 approvals);
    event ProposalExecuted(uint256 indexed id);

    // ------------------------------------------------------------ constructor

    /// @param initialAdmins non-zero, no duplicates, at least initialThreshold of them.
    /// @param initialThreshold approvals a proposal needs, 1 <= initialThreshold <= initialAdmins.length.
    /// @param initialSubmitters accounts allowed to anchor (may be empty).
    /// @param initialRegistrars accounts allowed to register and revoke device keys (may be empty).
    constructor(
        address[] memory initialAdmins,
        uint32 initialThreshold,
        address[] memory initialSubmitters,
        address[] memory initialRegistrars
    ) {
        for (uint256 i = 0; i < initialAdmins.length; i++) {
            _grant(Role.Admin, initialAdmins[i]);
        }
        if (initialThreshold == 0 || initialThreshold > _adminCount) {
            revert InvalidThreshold(initialThreshold, _adminCount);
        }
        _threshold = initialThreshold;
        _adminEpoch = 1;
        emit ThresholdChanged(0, initialThreshold);
        for (uint256 i = 0; i < initialSubmitters.length; i++) {
            _grant(Role.Submitter, initialSubmitters[i]);
        }
        for (uint256 i = 0; i < initialRegistrars.length; i++) {
            _grant(Role.Registrar, initialRegistrars[i]);
        }
    }

    modifier onlyRole(Role role) {
        if (!_hasRole(msg.sender, role)) revert Unauthorized(role, msg.sender);
        _;
    }

    // ---------------------------------------------------------------- anchors

    /// @notice Stores the batch root of the interval [intervalStart, intervalEnd).
    /// @dev Write-once: a retry of an interval that is already on chain reverts
    /// with IntervalAlreadyAnchored carrying the stored root, so a submitter can
    /// tell its own earlier success (same root) from a conflict (other root).
    function anchor(
        uint64 intervalStart,
        uint64 intervalEnd,
        bytes32 batchRoot,
        uint64 batchSize,
        uint8 scheme
    ) external onlyRole(Role.Submitter) {
        if (intervalEnd <= intervalStart) revert InvalidInterval(intervalStart, intervalEnd);
        if (batchSize == 0) revert ZeroBatchSize();
        if (batchRoot == bytes32(0)) revert ZeroRoot();
        Anchor storage a = _anchors[intervalStart];
        if (a.submitter != address(0)) revert IntervalAlreadyAnchored(intervalStart, a.batchRoot);

        a.batchRoot = batchRoot;
        a.intervalEnd = intervalEnd;
        a.batchSize = batchSize;
        a.blockNumber = uint64(block.number);
        a.timestamp = uint64(block.timestamp);
        a.submitter = msg.sender;
        a.scheme = scheme;
        unchecked {
            _anchorCount++; // cannot reach 2^64
        }
        emit Anchored(intervalStart, intervalEnd, batchRoot, batchSize, scheme, msg.sender);
    }

    /// @notice The anchor of the interval starting at intervalStart; all zero if none.
    function getAnchor(uint64 intervalStart)
        external
        view
        returns (
            bytes32 batchRoot,
            uint64 intervalEnd,
            uint64 batchSize,
            uint8 scheme,
            address submitter,
            uint64 blockNumber,
            uint64 timestamp
        )
    {
        Anchor storage a = _anchors[intervalStart];
        return (a.batchRoot, a.intervalEnd, a.batchSize, a.scheme, a.submitter, a.blockNumber, a.timestamp);
    }

    function isAnchored(uint64 intervalStart) external view returns (bool) {
        return _anchors[intervalStart].submitter != address(0);
    }

    /// @notice Number of intervals anchored so far.
    function anchorCount() external view returns (uint64) {
        return _anchorCount;
    }

    // ---------------------------------------------------------------- devices

    /// @notice Registers the first key of a device, or a new key for a device
    /// whose last key was revoked. Reverts DeviceAlreadyActive if the device has
    /// a valid key: use rotateDeviceKey to replace it.
    /// @param deviceIdHash keccak256 of the UTF-8 device id string.
    /// @param publicKey the 32-byte Ed25519 public key (RFC 8032 encoding).
    function registerDevice(bytes32 deviceIdHash, bytes32 publicKey) external onlyRole(Role.Registrar) {
        if (deviceIdHash == bytes32(0)) revert ZeroDeviceId();
        DeviceKey[] storage keys = _deviceKeys[deviceIdHash];
        uint256 n = keys.length;
        if (n != 0 && keys[n - 1].revokedBlock == 0) revert DeviceAlreadyActive(deviceIdHash);
        _addKey(deviceIdHash, keys, publicKey);
    }

    /// @notice Replaces the valid key of a device in one step (routine rotation):
    /// the old key stops being valid and the new one starts being valid at this
    /// block. The old key is retired, not suspect: readings it signed before now
    /// stay valid even if they are anchored later.
    function rotateDeviceKey(bytes32 deviceIdHash, bytes32 newPublicKey) external onlyRole(Role.Registrar) {
        DeviceKey[] storage keys = _deviceKeys[deviceIdHash];
        _endLast(deviceIdHash, keys, true);
        _addKey(deviceIdHash, keys, newPublicKey);
    }

    /// @notice Ends the validity of the device's current key at this block
    /// (key compromised or device decommissioned). Verifiers accept a reading
    /// signed with a revoked key only if it was anchored before revocation.
    /// registerDevice may then give the device a new key.
    function revokeDevice(bytes32 deviceIdHash) external onlyRole(Role.Registrar) {
        _endLast(deviceIdHash, _deviceKeys[deviceIdHash], false);
    }

    /// @notice The device's latest key (valid iff revokedAt == 0 and exists).
    function getDevice(bytes32 deviceIdHash)
        external
        view
        returns (bytes32 publicKey, uint64 registeredAt, uint64 revokedAt, bool exists)
    {
        DeviceKey[] storage keys = _deviceKeys[deviceIdHash];
        uint256 n = keys.length;
        if (n == 0) return (bytes32(0), 0, 0, false);
        DeviceKey storage k = keys[n - 1];
        return (k.publicKey, k.registeredAt, k.revokedAt, true);
    }

    /// @notice Number of keys the device has had (0 if never registered).
    function deviceKeyCount(bytes32 deviceIdHash) external view returns (uint256) {
        return _deviceKeys[deviceIdHash].length;
    }

    /// @notice One entry of the device's key history, oldest first. The key was
    /// valid from registeredAt (block registeredBlock) until revokedAt (block
    /// revokedBlock), or is still valid if revokedBlock == 0; rotated tells a
    /// key retired by rotateDeviceKey from one revoked by revokeDevice.
    function getDeviceKey(bytes32 deviceIdHash, uint256 index)
        external
        view
        returns (
            bytes32 publicKey,
            uint64 registeredAt,
            uint64 revokedAt,
            uint64 registeredBlock,
            uint64 revokedBlock,
            bool rotated
        )
    {
        DeviceKey[] storage keys = _deviceKeys[deviceIdHash];
        if (index >= keys.length) revert UnknownDeviceKey(deviceIdHash, index);
        DeviceKey storage k = keys[index];
        return (k.publicKey, k.registeredAt, k.revokedAt, k.registeredBlock, k.revokedBlock, k.rotated);
    }

    /// @notice The device a public key was registered for; zero if never registered.
    /// A key belongs to at most one device, forever.
    function deviceOfKey(bytes32 publicKey) external view returns (bytes32) {
        return _keyDevice[publicKey];
    }

    function _addKey(bytes32 deviceIdHash, DeviceKey[] storage keys, bytes32 publicKey) private {
        if (publicKey == bytes32(0)) revert ZeroKey();
        bytes32 owner = _keyDevice[publicKey];
        if (owner != bytes32(0)) revert KeyAlreadyUsed(publicKey, owner);
        _keyDevice[publicKey] = deviceIdHash;
        keys.push(
            DeviceKey({
                publicKey: publicKey,
                registeredAt: uint64(block.timestamp),
                revokedAt: 0,
                registeredBlock: uint56(block.number),
                revokedBlock: 0,
                rotated: false
            })
        );
        emit DeviceRegistered(deviceIdHash, publicKey, uint32(keys.length - 1), msg.sender);
    }

    function _endLast(bytes32 deviceIdHash, DeviceKey[] storage keys, bool rotated) private {
        uint256 n = keys.length;
        if (n == 0) revert UnknownDevice(deviceIdHash);
        DeviceKey storage k = keys[n - 1];
        if (k.revokedBlock != 0) revert DeviceNotActive(deviceIdHash);
        k.revokedAt = uint64(block.timestamp);
        k.revokedBlock = uint56(block.number);
        k.rotated = rotated;
        emit DeviceRevoked(deviceIdHash, k.publicKey, uint32(n - 1), rotated, msg.sender);
    }

    // ------------------------------------------------------------------ roles

    function isAdmin(address account) external view returns (bool) {
        return _hasRole(account, Role.Admin);
    }

    function isSubmitter(address account) external view returns (bool) {
        return _hasRole(account, Role.Submitter);
    }

    function isRegistrar(address account) external view returns (bool) {
        return _hasRole(account, Role.Registrar);
    }

    /// @notice Approvals a proposal needs to execute.
    function threshold() external view returns (uint32) {
        return _threshold;
    }

    function adminCount() external view returns (uint32) {
        return _adminCount;
    }

    /// @notice Incremented whenever the admin set or the threshold changes; a
    /// proposal created in an earlier epoch can no longer be approved.
    function adminEpoch() external view returns (uint64) {
        return _adminEpoch;
    }

    function _hasRole(address account, Role role) private view returns (bool) {
        return _roles[account] & (uint8(1) << uint8(role)) != 0;
    }

    function _grant(Role role, address account) private {
        if (account == address(0)) revert ZeroAddress();
        if (_hasRole(account, role)) revert RoleAlreadyGranted(role, account);
        _roles[account] |= uint8(1) << uint8(role);
        if (role == Role.Admin) _adminCount++;
        emit RoleGranted(role, account);
    }

    function _revoke(Role role, address account) private {
        if (!_hasRole(account, role)) revert RoleNotGranted(role, account);
        _roles[account] &= ~(uint8(1) << uint8(role));
        if (role == Role.Admin) _adminCount--;
        emit RoleRevoked(role, account);
    }

    // -------------------------------------------------------------- proposals

    /// @notice Proposes an admin action and approves it as the proposer. It
    /// executes at once if the threshold is 1.
    /// @param target the account for role actions; zero for SetThreshold.
    /// @param value the new threshold for SetThreshold; zero otherwise.
    function propose(Action action, address target, uint32 value)
        external
        onlyRole(Role.Admin)
        returns (uint256 id)
    {
        _validate(action, target, value);
        id = ++_proposalCount;
        Proposal storage p = _proposals[id];
        p.target = target;
        p.action = action;
        p.value = value;
        p.proposer = msg.sender;
        p.adminEpoch = _adminEpoch;
        emit ProposalCreated(id, action, target, value, msg.sender);
        _approve(id, p);
    }

    /// @notice Approves a proposal; the approval that reaches the threshold executes it.
    function approve(uint256 id) external onlyRole(Role.Admin) {
        Proposal storage p = _proposals[id];
        if (p.proposer == address(0)) revert UnknownProposal(id);
        _approve(id, p);
    }

    function getProposal(uint256 id)
        external
        view
        returns (
            Action action,
            address target,
            uint32 value,
            address proposer,
            uint32 approvals,
            uint64 epoch,
            bool executed
        )
    {
        Proposal storage p = _proposals[id];
        if (p.proposer == address(0)) revert UnknownProposal(id);
        return (p.action, p.target, p.value, p.proposer, p.approvals, p.adminEpoch, p.executed);
    }

    function hasApproved(uint256 id, address admin) external view returns (bool) {
        return _approvedBy[id][admin];
    }

    /// @notice Number of proposals created so far; ids run from 1 to proposalCount.
    function proposalCount() external view returns (uint64) {
        return _proposalCount;
    }

    function _approve(uint256 id, Proposal storage p) private {
        if (p.executed) revert ProposalAlreadyExecuted(id);
        if (p.adminEpoch != _adminEpoch) revert ProposalStale(id, p.adminEpoch, _adminEpoch);
        if (_approvedBy[id][msg.sender]) revert AlreadyApproved(id, msg.sender);
        _approvedBy[id][msg.sender] = true;
        uint32 approvals = p.approvals + 1;
        p.approvals = approvals;
        emit ProposalApproved(id, msg.sender, approvals);
        if (approvals >= _threshold) _execute(id, p);
    }

    function _execute(uint256 id, Proposal storage p) private {
        Action action = p.action;
        address target = p.target;
        uint32 value = p.value;
        // State may have changed since the proposal was made.
        _validate(action, target, value);
        p.executed = true;
        if (action == Action.AddAdmin) {
            _grant(Role.Admin, target);
        } else if (action == Action.RemoveAdmin) {
            _revoke(Role.Admin, target);
        } else if (action == Action.SetThreshold) {
            emit ThresholdChanged(_threshold, value);
            _threshold = value;
        } else if (action == Action.AddSubmitter) {
            _grant(Role.Submitter, target);
        } else if (action == Action.RemoveSubmitter) {
            _revoke(Role.Submitter, target);
        } else if (action == Action.AddRegistrar) {
            _grant(Role.Registrar, target);
        } else {
            _revoke(Role.Registrar, target);
        }
        if (action == Action.AddAdmin || action == Action.RemoveAdmin || action == Action.SetThreshold) {
            _adminEpoch++;
        }
        emit ProposalExecuted(id);
    }

    function _validate(Action action, address target, uint32 value) private view {
        if (action == Action.SetThreshold) {
            if (target != address(0)) revert InvalidProposal();
            if (value == 0 || value > _adminCount) revert InvalidThreshold(value, _adminCount);
            return;
        }
        if (value != 0) revert InvalidProposal();
        if (target == address(0)) revert ZeroAddress();
        if (action == Action.AddAdmin) {
            if (_hasRole(target, Role.Admin)) revert RoleAlreadyGranted(Role.Admin, target);
        } else if (action == Action.RemoveAdmin) {
            if (!_hasRole(target, Role.Admin)) revert RoleNotGranted(Role.Admin, target);
            // Removing an admin must leave enough admins to reach the threshold.
            if (_adminCount - 1 < _threshold) revert InvalidThreshold(_threshold, _adminCount - 1);
        } else if (action == Action.AddSubmitter) {
            if (_hasRole(target, Role.Submitter)) revert RoleAlreadyGranted(Role.Submitter, target);
        } else if (action == Action.RemoveSubmitter) {
            if (!_hasRole(target, Role.Submitter)) revert RoleNotGranted(Role.Submitter, target);
        } else if (action == Action.AddRegistrar) {
            if (_hasRole(target, Role.Registrar)) revert RoleAlreadyGranted(Role.Registrar, target);
        } else {
            if (!_hasRole(target, Role.Registrar)) revert RoleNotGranted(Role.Registrar, target);
        }
    }
}
