package eval

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkQueryLake20k is the latency figure of `make eval` as a Go benchmark: one
// question per op (the committed questions of both corpora in turn) through
// Runtime.Query on a node whose lake is the generated corpora replicated to at least
// 20,000 passages (issue 16: p50 < 10 ms). Setup (rendering, two index builds) is
// outside the timed loop.
//
//	go test -run '^$' -bench QueryLake20k -benchtime 600x ./bench/eval/
func BenchmarkQueryLake20k(b *testing.B) {
	for _, tool := range []string{"go", "man", "col"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				b.Fatalf("CI: %s not installed", tool)
			}
			b.Skipf("%s not installed", tool)
		}
	}
	ctx := context.Background()
	var corpora []*Corpus
	var questions []string
	for _, set := range Sets {
		ids, err := ReadList(filepath.Join(testdataDir, set.List))
		if err != nil {
			b.Fatal(err)
		}
		qs, err := LoadQuestions(filepath.Join(testdataDir, set.Questions), ids)
		if err != nil {
			b.Fatal(err)
		}
		c, err := Renderer{}.Render(ctx, set.Kind, ids)
		if err != nil {
			b.Fatal(err)
		}
		corpora = append(corpora, c)
		for _, q := range qs.Questions {
			questions = append(questions, q.Question)
		}
	}
	dir := b.TempDir()
	start := func(name string, copies int) *Node {
		lake := filepath.Join(dir, name)
		if err := WriteLake(lake, copies, corpora...); err != nil {
			b.Fatal(err)
		}
		en, err := StartNode(ctx, filepath.Join(dir, name+"-state"), lake)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = en.Shutdown(sctx)
		})
		return en
	}
	one := start("one", 1)
	base := one.Stats().Passages
	if base == 0 {
		b.Fatal("the corpora give no passages")
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	_ = one.Shutdown(sctx)
	cancel()
	en := start("big", (DefaultBigPassages+base-1)/base)
	i := 0
	for b.Loop() {
		if _, err := en.Ask(ctx, questions[i%len(questions)], 30*time.Second); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(en.Stats().Passages), "passages")
}
