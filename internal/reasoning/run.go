package reasoning

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bizra/bizra/internal/index"
)

// Searcher is what Run needs from the data-lake index; *index.Index satisfies it. It
// must be safe for concurrent use.
type Searcher interface {
	Search(q string, k int) []index.Hit
}

// TermWeigher is optionally implemented by a Searcher (*index.Index does): the idf of
// a content term. With it, expansion terms are ranked by tf·idf instead of tf, so rare,
// specific terms are preferred over the data lake's common vocabulary.
type TermWeigher interface {
	TermWeight(term string) float64
}

// Decomposer splits a question into at most max sub-questions, typically by asking a
// model. It is the only thing Run calls that may do I/O; it must honour ctx.
type Decomposer interface {
	Decompose(ctx context.Context, question string, max int) ([]string, error)
}

// Defaults and bounds of RunOptions.
const (
	DefaultMaxDepth       = 3
	MaxMaxDepth           = 10
	DefaultBranching      = 3
	MaxBranching          = 10
	DefaultTopK           = 5
	MaxTopK               = 20
	DefaultSNRThreshold   = 0.2 // node-level pruning threshold on an evidence node's snr
	DefaultMaxEvidence    = 10
	ExpansionTerms        = 3   // new terms added to a query per expansion
	MaxNodes              = 512 // hard bound on a graph's size
	MaxQueryBytes         = 40000
	MaxSubQuestionBytes   = 1000
	maxEvidenceContent    = 280 // bytes of passage kept in an evidence node's content
	maxConclusionSentence = 240
)

// RunOptions configure one Run. Zero values take the defaults above.
type RunOptions struct {
	MaxDepth  int // 0 → 3; else 1..10
	Branching int // sub-questions at most; 0 → 3; capped at 10
	TopK      int // passages per search; 0 → 5; capped at 20
	// SNRThreshold prunes evidence nodes whose snr (the passage's normalised retrieval
	// score for the query that found it) is below it. This is the node-level threshold,
	// not the answer's 0.85 snr_ok threshold. 0 → DefaultSNRThreshold; negative → no
	// pruning.
	SNRThreshold float64
	MaxEvidence  int        // evidence passages in the Outcome; 0 → 10
	Decomposer   Decomposer // nil → split the query into its clauses
	Recorder     *Recorder  // nil → not recorded
}

func (o RunOptions) withDefaults() (RunOptions, error) {
	if o.MaxDepth < 0 || o.MaxDepth > MaxMaxDepth || o.Branching < 0 || o.TopK < 0 || o.MaxEvidence < 0 {
		return o, fmt.Errorf("max_depth %d, branching %d, top_k %d: %w", o.MaxDepth, o.Branching, o.TopK, ErrOptions)
	}
	if o.MaxDepth == 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	o.Branching = cmp.Or(min(o.Branching, MaxBranching), DefaultBranching)
	o.TopK = cmp.Or(min(o.TopK, MaxTopK), DefaultTopK)
	o.MaxEvidence = cmp.Or(o.MaxEvidence, DefaultMaxEvidence)
	if o.SNRThreshold == 0 {
		o.SNRThreshold = DefaultSNRThreshold
	}
	return o, nil
}

// Outcome is what the pipeline takes from a run.
type Outcome struct {
	Depth    int // depth reached: 1 + expansion rounds that added evidence
	MaxDepth int // the bound it ran under
	// Rounds counts the expansion rounds run (depth ≥ 2), Improving those after which
	// the kept evidence covered more of the original question's content terms,
	// weighted by idf (TermWeigher), than before: scoring's depth term counts only
	// rounds that helped the question asked, not rounds that drifted.
	Rounds, Improving int
	Thoughts          []string         // short human-readable steps
	Nodes, Edges      int              // graph size
	Pruned            int              // evidence nodes pruned below the threshold
	Evidence          []index.Evidence // kept passages, best first, one per source, Score = snr
	SubQuestions      []string         // the decomposition (depth 1)
	Expansions        []string         // expanded queries that added evidence (depth ≥ 2)
	Conclusion        string
	Decomposition     string // "clauses" or "model"
	GraphHash         string
	Duration          time.Duration
}

// branch is one sub-question and what was found for it.
type branch struct {
	question string   // the sub-question
	terms    []string // its content terms plus expansion terms used so far
	qid      string   // the sub-question node
	steps    []string // question and refinement node ids that added evidence, in depth order
	evidence []int    // indices into run.nodes of evidence found by this branch (kept or not)
	frontier []int    // kept evidence found at the last depth
	done     bool
}

type run struct {
	g        *Graph
	bySource map[string]int              // evidence source → node index
	full     map[int]string              // evidence node index → full passage text
	termsOf  map[int]map[string]struct{} // evidence node index → its content terms, computed once
	thr      float64
	seq      int
	weigh    func(string) float64
}

func (r *run) add(n Node) int {
	n.ID = "n" + pad3(r.seq)
	r.seq++
	r.g.Nodes = append(r.g.Nodes, n)
	return len(r.g.Nodes) - 1
}

func pad3(i int) string {
	s := strconv.Itoa(i)
	for len(s) < 3 {
		s = "0" + s
	}
	return s
}

func (r *run) edge(from, to int, t EdgeType, w float64) {
	r.g.Edges = append(r.g.Edges, Edge{From: r.g.Nodes[from].ID, To: r.g.Nodes[to].ID, Type: t, Weight: clamp01(w)})
}

func (r *run) full_() bool { return len(r.g.Nodes) >= MaxNodes-8 } // room for reasoning, synthesis, conclusion, validation

// evidence adds (or links) the hits of one search under question node qi at depth and
// returns the indices of evidence nodes that are new to the graph.
func (r *run) evidence(hits []index.Hit, terms []string, qi, depth int) (fresh []int) {
	for _, h := range hits {
		if i, ok := r.bySource[h.Source]; ok {
			r.edge(i, qi, Supports, r.g.Nodes[i].SNR)
			continue
		}
		if r.full_() {
			break
		}
		n := Node{Type: Evidence, Content: truncate(h.Text, maxEvidenceContent), Depth: depth, Source: h.Source,
			Confidence: termCoverage(terms, h.Text), SNR: clamp01(h.Norm)}
		n.Pruned = n.SNR < r.thr
		i := r.add(n)
		r.bySource[h.Source] = i
		r.full[i] = h.Text
		r.edge(i, qi, Supports, n.SNR)
		fresh = append(fresh, i)
	}
	return fresh
}

// Run builds the graph of thought of q over idx (core.md, query pipeline step 3):
// root question; decomposition into at most Branching sub-questions (by
// opts.Decomposer, else by SplitClauses); top-k evidence per sub-question; expansion
// to depth d+1 only while d < MaxDepth and the previous depth added kept evidence, with
// a query expanded by the best evidence's most frequent new terms; pruning of evidence
// below SNRThreshold; one reasoning node per sub-question; synthesis; conclusion;
// validation; best path; graph hash. A query without content terms gives
// ErrNoContentTerms. When no evidence survives, the Outcome has no Evidence and the
// conclusion says so (the pipeline answers NO_EVIDENCE). Run returns ctx's error when
// ctx ends. It is safe for concurrent use; it does no I/O except through Decomposer.
func Run(ctx context.Context, idx Searcher, q string, opts RunOptions) (*Graph, Outcome, error) {
	start := time.Now()
	if idx == nil {
		return nil, Outcome{}, ErrNoSearcher
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, Outcome{}, err
	}
	q = strings.TrimSpace(q)
	switch {
	case q == "":
		return nil, Outcome{}, ErrEmptyQuery
	case len(q) > MaxQueryBytes:
		return nil, Outcome{}, fmt.Errorf("query of %d bytes: %w", len(q), ErrQueryTooLong)
	}
	qterms := distinct(index.ContentTerms(q))
	if len(qterms) == 0 {
		return nil, Outcome{}, ErrNoContentTerms
	}
	r := &run{g: &Graph{MaxDepth: o.MaxDepth}, bySource: map[string]int{}, full: map[int]string{}, termsOf: map[int]map[string]struct{}{},
		thr: o.SNRThreshold, weigh: func(string) float64 { return 1 }}
	if tw, ok := idx.(TermWeigher); ok {
		r.weigh = tw.TermWeight
	}
	out := Outcome{MaxDepth: o.MaxDepth}
	thought := func(format string, args ...any) {
		if len(out.Thoughts) < 32 {
			out.Thoughts = append(out.Thoughts, fmt.Sprintf(format, args...))
		}
	}
	root := r.add(Node{Type: Question, Content: q, Depth: 0, Confidence: 1})
	r.g.Roots = []string{r.g.Nodes[root].ID}
	thought("Question: %q (%d content terms)", truncate(q, 120), len(qterms))

	subs, how := decompose(ctx, q, o, thought)
	out.Decomposition = how
	out.SubQuestions = subs
	thought("Decomposed by %s into %d sub-question(s): %s", how, len(subs), quoteList(subs))

	branches := make([]*branch, len(subs))
	for i, sq := range subs {
		if err := ctx.Err(); err != nil {
			return nil, Outcome{}, fmt.Errorf("reasoning: %w", err)
		}
		b := &branch{question: sq, terms: distinct(index.ContentTerms(sq))}
		qi := r.add(Node{Type: Question, Content: sq, Depth: 1, Confidence: 1})
		b.qid = r.g.Nodes[qi].ID
		r.edge(root, qi, Derives, 1)
		fresh := r.evidence(idx.Search(sq, o.TopK), b.terms, qi, 1)
		b.evidence = append(b.evidence, fresh...)
		b.frontier = r.kept(fresh)
		b.steps = append(b.steps, b.qid)
		best := r.best(b.frontier)
		if best >= 0 {
			thought("Depth 1: %d passage(s) for %q, %d kept; best %s (%.2f)", len(fresh), truncate(sq, 80),
				len(b.frontier), r.g.Nodes[best].Source, r.g.Nodes[best].SNR)
		} else {
			thought("Depth 1: %d passage(s) for %q, none above %.2f", len(fresh), truncate(sq, 80), r.thr)
		}
		branches[i] = b
	}
	depth := 1
	parent := map[*branch]int{}
	for _, b := range branches {
		parent[b] = r.indexOf(b.qid)
	}
	covered := r.weightedCoverage(qterms, branches)
	for d := 2; d <= o.MaxDepth; d++ {
		added, ran := false, false
		for _, b := range branches {
			if b.done || len(b.frontier) == 0 || r.full_() {
				b.done = true
				continue
			}
			if err := ctx.Err(); err != nil {
				return nil, Outcome{}, fmt.Errorf("reasoning: %w", err)
			}
			newTerms := r.expansionTerms(b)
			if len(newTerms) == 0 {
				b.done = true
				continue
			}
			ran = true
			b.terms = append(b.terms, newTerms...)
			expanded := strings.Join(b.terms, " ")
			ri := r.add(Node{Type: Refinement, Content: expanded, Depth: d, Confidence: r.g.Nodes[r.best(b.frontier)].SNR})
			r.edge(parent[b], ri, Refines, r.g.Nodes[ri].Confidence)
			fresh := r.evidence(idx.Search(expanded, o.TopK), b.terms, ri, d)
			b.evidence = append(b.evidence, fresh...)
			b.frontier = r.kept(fresh)
			r.g.Nodes[ri].SNR = mean(r.snrs(b.frontier))
			parent[b] = ri
			if len(b.frontier) == 0 {
				b.done = true
				thought("Depth %d: expanding %q with %s found no new evidence", d, truncate(b.question, 60), strings.Join(newTerms, ", "))
				continue
			}
			added = true
			b.steps = append(b.steps, r.g.Nodes[ri].ID)
			out.Expansions = append(out.Expansions, expanded)
			thought("Depth %d: expanded %q with %s: %d new passage(s) kept", d, truncate(b.question, 60),
				strings.Join(newTerms, ", "), len(b.frontier))
		}
		if ran {
			out.Rounds++
			if c := r.weightedCoverage(qterms, branches); c > covered+1e-9 {
				out.Improving++
				covered = c
			}
		}
		if !added {
			break
		}
		depth = d
	}
	r.g.Depth = depth

	// Reasoning per branch, synthesis, conclusion, validation.
	syn := r.add(Node{Type: Synthesis, Depth: depth})
	var keptAll []int
	bestBranch, bestScore := -1, -1.0
	reasonIDs := make([]string, len(branches))
	for i, b := range branches {
		kept := r.kept(b.evidence)
		keptAll = append(keptAll, kept...)
		ri := r.add(Node{Type: Reasoning, Depth: depth})
		reasonIDs[i] = r.g.Nodes[ri].ID
		n := &r.g.Nodes[ri]
		if bi := r.best(kept); bi >= 0 {
			n.Content = fmt.Sprintf("%q is supported by %d passage(s) from %d document(s); best %s",
				truncate(b.question, 80), len(kept), r.docCount(kept), r.g.Nodes[bi].Source)
			n.Confidence = termCoverage(distinct(index.ContentTerms(b.question)), r.joined(kept))
			n.SNR = mean(r.snrs(kept))
		} else {
			n.Content = fmt.Sprintf("%q: no passage above the threshold", truncate(b.question, 80))
		}
		for _, id := range b.steps {
			r.edge(r.indexOf(id), ri, Derives, n.SNR)
		}
		r.edge(ri, syn, Synthesizes, n.SNR)
		if score := n.SNR * (0.5 + 0.5*n.Confidence); len(kept) > 0 && score > bestScore {
			bestBranch, bestScore = i, score
		}
	}
	keptAll = r.rank(distinctInts(keptAll))
	if len(keptAll) > o.MaxEvidence {
		keptAll = keptAll[:o.MaxEvidence]
	}
	coverage := termCoverage(qterms, r.joined(keptAll))
	sn := &r.g.Nodes[syn]
	sn.SNR = mean(r.snrs(keptAll))
	sn.Confidence = min(float64(r.docCount(keptAll))/3, 1)
	sn.Content = fmt.Sprintf("%d passage(s) from %d document(s) cover %d of %d query terms",
		len(keptAll), r.docCount(keptAll), int(coverage*float64(len(qterms))+0.5), len(qterms))
	con := r.add(Node{Type: Conclusion, Depth: depth, Confidence: coverage, SNR: sn.SNR})
	if len(keptAll) > 0 {
		top := r.g.Nodes[keptAll[0]]
		r.g.Nodes[con].Content = fmt.Sprintf("Best supported by %s: %s", top.Source,
			truncate(firstSentence(r.full[keptAll[0]]), maxConclusionSentence))
		r.g.Nodes[con].Source = top.Source
	} else {
		r.g.Nodes[con].Content = "No passage in the data lake supports an answer."
	}
	out.Conclusion = r.g.Nodes[con].Content
	r.edge(syn, con, Derives, sn.SNR)
	val := r.add(Node{Type: Validation, Depth: depth, Confidence: coverage, SNR: coverage,
		Content: fmt.Sprintf("conclusion covers %.0f%% of the query's content terms", coverage*100)})
	r.edge(val, con, Validates, coverage)
	r.edge(val, root, Validates, coverage)
	thought("Pruned %d passage(s) below %.2f; kept %d", r.prunedCount(), r.thr, len(keptAll))
	thought("Synthesis: %s", sn.Content)
	thought("Conclusion: %s", truncate(out.Conclusion, 200))

	// Root scores and best path.
	rn := &r.g.Nodes[root]
	rn.Confidence, rn.SNR = coverage, sn.SNR
	path := []string{rn.ID}
	if bestBranch >= 0 {
		b := branches[bestBranch]
		path = append(path, b.steps...)
		if bi := r.best(r.kept(b.evidence)); bi >= 0 {
			path = append(path, r.g.Nodes[bi].ID)
		}
		path = append(path, reasonIDs[bestBranch])
	}
	r.g.BestPath = append(path, sn.ID, r.g.Nodes[con].ID)

	for _, i := range keptAll {
		n := r.g.Nodes[i]
		out.Evidence = append(out.Evidence, index.Evidence{Source: n.Source, Excerpt: r.full[i], Score: n.SNR})
	}
	out.Depth = depth
	out.Nodes, out.Edges, out.Pruned = len(r.g.Nodes), len(r.g.Edges), r.prunedCount()
	h, err := r.g.Hash()
	if err != nil {
		return nil, Outcome{}, err
	}
	out.GraphHash = h
	out.Duration = time.Since(start)
	o.Recorder.Observe(out)
	return r.g, out, nil
}

// decompose returns at most o.Branching sub-questions.
func decompose(ctx context.Context, q string, o RunOptions, thought func(string, ...any)) ([]string, string) {
	if o.Decomposer != nil {
		subs, err := o.Decomposer.Decompose(ctx, q, o.Branching)
		var clean []string
		seen := map[string]bool{}
		for _, s := range subs {
			s = truncate(strings.TrimSpace(s), MaxSubQuestionBytes)
			key := strings.Join(distinct(index.ContentTerms(s)), " ")
			if key == "" || seen[key] {
				continue
			}
			seen[key] = true
			clean = append(clean, s)
		}
		switch {
		case err != nil:
			thought("Model decomposition failed (%v); splitting into clauses", err)
		case len(clean) == 0:
			thought("Model decomposition gave no usable sub-question; splitting into clauses")
		default:
			return merge(clean, o.Branching), "model"
		}
	}
	return merge(SplitClauses(q), o.Branching), "clauses"
}

// merge keeps at most n items, joining the tail into the last one.
func merge(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(s[:n-1:n-1], strings.Join(s[n-1:], "; "))
}

func (r *run) indexOf(id string) int {
	i, _ := strconv.Atoi(strings.TrimPrefix(id, "n"))
	return i
}

func (r *run) kept(idx []int) []int {
	var out []int
	for _, i := range idx {
		if !r.g.Nodes[i].Pruned {
			out = append(out, i)
		}
	}
	return out
}

// rank sorts evidence node indices by snr (desc), then source.
func (r *run) rank(idx []int) []int {
	slices.SortFunc(idx, func(a, b int) int {
		na, nb := r.g.Nodes[a], r.g.Nodes[b]
		return cmp.Or(cmp.Compare(nb.SNR, na.SNR), cmp.Compare(na.Source, nb.Source))
	})
	return idx
}

func (r *run) best(idx []int) int {
	if len(idx) == 0 {
		return -1
	}
	return r.rank(slices.Clone(idx))[0]
}

func (r *run) snrs(idx []int) []float64 {
	out := make([]float64, len(idx))
	for k, i := range idx {
		out[k] = r.g.Nodes[i].SNR
	}
	return out
}

func (r *run) joined(idx []int) string {
	var sb strings.Builder
	for _, i := range idx {
		sb.WriteString(r.full[i])
		sb.WriteByte('\n')
	}
	return sb.String()
}

func (r *run) docCount(idx []int) int {
	docs := map[string]bool{}
	for _, i := range idx {
		docs[index.DocOf(r.g.Nodes[i].Source)] = true
	}
	return len(docs)
}

func (r *run) prunedCount() int {
	n := 0
	for _, nd := range r.g.Nodes {
		if nd.Pruned {
			n++
		}
	}
	return n
}

// expansionTerms picks up to ExpansionTerms content terms from the branch's two best
// kept passages of the last depth that the branch has not used yet (numbers excluded),
// by tf·idf (tf alone without a TermWeigher), ties by first appearance.
func (r *run) expansionTerms(b *branch) []string {
	used := map[string]bool{}
	for _, t := range b.terms {
		used[t] = true
	}
	top := r.rank(slices.Clone(b.frontier))
	if len(top) > 2 {
		top = top[:2]
	}
	count := map[string]float64{}
	var order []string
	for _, i := range top {
		for _, t := range index.ContentTerms(r.full[i]) {
			if used[t] || isNumber(t) {
				continue
			}
			if count[t] == 0 {
				order = append(order, t)
			}
			count[t]++
		}
	}
	for _, t := range order {
		count[t] *= r.weigh(t)
	}
	slices.SortStableFunc(order, func(a, b string) int { return cmp.Compare(count[b], count[a]) })
	if len(order) > ExpansionTerms {
		order = order[:ExpansionTerms]
	}
	return order
}

func isNumber(t string) bool {
	for i := 0; i < len(t); i++ {
		if t[i] < '0' || t[i] > '9' {
			return false
		}
	}
	return true
}

// weightedCoverage is the idf-weighted share of terms that the kept evidence of all
// branches contains.
func (r *run) weightedCoverage(terms []string, branches []*branch) float64 {
	have := map[string]struct{}{}
	for _, b := range branches {
		for _, i := range r.kept(b.evidence) {
			ts, ok := r.termsOf[i]
			if !ok {
				ts = index.ContentTermSet(r.full[i])
				r.termsOf[i] = ts
			}
			for t := range ts {
				have[t] = struct{}{}
			}
		}
	}
	var got, total float64
	for _, t := range terms {
		w := r.weigh(t)
		total += w
		if _, ok := have[t]; ok {
			got += w
		}
	}
	if total == 0 {
		return 0
	}
	return got / total
}

// termCoverage is the share of terms (distinct) that occur among text's content terms.
func termCoverage(terms []string, text string) float64 {
	if len(terms) == 0 {
		return 0
	}
	have := index.ContentTermSet(text)
	n := 0
	for _, t := range terms {
		if _, ok := have[t]; ok {
			n++
		}
	}
	return float64(n) / float64(len(terms))
}

func distinct(s []string) []string {
	seen := make(map[string]bool, len(s))
	out := s[:0:0]
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func distinctInts(s []int) []int {
	slices.Sort(s)
	return slices.Compact(s)
}

func mean(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

func clamp01(x float64) float64 { return max(0, min(1, x)) }

// truncate cuts s to at most n bytes at a rune boundary, marking the cut with "…".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func firstSentence(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	for i := 0; i+1 < len(s); i++ {
		if (s[i] == '.' || s[i] == '?' || s[i] == '!') && s[i+1] == ' ' {
			return s[:i+1]
		}
	}
	return s
}

func quoteList(s []string) string {
	q := make([]string, len(s))
	for i, x := range s {
		q[i] = strconv.Quote(truncate(x, 80))
	}
	return strings.Join(q, ", ")
}
