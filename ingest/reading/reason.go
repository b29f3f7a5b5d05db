package reading

import (
	"errors"
	"fmt"
)

// Reason classifies why a reading was rejected. The set is closed and small,
// so it is safe as a metric label; reject records carry it verbatim.
type Reason string

// Rejection reasons. docs/formats/reading.md lists what each one means.
const (
	ReasonMalformed         Reason = "malformed"
	ReasonOversized         Reason = "oversized"
	ReasonSchema            Reason = "schema"
	ReasonNaNInf            Reason = "nan_inf"
	ReasonImplausible       Reason = "implausible"
	ReasonFutureTimestamp   Reason = "future_timestamp"
	ReasonBadSignature      Reason = "bad_signature"
	ReasonUnknownDevice     Reason = "unknown_device"
	ReasonDisabledDevice    Reason = "disabled_device"
	ReasonTopicMismatch     Reason = "topic_mismatch"
	ReasonSiteMismatch      Reason = "site_mismatch"
	ReasonCounterRegression Reason = "counter_regression"
	ReasonDuplicate         Reason = "duplicate"
)

// Reasons lists every Reason, for metrics pre-registration and docs.
var Reasons = []Reason{ReasonMalformed, ReasonOversized, ReasonSchema, ReasonNaNInf,
	ReasonImplausible, ReasonFutureTimestamp, ReasonBadSignature, ReasonUnknownDevice,
	ReasonDisabledDevice, ReasonTopicMismatch, ReasonSiteMismatch, ReasonCounterRegression,
	ReasonDuplicate}

// Error is a rejection with its reason.
type Error struct {
	Reason Reason
	Detail string
}

func (e *Error) Error() string { return string(e.Reason) + ": " + e.Detail }

// Is makes errors.Is(err, &Error{Reason: r}) match on the reason alone.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Reason == e.Reason && t.Detail == ""
}

func newError(r Reason, format string, args ...any) *Error {
	return &Error{Reason: r, Detail: fmt.Sprintf(format, args...)}
}

// Errorf returns a rejection error with reason r.
func Errorf(r Reason, format string, args ...any) error { return newError(r, format, args...) }

// ReasonOf returns the reason of the first *Error in err's chain, or
// ReasonMalformed if there is none.
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ReasonMalformed
}
