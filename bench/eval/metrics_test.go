package eval

import (
	"math"
	"testing"
	"time"
)

func f64(v float64) *float64 { return &v }

// mustQ builds a validated question (facts compiled).
func mustQ(t *testing.T, id, doc string, facts ...string) *Question {
	t.Helper()
	q := &Question{ID: id, Question: "q " + id, Doc: doc, Facts: facts, Unanswerable: doc == ""}
	for _, f := range facts {
		m, err := compileFact(f)
		if err != nil {
			t.Fatal(err)
		}
		q.matchers = append(q.matchers, m)
	}
	return q
}

func TestGradeRanks(t *testing.T) {
	q := mustQ(t, "a", "tar.1", "-x, --extract")
	tests := []struct {
		name     string
		sources  []string
		fts      []string
		rank     int
		ftsRank  int
		wantFact bool
		text     string
	}{
		{"first", []string{"man/tar.1.txt:L10", "man/gzip.1.txt:L3"}, []string{"man/tar.1"}, 1, 1, true, "use  -x,\n  --extract to extract"},
		{"third", []string{"man/gzip.1.txt:L3", "go/archive/tar.txt:L1", "man/tar.1.txt:L99"}, []string{"man/gzip.1", "go/archive/tar", "man/tar.1"}, 3, 3, false, "--extract"},
		{"other corpus same id is no hit", []string{"go/tar.1.txt:L1"}, []string{"go/tar.1"}, 0, 0, false, ""},
		{"replicated lake", []string{"copy-2/man/tar.1.txt:L4"}, nil, 1, 0, false, ""},
		{"none", nil, nil, 0, 0, false, "nothing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := Grade(KindMan, q, Answer{Sources: tc.sources, Text: tc.text}, Ranked{Docs: tc.fts})
			if g.Rank != tc.rank || g.FTSRank != tc.ftsRank || g.Fact != tc.wantFact {
				t.Fatalf("rank %d fts %d fact %v, want %d %d %v", g.Rank, g.FTSRank, g.Fact, tc.rank, tc.ftsRank, tc.wantFact)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	a1 := mustQ(t, "a1", "tar.1", "--extract")
	a2 := mustQ(t, "a2", "grep.1", "--ignore-case")
	a3 := mustQ(t, "a3", "ls.1", "--human-readable")
	a4 := mustQ(t, "a4", "cp.1", "--recursive")
	u1 := mustQ(t, "u1", "")
	u2 := mustQ(t, "u2", "")
	u3 := mustQ(t, "u3", "")
	ms := time.Millisecond
	gs := []Graded{
		// right document first, fact, APPROVED
		Grade(KindMan, a1, Answer{Sources: []string{"man/tar.1.txt:L1"}, Text: "--extract", Verdict: "APPROVED",
			SNR: f64(0.9), Ihsan: f64(0.9), Components: map[string]float64{"coverage": 1}, Latency: 1 * ms},
			Ranked{Docs: []string{"man/tar.1"}, Top: "-x, --extract"}),
		// right document second, no fact, APPROVED (a wrong approval)
		Grade(KindMan, a2, Answer{Sources: []string{"man/bash.1.txt:L1", "man/grep.1.txt:L1"}, Text: "something else",
			Verdict: "APPROVED", SNR: f64(0.8), Ihsan: f64(0.9), Components: map[string]float64{"coverage": 0.5}, Latency: 2 * ms},
			Ranked{Docs: []string{"man/grep.1"}, Top: "no fact here"}),
		// right document sixth: no hit@5; fact but REJECTED
		Grade(KindMan, a3, Answer{Sources: []string{"man/a.1.txt", "man/b.1.txt", "man/c.1.txt", "man/d.1.txt", "man/e.1.txt", "man/ls.1.txt"},
			Text: "--human-readable", Verdict: "REJECTED", SNR: f64(0.5), Ihsan: f64(0.9), Components: map[string]float64{"coverage": 0.25}, Latency: 3 * ms},
			Ranked{Docs: []string{"man/x.1", "man/ls.1"}}),
		// nothing found
		Grade(KindMan, a4, Answer{Verdict: "REJECTED", ErrorCode: "NO_EVIDENCE", Latency: 4 * ms}, Ranked{}),
		// unanswerable: NO_EVIDENCE, REJECTED with evidence, APPROVED
		Grade(KindMan, u1, Answer{Verdict: "REJECTED", ErrorCode: "NO_EVIDENCE", Latency: 5 * ms}, Ranked{}),
		Grade(KindMan, u2, Answer{Sources: []string{"man/ls.1.txt"}, Verdict: "REJECTED", SNR: f64(0.3), Ihsan: f64(0.9), Latency: 6 * ms}, Ranked{}),
		Grade(KindMan, u3, Answer{Sources: []string{"man/ls.1.txt"}, Verdict: "APPROVED", SNR: f64(0.95), Ihsan: f64(0.9), Latency: 100 * ms}, Ranked{}),
	}
	s := Summarize(gs)
	want := Summary{Questions: 7, Answerable: 4, Unanswerable: 3, Hit1: 1, Hit5: 2, Fact: 2,
		Approved: 3, ApprovedFact: 1, ApprovedNoFact: 1, NoFact: 2,
		UnansNotApproved: 2, UnansNoEvidence: 1, UnansRejected: 1,
		FTSHit1: 2, FTSHit5: 3, FTSFact: 1}
	got := s
	got.Precision, got.Recall, got.Spreads, got.P50, got.P99 = 0, 0, nil, 0, 0
	if got.Questions != want.Questions || got.Answerable != want.Answerable || got.Unanswerable != want.Unanswerable ||
		got.Hit1 != want.Hit1 || got.Hit5 != want.Hit5 || got.Fact != want.Fact || got.Approved != want.Approved ||
		got.ApprovedFact != want.ApprovedFact || got.ApprovedNoFact != want.ApprovedNoFact || got.NoFact != want.NoFact ||
		got.UnansNotApproved != want.UnansNotApproved || got.UnansNoEvidence != want.UnansNoEvidence ||
		got.UnansRejected != want.UnansRejected || got.FTSHit1 != want.FTSHit1 || got.FTSHit5 != want.FTSHit5 || got.FTSFact != want.FTSFact {
		t.Fatalf("summary\n got %+v\nwant %+v", got, want)
	}
	if math.Abs(s.Precision-1.0/3) > 1e-12 || math.Abs(s.Recall-0.25) > 1e-12 {
		t.Fatalf("precision %v recall %v, want 1/3 and 1/4", s.Precision, s.Recall)
	}
	if s.Errors != 0 {
		t.Fatalf("errors %d", s.Errors)
	}
	if s.P50 != 4*ms || s.P99 != 100*ms {
		t.Fatalf("p50 %v p99 %v", s.P50, s.P99)
	}
	names := []string{}
	for _, sp := range s.Spreads {
		names = append(names, sp.Name)
	}
	if len(names) != 3 || names[0] != "snr" || names[1] != "ihsan" || names[2] != "components.coverage" {
		t.Fatalf("spreads %v", names)
	}
	if !s.Spreads[1].Constant || s.Spreads[0].Constant || s.Spreads[0].N != 5 {
		t.Fatalf("ihsan should be constant and snr not: %+v", s.Spreads)
	}
}

func TestSummarizeNothingApproved(t *testing.T) {
	q := mustQ(t, "a", "ls.1", "x")
	u := mustQ(t, "u", "")
	s := Summarize([]Graded{Grade(KindMan, q, Answer{Verdict: "REJECTED"}, Ranked{}),
		Grade(KindMan, u, Answer{Verdict: verdictError, ErrorCode: verdictError, Err: "overloaded"}, Ranked{})})
	if s.Errors != 1 || s.UnansNotApproved != 1 || s.UnansNoEvidence != 0 || s.UnansRejected != 0 {
		t.Fatalf("a refused query: %+v", s)
	}
	if !math.IsNaN(s.Precision) || s.Recall != 0 {
		t.Fatalf("precision %v (want NaN: undefined), recall %v", s.Precision, s.Recall)
	}
	if got := ratio(s.Precision); got != "—" {
		t.Fatalf("NaN renders %q", got)
	}
}

func TestSpreadOf(t *testing.T) {
	tests := []struct {
		in                      []float64
		min, p25, med, p75, max float64
		constant                bool
	}{
		{[]float64{5, 1, 3, 2, 4}, 1, 2, 3, 4, 5, false},
		{[]float64{0.9, 0.9, 0.9}, 0.9, 0.9, 0.9, 0.9, 0.9, true},
		{[]float64{7}, 7, 7, 7, 7, 7, true},
		{[]float64{4, 1, 3, 2}, 1, 1, 2, 3, 4, false},
	}
	for _, tc := range tests {
		sp := SpreadOf("x", tc.in)
		if sp.Min != tc.min || sp.P25 != tc.p25 || sp.Median != tc.med || sp.P75 != tc.p75 || sp.Max != tc.max || sp.Constant != tc.constant || sp.N != len(tc.in) {
			t.Errorf("%v: got %+v", tc.in, sp)
		}
	}
	if sp := SpreadOf("none", nil); sp.N != 0 || sp.Constant {
		t.Errorf("empty: %+v", sp)
	}
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(101-i))
	}
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{{0.5, 50}, {0.99, 99}, {1, 100}, {0.001, 1}} {
		if got := Percentile(ds, tc.p); got != tc.want {
			t.Errorf("p%v = %v, want %v", tc.p, got, tc.want)
		}
	}
	if Percentile(nil, 0.5) != 0 {
		t.Error("empty percentile")
	}
}

func TestDocIDOf(t *testing.T) {
	tests := []struct {
		src, kind, id string
		ok            bool
	}{
		{"man/tar.1.txt:L120", KindMan, "tar.1", true},
		{"go/net/http.txt:L3", KindGo, "net/http", true},
		{"go/math/rand/v2.txt", KindGo, "math/rand/v2", true},
		{"go/net/http.txt#x:L3", KindGo, "net/http", true},
		{"copy-3/man/dpkg-query.1.txt:L9", KindMan, "dpkg-query.1", true},
		{"README.md#x:L1", "", "", false},
		{"man/.txt", "", "", false},
		{"other/tar.1.txt", "", "", false},
	}
	for _, tc := range tests {
		k, id, ok := DocIDOf(tc.src)
		if k != tc.kind || id != tc.id || ok != tc.ok {
			t.Errorf("%s: %q %q %v", tc.src, k, id, ok)
		}
	}
}

func TestSanity(t *testing.T) {
	a := mustQ(t, "a", "ls.1", "x")
	u := mustQ(t, "u", "")
	good := func() *Report {
		gs := []Graded{
			Grade(KindMan, a, Answer{Sources: []string{"man/ls.1.txt"}, Text: "one", Verdict: "APPROVED", SNR: f64(0.9), Ihsan: f64(0.9)}, Ranked{}),
			Grade(KindMan, u, Answer{Sources: []string{"man/ls.1.txt"}, Text: "two", Verdict: "REJECTED", SNR: f64(0.4), Ihsan: f64(0.9)}, Ranked{}),
		}
		return &Report{Passages: 10, Corpora: []CorpusReport{{Kind: KindMan, Docs: 1, Graded: gs, Summary: Summarize(gs)}}}
	}
	if err := Sanity(good()); err != nil {
		t.Fatalf("good report: %v", err)
	}
	tests := []struct {
		name   string
		break_ func(r *Report)
	}{
		{"no passages", func(r *Report) { r.Passages = 0 }},
		{"no documents", func(r *Report) { r.Corpora[0].Docs = 0 }},
		{"no unanswerable", func(r *Report) {
			r.Corpora[0].Graded = r.Corpora[0].Graded[:1]
			r.Corpora[0].Summary = Summarize(r.Corpora[0].Graded)
		}},
		{"no evidence", func(r *Report) { r.Corpora[0].Graded[0].Answer.Sources = nil }},
		{"identical answers", func(r *Report) {
			r.Corpora[0].Graded[1].Answer.Text, r.Corpora[0].Graded[1].Answer.Verdict = "one", "APPROVED"
		}},
		{"identical scores", func(r *Report) { r.Corpora[0].Graded[1].Answer.SNR = f64(0.9) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := good()
			tc.break_(r)
			if err := Sanity(r); err == nil {
				t.Fatal("a broken run passed the sanity check")
			}
		})
	}
}

// TestSummarizeCases: one behaviour per case, each from hand-made results.
func TestSummarizeCases(t *testing.T) {
	src := func(n int, doc string) []string {
		var s []string
		for i := 1; i < n; i++ {
			s = append(s, "man/other.1.txt:L1")
		}
		return append(s, "man/"+doc+".txt:L1")
	}
	type ans struct {
		doc     string // "" for an unanswerable question
		rank    int    // position of the right document among the sources (0: absent)
		fact    bool
		verdict string
		code    string
	}
	tests := []struct {
		name                  string
		in                    []ans
		hit1, hit5, fact      int
		approved, approvedOK  int
		notApproved, noEv, rj int
		precision, recall     float64
	}{
		{"rank five is a hit@5, six is not", []ans{{"ls.1", 5, false, "REJECTED", ""}, {"ls.1", 6, false, "REJECTED", ""}},
			0, 1, 0, 0, 0, 0, 0, 0, math.NaN(), 0},
		{"every answer right and approved", []ans{{"ls.1", 1, true, "APPROVED", ""}, {"cp.1", 1, true, "APPROVED", ""}},
			2, 2, 2, 2, 2, 0, 0, 0, 1, 1},
		{"an approved unanswerable question lowers precision", []ans{{"ls.1", 1, true, "APPROVED", ""}, {"", 0, false, "APPROVED", ""}},
			1, 1, 1, 2, 1, 0, 0, 0, 0.5, 1},
		{"a fact without approval is not recall", []ans{{"ls.1", 2, true, "QUARANTINED", ""}},
			0, 1, 1, 0, 0, 0, 0, 0, math.NaN(), 0},
		{"unanswerable verdicts are told apart", []ans{{"", 0, false, "REJECTED", "NO_EVIDENCE"}, {"", 0, false, "REJECTED", ""},
			{"", 0, false, "QUARANTINED", ""}, {"ls.1", 1, false, "APPROVED", ""}},
			1, 1, 0, 1, 0, 3, 1, 1, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var gs []Graded
			for i, a := range tc.in {
				q := mustQ(t, string(rune('a'+i)), a.doc, "the-fact")
				if a.doc == "" {
					q = mustQ(t, string(rune('a'+i)), "")
				}
				text := "nothing"
				if a.fact {
					text = "… the-fact …"
				}
				var sources []string
				if a.rank > 0 {
					sources = src(a.rank, a.doc)
				}
				gs = append(gs, Grade(KindMan, q, Answer{Sources: sources, Text: text, Verdict: a.verdict, ErrorCode: a.code}, Ranked{}))
			}
			s := Summarize(gs)
			if s.Hit1 != tc.hit1 || s.Hit5 != tc.hit5 || s.Fact != tc.fact || s.Approved != tc.approved || s.ApprovedFact != tc.approvedOK ||
				s.UnansNotApproved != tc.notApproved || s.UnansNoEvidence != tc.noEv || s.UnansRejected != tc.rj {
				t.Fatalf("got %+v", s)
			}
			same := func(a, b float64) bool { return math.IsNaN(a) && math.IsNaN(b) || math.Abs(a-b) < 1e-12 }
			if !same(s.Precision, tc.precision) || !same(s.Recall, tc.recall) {
				t.Fatalf("precision %v recall %v, want %v %v", s.Precision, s.Recall, tc.precision, tc.recall)
			}
		})
	}
}
