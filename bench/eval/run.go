package eval

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bizra/bizra/actors/core"
	"github.com/bizra/bizra/actors/query"
	"github.com/bizra/bizra/actors/receipt"
	"github.com/bizra/bizra/gateway"
	"github.com/bizra/bizra/internal/index"
	"github.com/bizra/bizra/supervision/node"
)

// DefaultBigPassages is the size of the latency lake (issue 16: 20,000 passages).
const DefaultBigPassages = 20_000

// indexWait bounds the first scan of a lake.
const indexWait = 60 * time.Second

// maxCopies bounds the replication of the corpus for the latency lake.
const maxCopies = 64

// Options configures Run. Zero values are documented per field.
type Options struct {
	// Dir holds the corpus lists and question files (go-packages.txt, man-pages.txt,
	// go.json, man.json); "" → testdata/eval.
	Dir string
	// Work is the parent of the throw-away data lakes and state folders; "" makes a
	// temporary folder that Run removes.
	Work string
	// Renderer renders the corpora (its RequireAll is what CI sets).
	Renderer Renderer
	// FTS runs the SQLite FTS5 baseline.
	FTS FTS
	// BigPassages is the passage count of the latency lake (the corpus replicated);
	// 0 → DefaultBigPassages, negative skips that measurement.
	BigPassages int
	// BigRounds is how many times every question is asked on the latency lake; 0 → 3.
	BigRounds int
	// QueryTimeout bounds one query; 0 → the request's timeout_ms default (30 s), as
	// the gateway bounds it.
	QueryTimeout time.Duration
	// Progress receives one line per phase; nil discards.
	Progress io.Writer
}

// Sets are the question files by corpus kind, in report order: the tuning corpus
// first, then the held-out one.
var Sets = []struct{ Kind, List, Questions string }{
	{KindGo, "go-packages.txt", "go.json"},
	{KindMan, "man-pages.txt", "man.json"},
}

// CorpusReport is one corpus's part of the report.
type CorpusReport struct {
	Kind     string        `json:"kind"`
	Role     string        `json:"role"`
	Docs     int           `json:"docs"`
	Bytes    int           `json:"bytes"`
	Absent   []string      `json:"absent"`
	Skipped  []string      `json:"skipped_questions"` // questions whose document is absent
	Render   time.Duration `json:"render_ns"`
	Summary  Summary       `json:"summary"`
	Graded   []Graded      `json:"questions"`
	Question *QuestionSet  `json:"-"`
}

// BigLake is the latency measurement on the replicated lake.
type BigLake struct {
	Copies   int           `json:"copies"`
	Rounds   int           `json:"rounds"`
	Passages int           `json:"passages"`
	Queries  int           `json:"queries"`
	P50      time.Duration `json:"p50_ns"`
	P99      time.Duration `json:"p99_ns"`
	Max      time.Duration `json:"max_ns"`
}

// Report is one run's figures.
type Report struct {
	Started  time.Time      `json:"started"`
	Took     time.Duration  `json:"took_ns"`
	Passages int            `json:"passages"` // the evaluation lake's passages
	Files    int            `json:"files"`
	Corpora  []CorpusReport `json:"corpora"`
	FTSParas int            `json:"fts5_paragraphs"`
	Big      *BigLake       `json:"big_lake,omitempty"`
}

// WriteJSON writes the report, every question's grades included.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func (o Options) progress(format string, args ...any) {
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, "eval: "+format+"\n", args...)
	}
}

// Run renders the corpora, asks every question through the runtime's query path on a
// node built by supervision/node over a throw-away lake, ranks the same questions with
// the FTS5 baseline, and grades both. An error means nothing meaningful was measured
// (ErrBroken and the others of errors.go); goals missed are figures, not errors.
func Run(ctx context.Context, o Options) (*Report, error) {
	rep := &Report{Started: time.Now().UTC()}
	if o.Dir == "" {
		o.Dir = filepath.Join("testdata", "eval")
	}
	if o.BigPassages == 0 {
		o.BigPassages = DefaultBigPassages
	}
	if o.BigRounds <= 0 {
		o.BigRounds = 3
	}
	if o.QueryTimeout <= 0 {
		o.QueryTimeout = time.Duration(query.DefaultTimeoutMs) * time.Millisecond
	}
	work := o.Work
	if work == "" {
		d, err := os.MkdirTemp("", "bizra-eval-")
		if err != nil {
			return nil, fmt.Errorf("eval: %w", err)
		}
		defer os.RemoveAll(d)
		work = d
	}

	var corpora []*Corpus
	for _, set := range Sets {
		ids, err := ReadList(filepath.Join(o.Dir, set.List))
		if err != nil {
			return nil, err
		}
		qs, err := LoadQuestions(filepath.Join(o.Dir, set.Questions), ids)
		if err != nil {
			return nil, err
		}
		if qs.Corpus != set.Kind {
			return nil, fmt.Errorf("%w: %s is about corpus %q, not %q", ErrQuestions, set.Questions, qs.Corpus, set.Kind)
		}
		c, err := o.Renderer.Render(ctx, set.Kind, ids)
		if err != nil {
			return nil, err
		}
		o.progress("%s corpus: %d documents (%d KB) rendered in %s, %d absent", set.Kind, len(c.Docs), c.Bytes()>>10,
			c.Took.Round(time.Millisecond), len(c.Absent))
		cr := CorpusReport{Kind: set.Kind, Role: qs.Role, Docs: len(c.Docs), Bytes: c.Bytes(), Absent: c.Absent,
			Render: c.Took, Question: qs}
		var keep []Question
		var unfound []string
		for _, q := range qs.Questions {
			if q.Unanswerable {
				keep = append(keep, q)
				continue
			}
			d, ok := c.ByID(q.Doc)
			if !ok {
				cr.Skipped = append(cr.Skipped, q.ID)
				continue
			}
			if !q.Contains(d.Text) {
				unfound = append(unfound, q.ID)
			}
			keep = append(keep, q)
		}
		if len(unfound) > 0 {
			return nil, fmt.Errorf("%w: %s: the fact of %s is not in its document as rendered on this machine", ErrQuestions,
				set.Questions, strings.Join(unfound, ", "))
		}
		qs.Questions = keep
		corpora = append(corpora, c)
		rep.Corpora = append(rep.Corpora, cr)
	}

	// The evaluation lake: both corpora, one node.
	lake := filepath.Join(work, "lake")
	if err := WriteLake(lake, 1, corpora...); err != nil {
		return nil, err
	}
	answers, stats, err := ask(ctx, o, filepath.Join(work, "state"), lake, rep.Corpora, 1)
	if err != nil {
		return nil, err
	}
	rep.Passages, rep.Files = stats.Passages, stats.Files
	o.progress("bizra: %d questions asked over %d passages of %d files", countQuestions(rep.Corpora), stats.Passages, stats.Files)

	// The baseline over the same documents.
	var paras []Paragraph
	for _, c := range corpora {
		for _, d := range c.Docs {
			paras = append(paras, Paragraphs(c.Kind+"/"+d.ID, d.Text)...)
		}
	}
	rep.FTSParas = len(paras)
	var texts []string
	for _, cr := range rep.Corpora {
		for _, q := range cr.Question.Questions {
			texts = append(texts, q.Question)
		}
	}
	ranked, err := o.FTS.Rank(ctx, paras, texts)
	if err != nil {
		return nil, err
	}
	o.progress("fts5: %d questions ranked over %d paragraphs", len(texts), len(paras))

	i := 0
	for ci := range rep.Corpora {
		cr := &rep.Corpora[ci]
		for qi := range cr.Question.Questions {
			q := &cr.Question.Questions[qi]
			cr.Graded = append(cr.Graded, Grade(cr.Kind, q, answers[i], ranked[i]))
			i++
		}
		cr.Summary = Summarize(cr.Graded)
	}
	if err := Sanity(rep); err != nil {
		return rep, err
	}

	if o.BigPassages > 0 {
		big, err := bigLake(ctx, o, work, stats.Passages, corpora, rep.Corpora)
		if err != nil {
			return rep, err
		}
		rep.Big = big
		o.progress("latency lake: %d passages (%d copies), p50 %s", big.Passages, big.Copies, big.P50)
	}
	rep.Took = time.Since(rep.Started)
	return rep, nil
}

func countQuestions(crs []CorpusReport) int {
	n := 0
	for _, cr := range crs {
		n += len(cr.Question.Questions)
	}
	return n
}

// bigLake replicates the corpora until the lake holds at least o.BigPassages passages
// and times one pass of every question over it.
func bigLake(ctx context.Context, o Options, work string, base int, corpora []*Corpus, crs []CorpusReport) (*BigLake, error) {
	if base <= 0 {
		return nil, fmt.Errorf("%w: the evaluation lake has no passages", ErrBroken)
	}
	copies := (o.BigPassages + base - 1) / base
	if copies > maxCopies {
		return nil, fmt.Errorf("%w: %d copies of the corpus needed for %d passages (limit %d)", ErrBroken, copies, o.BigPassages, maxCopies)
	}
	lake := filepath.Join(work, "big-lake")
	if err := WriteLake(lake, copies, corpora...); err != nil {
		return nil, err
	}
	answers, stats, err := ask(ctx, o, filepath.Join(work, "big-state"), lake, crs, o.BigRounds)
	if err != nil {
		return nil, err
	}
	big := &BigLake{Copies: copies, Rounds: o.BigRounds, Passages: stats.Passages, Queries: len(answers)}
	lat := make([]time.Duration, len(answers))
	for i, a := range answers {
		lat[i] = a.Latency
	}
	big.P50, big.P99, big.Max = Percentile(lat, 0.5), Percentile(lat, 0.99), Percentile(lat, 1)
	return big, nil
}

// Node is a bizra node over one data lake, as the harness uses it: built by
// supervision/node with the embedded engine only (no model, no network), the result
// cache off, no saved index, no watcher and no API or bridge listener.
type Node struct {
	n     *node.Node
	stats index.Stats
}

// StartNode starts a Node over lake with its state folder in state and waits for the
// first index, so that questions are timed on a served index.
func StartNode(ctx context.Context, state, lake string) (*Node, error) {
	secret, err := receipt.GenerateSecret()
	if err != nil {
		return nil, fmt.Errorf("eval: receipt key: %w", err)
	}
	n, err := node.New(node.Options{Runtime: core.Options{Version: "eval", StateDir: state, DataLake: lake,
		ReceiptSecret: secret, CacheEntries: -1, Index: core.IndexOptions{NoCache: true, NoWatch: true}}})
	if err != nil {
		return nil, fmt.Errorf("eval: node: %w", err)
	}
	en := &Node{n: n}
	if err := n.Start(ctx); err != nil {
		n.Close()
		return nil, fmt.Errorf("eval: node: %w", err)
	}
	wctx, cancel := context.WithTimeout(ctx, indexWait)
	err = n.Runtime.WaitIndex(wctx)
	cancel()
	if err == nil {
		en.stats, err = indexStats(n.Runtime.Status(ctx)["index"])
	}
	if err != nil {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = en.Shutdown(sctx)
		return nil, fmt.Errorf("eval: the index of %s: %w", lake, err)
	}
	return en, nil
}

// Stats are the served index's statistics (files, passages).
func (en *Node) Stats() index.Stats { return en.stats }

// Ask asks one question through Runtime.Query, the call POST /v1/query makes, with
// the request the API decodes from {"query": question}; timeout bounds it. A query the
// runtime refuses is an Answer with Verdict "ERROR"; the error is ctx's or the API's
// refusal of the question.
func (en *Node) Ask(ctx context.Context, question string, timeout time.Duration) (Answer, error) {
	return askOne(ctx, en.n.Runtime, question, timeout)
}

// Shutdown stops the node. Idempotent.
func (en *Node) Shutdown(ctx context.Context) error { return en.n.Shutdown(ctx) }

// ask starts a Node over lake and asks every question of crs in order, rounds times.
func ask(ctx context.Context, o Options, state, lake string, crs []CorpusReport, rounds int) ([]Answer, index.Stats, error) {
	en, err := StartNode(ctx, state, lake)
	if err != nil {
		return nil, index.Stats{}, err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = en.Shutdown(sctx)
	}()
	var out []Answer
	for range rounds {
		for _, cr := range crs {
			for _, q := range cr.Question.Questions {
				a, err := en.Ask(ctx, q.Question, o.QueryTimeout)
				if err != nil {
					return nil, en.stats, fmt.Errorf("eval: %s: %w", q.ID, err)
				}
				out = append(out, a)
			}
		}
	}
	return out, en.stats, nil
}

// indexStats reads the index statistics out of /v1/status's "index" value, through
// its JSON form (the status document is what operators read).
func indexStats(v any) (index.Stats, error) {
	var st index.Stats
	b, err := json.Marshal(v)
	if err == nil {
		err = json.Unmarshal(b, &st)
	}
	if err != nil {
		return st, fmt.Errorf("%w: /v1/status index: %w", ErrBroken, err)
	}
	return st, nil
}

func askOne(ctx context.Context, rt *core.Runtime, question string, timeout time.Duration) (Answer, error) {
	body, err := json.Marshal(map[string]string{"query": question})
	if err != nil {
		return Answer{}, err
	}
	req, err := gateway.DecodeQuery(body)
	if err != nil {
		return Answer{}, fmt.Errorf("%w: the API refuses the question: %w", ErrQuestions, err)
	}
	req.Method, req.UserID = "POST /v1/query", "eval"
	qctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t0 := time.Now()
	res, err := node.GatewayCore{RT: rt}.Query(qctx, req) // what the gateway's POST /v1/query calls
	lat := time.Since(t0)
	if err != nil {
		if ctx.Err() != nil {
			return Answer{}, ctx.Err()
		}
		// A refused query is an answer like any other (not APPROVED, no fact).
		return Answer{Verdict: verdictError, ErrorCode: verdictError, Err: err.Error(), Latency: lat}, nil
	}
	a := Answer{Text: res.Response, Verdict: res.Verdict, Success: res.Success, SNR: res.SNRScore,
		Ihsan: res.IhsanScore, Components: res.Detail.Components, ErrorCode: res.Detail.ErrorCode, Latency: lat}
	for _, e := range res.Evidence {
		a.Sources = append(a.Sources, e.Source)
	}
	return a, nil
}

// Sanity fails a run that measured nothing: a corpus without questions or documents,
// an index without passages, no evidence for any answerable question, every answer
// identical, or SNR and Ihsan each identical over every scored answer.
func Sanity(r *Report) error {
	var problems []string
	if r.Passages == 0 {
		problems = append(problems, "the evaluation lake indexed no passages")
	}
	var all []Graded
	for _, cr := range r.Corpora {
		s := cr.Summary
		if cr.Docs == 0 {
			problems = append(problems, cr.Kind+": no documents")
		}
		if s.Answerable == 0 || s.Unanswerable == 0 {
			problems = append(problems, fmt.Sprintf("%s: %d answerable and %d unanswerable questions asked", cr.Kind, s.Answerable, s.Unanswerable))
		}
		withEvidence := 0
		for _, g := range cr.Graded {
			if g.Question.Answerable() && len(g.Answer.Sources) > 0 {
				withEvidence++
			}
		}
		if s.Answerable > 0 && withEvidence == 0 {
			problems = append(problems, cr.Kind+": no answerable question got any evidence")
		}
		all = append(all, cr.Graded...)
	}
	if len(all) >= 2 {
		same := true
		for _, g := range all[1:] {
			if g.Answer.Text != all[0].Answer.Text || g.Answer.Verdict != all[0].Answer.Verdict {
				same = false
				break
			}
		}
		if same {
			problems = append(problems, fmt.Sprintf("all %d answers are identical", len(all)))
		}
		var snr, ihsan []float64
		for _, g := range all {
			if g.Answer.SNR != nil {
				snr = append(snr, *g.Answer.SNR)
			}
			if g.Answer.Ihsan != nil {
				ihsan = append(ihsan, *g.Answer.Ihsan)
			}
		}
		if len(snr) >= 2 && len(ihsan) >= 2 && SpreadOf("snr", snr).Constant && SpreadOf("ihsan", ihsan).Constant {
			problems = append(problems, fmt.Sprintf("SNR and Ihsan are each identical over all %d scored answers", len(snr)))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrBroken, strings.Join(problems, "; "))
	}
	return nil
}
