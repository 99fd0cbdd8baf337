package supervision

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/bizra/bizra/internal/catalog"
)

// TestDecide: the one rule (an injected fault restarts) and the default (every other
// failure restarts, a catalog error of a client kind included: no actor panics with
// one, so no rule resumes it).
func TestDecide(t *testing.T) {
	tests := []struct {
		name   string
		reason any
		want   actor.Directive
	}{
		{"injected fault", fmt.Errorf("echo message 3: %w", ErrInjectedFault), actor.RestartDirective},
		{"string panic", "index out of range", actor.RestartDirective},
		{"plain error", errors.New("boom"), actor.RestartDirective},
		{"context error", context.DeadlineExceeded, actor.RestartDirective},
		{"client-kind error", catalog.New(catalog.InvalidInput, "", "", "test: kind"), actor.RestartDirective},
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

// TestDecisionsEveryRuleFires: each rule of the table is the first match for a failure
// built from its own sentinel, so no rule is shadowed or dead.
func TestDecisionsEveryRuleFires(t *testing.T) {
	for i, r := range decisions {
		reason := fmt.Errorf("actor message 1: %w", r.err)
		first := -1
		for j, q := range decisions {
			if errors.Is(reason, q.err) {
				first = j
				break
			}
		}
		if first != i {
			t.Errorf("rule %d (%v) is shadowed by rule %d", i, r.err, first)
		}
		if got := Decide(reason); got != r.directive {
			t.Errorf("rule %d (%v): Decide = %v; want %v", i, r.err, got, r.directive)
		}
	}
}
