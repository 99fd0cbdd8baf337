package reasoning

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/VictoriaMetrics/metrics"
	"github.com/bizra/bizra/internal/catalog"
	"github.com/bizra/bizra/internal/index"
)

func TestRunOnSpecLake(t *testing.T) {
	ix := specLake(t)
	g, o, err := Run(context.Background(), ix, "how do I check bridge health?", RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Evidence) == 0 || o.Depth < 1 || o.Depth > DefaultMaxDepth || o.Nodes != len(g.Nodes) || o.Edges != len(g.Edges) {
		t.Fatalf("outcome %+v", o)
	}
	if o.SubQuestions[0] != "how do I check bridge health" || o.Decomposition != "clauses" {
		t.Errorf("sub-questions %q by %s", o.SubQuestions, o.Decomposition)
	}
	seen := map[string]bool{}
	for i, e := range o.Evidence {
		if seen[e.Source] || e.Score < DefaultSNRThreshold || e.Score > 1 || e.Excerpt == "" {
			t.Errorf("evidence %d %+v", i, e)
		}
		if i > 0 && e.Score > o.Evidence[i-1].Score {
			t.Errorf("evidence not sorted at %d", i)
		}
		seen[e.Source] = true
	}
	types := map[NodeType]int{}
	ids := map[string]bool{}
	for _, n := range g.Nodes {
		types[n.Type]++
		ids[n.ID] = true
		if n.Confidence < 0 || n.Confidence > 1 || n.SNR < 0 || n.SNR > 1 {
			t.Errorf("node out of range %+v", n)
		}
	}
	for _, nt := range []NodeType{Question, Evidence, Reasoning, Synthesis, Conclusion, Validation} {
		if types[nt] == 0 {
			t.Errorf("no %s node in %v", nt, types)
		}
	}
	for _, e := range g.Edges {
		if !ids[e.From] || !ids[e.To] {
			t.Errorf("dangling edge %+v", e)
		}
	}
	for _, id := range g.BestPath {
		if !ids[id] {
			t.Errorf("best path has unknown %s", id)
		}
	}
	if g.BestPath[0] != g.Roots[0] || len(g.BestPath) < 5 {
		t.Errorf("best path %v", g.BestPath)
	}
	if !strings.Contains(o.Conclusion, o.Evidence[0].Source) || len(o.Thoughts) < 4 {
		t.Errorf("conclusion %q thoughts %q", o.Conclusion, o.Thoughts)
	}
}

func TestDepthBound(t *testing.T) {
	ix := specLake(t)
	q := "what is the cache key and how long is the TTL"
	var depth, nodes [6]int
	for _, md := range []int{1, 2, 3, 5} {
		g, o, err := Run(context.Background(), ix, q, RunOptions{MaxDepth: md})
		if err != nil {
			t.Fatal(err)
		}
		if o.Depth > md || o.Depth < 1 || g.Depth != o.Depth || o.MaxDepth != md {
			t.Errorf("max_depth %d: reached %d", md, o.Depth)
		}
		for _, n := range g.Nodes {
			if n.Depth > md {
				t.Errorf("max_depth %d: node %s at depth %d", md, n.ID, n.Depth)
			}
		}
		depth[md], nodes[md] = o.Depth, o.Nodes
	}
	if depth[1] != 1 || depth[5] <= depth[1] || nodes[5] <= nodes[1] {
		t.Errorf("depth reached %v, nodes %v: max_depth does not take effect", depth, nodes)
	}
	if depth[2] != 2 {
		t.Errorf("max_depth 2 reached %d", depth[2])
	}
}

func TestExpansionStopsWithoutNewEvidence(t *testing.T) {
	// Three documents: nothing new can be found after depth 2, so max_depth 10 stops early.
	docs := []index.Document{
		{Path: "a.md", Text: "# Bridge\n\nThe bridge health probe reports listener status."},
		{Path: "b.md", Text: "# Listener\n\nThe listener status shows connections and tokens."},
		{Path: "c.md", Text: "# Other\n\nGardening tips for tomatoes."},
	}
	ix, err := index.FromDocuments(context.Background(), docs, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, o, err := Run(context.Background(), ix, "bridge health", RunOptions{MaxDepth: 10})
	if err != nil {
		t.Fatal(err)
	}
	if o.Depth >= 10 || o.Depth < 1 {
		t.Errorf("depth %d on a three-document lake", o.Depth)
	}
}

func TestQueriesWithoutTerms(t *testing.T) {
	ix := specLake(t)
	tests := []struct {
		q    string
		want error
	}{
		{"?!... ;;", ErrNoContentTerms},
		{"the and of it is", ErrNoContentTerms},
		{"a b c ? i", ErrNoContentTerms},
		{"   ", ErrEmptyQuery},
		{strings.Repeat("word ", MaxQueryBytes/4), ErrQueryTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.q[:min(len(tt.q), 20)], func(t *testing.T) {
			g, _, err := Run(context.Background(), ix, tt.q, RunOptions{})
			if !errors.Is(err, tt.want) || g != nil {
				t.Fatalf("err %v, graph %v; want %v", err, g, tt.want)
			}
			if p := catalog.Lookup(err); p.Kind != catalog.InvalidInput || p.HTTP != 400 {
				t.Errorf("catalog %+v", p)
			}
		})
	}
	if p := catalog.Lookup(ErrNoContentTerms); p.Message != "query has no searchable terms" {
		t.Errorf("public message %q", p.Message)
	}
}

func TestOptionErrors(t *testing.T) {
	ix := specLake(t)
	for _, o := range []RunOptions{{MaxDepth: 11}, {MaxDepth: -1}, {Branching: -1}, {TopK: -2}} {
		if _, _, err := Run(context.Background(), ix, "bridge", o); !errors.Is(err, ErrOptions) {
			t.Errorf("%+v: err %v", o, err)
		}
	}
	if _, _, err := Run(context.Background(), nil, "bridge", RunOptions{}); !errors.Is(err, ErrNoSearcher) {
		t.Errorf("nil searcher: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := Run(ctx, ix, "bridge health", RunOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
}

func TestNoEvidence(t *testing.T) {
	ix := specLake(t)
	g, o, err := Run(context.Background(), ix, "purple elephant banana saxophone", RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Evidence) != 0 || !strings.Contains(o.Conclusion, "No passage") || len(g.Nodes) < 4 {
		t.Errorf("outcome %+v", o)
	}
}

func TestPruning(t *testing.T) {
	ix := specLake(t)
	q := "banana weather cache recipe" // one weak term in the lake
	_, o, err := Run(context.Background(), ix, q, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, all, err := Run(context.Background(), ix, q, RunOptions{SNRThreshold: -1})
	if err != nil {
		t.Fatal(err)
	}
	if o.Pruned == 0 || len(o.Evidence) >= len(all.Evidence) || all.Pruned != 0 {
		t.Errorf("pruned %d kept %d; unpruned kept %d", o.Pruned, len(o.Evidence), len(all.Evidence))
	}
}

type fakeDecomposer struct {
	subs []string
	err  error
}

func (f fakeDecomposer) Decompose(_ context.Context, _ string, max int) ([]string, error) {
	return f.subs, f.err
}

func TestDecomposer(t *testing.T) {
	ix := specLake(t)
	q := "how is the ledger kept durable"
	tests := []struct {
		name    string
		d       Decomposer
		how     string
		nsubs   int
		thought string
	}{
		{"model", fakeDecomposer{subs: []string{"ledger segments fsync", "group commit", "???", "group commit", "zstd compression", "torn tail"}}, "model", 3, ""},
		{"model error", fakeDecomposer{err: errors.New("circuit open")}, "clauses", 1, "failed"},
		{"model empty", fakeDecomposer{subs: []string{"the", ""}}, "clauses", 1, "no usable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, o, err := Run(context.Background(), ix, q, RunOptions{Decomposer: tt.d})
			if err != nil {
				t.Fatal(err)
			}
			if o.Decomposition != tt.how || len(o.SubQuestions) != tt.nsubs {
				t.Errorf("%s %q", o.Decomposition, o.SubQuestions)
			}
			if tt.thought != "" && !strings.Contains(strings.Join(o.Thoughts, "\n"), tt.thought) {
				t.Errorf("thoughts %q", o.Thoughts)
			}
		})
	}
}

func TestBranchingMergesClauses(t *testing.T) {
	ix := specLake(t)
	q := "receipts; ledger; cache; bridge; genesis"
	_, o, err := Run(context.Background(), ix, q, RunOptions{Branching: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(o.SubQuestions) != 2 || o.SubQuestions[1] != "ledger; cache; bridge; genesis" {
		t.Errorf("sub-questions %q", o.SubQuestions)
	}
}

// TestParallelRunsDoNotMix runs 100 queries at once; each carries a unique marker word,
// and no graph may mention another query's marker.
func TestParallelRunsDoNotMix(t *testing.T) {
	ix := specLake(t)
	topics := []string{"bridge health", "receipt batches", "cache ttl", "ledger chain", "genesis node0", "metrics gauge"}
	marker := func(i int) string { return fmt.Sprintf("zq%c%c", 'a'+i/26, 'a'+i%26) }
	graphs := make([]*Graph, 100)
	var wg sync.WaitGroup
	for i := range graphs {
		wg.Go(func() {
			g, _, err := Run(context.Background(), ix, topics[i%len(topics)]+" "+marker(i)+"?", RunOptions{MaxDepth: 3})
			if err != nil {
				t.Error(err)
				return
			}
			graphs[i] = g
		})
	}
	wg.Wait()
	for i, g := range graphs {
		if g == nil {
			continue
		}
		if !strings.Contains(g.Nodes[0].Content, marker(i)) {
			t.Errorf("graph %d root %q", i, g.Nodes[0].Content)
		}
		for _, n := range g.Nodes {
			for j := range graphs {
				if j != i && strings.Contains(n.Content, marker(j)) {
					t.Fatalf("graph %d node %s mentions query %d: %q", i, n.ID, j, n.Content)
				}
			}
		}
		if _, o, _ := Run(context.Background(), ix, topics[i%len(topics)]+" "+marker(i)+"?", RunOptions{MaxDepth: 3}); i < 6 {
			if h, _ := g.Hash(); h != o.GraphHash {
				t.Errorf("graph %d: parallel hash %s, sequential %s", i, h, o.GraphHash)
			}
		}
	}
}

func TestGraphHashStableAndSensitive(t *testing.T) {
	ix := specLake(t)
	g1, o1, err := Run(context.Background(), ix, "how are receipts sealed?", RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, o2, err := Run(context.Background(), ix, "how are receipts sealed?", RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if o1.GraphHash != o2.GraphHash || len(o1.GraphHash) != 64 {
		t.Fatalf("same input, hashes %s %s", o1.GraphHash, o2.GraphHash)
	}
	_, o3, _ := Run(context.Background(), ix, "how are receipts sealed!", RunOptions{})
	_, o4, _ := Run(context.Background(), ix, "how are receipts sealed?", RunOptions{MaxDepth: 1})
	if o3.GraphHash == o1.GraphHash || o4.GraphHash == o1.GraphHash {
		t.Error("different input, same hash")
	}
	// Shuffling nodes and edges does not change the hash; every field change does.
	shuffled := *g1
	shuffled.Nodes = slices.Clone(g1.Nodes)
	shuffled.Edges = slices.Clone(g1.Edges)
	slices.Reverse(shuffled.Nodes)
	slices.Reverse(shuffled.Edges)
	if h, _ := shuffled.Hash(); h != o1.GraphHash {
		t.Error("order changed the hash")
	}
	mutations := map[string]func(g *Graph){
		"content":    func(g *Graph) { g.Nodes[2].Content += " " },
		"type":       func(g *Graph) { g.Nodes[2].Type = Hypothesis },
		"depth":      func(g *Graph) { g.Nodes[2].Depth++ },
		"confidence": func(g *Graph) { g.Nodes[2].Confidence += 2.0 / ScoreScale },
		"snr":        func(g *Graph) { g.Nodes[2].SNR -= 2.0 / ScoreScale },
		"source":     func(g *Graph) { g.Nodes[2].Source += "x" },
		"pruned":     func(g *Graph) { g.Nodes[2].Pruned = !g.Nodes[2].Pruned },
		"edge type":  func(g *Graph) { g.Edges[0].Type = Refutes },
		"edge wt":    func(g *Graph) { g.Edges[0].Weight = 1 - g.Edges[0].Weight + 0.01 },
		"edge to":    func(g *Graph) { g.Edges[0].To = "n999" },
		"drop node":  func(g *Graph) { g.Nodes = g.Nodes[1:] },
		"drop edge":  func(g *Graph) { g.Edges = g.Edges[1:] },
	}
	for name, mut := range mutations {
		t.Run(name, func(t *testing.T) {
			c := *g1
			c.Nodes = slices.Clone(g1.Nodes)
			c.Edges = slices.Clone(g1.Edges)
			mut(&c)
			if h, _ := c.Hash(); h == o1.GraphHash {
				t.Errorf("%s: hash unchanged", name)
			}
		})
	}
}

// TestGraphHashGolden checks Hash against testdata/reasoning/graph_hash.json, computed by
// gen_graph_hash.py with python's hashlib.
func TestGraphHashGolden(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "reasoning", "graph_hash.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Graph
		GraphHash string `json:"graph_hash"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Nodes) != 4 || len(v.Edges) != 3 {
		t.Fatalf("vector %+v", v)
	}
	got, err := v.Graph.Hash()
	if err != nil || got != v.GraphHash {
		t.Fatalf("hash %s, %v; want %s", got, err, v.GraphHash)
	}
}

func TestArtifactStore(t *testing.T) {
	s := NewArtifactStore(0)
	for i := range 1500 {
		s.Put(Artifact{QueryID: fmt.Sprintf("q%04d", i), GraphHash: fmt.Sprint(i)})
	}
	if s.Len() != DefaultArtifactCapacity {
		t.Fatalf("len %d", s.Len())
	}
	if _, ok := s.Get("q0499"); ok {
		t.Error("q0499 should be evicted")
	}
	for _, id := range []string{"q0500", "q1000", "q1499"} {
		if a, ok := s.Get(id); !ok || a.QueryID != id {
			t.Errorf("%s: %v %v", id, a, ok)
		}
	}
	s.Put(Artifact{QueryID: "q0500", GraphHash: "new"}) // replace keeps its age
	s.Put(Artifact{QueryID: "q1500"})
	if _, ok := s.Get("q0500"); ok {
		t.Error("q0500 was the oldest and should be evicted")
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 500 {
				s.Put(Artifact{QueryID: fmt.Sprintf("w%d-%d", w, i)})
				s.Get(fmt.Sprintf("w%d-%d", w, i/2))
			}
		})
	}
	wg.Wait()
	if s.Len() != DefaultArtifactCapacity {
		t.Errorf("len %d after concurrent use", s.Len())
	}
}

func TestArtifactJSON(t *testing.T) {
	ix := specLake(t)
	g, o, err := Run(context.Background(), ix, "how do I check bridge health?", RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(g.Artifact("qid-1", o))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"query_id", "nodes", "edges", "roots", "graph_hash", "stats", "best_path"} {
		if _, ok := m[k]; !ok {
			t.Errorf("artifact lacks %q: %s", k, b[:200])
		}
	}
	st := m["stats"].(map[string]any)
	if int(st["nodes"].(float64)) != o.Nodes || int(st["evidence"].(float64)) != len(o.Evidence) || m["graph_hash"] != o.GraphHash {
		t.Errorf("stats %v", st)
	}
}

func TestRecorder(t *testing.T) {
	ix := specLake(t)
	set := metrics.NewSet()
	rec := NewRecorder(set)
	var nodes, edges, depth int
	for _, q := range []string{"bridge health", "receipt batches and merkle proofs", "cache ttl"} {
		_, o, err := Run(context.Background(), ix, q, RunOptions{Recorder: rec})
		if err != nil {
			t.Fatal(err)
		}
		nodes, edges, depth = nodes+o.Nodes, edges+o.Edges, depth+o.Depth
	}
	_, _, _ = Run(context.Background(), ix, "???", RunOptions{Recorder: rec}) // not a run
	var sb strings.Builder
	set.WritePrometheus(&sb)
	for _, want := range []string{
		"sovereign_reasoning_calls_total 3\n",
		fmt.Sprintf("sovereign_graph_nodes_total %d\n", nodes),
		fmt.Sprintf("sovereign_graph_edges_total %d\n", edges),
	} {
		if !strings.Contains(sb.String(), want) {
			t.Errorf("metrics lack %q:\n%s", want, sb.String())
		}
	}
	if rec.Calls() != 3 || rec.MeanDepth() != float64(depth)/3 {
		t.Errorf("calls %d mean depth %v", rec.Calls(), rec.MeanDepth())
	}
	if (&Recorder{}).MeanDepth() != 0 {
		t.Error("mean depth before any run")
	}
}

func TestSplitClauses(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"how do I check bridge health?", []string{"how do I check bridge health"}},
		{"how are receipts sealed, and what does the merkle proof contain?", []string{"how are receipts sealed", "what does the merkle proof contain"}},
		{"cache key and TTL", []string{"cache key", "TTL"}},
		{"check the ledger when the node restarts", []string{"check the ledger", "when the node restarts"}},
		{"version 1.2 of main.go: errors", []string{"version 1.2 of main.go", "errors"}},
		{"bridge; bridge. BRIDGE!", []string{"bridge"}},
		{"the and of?", nil},
		{"", nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := SplitClauses(tt.in); !slices.Equal(got, tt.want) {
				t.Errorf("SplitClauses(%q) = %q; want %q", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzSplitClauses(f *testing.F) {
	for _, s := range []string{"how do I check bridge health?", "a, b; c and d or e", "what? why! how.", "x\x00y\xff", strings.Repeat("w, ", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		clauses := SplitClauses(q)
		if len(clauses) > MaxClauses {
			t.Fatalf("%d clauses", len(clauses))
		}
		want := index.ContentTermSet(q)
		got := map[string]struct{}{}
		for _, c := range clauses {
			terms := index.ContentTerms(c)
			if len(terms) == 0 {
				t.Fatalf("clause %q has no content terms", c)
			}
			for _, term := range terms {
				got[term] = struct{}{}
			}
		}
		if len(got) != len(want) {
			t.Fatalf("terms of %q: query %v, clauses %v (%q)", q, want, got, clauses)
		}
		for term := range got {
			if _, ok := want[term]; !ok {
				t.Fatalf("clause term %q not in query %q", term, q)
			}
		}
	})
}
