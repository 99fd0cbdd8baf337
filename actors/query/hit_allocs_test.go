package query

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/bizra/bizra/actors/cache"
	"github.com/bizra/bizra/actors/receipt"
)

// fixedReceipts answers every Issue with the same reference and keeps the last input's
// payload digest (it allocates nothing itself, so a budget measures the engine).
type fixedReceipts struct{ digests atomic.Int64 }

func (f *fixedReceipts) Issue(in receipt.Input) (receipt.Ref, error) {
	if in.PayloadDigest != "" {
		f.digests.Add(1)
	}
	return receipt.Ref{ReceiptID: "qr-0000000000001-0000000000000001", LeafHash: "lh", Status: in.Status}, nil
}

// Allocation budgets of the cache-hit path (make test runs them, with -race as well).
// A change that allocates more fails here; lower the budget when a change saves some.
const (
	budgetHitDigest = 3 // sha256 state, the number's text, the hex digest
	budgetEngineHit = 6 // Engine.Query on a hit, receipt service excluded (query id, key, digest)
)

// TestHitDigestAllocBudget: a hit's payload digest from its precomputed form.
func TestHitDigestAllocBudget(t *testing.T) {
	skipAllocBudgetUnderRace(t)
	h := asHit(withHitForm(sampleResults()[1]), "q-1733300000000-0123456789abcdef", 0.214)
	got := testing.AllocsPerRun(200, func() {
		if _, ok := h.hitDigest(); !ok {
			t.Fatal("hit form not used")
		}
	})
	if got > budgetHitDigest {
		t.Errorf("hitDigest allocates %.1f per call; budget %d", got, budgetHitDigest)
	}
}

// TestEngineHitAllocBudget: Engine.Query answering from the cache (gates, cache key,
// copy, digest, metrics), with a receipt service that allocates nothing.
func TestEngineHitAllocBudget(t *testing.T) {
	skipAllocBudgetUnderRace(t)
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	}))
	t.Cleanup(sys.Shutdown)
	pid := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return richWorker{} }))
	t.Cleanup(func() { _ = sys.Root.PoisonFuture(pid).Wait() })
	c, err := cache.New[Result](cache.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rc := &fixedReceipts{}
	e, err := NewEngine(EngineOptions{System: sys, Metrics: NewMetrics(nil, nil), Cache: c, Receipts: rc, Workers: []*actor.PID{pid}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	req := NewRequest("how do I check bridge health?")
	if _, err := e.Query(ctx, req); err != nil {
		t.Fatal(err)
	}
	got := testing.AllocsPerRun(200, func() {
		if res, err := e.Query(ctx, req); err != nil || !res.Cached {
			t.Fatalf("not a hit: %v", err)
		}
	})
	if rc.digests.Load() == 0 {
		t.Fatal("hits were receipted without the stored digest")
	}
	t.Logf("Engine.Query hit: %.1f allocations", got)
	if got > budgetEngineHit {
		t.Errorf("Engine.Query on a hit allocates %.1f per call; budget %d", got, budgetEngineHit)
	}
}
