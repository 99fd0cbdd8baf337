// Package launcher starts bizra's top-level components in dependency order and stops
// them in reverse: the runtime core, then the HTTP API, then the desktop bridge
// (operations.md, Launcher and supervision). A component that fails to start stops
// the start, and everything already started is shut down cleanly; a cancelled context
// (SIGINT, SIGTERM) shuts everything down in reverse order within the shutdown
// timeout.
//
// Background components that crash later are restarted by their own supervisors
// (package supervision); the launcher only owns the order of start and stop.
//
// # Concurrency
//
// Run blocks until ctx is done or a start fails; call it from one goroutine.
package launcher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Component is one startable part.
type Component struct {
	// Name appears in logs and errors ("api", "bridge").
	Name string
	// Start brings the component up; it must not block past its own start.
	Start func(ctx context.Context) error
	// Shutdown stops it; it must be idempotent.
	Shutdown func(ctx context.Context) error
}

// Options configures Run.
type Options struct {
	// Logger; nil discards.
	Logger *slog.Logger
	// ShutdownTimeout bounds the whole reverse shutdown; 0 means 10 s.
	ShutdownTimeout time.Duration
	// Ready, when set, is called once every component has started.
	Ready func()
}

// ErrStart wraps the error of the component that failed to start.
var ErrStart = errors.New("launcher: start failed")

// Run starts comps in order, waits for ctx to be done, then shuts them down in reverse
// order. When a start fails, the components already started are shut down and the
// error names the failing one.
func Run(ctx context.Context, opts Options, comps ...Component) error {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	timeout := opts.ShutdownTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	var started []Component
	stopAll := func() error {
		sctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		var errs []error
		for i := len(started) - 1; i >= 0; i-- {
			c := started[i]
			t0 := time.Now()
			if err := c.Shutdown(sctx); err != nil {
				errs = append(errs, fmt.Errorf("stop %s: %w", c.Name, err))
				log.Error("component shutdown failed", "component", c.Name, "err", err)
				continue
			}
			log.Info("component stopped", "component", c.Name, "duration_ms", float64(time.Since(t0).Microseconds())/1000)
		}
		return errors.Join(errs...)
	}
	for _, c := range comps {
		if ctx.Err() != nil {
			return errors.Join(ctx.Err(), stopAll())
		}
		if err := c.Start(ctx); err != nil {
			serr := stopAll()
			if strings.HasPrefix(err.Error(), c.Name+": ") { // already names the component
				return errors.Join(fmt.Errorf("%w: %w", ErrStart, err), serr)
			}
			return errors.Join(fmt.Errorf("%w: %s: %w", ErrStart, c.Name, err), serr)
		}
		started = append(started, c)
		log.Debug("component started", "component", c.Name)
	}
	if opts.Ready != nil {
		opts.Ready()
	}
	<-ctx.Done()
	log.Info("shutting down", "timeout_ms", timeout.Milliseconds())
	return stopAll()
}
