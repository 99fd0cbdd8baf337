//go:build !race

package query

// raceSlack is 0 without the race detector (race_on_test.go).
const raceSlack = 0
