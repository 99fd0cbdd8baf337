package query

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

func f(v float64) *float64 { return &v }

// TestMetricsContract pins the worked example: 10 processed, 8 succeeded,
// snr 0.91, ihsan 0.96 give success rate 0.8 and health score 0.908.
func TestMetricsContract(t *testing.T) {
	set := metrics.NewSet()
	m := NewMetrics(set, nil)
	if got := m.Snapshot().HealthScore; got != 1 {
		t.Fatalf("health before any query = %v; want 1 when ready", got)
	}
	for i := range 10 {
		m.Record(Completion{Success: i < 8, SNR: f(0.91), Ihsan: f(0.96), Duration: 20 * time.Millisecond,
			Reasoned: true, Depth: 2, Validated: true, Passed: i < 5, CacheConsult: true, CacheHit: i < 3})
	}
	s := m.Snapshot()
	near := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %v; want %v", name, got, want)
		}
	}
	near("success_rate", s.SuccessRate, 0.8)
	near("health_score", s.HealthScore, 0.908)
	near("snr", s.SNR, 0.91)
	near("avg_time_ms", s.AvgTimeMs, 20)
	near("avg_depth", s.AvgDepth, 2)
	near("validation_pass_rate", s.ValidationPassRate, 0.5)
	near("cache_hit_rate", s.CacheHitRate, 0.3)

	var buf bytes.Buffer
	set.WritePrometheus(&buf)
	for _, line := range []string{
		"sovereign_queries_total 10", "sovereign_query_success_rate 0.8",
		"sovereign_cache_hits_total 3", "sovereign_cache_misses_total 7",
	} {
		if !strings.Contains(buf.String(), line+"\n") {
			t.Errorf("exposition lacks %q", line)
		}
	}
	var hs float64
	for _, l := range strings.Split(buf.String(), "\n") {
		if v, ok := strings.CutPrefix(l, "sovereign_health_score "); ok {
			hs, _ = strconv.ParseFloat(v, 64)
		}
	}
	near("exposed health_score", hs, 0.908)
}

func TestMetricsWindowAndNotReady(t *testing.T) {
	m := NewMetrics(nil, func() bool { return false })
	if got := m.Snapshot().HealthScore; got != 0 {
		t.Fatalf("health before any query when not ready = %v; want 0", got)
	}
	for range 100 {
		m.Record(Completion{Success: true, SNR: f(0.2), Ihsan: f(0.2)})
	}
	for range 100 {
		m.Record(Completion{Success: true, SNR: f(0.9), Ihsan: f(0.8)})
	}
	if s := m.Snapshot(); math.Abs(s.SNR-0.9) > 1e-9 || math.Abs(s.Ihsan-0.8) > 1e-9 {
		t.Fatalf("window mean snr %v ihsan %v; want the last 100 only (0.9, 0.8)", s.SNR, s.Ihsan)
	}
	// A query with no measured score leaves the quality window alone.
	m.Record(Completion{Success: false})
	if s := m.Snapshot(); math.Abs(s.SNR-0.9) > 1e-9 {
		t.Fatalf("unscored query moved the SNR mean to %v", s.SNR)
	}
}

// TestScoreDistributions: each scored completion lands in the sovereign_query_snr and
// sovereign_query_ihsan buckets of its score (cumulative, le inclusive); an unscored
// one (NO_EVIDENCE) is in neither.
func TestScoreDistributions(t *testing.T) {
	set := metrics.NewSet()
	m := NewMetrics(set, nil)
	for _, c := range []struct{ snr, ihsan *float64 }{
		{f(0.83), f(0.99)}, {f(0.85), f(0.96)}, {f(0.97), f(1)}, {f(0.05), f(0.5)}, {nil, nil},
	} {
		m.Record(Completion{Success: true, SNR: c.snr, Ihsan: c.ihsan})
	}
	var buf bytes.Buffer
	set.WritePrometheus(&buf)
	for _, want := range []string{
		`sovereign_query_snr_bucket{le="0.1"} 1`, `sovereign_query_snr_bucket{le="0.8"} 1`,
		`sovereign_query_snr_bucket{le="0.85"} 3`, `sovereign_query_snr_bucket{le="0.97"} 4`,
		`sovereign_query_snr_bucket{le="+Inf"} 4`, `sovereign_query_snr_count 4`,
		`sovereign_query_ihsan_bucket{le="0.4"} 0`, `sovereign_query_ihsan_bucket{le="0.5"} 1`,
		`sovereign_query_ihsan_bucket{le="0.95"} 1`, `sovereign_query_ihsan_bucket{le="0.97"} 2`,
		`sovereign_query_ihsan_bucket{le="0.99"} 3`, `sovereign_query_ihsan_bucket{le="1"} 4`,
		`sovereign_query_ihsan_count 4`,
	} {
		if !strings.Contains(buf.String(), want+"\n") {
			t.Errorf("exposition lacks %q", want)
		}
	}
}
