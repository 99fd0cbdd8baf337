package gateway

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/bizra/bizra/internal/tracing"
)

// accessMsg is the message of every access-log line.
const accessMsg = "access"

// accessLog writes the request's access-log line (Options.AccessLog): one record at
// INFO with the request id, method, route pattern (never the raw path: it may carry
// ids and is unbounded), status, duration_ms, bytes_in, bytes_out (absent for a
// streamed body, whose size is not known when the handler returns, with
// streamed=true instead), key_id when API keys are on, remote, and trace_id when the
// client sent a valid traceparent. Off, or with the logger above INFO, it costs one
// branch.
func (s *Server) accessLog(rc *reqCtx) {
	if s.access == nil || !s.access.Enabled(context.Background(), slog.LevelInfo) {
		return
	}
	ms := float64(time.Since(rc.start).Nanoseconds()) / 1e6
	attrs := [11]slog.Attr{
		slog.String("req_id", rc.id),
		slog.String("method", methodName(rc.Method())),
		slog.String("route", rc.route.name),
		slog.Int("status", rc.Response.StatusCode()),
		slog.Float64("duration_ms", ms),
		slog.Int("bytes_in", len(rc.Request.Body())),
	}
	n := 6
	if rc.Response.IsBodyStream() {
		attrs[n] = slog.Bool("streamed", true)
	} else {
		attrs[n] = slog.Int("bytes_out", len(rc.Response.Body()))
	}
	n++
	if rc.userID != "" {
		attrs[n] = slog.String("key_id", rc.userID)
		n++
	}
	attrs[n] = slog.String("remote", remoteText(rc.RemoteAddr()))
	n++
	if p, ok := rc.traceParent(); ok {
		attrs[n] = slog.String("trace_id", traceIDHex(p))
		n++
	}
	s.access.LogAttrs(context.Background(), slog.LevelInfo, accessMsg, attrs[:n]...)
}

// remoteText is addr's host:port in one allocation (net.Addr.String takes two).
func remoteText(addr net.Addr) string {
	if t, ok := addr.(*net.TCPAddr); ok {
		var b [64]byte
		ap := t.AddrPort()
		return string(netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).AppendTo(b[:0]))
	}
	return addr.String()
}

// methodName returns the method as a constant string for the usual methods (no
// allocation), else a copy.
func methodName(m []byte) string {
	switch string(m) {
	case fasthttp.MethodGet:
		return fasthttp.MethodGet
	case fasthttp.MethodPost:
		return fasthttp.MethodPost
	case fasthttp.MethodHead:
		return fasthttp.MethodHead
	case fasthttp.MethodOptions:
		return fasthttp.MethodOptions
	case fasthttp.MethodPut:
		return fasthttp.MethodPut
	case fasthttp.MethodDelete:
		return fasthttp.MethodDelete
	}
	return string(m)
}

// traceParent returns the client's traceparent when it sent a valid one (an invalid
// header is ignored, as W3C Trace Context requires: the request is served in a new
// trace). Parsed once per request.
func (rc *reqCtx) traceParent() (tracing.Parent, bool) {
	if !rc.traceParsed {
		rc.traceParsed = true
		if v := rc.Request.Header.Peek("traceparent"); len(v) > 0 {
			rc.trace, _ = tracing.ParseBytes(v)
		}
	}
	return rc.trace, rc.trace.IsValid()
}

// withTrace returns ctx carrying the client's traceparent, when it sent one.
func (rc *reqCtx) withTrace(ctx context.Context) context.Context {
	if p, ok := rc.traceParent(); ok {
		return tracing.WithParent(ctx, p)
	}
	return ctx
}

func traceIDHex(p tracing.Parent) string {
	var b [32]byte
	const digits = "0123456789abcdef"
	for i, c := range p.TraceID {
		b[2*i], b[2*i+1] = digits[c>>4], digits[c&0x0f]
	}
	return string(b[:])
}
