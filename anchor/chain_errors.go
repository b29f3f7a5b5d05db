package anchor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"
)

// Errors of the chain layer. IsRetryable tells the caller whether trying the
// same call again may succeed.
var (
	// ErrConflictingAnchor: the interval is already anchored with another
	// record (root, end, size or scheme). Final: the chain is write-once.
	ErrConflictingAnchor = errors.New("anchor: interval already anchored with a different record")
	// ErrConflictingDeviceKey: the device already has a valid key other than
	// the one being registered. Final: rotate or revoke explicitly.
	ErrConflictingDeviceKey = errors.New("anchor: device already has a different valid key")
	// ErrReceiptTimeout: the transaction was sent but not mined (or not
	// confirmed) within SubmitterConfig.ReceiptTimeout. Retryable: calling
	// Submit again resumes waiting for the same transaction.
	ErrReceiptTimeout = errors.New("anchor: transaction not confirmed in time")
	// ErrTxDropped: a sent transaction is neither mined nor executable in
	// the node's pool (evicted, lost on a node restart, or queued behind a
	// nonce gap). Retryable: the nonce manager resyncs and the next attempt
	// sends a new transaction.
	ErrTxDropped = errors.New("anchor: transaction dropped from the pool")
	// ErrFeeCapTooLow: the base fee is above the configured MaxFeeGwei.
	// Retryable: the base fee may fall.
	ErrFeeCapTooLow = errors.New("anchor: base fee above the configured maximum fee")
	// ErrTxFailed: a transaction was mined with status 0. It is wrapped
	// together with the *RevertError found by replaying it, if any.
	ErrTxFailed = errors.New("anchor: transaction failed")
)

// RevertError is a contract call or transaction that reverted. Name and Args
// are the decoded custom error (for example IntervalAlreadyAnchored with
// [intervalStart, existingRoot]), "Error" with the reason string for
// require/revert("..."), "Panic" with the code for an assertion, or "" if
// the revert data is empty or unknown. Reverts are final: the same call
// reverts again unless the chain's state changes.
type RevertError struct {
	Name   string
	Args   []any
	Data   []byte      // raw revert data
	TxHash common.Hash // the mined transaction, if the revert comes from a replay
}

func (e *RevertError) Error() string {
	var b strings.Builder
	b.WriteString("execution reverted")
	if e.Name != "" {
		b.WriteString(": ")
		b.WriteString(e.Name)
		b.WriteByte('(')
		for i, a := range e.Args {
			if i > 0 {
				b.WriteString(", ")
			}
			switch v := a.(type) {
			case [32]byte:
				b.WriteString(hexutil.Encode(v[:]))
			case []byte:
				b.WriteString(hexutil.Encode(v))
			default:
				fmt.Fprint(&b, v)
			}
		}
		b.WriteByte(')')
	} else if len(e.Data) > 0 {
		fmt.Fprintf(&b, " with unknown data %s", hexutil.Encode(e.Data))
	}
	if e.TxHash != (common.Hash{}) {
		fmt.Fprintf(&b, " (tx %s)", e.TxHash.Hex())
	}
	return b.String()
}

// decodeRevertData decodes revert data against the anchoring contract's ABI
// and the standard Error(string) and Panic(uint256).
func decodeRevertData(data []byte) *RevertError {
	e := &RevertError{Data: data}
	if len(data) < 4 {
		return e
	}
	var id [4]byte
	copy(id[:], data)
	if def, err := chainABI().ErrorByID(id); err == nil {
		if args, err := def.Inputs.Unpack(data[4:]); err == nil {
			e.Name, e.Args = def.Name, args
		}
		return e
	}
	if reason, err := abi.UnpackRevert(data); err == nil {
		if strings.HasPrefix(reason, "panic: ") {
			e.Name, e.Args = "Panic", []any{strings.TrimPrefix(reason, "panic: ")}
		} else {
			e.Name, e.Args = "Error", []any{reason}
		}
	}
	return e
}

// revertFromRPC returns the *RevertError carried by an eth_call or
// eth_estimateGas error, or nil if err is not a revert. geth reports reverts
// as JSON-RPC error 3 with the data; some nodes only say "execution
// reverted" (then Name is "").
func revertFromRPC(err error) *RevertError {
	if err == nil {
		return nil
	}
	if data, ok := ethclient.RevertErrorData(err); ok {
		return decodeRevertData(data)
	}
	var ec rpc.Error
	if errors.As(err, &ec) && ec.ErrorCode() == 3 {
		return &RevertError{}
	}
	if strings.Contains(strings.ToLower(err.Error()), "execution reverted") {
		return &RevertError{}
	}
	return nil
}

// Messages by which nodes report transient conditions. Errors cross the
// JSON-RPC boundary as strings, so matching messages is the only way to
// classify them; these are geth's (core and txpool), with Besu and
// Nethermind spellings where they differ.
var retryableMessages = []string{
	"nonce too low", "nonce too high", "invalid nonce", "nonce has already been used",
	"replacement transaction underpriced", "replacement underpriced",
	"transaction underpriced", "gas price below minimum", "max fee per gas less than block base fee",
	"already known", "known transaction", "alreadyknown", "already imported",
	"txpool is full", "out of capacity", "account limit exceeded", "in-flight transaction limit",
	"nonce is too distant", "header not found", "request timed out",
	"connection refused", "connection reset", "broken pipe", "no such host", "i/o timeout",
	"eof", "too many requests", "rate limit", "service unavailable", "bad gateway", "gateway timeout",
}

// nonceMessages are the retryable messages that mean the nonce manager is
// out of step with the node.
var nonceMessages = []string{
	"nonce too low", "nonce too high", "invalid nonce", "nonce has already been used",
	"nonce is too distant", "replacement transaction underpriced", "replacement underpriced",
}

func containsAny(msg string, subs []string) bool {
	msg = strings.ToLower(msg)
	for _, s := range subs {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// isNonceError reports whether err says the nonce used was wrong.
func isNonceError(err error) bool {
	return err != nil && containsAny(err.Error(), nonceMessages)
}

// isKnownTx reports whether a send failed only because the node already has
// the very same transaction.
func isKnownTx(err error) bool {
	return err != nil && containsAny(err.Error(), []string{"already known", "known transaction", "alreadyknown", "already imported"})
}

// IsRetryable reports whether err is transient: the same call may succeed
// later. Retryable: network and JSON-RPC transport failures, HTTP 429 and
// 5xx, timeouts (context.DeadlineExceeded included), nonce errors,
// underpriced or already-known transactions, a full pool, ErrReceiptTimeout,
// ErrTxDropped and ErrFeeCapTooLow. Final: a *RevertError (the contract's
// decoded custom error), ErrConflictingAnchor, ErrConflictingDeviceKey,
// ErrTxFailed, context.Canceled, insufficient funds, configuration and
// decoding errors, and anything not recognised.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	var rev *RevertError
	switch {
	case errors.As(err, &rev),
		errors.Is(err, ErrConflictingAnchor), errors.Is(err, ErrConflictingDeviceKey),
		errors.Is(err, ErrTxFailed), errors.Is(err, context.Canceled):
		return false
	case errors.Is(err, ErrReceiptTimeout), errors.Is(err, ErrTxDropped), errors.Is(err, ErrFeeCapTooLow),
		errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	}
	var httpErr rpc.HTTPError
	if errors.As(err, &httpErr) {
		return httpErr.StatusCode == 429 || httpErr.StatusCode >= 500
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return true
	}
	var opErr *net.OpError
	var dnsErr *net.DNSError
	if errors.As(err, &opErr) || errors.As(err, &dnsErr) {
		return true
	}
	if containsAny(err.Error(), []string{"insufficient funds"}) {
		return false
	}
	return containsAny(err.Error(), retryableMessages)
}
