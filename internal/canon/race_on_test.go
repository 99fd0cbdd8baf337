//go:build race

package canon

// raceSlack is the extra allocations the race detector's instrumentation adds to a
// call that allocates at all (measured: one, in jcs.NumberToJSON).
const raceSlack = 1
