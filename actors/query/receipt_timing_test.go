package query

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/bizra/bizra/actors/receipt"
)

// BenchmarkQueryReceipt measures what a completed query spends on its receipt on the
// request path: receipt.Service.Issue with the query's params and result (the
// canonical fast paths), leaf hash included; sealing happens off the path.
//
//	go test -run '^$' -bench QueryReceipt -benchmem ./actors/query
func BenchmarkQueryReceipt(b *testing.B) {
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
	defer sys.Shutdown()
	secret, err := receipt.GenerateSecret()
	if err != nil {
		b.Fatal(err)
	}
	origin := map[string]any{"designation": "ephemeral_node", "genesis_node": false}
	s, err := receipt.New(receipt.Options{System: sys, Dir: b.TempDir(), Secret: secret, NodeID: "node_bench",
		Origin: func() map[string]any { return origin }, PolicyDigest: func() string { return "p" }})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	req := NewRequest("how do I check bridge health?")
	res := sampleResults()[1]
	for i := 0; i < 8; i++ { // a typical answer carries about eight excerpts
		res.Evidence = append(res.Evidence, Evidence{Source: "bizra-docs/RUNBOOK.md#33-desktop-bridge-health:L74",
			Excerpt: "How to check bridge health: run `bin/bizra ping`. It reads the token from the environment and prints the response line.", Score: 0.9})
	}
	lat := make([]time.Duration, 0, 1<<16)
	b.ReportAllocs()
	for b.Loop() {
		t0 := time.Now()
		if _, err := s.Issue(receipt.Input{Kind: receipt.KindQuery, Status: receipt.StatusAccepted, Method: "POST /v1/query",
			Params: receiptParams{&req}, Payload: &res, SNR: res.SNRScore, Ihsan: res.IhsanScore, GatePassed: true,
			Duration: time.Millisecond}); err != nil {
			b.Fatal(err)
		}
		if len(lat) < cap(lat) {
			lat = append(lat, time.Since(t0))
		}
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
	}
}
