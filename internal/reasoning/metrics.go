package reasoning

import (
	"sync/atomic"

	"github.com/VictoriaMetrics/metrics"
)

// Recorder counts graph-of-thought runs into a metrics set:
// sovereign_reasoning_calls_total, sovereign_graph_nodes_total and
// sovereign_graph_edges_total. It also keeps the sum of depths reached so the pipeline
// can export sovereign_reasoning_avg_depth (MeanDepth); it does not register that gauge
// itself. Safe for concurrent use.
type Recorder struct {
	calls, nodes, edges *metrics.Counter
	depthSum, runs      atomic.Uint64
}

// NewRecorder registers the counters in set (nil → a private metrics.NewSet()).
func NewRecorder(set *metrics.Set) *Recorder {
	if set == nil {
		set = metrics.NewSet()
	}
	return &Recorder{
		calls: set.GetOrCreateCounter("sovereign_reasoning_calls_total"),
		nodes: set.GetOrCreateCounter("sovereign_graph_nodes_total"),
		edges: set.GetOrCreateCounter("sovereign_graph_edges_total"),
	}
}

// Observe records one completed run. Run calls it when RunOptions.Recorder is set.
func (r *Recorder) Observe(o Outcome) {
	if r == nil {
		return
	}
	r.calls.Inc()
	r.nodes.Add(o.Nodes)
	r.edges.Add(o.Edges)
	r.depthSum.Add(uint64(max(o.Depth, 0)))
	r.runs.Add(1)
}

// Calls returns the number of runs observed.
func (r *Recorder) Calls() uint64 { return r.runs.Load() }

// MeanDepth returns the mean depth reached over the runs observed, 0 before any.
func (r *Recorder) MeanDepth() float64 {
	n := r.runs.Load()
	if n == 0 {
		return 0
	}
	return float64(r.depthSum.Load()) / float64(n)
}
