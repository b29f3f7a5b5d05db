package sunproofanchor

import (
	"fmt"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
)

// Role values, as the contract's Role enum (ABI type uint8).
const (
	RoleAdmin uint8 = iota
	RoleSubmitter
	RoleRegistrar
)

// Action values for propose, as the contract's Action enum (ABI type uint8).
const (
	ActionAddAdmin uint8 = iota
	ActionRemoveAdmin
	ActionSetThreshold
	ActionAddSubmitter
	ActionRemoveSubmitter
	ActionAddRegistrar
	ActionRemoveRegistrar
)

// DeviceIDHash returns keccak256 of the UTF-8 bytes of deviceID: the key under
// which registerDevice, revokeDevice and getDevice store a device.
func DeviceIDHash(deviceID string) common.Hash {
	return crypto.Keccak256Hash([]byte(deviceID))
}

// DecodeRevert returns the contract's custom error carried by err, for example a
// *SunproofAnchorIntervalAlreadyAnchored, and true. It returns false when err
// carries no revert data (geth reports it from eth_call and eth_estimateGas, so
// also from bind.Transact with no fixed gas limit) or the data is not one of the
// contract's errors.
func (c *SunproofAnchor) DecodeRevert(err error) (any, bool) {
	data, ok := ethclient.RevertErrorData(err)
	if !ok || len(data) < 4 { // UnpackError indexes data[:4] unchecked
		return nil, false
	}
	v, uerr := c.UnpackError(data)
	if uerr != nil {
		return nil, false
	}
	return v, true
}

// Deploy sends the creation transaction of the contract (abigen --v2 generates
// no deploy function). It returns the address the contract will have and the
// transaction; the caller waits for it to be mined (bind.WaitDeployed). The
// constructor reverts, and so gas estimation fails, unless 1 <= threshold <=
// len(admins) and no list holds the zero address or a duplicate.
func Deploy(opts *bind.TransactOpts, backend bind.ContractBackend, admins []common.Address, threshold uint32, submitters, registrars []common.Address) (common.Address, *types.Transaction, error) {
	c := NewSunproofAnchor()
	input, err := c.abi.Pack("", admins, threshold, submitters, registrars)
	if err != nil {
		return common.Address{}, nil, fmt.Errorf("pack constructor: %w", err)
	}
	return bind.DeployContract(opts, common.FromHex(SunproofAnchorMetaData.Bin), backend, input)
}
