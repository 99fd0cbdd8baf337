//go:build race

package query

// raceSlack is the extra allocations the race detector adds to Engine.Query on a hit
// (measured: two).
const raceSlack = 2
