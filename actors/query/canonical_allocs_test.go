package query

import "testing"

// TestCanonicalAllocBudgets: the hand-written canonical encoders of the cache key and
// the receipt digests run on every query (cache hits included); into a buffer with
// room they may allocate at most their budget (the numbers go through
// jcs.NumberToJSON, one string each). A request context is client JSON and takes the
// generic path, whose allocations vary with map order: it has no budget here. A change
// that allocates more fails here.
func TestCanonicalAllocBudgets(t *testing.T) {
	skipAllocBudgetUnderRace(t)
	results := sampleResults()
	plain := NewRequest("how do I check bridge health?")
	tests := []struct {
		name   string
		budget float64
		f      func([]byte) ([]byte, error)
	}{
		{"empty result", 0, results[0].AppendCanonical},
		{"full result", 4, results[1].AppendCanonical}, // four fractional numbers
		{"cache identity", 0, identity{&plain}.AppendCanonical},
		{"receipt params", 1, receiptParams{&plain}.AppendCanonical},
	}
	for _, tt := range tests {
		buf := make([]byte, 0, 64<<10)
		got := testing.AllocsPerRun(200, func() { buf, _ = tt.f(buf[:0]) })
		if got > tt.budget {
			t.Errorf("%s: %.1f allocations per call; budget %.0f", tt.name, got, tt.budget)
		}
	}
}
