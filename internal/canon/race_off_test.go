//go:build !race

package canon

import "testing"

// raceSlack is 0: budgets are exact without the race detector.
const raceSlack = 0

// skipAllocBudgetUnderRace does nothing without the race detector (race_on_test.go).
func skipAllocBudgetUnderRace(t *testing.T) { t.Helper() }
