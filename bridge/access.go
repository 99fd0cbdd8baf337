package bridge

import (
	"context"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/bizra/bizra/internal/tracing"
)

// HeaderTraceparent is the member of a request's "headers" object that carries a W3C
// traceparent (docs/observability.md). A valid one is the parent of the request's spans and
// is forwarded to the model backends; an invalid one is ignored, as W3C Trace Context
// requires (the request starts a new trace).
const HeaderTraceparent = "traceparent"

// traceParent returns the valid traceparent of a request's headers object, if any.
func traceParent(headers []byte) (tracing.Parent, bool) {
	if len(headers) == 0 || headers[0] != '{' {
		return tracing.Parent{}, false
	}
	it := newMemberIter(headers)
	for {
		k, v, ok := it.next()
		if !ok {
			return tracing.Parent{}, false
		}
		if keyIs(k, HeaderTraceparent) {
			// A JSON string with no escapes: quotes around the 55 characters.
			if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
				return tracing.Parent{}, false
			}
			p, err := tracing.ParseBytes(v[1 : len(v)-1])
			return p, err == nil
		}
	}
}

// accessRec is what handleLine learned about an authenticated request for its access
// line.
type accessRec struct {
	outcome int
	code    string
	receipt string
	trace   tracing.Parent
}

func (a *accessRec) set(outcome int, code string, ref *ReceiptRef) {
	a.outcome, a.code = outcome, code
	if ref != nil {
		a.receipt = ref.ReceiptID
	}
}

// logAccess writes one access line (Options.AccessLog). The method is the bounded
// name (unknown methods are "unknown"), never the client's string.
func (b *Bridge) logAccess(c *conn, mi, in, out int, start time.Time, a *accessRec) {
	if !b.access.Enabled(context.Background(), slog.LevelInfo) {
		return
	}
	method := "unknown"
	if mi < numMethods {
		method = methodNames[mi]
	}
	attrs := [10]slog.Attr{
		slog.String("method", method),
		slog.String("outcome", outcomeNames[a.outcome]),
		slog.Float64("duration_ms", float64(time.Since(start).Nanoseconds())/1e6),
		slog.Int("bytes_in", in),
		slog.Int("bytes_out", out),
		slog.String("remote", c.remote),
	}
	n := 6
	if a.code != "" {
		attrs[n] = slog.String("code", a.code)
		n++
	}
	if a.receipt != "" {
		attrs[n] = slog.String("receipt_id", a.receipt)
		n++
	}
	if a.trace.IsValid() {
		attrs[n] = slog.String("trace_id", hex.EncodeToString(a.trace.TraceID[:]))
		n++
	}
	b.access.LogAttrs(context.Background(), slog.LevelInfo, "access", attrs[:n]...)
}
