package query

import (
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// window is how many completed queries the SNR and Ihsan gauges average over.
const window = 100

// Metrics owns the pipeline's series: the contract series of api.md (exact names,
// types and meanings, unlabelled) plus the pipeline histograms and gauges. Every method
// is safe for concurrent use. sovereign_reasoning_calls_total is counted per run by the
// reasoning package's Recorder on the same set; ReasoningCalls here counts the
// completed queries that reasoned, the denominator of the mean depth.
type Metrics struct {
	set *metrics.Set

	queries, cacheHits, cacheMisses *metrics.Counter
	cycles, decisions, actions      *metrics.Counter
	degraded, timeouts, overloaded  *metrics.Counter
	duration, overhead              *metrics.PrometheusHistogram
	snrDist, ihsanDist              *metrics.PrometheusHistogram

	ready func() bool

	mu sync.Mutex
	// mu guards the following fields.
	processed, succeeded    uint64
	totalMs                 float64
	depthSum                float64
	reasoned                uint64
	validated, passed       uint64
	snr, ihsan              [window]float64
	scored, next            int
	gateRejections          map[string]*metrics.Counter
	inFlight, queued, slots int
	// loadSource, when set, reads the admission state live (the engine installs it),
	// so the gauges cannot keep the value of the last admission.
	loadSource func() (inFlight, queued int)
}

// Latency buckets: query durations from 1 ms to 10 min; runtime overhead from 5 µs.
var (
	durationBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160, 320, 600}
	// scoreBuckets split the scores of the scored queries finer where the thresholds
	// are (SNR 0.85, Ihsan 0.95 by default), for the console's distribution chart.
	scoreBuckets    = []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97, 0.99, 1}
	overheadBuckets = []float64{5e-6, 1e-5, 2e-5, 4e-5, 8e-5, 1.6e-4, 3.2e-4, 6.4e-4, 1.28e-3, 2.56e-3, 5.12e-3, 1.024e-2, 2.048e-2, 4.096e-2, 8.192e-2, 0.25, 1}
)

// NewMetrics registers the pipeline series on set. ready reports whether the runtime is
// ready (the health score before any query is 1 when ready, else 0); nil means ready.
func NewMetrics(set *metrics.Set, ready func() bool) *Metrics {
	if set == nil {
		set = metrics.NewSet()
	}
	if ready == nil {
		ready = func() bool { return true }
	}
	m := &Metrics{set: set, ready: ready, gateRejections: map[string]*metrics.Counter{}}
	m.queries = set.GetOrCreateCounter("sovereign_queries_total")
	m.cacheHits = set.GetOrCreateCounter("sovereign_cache_hits_total")
	m.cacheMisses = set.GetOrCreateCounter("sovereign_cache_misses_total")
	m.cycles = set.GetOrCreateCounter("sovereign_autonomous_cycles_total")
	m.decisions = set.GetOrCreateCounter("sovereign_autonomous_decisions_total")
	m.actions = set.GetOrCreateCounter("sovereign_autonomous_actions_total")
	m.degraded = set.GetOrCreateCounter("sovereign_degraded_answers_total")
	m.timeouts = set.GetOrCreateCounter("sovereign_query_timeouts_total")
	m.overloaded = set.GetOrCreateCounter("sovereign_query_overloaded_total")
	m.duration = set.GetOrCreatePrometheusHistogramExt("sovereign_query_duration_seconds", durationBuckets)
	m.overhead = set.GetOrCreatePrometheusHistogramExt("sovereign_query_overhead_seconds", overheadBuckets)
	m.snrDist = set.GetOrCreatePrometheusHistogramExt("sovereign_query_snr", scoreBuckets)
	m.ihsanDist = set.GetOrCreatePrometheusHistogramExt("sovereign_query_ihsan", scoreBuckets)
	set.GetOrCreateGauge("sovereign_query_success_rate", func() float64 { return m.Snapshot().SuccessRate })
	set.GetOrCreateGauge("sovereign_snr_score", func() float64 { return m.Snapshot().SNR })
	set.GetOrCreateGauge("sovereign_ihsan_score", func() float64 { return m.Snapshot().Ihsan })
	set.GetOrCreateGauge("sovereign_avg_query_time_ms", func() float64 { return m.Snapshot().AvgTimeMs })
	set.GetOrCreateGauge("sovereign_health_score", func() float64 { return m.Snapshot().HealthScore })
	set.GetOrCreateGauge("sovereign_reasoning_avg_depth", func() float64 { return m.Snapshot().AvgDepth })
	set.GetOrCreateGauge("sovereign_validation_pass_rate", func() float64 { return m.Snapshot().ValidationPassRate })
	set.GetOrCreateGauge("sovereign_cache_hit_rate", func() float64 { return m.Snapshot().CacheHitRate })
	set.GetOrCreateGauge("sovereign_query_in_flight", func() float64 { return float64(m.Snapshot().InFlight) })
	set.GetOrCreateGauge("sovereign_query_queue_depth", func() float64 { return float64(m.Snapshot().Queued) })
	return m
}

// Completion is what the pipeline records for one completed query.
type Completion struct {
	Success       bool
	Cached        bool
	SNR, Ihsan    *float64 // nil when not measured
	Duration      time.Duration
	Overhead      time.Duration
	Reasoned      bool // a graph-of-thought run happened (not a cache hit, not skipped)
	Depth         int
	Validated     bool
	Passed        bool
	Degraded      bool
	CacheConsult  bool // the cache was consulted (false when it is off)
	CacheHit      bool
	ReasonSkipped bool
}

// Record counts one completed query (cache hits included).
func (m *Metrics) Record(c Completion) {
	m.queries.Inc()
	if c.CacheConsult {
		if c.CacheHit {
			m.cacheHits.Inc()
		} else {
			m.cacheMisses.Inc()
		}
	}
	if c.Degraded {
		m.degraded.Inc()
	}
	m.duration.Update(c.Duration.Seconds())
	if !c.Cached {
		m.overhead.Update(c.Overhead.Seconds())
	}
	if c.SNR != nil && c.Ihsan != nil {
		m.snrDist.Update(*c.SNR)
		m.ihsanDist.Update(*c.Ihsan)
	}
	m.mu.Lock()
	m.processed++
	if c.Success {
		m.succeeded++
	}
	m.totalMs += float64(c.Duration) / float64(time.Millisecond)
	if c.Reasoned {
		m.reasoned++
		m.depthSum += float64(c.Depth)
	}
	if c.Validated {
		m.validated++
		if c.Passed {
			m.passed++
		}
	}
	if c.SNR != nil && c.Ihsan != nil {
		m.snr[m.next], m.ihsan[m.next] = *c.SNR, *c.Ihsan
		m.next = (m.next + 1) % window
		if m.scored < window {
			m.scored++
		}
	}
	m.mu.Unlock()
}

// CacheMiss counts a miss whose query then did not complete (timed out or failed
// before completion) — the miss still happened.
func (m *Metrics) CacheMiss() { m.cacheMisses.Inc() }

// Timeout counts a query that did not finish within its deadline.
func (m *Metrics) Timeout() { m.timeouts.Inc() }

// Overloaded counts a query refused at admission.
func (m *Metrics) Overloaded() { m.overloaded.Inc() }

// GateRejected counts a pre-flight gate rejection by gate name (a bounded set).
func (m *Metrics) GateRejected(gate string) {
	m.mu.Lock()
	c := m.gateRejections[gate]
	if c == nil {
		c = m.set.GetOrCreateCounter(`sovereign_gate_rejections_total{gate="` + gate + `"}`)
		m.gateRejections[gate] = c
	}
	m.mu.Unlock()
	c.Inc()
}

// Cycle counts one maintenance cycle with the decisions it took and actions it ran.
func (m *Metrics) Cycle(decisions, actions int) {
	m.cycles.Inc()
	m.decisions.Add(decisions)
	m.actions.Add(actions)
}

// SetLoadSource makes the in-flight and queue-depth gauges read f live instead of the
// last SetLoad.
func (m *Metrics) SetLoadSource(f func() (inFlight, queued int)) {
	m.mu.Lock()
	m.loadSource = f
	m.mu.Unlock()
}

// SetLoad publishes the admission state: queries running, waiting, and the limit.
func (m *Metrics) SetLoad(inFlight, queued, slots int) {
	m.mu.Lock()
	m.inFlight, m.queued, m.slots = inFlight, queued, slots
	m.mu.Unlock()
}

// Snapshot is the derived state behind the gauges and /v1/status.
type Snapshot struct {
	Processed, Succeeded, Failed uint64
	SuccessRate                  float64
	SNR, Ihsan                   float64
	Scored                       int
	AvgTimeMs                    float64
	HealthScore                  float64
	ReasoningCalls               uint64
	AvgDepth                     float64
	Validated                    uint64
	ValidationPassRate           float64
	CacheHits, CacheMisses       uint64
	CacheHitRate                 float64
	InFlight, Queued             int
	Cycles, Decisions, Actions   uint64
}

// Snapshot computes the derived values.
func (m *Metrics) Snapshot() Snapshot {
	s := Snapshot{
		CacheHits:   m.cacheHits.Get(),
		CacheMisses: m.cacheMisses.Get(),
		Cycles:      m.cycles.Get(),
		Decisions:   m.decisions.Get(),
		Actions:     m.actions.Get(),
	}
	if t := s.CacheHits + s.CacheMisses; t > 0 {
		s.CacheHitRate = float64(s.CacheHits) / float64(t)
	}
	m.mu.Lock()
	s.Processed, s.Succeeded = m.processed, m.succeeded
	s.Failed = m.processed - m.succeeded
	s.Validated = m.validated
	s.Scored = m.scored
	s.InFlight, s.Queued = m.inFlight, m.queued
	if m.loadSource != nil {
		s.InFlight, s.Queued = m.loadSource()
	}
	if m.processed > 0 {
		s.SuccessRate = float64(m.succeeded) / float64(m.processed)
		s.AvgTimeMs = m.totalMs / float64(m.processed)
	}
	s.ReasoningCalls = m.reasoned
	if m.reasoned > 0 {
		s.AvgDepth = m.depthSum / float64(m.reasoned)
	}
	if m.validated > 0 {
		s.ValidationPassRate = float64(m.passed) / float64(m.validated)
	}
	for i := 0; i < m.scored; i++ {
		s.SNR += m.snr[i]
		s.Ihsan += m.ihsan[i]
	}
	if m.scored > 0 {
		s.SNR /= float64(m.scored)
		s.Ihsan /= float64(m.scored)
	}
	m.mu.Unlock()
	switch {
	case s.Processed > 0:
		s.HealthScore = 0.4*s.SNR + 0.4*s.Ihsan + 0.2*s.SuccessRate
	case m.ready():
		s.HealthScore = 1
	}
	return s
}
