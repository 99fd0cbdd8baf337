//go:build !race

package canon

const raceSlack = 0
