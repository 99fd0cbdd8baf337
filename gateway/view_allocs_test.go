package gateway

import "testing"

// TestAppendViewAllocBudget: the hand-written query response encoder earns its place
// over encoding/json only while it stays (nearly) allocation-free. Into a buffer with
// room, each sample may allocate at most its budget; a change that allocates more
// fails here (make test runs it, with -race as well).
func TestAppendViewAllocBudget(t *testing.T) {
	skipAllocBudgetUnderRace(t)
	samples := viewSamples()
	budgets := []float64{0, 1, 0} // sample 1 sorts its detail components' keys
	if len(budgets) != len(samples) {
		t.Fatalf("%d budgets for %d samples", len(budgets), len(samples))
	}
	for i := range samples {
		r := &samples[i]
		buf := make([]byte, 0, 64<<10)
		got := testing.AllocsPerRun(200, func() { buf = appendView(buf[:0], r) })
		if got > budgets[i] {
			t.Errorf("sample %d: appendView allocates %.1f per call; budget %.0f", i, got, budgets[i])
		}
	}
}

// TestAppendHitViewAllocBudget: a cache hit's response from its kept parts allocates
// nothing (the detail components were sorted when the parts were built).
func TestAppendHitViewAllocBudget(t *testing.T) {
	skipAllocBudgetUnderRace(t)
	for i, r := range viewSamples() {
		p := newViewParts(&r)
		buf := make([]byte, 0, 64<<10)
		got := testing.AllocsPerRun(200, func() { buf = appendHitView(buf[:0], &r, p) })
		if got > 0 {
			t.Errorf("sample %d: appendHitView allocates %.1f per call; budget 0", i, got)
		}
	}
}
