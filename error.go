package steward

import (
	"errors"
	"fmt"
)

// Error codes: a small, closed list. The HTTP layer maps each to one status
// in a single table; add a code only together with its row there.
const (
	EINVALID         = "invalid"           // a well-formed request broke a rule (422)
	EMALFORMED       = "malformed"         // the request could not be parsed (400)
	ENOTFOUND        = "not_found"         // no such object in the caller's tenant (404)
	ECONFLICT        = "conflict"          // a unique rule was broken (409)
	EUNAUTHORIZED    = "unauthorized"      // no valid credentials (401)
	EFORBIDDEN       = "forbidden"         // valid credentials, not allowed (403)
	ETOOLARGE        = "too_large"         // request body over the limit (413)
	ETOOMANYREQUESTS = "too_many_requests" // rate or lockout limit hit (429)
	EINTERNAL        = "internal"          // our fault; details are logged, never sent (500)
)

// Error is Steward's application error: a code from the list above, a
// message safe to show a client, and optionally the request field at fault.
type Error struct {
	Code    string
	Message string
	Field   string
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("steward error: code=%s field=%s message=%s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("steward error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf returns an EINVALID *Error naming the field at fault.
func FieldErrorf(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the client-safe message of the first *Error in err's
// chain, and a generic message for any other error.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// ErrorField returns the field named by the first *Error in err's chain.
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}
