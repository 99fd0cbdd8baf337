package query

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/bizra/bizra/actors/cache"
	"github.com/bizra/bizra/internal/tracing"
)

// BenchmarkEngineHitTracing: Engine.Query answered from the cache (receipt service
// excluded) with tracing off (nil tracer: what `bizra run` does without
// --otlp-endpoint) and on (the OTel SDK recording query, gate, cache and
// receipt.issue spans, batched to a local OTLP/HTTP sink), under a client
// traceparent.
//
//	go test -run '^$' -bench BenchmarkEngineHitTracing -benchmem -count 5 ./actors/query/
func BenchmarkEngineHitTracing(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := map[bool]string{false: "off", true: "on"}[on]
		b.Run(name, func(b *testing.B) {
			var tr *tracing.Tracer
			if on {
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
				tr, err = tracing.New(tracing.Options{Endpoint: "http://" + ln.Addr().String(), BatchTimeout: 100 * time.Millisecond, MaxQueue: 1 << 16})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
			}
			sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
				return slog.New(slog.DiscardHandler)
			}))
			b.Cleanup(sys.Shutdown)
			pid := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return richWorker{} }))
			b.Cleanup(func() { _ = sys.Root.PoisonFuture(pid).Wait() })
			c, err := cache.New[Result](cache.Options{})
			if err != nil {
				b.Fatal(err)
			}
			e, err := NewEngine(EngineOptions{System: sys, Metrics: NewMetrics(nil, nil), Cache: c, Receipts: &fixedReceipts{},
				Workers: []*actor.PID{pid}, Tracer: tr})
			if err != nil {
				b.Fatal(err)
			}
			p, _ := tracing.Parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
			ctx := tracing.WithParent(context.Background(), p)
			req := NewRequest("how do I check bridge health?")
			if _, err := e.Query(ctx, req); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if res, err := e.Query(ctx, req); err != nil || !res.Cached {
					b.Fatalf("not a hit: %v", err)
				}
			}
		})
	}
}
