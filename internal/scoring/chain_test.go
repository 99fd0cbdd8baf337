package scoring

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bizra/bizra/actors/inference"
	"github.com/bizra/bizra/internal/index"
	"github.com/bizra/bizra/internal/reasoning"
)

// specLake copies the project's docs (a snapshot in testdata/scoring/lake) into a
// temporary data lake and indexes it.
func specLake(t testing.TB) *index.Index {
	t.Helper()
	src := filepath.Join("..", "..", "testdata", "scoring", "lake")
	dir := t.TempDir()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ix, err := index.Build(context.Background(), dir, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

// chainResult is one query run through the real chain: reasoning, the embedded engine
// (actors/inference), Measure and Score.
type chainResult struct {
	outcome    reasoning.Outcome
	answer     inference.Answer
	noEvidence bool
	m          Measures
	s          Score
}

// runChain does what the query worker does for a local answer.
func runChain(t testing.TB, ix *index.Index, q string, opts reasoning.RunOptions) chainResult {
	t.Helper()
	start := time.Now()
	_, o, err := reasoning.Run(context.Background(), ix, q, opts)
	if err != nil {
		t.Fatalf("%q: %v", q, err)
	}
	ev := make([]inference.Evidence, len(o.Evidence))
	for i, e := range o.Evidence {
		ev[i] = inference.Evidence(e)
	}
	weights := map[string]float64{}
	for _, t := range index.ContentTerms(q) {
		weights[t] = ix.TermWeight(t)
	}
	ans, err := inference.Embedded(inference.Request{QueryID: "q", Query: q, SubQuestions: o.SubQuestions,
		Conclusion: o.Conclusion, Evidence: ev, TermWeights: weights, Deadline: start.Add(30 * time.Second)})
	r := chainResult{outcome: o, answer: ans}
	if errors.Is(err, inference.ErrNoEvidence) {
		r.noEvidence = true
	} else if err != nil {
		t.Fatalf("%q: embedded: %v", q, err)
	}
	sents := make([]Sentence, len(ans.Sentences))
	for i, s := range ans.Sentences {
		sents[i] = Sentence{Text: s.Text, Source: s.Source}
	}
	r.m = Measure(Inputs{Query: q, SubQuestions: o.SubQuestions, Answer: ans.Text, AnswerSentences: sents,
		Evidence: o.Evidence, Depth: o.Depth, MaxDepth: o.MaxDepth, Rounds: o.Rounds, Improving: o.Improving,
		TermWeights: weights, Source: SourceLocal,
		Elapsed: time.Since(start), Deadline: 30 * time.Second})
	r.s = Default().Score(r.m)
	return r
}
