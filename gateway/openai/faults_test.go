package openai

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/valyala/fasthttp"

	"github.com/bizra/bizra/actors/query"
)

type lockedLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestFaultStreamWriterPanics: a panic in a body stream writer (which fasthttp runs on
// a goroutine of its own, outside the gateway's recover) ends that stream with an
// OpenAI error event, is logged once with its stack and counted, and the server keeps
// serving.
func TestFaultStreamWriterPanics(t *testing.T) {
	set := metrics.NewSet()
	logs := &lockedLog{}
	r, err := New(Options{Metrics: set, Logger: slog.New(slog.NewJSONHandler(logs, nil)),
		Query: func(context.Context, query.Request) (query.Result, error) { return query.Result{}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		ctx.Response.Header.Set("X-Request-Id", "stream-1")
		if string(ctx.Path()) == "/ok" {
			ctx.SetBodyString("ok")
			return
		}
		sseHeaders(ctx)
		ctx.SetBodyStreamWriter(r.safeStream(ctx, func(w *bufio.Writer) {
			w.Write([]byte("data: {\"n\":1}\n\n"))
			w.Flush()
			panic("stream boom /secret")
		}))
	}}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.ShutdownWithContext(ctx); err != nil {
			t.Error(err)
		}
		<-done
	})
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	base := "http://" + ln.Addr().String()
	resp, err := c.Get(base + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `data: {"n":1}`) || !strings.Contains(string(b), `"code":"internal"`) || strings.Contains(string(b), "secret") {
		t.Fatalf("stream body %q", b)
	}
	if got := set.GetOrCreateCounter(`sovereign_panics_total{component="gateway"}`).Get(); got != 1 {
		t.Fatalf("sovereign_panics_total = %d; want 1", got)
	}
	if n := strings.Count(logs.String(), `"msg":"panic in completion stream"`); n != 1 || !strings.Contains(logs.String(), "runtime/debug.Stack") || !strings.Contains(logs.String(), `"req_id":"stream-1"`) {
		t.Fatalf("%d panic lines, want 1 with stack and request id:\n%s", n, logs)
	}
	resp, err = c.Get(base + "/ok")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("next request %d", resp.StatusCode)
	}
}
