//go:build race

package gateway

// raceSlack is the extra allocation the race detector adds to a request through
// handle (measured: one).
const raceSlack = 1
