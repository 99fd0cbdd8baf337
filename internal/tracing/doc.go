// Package tracing carries W3C Trace Context (https://www.w3.org/TR/trace-context/)
// through bizra and, when an OTLP endpoint is configured, records OpenTelemetry spans
// of the query stages and exports them over OTLP/HTTP.
//
// # traceparent
//
// Parse reads a traceparent header strictly: version 00 must be exactly 55 characters
// ("00-" 32 lowercase hex "-" 16 lowercase hex "-" 2 lowercase hex), the trace id and
// the parent id must not be all zeros, version ff is invalid; a later version is read
// by its first 55 characters and must be followed by '-' or end there (the spec's
// forward-compatibility rule). Every failure is ErrInvalid wrapped with the reason.
// Parent.String and Parent.AppendTo write the version 00 form.
//
// WithParent and FromContext carry a Parent in a context.Context: the edges (gateway,
// bridge) put the client's traceparent there, the query engine reads it.
//
// # Spans
//
// A *Tracer is built by New from Options. With Options.Endpoint empty New returns a
// nil *Tracer, and every method of a nil *Tracer and of the zero Span is a no-op that
// does no OpenTelemetry work and allocates nothing, so the hot path costs a nil check
// when tracing is off. With an endpoint, spans are batched by the SDK and exported to
// Endpoint (an http:// or https:// URL; a URL without a path gets /v1/traces, the
// OTLP/HTTP default). Start and Shutdown follow the component convention: Start is a
// no-op kept for the launcher, Shutdown flushes what is batched within ctx and is
// idempotent.
//
// # Concurrency
//
// Parent is a value. A Tracer and a Span are safe for concurrent use.
package tracing
