package inference

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sony/gobreaker/v2"
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

// Buckets of the streaming histograms (OpenTelemetry GenAI semantic conventions).
var (
	ttftBuckets = []float64{0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}
	itlBuckets  = []float64{0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5}
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

// beginPass admits one pass-through call: it is counted for Shutdown's wait and runs
// under a context with the call's deadline that Shutdown's cancel also ends. finish
// must be called exactly once.
func (s *Service) beginPass(ctx context.Context, dl time.Time) (context.Context, func(), error) {
	s.passMu.RLock()
	if !s.started.Load() || s.rt.stopping.Load() {
		s.passMu.RUnlock()
		return nil, nil, ErrStopped
	}
	s.passWG.Add(1)
	s.passMu.RUnlock()
	if err := ctx.Err(); err != nil {
		s.passWG.Done()
		return nil, nil, ctxErr(err)
	}
	cctx, cancel := context.WithDeadline(ctx, s.deadline(ctx, dl))
	stop := context.AfterFunc(s.rt.ctx, cancel)
	return cctx, func() { stop(); cancel(); s.passWG.Done() }, nil
}

// candidate is a backend that offers the requested model, under its wire name.
type candidate struct {
	b     *backend
	model string
}

// resolve returns the backend's wire name for model when the backend offers it.
func (b *backend) resolve(model string) (string, bool) {
	if b.cfg.Model == model {
		return model, true
	}
	p := b.models.Load()
	if p == nil {
		return "", false
	}
	if slices.Contains(*p, model) {
		return model, true
	}
	if b.cfg.Kind == KindOllama && !strings.Contains(model, ":") && slices.Contains(*p, model+":latest") {
		return model + ":latest", true
	}
	return "", false
}

// refreshModels lists b's models now, at most once per second per backend. Callers
// that arrive while a listing runs wait for it and use its result.
func (s *Service) refreshModels(ctx context.Context, b *backend) {
	asked := time.Now().UnixNano()
	b.listMu.Lock()
	defer b.listMu.Unlock()
	last := b.listedAt.Load()
	if last >= asked || asked-last < int64(time.Second) {
		return // listed meanwhile, or too recently
	}
	lctx, cancel := context.WithTimeout(ctx, s.opts.ProbeTimeout)
	defer cancel()
	if ms, err := b.client.models(lctx); err == nil {
		b.models.Store(&ms)
	}
	b.listedAt.Store(time.Now().UnixNano())
}

// candidates returns the backends that offer model, in fallback order. When none does,
// the backends' lists are refreshed (rate-limited) and looked at again. The error is
// ErrModelNotFound when every reachable backend has listed its models and none offers
// model, and ErrBackend when some backend's list is unknown (never listed: it may be
// down or too slow to answer its listing), so a caller is not told "no such model"
// merely because a listing failed under load.
func (s *Service) candidates(ctx context.Context, model string) ([]candidate, error) {
	find := func() []candidate {
		var out []candidate
		for _, b := range s.backends {
			if m, ok := b.resolve(model); ok {
				out = append(out, candidate{b: b, model: m})
			}
		}
		return out
	}
	// A backend that has never listed its models may offer this one: list it first, so
	// the fallback order is complete.
	for _, b := range s.backends {
		if b.models.Load() == nil && b.breaker.State() != gobreaker.StateOpen {
			s.refreshModels(ctx, b)
		}
	}
	if out := find(); len(out) > 0 {
		return out, nil
	}
	for _, b := range s.backends {
		if b.breaker.State() != gobreaker.StateOpen {
			s.refreshModels(ctx, b)
		}
	}
	if out := find(); len(out) > 0 {
		return out, nil
	}
	for _, b := range s.backends {
		if b.models.Load() == nil {
			return nil, fmt.Errorf("model %q: listing of backend %s unavailable: %w", model, b.cfg.Name, ErrBackend)
		}
	}
	return nil, fmt.Errorf("model %q: %w", model, ErrModelNotFound)
}

// Models lists the models of the external backends in fallback order (a model listed
// by several backends appears once, under the first). Lists come from the health
// probes; a backend not yet listed is asked now (bounded by ctx and ProbeTimeout).
func (s *Service) Models(ctx context.Context) []ModelInfo {
	var out []ModelInfo
	seen := map[string]bool{}
	for _, b := range s.backends {
		if b.models.Load() == nil {
			s.refreshModels(ctx, b)
		}
		var ids []string
		if p := b.models.Load(); p != nil {
			ids = *p
		}
		if b.cfg.Model != "" && !slices.Contains(ids, b.cfg.Model) {
			ids = append([]string{b.cfg.Model}, ids...)
		}
		for _, id := range ids {
			if !seen[id] {
				seen[id] = true
				out = append(out, ModelInfo{ID: id, Backend: b.cfg.Name})
			}
		}
	}
	return out
}

// fallback is the one fallback policy of the pass-through (Chat, OpenChatStream,
// Forward, OpenForwardStream): the candidates in order, each admitted by its in-flight
// slot and circuit breaker, each failure settled by failed.
type fallback struct {
	s       *Service
	model   string
	reasons []string
	busy    int            // candidates refused for overload
	last    *UpstreamError // the last 5xx or 429 answer, returned when every candidate failed
}

// admit takes a slot and a circuit permission on b; on refusal it records why.
func (f *fallback) admit(b *backend) (*slot, func(error), bool) {
	name := b.cfg.Name
	sl := b.takeSlot()
	if sl == nil {
		f.busy++
		f.s.rt.countRequest(name, "overloaded")
		f.reasons = append(f.reasons, name+": overloaded")
		return nil, nil, false
	}
	done, err := b.breaker.Allow()
	if err != nil {
		sl.release()
		f.s.rt.countRequest(name, "circuit_open")
		f.reasons = append(f.reasons, name+": circuit open")
		return nil, nil, false
	}
	return sl, done, true
}

// failed settles a failed attempt on b (after its retries) and says whether to stop
// (with the error to return) or to try the next backend:
//   - the caller's deadline or cancel: stop (no circuit count);
//   - a 429: next backend (no circuit count: the backend works, it is busy);
//   - another 4xx: stop with the UpstreamError (the request's fault: no circuit count);
//   - a 5xx, a connection failure, an unusable answer: next backend, counted against
//     the circuit.
func (f *fallback) failed(ctx context.Context, b *backend, sl *slot, done func(error), err error) (bool, error) {
	sl.release()
	name := b.cfg.Name
	if ctx.Err() != nil {
		done(errExcluded)
		cerr := ctxFailure(ctx)
		outcome := "canceled"
		if errors.Is(cerr, ErrTimeout) {
			outcome = "timeout"
		}
		f.s.rt.countRequest(name, outcome)
		return true, cerr
	}
	var be *backendError
	if !errors.As(err, &be) {
		be = failure(ErrBackend, "backend error", err)
	}
	f.s.rt.log.Debug("inference pass-through failed", "backend", name, "reason", be.reason, "err", err)
	switch {
	case be.upstream != nil && be.status == http.StatusTooManyRequests:
		done(errExcluded)
		f.s.rt.countRequest(name, "rate_limited")
		f.last = be.upstream
	case be.upstream != nil && be.status >= 400 && be.status < 500:
		done(errExcluded)
		f.s.rt.countRequest(name, "rejected")
		return true, fmt.Errorf("backend %s answered %d: %w", name, be.status, be.upstream)
	default:
		done(errors.New(be.reason))
		b.health.Store(healthFailing)
		outcome := "error"
		if errors.Is(be.sentinel, ErrBadResponse) {
			outcome = "bad_response"
		}
		f.s.rt.countRequest(name, outcome)
		if be.upstream != nil {
			f.last = be.upstream
		}
	}
	f.reasons = append(f.reasons, name+": "+be.reason)
	return false, nil
}

// exhausted is the error once every candidate failed or refused: the last upstream
// 5xx or 429 when there was one, else overload or a backend failure.
func (f *fallback) exhausted(n int) error {
	switch {
	case f.last != nil:
		return fmt.Errorf("all backends serving %q failed: %s: %w", f.model, strings.Join(f.reasons, "; "), f.last)
	case f.busy == n:
		return fmt.Errorf("every backend serving %q is at its in-flight limit: %w", f.model, ErrOverloaded)
	}
	return fmt.Errorf("all backends failed: %s: %w", strings.Join(f.reasons, "; "), ErrBackend)
}

func (f *fallback) succeeded(b *backend, sl *slot, done func(error), model string, u Usage) {
	sl.release()
	done(nil)
	b.health.Store(healthOK)
	f.s.rt.countRequest(b.cfg.Name, "success")
	f.s.rt.tokens.count(model, u)
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
	for _, c := range cands {
		sl, done, ok := f.admit(c.b)
		if !ok {
			continue
		}
		path, body, err := c.wireBody(&req)
		var raw []byte
		start := time.Now()
		if err == nil {
			err = c.b.client.withRetries(cctx, func() error {
				var err error
				raw, _, err = c.b.client.exchange(cctx, http.MethodPost, path, body, req.Headers)
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
		if stop, serr := f.failed(cctx, c.b, sl, done, err); stop {
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

// --- streaming ---

// ChatStream is one streamed pass-through completion. Next returns the chunks as they
// arrive; Close ends it (cancelling the backend request when it is still running) and
// must always be called. A ChatStream is used by one goroutine at a time.
type ChatStream struct {
	s       *Service
	b       *backend
	sl      *slot
	done    func(error) // circuit outcome
	finish  func()      // beginPass
	cancel  context.CancelFunc
	ctx     context.Context
	body    io.ReadCloser
	rd      *bufio.Reader
	ndjson  bool   // Ollama's native stream (translated); else SSE passed on
	raw     bool   // a Forward stream: any payload counts, usage in any OpenAI shape
	model   string // as the client named it
	include bool   // stream_options.include_usage (Ollama translation)
	msgs    []ChatMessage
	id      string
	created int64

	start, last time.Time
	chunks      int // payloads with content
	events      int // payloads
	usage       Usage
	eof         bool
	failErr     error // a backend failure mid-stream
	closed      bool
	line        []byte
	out         []byte
	queued      [][]byte // translated chunks waiting to be returned (Ollama's final chunks)
}

// OpenChatStream starts a streamed completion on the first backend offering req.Model
// that accepts it (same rules and errors as Chat; retries and fallback happen only until
// a backend answers 200, never mid-stream). ctx must stay alive until Close: cancelling
// it cancels the backend request.
func (s *Service) OpenChatStream(ctx context.Context, req ChatRequest) (*ChatStream, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	req.Stream = true
	cctx, finish, err := s.beginPass(ctx, req.Deadline)
	if err != nil {
		return nil, err
	}
	cands, err := s.candidates(cctx, req.Model)
	if err != nil {
		finish()
		return nil, err
	}
	return s.openStream(cctx, finish, cands, req.Model, req.Headers, func(c candidate) (string, []byte, error) {
		return c.wireBody(&req)
	}, func(st *ChatStream) {
		st.ndjson = st.b.cfg.Kind == KindOllama
		st.include, st.msgs = req.IncludeUsage, req.Messages
	})
}

// openStream runs the fallback for a stream: on each candidate, open with the retry
// policy until a backend answers 2xx (never mid-stream). finish ends the admission of
// beginPass (called here on failure, by Close on success).
func (s *Service) openStream(cctx context.Context, finish func(), cands []candidate, model string, hdr map[string]string,
	wire func(candidate) (string, []byte, error), init func(*ChatStream)) (*ChatStream, error) {
	f := &fallback{s: s, model: model}
	for _, c := range cands {
		sl, done, ok := f.admit(c.b)
		if !ok {
			continue
		}
		start := time.Now()
		path, body, err := wire(c)
		var resp *http.Response
		var acancel context.CancelFunc
		if err == nil {
			err = c.b.client.withRetries(cctx, func() error {
				var err error
				resp, acancel, err = c.b.client.open(cctx, path, body, hdr)
				return err
			})
		}
		if err == nil {
			st := &ChatStream{s: s, b: c.b, sl: sl, done: done, finish: finish, cancel: acancel, ctx: cctx,
				body: resp.Body, rd: bufio.NewReaderSize(resp.Body, 16<<10),
				model: model, id: chatID(s.rt.nextID()), created: time.Now().Unix(), start: start}
			init(st)
			return st, nil
		}
		c.b.mDuration.Update(time.Since(start).Seconds())
		if stop, serr := f.failed(cctx, c.b, sl, done, err); stop {
			finish()
			return nil, serr
		}
	}
	finish()
	return nil, f.exhausted(len(cands))
}

// Backend names the backend serving the stream.
func (st *ChatStream) Backend() string { return st.b.cfg.Name }

// Usage is the stream's token count so far: the backend's report when it sent one
// (OpenAI stream_options.include_usage, Ollama's final line), else an estimate (one
// token per content chunk for the completion).
func (st *ChatStream) Usage() Usage {
	if st.usage.Reported {
		return st.usage
	}
	u := usageOf(0, 0, false, st.msgs, 0)
	u.CompletionTokens = st.chunks
	return u
}

// Next returns the next chunk: the JSON payload of one SSE event in the OpenAI
// chat.completion.chunk format (without the "data: " framing). It returns io.EOF at the
// end of the stream ("data: [DONE]"). The slice is valid until the next call.
// Errors: ErrBackend or ErrBadResponse when the backend broke off or sent garbage,
// ErrTimeout or ErrCanceled when the context ended.
func (st *ChatStream) Next() ([]byte, error) {
	if st.closed {
		return nil, fmt.Errorf("stream closed: %w", ErrCanceled)
	}
	if len(st.queued) > 0 {
		c := st.queued[0]
		st.queued = st.queued[1:]
		return c, nil
	}
	if st.eof {
		return nil, io.EOF
	}
	if st.failErr != nil {
		return nil, st.failErr
	}
	for {
		line, err := st.readLine()
		if err != nil {
			if err == io.EOF && !st.ndjson && (st.chunks > 0 || (st.raw && st.events > 0)) {
				st.eof = true // the backend closed without [DONE]: accept what came
				return nil, io.EOF
			}
			return nil, st.fail(err)
		}
		var payload []byte
		if st.ndjson {
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			p, end, terr := st.translateOllama(line)
			if terr != nil {
				return nil, st.fail(terr)
			}
			if end {
				st.eof = true
			}
			if p == nil {
				if st.eof {
					return st.Next()
				}
				continue
			}
			payload = p
		} else {
			p, ok := sseData(line)
			if !ok {
				continue
			}
			if bytes.Equal(p, []byte("[DONE]")) {
				st.eof = true
				return nil, io.EOF
			}
			payload = p
			if bytes.Contains(p, []byte(`"usage"`)) {
				if u, ok := parseUsage(p); ok {
					st.usage = u
				}
			}
		}
		st.events++
		st.observeChunk()
		if bytes.Contains(payload, []byte(`"content"`)) {
			st.chunks++
		}
		return payload, nil
	}
}

// observeChunk records time to first token or the inter-token gap.
func (st *ChatStream) observeChunk() {
	now := time.Now()
	if st.last.IsZero() {
		st.b.mTTFT.Update(now.Sub(st.start).Seconds())
	} else {
		st.b.mITL.Update(now.Sub(st.last).Seconds())
	}
	st.last = now
}

// fail records a mid-stream failure and returns its error.
func (st *ChatStream) fail(err error) error {
	if st.ctx.Err() != nil {
		st.failErr = ctxFailure(st.ctx)
		return st.failErr
	}
	var be *backendError
	if !errors.As(err, &be) {
		be = failure(ErrBackend, "stream broken", err)
	}
	st.failErr = be
	return be
}

// readLine returns the next line without its end of line (bounded by maxSSELineBytes).
func (st *ChatStream) readLine() ([]byte, error) {
	st.line = st.line[:0]
	for {
		frag, err := st.rd.ReadSlice('\n')
		if err == nil {
			if len(st.line) == 0 {
				return bytes.TrimRight(frag, "\r\n"), nil
			}
			st.line = append(st.line, frag...)
			return bytes.TrimRight(st.line, "\r\n"), nil
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			st.line = append(st.line, frag...)
			if len(st.line) > maxSSELineBytes {
				return nil, badResponse("oversized stream line", fmt.Errorf("line over %d bytes", maxSSELineBytes))
			}
			continue
		}
		if err == io.EOF && len(frag)+len(st.line) > 0 {
			st.line = append(st.line, frag...)
			return bytes.TrimRight(st.line, "\r\n"), nil
		}
		return nil, err
	}
}

// sseData returns the payload of an SSE "data:" line.
func sseData(line []byte) ([]byte, bool) {
	const prefix = "data:"
	if len(line) < len(prefix) || string(line[:len(prefix)]) != prefix {
		return nil, false
	}
	p := line[len(prefix):]
	if len(p) > 0 && p[0] == ' ' {
		p = p[1:]
	}
	return p, len(p) > 0
}

// translateOllama turns one Ollama NDJSON line into an OpenAI chunk (nil when the line
// carries nothing to forward); end is true on the final line.
func (st *ChatStream) translateOllama(line []byte) ([]byte, bool, error) {
	var r struct {
		Message *struct {
			Content string `json:"content"`
		} `json:"message"`
		Done            bool            `json:"done"`
		Error           json.RawMessage `json:"error"`
		PromptEvalCount int             `json:"prompt_eval_count"`
		EvalCount       int             `json:"eval_count"`
	}
	if err := json.Unmarshal(line, &r); err != nil {
		return nil, false, badResponse("malformed stream line", err)
	}
	if hasErrorField(r.Error) {
		return nil, false, badResponse("error in stream", fmt.Errorf("error: %.200s", r.Error))
	}
	type delta struct {
		Role    string `json:"role,omitempty"`
		Content string `json:"content,omitempty"`
	}
	type choice struct {
		Index        int     `json:"index"`
		Delta        delta   `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	}
	type chunk struct {
		ID      string       `json:"id"`
		Object  string       `json:"object"`
		Created int64        `json:"created"`
		Model   string       `json:"model"`
		Choices []choice     `json:"choices"`
		Usage   *openAIUsage `json:"usage,omitempty"`
	}
	mk := func(d delta, finish *string) chunk {
		return chunk{ID: st.id, Object: "chat.completion.chunk", Created: st.created, Model: st.model,
			Choices: []choice{{Delta: d, FinishReason: finish}}}
	}
	if r.Done {
		if r.PromptEvalCount > 0 || r.EvalCount > 0 {
			st.usage = Usage{PromptTokens: r.PromptEvalCount, CompletionTokens: r.EvalCount, Reported: true}
		}
		stop := "stop"
		fin, _ := json.Marshal(mk(delta{}, &stop))
		st.queued = append(st.queued, fin)
		if st.include {
			u := st.Usage()
			c := chunk{ID: st.id, Object: "chat.completion.chunk", Created: st.created, Model: st.model,
				Choices: []choice{}, Usage: &openAIUsage{u.PromptTokens, u.CompletionTokens, u.PromptTokens + u.CompletionTokens}}
			b, _ := json.Marshal(c)
			st.queued = append(st.queued, b)
		}
		return nil, true, nil
	}
	if r.Message == nil || r.Message.Content == "" {
		return nil, false, nil
	}
	d := delta{Content: r.Message.Content}
	if st.chunks == 0 {
		d.Role = "assistant"
	}
	b, err := json.Marshal(mk(d, nil))
	if err != nil {
		return nil, false, badResponse("unencodable chunk", err)
	}
	st.out = b
	return b, false, nil
}

// Close ends the stream: it cancels the backend request if it still runs, settles the
// circuit breaker (a clean end is a success, a caller that stopped early is not the
// backend's fault, a backend that broke off is a failure), frees the in-flight slot
// and records the metrics. Idempotent.
func (st *ChatStream) Close() error {
	if st.closed {
		return nil
	}
	st.closed = true
	st.cancel()
	_ = st.body.Close()
	b, name := st.b, st.b.cfg.Name
	st.sl.release()
	b.mDuration.Update(time.Since(st.start).Seconds())
	st.s.rt.tokens.count(st.model, st.Usage())
	var be *backendError
	switch {
	case st.eof:
		st.done(nil)
		b.health.Store(healthOK)
		st.s.rt.countRequest(name, "success")
	case st.failErr != nil && errors.As(st.failErr, &be) && !be.excluded:
		st.done(errors.New(be.reason))
		b.health.Store(healthFailing)
		outcome := "error"
		if errors.Is(be.sentinel, ErrBadResponse) {
			outcome = "bad_response"
		}
		st.s.rt.countRequest(name, outcome)
	default:
		st.done(errExcluded)
		outcome := "canceled"
		if errors.Is(st.failErr, ErrTimeout) {
			outcome = "timeout"
		}
		st.s.rt.countRequest(name, outcome)
	}
	st.finish()
	return nil
}

// ChatStream passes a streamed completion through (OpenChatStream), handing each chunk
// to onChunk as it arrives; an error from onChunk (the client went away) cancels the
// backend request and is returned wrapped in ErrCanceled. It returns the usage at the
// end of the stream.
func (s *Service) ChatStream(ctx context.Context, req ChatRequest, onChunk func([]byte) error) (Usage, error) {
	st, err := s.OpenChatStream(ctx, req)
	if err != nil {
		return Usage{}, err
	}
	defer st.Close()
	for {
		c, err := st.Next()
		if err == io.EOF {
			return st.Usage(), nil
		}
		if err != nil {
			return st.Usage(), err
		}
		if err := onChunk(c); err != nil {
			return st.Usage(), fmt.Errorf("chunk consumer: %v: %w", err, ErrCanceled)
		}
	}
}

// open sends one streaming request and returns the 2xx response with its body unread,
// and the cancel of its context (which the stream calls on Close). The attempt timeout
// bounds the wait for the response headers only. A non-2xx answer is classified like
// exchange's (statusFailure).
func (c *httpClient) open(ctx context.Context, path string, body []byte, hdr map[string]string) (*http.Response, context.CancelFunc, error) {
	actx, cancel := context.WithCancel(ctx)
	req, err := http.NewRequestWithContext(actx, http.MethodPost, c.cfg.URL+path, bytes.NewReader(body))
	if err != nil {
		cancel()
		return nil, nil, failure(ErrBackend, "bad request URL", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.cfg.Kind == KindOllama && path == "/api/chat" {
		req.Header.Set("Accept", "application/x-ndjson")
	} else {
		req.Header.Set("Accept", "text/event-stream")
	}
	c.setHeaders(req, hdr)
	var timer *time.Timer
	if c.attemptTimeout > 0 {
		timer = time.AfterFunc(c.attemptTimeout, cancel)
	}
	resp, err := c.hc.Do(req)
	timedOut := timer != nil && !timer.Stop()
	if err == nil && timedOut {
		_ = resp.Body.Close()
		err = context.DeadlineExceeded
	}
	if err != nil {
		cancel()
		if ctx.Err() != nil {
			return nil, nil, ctxFailure(ctx)
		}
		if timedOut {
			return nil, nil, failure(ErrBackend, "timeout", err)
		}
		return nil, nil, connFailure(err)
	}
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBodyBytes))
		_ = resp.Body.Close()
		cancel()
		return nil, nil, c.statusFailure(http.MethodPost, path, resp, b)
	}
	return resp, cancel, nil
}
