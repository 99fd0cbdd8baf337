package openai

import (
	"context"
	"fmt"
	"time"

	"github.com/bizra/bizra/actors/inference"
)

// This file is the front's side of the pass-through contract with actors/inference
// (issue 17): the names inference.Service is to provide (Forward, OpenForwardStream,
// UpstreamError). Until they exist there, the front codes against these local
// mirrors; once they do, the types below become aliases (type ForwardRequest =
// inference.ForwardRequest, ...) and Options.Forward is set to the service through a
// three-line adapter, which is the whole integration.

// ForwardRequest is a pass-through of one OpenAI-compatible call whose body the front
// does not interpret.
type ForwardRequest struct {
	Path     string            // upstream path: "/v1/embeddings", "/v1/completions", "/v1/responses", "/v1/chat/completions"
	Model    string            // the body's "model", for backend selection and fallback
	Body     []byte            // the client's JSON body, sent unchanged (a copy the callee may keep)
	Stream   bool              // the body asked for "stream": true (SSE answer)
	Headers  map[string]string // forwarded upstream: "traceparent", "tracestate", "X-Request-Id" (only these)
	Deadline time.Time
}

// ForwardResponse is a final upstream answer (2xx) of a non-streamed Forward.
type ForwardResponse struct {
	Status      int
	ContentType string
	Body        []byte
	Backend     string
	Usage       inference.Usage
}

// ForwardStream is a streamed Forward: Next returns one raw "data: ..." event payload
// per call and io.EOF at the end; Close must be called.
type ForwardStream interface {
	Next() ([]byte, error)
	Usage() inference.Usage
	Backend() string
	Close() error
}

// Forwarder passes OpenAI calls through to the backends (inference.Service, through
// an adapter, once it has Forward).
type Forwarder interface {
	Forward(ctx context.Context, req ForwardRequest) (ForwardResponse, error)
	OpenForwardStream(ctx context.Context, req ForwardRequest) (ForwardStream, error)
}

// UpstreamError is a final error answer of a backend, returned wrapped; the front
// renders it unchanged in OpenAI's error shape (status, message, type, param, code and
// the Retry-After header). Its fields are already redacted by the inference service.
type UpstreamError struct {
	Status                     int
	Type, Code, Param, Message string
	RetryAfter                 string
	Backend                    string
}

func (e *UpstreamError) Error() string {
	return fmt.Sprintf("inference: backend %s answered %d: %s", e.Backend, e.Status, e.Message)
}
