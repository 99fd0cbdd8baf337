package main

import (
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkClusterHTTP measures, with the load generator in this process and every
// node a `bizra run` process on loopback (all on this machine's cores):
//   - hit-standalone: a cache hit on a standalone node (no cluster);
//   - hit-cluster-owner: a cache hit asked of the member that owns the key (the grain
//     is in process);
//   - hit-cluster-remote: a cache hit asked of a member that does not own the key
//     (one remote grain hop to the owner and back);
//   - throughput-1 / throughput-3: 16 concurrent clients over 64 cached keys against
//     the standalone node, and spread over the three members.
//
// go test -run '^$' -bench BenchmarkClusterHTTP -benchtime 3000x ./cmd/bizra
func BenchmarkClusterHTTP(b *testing.B) {
	etcd := startEtcd(b)
	bin := buildBizra(b, repoRoot(b))
	tr := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
	b.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	procs := startMembers(b, bin, etcd, c, 3)
	work := b.TempDir()
	env := nodeEnv(work)
	initNode(b, bin, env)
	solo := startKillNode(b, bin, env, work, 9)

	// 64 keys, warmed: cached at their owners (and on the standalone node).
	users := make([]string, 64)
	owner := map[string]int{}
	for k := range users {
		users[k] = "bench-" + strconv.Itoa(k)
		a := clusterQuery(c, procs.bases[0], users[k])
		if a.code != 200 {
			b.Fatalf("warm: %d %s", a.code, a.errCode)
		}
		owner[users[k]] = procs.selfOf[a.answeredBy]
		if a := clusterQuery(c, solo.base, users[k]); a.code != 200 {
			b.Fatalf("warm standalone: %d %s", a.code, a.errCode)
		}
	}
	own := func(remote bool) (bases []string, us []string) {
		for _, u := range users {
			i := owner[u]
			if remote {
				i = (i + 1) % 3
			}
			bases, us = append(bases, procs.bases[i]), append(us, u)
		}
		return bases, us
	}
	latency := func(b *testing.B, bases, us []string) {
		lat := make([]time.Duration, 0, 1<<16)
		i := 0
		for b.Loop() {
			a := clusterQuery(c, bases[i%len(bases)], us[i%len(us)])
			if a.code != 200 || !a.cached {
				b.Fatalf("status %d %s cached %v", a.code, a.errCode, a.cached)
			}
			if len(lat) < cap(lat) {
				lat = append(lat, a.took)
			}
			i++
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	}
	b.Run("hit-standalone", func(b *testing.B) { latency(b, []string{solo.base}, users) })
	ob, ou := own(false)
	rb, ru := own(true)
	b.Run("hit-cluster-owner", func(b *testing.B) { latency(b, ob, ou) })
	b.Run("hit-cluster-remote", func(b *testing.B) { latency(b, rb, ru) })
	throughput := func(b *testing.B, bases []string) {
		var next atomic.Int64
		var failed atomic.Int64
		n := int64(b.N)
		start := time.Now()
		var wg sync.WaitGroup
		for cl := range 16 {
			wg.Go(func() {
				for {
					i := next.Add(1) - 1
					if i >= n {
						return
					}
					a := clusterQuery(c, bases[(int(i)+cl)%len(bases)], users[i%int64(len(users))])
					if a.code != 200 {
						failed.Add(1)
					}
				}
			})
		}
		wg.Wait()
		el := time.Since(start)
		if failed.Load() > 0 {
			b.Fatalf("%d of %d queries failed", failed.Load(), n)
		}
		b.ReportMetric(float64(n)/el.Seconds(), "req/s")
	}
	b.Run("throughput-1", func(b *testing.B) { throughput(b, []string{solo.base}) })
	b.Run("throughput-3", func(b *testing.B) { throughput(b, procs.bases) })
}
