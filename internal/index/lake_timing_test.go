package index

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// writeLake writes n generated markdown files (~400 words, a few sections each) under
// dir in 100 folders.
func writeLake(tb testing.TB, dir string, n int) int64 {
	tb.Helper()
	var total int64
	for i := range n {
		var sb strings.Builder
		fmt.Fprintf(&sb, "# Note %d\n\n", i)
		for s := range 4 {
			fmt.Fprintf(&sb, "## Section %d\n\n%s\n\n%s\n\n", s, genText(i*7+s, 50), genText(i*11+s, 50))
		}
		p := filepath.Join(dir, fmt.Sprintf("d%03d", i%100), fmt.Sprintf("note%05d.md", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(sb.String()), 0o644); err != nil {
			tb.Fatal(err)
		}
		total += int64(sb.Len())
	}
	return total
}

// startLake starts a lake over root saving in saveDir and waits for its first scan.
func startLake(tb testing.TB, root, saveDir string) *Lake {
	tb.Helper()
	l, err := NewLake(LakeOptions{Root: root, SaveDir: saveDir, RescanInterval: -1})
	if err != nil {
		tb.Fatal(err)
	}
	if err := l.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	<-l.Scanned()
	if l.Progress().State != StateReady {
		tb.Fatalf("state %+v", l.Progress())
	}
	return l
}

func stopLake(tb testing.TB, l *Lake) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := l.Shutdown(ctx); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkLakeStart20k measures a node's index start on a 20,000-file lake (~60 MB
// of markdown, generated at test time): "first" with no saved index (walk, read,
// split, tokenize, assemble; the save that follows is not timed), "restart" with the
// saved index of an unchanged lake (load, verify checksum, walk and stat, assemble).
// Each op ends when the first scan completed (the index served is the lake's).
// peak-rss-MB is the process's peak resident set after the sub-benchmark (Linux
// getrusage maxrss: the whole test process, so the larger of the two bounds both).
func BenchmarkLakeStart20k(b *testing.B) {
	root := b.TempDir()
	bytes := writeLake(b, root, 20_000)
	b.Logf("lake: 20000 files, %d bytes", bytes)
	save := b.TempDir()
	for _, mode := range []string{"first", "restart"} {
		b.Run(mode, func(b *testing.B) {
			if mode == "restart" { // make sure a saved index exists
				stopLake(b, startLake(b, root, save))
			}
			b.ResetTimer()
			for range b.N {
				if mode == "first" {
					b.StopTimer()
					_ = os.RemoveAll(save)
					runtime.GC()
					b.StartTimer()
				}
				l := startLake(b, root, save)
				b.StopTimer()
				if l.Index().Stats().Files != 20_000 {
					b.Fatalf("files %d", l.Index().Stats().Files)
				}
				if mode == "restart" && !l.Progress().Saved.Loaded {
					b.Fatalf("saved index not reused: %+v", l.Progress().Saved)
				}
				stopLake(b, l)
				runtime.GC()
				b.StartTimer()
			}
			b.StopTimer()
			var ru syscall.Rusage
			if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
				b.ReportMetric(float64(ru.Maxrss)/1024, "peak-rss-MB")
			}
		})
	}
}
