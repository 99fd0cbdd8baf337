package inference

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// ForwardRequest is a pass-through of one OpenAI-compatible call whose body the gateway
// does not interpret. It is plain data: the caller owns a copy of Body.
type ForwardRequest struct {
	// Path is the upstream path: "/v1/embeddings", "/v1/completions", "/v1/responses"
	// or "/v1/chat/completions".
	Path string
	// Model is the body's "model", for backend selection and fallback.
	Model string
	// Body is the client's JSON body, sent unchanged (only "model" is rewritten when a
	// backend knows the model under another name, e.g. Ollama's "name:latest").
	Body []byte
	// Stream: the body asked for "stream": true (an SSE answer, OpenForwardStream).
	Stream bool
	// Headers are forwarded upstream: "traceparent", "tracestate", "X-Request-Id" only.
	Headers map[string]string
	// Deadline bounds the whole call (a stream: until Close). Zero: the context's
	// deadline, else Options.DefaultTimeout.
	Deadline time.Time
}

// ForwardResponse is a final upstream answer (2xx) of a non-streamed Forward.
type ForwardResponse struct {
	Status      int
	ContentType string
	Body        []byte
	Backend     string // the backend's name
	Usage       Usage  // parsed from the body's "usage" when present
}

// Forward paths and limits.
var forwardPaths = map[string]bool{
	"/v1/embeddings": true, "/v1/completions": true, "/v1/responses": true, "/v1/chat/completions": true,
}

// MaxForwardBodyBytes bounds a ForwardRequest's body (the front's --max-body must not
// exceed it).
const MaxForwardBodyBytes = 64 << 20

func (r *ForwardRequest) validate() error {
	switch {
	case !forwardPaths[r.Path]:
		return fmt.Errorf("path %q: not a forwarded path: %w", r.Path, ErrInvalidRequest)
	case r.Model == "" || len(r.Model) > MaxModelIDBytes:
		return fmt.Errorf("model: 1..%d bytes: %w", MaxModelIDBytes, ErrInvalidRequest)
	case len(r.Body) == 0 || len(r.Body) > MaxForwardBodyBytes:
		return fmt.Errorf("body: 1..%d bytes: %w", MaxForwardBodyBytes, ErrInvalidRequest)
	}
	h, err := forwardHeaders(r.Headers)
	r.Headers = h
	return err
}

// forwardPath is the request path on b: an OpenAI-compatible base URL ends in the API
// version ("…/v1"), Ollama's is its root (it serves the OpenAI paths under /v1).
func (b *backend) forwardPath(path string) string {
	if b.cfg.Kind == KindOllama {
		return path
	}
	return strings.TrimPrefix(path, "/v1")
}

func (c candidate) forwardBody(req *ForwardRequest) ([]byte, error) {
	if c.model == req.Model {
		return req.Body, nil
	}
	return rewriteModel(req.Body, c.model)
}

// Forward passes one non-streamed call through to the first backend serving req.Model
// that answers 2xx, with the same in-flight slots, circuit breakers, retries and
// fallback as Chat (fallback.failed): connection failures and 5xx are retried and then
// fall back, a 429 falls back at once, another 4xx is final. "n" and every other member
// of the body pass through unchanged. Errors as Chat's (a wrapped *UpstreamError for a
// backend's error answer).
func (s *Service) Forward(ctx context.Context, req ForwardRequest) (ForwardResponse, error) {
	if err := req.validate(); err != nil {
		return ForwardResponse{}, err
	}
	cctx, finish, err := s.beginPass(ctx, req.Deadline)
	if err != nil {
		return ForwardResponse{}, err
	}
	defer finish()
	cands, err := s.candidates(cctx, req.Model)
	if err != nil {
		return ForwardResponse{}, err
	}
	f := &fallback{s: s, model: req.Model}
	for i, c := range cands {
		sl, done, ok := f.admit(c.b)
		if !ok {
			continue
		}
		body, err := c.forwardBody(&req)
		var r reply
		start := time.Now()
		if err == nil {
			err = c.b.client.withRetries(cctx, func() error {
				var err error
				r, err = c.b.client.exchange(cctx, http.MethodPost, c.b.forwardPath(req.Path), body, req.Headers)
				return err
			})
		}
		d := time.Since(start)
		c.b.mDuration.Update(d.Seconds())
		if err == nil {
			u, _ := parseUsage(r.body)
			f.succeeded(c.b, sl, done, req.Model, u)
			if r.ctype == "" {
				r.ctype = "application/json"
			}
			return ForwardResponse{Status: r.status, ContentType: r.ctype, Body: r.body, Backend: c.b.cfg.Name, Usage: u}, nil
		}
		if stop, serr := f.failed(cctx, c.b, sl, done, err, nextName(cands, i), d); stop {
			return ForwardResponse{}, serr
		}
	}
	return ForwardResponse{}, f.exhausted(len(cands))
}

// ForwardStream is a streamed Forward: Next returns each SSE event's data payload as
// the backend sent it, io.EOF at the end ("data: [DONE]", or the end of the body after
// at least one event, as the Responses API ends). Close must always be called. Used by
// one goroutine at a time.
type ForwardStream struct{ st *ChatStream }

// OpenForwardStream starts a streamed Forward (rules and errors as Forward's; retries
// and fallback happen only until a backend answers 2xx). ctx must stay alive until
// Close: cancelling it cancels the backend request.
func (s *Service) OpenForwardStream(ctx context.Context, req ForwardRequest) (*ForwardStream, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	cctx, finish, err := s.beginPass(ctx, req.Deadline)
	if err != nil {
		return nil, err
	}
	cands, err := s.candidates(cctx, req.Model)
	if err != nil {
		finish()
		return nil, err
	}
	st, err := s.openStream(cctx, finish, cands, req.Model, req.Headers, func(c candidate) (string, []byte, error) {
		b, err := c.forwardBody(&req)
		return c.b.forwardPath(req.Path), b, err
	}, func(st *ChatStream) { st.raw = true })
	if err != nil {
		return nil, err
	}
	return &ForwardStream{st: st}, nil
}

// Next returns the next event's data payload (valid until the next call), io.EOF at the
// end. Errors: ErrBackend or ErrBadResponse when the backend broke off, ErrTimeout or
// ErrCanceled when the context ended.
func (fs *ForwardStream) Next() ([]byte, error) { return fs.st.Next() }

// Usage is the stream's usage: the backend's report when an event carried one, else an
// estimate (one token per content event).
func (fs *ForwardStream) Usage() Usage { return fs.st.Usage() }

// Backend names the backend serving the stream.
func (fs *ForwardStream) Backend() string { return fs.st.Backend() }

// Close ends the stream, as ChatStream.Close. Idempotent.
func (fs *ForwardStream) Close() error { return fs.st.Close() }

// usageWire is a "usage" object of any OpenAI answer shape.
type usageWire struct {
	PromptTokens     *int `json:"prompt_tokens"`
	CompletionTokens *int `json:"completion_tokens"`
	InputTokens      *int `json:"input_tokens"`
	OutputTokens     *int `json:"output_tokens"`
}

// parseUsage reads the usage of an OpenAI answer or stream event: "usage" with
// prompt_tokens/completion_tokens (chat, completions, embeddings) or
// input_tokens/output_tokens (responses), at the top or under "response" (a responses
// stream's response.completed event). It decodes only the last "usage" member's value
// (an answer body can be megabytes of text or vectors; a quote inside a JSON string is
// escaped, so the key cannot be matched inside one).
func parseUsage(b []byte) (Usage, bool) {
	i := bytes.LastIndex(b, []byte(`"usage"`))
	if i < 0 {
		return Usage{}, false
	}
	rest := bytes.TrimLeft(b[i+len(`"usage"`):], " \t\r\n")
	if len(rest) == 0 || rest[0] != ':' {
		return Usage{}, false
	}
	var u *usageWire
	if json.NewDecoder(bytes.NewReader(rest[1:])).Decode(&u) != nil || u == nil {
		return Usage{}, false
	}
	val := func(a, b *int) int {
		switch {
		case a != nil && *a > 0:
			return *a
		case b != nil && *b > 0:
			return *b
		}
		return 0
	}
	return Usage{PromptTokens: val(u.PromptTokens, u.InputTokens), CompletionTokens: val(u.CompletionTokens, u.OutputTokens), Reported: true}, true
}
