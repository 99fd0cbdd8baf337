package query

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/bizra/bizra/actors/cache"
	"github.com/bizra/bizra/actors/inference"
	"github.com/bizra/bizra/actors/ledger"
	"github.com/bizra/bizra/internal/catalog"
	"github.com/bizra/bizra/internal/index"
	"github.com/bizra/bizra/internal/reasoning"
	"github.com/bizra/bizra/internal/scoring"
	"github.com/bizra/bizra/internal/tracing"
)

// Run asks a query worker to run the pipeline for one admitted cache miss. The reply,
// to the sender, is *Done.
type Run struct {
	Request          Request
	QueryID          string
	CacheKey         cache.Key
	UseCache         bool
	StartUnixNano    int64
	DeadlineUnixNano int64
	// Ticket is the run's place in the engine's queue-depth count (Load); 0 is none.
	Ticket uint64
	// Span is the query's span: the worker's stages are its children (the zero Span
	// when tracing is off).
	Span tracing.Span
	// Trace is sent to the model backends as traceparent: Span's, or the client's
	// when tracing is off (zero: none).
	Trace tracing.Parent
}

// Done is a worker's reply: a completed result, or the error that kept the pipeline
// from producing one. The error is a value (a catalog sentinel, wrapped with context),
// never a code string to be matched back to its sentinel: the edges render it with
// catalog.Lookup, so its internal text never reaches a client.
type Done struct {
	Result     Result
	Completion Completion
	Failure    error
}

// Err returns the failure of a Done (nil for a result).
func (d *Done) Err() error { return d.Failure }

// Searcher is the data-lake index the workers read (internal/index.Index).
type Searcher interface {
	Search(q string, k int) []index.Hit
}

// WorkerOptions configures the query workers.
type WorkerOptions struct {
	// Logger; nil discards.
	Logger *slog.Logger
	// Index returns the current data-lake index. Required.
	Index func() Searcher
	// Inference is the inference service actor (actors/inference). Required.
	Inference *actor.PID
	// ModelDecomposes asks the inference service to decompose the query before
	// reasoning (true when an external model is configured).
	ModelDecomposes bool
	// Ledger is the experience-ledger actor; nil commits no episodes.
	Ledger *actor.PID
	// Artifacts keeps the graph artifacts; nil keeps none.
	Artifacts *reasoning.ArtifactStore
	// Policy is the scoring policy (internal/scoring).
	Policy scoring.Policy
	// Safety counts deny-pattern hits in answers for the Ihsan safety term.
	Safety *SafetyPolicy
	// Recorder counts reasoning runs; nil records nothing.
	Recorder *reasoning.Recorder
	// Branching is the graph's sub-question limit; 0 means 3.
	Branching int
	// TopK is the passages retrieved per search; 0 means 5.
	TopK int
	// EnforceIhsan withholds REJECTED answers (success:false).
	EnforceIhsan bool
	// Load counts started runs for the queue-depth gauge; nil counts nothing.
	Load *Load
	// Pool runs reasoning and retrieval off the worker's Receive, which only routes
	// messages; nil runs them inline (tests of one worker).
	Pool *Pool
}

// WorkerProps returns the props of one query worker.
func WorkerProps(opts WorkerOptions) *actor.Props {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return actor.PropsFromProducer(func() actor.Actor {
		return &worker{opts: opts, jobs: map[string]*job{}}
	})
}

// job is one query a worker holds between its stages.
type job struct {
	seq      uint64
	sender   *actor.PID
	run      *Run
	start    time.Time
	deadline time.Time
	actions  []ledger.Action

	subQuestions []string
	decomposeDur time.Duration   // time waiting on the model's decomposition
	decomposeUse inference.Usage // what the decomposition call sent and received upstream
	graph        *reasoning.Graph
	outcome      reasoning.Outcome
	reasoned     bool
	evidence     []Evidence
	weights      map[string]float64 // idf of the query's content terms, from the index
	answer       inference.Answer
	result       Result
	completion   Completion
	// stage is the span of the stage in progress (ended by the stage, or failed by
	// failErr).
	stage tracing.Span
}

type worker struct {
	opts WorkerOptions
	jobs map[string]*job
	seq  uint64 // numbers the jobs
}

func (w *worker) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *Run:
		w.begin(ctx, m)
	case *reasoned:
		if j := w.jobs[m.qid]; j != nil && j.seq == m.seq {
			w.reasoned(ctx, j, m)
		}
	case *actor.Restarting:
		// The worker crashed: answer every query it held, so no caller waits for its
		// deadline.
		for id, j := range w.jobs {
			ctx.Send(j.sender, &Done{Failure: ErrWorkerRestarted})
			delete(w.jobs, id)
		}
	case *actor.Stopping:
		for id, j := range w.jobs {
			ctx.Send(j.sender, &Done{Failure: ErrStopped})
			delete(w.jobs, id)
		}
	}
}

func (w *worker) begin(ctx actor.Context, m *Run) {
	if w.opts.Load != nil && m.Ticket != 0 {
		w.opts.Load.begin(m.Ticket)
	}
	w.seq++
	j := &job{seq: w.seq, sender: ctx.Sender(), run: m, start: time.Unix(0, m.StartUnixNano), deadline: time.Unix(0, m.DeadlineUnixNano)}
	if j.sender == nil {
		return
	}
	w.jobs[m.QueryID] = j
	j.actions = append(j.actions, ledger.Action{Type: "gate", Description: "schema: passed", Success: true},
		ledger.Action{Type: "gate", Description: "safety: passed", Success: true})
	if w.opts.ModelDecomposes && m.Request.RequireReasoning {
		remaining := time.Until(j.deadline)
		if remaining <= 0 {
			w.fail(ctx, j, ErrTimeout)
			return
		}
		// Decomposition is an optional refinement: it may use at most a third of the
		// query's budget, after which clause splitting takes over.
		budget := min(remaining/3, 10*time.Second)
		t0 := time.Now()
		j.stage = m.Span.Child("decompose")
		f := ctx.RequestFuture(w.opts.Inference, &inference.DecomposeAsk{Query: m.Request.Query,
			Max: w.branching(), Deadline: t0.Add(budget), TraceParent: traceFor(j.stage, m.Trace)}, budget)
		ctx.ReenterAfter(f, func(res any, err error) {
			if w.jobs[m.QueryID] != j {
				return // answered already (restart or timeout)
			}
			d, ok := res.(*inference.Decomposed)
			okay := err == nil && ok && d.Err == nil && len(d.SubQuestions) > 0
			if ok {
				j.decomposeUse = d.Usage
			}
			desc := "decompose: model unavailable, clause splitting"
			if okay {
				j.subQuestions = d.SubQuestions
				desc = "decompose: " + d.Backend
			} else {
				j.stage.SetString("fallback", "clause splitting")
			}
			j.stage.End()
			j.decomposeDur = time.Since(t0)
			j.actions = append(j.actions, ledger.Action{Type: "decompose", Description: desc, Success: okay,
				DurationUS: uint64(j.decomposeDur.Microseconds())})
			w.reason(ctx, j)
		})
		return
	}
	w.reason(ctx, j)
}

func (w *worker) branching() int {
	if w.opts.Branching > 0 {
		return w.opts.Branching
	}
	return reasoning.DefaultBranching
}

func (w *worker) topK() int {
	if w.opts.TopK > 0 {
		return w.opts.TopK
	}
	return reasoning.DefaultTopK
}

// traceFor is the traceparent a stage sends to the backends: its own span's when
// tracing records, else the client's (or none).
func traceFor(stage tracing.Span, client tracing.Parent) tracing.Parent {
	if stage.Recording() {
		return stage.Parent()
	}
	return client
}

// staticDecomposer hands Run the sub-questions a model produced before reasoning
// started, so Run itself does no I/O inside Receive.
type staticDecomposer []string

func (s staticDecomposer) Decompose(_ context.Context, _ string, max int) ([]string, error) {
	if len(s) > max {
		return s[:max], nil
	}
	return s, nil
}

// reasoned carries the pool's result of one job's reasoning or retrieval back to the
// worker that holds the job.
type reasoned struct {
	qid      string
	seq      uint64 // the job's number in its worker: a result for a job answered already is dropped
	graph    *reasoning.Graph
	outcome  reasoning.Outcome
	evidence []Evidence
	weights  map[string]float64
	action   ledger.Action
	err      error
}

// reason hands the graph of thought (or plain retrieval when reasoning is off) to the
// pool: it is CPU work bounded by max_depth and the graph's node limit, and done inside
// Receive it would stall every query queued behind it. The result comes back as a
// *reasoned message.
func (w *worker) reason(ctx actor.Context, j *job) {
	task := w.reasonTask(j, ctx.Self(), ctx.ActorSystem().Root)
	if w.opts.Pool == nil {
		task(context.Background())
		return
	}
	if !w.opts.Pool.Submit(task) {
		if w.opts.Pool.Stopped() {
			w.fail(ctx, j, ErrStopped)
			return
		}
		w.fail(ctx, j, ErrOverloaded)
	}
}

// reasonTask builds the pool task of j; it reads nothing the worker mutates.
func (w *worker) reasonTask(j *job, self *actor.PID, root *actor.RootContext) func(context.Context) {
	req := j.run.Request
	subs := j.subQuestions
	deadline := j.deadline
	opts := reasoning.RunOptions{MaxDepth: req.MaxDepth, Branching: w.branching(), TopK: w.topK(), Recorder: w.opts.Recorder}
	idx := w.opts.Index()
	topK := w.topK()
	stage := "retrieval"
	if req.RequireReasoning {
		stage = "reasoning"
	}
	span := j.run.Span
	return func(pctx context.Context) {
		m := &reasoned{qid: j.run.QueryID, seq: j.seq}
		sp := span.Child(stage)
		defer func() {
			if v := recover(); v != nil {
				m.err = fmt.Errorf("query: reasoning panicked: %v", v)
			}
			sp.SetInt("evidence", len(m.evidence))
			sp.Fail(m.err)
			sp.End()
			root.Send(self, m)
		}()
		t0 := time.Now()
		m.weights = termWeights(idx, req.Query)
		if req.RequireReasoning {
			if len(subs) > 0 {
				opts.Decomposer = staticDecomposer(subs)
			}
			rctx, cancel := context.WithDeadline(pctx, deadline)
			defer cancel()
			g, out, err := reasoning.Run(rctx, idx, req.Query, opts)
			if err != nil {
				if errors.Is(err, context.DeadlineExceeded) || time.Now().After(deadline) {
					err = ErrTimeout
				} else if pctx.Err() != nil {
					err = ErrStopped
				}
				m.err = err
				return
			}
			m.graph, m.outcome, m.evidence = g, out, out.Evidence
			m.action = ledger.Action{Type: "reasoning",
				Description: fmt.Sprintf("graph of thought: depth %d of %d, %d nodes", out.Depth, out.MaxDepth, out.Nodes),
				Success:     true, DurationUS: uint64(time.Since(t0).Microseconds())}
			return
		}
		if len(index.ContentTerms(req.Query)) == 0 {
			m.err = reasoning.ErrNoContentTerms
			return
		}
		for _, h := range idx.Search(req.Query, topK) {
			m.evidence = append(m.evidence, Evidence{Source: h.Source, Excerpt: h.Text, Score: h.Norm})
		}
		m.action = ledger.Action{Type: "retrieval",
			Description: fmt.Sprintf("retrieval: %d passages", len(m.evidence)), Success: true,
			DurationUS: uint64(time.Since(t0).Microseconds())}
	}
}

// reasoned continues a job with the pool's result.
func (w *worker) reasoned(ctx actor.Context, j *job, m *reasoned) {
	if m.err != nil {
		w.failErr(ctx, j, m.err)
		return
	}
	if j.run.Request.RequireReasoning {
		j.graph, j.outcome, j.reasoned = m.graph, m.outcome, true
	}
	j.evidence, j.weights = m.evidence, m.weights
	j.actions = append(j.actions, m.action)
	w.infer(ctx, j)
}

// FailureReply is the reply a supervisor sends at once to the engine waiting on a Run
// lost in a crash of its worker (supervision.Options.FailureReply); nil for any other
// message.
func FailureReply(msg any) any {
	if _, ok := msg.(*Run); ok {
		return &Done{Failure: ErrWorkerRestarted}
	}
	return nil
}

// citedFirst orders evidence so that the passages the answer quotes come first, in
// the order of their markers, then the rest in retrieval order. It returns a new
// slice when it reorders (the job's evidence is not changed).
func citedFirst(ev []Evidence, cites []Citation) []Evidence {
	if len(cites) == 0 || len(ev) < 2 {
		return ev
	}
	out := make([]Evidence, 0, len(ev))
	taken := make([]bool, len(ev))
	for _, c := range cites {
		for i, e := range ev {
			if !taken[i] && e.Source == c.Source {
				taken[i] = true
				out = append(out, e)
				break
			}
		}
	}
	for i, e := range ev {
		if !taken[i] {
			out = append(out, e)
		}
	}
	return out
}

// termWeights returns the index's idf of each content term of q, nil when the index
// does not weigh terms.
func termWeights(idx Searcher, q string) map[string]float64 {
	tw, ok := idx.(reasoning.TermWeigher)
	if !ok {
		return nil
	}
	terms := index.ContentTerms(q)
	if len(terms) > 64 {
		terms = terms[:64]
	}
	w := make(map[string]float64, len(terms))
	absent := tw.TermWeight("") // no posting: the largest weight
	for _, t := range terms {
		w[t] = tw.TermWeight(t)
		if w[t] == absent && strings.ContainsAny(t, "0123456789") {
			// a literal the lake cannot hold verbatim ("1h15m30s", "v2.3.1"), not a
			// topic it lacks: weigh it as the commonest term, not the rarest
			w[t] = 1
		}
	}
	return w
}

func (w *worker) infer(ctx actor.Context, j *job) {
	remaining := time.Until(j.deadline)
	if remaining <= 0 {
		w.fail(ctx, j, ErrTimeout)
		return
	}
	req := &j.run.Request
	ev := make([]inference.Evidence, len(j.evidence))
	for i, e := range j.evidence {
		ev[i] = inference.Evidence(e)
	}
	ir := inference.Request{QueryID: j.run.QueryID, Query: req.Query, SubQuestions: j.outcome.SubQuestions,
		Conclusion: j.outcome.Conclusion, Evidence: ev, TermWeights: j.weights, Deadline: j.deadline}
	if !w.opts.EnforceIhsan {
		ir.OnDelta = req.OnDelta // an answer that may be withheld must not leave early
	}
	if v, ok := req.Context["max_tokens"]; ok {
		if n, ok := asInt(v); ok && n > 0 && n <= 1<<20 {
			ir.MaxTokens = n
		}
	}
	if v, ok := req.Context["temperature"]; ok {
		if f, ok := asFloat(v); ok && f >= 0 && f <= 2 {
			ir.Temperature = &f
		}
	}
	t0 := time.Now()
	j.stage = j.run.Span.Child("inference")
	ir.TraceParent = traceFor(j.stage, j.run.Trace)
	f := ctx.RequestFuture(w.opts.Inference, &inference.Ask{Request: ir}, remaining)
	qid := j.run.QueryID
	ctx.ReenterAfter(f, func(res any, err error) {
		if w.jobs[qid] != j {
			return
		}
		if err != nil {
			w.fail(ctx, j, ErrTimeout)
			return
		}
		a, ok := res.(*inference.Answered)
		if !ok {
			w.failErr(ctx, j, fmt.Errorf("unexpected inference reply %T", res))
			return
		}
		j.answer = a.Answer
		desc := "inference: " + a.Answer.Backend
		if a.Answer.Model != "" {
			desc += " (" + a.Answer.Model + ")"
		}
		code := ""
		if a.Err != nil {
			code = catalog.Lookup(a.Err).Code
			desc += ": " + code
		}
		j.actions = append(j.actions, ledger.Action{Type: "inference", Description: desc, Success: a.Err == nil,
			DurationUS: uint64(time.Since(t0).Microseconds())})
		j.stage.SetString("backend", a.Answer.Backend)
		if code != "" {
			j.stage.SetString("code", code)
		}
		j.stage.End()
		switch {
		case a.Err == nil:
			w.score(ctx, j)
		case errors.Is(a.Err, inference.ErrNoEvidence):
			w.noEvidence(ctx, j)
		case errors.Is(a.Err, inference.ErrTimeout):
			w.fail(ctx, j, ErrTimeout)
		default:
			w.failErr(ctx, j, a.Err)
		}
	})
}

func asInt(v any) (int, bool) {
	switch n := v.(type) {
	case float64:
		return int(n), n == float64(int(n))
	case int:
		return n, true
	case interface{ Int64() (int64, error) }:
		i, err := n.Int64()
		return int(i), err == nil
	}
	return 0, false
}

func asFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case interface{ Float64() (float64, error) }:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// base fills the fields every completed result shares.
func (w *worker) base(j *job) Result {
	req := &j.run.Request
	r := Result{QueryID: j.run.QueryID, UserID: req.UserID, ReasoningUsed: j.reasoned,
		Thoughts: j.outcome.Thoughts, Evidence: j.evidence, ClaimTags: []string{}, ValidationIssues: []string{}}
	if r.Thoughts == nil {
		r.Thoughts = []string{}
	}
	if r.Evidence == nil {
		r.Evidence = []Evidence{}
	}
	if j.reasoned {
		r.ReasoningDepth = j.outcome.Depth
		r.GraphHash = j.outcome.GraphHash
		r.Detail.Nodes, r.Detail.Edges = j.outcome.Nodes, j.outcome.Edges
	}
	r.ModelUsed = j.answer.Model
	if r.ModelUsed == "" {
		r.ModelUsed = inference.EmbeddedModel
	}
	if j.answer.Degraded {
		r.Degraded = true
		reason := j.answer.DegradedReason
		r.DegradedReason = &reason
	}
	// Backend time is every wait on a model: the decomposition and the answer.
	r.Detail.BackendMs = float64((j.answer.BackendDuration + j.decomposeDur).Microseconds()) / 1000
	r.Detail.TokensUsed = j.answer.TokensUsed
	r.Detail.Usage = sumUsage(j.decomposeUse, j.answer.Usage)
	return r
}

// sumUsage adds the upstream usage of the pipeline's calls; a zero Usage is a call
// that reached no backend. Reported only when every counted call's is.
func sumUsage(us ...inference.Usage) inference.Usage {
	var out inference.Usage
	out.Reported = true
	n := 0
	for _, u := range us {
		if u == (inference.Usage{}) {
			continue
		}
		n++
		out.PromptTokens += u.PromptTokens
		out.CompletionTokens += u.CompletionTokens
		out.Reported = out.Reported && u.Reported
	}
	if n == 0 {
		return inference.Usage{}
	}
	return out
}

// noEvidence completes a query for which nothing local matched: no answer is
// invented and no score is reported.
func (w *worker) noEvidence(ctx actor.Context, j *job) {
	r := w.base(j)
	msg := "NO_EVIDENCE: nothing in the local data lake matched the query"
	r.Error = &msg
	r.Detail.ErrorCode = inference.ErrNoEvidence.Code()
	r.Verdict = VerdictRejected
	r.Validated = j.run.Request.RequireValidation
	r.ValidationIssues = []string{"no_evidence"}
	j.result = r
	j.completion = Completion{Success: false, Reasoned: j.reasoned, Depth: r.ReasoningDepth,
		Validated: r.Validated, CacheConsult: j.run.UseCache}
	w.commit(ctx, j)
}

func (w *worker) score(ctx actor.Context, j *job) {
	sp := j.run.Span.Child("scoring")
	defer sp.End()
	req := &j.run.Request
	r := w.base(j)
	src := scoring.SourceLocal
	if j.answer.Backend != inference.EmbeddedBackend {
		src = scoring.SourceModelWithEvidence
		if len(j.evidence) == 0 {
			src = scoring.SourceModelWithoutEvidence
		}
	}
	sentences := make([]scoring.Sentence, len(j.answer.Sentences))
	for i, s := range j.answer.Sentences {
		sentences[i] = scoring.Sentence{Text: s.Text, Source: s.Source}
	}
	subs := j.outcome.SubQuestions
	depth, maxDepth := j.outcome.Depth, req.MaxDepth
	if !j.reasoned {
		depth, maxDepth = 0, 0 // no graph of thought: no depth term
	}
	m := scoring.Measure(scoring.Inputs{Query: req.Query, SubQuestions: subs, Answer: j.answer.Text,
		AnswerSentences: sentences, Evidence: j.evidence, Depth: depth, MaxDepth: maxDepth, Source: src,
		Rounds: j.outcome.Rounds, Improving: j.outcome.Improving, TermWeights: j.weights,
		PolicyHits: w.opts.Safety.Hits(j.answer.Text), Elapsed: time.Since(j.start), Deadline: j.deadline.Sub(j.start)})
	sc := w.opts.Policy.Score(m)
	snr, ihsan := sc.SNR, sc.Ihsan
	r.SNRScore, r.IhsanScore, r.SNROK = &snr, &ihsan, sc.SNROK
	r.Verdict = sc.Verdict
	r.Detail.Components = sc.Components
	r.Response = j.answer.Text
	r.Detail.Citations = j.answer.Citations
	r.Evidence = citedFirst(r.Evidence, j.answer.Citations)
	r.Success = true
	if req.RequireValidation {
		r.Validated = true
		r.ValidationIssues = append([]string{}, sc.Issues...)
		r.ValidationPassed = len(sc.Issues) == 0 && sc.Verdict == VerdictApproved
	}
	r.ClaimTags = claimTags(sc.Verdict, src, r.Degraded)
	if w.opts.EnforceIhsan && sc.Verdict == VerdictRejected {
		r.Success = false
		r.Response = ""
		msg := "WITHHELD: the answer's verdict is REJECTED (Ihsan below its threshold) and --enforce-ihsan is on"
		r.Error = &msg
		r.Detail.ErrorCode = "IHSAN_REJECTED"
	}
	j.result = r
	j.completion = Completion{Success: r.Success, SNR: r.SNRScore, Ihsan: r.IhsanScore, Reasoned: j.reasoned,
		Depth: r.ReasoningDepth, Validated: r.Validated, Passed: r.ValidationPassed, CacheConsult: j.run.UseCache}
	w.commit(ctx, j)
}

func claimTags(verdict, source string, degraded bool) []string {
	tags := []string{"source:" + source, "verdict:" + strings.ToLower(verdict)}
	if degraded {
		tags = append(tags, "degraded")
	}
	return tags
}

// commit writes the episode (waiting for its fsync), keeps the artifact, caches a
// cacheable answer and replies. Past the deadline nothing is committed or cached.
func (w *worker) commit(ctx actor.Context, j *job) {
	if time.Now().After(j.deadline) {
		w.fail(ctx, j, ErrTimeout)
		return
	}
	r := &j.result
	if w.opts.Ledger != nil && r.Success && r.SNROK {
		summary := r.Response
		ep := ledger.Episode{Timestamp: uint64(time.Now().Unix()), Context: j.run.Request.Query, GraphHash: r.GraphHash,
			GraphNodeCount: uint32(r.Detail.Nodes), Actions: j.actions, SNR: *r.SNRScore, Ihsan: *r.IhsanScore,
			SNROK: r.SNROK, TokensUsed: uint64(max(0, r.Detail.TokensUsed)), ResponseSummary: summary}
		j.stage = j.run.Span.Child("ledger.append")
		f := ctx.RequestFuture(w.opts.Ledger, &ledger.Append{Episode: ep}, time.Until(j.deadline))
		qid := j.run.QueryID
		ctx.ReenterAfter(f, func(res any, err error) {
			if w.jobs[qid] != j {
				return
			}
			switch a := res.(type) {
			case *ledger.Appended:
				r.ClaimTags = append(r.ClaimTags, "sel:"+a.EpisodeHash[:16])
				r.Detail.Episode = &EpisodeRef{Sequence: a.Sequence, Hash: a.EpisodeHash}
				j.stage.End()
			case *ledger.AppendFailed:
				// Not recorded, so not a success: nothing is cached, no episode and no
				// receipt are claimed.
				ferr := a.Err()
				w.opts.Logger.Error("commit episode", "query_id", qid, "err", ferr)
				if errors.Is(ferr, ledger.ErrOverloaded) {
					w.fail(ctx, j, ErrOverloaded)
					return
				}
				w.fail(ctx, j, ledger.ErrStorageUnavailable)
				return
			default:
				if err != nil && time.Now().After(j.deadline) {
					w.fail(ctx, j, ErrTimeout)
					return
				}
				w.opts.Logger.Error("commit episode", "query_id", qid, "err", err)
				w.fail(ctx, j, ledger.ErrStorageUnavailable)
				return
			}
			w.complete(ctx, j)
		})
		return
	}
	w.complete(ctx, j)
}

func (w *worker) complete(ctx actor.Context, j *job) {
	if time.Now().After(j.deadline) {
		w.fail(ctx, j, ErrTimeout) // the caller has gone: cache nothing
		return
	}
	r := &j.result
	if j.graph != nil && w.opts.Artifacts != nil {
		w.opts.Artifacts.Put(j.graph.Artifact(r.QueryID, j.outcome))
	}
	delete(w.jobs, r.QueryID)
	ctx.Send(j.sender, &Done{Result: *r, Completion: j.completion})
}

func (w *worker) failErr(ctx actor.Context, j *job, err error) {
	j.stage.Fail(err) // the stage in progress, if any (ending an ended span is a no-op)
	j.stage.End()
	if catalog.Lookup(err).Kind == catalog.Internal {
		w.opts.Logger.Error("query failed", "query_id", j.run.QueryID, "err", err)
	}
	delete(w.jobs, j.run.QueryID)
	ctx.Send(j.sender, &Done{Failure: err})
}

// fail answers a query with one of this package's sentinels.
func (w *worker) fail(ctx actor.Context, j *job, s *catalog.Error) {
	w.failErr(ctx, j, s)
}
