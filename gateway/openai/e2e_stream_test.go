package openai

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/asynkron/protoactor-go/actor"

	"github.com/bizra/bizra/actors/core"
	"github.com/bizra/bizra/actors/inference"
	"github.com/bizra/bizra/actors/inference/mockllm"
	"github.com/bizra/bizra/actors/query"
	"github.com/bizra/bizra/actors/receipt"
	"github.com/bizra/bizra/gateway"
)

// TestBizraStreamsBackendTokensEndToEnd: through the real runtime (query pipeline,
// inference service, receipts) and a mock backend that sends one token every 25 ms,
// a streamed bizra-model completion gets the backend's tokens as they arrive: its
// first content chunk comes long before the last chunk, which carries the receipt;
// the same question asked again is a cache hit with the same text.
func TestBizraStreamsBackendTokensEndToEnd(t *testing.T) {
	const tokenDelay = 25 * time.Millisecond
	mock := mockllm.New(mockllm.Options{TokenDelay: tokenDelay,
		Answer: "Receipts are sealed in Merkle batches signed with Ed25519 [receipts.md]. Each batch has one signature [receipts.md]."})
	if _, err := mock.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mock.Shutdown(context.Background()) })
	dir := t.TempDir()
	lake := filepath.Join(dir, "lake")
	if err := os.MkdirAll(lake, 0o755); err != nil {
		t.Fatal(err)
	}
	doc := "# Receipts\n\nReceipts are sealed in Merkle batches. Each batch is signed with one Ed25519 signature.\n"
	if err := os.WriteFile(filepath.Join(lake, "receipts.md"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	secret, err := receipt.GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
	t.Cleanup(sys.Shutdown)
	set := metrics.NewSet()
	rt, err := core.New(core.Options{System: sys, Metrics: set, Version: "test", StateDir: filepath.Join(dir, "state"),
		DataLake: lake, ReceiptSecret: secret,
		Inference: inference.Config{Backends: []inference.BackendConfig{{Name: "mock", Kind: inference.KindOpenAI, URL: mock.URL(), Model: "mock-small"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	routes, err := New(Options{Metrics: set, Inference: rt.Inference(), Query: rt.Query, Receipts: rt.Receipts()})
	if err != nil {
		t.Fatal(err)
	}
	gc := runtimeCore{rt}
	extra := gateway.Extra{OpenAI: routes}
	srv, err := gateway.New(gateway.Options{Metrics: set, Addr: "127.0.0.1:0", Core: gc, Routes: extra})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = rt.Shutdown(ctx)
	})
	c := client(t)
	ask := func(stream bool) (*http.Response, []string, time.Time, time.Time) {
		body := `{"model":"bizra","stream":` + map[bool]string{true: "true", false: "false"}[stream] +
			`,"messages":[{"role":"user","content":"How are receipts sealed?"}]}`
		resp, err := c.Post("http://"+srv.Addr()+"/v1/chat/completions", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var first, end time.Time
		data, _ := sseEvents(t, resp.Body, func(d string) {
			if first.IsZero() && strings.Contains(d, `"content":"`) && !strings.Contains(d, `"content":""`) {
				first = time.Now()
			}
			end = time.Now()
		})
		return resp, data, first, end
	}
	resp, data, first, end := ask(true)
	if resp.StatusCode != 200 || len(data) < 4 || data[len(data)-1] != "[DONE]" {
		t.Fatalf("status %d, events %q", resp.StatusCode, data)
	}
	if lead := end.Sub(first); lead < 5*tokenDelay {
		t.Fatalf("first content only %v before the end: the answer was not streamed as the backend sent it", lead)
	}
	var fin Chunk
	if err := json.Unmarshal([]byte(data[len(data)-2]), &fin); err != nil || fin.Bizra == nil || fin.Bizra.Receipt == nil || fin.Bizra.Cached {
		t.Fatalf("final chunk %s (%v)", data[len(data)-2], err)
	}
	streamed := chunkText(t, data)
	if !strings.HasPrefix(streamed, "Receipts are sealed in Merkle batches") {
		t.Fatalf("streamed %q", streamed)
	}
	rec := mock.Requests()
	if len(rec) == 0 || !rec[len(rec)-1].Stream {
		t.Fatal("the answer call to the backend was not streamed")
	}
	// asked again: a cache hit, streamed whole, the same text
	_, data2, _, _ := ask(true)
	var fin2 Chunk
	if err := json.Unmarshal([]byte(data2[len(data2)-2]), &fin2); err != nil || fin2.Bizra == nil || !fin2.Bizra.Cached {
		t.Fatalf("second answer not a cache hit: %s", data2[len(data2)-2])
	}
	if again := chunkText(t, data2); strings.TrimSpace(again) != strings.TrimSpace(streamed) {
		t.Fatalf("cached %q, streamed %q", again, streamed)
	}
}

// runtimeCore is the gateway.Core of a runtime for this test (supervision/node's
// adapter imports this package, so the test carries the four methods it needs).
type runtimeCore struct{ rt *core.Runtime }

func (c runtimeCore) Query(ctx context.Context, req query.Request) (query.Result, error) {
	return c.rt.Query(ctx, req)
}

func (c runtimeCore) Health() gateway.Health {
	h := c.rt.Health()
	return gateway.Health{Status: h.Status, Version: h.Version, UptimeS: h.UptimeS, Checks: h.Checks}
}

func (c runtimeCore) Status(ctx context.Context) any { return c.rt.Status(ctx) }
func (c runtimeCore) WriteMetrics(w io.Writer)       { c.rt.WriteMetrics(w) }
