// Package catalog is the one error catalog of bizra: it maps every error the core can
// return to an HTTP status, a JSON-RPC code, a stable UPPER_SNAKE code and a public
// message. Packages declare their sentinels with New, naming the Kind; the edges
// (gateway, bridge) call Lookup and never send err.Error() to a client.
//
// # Concurrency
//
// Everything here is immutable after package initialisation and safe for concurrent use.
package catalog

import (
	"errors"
	"net/http"
)

// Kind is a class of failure with one public rendering.
type Kind uint8

// The kinds. Their HTTP status, JSON-RPC code and default public code are in kinds.
const (
	Internal Kind = iota
	InvalidInput
	InvalidJSON
	PayloadTooLarge
	NotFound
	MethodNotAllowed
	Unauthorized
	RateLimited
	Overloaded
	Timeout
	Unavailable
	Conflict
)

// Entry is the public rendering of a Kind.
type Entry struct {
	HTTP    int    // HTTP status
	RPC     int    // JSON-RPC error code (bridge.md)
	Code    string // default UPPER_SNAKE code
	Message string // default public message
}

var kinds = [...]Entry{
	Internal:         {http.StatusInternalServerError, -32603, "INTERNAL", "Internal error"},
	InvalidInput:     {http.StatusBadRequest, -32602, "INVALID_INPUT", "Invalid input"},
	InvalidJSON:      {http.StatusBadRequest, -32700, "INVALID_JSON", "Parse error"},
	PayloadTooLarge:  {http.StatusRequestEntityTooLarge, -32600, "PAYLOAD_TOO_LARGE", "Payload too large"},
	NotFound:         {http.StatusNotFound, -32602, "NOT_FOUND", "Not found"},
	MethodNotAllowed: {http.StatusMethodNotAllowed, -32601, "METHOD_NOT_ALLOWED", "Method not allowed"},
	Unauthorized:     {http.StatusUnauthorized, -32002, "UNAUTHORIZED", "Unauthorized"},
	RateLimited:      {http.StatusTooManyRequests, -32000, "RATE_LIMITED", "Rate limit exceeded"},
	Overloaded:       {http.StatusServiceUnavailable, -32000, "OVERLOADED", "Server busy, retry later"},
	Timeout:          {http.StatusGatewayTimeout, -32603, "TIMEOUT", "The request did not finish within its deadline"},
	Unavailable:      {http.StatusServiceUnavailable, -32603, "UNAVAILABLE", "Service unavailable"},
	Conflict:         {http.StatusConflict, -32602, "CONFLICT", "Conflict"},
}

// Of returns the default rendering of k.
func Of(k Kind) Entry {
	if int(k) >= len(kinds) {
		return kinds[Internal]
	}
	return kinds[k]
}

// Error is a sentinel that carries its public rendering. Create them with New, at
// package level in each package's errors.go, and wrap them with %w.
type Error struct {
	text    string // internal text, e.g. "receipt: not found"
	kind    Kind
	code    string // public UPPER_SNAKE code
	message string // public message
}

// New declares a sentinel. text is the internal error text (package-prefixed); code
// and message are what a client sees ("" takes the Kind's default).
func New(k Kind, code, message, text string) *Error {
	e := Of(k)
	if code == "" {
		code = e.Code
	}
	if message == "" {
		message = e.Message
	}
	return &Error{text: text, kind: k, code: code, message: message}
}

func (e *Error) Error() string { return e.text }

// Kind returns the failure class.
func (e *Error) Kind() Kind { return e.kind }

// Code returns the public UPPER_SNAKE code.
func (e *Error) Code() string { return e.code }

// Message returns the public message.
func (e *Error) Message() string { return e.message }

// Public is what an edge renders for an error.
type Public struct {
	Entry
	Kind Kind
}

// Lookup finds the first catalog sentinel in err's chain and returns its public
// rendering; an error without one is Internal.
func Lookup(err error) Public {
	var ce *Error
	if errors.As(err, &ce) {
		e := Of(ce.kind)
		e.Code, e.Message = ce.code, ce.message
		if d := Detail(err); d != "" {
			e.Message += ": " + d
		}
		return Public{Entry: e, Kind: ce.kind}
	}
	return Public{Entry: Of(Internal), Kind: Internal}
}

// detailError adds a public detail (a field name, a limit) to a sentinel.
type detailError struct {
	err    error
	detail string
}

func (e *detailError) Error() string { return e.err.Error() + ": " + e.detail }
func (e *detailError) Unwrap() error { return e.err }

// WithDetail returns err carrying a public detail, which Lookup appends to the public
// message ("Invalid query: max_depth: must be 1..10"). The detail must be written for
// clients: it is sent as is.
func WithDetail(err error, detail string) error { return &detailError{err: err, detail: detail} }

// Detail returns the public detail attached by WithDetail, or "".
func Detail(err error) string {
	var de *detailError
	if errors.As(err, &de) {
		return de.detail
	}
	return ""
}
