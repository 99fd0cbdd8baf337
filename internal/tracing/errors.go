package tracing

import "github.com/bizra/bizra/internal/catalog"

// ErrInvalid is a traceparent that does not follow the W3C Trace Context format.
var ErrInvalid = catalog.New(catalog.InvalidInput, "INVALID_TRACEPARENT",
	"traceparent must be W3C Trace Context: 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>",
	"tracing: invalid traceparent")

// ErrEndpoint is an OTLP endpoint that is not an http:// or https:// URL with a host.
var ErrEndpoint = catalog.New(catalog.InvalidInput, "INVALID_OTLP_ENDPOINT",
	"the OTLP endpoint must be an http:// or https:// URL", "tracing: invalid OTLP endpoint")
