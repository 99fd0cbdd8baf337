package query

import (
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/bizra/bizra/actors/inference"
	"github.com/bizra/bizra/internal/scoring"
)

// deltaInference answers like usageInference and, when the Ask carries OnDelta, hands
// it two pieces first (as a streaming backend does).
type deltaInference struct{ usageInference }

func (f deltaInference) Receive(ctx actor.Context) {
	if m, ok := ctx.Message().(*inference.Ask); ok && m.Request.OnDelta != nil {
		m.Request.OnDelta("Bridge ")
		m.Request.OnDelta("answer")
	}
	f.usageInference.Receive(ctx)
}

// TestWorkerPassesOnDelta: a query's OnDelta reaches the inference call, except with
// EnforceIhsan on, where an answer may be withheld and so none of it may leave early.
func TestWorkerPassesOnDelta(t *testing.T) {
	for _, tc := range []struct {
		name    string
		enforce bool
		want    []string
	}{
		{"streamed", false, []string{"Bridge ", "answer"}},
		{"enforce ihsan: not streamed", true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
			t.Cleanup(sys.Shutdown)
			inf := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return deltaInference{} }))
			var appends atomic.Int64
			led := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return fakeLedger{appends: &appends} }))
			safety, err := NewSafetyPolicy(nil)
			if err != nil {
				t.Fatal(err)
			}
			w := sys.Root.Spawn(WorkerProps(WorkerOptions{Index: func() Searcher { return bridgeLake }, Inference: inf, Ledger: led,
				Policy: scoring.Default(), Safety: safety, Load: &Load{}, EnforceIhsan: tc.enforce}))
			t.Cleanup(func() {
				for _, pid := range []*actor.PID{w, inf, led} {
					_ = sys.Root.StopFuture(pid).Wait()
				}
			})
			var mu sync.Mutex
			var got []string
			req := NewRequest("which port does the bridge use?")
			req.OnDelta = func(s string) { mu.Lock(); got = append(got, s); mu.Unlock() }
			d := (&workerRig{sys: sys, worker: w}).run(t, req)
			if d.Err() != nil {
				t.Fatal(d.Err())
			}
			mu.Lock()
			defer mu.Unlock()
			if !slices.Equal(got, tc.want) {
				t.Fatalf("pieces %q, want %q", got, tc.want)
			}
		})
	}
}
