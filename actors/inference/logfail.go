package inference

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// Retry decisions of a logged backend failure (logFailure's "decision").
const (
	decisionRetried  = "retried"   // the same backend is asked again
	decisionFellBack = "fell back" // the next backend (or the embedded engine) is asked
	decisionFinal    = "final"     // the caller gets this failure
)

// logFailure logs one failed backend exchange, once, at WARN: the backend, the HTTP
// status (0 when none came back), the public reason, what happens next (decision and,
// for a fallback, the next backend) and how long the attempt took. A caller that went
// away or a service that stops is not a backend failure: DEBUG.
func logFailure(log *slog.Logger, cfg BackendConfig, err error, decision, next string, d time.Duration) {
	var be *backendError
	status, reason := 0, "backend error"
	if errors.As(err, &be) {
		status, reason = be.status, be.reason
	}
	quiet := errors.Is(err, context.Canceled) || errors.Is(err, ErrCanceled) || errors.Is(err, ErrStopped)
	logFailed(log, cfg, status, reason, err.Error(), decision, next, d, quiet)
}

// logFailed is logFailure from a failure's parts (the router has them from the
// backend actor's reply); quiet logs at DEBUG. detail (which may quote the backend's
// body) is redacted like an UpstreamError's fields and bounded.
func logFailed(log *slog.Logger, cfg BackendConfig, status int, reason, detail, decision, next string, d time.Duration, quiet bool) {
	level := slog.LevelWarn
	if quiet {
		level = slog.LevelDebug
	}
	attrs := []any{"backend", cfg.Name, "status", status, "reason", reason, "decision", decision}
	if next != "" {
		attrs = append(attrs, "next", next)
	}
	attrs = append(attrs, "duration_ms", durationMs(d), "err", redact(detail, cfg.APIKey, maxLoggedDetail))
	log.Log(context.Background(), level, "inference backend failed", attrs...)
}

// maxLoggedDetail bounds the error text of a failure's log line.
const maxLoggedDetail = 512

// durationMs is d in milliseconds with µs precision, as every duration in the logs.
func durationMs(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
