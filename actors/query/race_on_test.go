//go:build race

package query

import "testing"

// skipAllocBudgetUnderRace skips an allocation budget under the race detector, whose
// sync.Pool drops pooled objects at random (so a budget would flake). make test runs
// the budgets a second time without -race (the alloc-budgets step), where they hold.
func skipAllocBudgetUnderRace(t *testing.T) {
	t.Helper()
	t.Skip("allocation budgets are checked without -race (make test's alloc-budgets step)")
}
