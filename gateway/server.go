package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/valyala/fasthttp"

	"github.com/bizra/bizra/actors/query"
	"github.com/bizra/bizra/gateway/console"
)

// Core is what the gateway needs from the runtime. Every method is safe for
// concurrent use; Query honours ctx's deadline.
type Core interface {
	// Query runs one query through the pipeline, bounded by req.TimeoutMs (the
	// gateway passes no deadline of its own).
	Query(ctx context.Context, req query.Request) (query.Result, error)
	// Health is the cheap readiness report of GET /v1/health.
	Health() Health
	// Status is the document of GET /v1/status (rendered as JSON).
	Status(ctx context.Context) any
	// WriteMetrics writes the Prometheus exposition of the process.
	WriteMetrics(w io.Writer)
}

// Health is the body of GET /v1/health.
type Health struct {
	Status  string         `json:"status"` // healthy, degraded, unhealthy, starting, stopping
	Version string         `json:"version"`
	UptimeS float64        `json:"uptime_s"`
	Checks  map[string]any `json:"checks"`
}

// Serving reports whether the status answers 200 (healthy or degraded).
func (h Health) Serving() bool { return h.Status == "healthy" || h.Status == "degraded" }

// Options configures a Server. Zero values are documented per field.
type Options struct {
	// Logger receives request failures and lifecycle lines; nil discards.
	Logger *slog.Logger
	// AccessLog writes one INFO line per request to Logger (component=access): request
	// id, method, route pattern, status, duration_ms, bytes in and out, key id, remote
	// address. false (the zero value) writes none; cmd/bizra turns it on by default.
	AccessLog bool
	// Metrics receives the HTTP series; nil means a private set.
	Metrics *metrics.Set
	// Addr is host:port to listen on; "" means 127.0.0.1:8080, port 0 picks a free one.
	Addr string
	// Core answers queries, health and status. Required.
	Core Core
	// Routes adds the optional routes (artifacts, ledger, receipts, genesis, skills,
	// OpenAI-compatible front); nil entries are answered 503 UNAVAILABLE.
	Routes Extra
	// APIKeys, when non-empty, are required on every route except /v1/health and the
	// console's static files ("/" and /console/...).
	APIKeys []string
	// RatePerSec and Burst configure the per-key (or per-IP) token bucket; 0 is off.
	RatePerSec float64
	Burst      int
	// CORSOrigins are the allowed origins ("*" allows any); empty allows none.
	CORSOrigins []string
	// MaxBodyBytes is the request body limit; 0 means 1 MiB.
	MaxBodyBytes int
	// MaxPassBodyBytes is the body limit of the OpenAI paths (pass-through bodies:
	// images, long contexts); 0 means 8 MiB.
	MaxPassBodyBytes int
	// ReadTimeout and WriteTimeout bound one request; 0 means 30 s and 11 min (the
	// longest query timeout plus a margin).
	ReadTimeout, WriteTimeout time.Duration
	// IdleTimeout closes idle keep-alive connections; 0 means 2 min.
	IdleTimeout time.Duration
	// MaxConns bounds concurrent connections; 0 means 4,096. Past it a new connection
	// is answered 503 OVERLOADED (JSON, X-Request-Id, Retry-After) and closed.
	MaxConns int
}

// Server is the HTTP gateway.
type Server struct {
	opts    Options
	log     *slog.Logger
	access  *slog.Logger // nil when Options.AccessLog is off
	set     *metrics.Set
	srv     *fasthttp.Server
	routes  *router
	keys    apiKeys
	limiter atomic.Pointer[limiter] // nil: off; SetRateLimit swaps it (SIGHUP)
	cors    map[string]bool
	corsAny bool
	console *console.Console

	reqPrefix string
	reqSeq    atomic.Uint64

	panics   *metrics.Counter // sovereign_panics_total{component="gateway"}
	rejected [rejectReasons]*metrics.Counter
	conns    connGate

	mu sync.Mutex
	// mu guards the following fields.
	ln       net.Listener
	started  bool
	stopped  bool
	serveErr chan error
}

// New validates opts and builds a Server; nothing is bound until Start.
func New(opts Options) (*Server, error) {
	if opts.Core == nil {
		return nil, errors.New("gateway: Options.Core is required")
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:8080"
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.MaxPassBodyBytes <= 0 {
		opts.MaxPassBodyBytes = 8 << 20
	}
	if opts.ReadTimeout <= 0 {
		opts.ReadTimeout = 30 * time.Second
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 11 * time.Minute
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 2 * time.Minute
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = 4096
	}
	if opts.RatePerSec < 0 || opts.Burst < 0 {
		return nil, errors.New("gateway: rate limit values must not be negative")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	set := opts.Metrics
	if set == nil {
		set = metrics.NewSet()
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	var err error
	s := &Server{
		opts:      opts,
		log:       log.With("component", "gateway"),
		set:       set,
		keys:      newAPIKeys(opts.APIKeys),
		cors:      map[string]bool{},
		reqPrefix: hex.EncodeToString(rnd[:]) + "-",
	}
	if opts.AccessLog {
		s.access = log.With("component", "access")
	}
	s.limiter.Store(newLimiter(opts.RatePerSec, opts.Burst))
	if s.console, err = console.New(); err != nil {
		return nil, err
	}
	for _, o := range opts.CORSOrigins {
		if o == "*" {
			s.corsAny = true
		}
		s.cors[o] = true
	}
	s.routes = s.buildRoutes()
	s.panics = set.GetOrCreateCounter(`sovereign_panics_total{component="gateway"}`)
	for i, name := range rejectNames {
		s.rejected[i] = set.GetOrCreateCounter(`sovereign_http_rejected_total{reason="` + name + `"}`)
	}
	s.conns = connGate{s: s, max: int64(opts.MaxConns), slots: make(chan struct{}, maxRefusing)}
	s.srv = &fasthttp.Server{
		Handler:      s.handle,
		ErrorHandler: s.handleTransportError,
		Name:         "bizra",
		// fasthttp refuses bodies over twice the API limit on its own, closing the
		// connection before reading them (a client may then see a reset instead of the
		// 413). Bodies up to that are read whole and refused by handle with a clean 413.
		MaxRequestBodySize: max(2*opts.MaxBodyBytes, opts.MaxPassBodyBytes+opts.MaxBodyBytes),
		ReadTimeout:        opts.ReadTimeout,
		WriteTimeout:       opts.WriteTimeout,
		IdleTimeout:        opts.IdleTimeout,
		// The connection limit is ours (connGate, in front of fasthttp, answers the
		// JSON 503); fasthttp's own, which writes plain text, gets headroom so that it
		// never fires while a closed connection's worker is on its way back.
		Concurrency:           2*opts.MaxConns + 16,
		ConnState:             s.conns.state,
		NoDefaultServerHeader: false,
		CloseOnShutdown:       true,
		Logger:                fasthttpLogger{s: log},
	}
	return s, nil
}

type fasthttpLogger struct{ s *slog.Logger }

func (l fasthttpLogger) Printf(format string, args ...any) {
	l.s.Debug("fasthttp", "msg", fmt.Sprintf(format, args...))
}

// Start binds the listener and serves on an owned goroutine. A port in use fails here,
// with the address in the error.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return ErrAlreadyStarted
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp4", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("gateway listen on %s: %w", s.opts.Addr, err)
	}
	s.ln, s.started = ln, true
	s.serveErr = make(chan error, 1)
	gl := &gatedListener{Listener: ln, g: &s.conns}
	go func() {
		defer func() {
			// Handlers are recovered in handle; this catches fasthttp itself, so that
			// the process stays up and Shutdown still returns.
			if p := recover(); p != nil {
				s.panics.Inc()
				s.log.Error("panic in the http server", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				s.serveErr <- fmt.Errorf("gateway: serve panicked: %v", p)
			}
		}()
		s.serveErr <- s.srv.Serve(gl)
	}()
	s.log.Info("api listening", "addr", ln.Addr().String())
	return nil
}

// Addr returns the bound address, or "" before Start.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Shutdown stops accepting, lets in-flight requests finish within ctx, and waits for
// the serve goroutine. It is idempotent.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.started || s.stopped {
		s.mu.Unlock()
		return nil
	}
	s.stopped = true
	ln := s.ln
	s.mu.Unlock()
	err := s.srv.ShutdownWithContext(ctx)
	// Serve may not have registered the listener yet (a Shutdown right after Start),
	// in which case fasthttp has nothing to close: close it here so Serve returns.
	_ = ln.Close()
	select {
	case serr := <-s.serveErr:
		if serr != nil && !errors.Is(serr, net.ErrClosed) && err == nil {
			err = serr
		}
		// Serve returned, so no refusal starts any more; those in flight end
		// within refuseTimeout.
		s.conns.wg.Wait()
	case <-ctx.Done():
		if err == nil {
			err = ctx.Err()
		}
	}
	if err != nil {
		return fmt.Errorf("gateway shutdown: %w", err)
	}
	s.log.Info("api stopped")
	return nil
}

// requestID returns the client's X-Request-Id when it is a sane token of at most 64
// characters, else a fresh one.
func (s *Server) requestID(ctx *fasthttp.RequestCtx) string {
	if v := ctx.Request.Header.Peek("X-Request-Id"); saneToken(v) {
		return string(v)
	}
	return s.reqPrefix + strconv.FormatUint(s.reqSeq.Add(1), 16)
}

func saneToken(b []byte) bool {
	if len(b) == 0 || len(b) > 64 {
		return false
	}
	for _, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.', c == ':':
		default:
			return false
		}
	}
	return true
}

// SetRateLimit replaces the per-key (or per-IP) token bucket at run time (SIGHUP): 0
// switches it off; every key starts over with a full bucket. Negative values are
// refused.
func (s *Server) SetRateLimit(perSec float64, burst int) error {
	if perSec < 0 || burst < 0 {
		return errors.New("gateway: rate limit values must not be negative")
	}
	s.limiter.Store(newLimiter(perSec, burst))
	return nil
}
