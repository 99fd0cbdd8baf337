package mockllm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures a Server. Zero values take the defaults given per field.
type Options struct {
	// Addr is the listen address. "" → "127.0.0.1:0" (a free port).
	Addr string
	// Models are the models listed and accepted; a request for another model gets 404.
	// nil → {"mock-small", "mock-large"}.
	Models []string
	// ToolModels are listed (GET /v1/models) with "capabilities": ["tool_use"], as LM
	// Studio lists models that take tools.
	ToolModels []string
	// Latency delays every chat answer (not the model listings).
	Latency time.Duration
	// TokenDelay is the pause before each streamed token after the first (a slow
	// stream: the first chunks arrive long before the answer ends). Cancelled, like
	// Latency, when the client goes away.
	TokenDelay time.Duration
	// ErrorRate is the probability, in [0,1], that a chat request gets HTTP 500.
	ErrorRate float64
	// Seed seeds the error-rate draws (deterministic per seed).
	Seed uint64
	// APIKey, when set, is required as "Authorization: Bearer <key>" (else 401).
	APIKey string
	// Answer, when set, replaces the generated answer text verbatim (e.g. to return a
	// <think> block).
	Answer string
	// RecordLimit is the number of requests kept for Requests. 0 → 64.
	RecordLimit int
	// PathAnswers replaces the answer text (as Answer does) on the paths it lists
	// ("/v1/completions", ...); verbatim, leading spaces included.
	PathAnswers map[string]string
	// ToolArguments are the JSON arguments of the tool call answered to a chat request
	// with tools, by function name (see Structured for the others).
	ToolArguments map[string]string
	// Structured is the JSON object answered to response_format json_schema or
	// json_object, and the arguments of a tool call for a function not in
	// ToolArguments (as LangChain's withStructuredOutput asks). "" → an object
	// generated from the request's schema.
	Structured string
}

// DownMode is the hard-down state.
type DownMode int

// Down modes.
const (
	Up         DownMode = iota
	DownRefuse          // listener closed: connection refused
	Down503             // every request gets 503
)

// Fault makes successful chat answers (HTTP 200) unusable.
type Fault int

// Faults.
const (
	FaultNone          Fault = iota
	FaultMalformedJSON       // truncated JSON
	FaultEmptyChoices        // OpenAI: "choices": []; Ollama: no message
	FaultErrorBody           // 200 with an error object
	// FaultBreakStream breaks a streamed OpenAI answer (chat, completions, responses)
	// off after its second event: the connection is closed mid-body.
	FaultBreakStream
)

// Message is one chat message as received.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Recorded is one request as the mock received it.
type Recorded struct {
	Format      string // "openai" or "ollama"
	Path        string
	Model       string
	MaxTokens   *int // max_tokens (OpenAI) or options.num_predict (Ollama)
	Temperature *float64
	Stream      bool
	Messages    []Message
	Auth        string // the Authorization header
	N           int    // the body's "n" (0 when absent)
	Headers     http.Header
	Body        []byte    // the raw request body
	At          time.Time // when it arrived
}

// ErrorReply is an error answer the mock gives instead of a normal one (SetError).
// The body is the OpenAI error shape {"error": {"message", "type", "param", "code"}}
// ("param" and "code" are null when empty).
type ErrorReply struct {
	Status     int
	Message    string
	Type       string
	Param      string
	Code       string
	RetryAfter string // the Retry-After header ("" → none)
	// Model, when set, limits the reply to requests for that model; a model-specific
	// reply wins over one for every model.
	Model string
	// Count is the number of requests that get this reply; 0 → every request until
	// ClearErrors or Reset.
	Count int
}

// Server is the mock backend.
type Server struct {
	active atomic.Int64
	total  atomic.Int64
	wg     sync.WaitGroup // serve loops

	// mu guards the following fields.
	mu          sync.Mutex
	opts        Options
	rng         *rand.Rand
	burstStatus int
	burstLeft   int
	down        DownMode
	fault       Fault
	recs        []Recorded
	errs        map[string]*ErrorReply // by path; "" for every POST path
	disabled    map[string]bool        // paths answered 404
	srv         *http.Server
	addr        string
	started     bool
	closed      bool
}

// New returns a Server; Start binds it.
func New(opts Options) *Server {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Models == nil {
		opts.Models = []string{"mock-small", "mock-large"}
	}
	if opts.RecordLimit <= 0 {
		opts.RecordLimit = 64
	}
	opts.Models = slices.Clone(opts.Models)
	opts.PathAnswers, opts.ToolArguments = maps.Clone(opts.PathAnswers), maps.Clone(opts.ToolArguments)
	return &Server{opts: opts, rng: rand.New(rand.NewPCG(opts.Seed, 0x6d6f636b))}
}

// Start binds the listen address and serves until Shutdown. It returns the bound
// address (host:port). ctx bounds the bind only.
func (s *Server) Start(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return "", errors.New("mockllm: already started")
	}
	if err := s.listenLocked(ctx, s.opts.Addr); err != nil {
		return "", err
	}
	s.started = true
	return s.addr, nil
}

func (s *Server) listenLocked(ctx context.Context, addr string) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("mockllm: listen %s: %w", addr, err)
	}
	s.addr = ln.Addr().String()
	srv := &http.Server{Handler: http.HandlerFunc(s.serveHTTP), ReadHeaderTimeout: 10 * time.Second}
	s.srv = srv
	s.wg.Go(func() { _ = srv.Serve(ln) })
	return nil
}

// Addr is the bound address ("" before Start).
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// URL is the OpenAI-compatible base, "http://<addr>/v1".
func (s *Server) URL() string { return "http://" + s.Addr() + "/v1" }

// OllamaURL is the Ollama base, "http://<addr>".
func (s *Server) OllamaURL() string { return "http://" + s.Addr() }

// Shutdown stops the server, closing every connection (handlers see their context
// cancelled), and waits for the serve loop. Idempotent.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	var err error
	if srv != nil {
		err = srv.Shutdown(ctx)
		if err != nil {
			_ = srv.Close()
		}
	}
	s.wg.Wait()
	return err
}

// SetDown switches the hard-down mode. DownRefuse closes the listener and every
// connection; leaving it re-binds the same address.
func (s *Server) SetDown(m DownMode) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || !s.started {
		s.down = m
		return nil
	}
	prev := s.down
	s.down = m
	switch {
	case m == DownRefuse && prev != DownRefuse:
		if s.srv != nil {
			_ = s.srv.Close()
			s.srv = nil
		}
	case m != DownRefuse && prev == DownRefuse:
		return s.listenLocked(context.Background(), s.addr)
	}
	return nil
}

// SetLatency sets the delay of chat answers.
func (s *Server) SetLatency(d time.Duration) { s.mu.Lock(); s.opts.Latency = d; s.mu.Unlock() }

// SetTokenDelay sets the pause between streamed tokens.
func (s *Server) SetTokenDelay(d time.Duration) { s.mu.Lock(); s.opts.TokenDelay = d; s.mu.Unlock() }

// SetErrorRate sets the probability of HTTP 500.
func (s *Server) SetErrorRate(p float64) { s.mu.Lock(); s.opts.ErrorRate = p; s.mu.Unlock() }

// Burst makes the next n chat requests get HTTP status (429 and 503 carry Retry-After: 1).
func (s *Server) Burst(status, n int) {
	s.mu.Lock()
	s.burstStatus, s.burstLeft = status, n
	s.mu.Unlock()
}

// SetFault sets the fault of 200 answers.
func (s *Server) SetFault(f Fault) { s.mu.Lock(); s.fault = f; s.mu.Unlock() }

// SetError makes POST requests on path ("/v1/chat/completions", "/v1/embeddings",
// "/v1/completions", "/v1/responses", "/api/chat"; "" for all of them) get e. A
// path-specific reply wins over the "" one. Bursts (Burst) are applied first.
func (s *Server) SetError(path string, e ErrorReply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.errs == nil {
		s.errs = map[string]*ErrorReply{}
	}
	s.errs[errKey(path, e.Model)] = &e
}

// errKey is the key of an error reply for path and model ("" model: every model).
func errKey(path, model string) string {
	if model == "" {
		return path
	}
	return path + "\x00" + model
}

// ClearErrors removes every SetError reply.
func (s *Server) ClearErrors() { s.mu.Lock(); s.errs = nil; s.mu.Unlock() }

// Disable makes path answer 404 as if the backend did not offer it (e.g. a backend
// without "/v1/responses"); Enable undoes it.
func (s *Server) Disable(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.disabled == nil {
		s.disabled = map[string]bool{}
	}
	s.disabled[path] = true
}

// Enable undoes Disable.
func (s *Server) Enable(path string) { s.mu.Lock(); delete(s.disabled, path); s.mu.Unlock() }

// SetAnswer sets a fixed answer text ("" → generated).
func (s *Server) SetAnswer(a string) { s.mu.Lock(); s.opts.Answer = a; s.mu.Unlock() }

// SetModels replaces the model list.
func (s *Server) SetModels(m ...string) { s.mu.Lock(); s.opts.Models = slices.Clone(m); s.mu.Unlock() }

// Requests returns the recorded requests, oldest first.
func (s *Server) Requests() []Recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.recs)
}

// LastRequest returns the most recent recorded request.
func (s *Server) LastRequest() (Recorded, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.recs) == 0 {
		return Recorded{}, false
	}
	return s.recs[len(s.recs)-1], true
}

// Active is the number of requests being handled now.
func (s *Server) Active() int { return int(s.active.Load()) }

// Total is the number of requests received (all paths).
func (s *Server) Total() int { return int(s.total.Load()) }

// Reset clears the recorded requests, the burst, the fault, the error replies and the
// disabled paths.
func (s *Server) Reset() {
	s.mu.Lock()
	s.recs, s.burstLeft, s.fault, s.errs, s.disabled = nil, 0, FaultNone, nil, nil
	s.mu.Unlock()
}

// Run serves on addr until ctx is done (for `bizra dev mock-llm --port N`).
func Run(ctx context.Context, addr string, opts Options) error {
	opts.Addr = addr
	s := New(opts)
	if _, err := s.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.Shutdown(sctx)
}

// recordLocked keeps rec, the last RecordLimit requests; s.mu is held.
func (s *Server) recordLocked(rec Recorded) {
	rec.At = time.Now()
	s.recs = append(s.recs, rec)
	if over := len(s.recs) - s.opts.RecordLimit; over > 0 {
		s.recs = slices.Delete(s.recs, 0, over)
	}
}

// recordOff records a request to a disabled path (its model read from the body), so
// a test sees that the path was asked.
func (s *Server) recordOff(r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxBody))
	var m struct {
		Model string `json:"model"`
	}
	_ = json.Unmarshal(body, &m)
	s.mu.Lock()
	s.recordLocked(Recorded{Format: "openai", Path: r.URL.Path, Model: m.Model, Auth: r.Header.Get("Authorization"),
		Headers: r.Header.Clone(), Body: body})
	s.mu.Unlock()
}
