package tracing

import (
	"context"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// receiver is a minimal OTLP/HTTP traces receiver: it decodes every
// ExportTraceServiceRequest posted to /v1/traces (binary protobuf, as the SDK's
// exporter sends it).
type receiver struct {
	srv  *http.Server
	addr string
	mu   sync.Mutex
	reqs []*coltrace.ExportTraceServiceRequest
	ct   []string
	got  chan struct{}
}

func newReceiver(t *testing.T, status int) *receiver {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &receiver{addr: ln.Addr().String(), got: make(chan struct{}, 64)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", func(w http.ResponseWriter, req *http.Request) {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		var m coltrace.ExportTraceServiceRequest
		if err := proto.Unmarshal(b, &m); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		r.mu.Lock()
		r.reqs = append(r.reqs, &m)
		r.ct = append(r.ct, req.Header.Get("Content-Type"))
		r.mu.Unlock()
		r.got <- struct{}{}
		if status != 200 {
			w.WriteHeader(status)
			return
		}
		out, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	})
	r.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() { defer close(done); _ = r.srv.Serve(ln) }()
	t.Cleanup(func() { _ = r.srv.Close(); <-done })
	return r
}

type gotSpan struct {
	name, traceID, spanID, parentID string
	status                          int32
	attrs                           map[string]string
}

func (r *receiver) spans() (out []gotSpan, service string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, req := range r.reqs {
		for _, rs := range req.ResourceSpans {
			for _, a := range rs.Resource.Attributes {
				if a.Key == "service.name" {
					service = a.Value.GetStringValue()
				}
			}
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					g := gotSpan{name: s.Name, traceID: hex.EncodeToString(s.TraceId), spanID: hex.EncodeToString(s.SpanId),
						parentID: hex.EncodeToString(s.ParentSpanId), attrs: map[string]string{}}
					if s.Status != nil {
						g.status = int32(s.Status.Code)
					}
					for _, a := range s.Attributes {
						g.attrs[a.Key] = a.Value.String()
					}
					out = append(out, g)
				}
			}
		}
	}
	return out, service
}

// TestTracerExportsOverOTLPHTTP: spans started under a client's traceparent reach a
// real OTLP/HTTP receiver as protobuf, in the client's trace, children under their
// parents, with the service name and a failed span's status.
func TestTracerExportsOverOTLPHTTP(t *testing.T) {
	rcv := newReceiver(t, 200)
	tr, err := New(Options{Endpoint: "http://" + rcv.addr, ServiceName: "bizra-test", BatchTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	client, err := Parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	if err != nil {
		t.Fatal(err)
	}
	root := tr.Root(client, "query")
	if !root.Recording() {
		t.Fatal("root span not recording")
	}
	gate := root.Child("gate")
	gate.SetString("gate", "schema")
	gate.End()
	inf := root.Child("inference")
	inf.SetInt("evidence", 3)
	inf.Fail(errors.New("backend 503"))
	inf.End()
	if p := inf.Parent(); p.TraceID != client.TraceID || !p.IsValid() || p.SpanID == client.SpanID {
		t.Errorf("child's traceparent %s is not in the client's trace with its own span id", p)
	}
	root.End()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tr.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	spans, service := rcv.spans()
	if service != "bizra-test" {
		t.Errorf("service.name %q", service)
	}
	byName := map[string]gotSpan{}
	for _, s := range spans {
		byName[s.name] = s
	}
	if len(byName) != 3 {
		t.Fatalf("received spans %+v, want query, gate, inference", spans)
	}
	q := byName["query"]
	if q.traceID != "4bf92f3577b34da6a3ce929d0e0e4736" || q.parentID != "00f067aa0ba902b7" {
		t.Errorf("root span %+v is not a child of the client's span", q)
	}
	for _, n := range []string{"gate", "inference"} {
		if s := byName[n]; s.parentID != q.spanID || s.traceID != q.traceID {
			t.Errorf("%s span %+v is not a child of the root %s", n, s, q.spanID)
		}
	}
	if byName["inference"].status != 2 { // STATUS_CODE_ERROR
		t.Errorf("failed span status %d, want 2 (error)", byName["inference"].status)
	}
	if byName["gate"].attrs["gate"] == "" {
		t.Errorf("gate span lost its attribute: %+v", byName["gate"].attrs)
	}
	rcv.mu.Lock()
	ct := rcv.ct[0]
	rcv.mu.Unlock()
	if ct != "application/x-protobuf" {
		t.Errorf("content type %q", ct)
	}
	if n, f := tr.Exported(); n != 3 || f != 0 {
		t.Errorf("Exported = %d spans, %d failures; want 3, 0", n, f)
	}
	if err := tr.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tr.Shutdown(ctx); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
}

// TestFaultTracerCollectorRefuses: a collector answering 500 costs a dropped batch and
// a counted failure, never an error to the caller or a panic; shutdown still returns.
func TestFaultTracerCollectorRefuses(t *testing.T) {
	rcv := newReceiver(t, 500)
	tr, err := New(Options{Endpoint: "http://" + rcv.addr + "/v1/traces", BatchTimeout: 20 * time.Millisecond, ExportTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	s := tr.Root(Parent{}, "query")
	s.End()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = tr.Flush(ctx)
	select {
	case <-rcv.got:
	case <-ctx.Done():
		t.Fatal("the collector got nothing")
	}
	if _, f := tr.Exported(); f == 0 {
		t.Error("a refused export was not counted")
	}
	if err := tr.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

func TestNewOptions(t *testing.T) {
	tests := []struct {
		endpoint string
		nilOK    bool
		wantErr  bool
	}{
		{"", true, false},
		{"http://127.0.0.1:4318", false, false},
		{"https://collector.example:4318/v1/traces", false, false},
		{"127.0.0.1:4318", false, true},
		{"ftp://x", false, true},
		{"http://", false, true},
		{"http://[::1", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.endpoint, func(t *testing.T) {
			tr, err := New(Options{Endpoint: tt.endpoint})
			if (err != nil) != tt.wantErr {
				t.Fatalf("New(%q) error %v, want error %v", tt.endpoint, err, tt.wantErr)
			}
			if tt.wantErr && !errors.Is(err, ErrEndpoint) {
				t.Errorf("error %v is not ErrEndpoint", err)
			}
			if (tr == nil) != (tt.nilOK || tt.wantErr) {
				t.Errorf("tracer %v", tr)
			}
			_ = tr.Shutdown(context.Background())
		})
	}
}

// TestTracerOffAllocBudget: with tracing off (a nil *Tracer) the whole span API
// of a query costs no allocation and records nothing.
func TestTracerOffAllocBudget(t *testing.T) {
	var tr *Tracer
	p, _ := Parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	got := testing.AllocsPerRun(500, func() {
		root := tr.Root(p, "query")
		for _, n := range [...]string{"gate", "cache", "reasoning", "inference", "scoring", "ledger.append", "receipt.issue"} {
			c := root.Child(n)
			c.SetString("k", "v")
			c.SetInt("n", 1)
			c.Fail(io.EOF)
			c.End()
		}
		root.End()
		if root.Recording() || root.Parent().IsValid() {
			t.Fatal("an off tracer recorded")
		}
	})
	if got != 0 {
		t.Errorf("off tracer allocates %.1f per query; budget 0", got)
	}
	if tr.Enabled() {
		t.Error("nil tracer enabled")
	}
}

// BenchmarkSpansPerQuery: the span work of one query (a root and seven stages), off
// (nil tracer) and on (SDK recording, exported to a local receiver).
func BenchmarkSpansPerQuery(b *testing.B) {
	p, _ := Parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	run := func(b *testing.B, tr *Tracer) {
		b.ReportAllocs()
		for b.Loop() {
			root := tr.Root(p, "query")
			for _, n := range [...]string{"gate", "cache", "reasoning", "inference", "scoring", "ledger.append", "receipt.issue"} {
				root.Child(n).End()
			}
			root.End()
		}
	}
	b.Run("off", func(b *testing.B) { run(b, nil) })
	b.Run("on", func(b *testing.B) {
		rcv := newReceiverB(b)
		tr, err := New(Options{Endpoint: "http://" + rcv, BatchTimeout: 100 * time.Millisecond, MaxQueue: 1 << 16})
		if err != nil {
			b.Fatal(err)
		}
		defer func() { _ = tr.Shutdown(context.Background()) }()
		run(b, tr)
	})
}

func newReceiverB(b *testing.B) string {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	})}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	b.Cleanup(func() { _ = srv.Close(); <-done })
	return ln.Addr().String()
}
