package inference

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// ChatMessage is one message of a pass-through request, its content flattened to text.
type ChatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// ChatRequest is an OpenAI chat-completions request for an external model (Chat,
// OpenChatStream, ChatStream). It is plain data: the caller copies it out of its
// transport buffers first.
type ChatRequest struct {
	// Model is the model id the client asked for; the backends that list it serve it,
	// in fallback order.
	Model string
	// Body is the client's OpenAI request body, forwarded verbatim to OpenAI-compatible
	// backends (its "model" and "stream" must agree with Model and Stream). nil: the
	// body is encoded from the fields below. Ollama backends always get a body encoded
	// from the fields below.
	Body []byte
	// Messages, MaxTokens (0: the backend's default), Temperature, TopP and Stop (nil:
	// the backend's default) and IncludeUsage (stream_options.include_usage) are the
	// request's parameters.
	Messages     []ChatMessage
	MaxTokens    int
	Temperature  *float64
	TopP         *float64
	Stop         []string
	Stream       bool
	IncludeUsage bool
	// Deadline bounds the whole call (for a stream: until Close), retries and fallback
	// included. Zero: the context's deadline, else Options.DefaultTimeout.
	Deadline time.Time
	// Headers are forwarded upstream: "traceparent", "tracestate" and "X-Request-Id"
	// only (other names are dropped; a malformed value is refused).
	Headers map[string]string
}

// Usage is a call's token count, what was really sent to and received from the
// backends: as reported by the backend (Reported), else estimated.
type Usage struct {
	PromptTokens     int
	CompletionTokens int
	Reported         bool
}

// ChatResponse is a pass-through answer.
type ChatResponse struct {
	// Body is an OpenAI chat.completion object: the backend's bytes unchanged for
	// OpenAI-compatible backends, translated for Ollama.
	Body     []byte
	Backend  string
	Model    string
	Usage    Usage
	Duration time.Duration // time spent waiting on the backend (all attempts)
}

// ModelInfo is one model an external backend lists.
type ModelInfo struct {
	ID      string
	Backend string
}

// Limits of a ChatRequest.
const (
	MaxModelIDBytes  = 256
	MaxChatBodyBytes = 8 << 20
	MaxChatMessages  = 10000
	maxSSELineBytes  = 1 << 20
)

func (r *ChatRequest) validate() error {
	switch {
	case r.Model == "" || len(r.Model) > MaxModelIDBytes:
		return fmt.Errorf("model: 1..%d bytes: %w", MaxModelIDBytes, ErrInvalidRequest)
	case len(r.Body) > MaxChatBodyBytes:
		return fmt.Errorf("body over %d bytes: %w", MaxChatBodyBytes, ErrInvalidRequest)
	case len(r.Messages) > MaxChatMessages:
		return fmt.Errorf("more than %d messages: %w", MaxChatMessages, ErrInvalidRequest)
	case r.Body == nil && len(r.Messages) == 0:
		return fmt.Errorf("no messages: %w", ErrInvalidRequest)
	case r.MaxTokens < 0:
		return fmt.Errorf("max_tokens negative: %w", ErrInvalidRequest)
	}
	h, err := forwardHeaders(r.Headers)
	r.Headers = h
	return err
}

// Chat passes one non-streaming chat completion through to the first backend offering
// req.Model that answers, with the backends' in-flight limits, circuit breakers, retries
// (connection errors and 5xx, with jittered backoff within the deadline) and fallback
// order (the policy of fallback.failed). It runs on the caller's goroutine and blocks
// until the answer or the deadline. Errors (catalog): ErrModelNotFound (no backend lists
// the model), ErrOverloaded (every candidate at its limit), ErrBackend (every candidate
// failed), a wrapped *UpstreamError (a backend's 4xx, or the last 5xx/429; errors.Is
// matches ErrBackendRejected, ErrOverloaded or ErrBackend), ErrTimeout, ErrCanceled,
// ErrInvalidRequest, ErrStopped.
func (s *Service) Chat(ctx context.Context, req ChatRequest) (ChatResponse, error) {
	if err := req.validate(); err != nil {
		return ChatResponse{}, err
	}
	req.Stream = false
	cctx, finish, err := s.beginPass(ctx, req.Deadline)
	if err != nil {
		return ChatResponse{}, err
	}
	defer finish()
	cands, err := s.candidates(cctx, req.Model)
	if err != nil {
		return ChatResponse{}, err
	}
	f := &fallback{s: s, model: req.Model}
	var waited time.Duration
	for i, c := range cands {
		sl, done, ok := f.admit(c.b)
		if !ok {
			continue
		}
		path, body, err := c.wireBody(&req)
		var raw []byte
		start := time.Now()
		if err == nil {
			err = c.b.client.withRetries(cctx, func() error {
				r, err := c.b.client.exchange(cctx, http.MethodPost, path, body, req.Headers)
				raw = r.body
				return err
			})
		}
		d := time.Since(start)
		waited += d
		c.b.mDuration.Update(d.Seconds())
		var res ChatResponse
		if err == nil {
			res, err = c.decode(raw, &req, s.rt.nextID())
		}
		if err == nil {
			f.succeeded(c.b, sl, done, req.Model, res.Usage)
			res.Backend, res.Duration = c.b.cfg.Name, waited
			return res, nil
		}
		if stop, serr := f.failed(cctx, c.b, sl, done, err, nextName(cands, i), d); stop {
			return ChatResponse{}, serr
		}
	}
	return ChatResponse{}, f.exhausted(len(cands))
}

// wireBody is the request path and body for this candidate's wire format.
func (c candidate) wireBody(req *ChatRequest) (string, []byte, error) {
	if c.b.cfg.Kind == KindOllama {
		opts := map[string]any{}
		if req.MaxTokens > 0 {
			opts["num_predict"] = req.MaxTokens
		}
		if req.Temperature != nil {
			opts["temperature"] = *req.Temperature
		}
		if req.TopP != nil {
			opts["top_p"] = *req.TopP
		}
		if len(req.Stop) > 0 {
			opts["stop"] = req.Stop
		}
		m := map[string]any{"model": c.model, "messages": nonNilMessages(req.Messages), "stream": req.Stream, "keep_alive": ollamaKeepAlive}
		if len(opts) > 0 {
			m["options"] = opts
		}
		b, err := json.Marshal(m)
		if err != nil {
			return "", nil, failure(ErrInvalidRequest, "unencodable request", err)
		}
		return "/api/chat", b, nil
	}
	if req.Body != nil && c.model == req.Model {
		return "/chat/completions", req.Body, nil
	}
	if req.Body != nil {
		b, err := rewriteModel(req.Body, c.model)
		return "/chat/completions", b, err
	}
	m := map[string]any{"model": c.model, "messages": nonNilMessages(req.Messages), "stream": req.Stream}
	if req.MaxTokens > 0 {
		m["max_tokens"] = req.MaxTokens
	}
	if req.Temperature != nil {
		m["temperature"] = *req.Temperature
	}
	if req.TopP != nil {
		m["top_p"] = *req.TopP
	}
	if len(req.Stop) > 0 {
		m["stop"] = req.Stop
	}
	if req.Stream && req.IncludeUsage {
		m["stream_options"] = map[string]any{"include_usage": true}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", nil, failure(ErrInvalidRequest, "unencodable request", err)
	}
	return "/chat/completions", b, nil
}

// rewriteModel returns body with its "model" replaced (the backend knows the model
// under another name); every other member is kept.
func rewriteModel(body []byte, model string) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, failure(ErrInvalidRequest, "unparsable request body", err)
	}
	mb, _ := json.Marshal(model)
	m["model"] = mb
	b, err := json.Marshal(m)
	if err != nil {
		return nil, failure(ErrInvalidRequest, "unencodable request", err)
	}
	return b, nil
}

func nonNilMessages(m []ChatMessage) []ChatMessage {
	if m == nil {
		return []ChatMessage{}
	}
	return m
}

// openAIUsage is the usage object of both wire shapes.
type openAIUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// decode checks a 200 answer and returns it as an OpenAI chat.completion.
func (c candidate) decode(raw []byte, req *ChatRequest, seq uint64) (ChatResponse, error) {
	if c.b.cfg.Kind == KindOllama {
		r, err := decodeOllamaChat(raw)
		if err != nil {
			return ChatResponse{}, err
		}
		res := ChatResponse{Model: req.Model, Usage: usageOf(r.PromptTokens, r.CompletionTokens, r.UsageReported, req.Messages, len(r.Text))}
		u := openAIUsage{res.Usage.PromptTokens, res.Usage.CompletionTokens, res.Usage.PromptTokens + res.Usage.CompletionTokens}
		res.Body, err = json.Marshal(map[string]any{
			"id": chatID(seq), "object": "chat.completion", "created": time.Now().Unix(), "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
				"message": map[string]any{"role": "assistant", "content": r.Text}}},
			"usage": u,
		})
		if err != nil {
			return ChatResponse{}, badResponse("unencodable answer", err)
		}
		return res, nil
	}
	var r struct {
		Model   string            `json:"model"`
		Choices []json.RawMessage `json:"choices"`
		Usage   *openAIUsage      `json:"usage"`
		Error   json.RawMessage   `json:"error"`
	}
	if err := decodeReply(raw, &r, &r.Error); err != nil {
		return ChatResponse{}, err
	}
	if len(r.Choices) == 0 {
		return ChatResponse{}, badResponse("empty response", errors.New("no choices"))
	}
	res := ChatResponse{Body: raw, Model: r.Model}
	if res.Model == "" {
		res.Model = req.Model
	}
	if u := r.Usage; u != nil && u.PromptTokens >= 0 && u.CompletionTokens >= 0 {
		res.Usage = Usage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, Reported: true}
	} else {
		res.Usage = usageOf(0, 0, false, req.Messages, len(raw)/2)
	}
	return res, nil
}

// usageOf returns the reported usage, else an estimate from the prompt and answer sizes.
func usageOf(prompt, completion int, reported bool, msgs []ChatMessage, answerChars int) Usage {
	if reported {
		return Usage{PromptTokens: prompt, CompletionTokens: completion, Reported: true}
	}
	chars := 0
	for _, m := range msgs {
		chars += len(m.Content)
	}
	return Usage{PromptTokens: estimateTokens(chars), CompletionTokens: estimateTokens(answerChars)}
}

func chatID(seq uint64) string { return "chatcmpl-bizra-" + strconv.FormatUint(seq, 36) }
