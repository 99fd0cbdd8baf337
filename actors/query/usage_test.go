package query

import (
	"testing"

	"github.com/bizra/bizra/actors/inference"
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
