package bridge

import (
	"sync/atomic"

	"github.com/VictoriaMetrics/metrics"
)

// Outcomes of sovereign_bridge_requests_total (a bounded label).
const (
	outcomeOK = iota
	outcomeParseError
	outcomeInvalidRequest
	outcomeAuthFailed
	outcomeRateLimited
	outcomeReplay
	outcomeBusy
	outcomeMethodNotFound
	outcomeInvalidParams
	outcomeError
	outcomeInternal
	numOutcomes
)

var outcomeNames = [numOutcomes]string{
	"ok", "parse_error", "invalid_request", "auth_failed", "rate_limited", "replay",
	"busy", "method_not_found", "invalid_params", "error", "internal_error",
}

// durationBuckets are the request-duration histogram bounds in seconds (anchors.md §6).
var durationBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// bridgeMetrics holds the bridge's series. Counters are created on first use so that
// the exposition lists only label pairs that happened, from a bounded set.
type bridgeMetrics struct {
	set          *metrics.Set
	requests     [numMethods + 1][numOutcomes]atomic.Pointer[metrics.Counter]
	authFail     map[string]*metrics.Counter
	conns        *metrics.Gauge
	rateLimited  *metrics.Counter
	duration     *metrics.PrometheusHistogram
	slowClients  *metrics.Counter
	rejected     *metrics.Counter
	panics       *metrics.Counter
	perIP        *metrics.Counter
	authTimeouts *metrics.Counter
}

func newBridgeMetrics(set *metrics.Set) *bridgeMetrics {
	m := &bridgeMetrics{
		set:          set,
		authFail:     make(map[string]*metrics.Counter),
		conns:        set.GetOrCreateGauge("sovereign_bridge_connections", nil),
		rateLimited:  set.GetOrCreateCounter("sovereign_bridge_rate_limited_total"),
		duration:     set.GetOrCreatePrometheusHistogramExt("sovereign_bridge_request_duration_seconds", durationBuckets),
		slowClients:  set.GetOrCreateCounter(`sovereign_bridge_disconnects_total{reason="slow_client"}`),
		rejected:     set.GetOrCreateCounter(`sovereign_bridge_disconnects_total{reason="max_conns"}`),
		panics:       set.GetOrCreateCounter(`sovereign_panics_total{component="bridge"}`),
		perIP:        set.GetOrCreateCounter(`sovereign_bridge_disconnects_total{reason="max_conns_per_ip"}`),
		authTimeouts: set.GetOrCreateCounter(`sovereign_bridge_disconnects_total{reason="auth_timeout"}`),
	}
	for _, f := range []*authFailure{&failHeaders, &failToken, &failTS, &failNonce, &failBadToken, &failBadSig, &failStale, &failBeforeStart, &failReplay} {
		m.authFail[f.reason] = set.GetOrCreateCounter(`sovereign_bridge_auth_failures_total{reason="` + f.reason + `"}`)
	}
	return m
}

// request counts one answered request. method is an index into methodNames or
// numMethods for "unknown".
func (m *bridgeMetrics) request(method, outcome int) {
	p := &m.requests[method][outcome]
	c := p.Load()
	if c == nil {
		name := "unknown"
		if method < numMethods {
			name = methodNames[method]
		}
		c = m.set.GetOrCreateCounter(`sovereign_bridge_requests_total{method="` + name + `",outcome="` + outcomeNames[outcome] + `"}`)
		p.Store(c)
	}
	c.Inc()
}
