package node

import (
	"context"
	"encoding/hex"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/bizra/bizra/actors/inference"
	"github.com/bizra/bizra/actors/inference/mockllm"
	"github.com/bizra/bizra/internal/pprofserver"
	"github.com/bizra/bizra/internal/tracing"
)

// otlpReceiver decodes the OTLP/HTTP ExportTraceServiceRequests posted to it.
type otlpReceiver struct {
	mu    sync.Mutex
	spans map[string][3]string // name → trace id, span id, parent id
	addr  string
}

func startReceiver(t *testing.T) *otlpReceiver {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &otlpReceiver{spans: map[string][3]string{}, addr: ln.Addr().String()}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		var m coltrace.ExportTraceServiceRequest
		if err := proto.Unmarshal(b, &m); err != nil || req.URL.Path != "/v1/traces" {
			http.Error(w, "bad export", 400)
			return
		}
		r.mu.Lock()
		for _, rs := range m.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					r.spans[s.Name] = [3]string{hex.EncodeToString(s.TraceId), hex.EncodeToString(s.SpanId), hex.EncodeToString(s.ParentSpanId)}
				}
			}
		}
		r.mu.Unlock()
		out, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
		_, _ = w.Write(out)
	})}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close(); <-done })
	return r
}

// TestTracedQuery: with a tracer, pprof and a model backend, a query sent with a
// client traceparent is traced end to end: the backend gets a traceparent in the
// client's trace with the inference (or decompose) span as parent, and the OTLP
// receiver gets one span per query stage, all in that trace, the stages under the
// query span and the query span under the client's. The pprof listener serves while
// the node runs; the node's components are pprof, tracing, runtime, api.
func TestTracedQuery(t *testing.T) {
	rcv := startReceiver(t)
	tr, err := tracing.New(tracing.Options{Endpoint: "http://" + rcv.addr, BatchTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	mock := mockllm.New(mockllm.Options{})
	if _, err := mock.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mock.Shutdown(context.Background()) })

	o := options(t, true, false)
	o.Runtime.Tracer = tr
	o.Runtime.Inference = inference.Config{Backends: []inference.BackendConfig{{Name: "llm", Kind: inference.KindOpenAI, URL: mock.URL()}}}
	o.Pprof = &pprofserver.Options{Addr: "127.0.0.1:0"}
	if err := os.MkdirAll(o.Runtime.DataLake, 0o700); err != nil {
		t.Fatal(err)
	}
	doc := "# Receipts\n\nEvery completed query gets a receipt sealed into an Ed25519-signed Merkle batch. " +
		"Receipts are verified with bizra receipt verify, which recomputes the leaf hash and checks the batch signature.\n"
	if err := os.WriteFile(filepath.Join(o.Runtime.DataLake, "receipts.md"), []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	n, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range n.Components() {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, ","); got != "pprof,tracing,runtime,api" {
		t.Fatalf("components %s", got)
	}
	if err := n.Start(context.Background()); err != nil {
		n.Close()
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = n.Shutdown(context.Background())
		}
	})
	htr := &http.Transport{}
	c := &http.Client{Transport: htr, Timeout: 30 * time.Second}
	resp, err := c.Get("http://" + n.Pprof.Addr() + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("pprof: %d", resp.StatusCode)
	}

	const client = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	req, _ := http.NewRequest("POST", "http://"+n.API.Addr()+"/v1/query",
		strings.NewReader(`{"query":"how are receipts sealed and verified?"}`))
	req.Header.Set("traceparent", client)
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("query: %d %s", resp.StatusCode, body)
	}
	htr.CloseIdleConnections()
	last, ok := mock.LastRequest()
	if !ok {
		t.Fatal("the backend got no request")
	}
	bp, err := tracing.Parse(last.Headers.Get("traceparent"))
	if err != nil {
		t.Fatalf("backend traceparent %q: %v", last.Headers.Get("traceparent"), err)
	}
	if hex.EncodeToString(bp.TraceID[:]) != client[3:35] || hex.EncodeToString(bp.SpanID[:]) == client[36:52] {
		t.Errorf("backend traceparent %s: want the client's trace with a span of ours", bp)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stopped = true
	if err := n.Shutdown(ctx); err != nil { // flushes the tracer last
		t.Fatal(err)
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	q, ok := rcv.spans["query"]
	if !ok {
		t.Fatalf("no query span; got %v", rcv.spans)
	}
	if q[0] != client[3:35] || q[2] != client[36:52] {
		t.Errorf("query span %v is not under the client's span", q)
	}
	stages := []string{"gate", "cache", "decompose", "reasoning", "inference", "scoring", "ledger.append", "receipt.issue"}
	for _, st := range stages {
		s, ok := rcv.spans[st]
		if !ok {
			t.Errorf("no %s span; got %v", st, slices.Sorted(maps.Keys(rcv.spans)))
			continue
		}
		if s[0] != q[0] || s[2] != q[1] {
			t.Errorf("%s span %v is not a child of the query span %v", st, s, q)
		}
	}
	if s := rcv.spans["inference"]; s[1] != hex.EncodeToString(bp.SpanID[:]) && rcv.spans["decompose"][1] != hex.EncodeToString(bp.SpanID[:]) {
		t.Errorf("the backend's traceparent parent %x is neither the inference nor the decompose span", bp.SpanID)
	}
}
