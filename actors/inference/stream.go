package inference

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Buckets of the streaming histograms (OpenTelemetry GenAI semantic conventions).
var (
	ttftBuckets = []float64{0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}
	itlBuckets  = []float64{0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5}
)

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
	for i, c := range cands {
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
		d := time.Since(start)
		c.b.mDuration.Update(d.Seconds())
		if stop, serr := f.failed(cctx, c.b, sl, done, err, nextName(cands, i), d); stop {
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
		// a stream is never retried nor failed over once it answered 2xx
		logFailure(st.s.rt.log, b.cfg, be, decisionFinal, "", time.Since(st.start))
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
	c.eachHeader(ctx, hdr, req.Header.Set)
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
		return nil, nil, c.statusFailure(http.MethodPost, path, resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
	return resp, cancel, nil
}
