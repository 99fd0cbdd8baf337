//go:build !race

package canon

import "testing"

// skipAllocBudgetUnderRace does nothing without the race detector (race_on_test.go).
func skipAllocBudgetUnderRace(t *testing.T) { t.Helper() }
