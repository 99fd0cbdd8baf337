package reasoning

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bizra/bizra/internal/index"
)

var benchVocab = strings.Fields(`bridge health ledger receipt cache query gate token signer merkle batch seal
chain episode genesis node operator backend model circuit breaker retry deadline metric gauge counter
histogram latency throughput shard eviction mailbox actor supervisor restart backoff jitter window
segment compression snapshot verify anchor prune retention index passage search score signal noise
grounding coverage relevance attribution evidence reasoning graph depth branch synthesis conclusion
listener port doctor probe status degraded healthy readiness uptime version origin identity key`)

// benchLake writes 1,000 deterministic markdown documents (three sections of ~60 words)
// into a temporary data lake and indexes it.
func benchLake(b *testing.B) *index.Index {
	dir := b.TempDir()
	x := uint32(2463534242)
	word := func() string {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		return benchVocab[x%uint32(len(benchVocab))]
	}
	for i := range 1000 {
		var sb strings.Builder
		for s := range 3 {
			fmt.Fprintf(&sb, "# %s %s %d\n\n", word(), word(), s)
			for w := range 60 {
				if w > 0 {
					sb.WriteByte(' ')
				}
				sb.WriteString(word())
			}
			sb.WriteString(".\n\n")
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("doc%04d.md", i)), []byte(sb.String()), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	ix, err := index.Build(context.Background(), dir, index.Options{})
	if err != nil || ix.Stats().Files != 1000 {
		b.Fatal(err, ix.Stats())
	}
	return ix
}

// BenchmarkRun measures one graph-of-thought run on a 1,000-document data lake.
func BenchmarkRun(b *testing.B) {
	ix := benchLake(b)
	q := "how do I check bridge health, and what does the ledger chain verify?"
	for _, depth := range []int{1, 3, 5} {
		b.Run(fmt.Sprintf("max_depth=%d", depth), func(b *testing.B) {
			_, o, err := Run(context.Background(), ix, q, RunOptions{MaxDepth: depth})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := Run(context.Background(), ix, q, RunOptions{MaxDepth: depth}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(o.Depth), "depth")
			b.ReportMetric(float64(o.Nodes), "nodes")
		})
	}
}
