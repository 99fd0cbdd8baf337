package core

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bizra/bizra/actors/query"
)

// stallLake writes a data lake large enough that a max_depth 10 query does real work.
func stallLake(tb testing.TB) string {
	tb.Helper()
	lake := tb.TempDir()
	topics := []string{"bridge", "ledger", "receipt", "gateway", "sealer", "worker", "cache", "index", "genesis", "policy",
		"socket", "mailbox", "segment", "backoff", "digest", "signer", "budget", "shard", "replica", "quorum"}
	for i := range 1000 {
		var b strings.Builder
		for j := range 20 {
			t1, t2 := topics[(i+j)%len(topics)], topics[(i*7+j*3)%len(topics)]
			t3 := topics[(i*13+j*7)%len(topics)]
			fmt.Fprintf(&b, "# Note %d.%d\n\nThe %s talks to the %s through port %d and records every %s step of the %s in order w%d v%d.\n\n",
				i, j, t1, t2, 9000+i*20+j, t3, t2, (i*j)%97, (i+j)%89)
		}
		if err := os.WriteFile(filepath.Join(lake, fmt.Sprintf("n%03d.md", i)), []byte(b.String()), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return lake
}

// BenchmarkShallowWhileDeep measures the latency of shallow queries (max_depth 1) while
// one max_depth 10 query after another runs: a deep query must not stall the shallow
// ones queued behind it. It reports the shallow queries' p50 and p99 and the deep
// query's mean duration.
//
//	go test -run '^$' -bench ShallowWhileDeep -benchtime 200x ./actors/core
func BenchmarkShallowWhileDeep(b *testing.B) {
	r, err := newRuntime(b, Options{DataLake: stallLake(b), CacheEntries: -1, Workers: 2})
	if err != nil {
		b.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = r.Shutdown(context.Background()) })

	deep := query.NewRequest("how does the bridge talk to the ledger, the receipt, the sealer and the gateway and why does the index keep the policy and the genesis in order")
	deep.MaxDepth, deep.TimeoutMs = 10, 60_000
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var deepN int
	var deepTotal time.Duration
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			t0 := time.Now()
			if _, err := r.Query(context.Background(), deep); err != nil {
				b.Error("deep query:", err)
				return
			}
			deepN++
			deepTotal += time.Since(t0)
		}
	})
	time.Sleep(20 * time.Millisecond) // let the first deep query start
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		q := query.NewRequest(fmt.Sprintf("which port does the cache use %d", i))
		q.MaxDepth = 1
		t0 := time.Now()
		if _, err := r.Query(context.Background(), q); err != nil {
			b.Fatal("shallow query:", err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	close(stop)
	wg.Wait()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	if deepN > 0 {
		b.ReportMetric(float64((deepTotal/time.Duration(deepN)).Microseconds())/1000, "deep-ms")
	}
}
