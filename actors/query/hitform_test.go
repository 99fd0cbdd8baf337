package query

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/bizra/bizra/actors/cache"
	"github.com/bizra/bizra/actors/receipt"
	"github.com/bizra/bizra/internal/canon"
)

// asHit is r as the engine serves it from the cache: a fresh id and timing, cached.
func asHit(r Result, qid string, ms float64) Result {
	r.QueryID, r.Cached, r.ProcessingTimeMs, r.ReceiptID = qid, true, ms, ""
	return r
}

// TestHitDigestEqualsPayloadDigest: the digest a hit computes from its precomputed
// form equals the generic digest of the payload it carries, for every sample result
// and per-request values; a hit that differs from its form in a fixed field (another
// user, a receipt attached) does not use the form.
func TestHitDigestEqualsPayloadDigest(t *testing.T) {
	tests := []struct {
		name string
		qid  string
		ms   float64
	}{
		{"typical", "q-1733300000000-0123456789abcdef", 0.214},
		{"zero time", "q-1-00", 0},
		{"large time and escapes", "q-\"\u2028é", 123456.789},
	}
	for i, r := range sampleResults() {
		cached := withHitForm(r)
		if cached.hit == nil {
			t.Fatalf("result %d: no hit form", i)
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				h := asHit(cached, tt.qid, tt.ms)
				got, ok := h.hitDigest()
				if !ok {
					t.Fatalf("result %d: hit form not used", i)
				}
				want, err := canon.Digest(receipt.DomainPayload, &h)
				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Fatalf("result %d: hit digest %s, payload digest %s", i, got, want)
				}
			})
		}
	}
	stale := []struct {
		name   string
		change func(*Result)
	}{
		{"other user", func(r *Result) { r.UserID += "x" }},
		{"receipt attached", func(r *Result) { r.ReceiptID = "qr-1" }},
		{"not cached", func(r *Result) { r.Cached = false }},
		{"no form", func(r *Result) { r.hit = nil }},
	}
	for _, tt := range stale {
		t.Run(tt.name, func(t *testing.T) {
			h := asHit(withHitForm(sampleResults()[1]), "q-1-00", 1)
			tt.change(&h)
			if d, ok := h.hitDigest(); ok {
				t.Fatalf("hit digest %s from a stale form", d)
			}
		})
	}
}

// recordingReceipts passes Issue to a real service and keeps the inputs.
type recordingReceipts struct {
	s  *receipt.Service
	mu sync.Mutex
	in []receipt.Input
}

func (r *recordingReceipts) Issue(in receipt.Input) (receipt.Ref, error) {
	r.mu.Lock()
	r.in = append(r.in, in)
	r.mu.Unlock()
	return r.s.Issue(in)
}

// richWorker answers every Run with a result carrying evidence and thoughts.
type richWorker struct{}

func (richWorker) Receive(ctx actor.Context) {
	if m, ok := ctx.Message().(*Run); ok {
		r := sampleResults()[1]
		r.QueryID, r.UserID, r.Cached, r.ReceiptID, r.Degraded, r.Error = m.QueryID, m.Request.UserID, false, "", false, nil
		ctx.Respond(&Done{Result: r, Completion: Completion{Success: true, CacheConsult: m.UseCache}})
	}
}

// TestQueryCacheHitReceiptVerifies: a cache hit's receipt is issued from the stored
// digest (the fast path is taken), verifies, and its payload_digest equals the digest
// of the payload the client received (the result before its receipt id).
func TestQueryCacheHitReceiptVerifies(t *testing.T) {
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	}))
	t.Cleanup(sys.Shutdown)
	secret, err := receipt.GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	s, err := receipt.New(receipt.Options{System: sys, Dir: t.TempDir(), Secret: secret, NodeID: "node_test",
		Origin: func() map[string]any { return map[string]any{"designation": "ephemeral_node"} }, PolicyDigest: func() string { return "p" }})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	pid := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return richWorker{} }))
	t.Cleanup(func() { _ = sys.Root.PoisonFuture(pid).Wait() })
	c, err := cache.New[Result](cache.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recordingReceipts{s: s}
	e, err := NewEngine(EngineOptions{System: sys, Metrics: NewMetrics(nil, nil), Cache: c, Receipts: rec, Workers: []*actor.PID{pid}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	req := NewRequest("how do I check bridge health?")
	req.UserID = "alice"
	miss, err := e.Query(ctx, req)
	if err != nil || miss.Cached {
		t.Fatalf("miss: %+v %v", miss, err)
	}
	for i := range 2 {
		hit, err := e.Query(ctx, req)
		if err != nil || !hit.Cached || hit.ReceiptID == "" {
			t.Fatalf("hit %d: %+v %v", i, hit, err)
		}
		rec.mu.Lock()
		in := rec.in[len(rec.in)-1]
		rec.mu.Unlock()
		if in.PayloadDigest == "" || in.Payload != nil {
			t.Fatalf("hit %d issued without the stored digest: %+v", i, in)
		}
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		raw, err := s.Get(hit.ReceiptID)
		if err != nil {
			t.Fatal(err)
		}
		if v := s.Verify(raw); !v.Valid {
			t.Fatalf("hit %d receipt does not verify: %s", i, v.Reason)
		}
		var body struct {
			PayloadDigest string `json:"payload_digest"`
		}
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Fatal(err)
		}
		received := hit
		received.ReceiptID = "" // the payload is the result before its receipt is attached
		want, err := canon.Digest(receipt.DomainPayload, &received)
		if err != nil {
			t.Fatal(err)
		}
		if body.PayloadDigest != want {
			t.Fatalf("hit %d: payload_digest %s; digest of the received payload %s", i, body.PayloadDigest, want)
		}
	}
}
