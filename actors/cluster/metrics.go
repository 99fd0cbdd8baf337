package cluster

import (
	"fmt"
	"sync/atomic"

	"github.com/VictoriaMetrics/metrics"
)

// clusterMetrics are the member's series (sovereign_cluster_*).
type clusterMetrics struct {
	activations, computations, coalesced                        *metrics.Counter
	remoteCalls, authRefused, endpointLost, topologyChanges     *metrics.Counter
	failLost, failDead, failTimeout, failActivation, overloaded *metrics.Counter
	remoteLatency                                               *metrics.Histogram

	// the same counts for Stats (tests and benchmarks read them)
	nActivations, nComputations, nCoalesced, nRemote, nFailures, nTopology atomic.Uint64
}

func newClusterMetrics(set *metrics.Set, m *Member) *clusterMetrics {
	set.GetOrCreateGauge("sovereign_cluster_members", func() float64 { return float64(m.liveMembers()) })
	set.GetOrCreateGauge("sovereign_cluster_degraded", func() float64 {
		if m.Status().Degraded {
			return 1
		}
		return 0
	})
	f := `sovereign_cluster_remote_failures_total{reason="%s"}`
	return &clusterMetrics{
		activations:     set.GetOrCreateCounter("sovereign_cluster_grain_activations_total"),
		computations:    set.GetOrCreateCounter("sovereign_cluster_computations_total"),
		coalesced:       set.GetOrCreateCounter("sovereign_cluster_coalesced_total"),
		remoteCalls:     set.GetOrCreateCounter("sovereign_cluster_remote_requests_total"),
		authRefused:     set.GetOrCreateCounter("sovereign_cluster_auth_refused_total"),
		endpointLost:    set.GetOrCreateCounter("sovereign_cluster_endpoint_lost_total"),
		topologyChanges: set.GetOrCreateCounter("sovereign_cluster_topology_changes_total"),
		failLost:        set.GetOrCreateCounter(fmt.Sprintf(f, "member_lost")),
		failDead:        set.GetOrCreateCounter(fmt.Sprintf(f, "dead_letter")),
		failTimeout:     set.GetOrCreateCounter(fmt.Sprintf(f, "timeout")),
		failActivation:  set.GetOrCreateCounter(fmt.Sprintf(f, "activation")),
		overloaded:      set.GetOrCreateCounter("sovereign_cluster_overloaded_total"),
		remoteLatency:   set.GetOrCreateHistogram("sovereign_cluster_remote_request_duration_seconds"),
	}
}

// Stats are the member's counts since start.
type Stats struct {
	// Activations are query grains started on this member.
	Activations uint64
	// Computations are pipeline runs a grain on this member started as the leader of
	// its key; Coalesced are queries that waited for another's computation instead.
	Computations, Coalesced uint64
	// Remote are queries this member sent to a grain on another member; Failures are
	// attempts that were lost, dead-lettered or timed out.
	Remote, Failures uint64
	// TopologyChanges are member lists from the provider that added or removed a member.
	TopologyChanges uint64
}

// Stats returns the member's counts.
func (m *Member) Stats() Stats {
	c := m.met
	return Stats{Activations: c.nActivations.Load(), Computations: c.nComputations.Load(),
		Coalesced: c.nCoalesced.Load(), Remote: c.nRemote.Load(), Failures: c.nFailures.Load(),
		TopologyChanges: c.nTopology.Load()}
}
