package inference

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/bizra/bizra/internal/catalog"
	"github.com/bizra/bizra/internal/tracing"
)

// maxResponseBytes bounds a backend response body; maxErrorBodyBytes an error body.
const (
	maxResponseBytes  = 8 << 20
	maxErrorBodyBytes = 64 << 10
)

// backendError is a classified failure of one backend call. reason is public (a short
// fixed phrase plus, at most, an HTTP status); err is internal.
type backendError struct {
	sentinel   *catalog.Error
	reason     string
	retryable  bool           // connection errors and 5xx
	excluded   bool           // not the backend's fault (caller deadline, cancel): no breaker count
	retryAfter time.Duration  // from a Retry-After header
	status     int            // the HTTP status of a non-2xx answer, else 0
	upstream   *UpstreamError // the upstream's error answer (non-2xx), else nil
	err        error
}

func (e *backendError) Error() string {
	if e.err != nil {
		return e.reason + ": " + e.err.Error()
	}
	return e.reason
}

func (e *backendError) Unwrap() []error {
	if e.err != nil {
		return []error{e.sentinel, e.err}
	}
	return []error{e.sentinel}
}

func failure(s *catalog.Error, reason string, err error) *backendError {
	return &backendError{sentinel: s, reason: reason, err: err}
}

// chatResult is a decoded answer.
type chatResult struct {
	Text             string
	Model            string
	PromptTokens     int
	CompletionTokens int
	UsageReported    bool
}

// httpClient speaks one backend's wire format. Non-streamed exchanges (chat, model
// listings, Forward) go through pool, a pooled fasthttp client that runs on the
// caller's goroutine and aborts its request when the context ends (fastclient.go);
// streams through hc (net/http), whose response body a stream reads as it arrives
// and abandons on Close (stream.go).
type httpClient struct {
	cfg            BackendConfig
	hc             *http.Client
	pool           *connPool
	retry          Retry
	attemptTimeout time.Duration
	log            *slog.Logger
}

func newHTTPClient(cfg BackendConfig, maxInFlight int, retry Retry, attemptTimeout time.Duration, log *slog.Logger) (*httpClient, error) {
	base, err := parseBase(cfg.URL, "", "")
	if err != nil {
		return nil, err
	}
	pool, err := newConnPool(base, maxInFlight+2)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		Proxy:                 nil, // local backends: never route through an environment proxy
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          maxInFlight + 2,
		MaxIdleConnsPerHost:   maxInFlight + 2,
		MaxConnsPerHost:       maxInFlight + 2, // streams + one probe + one discovery
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &httpClient{cfg: cfg, hc: &http.Client{Transport: tr}, pool: pool, retry: retry, attemptTimeout: attemptTimeout, log: log}, nil
}

// close closes both clients' connections (an exchange still in flight fails).
func (c *httpClient) close() {
	c.pool.close()
	c.hc.CloseIdleConnections()
}

// chat asks for one completion, with the retry policy of withRetries (connection
// failures and 5xx; a bad 200 answer is not retried).
func (c *httpClient) chat(ctx context.Context, model string, msgs []chatMessage, maxTokens int, temp *float64) (chatResult, error) {
	path, body, err := c.chatBody(model, msgs, maxTokens, temp, false)
	if err != nil {
		return chatResult{}, err
	}
	var res chatResult
	err = c.withRetries(ctx, func() error {
		b, err := c.do(ctx, http.MethodPost, path, body)
		if err != nil {
			return err
		}
		if c.cfg.Kind == KindOllama {
			res, err = decodeOllamaChat(b)
		} else {
			res, err = decodeOpenAIChat(b)
		}
		return err
	})
	return res, err
}

// chatBody is the path and body of a pipeline chat request in the backend's format;
// stream asks for a streamed answer (with the usage at its end).
func (c *httpClient) chatBody(model string, msgs []chatMessage, maxTokens int, temp *float64, stream bool) (string, []byte, error) {
	var body []byte
	var path string
	var err error
	switch c.cfg.Kind {
	case KindOllama:
		path = "/api/chat"
		opts := map[string]any{}
		if maxTokens > 0 {
			opts["num_predict"] = maxTokens
		}
		if temp != nil {
			opts["temperature"] = *temp
		}
		req := map[string]any{"model": model, "messages": msgs, "stream": stream, "keep_alive": ollamaKeepAlive}
		if len(opts) > 0 {
			req["options"] = opts
		}
		body, err = json.Marshal(req)
	default:
		path = "/chat/completions"
		req := map[string]any{"model": model, "messages": msgs, "stream": stream}
		if stream {
			req["stream_options"] = map[string]any{"include_usage": true}
		}
		if maxTokens > 0 {
			req["max_tokens"] = maxTokens
		}
		if temp != nil {
			req["temperature"] = *temp
		}
		body, err = json.Marshal(req)
	}
	if err != nil {
		return "", nil, failure(ErrInvalidRequest, "unencodable request", err)
	}
	return path, body, nil
}

// models lists the backend's models (GET {base}/models or /api/tags), one attempt.
func (c *httpClient) models(ctx context.Context) ([]string, error) {
	l, err := c.listing(ctx)
	return l.ids, err
}

// modelList is a backend's model listing: every model, and those it lists as taking
// tools (an OpenAI-style entry's "capabilities" with "tool_use", "tools" or
// "function_calling", as LM Studio lists them, or "supported_parameters" with "tools").
type modelList struct{ ids, tools []string }

// listing lists the backend's models with their tool capability, one attempt.
func (c *httpClient) listing(ctx context.Context) (modelList, error) {
	path := "/models"
	if c.cfg.Kind == KindOllama {
		path = "/api/tags"
	}
	b, err := c.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return modelList{}, err
	}
	if c.cfg.Kind == KindOllama {
		ids, err := decodeOllamaTags(b)
		return modelList{ids: ids}, err
	}
	return decodeOpenAIListing(b)
}

func ctxFailure(ctx context.Context) *backendError {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &backendError{sentinel: ErrTimeout, reason: "timeout", excluded: true, err: ctx.Err()}
	}
	return &backendError{sentinel: ErrCanceled, reason: "canceled", excluded: true, err: ctx.Err()}
}

// do runs one HTTP exchange and returns the body of a 2xx response.
func (c *httpClient) do(ctx context.Context, method, path string, body []byte) ([]byte, error) {
	r, err := c.exchange(ctx, method, path, body, nil)
	return r.body, err
}

// reply is a 2xx answer.
type reply struct {
	status int
	ctype  string
	body   []byte
}

// exchange runs one HTTP exchange with the forwarded headers hdr (already validated)
// and returns the 2xx answer (its body the caller's own copy). Any other status is a
// *backendError carrying the upstream's error (newUpstreamError). The context ends
// the attempt (its deadline or cancel: the pool aborts the request), and so does the
// attempt timeout when it comes first (the connection's deadline).
func (c *httpClient) exchange(ctx context.Context, method, path string, body []byte, hdr map[string]string) (reply, error) {
	var attemptDL time.Time
	if c.attemptTimeout > 0 {
		attemptDL = time.Now().Add(c.attemptTimeout)
		if dl, ok := ctx.Deadline(); ok && !dl.After(attemptDL) {
			attemptDL = time.Time{} // the context's deadline comes first
		}
	}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(c.cfg.URL + path)
	req.Header.SetMethod(method)
	req.Header.SetUserAgent("bizra")
	if body != nil {
		req.Header.SetContentType("application/json")
		req.SetBodyRaw(body)
	}
	req.Header.Set("Accept", "application/json")
	c.eachHeader(ctx, hdr, req.Header.Set)
	err := c.pool.do(ctx, req, resp, attemptDL, maxResponseBytes)
	if err != nil {
		switch {
		case ctx.Err() != nil:
			return reply{}, ctxFailure(ctx)
		case errors.Is(err, fasthttp.ErrBodyTooLarge):
			return reply{}, failure(ErrBadResponse, "oversized response", fmt.Errorf("body over %d bytes", maxResponseBytes))
		case !attemptDL.IsZero() && !time.Now().Before(attemptDL):
			return reply{}, failure(ErrBackend, "timeout", err)
		}
		return reply{}, connFailure(err)
	}
	st := resp.StatusCode()
	if st/100 != 2 {
		b := resp.Body()
		if len(b) > maxErrorBodyBytes {
			b = b[:maxErrorBodyBytes+1]
		}
		return reply{}, c.statusFailure(method, path, st, string(resp.Header.Peek("Retry-After")), b)
	}
	return reply{status: st, ctype: string(resp.Header.ContentType()), body: bytes.Clone(resp.Body())}, nil
}

// eachHeader hands set the outgoing headers of every backend request besides the
// content headers: the auth header and the forwarded ones (hdr, already validated).
// Both clients (exchange, open) set their headers here.
func (c *httpClient) eachHeader(ctx context.Context, hdr map[string]string, set func(k, v string)) {
	if c.cfg.APIKey != "" {
		set("Authorization", "Bearer "+c.cfg.APIKey)
	}
	if p, ok := tracing.FromContext(ctx); ok {
		// The pipeline's trace (a forwarded client traceparent in hdr takes precedence).
		set("traceparent", p.String())
	}
	for k, v := range hdr {
		set(k, v)
	}
}

// connFailure is a connection-level failure: retryable.
func connFailure(err error) *backendError {
	be := failure(ErrBackend, "connection failed", err)
	be.retryable = true
	return be
}

// statusFailure classifies a non-2xx answer: 5xx is retryable (against the same
// backend, then the next one), 429 is not retried against the same backend (the
// fallback moves on), any other 4xx is final. The upstream error is kept for the
// client (UpstreamError, secrets redacted); ra is the Retry-After header.
func (c *httpClient) statusFailure(method, path string, st int, ra string, b []byte) *backendError {
	be := failure(ErrBackend, "HTTP "+strconv.Itoa(st), fmt.Errorf("%s %s: status %d: %.200q", method, path, st, b))
	be.status = st
	be.retryable = st >= 500
	if s, err := strconv.Atoi(strings.TrimSpace(ra)); err == nil && s >= 0 {
		be.retryAfter = time.Duration(min(s, 3600)) * time.Second
	}
	be.upstream = newUpstreamError(c.cfg, st, b, ra)
	return be
}

func badResponse(reason string, err error) *backendError {
	return failure(ErrBadResponse, reason, err)
}

// hasErrorField reports whether raw is a present, non-null, non-empty error value.
func hasErrorField(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s != "" && s != "null" && s != `""` && s != "{}" && s != "false"
}

func decodeOpenAIChat(b []byte) (chatResult, error) {
	var r struct {
		Model   string `json:"model"`
		Choices []struct {
			Message *struct {
				Content *string `json:"content"`
			} `json:"message"`
			Text *string `json:"text"`
		} `json:"choices"`
		Usage *struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
		} `json:"usage"`
		Error json.RawMessage `json:"error"`
	}
	if err := decodeReply(b, &r, &r.Error); err != nil {
		return chatResult{}, err
	}
	if len(r.Choices) == 0 {
		return chatResult{}, badResponse("empty response", errors.New("no choices"))
	}
	var text string
	switch c := r.Choices[0]; {
	case c.Message != nil && c.Message.Content != nil:
		text = *c.Message.Content
	case c.Text != nil:
		text = *c.Text
	}
	text = stripThink(text)
	if text == "" {
		return chatResult{}, badResponse("empty response", errors.New("no content"))
	}
	res := chatResult{Text: text, Model: r.Model}
	if u := r.Usage; u != nil && u.PromptTokens >= 0 && u.CompletionTokens >= 0 && u.PromptTokens+u.CompletionTokens > 0 {
		res.PromptTokens, res.CompletionTokens, res.UsageReported = u.PromptTokens, u.CompletionTokens, true
	}
	return res, nil
}

// maxModels bounds a decoded model list.
const maxModels = 1024

// decodeReply unmarshals a backend's 200 body into v and refuses one that carries an
// "error" member (errField points into v): both are bad responses, not answers.
func decodeReply(b []byte, v any, errField *json.RawMessage) error {
	if err := json.Unmarshal(b, v); err != nil {
		return badResponse("malformed response", err)
	}
	if hasErrorField(*errField) {
		return badResponse("error response", fmt.Errorf("error body: %.200s", *errField))
	}
	return nil
}

func decodeOpenAIModels(b []byte) ([]string, error) {
	l, err := decodeOpenAIListing(b)
	return l.ids, err
}

func decodeOpenAIListing(b []byte) (modelList, error) {
	var r struct {
		Data []struct {
			ID           string   `json:"id"`
			Capabilities []string `json:"capabilities"`
			Supported    []string `json:"supported_parameters"`
		} `json:"data"`
		Error json.RawMessage `json:"error"`
	}
	if err := decodeReply(b, &r, &r.Error); err != nil {
		return modelList{}, err
	}
	var out modelList
	for _, m := range r.Data {
		id := strings.TrimSpace(m.ID)
		if id == "" || len(out.ids) >= maxModels {
			continue
		}
		out.ids = append(out.ids, id)
		if slices.ContainsFunc(m.Capabilities, func(c string) bool { return c == "tool_use" || c == "tools" || c == "function_calling" }) ||
			slices.Contains(m.Supported, "tools") {
			out.tools = append(out.tools, id)
		}
	}
	return out, nil
}
