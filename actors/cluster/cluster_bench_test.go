//go:build !race

package cluster

import (
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bizra/bizra/actors/query"
)

// cpuTime is the process's user+system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// keysOwnedBy returns n requests whose cache keys member owner owns.
func keysOwnedBy(b *testing.B, ms []testMember, owner int, n int) []query.Request {
	var out []query.Request
	for i := 0; len(out) < n; i++ {
		req := query.NewRequest(fmt.Sprintf("benchmark question %d", i))
		k, _ := query.CacheKey(&req)
		if ms[0].owner(hex.EncodeToString(k[:])) == ms[owner].Address() {
			out = append(out, req)
		}
		if i > 100000 {
			b.Fatal("no key owned by the member")
		}
	}
	return out
}

// BenchmarkHop measures one query answered from the owner's cache (the stand-in
// pipeline's map, no delay): called directly, through the grain on the same member
// (in process), and through the grain on another member (one remote hop over
// loopback gRPC; both members share this process and its 2 cores). It reports the
// p50/p99 latency and the process CPU per query (both members' sides).
func BenchmarkHop(b *testing.B) {
	ms := startCluster(b, 2, nil, 0)
	reqs := keysOwnedBy(b, ms, 1, 64)
	for _, r := range reqs { // warm: every key cached at its owner, every grain active
		if _, err := ms[0].Query(context.Background(), r); err != nil {
			b.Fatal(err)
		}
	}
	cases := []struct {
		name string
		q    func(context.Context, query.Request) (query.Result, error)
	}{
		{"direct", ms[1].p.Query},
		{"local-grain", ms[1].Query},
		{"remote-grain", ms[0].Query},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, 1<<16)
			cpu0 := cpuTime(b)
			i := 0
			for b.Loop() {
				t0 := time.Now()
				if _, err := c.q(context.Background(), reqs[i%len(reqs)]); err != nil {
					b.Fatal(err)
				}
				if len(lat) < cap(lat) {
					lat = append(lat, time.Since(t0))
				}
				i++
			}
			cpu := cpuTime(b) - cpu0
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
			b.ReportMetric(float64(cpu.Nanoseconds())/1e3/float64(i), "cpu-µs/op")
		})
	}
}

// BenchmarkCoalesce64 sends 64 identical queries at once, spread over three members,
// to a pipeline that takes 20 ms per computation, and reports the computations made
// per 64 queries.
func BenchmarkCoalesce64(b *testing.B) {
	ms := startCluster(b, 3, nil, 0)
	for _, m := range ms {
		m.p.delay = 20 * time.Millisecond
	}
	var runs0 int64
	var topo0 uint64
	for _, m := range ms {
		runs0 += m.p.runs.Load()
		topo0 += m.Stats().TopologyChanges
	}
	iter := 0
	for b.Loop() {
		req := query.NewRequest(fmt.Sprintf("coalesced question %d", iter))
		iter++
		var wg sync.WaitGroup
		for i := range 64 {
			wg.Go(func() {
				if _, err := ms[i%3].Query(context.Background(), req); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
	}
	var runs int64
	var topo uint64
	for _, m := range ms {
		runs += m.p.runs.Load()
		topo += m.Stats().TopologyChanges
	}
	b.ReportMetric(float64(runs-runs0)/float64(iter), "computations/64-queries")
	// Member lists that changed during the run: a member whose list differs places a
	// key elsewhere, and that key is then computed twice.
	b.ReportMetric(float64(topo-topo0), "topology-changes")
}
