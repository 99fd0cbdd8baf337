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
	// AddressShare: a sentence addresses the question when it contains at least this
	// share (rounded up, at least one) of the distinct content terms of the query or of
	// one sub-question.
	AddressShare = 0.5
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
	Source          string           // SourceLocal, SourceModelWithEvidence, SourceModelWithoutEvidence
	PolicyHits      int              // safety-policy matches in the answer
	Elapsed         time.Duration    // time used so far
	Deadline        time.Duration    // the query's whole budget (timeout_ms)
}

// Measures are the scoring inputs measured on one query, each in [0,1] unless noted.
type Measures struct {
	Relevance     float64 // R: mean Score of the evidence used
	Coverage      float64 // C: share of the query's distinct content terms found in the evidence used
	Grounding     float64 // G: share of answer sentences mostly found in one evidence passage
	Attribution   float64 // A: share of answer sentences citing a source that is in the evidence
	Corroboration float64 // K: min(distinct documents of the evidence used / 3, 1)
	Sources       int     // distinct documents of the evidence used (count)
	Depth         float64 // D: depth reached / max depth
	Dilution      float64 // U: share of the answer's distinct content terms unrelated to the query and its sub-questions (see Measure)
	Redundancy    float64 // Rd: share of answer sentences repeating an earlier one
	PolicyHits    int     // count
	TimeUsed      float64 // elapsed / deadline (0 when the deadline is unknown)
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
		source string
	}
	var ss []sent
	for _, s := range sents {
		if t := index.ContentTermSet(s.Text); len(t) > 0 {
			ss = append(ss, sent{t, strings.TrimSpace(s.Source)})
		}
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
	usedTerms := map[string]struct{}{}
	var rsum float64
	for i := range used {
		rsum += clamp01(in.Evidence[i].Score)
		docs[index.DocOf(in.Evidence[i].Source)] = true
		for t := range evTerms[i] {
			usedTerms[t] = struct{}{}
		}
	}
	if len(used) > 0 {
		m.Relevance = rsum / float64(len(used))
	}
	m.Sources = len(docs)
	m.Corroboration = min(float64(m.Sources)/CorroborationSources, 1)

	// C.
	qterms := index.ContentTermSet(in.Query)
	if len(qterms) > 0 {
		n := 0
		for t := range qterms {
			if _, ok := usedTerms[t]; ok {
				n++
			}
		}
		m.Coverage = float64(n) / float64(len(qterms))
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
	addresses := func(terms map[string]struct{}) bool {
		for _, a := range asks {
			if len(a) == 0 {
				continue
			}
			need := max(1, int(math.Ceil(AddressShare*float64(len(a))-1e-9)))
			if have := share(a, terms) * float64(len(a)); have+1e-9 >= float64(need) {
				return true
			}
		}
		return false
	}
	contextTerms := map[string]struct{}{}
	answerTerms := map[string]struct{}{}
	var grounded, attributed, repeated int
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
		addr := addresses(s.terms)
		for t := range s.terms {
			answerTerms[t] = struct{}{}
			if addr {
				contextTerms[t] = struct{}{}
			}
		}
	}
	if len(ss) > 0 {
		n := float64(len(ss))
		m.Grounding, m.Attribution, m.Redundancy = float64(grounded)/n, float64(attributed)/n, float64(repeated)/n
	}
	if len(answerTerms) > 0 {
		unrelated := 0
		for t := range answerTerms {
			_, rel := related[t]
			_, ctx := contextTerms[t]
			if !rel && !ctx {
				unrelated++
			}
		}
		m.Dilution = float64(unrelated) / float64(len(answerTerms))
	}

	if in.MaxDepth > 0 {
		m.Depth = clamp01(float64(in.Depth) / float64(in.MaxDepth))
	}
	if in.Deadline > 0 {
		m.TimeUsed = clamp01(float64(in.Elapsed) / float64(in.Deadline))
	}
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
