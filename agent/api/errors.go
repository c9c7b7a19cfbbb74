// Package api is vpnpass's local API: newline-delimited JSON over a unix
// socket (docs/interface.md#local-api). One JSON object per line, request then
// response, several per connection:
//
//	{"id": 7, "method": "set", "params": {"protocol": "pptp", "mode": "allow"}}
//	{"id": 7, "result": {...}}
//	{"id": 7, "error": {"code": "bad_params", "message": "..."}}
//
// The contract is contract.go (the methods: name, access, params and result
// types) and types.go (those types). Server dispatches methods to handlers
// (api.Serve); Client is what the CLI uses (Method.Call).
package api

import (
	"errors"
	"fmt"

	"github.com/vpnpass/vpnpass/internal/errx"
)

// Error codes (docs/interface.md#local-api).
const (
	CodeBadRequest    = "bad_request"    // not JSON, not a request, or a line over 64 KiB
	CodeUnknownMethod = "unknown_method" // no such method
	CodeBadParams     = "bad_params"     // params missing, of the wrong type, or invalid
	CodeNotAvailable  = "not_available"  // subsystem not built or kernel lacks it
	CodeFailed        = "failed"         // the operation failed; the message says why
)

// Error is the error object of a response. Handlers return it (through the
// constructors below) to choose the code; any other error becomes `failed`.
type Error struct {
	_       [0]func() // not comparable: no equality function in the binary
	Code    string    `json:"code"`
	Message string    `json:"message"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Is makes errors.Is(err, &api.Error{Code: api.CodeBadParams}) match by code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && (t.Message == "" || t.Message == e.Message)
}

// Errorf builds an Error with the given code.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// BadParams reports invalid parameters: api.BadParams("protocol must be one of pptp, l2tp, ipsec").
func BadParams(format string, args ...any) *Error {
	return Errorf(CodeBadParams, format, args...)
}

// NotAvailable reports a subsystem that is not built or that the kernel lacks.
func NotAvailable(format string, args ...any) *Error {
	return Errorf(CodeNotAvailable, format, args...)
}

// Failed reports an operation that failed.
func Failed(format string, args ...any) *Error {
	return Errorf(CodeFailed, format, args...)
}

// asError maps a handler's error to the wire: an *Error (anywhere in the
// chain) keeps its code, anything else is `failed` with the error's text.
func asError(err error) *Error {
	if e, ok := errx.As[*Error](err); ok {
		return e
	}
	return &Error{Code: CodeFailed, Message: err.Error()}
}

// ErrNoDaemon is returned by Dial when nothing listens on the socket (no
// socket file, or a stale one): the CLI exits 3.
var ErrNoDaemon = errors.New("the vpnpass daemon is not running")
