package ledger

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if child := os.Getenv(childEnv); child != "" {
		os.Exit(runChild(child))
	}
	goleak.VerifyTestMain(m)
}

func newSystem(t testing.TB) *actor.ActorSystem {
	t.Helper()
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	}))
	t.Cleanup(sys.Shutdown)
	return sys
}

// startLedger opens and starts a ledger in dir (a fresh temp folder when "").
func startLedger(t testing.TB, opts Options) *Ledger {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	if opts.System == nil {
		opts.System = newSystem(t)
	}
	l, err := Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := l.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := l.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return l
}

func commit(t testing.TB, l *Ledger, ep Episode) Appended {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, err := l.Commit(ctx, ep)
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	return a
}

func sample(ctx string) Episode {
	return Episode{
		Context:        ctx,
		GraphHash:      "ab12",
		GraphNodeCount: 3,
		Actions: []Action{
			{Type: "gate", Description: "schema", Success: true, DurationUS: 5},
			{Type: "inference", Description: "embedded", Success: true, DurationUS: 1200},
		},
		SNR: 0.9, Ihsan: 0.96, SNROK: true, TokensUsed: 100,
		ResponseSummary: "answer to " + ctx,
	}
}

func newChildSystem() *actor.ActorSystem {
	return actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	}))
}
