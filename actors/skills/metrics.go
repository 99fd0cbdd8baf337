package skills

import (
	"fmt"
	"time"
)

// durationBuckets are the upper bounds of sovereign_skill_duration_seconds.
var durationBuckets = []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// count adds one to sovereign_skill_invocations_total{skill,outcome}; skill is a
// registered name or "unknown", outcome one of success, failure, invalid_input,
// not_found, disabled, overloaded, timeout, unavailable, panic.
func (r *Registry) count(skill, outcome string) {
	r.metrics.GetOrCreateCounter(fmt.Sprintf(`sovereign_skill_invocations_total{skill=%q,outcome=%q}`, skill, outcome)).Inc()
}

// observe records one execution's duration.
func (r *Registry) observe(skill string, d time.Duration) {
	r.metrics.GetOrCreatePrometheusHistogramExt(fmt.Sprintf(`sovereign_skill_duration_seconds{skill=%q}`, skill), durationBuckets).Update(d.Seconds())
}
