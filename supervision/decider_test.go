package supervision

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/bizra/bizra/actors/catalog"
	"github.com/bizra/bizra/supervision/genesis"
)

func TestDecide(t *testing.T) {
	kind := func(k catalog.Kind) error { return fmt.Errorf("op: %w", catalog.New(k, "", "", "test: kind")) }
	tests := []struct {
		name   string
		reason any
		want   actor.Directive
	}{
		{"string panic", "index out of range", actor.RestartDirective},
		{"plain error", errors.New("boom"), actor.RestartDirective},
		{"context error", context.DeadlineExceeded, actor.RestartDirective},
		{"escalate", fmt.Errorf("ledger corrupt: %w", ErrEscalate), actor.EscalateDirective},
		{"stop", fmt.Errorf("done: %w", ErrStopActor), actor.StopDirective},
		{"genesis enforcement", &genesis.EnforcementError{Dir: "d", Reason: "x"}, actor.EscalateDirective},
		{"injected fault", fmt.Errorf("echo message 3: %w", ErrInjectedFault), actor.RestartDirective},
		{"invalid input", kind(catalog.InvalidInput), actor.ResumeDirective},
		{"invalid json", kind(catalog.InvalidJSON), actor.ResumeDirective},
		{"too large", kind(catalog.PayloadTooLarge), actor.ResumeDirective},
		{"not found", kind(catalog.NotFound), actor.ResumeDirective},
		{"unauthorized", kind(catalog.Unauthorized), actor.ResumeDirective},
		{"rate limited", kind(catalog.RateLimited), actor.ResumeDirective},
		{"conflict", kind(catalog.Conflict), actor.ResumeDirective},
		{"overloaded", kind(catalog.Overloaded), actor.RestartDirective},
		{"timeout", kind(catalog.Timeout), actor.RestartDirective},
		{"unavailable", kind(catalog.Unavailable), actor.RestartDirective},
		{"internal", kind(catalog.Internal), actor.RestartDirective},
		{"invalid role", genesis.ErrInvalidRole, actor.ResumeDirective},
		{"nil", nil, actor.RestartDirective},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Decide(tt.reason); got != tt.want {
				t.Fatalf("Decide(%v) = %v; want %v", tt.reason, got, tt.want)
			}
		})
	}
}

// TestDecisionsCoverEveryKind: every catalog kind has a row, so a new kind cannot fall
// through silently.
func TestDecisionsCoverEveryKind(t *testing.T) {
	for k := catalog.Internal; k <= catalog.Conflict; k++ {
		found := false
		for _, r := range decisions {
			if r.err == nil && r.kind == k {
				found = true
			}
		}
		if !found {
			t.Errorf("kind %d (%s) has no row", k, catalog.Of(k).Code)
		}
	}
}
