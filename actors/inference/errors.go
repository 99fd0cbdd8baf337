package inference

import (
	"errors"

	"github.com/bizra/bizra/internal/catalog"
)

// Sentinels of the inference package. Wrap them with context (fmt.Errorf("...: %w", err));
// edges render them through catalog.Lookup.
var (
	// ErrNoEvidence: the embedded engine had no evidence sentence to answer from. The
	// pipeline turns it into success:false with error NO_EVIDENCE.
	ErrNoEvidence = catalog.New(catalog.NotFound, "NO_EVIDENCE",
		"Nothing in the local data matched the query", "inference: no evidence")
	// ErrInvalidRequest: the request is malformed (empty query, too much evidence, ...).
	ErrInvalidRequest = catalog.New(catalog.InvalidInput, "INVALID_INFERENCE_REQUEST",
		"Invalid inference request", "inference: invalid request")
	// ErrInvalidConfig: a backend variable or option is malformed.
	ErrInvalidConfig = catalog.New(catalog.InvalidInput, "INVALID_INFERENCE_CONFIG",
		"Invalid inference configuration", "inference: invalid config")
	// ErrTimeout: the request's deadline passed before a backend answered.
	ErrTimeout = catalog.New(catalog.Timeout, "", "", "inference: deadline exceeded")
	// ErrOverloaded: a backend already has its maximum number of requests in flight.
	ErrOverloaded = catalog.New(catalog.Overloaded, "", "", "inference: backend overloaded")
	// ErrCircuitOpen: the backend's circuit breaker refuses requests.
	ErrCircuitOpen = catalog.New(catalog.Unavailable, "BACKEND_UNAVAILABLE",
		"The inference backend is unavailable", "inference: circuit open")
	// ErrBackend: the backend failed (connection, HTTP status).
	ErrBackend = catalog.New(catalog.Unavailable, "BACKEND_ERROR",
		"The inference backend failed", "inference: backend error")
	// ErrBadResponse: the backend answered 200 with something that is not an answer
	// (malformed JSON, no choices, an error body, an empty text).
	ErrBadResponse = catalog.New(catalog.Unavailable, "BACKEND_BAD_RESPONSE",
		"The inference backend returned an unusable response", "inference: bad backend response")
	// ErrNoModel: no external model is configured or reachable (Decompose).
	ErrNoModel = catalog.New(catalog.Unavailable, "NO_MODEL",
		"No inference model is available", "inference: no model available")
	// ErrCanceled: the caller canceled the request.
	ErrCanceled = catalog.New(catalog.Unavailable, "CANCELED",
		"The request was canceled", "inference: canceled")
	// ErrModelNotFound: no external backend lists the requested model (pass-through).
	ErrModelNotFound = catalog.New(catalog.NotFound, "MODEL_NOT_FOUND",
		"The model does not exist or no backend serves it", "inference: model not found")
	// ErrBackendRejected: a backend answered a pass-through request with a 4xx other
	// than 429: the request's fault, so no fallback and no circuit count. The backend's
	// own answer is the *UpstreamError that wraps it.
	ErrBackendRejected = catalog.New(catalog.InvalidInput, "BACKEND_REJECTED",
		"The inference backend rejected the request as invalid", "inference: backend rejected the request")
	// ErrStopped: the service is not running (not started, or shut down).
	ErrStopped = catalog.New(catalog.Unavailable, "", "", "inference: service stopped")
)

// replyError is a failure that crosses an actor boundary inside a message: its
// sentinel (errors.Is, catalog.Lookup) and a short public reason. Messages carry it as
// an error value, never as a code string to be matched again.
type replyError struct {
	sentinel *catalog.Error
	reason   string
}

func (e *replyError) Error() string {
	if e.reason == "" {
		return e.sentinel.Error()
	}
	return e.reason + ": " + e.sentinel.Error()
}

func (e *replyError) Unwrap() error { return e.sentinel }

// failWith is the reply error of sentinel s with public reason.
func failWith(s *catalog.Error, reason string) error { return &replyError{sentinel: s, reason: reason} }

// Reason returns the short public reason of a reply's error ("" for nil).
func Reason(err error) string {
	var re *replyError
	if errors.As(err, &re) {
		return re.reason
	}
	if err != nil {
		return catalog.Lookup(err).Message
	}
	return ""
}
