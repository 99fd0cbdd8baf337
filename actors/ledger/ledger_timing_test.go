package ledger

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// benchCommit measures Commit from `writers` concurrent goroutines and reports
// episodes/s, p50 and p99 commit latency and episodes per fsync.
func benchCommit(b *testing.B, writers int, opts Options) {
	l := startLedger(b, opts)
	ep := sample("benchmark episode about sovereign ledgers and group commit")
	procs := max(1, writers/runtime.GOMAXPROCS(0))
	b.SetParallelism(procs)
	var mu sync.Mutex
	var lat []time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		ctx := context.Background()
		for pb.Next() {
			t0 := time.Now()
			if _, err := l.Commit(ctx, ep); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(t0))
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "episodes/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
	fs := l.opts.Metrics.GetOrCreateCounter("sovereign_sel_fsyncs_total").Get()
	if fs > 0 {
		b.ReportMetric(float64(len(lat))/float64(fs), "episodes/fsync")
	}
}

// BenchmarkCommitGroup64: 64 writers sharing fsyncs (group commit).
func BenchmarkCommitGroup64(b *testing.B) { benchCommit(b, 64, Options{}) }

// BenchmarkCommitFsyncEach64: 64 writers, one fsync per episode (MaxBatch 1): the
// baseline group commit is measured against.
func BenchmarkCommitFsyncEach64(b *testing.B) { benchCommit(b, 64, Options{MaxBatch: 1}) }

// BenchmarkCommitNoSync64: the no-fsync ceiling (not durable; Options.NoSync).
func BenchmarkCommitNoSync64(b *testing.B) { benchCommit(b, 64, Options{NoSync: true}) }

// BenchmarkCommitSerial: one writer, so every episode pays its own fsync.
func BenchmarkCommitSerial(b *testing.B) { benchCommit(b, 1, Options{}) }

func BenchmarkEpisodeHash(b *testing.B) {
	e := sample("hash me please, a typical query of a few words")
	e, _ = normalize(e)
	b.ReportAllocs()
	for b.Loop() {
		seal(&e, 1, Genesis)
	}
}

func BenchmarkRetrieve10k(b *testing.B) {
	dir := b.TempDir()
	l := startLedger(b, Options{Dir: dir, NoSync: true})
	for i := range 10_000 {
		commit(b, l, sample(fmt.Sprintf("episode %d about topic %d and subject %d", i, i%97, i%13)))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_ = l.Retrieve("topic 42 subject", 5)
	}
}
