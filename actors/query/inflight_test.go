package query

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/asynkron/protoactor-go/actor"

	"github.com/bizra/bizra/actors/cache"
)

// slowWorker answers every Run after a short delay (off Receive), so queries overlap.
type slowWorker struct{ delay time.Duration }

func (w slowWorker) Receive(ctx actor.Context) {
	if m, ok := ctx.Message().(*Run); ok {
		if strings.HasPrefix(m.Request.Query, "lost") {
			return // a run lost in a crash: its caller times out
		}
		sender := ctx.Sender()
		root := ctx.ActorSystem().Root
		time.AfterFunc(w.delay, func() {
			snr := 0.9
			root.Send(sender, &Done{Result: Result{QueryID: m.QueryID, Success: true, Response: "answer", SNRScore: &snr, SNROK: true},
				Completion: Completion{Success: true, CacheConsult: m.UseCache}})
		})
	}
}

// gauge reads one unlabelled series from set's exposition (what /metrics shows).
func gauge(t *testing.T, set *metrics.Set, name string) string {
	t.Helper()
	var buf bytes.Buffer
	set.WritePrometheus(&buf)
	for _, l := range strings.Split(buf.String(), "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			return v
		}
	}
	t.Fatalf("%s not exposed", name)
	return ""
}

// TestInFlightGaugeFallsToZero: sovereign_query_in_flight and queue depth, as the
// exposition shows them, are back at 0 once every query has returned, whatever the
// queries met: cache misses and hits, schema and safety rejections, refusals past the
// queue, timeouts of lost runs. (Issue 18 saw the gauge stuck at 5–6: it was set at
// admission only, from the admission count of the moment, and never on return.)
func TestInFlightGaugeFallsToZero(t *testing.T) {
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	}))
	t.Cleanup(sys.Shutdown)
	var pids []*actor.PID
	for range 3 {
		pid := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return slowWorker{delay: 3 * time.Millisecond} }))
		pids = append(pids, pid)
		t.Cleanup(func() { _ = sys.Root.PoisonFuture(pid).Wait() })
	}
	c, err := cache.New[Result](cache.Options{})
	if err != nil {
		t.Fatal(err)
	}
	safety, err := NewSafetyPolicy([]string{`forbidden`})
	if err != nil {
		t.Fatal(err)
	}
	set := metrics.NewSet()
	m := NewMetrics(set, nil)
	e, err := NewEngine(EngineOptions{System: sys, Metrics: m, Cache: c, Receipts: &fixedReceipts{}, Workers: pids,
		Queue: 6, Safety: safety})
	if err != nil {
		t.Fatal(err)
	}
	var overloaded, timedOut, ok atomic.Int64
	var wg sync.WaitGroup
	for g := range 24 {
		wg.Go(func() {
			for i := range 12 {
				var q string
				switch (g + i) % 6 {
				case 0:
					q = fmt.Sprintf("unique question %d %d", g, i) // a miss
				case 1, 2:
					q = "the same question" // hits once cached
				case 3:
					q = "something forbidden" // safety gate
				case 4:
					q = "" // schema gate
				case 5:
					q = fmt.Sprintf("lost run %d %d", g, i)
				}
				req := NewRequest(q)
				ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
				_, err := e.Query(ctx, req)
				cancel()
				switch {
				case err == nil:
					ok.Add(1)
				case err == ErrOverloaded:
					overloaded.Add(1)
				case err == ErrTimeout:
					timedOut.Add(1)
				}
			}
		})
	}
	// While queries run, the gauge shows them.
	deadline := time.Now().Add(5 * time.Second)
	seen := false
	for !seen && time.Now().Before(deadline) {
		seen = gauge(t, set, "sovereign_query_in_flight") != "0"
		time.Sleep(time.Millisecond)
	}
	wg.Wait()
	if !seen {
		t.Error("the gauge never showed a query in flight")
	}
	if ok.Load() == 0 || overloaded.Load() == 0 || timedOut.Load() == 0 || m.Snapshot().CacheHits == 0 {
		t.Fatalf("the mix did not happen: ok %d overloaded %d timed out %d hits %d", ok.Load(), overloaded.Load(), timedOut.Load(), m.Snapshot().CacheHits)
	}
	for _, name := range []string{"sovereign_query_in_flight", "sovereign_query_queue_depth"} {
		if v := gauge(t, set, name); v != "0" {
			t.Errorf("%s = %s after every query returned; want 0", name, v)
		}
	}
}
