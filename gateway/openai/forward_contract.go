package openai

import (
	"context"

	"github.com/bizra/bizra/actors/inference"
)

// The pass-through contract with actors/inference: requests, answers and upstream
// errors are inference's own types; Forwarder is the narrow interface the front
// calls, which inference.Service satisfies through serviceForwarder (the front's
// benchmark puts an instant one behind it).

// ForwardRequest is a pass-through of one OpenAI-compatible call whose body the front
// does not interpret.
type ForwardRequest = inference.ForwardRequest

// ForwardResponse is a final upstream answer (2xx) of a non-streamed Forward.
type ForwardResponse = inference.ForwardResponse

// UpstreamError is a final error answer of a backend, returned wrapped; the front
// renders it unchanged in OpenAI's error shape (status, message, type, param, code and
// the Retry-After header). Its fields are already redacted by the inference service.
type UpstreamError = inference.UpstreamError

// ForwardStream is a streamed Forward: Next returns one raw "data: ..." event payload
// per call and io.EOF at the end; Close must be called.
type ForwardStream interface {
	Next() ([]byte, error)
	Usage() inference.Usage
	Backend() string
	Close() error
}

// Forwarder passes OpenAI calls through to the backends.
type Forwarder interface {
	Forward(ctx context.Context, req ForwardRequest) (ForwardResponse, error)
	OpenForwardStream(ctx context.Context, req ForwardRequest) (ForwardStream, error)
}

// serviceForwarder is the Forwarder of an inference.Service.
type serviceForwarder struct{ s *inference.Service }

func (f serviceForwarder) Forward(ctx context.Context, req ForwardRequest) (ForwardResponse, error) {
	return f.s.Forward(ctx, req)
}

func (f serviceForwarder) OpenForwardStream(ctx context.Context, req ForwardRequest) (ForwardStream, error) {
	st, err := f.s.OpenForwardStream(ctx, req)
	if err != nil {
		return nil, err
	}
	return st, nil
}
