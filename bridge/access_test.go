package bridge

import (
	"encoding/json"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"
)

const testTrace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

// TestAccessLogAndTraceparent: every authenticated request gets one access line
// (bounded method name, outcome, code, duration_ms, sizes, remote, receipt id, trace
// id); an unauthenticated one gets none; a valid headers.traceparent reaches the core
// in the query's context and an invalid one is ignored.
func TestAccessLogAndTraceparent(t *testing.T) {
	rec := newLogRecorder()
	e := startEnv(t, func(o *Options) { o.Logger = slog.New(rec); o.AccessLog = true })
	c := e.dial(t)
	withTrace := func(tp string) func(h map[string]any) {
		return func(h map[string]any) { h[HeaderTraceparent] = tp }
	}
	tests := []struct {
		name, line         string
		method, outcome    string
		code               string
		wantTrace, coreSaw string
		receipt            bool
		query              bool
	}{
		{"query with trace", req("sovereign_query", map[string]any{"query": "hello"}, withTrace(testTrace)),
			"sovereign_query", "ok", "", "4bf92f3577b34da6a3ce929d0e0e4736", testTrace, true, true},
		{"invalid trace ignored", req("sovereign_query", map[string]any{"query": "hello"}, withTrace("00-"+testTrace[3:10])),
			"sovereign_query", "ok", "", "", "", true, true},
		{"trace not a string", req("sovereign_query", map[string]any{"query": "hello"}, func(h map[string]any) { h[HeaderTraceparent] = 7 }),
			"sovereign_query", "ok", "", "", "", true, true},
		{"ping", req("ping", nil, nil), "ping", "ok", "", "", "", true, false},
		{"unknown method is bounded", req("no_such_method_x", nil, nil), "unknown", "method_not_found", "METHOD_NOT_FOUND", "", "", true, false},
		{"internal failure", req("sovereign_query", map[string]any{"query": "boom"}, nil), "sovereign_query", "internal_error", "INTERNAL", "", "", true, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.call(tt.line)
			if tt.query {
				got := ""
				if p := e.core.lastTrace.Load(); p != nil {
					got = *p
				}
				if got != tt.coreSaw {
					t.Errorf("core saw traceparent %q, want %q", got, tt.coreSaw)
				}
			}
			lines := rec.messages("access")
			if len(lines) != i+1 {
				t.Fatalf("%d access lines after %d requests", len(lines), i+1)
			}
			l := lines[i]
			if attr(l, "method") != tt.method || attr(l, "outcome") != tt.outcome || attr(l, "code") != tt.code {
				t.Errorf("method %q outcome %q code %q; want %q %q %q", attr(l, "method"), attr(l, "outcome"), attr(l, "code"), tt.method, tt.outcome, tt.code)
			}
			if attr(l, "trace_id") != tt.wantTrace {
				t.Errorf("trace_id %q, want %q", attr(l, "trace_id"), tt.wantTrace)
			}
			if d, err := strconv.ParseFloat(attr(l, "duration_ms"), 64); err != nil || d <= 0 {
				t.Errorf("duration_ms %q", attr(l, "duration_ms"))
			}
			if attr(l, "bytes_in") != strconv.Itoa(len(tt.line)) || attr(l, "bytes_out") != strconv.Itoa(len(r.raw)+1) {
				t.Errorf("bytes_in %s (line %d) bytes_out %s (response %d + newline)", attr(l, "bytes_in"), len(tt.line), attr(l, "bytes_out"), len(r.raw))
			}
			if (attr(l, "receipt_id") != "") != tt.receipt || (tt.receipt && attr(l, "receipt_id") != str0(receiptOf(r)["receipt_id"])) {
				t.Errorf("receipt_id %q; response receipt %v", attr(l, "receipt_id"), receiptOf(r))
			}
			if attr(l, "remote") == "" || l.Level != slog.LevelInfo {
				t.Errorf("remote %q level %v", attr(l, "remote"), l.Level)
			}
		})
	}
	before := len(rec.messages("access"))
	c.call(reqTok("wrong-token-0123456789", time.Now(), "ping", nil, nil))
	if n := len(rec.messages("access")); n != before {
		t.Errorf("an unauthenticated request was access-logged (%d lines, %d before)", n, before)
	}

	rec2 := newLogRecorder()
	e2 := startEnv(t, func(o *Options) { o.Logger = slog.New(rec2) })
	e2.dial(t).call(req("ping", nil, nil))
	if n := len(rec2.messages("access")); n != 0 {
		t.Errorf("AccessLog off wrote %d lines", n)
	}
}

// FuzzTraceParentHeaders: any headers object is read without a panic; a traceparent
// found is valid.
func FuzzTraceParentHeaders(f *testing.F) {
	f.Add([]byte(`{"traceparent":"` + testTrace + `"}`))
	f.Add([]byte(`{"traceparent":7}`))
	f.Add([]byte(`{"X-BIZRA-TOKEN":"x","traceparent":"00-"}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return // the codec hands traceParent sub-slices of a validated line only
		}
		if p, ok := traceParent(b); ok && !p.IsValid() {
			t.Fatalf("invalid parent %+v accepted from %q", p, b)
		}
	})
}

// BenchmarkPipelinePingAccessLog: BenchmarkPipelinePing's whole ping line through
// serveLine with the access log off and on (JSON handler into io.Discard).
func BenchmarkPipelinePingAccessLog(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := map[bool]string{false: "off", true: "on"}[on]
		b.Run(name, func(b *testing.B) {
			br, c := benchBridge(b)
			if on {
				br.access = slog.New(slog.NewJSONHandler(io.Discard, nil))
			}
			now := time.Now()
			lines := make([][]byte, 1<<14)
			for i := range lines {
				lines[i] = []byte(reqTok(testToken, now, "ping", nil, nil))
			}
			br.opts.Now = func() time.Time { return now }
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if i == len(lines) {
					b.StopTimer()
					br.nonces = newNonceStore(2*DefaultMaxSkew, 1<<30)
					i = 0
					b.StartTimer()
				}
				if out := br.serveLine(c, lines[i], now); out[len(out)-1] != '\n' {
					b.Fatal("bad line")
				}
				i++
			}
		})
	}
}
