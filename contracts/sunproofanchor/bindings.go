// Code generated via abigen V2 - DO NOT EDIT.
// This file is a generated binding and any manual changes will be lost.

package sunproofanchor

import (
	"bytes"
	"errors"
	"math/big"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// Reference imports to suppress errors if they are not otherwise used.
var (
	_ = bytes.Equal
	_ = errors.New
	_ = big.NewInt
	_ = common.Big1
	_ = types.BloomLookup
	_ = abi.ConvertType
)

// SunproofAnchorMetaData contains all meta data concerning the SunproofAnchor contract.
var SunproofAnchorMetaData = bind.MetaData{
	ABI: "[{\"inputs\":[{\"internalType\":\"address[]\",\"name\":\"initialAdmins\",\"type\":\"address[]\"},{\"internalType\":\"uint32\",\"name\":\"initialThreshold\",\"type\":\"uint32\"},{\"internalType\":\"address[]\",\"name\":\"initialSubmitters\",\"type\":\"address[]\"},{\"internalType\":\"address[]\",\"name\":\"initialRegistrars\",\"type\":\"address[]\"}],\"stateMutability\":\"nonpayable\",\"type\":\"constructor\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"id\",\"type\":\"uint256\"},{\"internalType\":\"address\",\"name\":\"admin\",\"type\":\"address\"}],\"name\":\"AlreadyApproved\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"deviceIdHash\",\"type\":\"bytes32\"}],\"name\":\"DeviceAlreadyActive\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"deviceIdHash\",\"type\":\"bytes32\"}],\"name\":\"DeviceNotActive\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"intervalStart\",\"type\":\"uint64\"},{\"internalType\":\"bytes32\",\"name\":\"existingRoot\",\"type\":\"bytes32\"}],\"name\":\"IntervalAlreadyAnchored\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"intervalStart\",\"type\":\"uint64\"},{\"internalType\":\"uint64\",\"name\":\"intervalEnd\",\"type\":\"uint64\"}],\"name\":\"InvalidInterval\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"InvalidProposal\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"threshold\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"adminCount\",\"type\":\"uint256\"}],\"name\":\"InvalidThreshold\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"publicKey\",\"type\":\"bytes32\"},{\"internalType\":\"bytes32\",\"name\":\"deviceIdHash\",\"type\":\"bytes32\"}],\"name\":\"KeyAlreadyUsed\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"id\",\"type\":\"uint256\"}],\"name\":\"ProposalAlreadyExecuted\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"id\",\"type\":\"uint256\"},{\"internalType\":\"uint64\",\"name\":\"proposalEpoch\",\"type\":\"uint64\"},{\"internalType\":\"uint64\",\"name\":\"currentEpoch\",\"type\":\"uint64\"}],\"name\":\"ProposalStale\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"enumSunproofAnchor.Role\",\"name\":\"role\",\"type\":\"uint8\"},{\"internalType\":\"address\",\"name\":\"account\",\"type\":\"address\"}],\"name\":\"RoleAlreadyGranted\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"enumSunproofAnchor.Role\",\"name\":\"role\",\"type\":\"uint8\"},{\"internalType\":\"address\",\"name\":\"account\",\"type\":\"address\"}],\"name\":\"RoleNotGranted\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"enumSunproofAnchor.Role\",\"name\":\"required\",\"type\":\"uint8\"},{\"internalType\":\"address\",\"name\":\"caller\",\"type\":\"address\"}],\"name\":\"Unauthorized\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"deviceIdHash\",\"type\":\"bytes32\"}],\"name\":\"UnknownDevice\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"deviceIdHash\",\"type\":\"bytes32\"},{\"internalType\":\"uint256\",\"name\":\"index\",\"type\":\"uint256\"}],\"name\":\"UnknownDeviceKey\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"id\",\"type\":\"uint256\"}],\"name\":\"UnknownProposal\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"ZeroAddress\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"ZeroBatchSize\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"ZeroDeviceId\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"ZeroKey\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"ZeroRoot\",\"type\":\"error\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"uint64\",\"name\":\"intervalStart\",\"type\":\"uint64\"},{\"indexed\":false,\"internalType\":\"uint64\",\"name\":\"intervalEnd\",\"type\":\"uint64\"},{\"indexed\":false,\"internalType\":\"bytes32\",\"name\":\"batchRoot\",\"type\":\"bytes32\"},{\"indexed\":false,\"internalType\":\"uint64\",\"name\":\"batchSize\",\"type\":\"uint64\"},{\"indexed\":false,\"internalType\":\"uint8\",\"name\":\"scheme\",\"type\":\"uint8\"},{\"indexed\":false,\"internalType\":\"address\",\"name\":\"submitter\",\"type\":\"address\"}],\"name\":\"Anchored\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"bytes32\",\"name\":\"deviceIdHash\",\"type\":\"bytes32\"},{\"indexed\":false,\"internalType\":\"bytes32\",\"name\":\"publicKey\",\"type\":\"bytes32\"},{\"indexed\":false,\"internalType\":\"uint32\",\"name\":\"keyIndex\",\"type\":\"uint32\"},{\"indexed\":false,\"internalType\":\"address\",\"name\":\"registrar\",\"type\":\"address\"}],\"name\":\"DeviceRegistered\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"bytes32\",\"name\":\"deviceIdHash\",\"type\":\"bytes32\"},{\"indexed\":false,\"internalType\":\"bytes32\",\"name\":\"publicKey\",\"type\":\"bytes32\"},{\"indexed\":false,\"internalType\":\"uint32\",\"name\":\"keyIndex\",\"type\":\"uint32\"},{\"indexed\":false,\"internalType\":\"bool\",\"name\":\"rotated\",\"type\":\"bool\"},{\"indexed\":false,\"internalType\":\"address\",\"name\":\"registrar\",\"type\":\"address\"}],\"name\":\"DeviceRevoked\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"uint256\",\"name\":\"id\",\"type\":\"uint256\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"admin\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint32\",\"name\":\"approvals\",\"type\":\"uint32\"}],\"name\":\"ProposalApproved\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"uint256\",\"name\":\"id\",\"type\":\"uint256\"},{\"indexed\":false,\"internalType\":\"enumSunproofAnchor.Action\",\"name\":\"action\",\"type\":\"uint8\"},{\"indexed\":false,\"internalType\":\"address\",\"name\":\"target\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint32\",\"name\":\"value\",\"type\":\"uint32\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"proposer\",\"type\":\"address\"}],\"name\":\"ProposalCreated\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"uint256\",\"name\":\"id\",\"type\":\"uint256\"}],\"name\":\"ProposalExecuted\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"enumSunproofAnchor.Role\",\"name\":\"role\",\"type\":\"uint8\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"account\",\"type\":\"address\"}],\"name\":\"RoleGranted\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"enumSunproofAnchor.Role\",\"name\":\"role\",\"type\":\"uint8\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"account\",\"type\":\"address\"}],\"name\":\"RoleRevoked\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":false,\"internalType\":\"uint32\",\"name\":\"oldThreshold\",\"type\":\"uint32\"},{\"indexed\":false,\"internalType\":\"uint32\",\"name\":\"newThreshold\",\"type\":\"uint32\"}],\"name\":\"ThresholdChanged\",\"type\":\"event\"},{\"inputs\":[],\"name\":\"adminCount\",\"outputs\":[{\"internalType\":\"uint32\",\"name\":\"\",\"type\":\"uint32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"adminEpoch\",\"outputs\":[{\"internalType\":\"uint64\",\"name\":\"\",\"type\":\"uint64\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"intervalStart\",\"type\":\"uint64\"},{\"internalType\":\"uint64\",\"name\":\"intervalEnd\",\"type\":\"uint64\"},{\"internalType\":\"bytes32\",\"name\":\"batchRoot\",\"type\":\"bytes32\"},{\"internalType\":\"uint64\",\"name\":\"batchSize\",\"type\":\"uint64\"},{\"internalType\":\"uint8\",\"name\":\"scheme\",\"type\":\"uint8\"}],\"name\":\"anchor\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"anchorCount\",\"outputs\":[{\"internalType\":\"uint64\",\"name\":\"\",\"type\":\"uint64\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"id\",\"type\":\"uint256\"}],\"name\":\"approve\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"deviceIdHash\",\"type\":\"bytes32\"}],\"name\":\"deviceKeyCount\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"publicKey\",\"type\":\"bytes32\"}],\"name\":\"deviceOfKey\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"intervalStart\",\"type\":\"uint64\"}],\"name\":\"getAnchor\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"batchRoot\",\"type\":\"bytes32\"},{\"internalType\":\"uint64\",\"name\":\"intervalEnd\",\"type\":\"uint64\"},{\"internalType\":\"uint64\",\"name\":\"batchSize\",\"type\":\"uint64\"},{\"internalType\":\"uint8\",\"name\":\"scheme\",\"type\":\"uint8\"},{\"internalType\":\"address\",\"name\":\"submitter\",\"type\":\"address\"},{\"internalType\":\"uint64\",\"name\":\"blockNumber\",\"type\":\"uint64\"},{\"internalType\":\"uint64\",\"name\":\"timestamp\",\"type\":\"uint64\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"deviceIdHash\",\"type\":\"bytes32\"}],\"name\":\"getDevice\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"publicKey\",\"type\":\"bytes32\"},{\"internalType\":\"uint64\",\"name\":\"registeredAt\",\"type\":\"uint64\"},{\"internalType\":\"uint64\",\"name\":\"revokedAt\",\"type\":\"uint64\"},{\"internalType\":\"bool\",\"name\":\"exists\",\"type\":\"bool\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"deviceIdHash\",\"type\":\"bytes32\"},{\"internalType\":\"uint256\",\"name\":\"index\",\"type\":\"uint256\"}],\"name\":\"getDeviceKey\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"publicKey\",\"type\":\"bytes32\"},{\"internalType\":\"uint64\",\"name\":\"registeredAt\",\"type\":\"uint64\"},{\"internalType\":\"uint64\",\"name\":\"revokedAt\",\"type\":\"uint64\"},{\"internalType\":\"uint64\",\"name\":\"registeredBlock\",\"type\":\"uint64\"},{\"internalType\":\"uint64\",\"name\":\"revokedBlock\",\"type\":\"uint64\"},{\"internalType\":\"bool\",\"name\":\"rotated\",\"type\":\"bool\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"id\",\"type\":\"uint256\"}],\"name\":\"getProposal\",\"outputs\":[{\"internalType\":\"enumSunproofAnchor.Action\",\"name\":\"action\",\"type\":\"uint8\"},{\"internalType\":\"address\",\"name\":\"target\",\"type\":\"address\"},{\"internalType\":\"uint32\",\"name\":\"value\",\"type\":\"uint32\"},{\"internalType\":\"address\",\"name\":\"proposer\",\"type\":\"address\"},{\"internalType\":\"uint32\",\"name\":\"approvals\",\"type\":\"uint32\"},{\"internalType\":\"uint64\",\"name\":\"epoch\",\"type\":\"uint64\"},{\"internalType\":\"bool\",\"name\":\"executed\",\"type\":\"bool\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"id\",\"type\":\"uint256\"},{\"internalType\":\"address\",\"name\":\"admin\",\"type\":\"address\"}],\"name\":\"hasApproved\",\"outputs\":[{\"internalType\":\"bool\",\"name\":\"\",\"type\":\"bool\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"account\",\"type\":\"address\"}],\"name\":\"isAdmin\",\"outputs\":[{\"internalType\":\"bool\",\"name\":\"\",\"type\":\"bool\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"intervalStart\",\"type\":\"uint64\"}],\"name\":\"isAnchored\",\"outputs\":[{\"internalType\":\"bool\",\"name\":\"\",\"type\":\"bool\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"account\",\"type\":\"address\"}],\"name\":\"isRegistrar\",\"outputs\":[{\"internalType\":\"bool\",\"name\":\"\",\"type\":\"bool\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"account\",\"type\":\"address\"}],\"name\":\"isSubmitter\",\"outputs\":[{\"internalType\":\"bool\",\"name\":\"\",\"type\":\"bool\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"proposalCount\",\"outputs\":[{\"internalType\":\"uint64\",\"name\":\"\",\"type\":\"uint64\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"enumSunproofAnchor.Action\",\"name\":\"action\",\"type\":\"uint8\"},{\"internalType\":\"address\",\"name\":\"target\",\"type\":\"address\"},{\"internalType\":\"uint32\",\"name\":\"value\",\"type\":\"uint32\"}],\"name\":\"propose\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"id\",\"type\":\"uint256\"}],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"deviceIdHash\",\"type\":\"bytes32\"},{\"internalType\":\"bytes32\",\"name\":\"publicKey\",\"type\":\"bytes32\"}],\"name\":\"registerDevice\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"deviceIdHash\",\"type\":\"bytes32\"}],\"name\":\"revokeDevice\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"deviceIdHash\",\"type\":\"bytes32\"},{\"internalType\":\"bytes32\",\"name\":\"newPublicKey\",\"type\":\"bytes32\"}],\"name\":\"rotateDeviceKey\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"threshold\",\"outputs\":[{\"internalType\":\"uint32\",\"name\":\"\",\"type\":\"uint32\"}],\"stateMutability\":\"view\",\"type\":\"function\"}]",
	ID:  "SunproofAnchor",
	Bin: "0x608060405234801561001057600080fd5b506040516121f43803806121f483398101604081905261002f916103f1565b60005b845181101561006d576100656000868381518110610052576100526104a1565b602002602001015161019b60201b60201c565b600101610032565b5063ffffffff83161580610094575060005463ffffffff6401000000009091048116908416115b156100d457600054604051637b7a98f160e01b815263ffffffff858116600483015264010000000090920490911660248201526044015b60405180910390fd5b6000805467ffffffff00000001600160801b03191663ffffffff8516908117680100000000000000001782556040805192835260208301919091527f21cf4def3b85dfb6f21b6287e67a0751c575598daae7045620c80f1de98751b9910160405180910390a160005b82518110156101655761015d6001848381518110610052576100526104a1565b60010161013d565b5060005b8151811015610191576101896002838381518110610052576100526104a1565b600101610169565b505050505061053a565b6001600160a01b0381166101c25760405163d92e233d60e01b815260040160405180910390fd5b6101cc81836102d4565b156101ee5781816040516321a1575b60e01b81526004016100cb9291906104cd565b816002811115610200576102006104b7565b6001600160a01b03821660009081526001602081905260408220805460ff19811660ff9182169582169390931b169390931717909155826002811115610248576102486104b7565b0361028b5760008054640100000000900463ffffffff1690600461026b83610507565b91906101000a81548163ffffffff021916908363ffffffff160217905550505b806001600160a01b03168260028111156102a7576102a76104b7565b6040517f9a69ba75c22f9c0c8256e1f75bb962acc88c191bbc782fa7db4d8dfcffa1726590600090a35050565b60008160028111156102e8576102e86104b7565b6001600160a01b03841660009081526001602081905260409091205460ff9283169190911b16161515905092915050565b634e487b7160e01b600052604160045260246000fd5b80516001600160a01b038116811461034657600080fd5b919050565b600082601f83011261035c57600080fd5b81516001600160401b0381111561037557610375610319565b604051600582901b90603f8201601f191681016001600160401b03811182821017156103a3576103a3610319565b6040529182526020818501810192908101868411156103c157600080fd5b6020860192505b838310156103e7576103d98361032f565b8152602092830192016103c8565b5095945050505050565b6000806000806080858703121561040757600080fd5b84516001600160401b0381111561041d57600080fd5b6104298782880161034b565b945050602085015163ffffffff8116811461044357600080fd5b60408601519093506001600160401b0381111561045f57600080fd5b61046b8782880161034b565b606087015190935090506001600160401b0381111561048957600080fd5b6104958782880161034b565b91505092959194509250565b634e487b7160e01b600052603260045260246000fd5b634e487b7160e01b600052602160045260246000fd5b60408101600384106104ef57634e487b7160e01b600052602160045260246000fd5b9281526001600160a01b039190911660209091015290565b600063ffffffff821663ffffffff810361053157634e487b7160e01b600052601160045260246000fd5b60010192915050565b611cab806105496000396000f3fe608060405234801561001057600080fd5b50600436106101425760003560e01c8063793ed61a116100b8578063c7f758a81161007c578063c7f758a814610404578063d5db72eb1461042a578063da35c6641461043d578063e24a3fa914610455578063f8ada5b314610468578063ff50fc881461047b57600080fd5b8063793ed61a146103585780638e02ecc7146103ab578063a926fdbc146103cb578063b6df0964146103de578063b759f954146103f157600080fd5b806334f96c8c1161010a57806334f96c8c1461028c578063364940d8146102b85780633cb74dc8146102d057806342cde4e8146102e55780636463e2d2146102f35780636a7f745e1461031357600080fd5b8063048207ae1461014757806313b9afb21461020f5780632358d5a81461023057806324d7806c146102535780632b7832b314610266575b600080fd5b6101bc610155366004611937565b6001600160401b039081166000908152600260208190526040909120805460018201549190920154919381841693600160401b8304811693600160a01b810460ff16936001600160a01b0390911692600160801b8204831692600160c01b90920490911690565b604080519788526001600160401b0396871660208901529486169487019490945260ff90921660608601526001600160a01b03166080850152821660a08401521660c082015260e0015b60405180910390f35b61022261021d366004611970565b6104b3565b604051908152602001610206565b61024361023e3660046119c6565b61064f565b6040519015158152602001610206565b6102436102613660046119f2565b61067c565b600054600160201b900463ffffffff165b60405163ffffffff9091168152602001610206565b600054600160801b90046001600160401b03165b6040516001600160401b039091168152602001610206565b600054600160401b90046001600160401b03166102a0565b6102e36102de366004611a0d565b610689565b005b60005463ffffffff16610277565b610222610301366004611a75565b60009081526003602052604090205490565b610326610321366004611a75565b6108b7565b60405161020694939291909384526001600160401b039283166020850152911660408301521515606082015260800190565b61036b610366366004611a8e565b610948565b604080519687526001600160401b0395861660208801529385169386019390935290831660608501529091166080830152151560a082015260c001610206565b6102226103b9366004611a75565b60009081526004602052604090205490565b6102436103d93660046119f2565b610a04565b6102e36103ec366004611a75565b610a11565b6102e36103ff366004611a75565b610a5c565b610417610412366004611a75565b610ad4565b6040516102069796959493929190611ada565b6102436104383660046119f2565b610b7e565b600054600160c01b90046001600160401b03166102a0565b6102e3610463366004611a8e565b610b8b565b6102e3610476366004611a8e565b610be3565b610243610489366004611937565b6001600160401b0316600090815260026020819052604090912001546001600160a01b0316151590565b6000806104c03382610cbd565b6104ea5780336040516308b0697360e31b81526004016104e1929190611b38565b60405180910390fd5b6104f5858585610d02565b6000805460189061051590600160c01b90046001600160401b0316611b7a565b82546001600160401b039182166101009390930a8381029202191617909155600081815260056020526040902080546001600160a01b0387166001600160a01b03198216811783559294509091879183916001600160a81b031990911617600160a01b83600681111561058a5761058a611ab0565b0217905550805463ffffffff60a81b1916600160a81b63ffffffff861602178155600181018054336001600160a01b03198216811783556000546001600160e01b031990921667ffffffffffffffff60a01b19821617600160401b9092046001600160401b0316600160a01b029190911790915560405184907fbd2dc2daf4fcbabad9a6596445634883912e333f2f613ef9034ba855704ac6f390610634908a908a908a90611ba5565b60405180910390a36106468382610ff1565b50509392505050565b60008281526006602090815260408083206001600160a01b038516845290915290205460ff165b92915050565b6000610676826000610cbd565b60016106953382610cbd565b6106b65780336040516308b0697360e31b81526004016104e1929190611b38565b856001600160401b0316856001600160401b0316116106fb576040516357e2bcf960e01b81526001600160401b038088166004830152861660248201526044016104e1565b826001600160401b03166000036107255760405163277e914d60e11b815260040160405180910390fd5b836107435760405163b263ae7360e01b815260040160405180910390fd5b6001600160401b0386166000908152600260208190526040909120908101546001600160a01b03161561079d578054604051628339fd60e41b81526001600160401b038916600482015260248101919091526044016104e1565b848155600180820180546001600160401b038981166001600160801b03199092168217600160401b898316908102919091176fffffffffffffffffffffffffffffffff16600160801b43841681026001600160c01b031691909117600160c01b42851602179094556002860180546001600160a81b0319163360ff60a01b19811691909117600160a01b60ff8c16908102919091179092556000805467ffffffffffffffff60801b19811690889004861690980185169096029690961790945560408051938452602084018b9052830152606082019290925260808101929092528816907f16c9fec5a0c37eb7f8e75d1300c3d6d9d24e5e1ddb6450ed110a2d5f9e968eb59060a00160405180910390a250505050505050565b60008181526003602052604081208054829182918291908083036108ea5750600094508493508392508291506109419050565b6000826108f8600184611bd8565b8154811061090857610908611beb565b6000918252602090912060029091020180546001918201549098506001600160401b038082169850600160401b90910416955093505050505b9193509193565b600082815260036020526040812080548291829182918291829190881061098c57604051630bd9259b60e31b8152600481018a9052602481018990526044016104e1565b60008189815481106109a0576109a0611beb565b600091825260209091206002909102018054600190910154909b6001600160401b038083169c50600160401b8304169a50600160801b820466ffffffffffffff9081169a50600160b81b8304169850600160f01b90910460ff169650945050505050565b6000610676826001610cbd565b6002610a1d3382610cbd565b610a3e5780336040516308b0697360e31b81526004016104e1929190611b38565b6000828152600360205260408120610a589184919061118d565b5050565b6000610a683382610cbd565b610a895780336040516308b0697360e31b81526004016104e1929190611b38565b600082815260056020526040902060018101546001600160a01b0316610ac55760405163147067ad60e11b8152600481018490526024016104e1565b610acf8382610ff1565b505050565b600081815260056020526040812060018101548291829182918291829182916001600160a01b0316610b1c5760405163147067ad60e11b8152600481018a90526024016104e1565b8054600190910154600160a01b80830460ff9081169c6001600160a01b038086169d50600160a81b860463ffffffff9081169d509085169b50600160c81b8604169950919092046001600160401b03169650600160e81b909204169350915050565b6000610676826002610cbd565b6002610b973382610cbd565b610bb85780336040516308b0697360e31b81526004016104e1929190611b38565b6000838152600360205260409020610bd28482600161118d565b610bdd8482856112ea565b50505050565b6002610bef3382610cbd565b610c105780336040516308b0697360e31b81526004016104e1929190611b38565b82610c2e5760405163f5ec302360e01b815260040160405180910390fd5b600083815260036020526040902080548015801590610c8a575081610c54600183611bd8565b81548110610c6457610c64611beb565b6000918252602090912060029091020160010154600160b81b900466ffffffffffffff16155b15610cab57604051635ea4265160e11b8152600481018690526024016104e1565b610cb68583866112ea565b5050505050565b6000816002811115610cd157610cd1611ab0565b6001600160a01b03841660009081526001602081905260409091205460ff9283169190911b16161515905092915050565b6002836006811115610d1657610d16611ab0565b03610da2576001600160a01b03821615610d4357604051631dc0650160e31b815260040160405180910390fd5b63ffffffff81161580610d68575060005463ffffffff600160201b9091048116908216115b15610acf57600054604051637b7a98f160e01b815263ffffffff8381166004830152600160201b90920490911660248201526044016104e1565b63ffffffff811615610dc757604051631dc0650160e31b815260040160405180910390fd5b6001600160a01b038216610dee5760405163d92e233d60e01b815260040160405180910390fd5b6000836006811115610e0257610e02611ab0565b03610e3557610e12826000610cbd565b15610acf576000826040516321a1575b60e01b81526004016104e1929190611b38565b6001836006811115610e4957610e49611ab0565b03610ef057610e59826000610cbd565b610e7b5760008260405163571bd0b360e01b81526004016104e1929190611b38565b60005463ffffffff80821691610e9b91600191600160201b900416611c01565b63ffffffff161015610acf5760005463ffffffff80821691610ec791600191600160201b900416611c01565b604051637b7a98f160e01b815263ffffffff9283166004820152911660248201526044016104e1565b6003836006811115610f0457610f04611ab0565b03610f3757610f14826001610cbd565b15610acf576001826040516321a1575b60e01b81526004016104e1929190611b38565b6004836006811115610f4b57610f4b611ab0565b03610f7d57610f5b826001610cbd565b610acf5760018260405163571bd0b360e01b81526004016104e1929190611b38565b6005836006811115610f9157610f91611ab0565b03610fc457610fa1826002610cbd565b15610acf576002826040516321a1575b60e01b81526004016104e1929190611b38565b610fcf826002610cbd565b610acf5760028260405163571bd0b360e01b81526004016104e1929190611b38565b8054600160e81b900460ff161561101e57604051632776407360e11b8152600481018390526024016104e1565b6000546001820154600160a01b90046001600160401b03908116600160401b909204161461109057600181015460005460405163bdac0feb60e01b815260048101859052600160a01b9092046001600160401b039081166024840152600160401b9091041660448201526064016104e1565b600082815260066020908152604080832033845290915290205460ff16156110d3576040516294775b60e41b8152600481018390523360248201526044016104e1565b600082815260066020908152604080832033845290915281208054600160ff199091168117909155825461111591600160c81b90910463ffffffff1690611c1d565b825463ffffffff60c81b1916600160c81b63ffffffff8316908102919091178455604051908152909150339084907f49107ca92c43775debe465ebf104720416ce13b78e0ddf9a6f28560f60eaba079060200160405180910390a360005463ffffffff90811690821610610acf57610acf8383611490565b815460008190036111b457604051637179a8d960e11b8152600481018590526024016104e1565b6000836111c2600184611bd8565b815481106111d2576111d2611beb565b600091825260209091206002909102016001810154909150600160b81b900466ffffffffffffff161561121b5760405163159c717560e11b8152600481018690526024016104e1565b600181810180547fffff00000000000000ffffffffffffff0000000000000000ffffffffffffffff16600160401b426001600160401b03160266ffffffffffffff60b81b191617600160b81b4366ffffffffffffff16021760ff60f01b1916600160f01b86151502179055815486917f63f0f8096dc617ed9cf0b852c69d6a746f108012013052b6c2bede4c8bf90b5491906112b79086611bd8565b6040805192835263ffffffff90911660208301528615159082015233606082015260800160405180910390a25050505050565b8061130857604051637dec24e360e11b815260040160405180910390fd5b6000818152600460205260409020548015611340576040516327f7b29b60e11b815260048101839052602481018290526044016104e1565b6000828152600460209081526040808320879055805160c0810182528581526001600160401b0342811682850190815292820185815266ffffffffffffff438116606085019081526080850188815260a086018981528c5460018181018f558e8c5299909a2096516002909a029096019889559551978701805493519151965195511515600160f01b0260ff60f01b19968416600160b81b0266ffffffffffffff60b81b1998909416600160801b02979097166dffffffffffffffffffffffffffff60801b19928616600160401b026001600160801b03199095169990951698909817929092179190911691909117171617909155835485917f126d5bd96a6952dc1cea080fcfa8bbd795c4de213d143ea7841b20ba335fd15991859161146691611bd8565b6040805192835263ffffffff9091166020830152339082015260600160405180910390a250505050565b8054600160a01b810460ff16906001600160a01b03811690600160a81b900463ffffffff166114c0838383610d02565b835460ff60e81b1916600160e81b17845560008360068111156114e5576114e5611ab0565b036114fa576114f56000836116d6565b61160c565b600183600681111561150e5761150e611ab0565b0361151e576114f560008361180e565b600283600681111561153257611532611ab0565b03611595576000546040805163ffffffff928316815291831660208301527f21cf4def3b85dfb6f21b6287e67a0751c575598daae7045620c80f1de98751b9910160405180910390a16000805463ffffffff191663ffffffff831617905561160c565b60038360068111156115a9576115a9611ab0565b036115b9576114f56001836116d6565b60048360068111156115cd576115cd611ab0565b036115dd576114f560018361180e565b60058360068111156115f1576115f1611ab0565b03611601576114f56002836116d6565b61160c60028361180e565b600083600681111561162057611620611ab0565b148061163d5750600183600681111561163b5761163b611ab0565b145b806116595750600283600681111561165757611657611ab0565b145b156116a45760008054600160401b90046001600160401b031690600861167e83611b7a565b91906101000a8154816001600160401b0302191690836001600160401b03160217905550505b60405185907f712ae1383f79ac853f8d882153778e0260ef8f03b504e2866e0593e04d2b291f90600090a25050505050565b6001600160a01b0381166116fd5760405163d92e233d60e01b815260040160405180910390fd5b6117078183610cbd565b156117295781816040516321a1575b60e01b81526004016104e1929190611b38565b81600281111561173b5761173b611ab0565b6001600160a01b03821660009081526001602081905260408220805460ff19811660ff9182169582169390931b16939093171790915582600281111561178357611783611ab0565b036117c55760008054600160201b900463ffffffff169060046117a583611c39565b91906101000a81548163ffffffff021916908363ffffffff160217905550505b806001600160a01b03168260028111156117e1576117e1611ab0565b6040517f9a69ba75c22f9c0c8256e1f75bb962acc88c191bbc782fa7db4d8dfcffa1726590600090a35050565b6118188183610cbd565b61183957818160405163571bd0b360e01b81526004016104e1929190611b38565b81600281111561184b5761184b611ab0565b6001600160a01b03821660009081526001602081905260408220805460ff19811660ff9586169390931b19169093161790915582600281111561189057611890611ab0565b036118d25760008054600160201b900463ffffffff169060046118b283611c55565b91906101000a81548163ffffffff021916908363ffffffff160217905550505b806001600160a01b03168260028111156118ee576118ee611ab0565b6040517f18a760412955aafa26fc6e39ada056e7399094e2dcdbe9d298ce926c60c00a0390600090a35050565b80356001600160401b038116811461193257600080fd5b919050565b60006020828403121561194957600080fd5b6119528261191b565b9392505050565b80356001600160a01b038116811461193257600080fd5b60008060006060848603121561198557600080fd5b83356007811061199457600080fd5b92506119a260208501611959565b9150604084013563ffffffff811681146119bb57600080fd5b809150509250925092565b600080604083850312156119d957600080fd5b823591506119e960208401611959565b90509250929050565b600060208284031215611a0457600080fd5b61195282611959565b600080600080600060a08688031215611a2557600080fd5b611a2e8661191b565b9450611a3c6020870161191b565b935060408601359250611a516060870161191b565b9150608086013560ff81168114611a6757600080fd5b809150509295509295909350565b600060208284031215611a8757600080fd5b5035919050565b60008060408385031215611aa157600080fd5b50508035926020909101359150565b634e487b7160e01b600052602160045260246000fd5b60078110611ad657611ad6611ab0565b9052565b60e08101611ae8828a611ac6565b6001600160a01b03978816602083015263ffffffff96871660408301529490961660608701529190931660808501526001600160401b0390921660a084015290151560c090920191909152919050565b6040810160038410611b4c57611b4c611ab0565b9281526001600160a01b039190911660209091015290565b634e487b7160e01b600052601160045260246000fd5b60006001600160401b0382166001600160401b038103611b9c57611b9c611b64565b60010192915050565b60608101611bb38286611ac6565b6001600160a01b0393909316602082015263ffffffff91909116604090910152919050565b8181038181111561067657610676611b64565b634e487b7160e01b600052603260045260246000fd5b63ffffffff828116828216039081111561067657610676611b64565b63ffffffff818116838216019081111561067657610676611b64565b600063ffffffff821663ffffffff8103611b9c57611b9c611b64565b600063ffffffff821680611c6b57611c6b611b64565b600019019291505056fea2646970667358221220b376bb5cd4e125b302dfcb2dfcd076187693bea79a83a40cc284f4eb3e13688d64736f6c63430008250033",
}

// SunproofAnchor is an auto generated Go binding around an Ethereum contract.
type SunproofAnchor struct {
	abi abi.ABI
}

// GetABI returns the ABI associated with this contract binding.
func (c *SunproofAnchor) GetABI() abi.ABI {
	return c.abi
}

// NewSunproofAnchor creates a new instance of SunproofAnchor.
func NewSunproofAnchor() *SunproofAnchor {
	parsed, err := SunproofAnchorMetaData.ParseABI()
	if err != nil {
		panic(errors.New("invalid ABI: " + err.Error()))
	}
	return &SunproofAnchor{abi: *parsed}
}

// Instance creates a wrapper for a deployed contract instance at the given address.
// Use this to create the instance object passed to abigen v2 library functions Call, Transact, etc.
func (c *SunproofAnchor) Instance(backend bind.ContractBackend, addr common.Address) *bind.BoundContract {
	return bind.NewBoundContract(addr, c.abi, backend, backend, backend)
}

// PackConstructor is the Go binding used to pack the parameters required for
// contract deployment.
//
// Solidity: constructor(address[] initialAdmins, uint32 initialThreshold, address[] initialSubmitters, address[] initialRegistrars) returns()
func (sunproofAnchor *SunproofAnchor) PackConstructor(initialAdmins []common.Address, initialThreshold uint32, initialSubmitters []common.Address, initialRegistrars []common.Address) []byte {
	enc, err := sunproofAnchor.abi.Pack("", initialAdmins, initialThreshold, initialSubmitters, initialRegistrars)
	if err != nil {
		panic(err)
	}
	return enc
}

// PackAdminCount is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x2b7832b3.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function adminCount() view returns(uint32)
func (sunproofAnchor *SunproofAnchor) PackAdminCount() []byte {
	enc, err := sunproofAnchor.abi.Pack("adminCount")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackAdminCount is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x2b7832b3.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function adminCount() view returns(uint32)
func (sunproofAnchor *SunproofAnchor) TryPackAdminCount() ([]byte, error) {
	return sunproofAnchor.abi.Pack("adminCount")
}

// UnpackAdminCount is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x2b7832b3.
//
// Solidity: function adminCount() view returns(uint32)
func (sunproofAnchor *SunproofAnchor) UnpackAdminCount(data []byte) (uint32, error) {
	out, err := sunproofAnchor.abi.Unpack("adminCount", data)
	if err != nil {
		return *new(uint32), err
	}
	out0 := *abi.ConvertType(out[0], new(uint32)).(*uint32)
	return out0, nil
}

// PackAdminEpoch is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x364940d8.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function adminEpoch() view returns(uint64)
func (sunproofAnchor *SunproofAnchor) PackAdminEpoch() []byte {
	enc, err := sunproofAnchor.abi.Pack("adminEpoch")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackAdminEpoch is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x364940d8.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function adminEpoch() view returns(uint64)
func (sunproofAnchor *SunproofAnchor) TryPackAdminEpoch() ([]byte, error) {
	return sunproofAnchor.abi.Pack("adminEpoch")
}

// UnpackAdminEpoch is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x364940d8.
//
// Solidity: function adminEpoch() view returns(uint64)
func (sunproofAnchor *SunproofAnchor) UnpackAdminEpoch(data []byte) (uint64, error) {
	out, err := sunproofAnchor.abi.Unpack("adminEpoch", data)
	if err != nil {
		return *new(uint64), err
	}
	out0 := *abi.ConvertType(out[0], new(uint64)).(*uint64)
	return out0, nil
}

// PackAnchor is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x3cb74dc8.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function anchor(uint64 intervalStart, uint64 intervalEnd, bytes32 batchRoot, uint64 batchSize, uint8 scheme) returns()
func (sunproofAnchor *SunproofAnchor) PackAnchor(intervalStart uint64, intervalEnd uint64, batchRoot [32]byte, batchSize uint64, scheme uint8) []byte {
	enc, err := sunproofAnchor.abi.Pack("anchor", intervalStart, intervalEnd, batchRoot, batchSize, scheme)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackAnchor is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x3cb74dc8.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function anchor(uint64 intervalStart, uint64 intervalEnd, bytes32 batchRoot, uint64 batchSize, uint8 scheme) returns()
func (sunproofAnchor *SunproofAnchor) TryPackAnchor(intervalStart uint64, intervalEnd uint64, batchRoot [32]byte, batchSize uint64, scheme uint8) ([]byte, error) {
	return sunproofAnchor.abi.Pack("anchor", intervalStart, intervalEnd, batchRoot, batchSize, scheme)
}

// PackAnchorCount is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x34f96c8c.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function anchorCount() view returns(uint64)
func (sunproofAnchor *SunproofAnchor) PackAnchorCount() []byte {
	enc, err := sunproofAnchor.abi.Pack("anchorCount")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackAnchorCount is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x34f96c8c.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function anchorCount() view returns(uint64)
func (sunproofAnchor *SunproofAnchor) TryPackAnchorCount() ([]byte, error) {
	return sunproofAnchor.abi.Pack("anchorCount")
}

// UnpackAnchorCount is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x34f96c8c.
//
// Solidity: function anchorCount() view returns(uint64)
func (sunproofAnchor *SunproofAnchor) UnpackAnchorCount(data []byte) (uint64, error) {
	out, err := sunproofAnchor.abi.Unpack("anchorCount", data)
	if err != nil {
		return *new(uint64), err
	}
	out0 := *abi.ConvertType(out[0], new(uint64)).(*uint64)
	return out0, nil
}

// PackApprove is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xb759f954.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function approve(uint256 id) returns()
func (sunproofAnchor *SunproofAnchor) PackApprove(id *big.Int) []byte {
	enc, err := sunproofAnchor.abi.Pack("approve", id)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackApprove is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xb759f954.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function approve(uint256 id) returns()
func (sunproofAnchor *SunproofAnchor) TryPackApprove(id *big.Int) ([]byte, error) {
	return sunproofAnchor.abi.Pack("approve", id)
}

// PackDeviceKeyCount is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x6463e2d2.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function deviceKeyCount(bytes32 deviceIdHash) view returns(uint256)
func (sunproofAnchor *SunproofAnchor) PackDeviceKeyCount(deviceIdHash [32]byte) []byte {
	enc, err := sunproofAnchor.abi.Pack("deviceKeyCount", deviceIdHash)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackDeviceKeyCount is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x6463e2d2.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function deviceKeyCount(bytes32 deviceIdHash) view returns(uint256)
func (sunproofAnchor *SunproofAnchor) TryPackDeviceKeyCount(deviceIdHash [32]byte) ([]byte, error) {
	return sunproofAnchor.abi.Pack("deviceKeyCount", deviceIdHash)
}

// UnpackDeviceKeyCount is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x6463e2d2.
//
// Solidity: function deviceKeyCount(bytes32 deviceIdHash) view returns(uint256)
func (sunproofAnchor *SunproofAnchor) UnpackDeviceKeyCount(data []byte) (*big.Int, error) {
	out, err := sunproofAnchor.abi.Unpack("deviceKeyCount", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// PackDeviceOfKey is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x8e02ecc7.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function deviceOfKey(bytes32 publicKey) view returns(bytes32)
func (sunproofAnchor *SunproofAnchor) PackDeviceOfKey(publicKey [32]byte) []byte {
	enc, err := sunproofAnchor.abi.Pack("deviceOfKey", publicKey)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackDeviceOfKey is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x8e02ecc7.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function deviceOfKey(bytes32 publicKey) view returns(bytes32)
func (sunproofAnchor *SunproofAnchor) TryPackDeviceOfKey(publicKey [32]byte) ([]byte, error) {
	return sunproofAnchor.abi.Pack("deviceOfKey", publicKey)
}

// UnpackDeviceOfKey is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x8e02ecc7.
//
// Solidity: function deviceOfKey(bytes32 publicKey) view returns(bytes32)
func (sunproofAnchor *SunproofAnchor) UnpackDeviceOfKey(data []byte) ([32]byte, error) {
	out, err := sunproofAnchor.abi.Unpack("deviceOfKey", data)
	if err != nil {
		return *new([32]byte), err
	}
	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)
	return out0, nil
}

// PackGetAnchor is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x048207ae.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function getAnchor(uint64 intervalStart) view returns(bytes32 batchRoot, uint64 intervalEnd, uint64 batchSize, uint8 scheme, address submitter, uint64 blockNumber, uint64 timestamp)
func (sunproofAnchor *SunproofAnchor) PackGetAnchor(intervalStart uint64) []byte {
	enc, err := sunproofAnchor.abi.Pack("getAnchor", intervalStart)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackGetAnchor is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x048207ae.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function getAnchor(uint64 intervalStart) view returns(bytes32 batchRoot, uint64 intervalEnd, uint64 batchSize, uint8 scheme, address submitter, uint64 blockNumber, uint64 timestamp)
func (sunproofAnchor *SunproofAnchor) TryPackGetAnchor(intervalStart uint64) ([]byte, error) {
	return sunproofAnchor.abi.Pack("getAnchor", intervalStart)
}

// GetAnchorOutput serves as a container for the return parameters of contract
// method GetAnchor.
type GetAnchorOutput struct {
	BatchRoot   [32]byte
	IntervalEnd uint64
	BatchSize   uint64
	Scheme      uint8
	Submitter   common.Address
	BlockNumber uint64
	Timestamp   uint64
}

// UnpackGetAnchor is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x048207ae.
//
// Solidity: function getAnchor(uint64 intervalStart) view returns(bytes32 batchRoot, uint64 intervalEnd, uint64 batchSize, uint8 scheme, address submitter, uint64 blockNumber, uint64 timestamp)
func (sunproofAnchor *SunproofAnchor) UnpackGetAnchor(data []byte) (GetAnchorOutput, error) {
	out, err := sunproofAnchor.abi.Unpack("getAnchor", data)
	outstruct := new(GetAnchorOutput)
	if err != nil {
		return *outstruct, err
	}
	outstruct.BatchRoot = *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)
	outstruct.IntervalEnd = *abi.ConvertType(out[1], new(uint64)).(*uint64)
	outstruct.BatchSize = *abi.ConvertType(out[2], new(uint64)).(*uint64)
	outstruct.Scheme = *abi.ConvertType(out[3], new(uint8)).(*uint8)
	outstruct.Submitter = *abi.ConvertType(out[4], new(common.Address)).(*common.Address)
	outstruct.BlockNumber = *abi.ConvertType(out[5], new(uint64)).(*uint64)
	outstruct.Timestamp = *abi.ConvertType(out[6], new(uint64)).(*uint64)
	return *outstruct, nil
}

// PackGetDevice is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x6a7f745e.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function getDevice(bytes32 deviceIdHash) view returns(bytes32 publicKey, uint64 registeredAt, uint64 revokedAt, bool exists)
func (sunproofAnchor *SunproofAnchor) PackGetDevice(deviceIdHash [32]byte) []byte {
	enc, err := sunproofAnchor.abi.Pack("getDevice", deviceIdHash)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackGetDevice is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x6a7f745e.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function getDevice(bytes32 deviceIdHash) view returns(bytes32 publicKey, uint64 registeredAt, uint64 revokedAt, bool exists)
func (sunproofAnchor *SunproofAnchor) TryPackGetDevice(deviceIdHash [32]byte) ([]byte, error) {
	return sunproofAnchor.abi.Pack("getDevice", deviceIdHash)
}

// GetDeviceOutput serves as a container for the return parameters of contract
// method GetDevice.
type GetDeviceOutput struct {
	PublicKey    [32]byte
	RegisteredAt uint64
	RevokedAt    uint64
	Exists       bool
}

// UnpackGetDevice is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x6a7f745e.
//
// Solidity: function getDevice(bytes32 deviceIdHash) view returns(bytes32 publicKey, uint64 registeredAt, uint64 revokedAt, bool exists)
func (sunproofAnchor *SunproofAnchor) UnpackGetDevice(data []byte) (GetDeviceOutput, error) {
	out, err := sunproofAnchor.abi.Unpack("getDevice", data)
	outstruct := new(GetDeviceOutput)
	if err != nil {
		return *outstruct, err
	}
	outstruct.PublicKey = *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)
	outstruct.RegisteredAt = *abi.ConvertType(out[1], new(uint64)).(*uint64)
	outstruct.RevokedAt = *abi.ConvertType(out[2], new(uint64)).(*uint64)
	outstruct.Exists = *abi.ConvertType(out[3], new(bool)).(*bool)
	return *outstruct, nil
}

// PackGetDeviceKey is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x793ed61a.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function getDeviceKey(bytes32 deviceIdHash, uint256 index) view returns(bytes32 publicKey, uint64 registeredAt, uint64 revokedAt, uint64 registeredBlock, uint64 revokedBlock, bool rotated)
func (sunproofAnchor *SunproofAnchor) PackGetDeviceKey(deviceIdHash [32]byte, index *big.Int) []byte {
	enc, err := sunproofAnchor.abi.Pack("getDeviceKey", deviceIdHash, index)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackGetDeviceKey is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x793ed61a.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function getDeviceKey(bytes32 deviceIdHash, uint256 index) view returns(bytes32 publicKey, uint64 registeredAt, uint64 revokedAt, uint64 registeredBlock, uint64 revokedBlock, bool rotated)
func (sunproofAnchor *SunproofAnchor) TryPackGetDeviceKey(deviceIdHash [32]byte, index *big.Int) ([]byte, error) {
	return sunproofAnchor.abi.Pack("getDeviceKey", deviceIdHash, index)
}

// GetDeviceKeyOutput serves as a container for the return parameters of contract
// method GetDeviceKey.
type GetDeviceKeyOutput struct {
	PublicKey       [32]byte
	RegisteredAt    uint64
	RevokedAt       uint64
	RegisteredBlock uint64
	RevokedBlock    uint64
	Rotated         bool
}

// UnpackGetDeviceKey is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x793ed61a.
//
// Solidity: function getDeviceKey(bytes32 deviceIdHash, uint256 index) view returns(bytes32 publicKey, uint64 registeredAt, uint64 revokedAt, uint64 registeredBlock, uint64 revokedBlock, bool rotated)
func (sunproofAnchor *SunproofAnchor) UnpackGetDeviceKey(data []byte) (GetDeviceKeyOutput, error) {
	out, err := sunproofAnchor.abi.Unpack("getDeviceKey", data)
	outstruct := new(GetDeviceKeyOutput)
	if err != nil {
		return *outstruct, err
	}
	outstruct.PublicKey = *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)
	outstruct.RegisteredAt = *abi.ConvertType(out[1], new(uint64)).(*uint64)
	outstruct.RevokedAt = *abi.ConvertType(out[2], new(uint64)).(*uint64)
	outstruct.RegisteredBlock = *abi.ConvertType(out[3], new(uint64)).(*uint64)
	outstruct.RevokedBlock = *abi.ConvertType(out[4], new(uint64)).(*uint64)
	outstruct.Rotated = *abi.ConvertType(out[5], new(bool)).(*bool)
	return *outstruct, nil
}

// PackGetProposal is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xc7f758a8.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function getProposal(uint256 id) view returns(uint8 action, address target, uint32 value, address proposer, uint32 approvals, uint64 epoch, bool executed)
func (sunproofAnchor *SunproofAnchor) PackGetProposal(id *big.Int) []byte {
	enc, err := sunproofAnchor.abi.Pack("getProposal", id)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackGetProposal is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xc7f758a8.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function getProposal(uint256 id) view returns(uint8 action, address target, uint32 value, address proposer, uint32 approvals, uint64 epoch, bool executed)
func (sunproofAnchor *SunproofAnchor) TryPackGetProposal(id *big.Int) ([]byte, error) {
	return sunproofAnchor.abi.Pack("getProposal", id)
}

// GetProposalOutput serves as a container for the return parameters of contract
// method GetProposal.
type GetProposalOutput struct {
	Action    uint8
	Target    common.Address
	Value     uint32
	Proposer  common.Address
	Approvals uint32
	Epoch     uint64
	Executed  bool
}

// UnpackGetProposal is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xc7f758a8.
//
// Solidity: function getProposal(uint256 id) view returns(uint8 action, address target, uint32 value, address proposer, uint32 approvals, uint64 epoch, bool executed)
func (sunproofAnchor *SunproofAnchor) UnpackGetProposal(data []byte) (GetProposalOutput, error) {
	out, err := sunproofAnchor.abi.Unpack("getProposal", data)
	outstruct := new(GetProposalOutput)
	if err != nil {
		return *outstruct, err
	}
	outstruct.Action = *abi.ConvertType(out[0], new(uint8)).(*uint8)
	outstruct.Target = *abi.ConvertType(out[1], new(common.Address)).(*common.Address)
	outstruct.Value = *abi.ConvertType(out[2], new(uint32)).(*uint32)
	outstruct.Proposer = *abi.ConvertType(out[3], new(common.Address)).(*common.Address)
	outstruct.Approvals = *abi.ConvertType(out[4], new(uint32)).(*uint32)
	outstruct.Epoch = *abi.ConvertType(out[5], new(uint64)).(*uint64)
	outstruct.Executed = *abi.ConvertType(out[6], new(bool)).(*bool)
	return *outstruct, nil
}

// PackHasApproved is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x2358d5a8.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function hasApproved(uint256 id, address admin) view returns(bool)
func (sunproofAnchor *SunproofAnchor) PackHasApproved(id *big.Int, admin common.Address) []byte {
	enc, err := sunproofAnchor.abi.Pack("hasApproved", id, admin)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackHasApproved is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x2358d5a8.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function hasApproved(uint256 id, address admin) view returns(bool)
func (sunproofAnchor *SunproofAnchor) TryPackHasApproved(id *big.Int, admin common.Address) ([]byte, error) {
	return sunproofAnchor.abi.Pack("hasApproved", id, admin)
}

// UnpackHasApproved is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x2358d5a8.
//
// Solidity: function hasApproved(uint256 id, address admin) view returns(bool)
func (sunproofAnchor *SunproofAnchor) UnpackHasApproved(data []byte) (bool, error) {
	out, err := sunproofAnchor.abi.Unpack("hasApproved", data)
	if err != nil {
		return *new(bool), err
	}
	out0 := *abi.ConvertType(out[0], new(bool)).(*bool)
	return out0, nil
}

// PackIsAdmin is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x24d7806c.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function isAdmin(address account) view returns(bool)
func (sunproofAnchor *SunproofAnchor) PackIsAdmin(account common.Address) []byte {
	enc, err := sunproofAnchor.abi.Pack("isAdmin", account)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackIsAdmin is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x24d7806c.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function isAdmin(address account) view returns(bool)
func (sunproofAnchor *SunproofAnchor) TryPackIsAdmin(account common.Address) ([]byte, error) {
	return sunproofAnchor.abi.Pack("isAdmin", account)
}

// UnpackIsAdmin is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x24d7806c.
//
// Solidity: function isAdmin(address account) view returns(bool)
func (sunproofAnchor *SunproofAnchor) UnpackIsAdmin(data []byte) (bool, error) {
	out, err := sunproofAnchor.abi.Unpack("isAdmin", data)
	if err != nil {
		return *new(bool), err
	}
	out0 := *abi.ConvertType(out[0], new(bool)).(*bool)
	return out0, nil
}

// PackIsAnchored is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xff50fc88.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function isAnchored(uint64 intervalStart) view returns(bool)
func (sunproofAnchor *SunproofAnchor) PackIsAnchored(intervalStart uint64) []byte {
	enc, err := sunproofAnchor.abi.Pack("isAnchored", intervalStart)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackIsAnchored is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xff50fc88.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function isAnchored(uint64 intervalStart) view returns(bool)
func (sunproofAnchor *SunproofAnchor) TryPackIsAnchored(intervalStart uint64) ([]byte, error) {
	return sunproofAnchor.abi.Pack("isAnchored", intervalStart)
}

// UnpackIsAnchored is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xff50fc88.
//
// Solidity: function isAnchored(uint64 intervalStart) view returns(bool)
func (sunproofAnchor *SunproofAnchor) UnpackIsAnchored(data []byte) (bool, error) {
	out, err := sunproofAnchor.abi.Unpack("isAnchored", data)
	if err != nil {
		return *new(bool), err
	}
	out0 := *abi.ConvertType(out[0], new(bool)).(*bool)
	return out0, nil
}

// PackIsRegistrar is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xd5db72eb.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function isRegistrar(address account) view returns(bool)
func (sunproofAnchor *SunproofAnchor) PackIsRegistrar(account common.Address) []byte {
	enc, err := sunproofAnchor.abi.Pack("isRegistrar", account)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackIsRegistrar is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xd5db72eb.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function isRegistrar(address account) view returns(bool)
func (sunproofAnchor *SunproofAnchor) TryPackIsRegistrar(account common.Address) ([]byte, error) {
	return sunproofAnchor.abi.Pack("isRegistrar", account)
}

// UnpackIsRegistrar is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xd5db72eb.
//
// Solidity: function isRegistrar(address account) view returns(bool)
func (sunproofAnchor *SunproofAnchor) UnpackIsRegistrar(data []byte) (bool, error) {
	out, err := sunproofAnchor.abi.Unpack("isRegistrar", data)
	if err != nil {
		return *new(bool), err
	}
	out0 := *abi.ConvertType(out[0], new(bool)).(*bool)
	return out0, nil
}

// PackIsSubmitter is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xa926fdbc.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function isSubmitter(address account) view returns(bool)
func (sunproofAnchor *SunproofAnchor) PackIsSubmitter(account common.Address) []byte {
	enc, err := sunproofAnchor.abi.Pack("isSubmitter", account)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackIsSubmitter is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xa926fdbc.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function isSubmitter(address account) view returns(bool)
func (sunproofAnchor *SunproofAnchor) TryPackIsSubmitter(account common.Address) ([]byte, error) {
	return sunproofAnchor.abi.Pack("isSubmitter", account)
}

// UnpackIsSubmitter is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xa926fdbc.
//
// Solidity: function isSubmitter(address account) view returns(bool)
func (sunproofAnchor *SunproofAnchor) UnpackIsSubmitter(data []byte) (bool, error) {
	out, err := sunproofAnchor.abi.Unpack("isSubmitter", data)
	if err != nil {
		return *new(bool), err
	}
	out0 := *abi.ConvertType(out[0], new(bool)).(*bool)
	return out0, nil
}

// PackProposalCount is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xda35c664.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function proposalCount() view returns(uint64)
func (sunproofAnchor *SunproofAnchor) PackProposalCount() []byte {
	enc, err := sunproofAnchor.abi.Pack("proposalCount")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackProposalCount is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xda35c664.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function proposalCount() view returns(uint64)
func (sunproofAnchor *SunproofAnchor) TryPackProposalCount() ([]byte, error) {
	return sunproofAnchor.abi.Pack("proposalCount")
}

// UnpackProposalCount is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xda35c664.
//
// Solidity: function proposalCount() view returns(uint64)
func (sunproofAnchor *SunproofAnchor) UnpackProposalCount(data []byte) (uint64, error) {
	out, err := sunproofAnchor.abi.Unpack("proposalCount", data)
	if err != nil {
		return *new(uint64), err
	}
	out0 := *abi.ConvertType(out[0], new(uint64)).(*uint64)
	return out0, nil
}

// PackPropose is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x13b9afb2.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function propose(uint8 action, address target, uint32 value) returns(uint256 id)
func (sunproofAnchor *SunproofAnchor) PackPropose(action uint8, target common.Address, value uint32) []byte {
	enc, err := sunproofAnchor.abi.Pack("propose", action, target, value)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackPropose is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x13b9afb2.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function propose(uint8 action, address target, uint32 value) returns(uint256 id)
func (sunproofAnchor *SunproofAnchor) TryPackPropose(action uint8, target common.Address, value uint32) ([]byte, error) {
	return sunproofAnchor.abi.Pack("propose", action, target, value)
}

// UnpackPropose is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x13b9afb2.
//
// Solidity: function propose(uint8 action, address target, uint32 value) returns(uint256 id)
func (sunproofAnchor *SunproofAnchor) UnpackPropose(data []byte) (*big.Int, error) {
	out, err := sunproofAnchor.abi.Unpack("propose", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// PackRegisterDevice is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xf8ada5b3.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function registerDevice(bytes32 deviceIdHash, bytes32 publicKey) returns()
func (sunproofAnchor *SunproofAnchor) PackRegisterDevice(deviceIdHash [32]byte, publicKey [32]byte) []byte {
	enc, err := sunproofAnchor.abi.Pack("registerDevice", deviceIdHash, publicKey)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackRegisterDevice is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xf8ada5b3.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function registerDevice(bytes32 deviceIdHash, bytes32 publicKey) returns()
func (sunproofAnchor *SunproofAnchor) TryPackRegisterDevice(deviceIdHash [32]byte, publicKey [32]byte) ([]byte, error) {
	return sunproofAnchor.abi.Pack("registerDevice", deviceIdHash, publicKey)
}

// PackRevokeDevice is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xb6df0964.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function revokeDevice(bytes32 deviceIdHash) returns()
func (sunproofAnchor *SunproofAnchor) PackRevokeDevice(deviceIdHash [32]byte) []byte {
	enc, err := sunproofAnchor.abi.Pack("revokeDevice", deviceIdHash)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackRevokeDevice is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xb6df0964.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function revokeDevice(bytes32 deviceIdHash) returns()
func (sunproofAnchor *SunproofAnchor) TryPackRevokeDevice(deviceIdHash [32]byte) ([]byte, error) {
	return sunproofAnchor.abi.Pack("revokeDevice", deviceIdHash)
}

// PackRotateDeviceKey is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xe24a3fa9.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function rotateDeviceKey(bytes32 deviceIdHash, bytes32 newPublicKey) returns()
func (sunproofAnchor *SunproofAnchor) PackRotateDeviceKey(deviceIdHash [32]byte, newPublicKey [32]byte) []byte {
	enc, err := sunproofAnchor.abi.Pack("rotateDeviceKey", deviceIdHash, newPublicKey)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackRotateDeviceKey is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xe24a3fa9.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function rotateDeviceKey(bytes32 deviceIdHash, bytes32 newPublicKey) returns()
func (sunproofAnchor *SunproofAnchor) TryPackRotateDeviceKey(deviceIdHash [32]byte, newPublicKey [32]byte) ([]byte, error) {
	return sunproofAnchor.abi.Pack("rotateDeviceKey", deviceIdHash, newPublicKey)
}

// PackThreshold is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x42cde4e8.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function threshold() view returns(uint32)
func (sunproofAnchor *SunproofAnchor) PackThreshold() []byte {
	enc, err := sunproofAnchor.abi.Pack("threshold")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackThreshold is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x42cde4e8.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function threshold() view returns(uint32)
func (sunproofAnchor *SunproofAnchor) TryPackThreshold() ([]byte, error) {
	return sunproofAnchor.abi.Pack("threshold")
}

// UnpackThreshold is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x42cde4e8.
//
// Solidity: function threshold() view returns(uint32)
func (sunproofAnchor *SunproofAnchor) UnpackThreshold(data []byte) (uint32, error) {
	out, err := sunproofAnchor.abi.Unpack("threshold", data)
	if err != nil {
		return *new(uint32), err
	}
	out0 := *abi.ConvertType(out[0], new(uint32)).(*uint32)
	return out0, nil
}

// SunproofAnchorAnchored represents a Anchored event raised by the SunproofAnchor contract.
type SunproofAnchorAnchored struct {
	IntervalStart uint64
	IntervalEnd   uint64
	BatchRoot     [32]byte
	BatchSize     uint64
	Scheme        uint8
	Submitter     common.Address
	Raw           *types.Log // Blockchain specific contextual infos
}

const SunproofAnchorAnchoredEventName = "Anchored"

// ContractEventName returns the user-defined event name.
func (SunproofAnchorAnchored) ContractEventName() string {
	return SunproofAnchorAnchoredEventName
}

// UnpackAnchoredEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event Anchored(uint64 indexed intervalStart, uint64 intervalEnd, bytes32 batchRoot, uint64 batchSize, uint8 scheme, address submitter)
func (sunproofAnchor *SunproofAnchor) UnpackAnchoredEvent(log *types.Log) (*SunproofAnchorAnchored, error) {
	event := "Anchored"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != sunproofAnchor.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(SunproofAnchorAnchored)
	if len(log.Data) > 0 {
		if err := sunproofAnchor.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range sunproofAnchor.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// SunproofAnchorDeviceRegistered represents a DeviceRegistered event raised by the SunproofAnchor contract.
type SunproofAnchorDeviceRegistered struct {
	DeviceIdHash [32]byte
	PublicKey    [32]byte
	KeyIndex     uint32
	Registrar    common.Address
	Raw          *types.Log // Blockchain specific contextual infos
}

const SunproofAnchorDeviceRegisteredEventName = "DeviceRegistered"

// ContractEventName returns the user-defined event name.
func (SunproofAnchorDeviceRegistered) ContractEventName() string {
	return SunproofAnchorDeviceRegisteredEventName
}

// UnpackDeviceRegisteredEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event DeviceRegistered(bytes32 indexed deviceIdHash, bytes32 publicKey, uint32 keyIndex, address registrar)
func (sunproofAnchor *SunproofAnchor) UnpackDeviceRegisteredEvent(log *types.Log) (*SunproofAnchorDeviceRegistered, error) {
	event := "DeviceRegistered"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != sunproofAnchor.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(SunproofAnchorDeviceRegistered)
	if len(log.Data) > 0 {
		if err := sunproofAnchor.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range sunproofAnchor.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// SunproofAnchorDeviceRevoked represents a DeviceRevoked event raised by the SunproofAnchor contract.
type SunproofAnchorDeviceRevoked struct {
	DeviceIdHash [32]byte
	PublicKey    [32]byte
	KeyIndex     uint32
	Rotated      bool
	Registrar    common.Address
	Raw          *types.Log // Blockchain specific contextual infos
}

const SunproofAnchorDeviceRevokedEventName = "DeviceRevoked"

// ContractEventName returns the user-defined event name.
func (SunproofAnchorDeviceRevoked) ContractEventName() string {
	return SunproofAnchorDeviceRevokedEventName
}

// UnpackDeviceRevokedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event DeviceRevoked(bytes32 indexed deviceIdHash, bytes32 publicKey, uint32 keyIndex, bool rotated, address registrar)
func (sunproofAnchor *SunproofAnchor) UnpackDeviceRevokedEvent(log *types.Log) (*SunproofAnchorDeviceRevoked, error) {
	event := "DeviceRevoked"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != sunproofAnchor.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(SunproofAnchorDeviceRevoked)
	if len(log.Data) > 0 {
		if err := sunproofAnchor.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range sunproofAnchor.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// SunproofAnchorProposalApproved represents a ProposalApproved event raised by the SunproofAnchor contract.
type SunproofAnchorProposalApproved struct {
	Id        *big.Int
	Admin     common.Address
	Approvals uint32
	Raw       *types.Log // Blockchain specific contextual infos
}

const SunproofAnchorProposalApprovedEventName = "ProposalApproved"

// ContractEventName returns the user-defined event name.
func (SunproofAnchorProposalApproved) ContractEventName() string {
	return SunproofAnchorProposalApprovedEventName
}

// UnpackProposalApprovedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event ProposalApproved(uint256 indexed id, address indexed admin, uint32 approvals)
func (sunproofAnchor *SunproofAnchor) UnpackProposalApprovedEvent(log *types.Log) (*SunproofAnchorProposalApproved, error) {
	event := "ProposalApproved"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != sunproofAnchor.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(SunproofAnchorProposalApproved)
	if len(log.Data) > 0 {
		if err := sunproofAnchor.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range sunproofAnchor.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// SunproofAnchorProposalCreated represents a ProposalCreated event raised by the SunproofAnchor contract.
type SunproofAnchorProposalCreated struct {
	Id       *big.Int
	Action   uint8
	Target   common.Address
	Value    uint32
	Proposer common.Address
	Raw      *types.Log // Blockchain specific contextual infos
}

const SunproofAnchorProposalCreatedEventName = "ProposalCreated"

// ContractEventName returns the user-defined event name.
func (SunproofAnchorProposalCreated) ContractEventName() string {
	return SunproofAnchorProposalCreatedEventName
}

// UnpackProposalCreatedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event ProposalCreated(uint256 indexed id, uint8 action, address target, uint32 value, address indexed proposer)
func (sunproofAnchor *SunproofAnchor) UnpackProposalCreatedEvent(log *types.Log) (*SunproofAnchorProposalCreated, error) {
	event := "ProposalCreated"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != sunproofAnchor.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(SunproofAnchorProposalCreated)
	if len(log.Data) > 0 {
		if err := sunproofAnchor.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range sunproofAnchor.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// SunproofAnchorProposalExecuted represents a ProposalExecuted event raised by the SunproofAnchor contract.
type SunproofAnchorProposalExecuted struct {
	Id  *big.Int
	Raw *types.Log // Blockchain specific contextual infos
}

const SunproofAnchorProposalExecutedEventName = "ProposalExecuted"

// ContractEventName returns the user-defined event name.
func (SunproofAnchorProposalExecuted) ContractEventName() string {
	return SunproofAnchorProposalExecutedEventName
}

// UnpackProposalExecutedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event ProposalExecuted(uint256 indexed id)
func (sunproofAnchor *SunproofAnchor) UnpackProposalExecutedEvent(log *types.Log) (*SunproofAnchorProposalExecuted, error) {
	event := "ProposalExecuted"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != sunproofAnchor.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(SunproofAnchorProposalExecuted)
	if len(log.Data) > 0 {
		if err := sunproofAnchor.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range sunproofAnchor.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// SunproofAnchorRoleGranted represents a RoleGranted event raised by the SunproofAnchor contract.
type SunproofAnchorRoleGranted struct {
	Role    uint8
	Account common.Address
	Raw     *types.Log // Blockchain specific contextual infos
}

const SunproofAnchorRoleGrantedEventName = "RoleGranted"

// ContractEventName returns the user-defined event name.
func (SunproofAnchorRoleGranted) ContractEventName() string {
	return SunproofAnchorRoleGrantedEventName
}

// UnpackRoleGrantedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event RoleGranted(uint8 indexed role, address indexed account)
func (sunproofAnchor *SunproofAnchor) UnpackRoleGrantedEvent(log *types.Log) (*SunproofAnchorRoleGranted, error) {
	event := "RoleGranted"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != sunproofAnchor.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(SunproofAnchorRoleGranted)
	if len(log.Data) > 0 {
		if err := sunproofAnchor.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range sunproofAnchor.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// SunproofAnchorRoleRevoked represents a RoleRevoked event raised by the SunproofAnchor contract.
type SunproofAnchorRoleRevoked struct {
	Role    uint8
	Account common.Address
	Raw     *types.Log // Blockchain specific contextual infos
}

const SunproofAnchorRoleRevokedEventName = "RoleRevoked"

// ContractEventName returns the user-defined event name.
func (SunproofAnchorRoleRevoked) ContractEventName() string {
	return SunproofAnchorRoleRevokedEventName
}

// UnpackRoleRevokedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event RoleRevoked(uint8 indexed role, address indexed account)
func (sunproofAnchor *SunproofAnchor) UnpackRoleRevokedEvent(log *types.Log) (*SunproofAnchorRoleRevoked, error) {
	event := "RoleRevoked"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != sunproofAnchor.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(SunproofAnchorRoleRevoked)
	if len(log.Data) > 0 {
		if err := sunproofAnchor.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range sunproofAnchor.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// SunproofAnchorThresholdChanged represents a ThresholdChanged event raised by the SunproofAnchor contract.
type SunproofAnchorThresholdChanged struct {
	OldThreshold uint32
	NewThreshold uint32
	Raw          *types.Log // Blockchain specific contextual infos
}

const SunproofAnchorThresholdChangedEventName = "ThresholdChanged"

// ContractEventName returns the user-defined event name.
func (SunproofAnchorThresholdChanged) ContractEventName() string {
	return SunproofAnchorThresholdChangedEventName
}

// UnpackThresholdChangedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event ThresholdChanged(uint32 oldThreshold, uint32 newThreshold)
func (sunproofAnchor *SunproofAnchor) UnpackThresholdChangedEvent(log *types.Log) (*SunproofAnchorThresholdChanged, error) {
	event := "ThresholdChanged"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != sunproofAnchor.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(SunproofAnchorThresholdChanged)
	if len(log.Data) > 0 {
		if err := sunproofAnchor.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range sunproofAnchor.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// UnpackError attempts to decode the provided error data using user-defined
// error definitions.
func (sunproofAnchor *SunproofAnchor) UnpackError(raw []byte) (any, error) {
	if bytes.Equal(raw[:4], sunproofAnchor.abi.Errors["AlreadyApproved"].ID.Bytes()[:4]) {
		return sunproofAnchor.UnpackAlreadyApprovedError(raw[4:])
	}
	if bytes.Equal(raw[:4], sunproofAnchor.abi.Errors["DeviceAlreadyActive"].ID.Bytes()[:4]) {
		return sunproofAnchor.UnpackDeviceAlreadyActiveError(raw[4:])
	}
	if bytes.Equal(raw[:4], sunproofAnchor.abi.Errors["DeviceNotActive"].ID.Bytes()[:4]) {
		return sunproofAnchor.UnpackDeviceNotActiveError(raw[4:])
	}
	if bytes.Equal(raw[:4], sunproofAnchor.abi.Errors["IntervalAlreadyAnchored"].ID.Bytes()[:4]) {
		return sunproofAnchor.UnpackIntervalAlreadyAnchoredError(raw[4:])
	}
	if bytes.Equal(raw[:4], sunproofAnchor.abi.Errors["InvalidInterval"].ID.Bytes()[:4]) {
		return sunproofAnchor.UnpackInvalidIntervalError(raw[4:])
	}
	if bytes.Equal(raw[:4], sunproofAnchor.abi.Errors["InvalidProposal"].ID.Bytes()[:4]) {
		return sunproofAnchor.UnpackInvalidProposalError(raw[4:])
	}
	if bytes.Equal(raw[:4], sunproofAnchor.abi.Errors["InvalidThreshold"].ID.Bytes()[:4]) {
		return sunproofAnchor.UnpackInvalidThresholdError(raw[4:])
	}
	if bytes.Equal(raw[:4], sunproofAnchor.abi.Errors["KeyAlreadyUsed"].ID.Bytes()[:4]) {
		return sunproofAnchor.UnpackKeyAlreadyUsedError(raw[4:])
	}
	if bytes.Equal(raw[:4], sunproofAnchor.abi.Errors["ProposalAlreadyExecuted"].ID.Bytes()[:4]) {
		return sunproofAnchor.UnpackProposalAlreadyExecutedError(raw[4:])
	}
	if bytes.Equal(raw[:4], sunproofAnchor.abi.Errors["ProposalStale"].ID.Bytes()[:4]) {
		return sunproofAnchor.UnpackProposalStaleError(raw[4:])
	}
	if bytes.Equal(raw[:4], sunproofAnchor.abi.Errors["RoleAlreadyGranted"].ID.Bytes()[:4]) {
		return sunproofAnchor.UnpackRoleAlreadyGrantedError(raw[4:])
	}
	if bytes.Equal(raw[:4], sunproofAnchor.abi.Errors["RoleNotGranted"].ID.Bytes()[:4]) {
		return sunproofAnchor.UnpackRoleNotGrantedError(raw[4:])
	}
	if bytes.Equal(raw[:4], sunproofAnchor.abi.Errors["Unauthorized"].ID.Bytes()[:4]) {
		return sunproofAnchor.UnpackUnauthorizedError(raw[4:])
	}
	if bytes.Equal(raw[:4], sunproofAnchor.abi.Errors["UnknownDevice"].ID.Bytes()[:4]) {
		return sunproofAnchor.UnpackUnknownDeviceError(raw[4:])
	}
	if bytes.Equal(raw[:4], sunproofAnchor.abi.Errors["UnknownDeviceKey"].ID.Bytes()[:4]) {
		return sunproofAnchor.UnpackUnknownDeviceKeyError(raw[4:])
	}
	if bytes.Equal(raw[:4], sunproofAnchor.abi.Errors["UnknownProposal"].ID.Bytes()[:4]) {
		return sunproofAnchor.UnpackUnknownProposalError(raw[4:])
	}
	if bytes.Equal(raw[:4], sunproofAnchor.abi.Errors["ZeroAddress"].ID.Bytes()[:4]) {
		return sunproofAnchor.UnpackZeroAddressError(raw[4:])
	}
	if bytes.Equal(raw[:4], sunproofAnchor.abi.Errors["ZeroBatchSize"].ID.Bytes()[:4]) {
		return sunproofAnchor.UnpackZeroBatchSizeError(raw[4:])
	}
	if bytes.Equal(raw[:4], sunproofAnchor.abi.Errors["ZeroDeviceId"].ID.Bytes()[:4]) {
		return sunproofAnchor.UnpackZeroDeviceIdError(raw[4:])
	}
	if bytes.Equal(raw[:4], sunproofAnchor.abi.Errors["ZeroKey"].ID.Bytes()[:4]) {
		return sunproofAnchor.UnpackZeroKeyError(raw[4:])
	}
	if bytes.Equal(raw[:4], sunproofAnchor.abi.Errors["ZeroRoot"].ID.Bytes()[:4]) {
		return sunproofAnchor.UnpackZeroRootError(raw[4:])
	}
	return nil, errors.New("Unknown error")
}

// SunproofAnchorAlreadyApproved represents a AlreadyApproved error raised by the SunproofAnchor contract.
type SunproofAnchorAlreadyApproved struct {
	Id    *big.Int
	Admin common.Address
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error AlreadyApproved(uint256 id, address admin)
func SunproofAnchorAlreadyApprovedErrorID() common.Hash {
	return common.HexToHash("0x094775b03efa52a45bf83faac2b429fb980e1c159962ef1f9613b81855177c54")
}

// UnpackAlreadyApprovedError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error AlreadyApproved(uint256 id, address admin)
func (sunproofAnchor *SunproofAnchor) UnpackAlreadyApprovedError(raw []byte) (*SunproofAnchorAlreadyApproved, error) {
	out := new(SunproofAnchorAlreadyApproved)
	if err := sunproofAnchor.abi.UnpackIntoInterface(out, "AlreadyApproved", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// SunproofAnchorDeviceAlreadyActive represents a DeviceAlreadyActive error raised by the SunproofAnchor contract.
type SunproofAnchorDeviceAlreadyActive struct {
	DeviceIdHash [32]byte
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error DeviceAlreadyActive(bytes32 deviceIdHash)
func SunproofAnchorDeviceAlreadyActiveErrorID() common.Hash {
	return common.HexToHash("0xbd484ca211949d9d13350124b2f9c5fb562be0c76bda8ce2323f9a370f40c333")
}

// UnpackDeviceAlreadyActiveError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error DeviceAlreadyActive(bytes32 deviceIdHash)
func (sunproofAnchor *SunproofAnchor) UnpackDeviceAlreadyActiveError(raw []byte) (*SunproofAnchorDeviceAlreadyActive, error) {
	out := new(SunproofAnchorDeviceAlreadyActive)
	if err := sunproofAnchor.abi.UnpackIntoInterface(out, "DeviceAlreadyActive", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// SunproofAnchorDeviceNotActive represents a DeviceNotActive error raised by the SunproofAnchor contract.
type SunproofAnchorDeviceNotActive struct {
	DeviceIdHash [32]byte
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error DeviceNotActive(bytes32 deviceIdHash)
func SunproofAnchorDeviceNotActiveErrorID() common.Hash {
	return common.HexToHash("0x2b38e2eacb037b3acb2f06108efb5e6295d406492fbf6a0464145f6a04442ec8")
}

// UnpackDeviceNotActiveError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error DeviceNotActive(bytes32 deviceIdHash)
func (sunproofAnchor *SunproofAnchor) UnpackDeviceNotActiveError(raw []byte) (*SunproofAnchorDeviceNotActive, error) {
	out := new(SunproofAnchorDeviceNotActive)
	if err := sunproofAnchor.abi.UnpackIntoInterface(out, "DeviceNotActive", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// SunproofAnchorIntervalAlreadyAnchored represents a IntervalAlreadyAnchored error raised by the SunproofAnchor contract.
type SunproofAnchorIntervalAlreadyAnchored struct {
	IntervalStart uint64
	ExistingRoot  [32]byte
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error IntervalAlreadyAnchored(uint64 intervalStart, bytes32 existingRoot)
func SunproofAnchorIntervalAlreadyAnchoredErrorID() common.Hash {
	return common.HexToHash("0x08339fd081210a50be10157669f45d0d5d7cecf797e3153207fbd47705d6b527")
}

// UnpackIntervalAlreadyAnchoredError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error IntervalAlreadyAnchored(uint64 intervalStart, bytes32 existingRoot)
func (sunproofAnchor *SunproofAnchor) UnpackIntervalAlreadyAnchoredError(raw []byte) (*SunproofAnchorIntervalAlreadyAnchored, error) {
	out := new(SunproofAnchorIntervalAlreadyAnchored)
	if err := sunproofAnchor.abi.UnpackIntoInterface(out, "IntervalAlreadyAnchored", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// SunproofAnchorInvalidInterval represents a InvalidInterval error raised by the SunproofAnchor contract.
type SunproofAnchorInvalidInterval struct {
	IntervalStart uint64
	IntervalEnd   uint64
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error InvalidInterval(uint64 intervalStart, uint64 intervalEnd)
func SunproofAnchorInvalidIntervalErrorID() common.Hash {
	return common.HexToHash("0x57e2bcf95740429c2cc1655636a2906a5dac61d24382828bf3583eeb66939e3b")
}

// UnpackInvalidIntervalError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error InvalidInterval(uint64 intervalStart, uint64 intervalEnd)
func (sunproofAnchor *SunproofAnchor) UnpackInvalidIntervalError(raw []byte) (*SunproofAnchorInvalidInterval, error) {
	out := new(SunproofAnchorInvalidInterval)
	if err := sunproofAnchor.abi.UnpackIntoInterface(out, "InvalidInterval", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// SunproofAnchorInvalidProposal represents a InvalidProposal error raised by the SunproofAnchor contract.
type SunproofAnchorInvalidProposal struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error InvalidProposal()
func SunproofAnchorInvalidProposalErrorID() common.Hash {
	return common.HexToHash("0xee0328084153aa82b382e5ac3fa02d9ec9e875b566a9de1158dd47e965a8bbe7")
}

// UnpackInvalidProposalError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error InvalidProposal()
func (sunproofAnchor *SunproofAnchor) UnpackInvalidProposalError(raw []byte) (*SunproofAnchorInvalidProposal, error) {
	out := new(SunproofAnchorInvalidProposal)
	if err := sunproofAnchor.abi.UnpackIntoInterface(out, "InvalidProposal", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// SunproofAnchorInvalidThreshold represents a InvalidThreshold error raised by the SunproofAnchor contract.
type SunproofAnchorInvalidThreshold struct {
	Threshold  *big.Int
	AdminCount *big.Int
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error InvalidThreshold(uint256 threshold, uint256 adminCount)
func SunproofAnchorInvalidThresholdErrorID() common.Hash {
	return common.HexToHash("0x7b7a98f144b22ac349117faf884147efe6b9d8f459322b9ed0cb76310884f093")
}

// UnpackInvalidThresholdError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error InvalidThreshold(uint256 threshold, uint256 adminCount)
func (sunproofAnchor *SunproofAnchor) UnpackInvalidThresholdError(raw []byte) (*SunproofAnchorInvalidThreshold, error) {
	out := new(SunproofAnchorInvalidThreshold)
	if err := sunproofAnchor.abi.UnpackIntoInterface(out, "InvalidThreshold", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// SunproofAnchorKeyAlreadyUsed represents a KeyAlreadyUsed error raised by the SunproofAnchor contract.
type SunproofAnchorKeyAlreadyUsed struct {
	PublicKey    [32]byte
	DeviceIdHash [32]byte
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error KeyAlreadyUsed(bytes32 publicKey, bytes32 deviceIdHash)
func SunproofAnchorKeyAlreadyUsedErrorID() common.Hash {
	return common.HexToHash("0x4fef653690b9eecdd105140f593c47f44a9fc5d98fd154ee4f5a35be44d1f6d3")
}

// UnpackKeyAlreadyUsedError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error KeyAlreadyUsed(bytes32 publicKey, bytes32 deviceIdHash)
func (sunproofAnchor *SunproofAnchor) UnpackKeyAlreadyUsedError(raw []byte) (*SunproofAnchorKeyAlreadyUsed, error) {
	out := new(SunproofAnchorKeyAlreadyUsed)
	if err := sunproofAnchor.abi.UnpackIntoInterface(out, "KeyAlreadyUsed", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// SunproofAnchorProposalAlreadyExecuted represents a ProposalAlreadyExecuted error raised by the SunproofAnchor contract.
type SunproofAnchorProposalAlreadyExecuted struct {
	Id *big.Int
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ProposalAlreadyExecuted(uint256 id)
func SunproofAnchorProposalAlreadyExecutedErrorID() common.Hash {
	return common.HexToHash("0x4eec80e63c8a7bb540956e04ccbd00851ca4d5f7f787d662da2d150e9db44bc3")
}

// UnpackProposalAlreadyExecutedError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ProposalAlreadyExecuted(uint256 id)
func (sunproofAnchor *SunproofAnchor) UnpackProposalAlreadyExecutedError(raw []byte) (*SunproofAnchorProposalAlreadyExecuted, error) {
	out := new(SunproofAnchorProposalAlreadyExecuted)
	if err := sunproofAnchor.abi.UnpackIntoInterface(out, "ProposalAlreadyExecuted", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// SunproofAnchorProposalStale represents a ProposalStale error raised by the SunproofAnchor contract.
type SunproofAnchorProposalStale struct {
	Id            *big.Int
	ProposalEpoch uint64
	CurrentEpoch  uint64
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ProposalStale(uint256 id, uint64 proposalEpoch, uint64 currentEpoch)
func SunproofAnchorProposalStaleErrorID() common.Hash {
	return common.HexToHash("0xbdac0febe2097fd021c122837f7de026c779e2d5371b7936a6f14406786aeb2f")
}

// UnpackProposalStaleError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ProposalStale(uint256 id, uint64 proposalEpoch, uint64 currentEpoch)
func (sunproofAnchor *SunproofAnchor) UnpackProposalStaleError(raw []byte) (*SunproofAnchorProposalStale, error) {
	out := new(SunproofAnchorProposalStale)
	if err := sunproofAnchor.abi.UnpackIntoInterface(out, "ProposalStale", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// SunproofAnchorRoleAlreadyGranted represents a RoleAlreadyGranted error raised by the SunproofAnchor contract.
type SunproofAnchorRoleAlreadyGranted struct {
	Role    uint8
	Account common.Address
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error RoleAlreadyGranted(uint8 role, address account)
func SunproofAnchorRoleAlreadyGrantedErrorID() common.Hash {
	return common.HexToHash("0x21a1575b3a9615ef9fcd68f81ade9d240f223de139bca3574d28741928fd93c8")
}

// UnpackRoleAlreadyGrantedError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error RoleAlreadyGranted(uint8 role, address account)
func (sunproofAnchor *SunproofAnchor) UnpackRoleAlreadyGrantedError(raw []byte) (*SunproofAnchorRoleAlreadyGranted, error) {
	out := new(SunproofAnchorRoleAlreadyGranted)
	if err := sunproofAnchor.abi.UnpackIntoInterface(out, "RoleAlreadyGranted", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// SunproofAnchorRoleNotGranted represents a RoleNotGranted error raised by the SunproofAnchor contract.
type SunproofAnchorRoleNotGranted struct {
	Role    uint8
	Account common.Address
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error RoleNotGranted(uint8 role, address account)
func SunproofAnchorRoleNotGrantedErrorID() common.Hash {
	return common.HexToHash("0x571bd0b38c680e76ee64bbbba4e95dba594732f71350c9036d14cf84b405df9e")
}

// UnpackRoleNotGrantedError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error RoleNotGranted(uint8 role, address account)
func (sunproofAnchor *SunproofAnchor) UnpackRoleNotGrantedError(raw []byte) (*SunproofAnchorRoleNotGranted, error) {
	out := new(SunproofAnchorRoleNotGranted)
	if err := sunproofAnchor.abi.UnpackIntoInterface(out, "RoleNotGranted", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// SunproofAnchorUnauthorized represents a Unauthorized error raised by the SunproofAnchor contract.
type SunproofAnchorUnauthorized struct {
	Required uint8
	Caller   common.Address
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error Unauthorized(uint8 required, address caller)
func SunproofAnchorUnauthorizedErrorID() common.Hash {
	return common.HexToHash("0x45834b9837cccf89ce38c1202ce5db0ebec8fbc5be970682bd602e007570944b")
}

// UnpackUnauthorizedError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error Unauthorized(uint8 required, address caller)
func (sunproofAnchor *SunproofAnchor) UnpackUnauthorizedError(raw []byte) (*SunproofAnchorUnauthorized, error) {
	out := new(SunproofAnchorUnauthorized)
	if err := sunproofAnchor.abi.UnpackIntoInterface(out, "Unauthorized", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// SunproofAnchorUnknownDevice represents a UnknownDevice error raised by the SunproofAnchor contract.
type SunproofAnchorUnknownDevice struct {
	DeviceIdHash [32]byte
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error UnknownDevice(bytes32 deviceIdHash)
func SunproofAnchorUnknownDeviceErrorID() common.Hash {
	return common.HexToHash("0xe2f351b2ec1bb723faa4544ed2cbba5fbca7bab4219e8757fa8f679a05e0be7a")
}

// UnpackUnknownDeviceError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error UnknownDevice(bytes32 deviceIdHash)
func (sunproofAnchor *SunproofAnchor) UnpackUnknownDeviceError(raw []byte) (*SunproofAnchorUnknownDevice, error) {
	out := new(SunproofAnchorUnknownDevice)
	if err := sunproofAnchor.abi.UnpackIntoInterface(out, "UnknownDevice", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// SunproofAnchorUnknownDeviceKey represents a UnknownDeviceKey error raised by the SunproofAnchor contract.
type SunproofAnchorUnknownDeviceKey struct {
	DeviceIdHash [32]byte
	Index        *big.Int
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error UnknownDeviceKey(bytes32 deviceIdHash, uint256 index)
func SunproofAnchorUnknownDeviceKeyErrorID() common.Hash {
	return common.HexToHash("0x5ec92cd8ec499f362fda5b29bcbd0bb02c3fce109ff0fc2e07b6333f04e5ba7c")
}

// UnpackUnknownDeviceKeyError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error UnknownDeviceKey(bytes32 deviceIdHash, uint256 index)
func (sunproofAnchor *SunproofAnchor) UnpackUnknownDeviceKeyError(raw []byte) (*SunproofAnchorUnknownDeviceKey, error) {
	out := new(SunproofAnchorUnknownDeviceKey)
	if err := sunproofAnchor.abi.UnpackIntoInterface(out, "UnknownDeviceKey", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// SunproofAnchorUnknownProposal represents a UnknownProposal error raised by the SunproofAnchor contract.
type SunproofAnchorUnknownProposal struct {
	Id *big.Int
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error UnknownProposal(uint256 id)
func SunproofAnchorUnknownProposalErrorID() common.Hash {
	return common.HexToHash("0x28e0cf5a770b9ab4da594ebd0cf7af68f08abd0573138e8389260fc0eb761d74")
}

// UnpackUnknownProposalError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error UnknownProposal(uint256 id)
func (sunproofAnchor *SunproofAnchor) UnpackUnknownProposalError(raw []byte) (*SunproofAnchorUnknownProposal, error) {
	out := new(SunproofAnchorUnknownProposal)
	if err := sunproofAnchor.abi.UnpackIntoInterface(out, "UnknownProposal", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// SunproofAnchorZeroAddress represents a ZeroAddress error raised by the SunproofAnchor contract.
type SunproofAnchorZeroAddress struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ZeroAddress()
func SunproofAnchorZeroAddressErrorID() common.Hash {
	return common.HexToHash("0xd92e233df2717d4a40030e20904abd27b68fcbeede117eaaccbbdac9618c8c73")
}

// UnpackZeroAddressError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ZeroAddress()
func (sunproofAnchor *SunproofAnchor) UnpackZeroAddressError(raw []byte) (*SunproofAnchorZeroAddress, error) {
	out := new(SunproofAnchorZeroAddress)
	if err := sunproofAnchor.abi.UnpackIntoInterface(out, "ZeroAddress", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// SunproofAnchorZeroBatchSize represents a ZeroBatchSize error raised by the SunproofAnchor contract.
type SunproofAnchorZeroBatchSize struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ZeroBatchSize()
func SunproofAnchorZeroBatchSizeErrorID() common.Hash {
	return common.HexToHash("0x4efd229a170e78cf92c6a2d18ea55685ad3d641a072092099010c8b1e0f72704")
}

// UnpackZeroBatchSizeError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ZeroBatchSize()
func (sunproofAnchor *SunproofAnchor) UnpackZeroBatchSizeError(raw []byte) (*SunproofAnchorZeroBatchSize, error) {
	out := new(SunproofAnchorZeroBatchSize)
	if err := sunproofAnchor.abi.UnpackIntoInterface(out, "ZeroBatchSize", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// SunproofAnchorZeroDeviceId represents a ZeroDeviceId error raised by the SunproofAnchor contract.
type SunproofAnchorZeroDeviceId struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ZeroDeviceId()
func SunproofAnchorZeroDeviceIdErrorID() common.Hash {
	return common.HexToHash("0xf5ec3023bea8846694ed6f7594f3e9484f29f8fd6598609532528e3f5ebe2527")
}

// UnpackZeroDeviceIdError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ZeroDeviceId()
func (sunproofAnchor *SunproofAnchor) UnpackZeroDeviceIdError(raw []byte) (*SunproofAnchorZeroDeviceId, error) {
	out := new(SunproofAnchorZeroDeviceId)
	if err := sunproofAnchor.abi.UnpackIntoInterface(out, "ZeroDeviceId", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// SunproofAnchorZeroKey represents a ZeroKey error raised by the SunproofAnchor contract.
type SunproofAnchorZeroKey struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ZeroKey()
func SunproofAnchorZeroKeyErrorID() common.Hash {
	return common.HexToHash("0xfbd849c64583c50579479efaac1ef44e6d9d78379a9ea28aa6150a3b683c09f5")
}

// UnpackZeroKeyError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ZeroKey()
func (sunproofAnchor *SunproofAnchor) UnpackZeroKeyError(raw []byte) (*SunproofAnchorZeroKey, error) {
	out := new(SunproofAnchorZeroKey)
	if err := sunproofAnchor.abi.UnpackIntoInterface(out, "ZeroKey", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// SunproofAnchorZeroRoot represents a ZeroRoot error raised by the SunproofAnchor contract.
type SunproofAnchorZeroRoot struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ZeroRoot()
func SunproofAnchorZeroRootErrorID() common.Hash {
	return common.HexToHash("0xb263ae738e814ca9af6ee56bb85daa47624e790421913c947dcba2aac07cfdbd")
}

// UnpackZeroRootError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ZeroRoot()
func (sunproofAnchor *SunproofAnchor) UnpackZeroRootError(raw []byte) (*SunproofAnchorZeroRoot, error) {
	out := new(SunproofAnchorZeroRoot)
	if err := sunproofAnchor.abi.UnpackIntoInterface(out, "ZeroRoot", raw); err != nil {
		return nil, err
	}
	return out, nil
}
