package nearby

import (
	"errors"
	"fmt"
	"strings"
)

// Error codes, one per way a request can fail. The HTTP layer maps each to a
// status in one table.
const (
	EINVALID      = "invalid"      // bad input from the caller
	EUNAUTHORIZED = "unauthorized" // missing or bad credentials
	EFORBIDDEN    = "forbidden"    // credentials fine, action not allowed
	ENOTFOUND     = "not_found"    // no such resource (or not the caller's)
	ECONFLICT     = "conflict"     // state conflict, e.g. stale cursor
	EPRECONDITION = "precondition" // a precondition such as If-Match failed
	EUNAVAILABLE  = "unavailable"  // a dependency is down; retry later
	EINTERNAL     = "internal"     // a bug or an unexpected failure
)

// Error is a domain error: a code the caller can act on and a message safe
// to show them. Params names the offending request parameters, if any.
type Error struct {
	Code    string
	Message string
	Params  []InvalidParam
}

// InvalidParam is a request parameter that was refused, and why.
type InvalidParam struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// InvalidParams returns an EINVALID error listing the bad parameters, or
// nil when there are none.
func InvalidParams(params []InvalidParam) error {
	if len(params) == 0 {
		return nil
	}
	names := make([]string, len(params))
	for i, p := range params {
		names[i] = p.Name
	}
	return &Error{Code: EINVALID, Message: "invalid parameters: " + strings.Join(names, ", "), Params: params}
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("nearby error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the message of the first *Error in err's chain, or
// "internal error" for any other error and for an *Error coded EINTERNAL
// (its message is for the logs): internals never reach the client.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e) && e.Code != EINTERNAL:
		return e.Message
	default:
		return "internal error"
	}
}
