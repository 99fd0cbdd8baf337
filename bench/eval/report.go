package eval

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Goals of issue 16, judged on the held-out corpus.
const (
	GoalFactRate      = 0.70
	GoalPrecision     = 0.90
	GoalUnanswerable  = 0.80
	GoalBigP50        = 10 * time.Millisecond
	goalMet, goalMiss = "MET", "MISSED"
)

func frac(n, d int) string {
	if d == 0 {
		return "—"
	}
	return fmt.Sprintf("%d / %d (%.2f)", n, d, float64(n)/float64(d))
}

func ratio(f float64) string {
	if math.IsNaN(f) {
		return "—"
	}
	return fmt.Sprintf("%.2f", f)
}

// Dur formats a latency for the tables.
func Dur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%d µs", d.Microseconds())
	}
}

// Table is the side-by-side table of one corpus.
func (cr *CorpusReport) Table() string {
	s := cr.Summary
	var b strings.Builder
	fmt.Fprintf(&b, "| %s corpus (%s): %d documents, %d answerable + %d unanswerable questions | bizra | SQLite FTS5 BM25 (paragraphs) |\n",
		cr.Kind, cr.Role, cr.Docs, s.Answerable, s.Unanswerable)
	b.WriteString("|---|---|---|\n")
	fmt.Fprintf(&b, "| right document first among the evidence (hit@1) | %s | %s |\n", frac(s.Hit1, s.Answerable), frac(s.FTSHit1, s.Answerable))
	fmt.Fprintf(&b, "| right document in the first five (hit@5) | %s | %s |\n", frac(s.Hit5, s.Answerable), frac(s.FTSHit5, s.Answerable))
	fmt.Fprintf(&b, "| the answer contains the fact | %s | top paragraph: %s |\n", frac(s.Fact, s.Answerable), frac(s.FTSFact, s.Answerable))
	fmt.Fprintf(&b, "| answers without the fact that were APPROVED | %d of %d | — |\n", s.ApprovedNoFact, s.NoFact)
	fmt.Fprintf(&b, "| APPROVED precision (APPROVED answers that contain the fact) | %d of %d (%s) | — |\n", s.ApprovedFact, s.Approved, ratio(s.Precision))
	fmt.Fprintf(&b, "| APPROVED recall (answerable questions answered with the fact and APPROVED) | %d of %d (%s) | — |\n", s.ApprovedFact, s.Answerable, ratio(s.Recall))
	fmt.Fprintf(&b, "| unanswerable questions not APPROVED | %s: NO_EVIDENCE %d, REJECTED %d, other %d | — |\n",
		frac(s.UnansNotApproved, s.Unanswerable), s.UnansNoEvidence, s.UnansRejected, s.UnansNotApproved-s.UnansNoEvidence-s.UnansRejected)
	fmt.Fprintf(&b, "| query latency p50 / p99 (%d queries, in process) | %s / %s | — |\n", s.Questions, Dur(s.P50), Dur(s.P99))
	if s.Errors > 0 {
		fmt.Fprintf(&b, "| queries refused with an error (counted as not APPROVED, no fact) | %d of %d | — |\n", s.Errors, s.Questions)
	}
	return b.String()
}

// SpreadTable lists every score component's spread over the corpus's answers.
func (cr *CorpusReport) SpreadTable() string {
	var b strings.Builder
	b.WriteString("| component | n | min | p25 | median | p75 | max | |\n|---|---|---|---|---|---|---|---|\n")
	for _, sp := range cr.Summary.Spreads {
		note := ""
		switch {
		case sp.Constant:
			note = "**constant**"
		case sp.Max-sp.Min < 0.01:
			note = "spread < 0.01"
		}
		fmt.Fprintf(&b, "| %s | %d | %.3f | %.3f | %.3f | %.3f | %.3f | %s |\n", sp.Name, sp.N, sp.Min, sp.P25, sp.Median, sp.P75, sp.Max, note)
	}
	return b.String()
}

// Goal is one of issue 16's goals with its status.
type Goal struct {
	Name, Target, Measured, Status string
}

// Goals judges issue 16's goals on the held-out corpus (and the latency lake).
func (r *Report) Goals() []Goal {
	var out []Goal
	status := func(ok bool) string {
		if ok {
			return goalMet
		}
		return goalMiss
	}
	for _, cr := range r.Corpora {
		if cr.Role != RoleHeldOut {
			continue
		}
		s := cr.Summary
		out = append(out,
			Goal{"hit@1 at least FTS5's", fmt.Sprintf("≥ %d", s.FTSHit1), fmt.Sprintf("%d", s.Hit1), status(s.Hit1 >= s.FTSHit1)},
			Goal{"the fact in the answer", "≥ 70 %", pct(s.Fact, s.Answerable), status(s.Answerable > 0 && float64(s.Fact) >= GoalFactRate*float64(s.Answerable))},
			Goal{"APPROVED precision", "≥ 0.90", ratio(s.Precision), status(!math.IsNaN(s.Precision) && s.Precision >= GoalPrecision)},
			Goal{"unanswerable not APPROVED", "≥ 80 %", pct(s.UnansNotApproved, s.Unanswerable),
				status(s.Unanswerable > 0 && float64(s.UnansNotApproved) >= GoalUnanswerable*float64(s.Unanswerable))},
		)
	}
	if r.Big != nil {
		out = append(out, Goal{fmt.Sprintf("query p50 on a %d-passage lake", r.Big.Passages), "< 10 ms", Dur(r.Big.P50), status(r.Big.P50 < GoalBigP50)})
	} else {
		out = append(out, Goal{"query p50 on a 20,000-passage lake", "< 10 ms", "not measured", "NOT MEASURED"})
	}
	return out
}

func pct(n, d int) string {
	if d == 0 {
		return "—"
	}
	return fmt.Sprintf("%d / %d (%.0f %%)", n, d, 100*float64(n)/float64(d))
}

// Markdown is the printed report.
func (r *Report) Markdown(command string) string {
	var b strings.Builder
	b.WriteString("## Answer quality (`make eval`)\n\n")
	fmt.Fprintf(&b, "Command: `%s`, %s, took %.0f s. Corpora generated on this machine: ", command, r.Started.Format(time.RFC3339), r.Took.Seconds())
	var parts []string
	for _, cr := range r.Corpora {
		what := "`go doc -all` of Go standard library packages"
		if cr.Kind == KindMan {
			what = "Debian man pages rendered by `man`"
		}
		parts = append(parts, fmt.Sprintf("%s (%d, %d KB, **%s**)", what, cr.Docs, cr.Bytes>>10, cr.Role))
	}
	b.WriteString(strings.Join(parts, " and "))
	fmt.Fprintf(&b, ", one data lake of %d files and %d passages, queried in process through the runtime's query path "+
		"(the call `POST /v1/query` makes: embedded engine, no model, no cache). The baseline ranks %d blank-line paragraphs "+
		"of the same documents with SQLite FTS5 `bm25()`. Tune on the tuning corpus; the goals are judged on the held-out one.\n\n",
		r.Files, r.Passages, r.FTSParas)
	for i := range r.Corpora {
		cr := &r.Corpora[i]
		b.WriteString(cr.Table())
		b.WriteString("\n")
		if len(cr.Absent) > 0 {
			fmt.Fprintf(&b, "Absent on this machine (%d): %s; questions skipped: %s.\n\n", len(cr.Absent), strings.Join(cr.Absent, "; "), strings.Join(cr.Skipped, ", "))
		}
	}
	if r.Big != nil {
		fmt.Fprintf(&b, "Latency lake: the corpora ×%d, %d passages; every question %d times, %d queries one after another: p50 %s, p99 %s, max %s.\n\n",
			r.Big.Copies, r.Big.Passages, r.Big.Rounds, r.Big.Queries, Dur(r.Big.P50), Dur(r.Big.P99), Dur(r.Big.Max))
	}
	b.WriteString("### Goals (issue 16, held-out corpus)\n\n| goal | target | measured | |\n|---|---|---|---|\n")
	for _, g := range r.Goals() {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", g.Name, g.Target, g.Measured, g.Status)
	}
	b.WriteString("\n### Score components over each corpus's answers (a constant one tells nothing)\n\n")
	for i := range r.Corpora {
		cr := &r.Corpora[i]
		fmt.Fprintf(&b, "%s corpus (%s):\n\n", cr.Kind, cr.Role)
		b.WriteString(cr.SpreadTable())
		b.WriteString("\n")
	}
	return b.String()
}

// PerQuestion lists every question with both engines' grades (rank of the right
// document, fact in the answer, verdict, SNR, first evidence source): what to read
// when tuning.
func (r *Report) PerQuestion() string {
	var b strings.Builder
	for _, cr := range r.Corpora {
		fmt.Fprintf(&b, "## %s (%s)\n\n| id | question | doc | rank | fts5 rank | fact | verdict | snr | first source |\n|---|---|---|---|---|---|---|---|---|\n", cr.Kind, cr.Role)
		for _, g := range cr.Graded {
			snr := "—"
			if g.Answer.SNR != nil {
				snr = fmt.Sprintf("%.3f", *g.Answer.SNR)
			}
			first := ""
			if len(g.Answer.Sources) > 0 {
				first = g.Answer.Sources[0]
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %d | %d | %v | %s | %s | %s |\n", g.ID, strings.ReplaceAll(g.Text, "|", "\\|"), g.Doc,
				g.Rank, g.FTSRank, g.Fact, g.Answer.Verdict, snr, first)
		}
		b.WriteString("\n")
	}
	return b.String()
}
