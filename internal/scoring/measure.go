package scoring

import (
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/bizra/bizra/internal/index"
)

// Definitions used by Measure.
const (
	// GroundedShare: a sentence is grounded when at least this share of its distinct
	// content terms occurs in one evidence passage ("mostly found in one passage").
	GroundedShare = 0.6
	// RepeatJaccard: a sentence repeats an earlier one when the Jaccard overlap of their
	// content-term sets is at least this.
	RepeatJaccard = 0.8
	// CorroborationSources: K = min(distinct documents / this, 1).
	CorroborationSources = 3
	// AddressShare: a sentence (a quoted unit) addresses the question when it shows at
	// least this idf-weighted share of the distinct content terms of the query or of
	// one sub-question (its citation's document name counts as shown).
	AddressShare = 0.5
	// LeadShare: the weight of a unit's lead (index.Lead: its head line and first
	// sentence) in its fit to the question; the rest is the whole unit's.
	LeadShare = 0.8
	// ContextDilution: how much a term of a unit that fits the question fully, but is
	// not a question term, counts as unrelated in U (a word of an off-topic unit
	// counts 1): the shorter the quoted unit, the less it dilutes.
	ContextDilution = 0.25
)

// Sentence is one sentence of an answer and the evidence source it cites ("" for none).
type Sentence struct {
	Text   string
	Source string
}

// Inputs are what Measure reads, all from the query being scored.
type Inputs struct {
	Query           string
	SubQuestions    []string // reasoning.Outcome.SubQuestions (nil without reasoning)
	Answer          string
	AnswerSentences []Sentence       // nil → SplitSentences(Answer)
	Evidence        []index.Evidence // the evidence given to the backend; Score is the normalised retrieval score
	Depth, MaxDepth int              // depth reached and the bound (0, 0 without reasoning)
	// Rounds and Improving are reasoning.Outcome's: expansion rounds run, and those
	// that improved the evidence's coverage of the original question.
	Rounds, Improving int
	// TermWeights gives the rarity (the index's idf) of the query's content terms; a
	// term missing from it weighs as the rarest given. nil: all weigh the same.
	TermWeights map[string]float64
	Source      string        // SourceLocal, SourceModelWithEvidence, SourceModelWithoutEvidence
	PolicyHits  int           // safety-policy matches in the answer
	Elapsed     time.Duration // time used so far
	Deadline    time.Duration // the query's whole budget (timeout_ms)
}

// Measures are the scoring inputs measured on one query, each in [0,1] unless noted.
type Measures struct {
	Relevance     float64 // R: mean Score of the evidence used
	Coverage      float64 // C: idf-weighted share of the query's distinct content terms shown by the answer's sentences and their citations
	OffTopic      float64 // O: share of answer sentences (quoted units) that address neither the query nor a sub-question
	Grounding     float64 // G: share of answer sentences mostly found in one evidence passage
	Attribution   float64 // A: share of answer sentences citing a source that is in the evidence
	Corroboration float64 // K: min(distinct documents of the evidence used / 3, 1)
	Sources       int     // distinct documents of the evidence used (count)
	Depth         float64 // D: (1 + improving expansion rounds) / (1 + expansion rounds run); 0 without reasoning
	Dilution      float64 // U: share of the answer's distinct content terms unrelated to the query and its sub-questions (see Measure)
	Redundancy    float64 // Rd: share of answer sentences repeating an earlier one
	PolicyHits    int     // count
	TimeUsed      float64 // elapsed / deadline (0 when the deadline is unknown)
	ElapsedMs     float64 // time used so far, for efficiency against the expected latency
	Source        string
	Sentences     int // answer sentences with at least one content term (count)
	EvidenceUsed  int // count
}

// Measure measures one answer against its query and evidence (see Measures for each
// definition). "Evidence used" is the evidence cited by the answer's sentences (by
// source, or by document when the citation names only the file); when no sentence
// cites a passage, all the evidence given. For dilution, an answer term is related
// when it is a content term of the query or of a sub-question, or when it stands in a
// sentence that addresses the question (one containing at least AddressShare of the
// content terms of the query or of one sub-question): the context of a sentence that
// answers is related, the vocabulary of a sentence that only brushes one query word
// is not. Sentences without content terms are ignored. Measure is pure and
// safe for concurrent use.
func Measure(in Inputs) Measures {
	m := Measures{Source: in.Source, PolicyHits: max(in.PolicyHits, 0)}
	sents := in.AnswerSentences
	if sents == nil {
		sents = SplitSentences(in.Answer)
	}
	type sent struct {
		terms  map[string]struct{}
		shown  map[string]struct{} // terms plus its citation's document name
		lead   map[string]struct{} // the terms of its lead (index.Lead) plus the document name
		source string
	}
	var ss []sent
	for _, s := range sents {
		if t := index.ContentTermSet(s.Text); len(t) > 0 {
			src := strings.TrimSpace(s.Source)
			shown, name := t, ""
			if src != "" {
				name = index.DocName(src)
				shown = index.ContentTermSet(s.Text + " " + name)
			}
			ss = append(ss, sent{t, shown, index.ContentTermSet(index.Lead(s.Text) + " " + name), src})
		}
	}
	wmax := 1.0
	if len(in.TermWeights) > 0 {
		wmax = 0
		for _, w := range in.TermWeights {
			if w > wmax && !math.IsInf(w, 0) {
				wmax = w
			}
		}
		wmax = max(wmax, 1)
	}
	weight := func(t string) float64 {
		if in.TermWeights == nil {
			return 1
		}
		if w, ok := in.TermWeights[t]; ok && w > 0 && !math.IsNaN(w) && !math.IsInf(w, 0) {
			return w
		}
		return wmax
	}
	// wcov is the idf-weighted share of the terms of a found in b.
	wcov := func(a, b map[string]struct{}) float64 {
		var got, total float64
		for t := range a {
			w := weight(t)
			total += w
			if _, ok := b[t]; ok {
				got += w
			}
		}
		if total == 0 {
			return 0
		}
		return got / total
	}
	m.Sentences = len(ss)

	evTerms := make([]map[string]struct{}, len(in.Evidence))
	bySource := map[string]int{}
	byDoc := map[string][]int{}
	for i, e := range in.Evidence {
		evTerms[i] = index.ContentTermSet(e.Excerpt)
		if _, ok := bySource[e.Source]; !ok {
			bySource[e.Source] = i
		}
		d := index.DocOf(e.Source)
		byDoc[d] = append(byDoc[d], i)
	}
	cited := func(src string) []int {
		if src == "" {
			return nil
		}
		if i, ok := bySource[src]; ok {
			return []int{i}
		}
		return byDoc[index.DocOf(src)]
	}

	// Evidence used, R, K.
	used := map[int]bool{}
	for _, s := range ss {
		for _, i := range cited(s.source) {
			used[i] = true
		}
	}
	if len(used) == 0 {
		for i := range in.Evidence {
			used[i] = true
		}
	}
	m.EvidenceUsed = len(used)
	docs := map[string]bool{}
	var rsum float64
	for i := range used {
		rsum += clamp01(in.Evidence[i].Score)
		docs[index.DocOf(in.Evidence[i].Source)] = true
	}
	if len(used) > 0 {
		m.Relevance = rsum / float64(len(used))
	}
	m.Sources = len(docs)
	m.Corroboration = min(float64(m.Sources)/CorroborationSources, 1)

	// C: what the answer shows (its sentences and their citations' document names).
	qterms := index.ContentTermSet(in.Query)
	// fit is how much one quoted unit is about a: its weighted coverage of a's terms,
	// LeadShare of it in the unit's lead, the rest in the whole unit.
	fit := func(a map[string]struct{}, s sent) float64 {
		return LeadShare*wcov(a, s.lead) + (1-LeadShare)*wcov(a, s.shown)
	}
	var subs []map[string]struct{}
	for _, q := range in.SubQuestions {
		if st := index.ContentTermSet(q); len(st) > 0 {
			subs = append(subs, st)
		}
	}
	var bestQ float64
	bestSub := make([]float64, len(subs))
	for _, s := range ss {
		bestQ = max(bestQ, fit(qterms, s))
		for i, a := range subs {
			bestSub[i] = max(bestSub[i], fit(a, s))
		}
	}
	m.Coverage = bestQ
	if len(subs) > 1 {
		var sum float64
		for _, f := range bestSub {
			sum += f
		}
		m.Coverage = max(bestQ, sum/float64(len(subs))) // each clause answered by its own unit
	}

	// G, A, Rd, U.
	related := index.ContentTermSet(in.Query)
	asks := []map[string]struct{}{index.ContentTermSet(in.Query)}
	for _, q := range in.SubQuestions {
		st := index.ContentTermSet(q)
		asks = append(asks, st)
		for t := range st {
			related[t] = struct{}{}
		}
	}
	// addresses returns how much of the question (or of its best-covered
	// sub-question) a sentence shows, and whether that is at least AddressShare.
	addresses := func(s sent) (float64, bool) {
		best := 0.0
		for _, a := range asks {
			if len(a) > 0 {
				best = max(best, fit(a, s))
			}
		}
		return best, best+1e-9 >= AddressShare
	}
	contextTerms := map[string]float64{} // term → the best coverage of an addressing sentence holding it
	answerTerms := map[string]struct{}{}
	var grounded, attributed, repeated, offTopic int
	for k, s := range ss {
		for i := range in.Evidence {
			if share(s.terms, evTerms[i]) >= GroundedShare {
				grounded++
				break
			}
		}
		if len(cited(s.source)) > 0 {
			attributed++
		}
		for j := range k {
			if jaccard(s.terms, ss[j].terms) >= RepeatJaccard {
				repeated++
				break
			}
		}
		cov, addr := addresses(s)
		if !addr {
			offTopic++
		}
		for t := range s.terms {
			answerTerms[t] = struct{}{}
			if addr {
				contextTerms[t] = max(contextTerms[t], cov)
			}
		}
	}
	if len(ss) > 0 {
		n := float64(len(ss))
		m.Grounding, m.Attribution, m.Redundancy = float64(grounded)/n, float64(attributed)/n, float64(repeated)/n
		m.OffTopic = float64(offTopic) / n
	}
	if len(answerTerms) > 0 {
		unrelated := 0.0
		for t := range answerTerms {
			if _, rel := related[t]; rel {
				continue
			}
			// the context of a unit that is about the question is a quarter as noisy
			// as a word of a unit that is not (ContextDilution), in proportion to its fit
			f := contextTerms[t]
			unrelated += (1 - f) + f*ContextDilution
		}
		m.Dilution = unrelated / float64(len(answerTerms))
	}

	if in.MaxDepth > 0 {
		rounds, improving := max(in.Rounds, 0), min(max(in.Improving, 0), max(in.Rounds, 0))
		m.Depth = clamp01(float64(1+improving) / float64(1+rounds))
	}
	if in.Deadline > 0 {
		m.TimeUsed = clamp01(float64(in.Elapsed) / float64(in.Deadline))
	}
	m.ElapsedMs = max(0, float64(in.Elapsed.Microseconds())/1000)
	return m
}

// share is |a ∩ b| / |a|.
func share(a, b map[string]struct{}) float64 {
	if len(a) == 0 {
		return 0
	}
	n := 0
	for t := range a {
		if _, ok := b[t]; ok {
			n++
		}
	}
	return float64(n) / float64(len(a))
}

func jaccard(a, b map[string]struct{}) float64 {
	inter := 0
	for t := range a {
		if _, ok := b[t]; ok {
			inter++
		}
	}
	union := len(a) + len(b) - inter
	if union == 0 {
		return 0
	}
	return float64(inter) / float64(union)
}

func clamp01(x float64) float64 {
	if x != x { // NaN
		return 0
	}
	return max(0, min(1, x))
}

// SplitSentences cuts an answer into sentences at '.', '!' or '?' followed by white
// space and at line breaks. A trailing citation in square brackets ("… [ops.md#x:L3]")
// becomes the sentence's Source.
func SplitSentences(answer string) []Sentence {
	var out []Sentence
	emit := func(s string) {
		s = strings.TrimSpace(s)
		if s == "" {
			return
		}
		var src string
		if strings.HasSuffix(s, "]") {
			if i := strings.LastIndex(s, "["); i >= 0 {
				src = strings.TrimSpace(s[i+1 : len(s)-1])
				s = strings.TrimSpace(s[:i])
			}
		}
		if s != "" {
			out = append(out, Sentence{Text: s, Source: src})
		}
	}
	start := 0
	for i := 0; i < len(answer); {
		r, w := utf8.DecodeRuneInString(answer[i:])
		next := i + w
		switch {
		case r == '\n':
			emit(answer[start:i])
			start = next
		case r == '.' || r == '!' || r == '?':
			// a citation right after the stop belongs to this sentence
			j := next
			for j < len(answer) && answer[j] == ' ' {
				j++
			}
			if j < len(answer) && answer[j] == '[' {
				if k := strings.IndexByte(answer[j:], ']'); k > 0 {
					next = j + k + 1
				}
			}
			if nr, _ := utf8.DecodeRuneInString(answer[min(next, len(answer)):]); next >= len(answer) || unicode.IsSpace(nr) {
				emit(answer[start:next])
				start = next
			}
		}
		i = next
	}
	emit(answer[start:])
	return out
}
