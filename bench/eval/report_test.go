package eval

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestGoals(t *testing.T) {
	held := func(s Summary) CorpusReport { return CorpusReport{Kind: KindMan, Role: RoleHeldOut, Summary: s} }
	tests := []struct {
		name string
		s    Summary
		big  *BigLake
		want []string // statuses in order: hit@1, fact, precision, unanswerable, latency
	}{
		{"all met", Summary{Answerable: 10, Unanswerable: 5, Hit1: 8, FTSHit1: 8, Fact: 7, Precision: 0.9, UnansNotApproved: 4},
			&BigLake{Passages: 20000, P50: 9 * time.Millisecond}, []string{"MET", "MET", "MET", "MET", "MET"}},
		{"all missed", Summary{Answerable: 10, Unanswerable: 5, Hit1: 7, FTSHit1: 8, Fact: 6, Precision: 0.89, UnansNotApproved: 3},
			&BigLake{Passages: 20000, P50: 10 * time.Millisecond}, []string{"MISSED", "MISSED", "MISSED", "MISSED", "MISSED"}},
		{"nothing approved, no latency lake", Summary{Answerable: 10, Unanswerable: 5, Precision: math.NaN(), UnansNotApproved: 5},
			nil, []string{"MET", "MISSED", "MISSED", "MET", "NOT MEASURED"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &Report{Corpora: []CorpusReport{{Kind: KindGo, Role: RoleTuning}, held(tc.s)}, Big: tc.big}
			gs := r.Goals()
			if len(gs) != len(tc.want) {
				t.Fatalf("%d goals: %+v", len(gs), gs)
			}
			for i, g := range gs {
				if g.Status != tc.want[i] {
					t.Errorf("%s: %s (measured %s), want %s", g.Name, g.Status, g.Measured, tc.want[i])
				}
			}
		})
	}
}

func TestMarkdownNamesRolesAndConstants(t *testing.T) {
	q := mustQ(t, "a", "ls.1", "-l")
	u := mustQ(t, "u", "")
	gs := []Graded{
		Grade(KindMan, q, Answer{Sources: []string{"man/ls.1.txt"}, Text: "-l", Verdict: "APPROVED", SNR: f64(0.9), Ihsan: f64(0.8),
			Components: map[string]float64{"trust": 1}}, Ranked{Docs: []string{"man/ls.1"}}),
		Grade(KindMan, u, Answer{Verdict: "REJECTED", ErrorCode: "NO_EVIDENCE"}, Ranked{}),
	}
	r := &Report{Passages: 3, Files: 1, Corpora: []CorpusReport{{Kind: KindMan, Role: RoleHeldOut, Docs: 1, Graded: gs, Summary: Summarize(gs)}}}
	md := r.Markdown("make eval")
	for _, want := range []string{"**held-out**", "| right document first among the evidence (hit@1) | 1 / 1 (1.00) | 1 / 1 (1.00) |",
		"| components.trust | 1 | 1.000 | 1.000 | 1.000 | 1.000 | 1.000 | **constant** |", "NO_EVIDENCE 1", "NOT MEASURED"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if pq := r.PerQuestion(); !strings.Contains(pq, "| a | q a | ls.1 | 1 | 1 | true | APPROVED | 0.900 | man/ls.1.txt |") {
		t.Errorf("per-question table:\n%s", pq)
	}
}

// FuzzParseQuestions: any bytes either parse into a checked set or fail with
// ErrQuestions; nothing panics.
func FuzzParseQuestions(f *testing.F) {
	f.Add([]byte(`{"corpus":"man","role":"tuning","questions":[{"id":"a","question":"q","doc":"tar.1","facts":["re:x+"]},{"id":"u","question":"q?","unanswerable":true}]}`))
	f.Add([]byte(`{"corpus":"go","role":"held-out","questions":[]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		qs, err := ParseQuestions(b, []string{"tar.1", "strings"})
		if err != nil {
			return
		}
		for i := range qs.Questions {
			q := &qs.Questions[i]
			if q.Answerable() && len(q.matchers) == 0 {
				t.Fatalf("answerable question %q without a fact", q.ID)
			}
			_ = q.Contains(string(b))
		}
	})
}
