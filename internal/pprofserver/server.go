package pprofserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"sync"
	"time"
)

// Options configures a Server. Zero values are documented per field.
type Options struct {
	// Addr is host:port; the host must be a loopback address (or "localhost") unless
	// AllowNonLoopback. Port 0 picks a free port. Required.
	Addr string
	// AllowNonLoopback lets Addr name any interface (an empty host is every
	// interface). false, the zero value, refuses them with ErrNotLoopback.
	AllowNonLoopback bool
	// Logger receives the listening and stopped lines; nil discards.
	Logger *slog.Logger
	// WriteTimeout bounds one response; 0 means 2 min (a CPU profile's longest
	// seconds=N is capped below it by pprof's own check against it).
	WriteTimeout time.Duration
}

// Server serves the pprof handlers.
type Server struct {
	opts Options
	log  *slog.Logger
	srv  *http.Server

	mu sync.Mutex
	// mu guards the following fields.
	ln      net.Listener
	started bool
	stopped bool
	done    chan struct{}
	err     error
}

// New checks o; nothing is bound until Start.
func New(o Options) (*Server, error) {
	host, port, err := net.SplitHostPort(o.Addr)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrAddr, o.Addr, err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return nil, fmt.Errorf("%w: %q: port must be 0..65535", ErrAddr, o.Addr)
	}
	if !o.AllowNonLoopback && !IsLoopback(host) {
		return nil, fmt.Errorf("%w: %q", ErrNotLoopback, o.Addr)
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 2 * time.Minute
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index) // heap, goroutine, allocs, block, mutex, threadcreate
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	s := &Server{opts: o, log: log.With("component", "pprof")}
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: o.WriteTimeout,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	return s, nil
}

// IsLoopback reports whether host is "localhost" or a loopback IP address.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Start binds the listener and serves on an owned goroutine.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return ErrAlreadyStarted
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("pprof listen on %s: %w", s.opts.Addr, err)
	}
	s.ln, s.started, s.done = ln, true, make(chan struct{})
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.mu.Lock()
			s.err = err
			s.mu.Unlock()
		}
	}()
	s.log.Info("pprof listening", "addr", ln.Addr().String(), "path", "/debug/pprof/")
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

// Shutdown stops the server within ctx (then closes what is left) and waits for its
// goroutine. Idempotent; before Start it does nothing.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.started || s.stopped {
		s.mu.Unlock()
		return nil
	}
	s.stopped = true
	done := s.done
	s.mu.Unlock()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		_ = s.srv.Close() // a profile still running: cut it
	}
	<-done
	s.mu.Lock()
	serr := s.err
	s.mu.Unlock()
	if err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("pprof shutdown: %w", err)
	}
	s.log.Info("pprof stopped")
	return nil
}
