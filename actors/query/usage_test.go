package query

import (
	"log/slog"
	"sync/atomic"
	"testing"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/bizra/bizra/actors/inference"
	"github.com/bizra/bizra/internal/scoring"
)

// TestSumUsage: a query's upstream usage is the sum over its calls that reached a
// backend (decomposition and answer), reported only when every counted call's was.
func TestSumUsage(t *testing.T) {
	rep := func(p, c int) inference.Usage {
		return inference.Usage{PromptTokens: p, CompletionTokens: c, Reported: true}
	}
	tests := []struct {
		name string
		in   []inference.Usage
		want inference.Usage
	}{
		{"no backend", []inference.Usage{{}, {}}, inference.Usage{}},
		{"answer only", []inference.Usage{{}, rep(900, 40)}, rep(900, 40)},
		{"decompose and answer", []inference.Usage{rep(120, 30), rep(900, 40)}, rep(1020, 70)},
		{"one estimated", []inference.Usage{{PromptTokens: 100, CompletionTokens: 5}, rep(900, 40)},
			inference.Usage{PromptTokens: 1000, CompletionTokens: 45}},
	}
	for _, tt := range tests {
		if got := sumUsage(tt.in...); got != tt.want {
			t.Errorf("%s: %+v; want %+v", tt.name, got, tt.want)
		}
	}
}

// usageInference is a model backend that decomposes and answers, reporting the usage
// of each call.
type usageInference struct{ decompose, answer inference.Usage }

func (f usageInference) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *inference.DecomposeAsk:
		ctx.Respond(&inference.Decomposed{ID: m.ID, SubQuestions: []string{"Which port does the bridge listen on?"},
			Backend: "be", Model: "m", Usage: f.decompose})
	case *inference.Ask:
		e := m.Request.Evidence[0]
		ctx.Respond(&inference.Answered{ID: m.ID, Answer: inference.Answer{Text: e.Excerpt + " [" + e.Source + "]", Backend: "be", Model: "m",
			Sentences: []inference.Sentence{{Text: e.Excerpt, Source: e.Source}}, Usage: f.answer,
			TokensUsed: f.answer.PromptTokens + f.answer.CompletionTokens}})
	}
}

// TestWorkerUpstreamUsage: a query's Detail.Usage is the sum of what its decomposition
// and answer calls sent and received upstream.
func TestWorkerUpstreamUsage(t *testing.T) {
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
	t.Cleanup(sys.Shutdown)
	fi := usageInference{decompose: inference.Usage{PromptTokens: 120, CompletionTokens: 14, Reported: true},
		answer: inference.Usage{PromptTokens: 905, CompletionTokens: 41, Reported: true}}
	inf := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return fi }))
	var appends atomic.Int64
	led := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return fakeLedger{appends: &appends} }))
	safety, err := NewSafetyPolicy(nil)
	if err != nil {
		t.Fatal(err)
	}
	w := sys.Root.Spawn(WorkerProps(WorkerOptions{Index: func() Searcher { return bridgeLake }, Inference: inf, Ledger: led,
		Policy: scoring.Default(), Safety: safety, Load: &Load{}, ModelDecomposes: true}))
	t.Cleanup(func() {
		for _, pid := range []*actor.PID{w, inf, led} {
			_ = sys.Root.StopFuture(pid).Wait()
		}
	})
	rig := &workerRig{sys: sys, worker: w}
	d := rig.run(t, NewRequest("which port does the bridge use?"))
	if d.Err() != nil {
		t.Fatal(d.Err())
	}
	want := inference.Usage{PromptTokens: 1025, CompletionTokens: 55, Reported: true}
	if d.Result.Detail.Usage != want {
		t.Fatalf("usage %+v; want %+v", d.Result.Detail.Usage, want)
	}
}
