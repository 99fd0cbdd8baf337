package bridge

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/VictoriaMetrics/metrics"
)

// TestFaultBridgePanic: a panic in a method handler, in the core behind it or in the
// receipt store answers the request with -32603 and its id, logs the stack once,
// counts sovereign_panics_total{component="bridge"}, and the connection and the
// listener keep serving.
func TestFaultBridgePanic(t *testing.T) {
	rec := newLogRecorder()
	e := startEnv(t, func(o *Options) {
		o.Metrics = metrics.NewSet()
		o.Logger = slog.New(rec)
	})
	c := e.dial(t)
	cases := []struct {
		name         string
		method       string
		params       any
		id           string // raw JSON id
		receiptPanic bool
		wantReceipt  bool // a rejected receipt (handler panics); none when the store panicked
		where        string
	}{
		{"query panics in core", "sovereign_query", map[string]any{"query": "panic"}, `"q-1"`, false, true, "handler"},
		{"runtime error in list_skills", "list_skills", map[string]any{"filter": "panic"}, `42`, false, true, "handler"},
		{"index out of range in invoke_skill", "invoke_skill", map[string]any{"skill": "panic", "inputs": map[string]any{}}, `{"k":[1,2]}`, false, true, "handler"},
		{"receipt store panics", "ping", nil, `"p-9"`, true, false, "request"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			line := req(tc.method, tc.params, nil)
			line = strings.Replace(line, `"id":7`, `"id":`+tc.id, 1)
			e.receipts.panic.Store(tc.receiptPanic)
			r := c.call(line)
			e.receipts.panic.Store(false)
			wantErr(t, r, CodeInternal, "INTERNAL")
			if r.Error.Message != "Internal error" {
				t.Fatalf("message %q", r.Error.Message)
			}
			if string(r.ID) != tc.id {
				t.Fatalf("id %s; want %s echoed", r.ID, tc.id)
			}
			if strings.Contains(r.raw, "panicked") || strings.Contains(r.raw, "goroutine") {
				t.Fatalf("internal text reached the client: %s", r.raw)
			}
			ref := receiptOf(r)
			if tc.wantReceipt != (ref != nil) {
				t.Fatalf("receipt %v; want one: %v", ref, tc.wantReceipt)
			}
			if ref != nil && ref["status"] != ReceiptRejected {
				t.Fatalf("receipt status %v", ref["status"])
			}
			if got := counterValue(t, e.opts.Metrics, `sovereign_panics_total{component="bridge"}`); got != uint64(i+1) {
				t.Fatalf("panics_total = %d; want %d", got, i+1)
			}
			logs := rec.messages("bridge panic recovered")
			if len(logs) != i+1 {
				t.Fatalf("%d panic log records; want %d (one per panic)", len(logs), i+1)
			}
			last := logs[len(logs)-1]
			if attr(last, "where") != tc.where || !strings.Contains(attr(last, "stack"), "goroutine") {
				t.Fatalf("log record where=%q stack=%.60q", attr(last, "where"), attr(last, "stack"))
			}
			if n := len(rec.messages("bridge handler failed")); n != 0 {
				t.Fatalf("panic logged again as a handler failure (%d)", n)
			}
			// The same connection keeps serving.
			if r := c.call(req("ping", nil, nil)); r.Error != nil {
				t.Fatalf("connection stopped serving: %s", r.raw)
			}
		})
	}
	// The listener keeps serving new connections.
	if r := e.dial(t).call(req("ping", nil, nil)); r.Error != nil {
		t.Fatal(r.raw)
	}
	if n := e.b.Stats().Connections; n != 2 {
		t.Fatalf("connections = %d; want 2", n)
	}
}
