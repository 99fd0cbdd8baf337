package eval

import (
	"math"
	"slices"
	"sort"
	"time"
)

// Verdicts and codes read from a result (the runtime contract's strings).
const (
	verdictApproved = "APPROVED"
	verdictRejected = "REJECTED"
	codeNoEvidence  = "NO_EVIDENCE"
	verdictError    = "ERROR" // the harness's mark of a query the runtime refused
)

// Answer is what bizra returned for one question, reduced to what the metrics read.
type Answer struct {
	// Sources are the evidence sources in the order the result lists them.
	Sources []string `json:"sources"`
	// Text is the answer text (the result's response; never the evidence).
	Text      string   `json:"text"`
	Verdict   string   `json:"verdict"`
	ErrorCode string   `json:"error_code,omitempty"`
	Success   bool     `json:"success"`
	SNR       *float64 `json:"snr"`
	Ihsan     *float64 `json:"ihsan"`
	// Components are the result's quality components (every scoring input and term).
	Components map[string]float64 `json:"components,omitempty"`
	Latency    time.Duration      `json:"latency_ns"`
	// Err is the error of a query the runtime refused (Verdict "ERROR").
	Err string `json:"err,omitempty"`
}

// Ranked is what the FTS5 baseline returned for one question: the documents of its top
// paragraphs, best first, and the top paragraph's text.
type Ranked struct {
	Docs []string `json:"docs"`
	Top  string   `json:"top"`
}

// Graded is one question with both engines' results and their grades.
type Graded struct {
	Question *Question `json:"-"`
	ID       string    `json:"id"`
	Text     string    `json:"question"`
	Doc      string    `json:"doc,omitempty"`
	Answer   Answer    `json:"bizra"`
	FTS      Ranked    `json:"fts5"`
	// Rank is the 1-based position of the first evidence from the question's document
	// (0: none); FTSRank the same for the baseline's paragraphs.
	Rank    int  `json:"rank"`
	FTSRank int  `json:"fts5_rank"`
	Fact    bool `json:"fact_in_answer"`
	FTSFact bool `json:"fact_in_top_paragraph"`
}

// Grade grades one question of corpus kind.
func Grade(kind string, q *Question, a Answer, r Ranked) Graded {
	g := Graded{Question: q, ID: q.ID, Text: q.Question, Doc: q.Doc, Answer: a, FTS: r}
	if q.Answerable() {
		g.Rank = rankOf(kind, q.Doc, a.Sources)
		for i, d := range r.Docs {
			if d == kind+"/"+q.Doc {
				g.FTSRank = i + 1
				break
			}
		}
		g.Fact = q.Contains(a.Text)
		g.FTSFact = q.Contains(r.Top)
	}
	return g
}

// rankOf is the 1-based position of the first source from document id of kind.
func rankOf(kind, id string, sources []string) int {
	for i, s := range sources {
		if k, d, ok := DocIDOf(s); ok && k == kind && d == id {
			return i + 1
		}
	}
	return 0
}

// Spread is the distribution of one score component over the results that carry it.
type Spread struct {
	Name   string  `json:"name"`
	N      int     `json:"n"`
	Min    float64 `json:"min"`
	P25    float64 `json:"p25"`
	Median float64 `json:"median"`
	P75    float64 `json:"p75"`
	Max    float64 `json:"max"`
	// Constant is true when every value is the same (a component that tells nothing).
	Constant bool `json:"constant"`
}

// Summary is one corpus's figures.
type Summary struct {
	Questions, Answerable, Unanswerable int

	Hit1, Hit5, Fact int // bizra, over answerable questions
	// Approved counts APPROVED verdicts over all questions; ApprovedFact those on
	// answerable questions whose answer contains the fact; ApprovedNoFact the APPROVED
	// answerable ones without it; NoFact the answerable answers without the fact.
	Approved, ApprovedFact, ApprovedNoFact, NoFact int
	// Over unanswerable questions: not APPROVED, NO_EVIDENCE, REJECTED (with evidence).
	UnansNotApproved, UnansNoEvidence, UnansRejected int

	FTSHit1, FTSHit5, FTSFact int

	// Errors counts the queries the runtime refused with an error (Verdict "ERROR").
	Errors int

	// Precision = ApprovedFact / Approved (NaN when nothing was APPROVED); Recall =
	// ApprovedFact / Answerable.
	Precision, Recall float64

	Spreads []Spread
	// Latency percentiles of the query calls (nearest rank).
	P50, P99 time.Duration
}

// Summarize computes a corpus's figures from its graded questions.
func Summarize(gs []Graded) Summary {
	var s Summary
	s.Questions = len(gs)
	var lat []time.Duration
	values := map[string][]float64{}
	for _, g := range gs {
		a := g.Answer
		lat = append(lat, a.Latency)
		approved := a.Verdict == verdictApproved
		if a.Verdict == verdictError {
			s.Errors++
		}
		if approved {
			s.Approved++
		}
		if a.SNR != nil {
			values["snr"] = append(values["snr"], *a.SNR)
		}
		if a.Ihsan != nil {
			values["ihsan"] = append(values["ihsan"], *a.Ihsan)
		}
		for k, v := range a.Components {
			values["components."+k] = append(values["components."+k], v)
		}
		if !g.Question.Answerable() {
			s.Unanswerable++
			switch {
			case approved:
			case a.ErrorCode == codeNoEvidence:
				s.UnansNotApproved++
				s.UnansNoEvidence++
			default:
				s.UnansNotApproved++
				if a.Verdict == verdictRejected {
					s.UnansRejected++
				}
			}
			continue
		}
		s.Answerable++
		if g.Rank == 1 {
			s.Hit1++
		}
		if g.Rank >= 1 && g.Rank <= 5 {
			s.Hit5++
		}
		if g.FTSRank == 1 {
			s.FTSHit1++
		}
		if g.FTSRank >= 1 && g.FTSRank <= 5 {
			s.FTSHit5++
		}
		if g.FTSFact {
			s.FTSFact++
		}
		switch {
		case g.Fact && approved:
			s.Fact++
			s.ApprovedFact++
		case g.Fact:
			s.Fact++
		case approved:
			s.NoFact++
			s.ApprovedNoFact++
		default:
			s.NoFact++
		}
	}
	s.Precision = math.NaN()
	if s.Approved > 0 {
		s.Precision = float64(s.ApprovedFact) / float64(s.Approved)
	}
	s.Recall = math.NaN()
	if s.Answerable > 0 {
		s.Recall = float64(s.ApprovedFact) / float64(s.Answerable)
	}
	names := make([]string, 0, len(values))
	for k := range values {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool { return componentOrder(names[i], names[j]) })
	for _, n := range names {
		s.Spreads = append(s.Spreads, SpreadOf(n, values[n]))
	}
	s.P50, s.P99 = Percentile(lat, 0.50), Percentile(lat, 0.99)
	return s
}

// componentOrder puts snr and ihsan first, then the components by name.
func componentOrder(a, b string) bool {
	rank := func(s string) int {
		switch s {
		case "snr":
			return 0
		case "ihsan":
			return 1
		}
		return 2
	}
	if ra, rb := rank(a), rank(b); ra != rb {
		return ra < rb
	}
	return a < b
}

// SpreadOf computes the five-number summary of values (nearest rank).
func SpreadOf(name string, values []float64) Spread {
	sp := Spread{Name: name, N: len(values)}
	if len(values) == 0 {
		return sp
	}
	v := slices.Clone(values)
	slices.Sort(v)
	at := func(p float64) float64 { return v[nearestRank(len(v), p)] }
	sp.Min, sp.P25, sp.Median, sp.P75, sp.Max = v[0], at(0.25), at(0.5), at(0.75), v[len(v)-1]
	sp.Constant = sp.Min == sp.Max
	return sp
}

// Percentile is the nearest-rank percentile p (0 < p ≤ 1) of ds; 0 for none.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	v := slices.Clone(ds)
	slices.Sort(v)
	return v[nearestRank(len(v), p)]
}

// nearestRank is the 0-based index of the nearest-rank p-th percentile of n values.
func nearestRank(n int, p float64) int {
	i := int(math.Ceil(p*float64(n))) - 1
	return min(max(i, 0), n-1)
}
