package query

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/bizra/bizra/actors/cache"
	"github.com/bizra/bizra/actors/receipt"
	"github.com/bizra/bizra/internal/tracing"
)

// Receipts issues a receipt for a completed query (actors/receipt.Service).
type Receipts interface {
	Issue(in receipt.Input) (receipt.Ref, error)
}

// EngineOptions configures the edge side of the pipeline.
type EngineOptions struct {
	// System runs the workers. Required.
	System *actor.ActorSystem
	// Logger; nil discards.
	Logger *slog.Logger
	// Metrics records every completed query. Required.
	Metrics *Metrics
	// Cache is the result cache; nil disables caching.
	Cache *cache.Store[Result]
	// Receipts issues a receipt for every completed query; nil issues none (tests).
	Receipts Receipts
	// Workers are the query worker PIDs, used round robin. Required.
	Workers []*actor.PID
	// Queue bounds the queries admitted at once (running plus waiting); 0 means 256.
	// One more is refused with ErrOverloaded at once.
	Queue int
	// Safety is the deny-pattern gate; nil has no patterns.
	Safety *SafetyPolicy
	// Load counts submitted and started runs for the queue-depth gauge; nil allocates.
	Load *Load
	// Tracer records the query's spans (query, gate, cache, receipt.issue here; the
	// worker's stages below them); nil records none and costs nothing.
	Tracer *tracing.Tracer
}

// Load holds the tickets of the runs handed to the workers that no worker has begun:
// their number is the queue depth. A ticket leaves when its worker begins the run or,
// whatever happened to the run (a worker crash lost it, the deadline passed), when the
// engine's call returns, so no ticket outlives its query. Bounded by the engine's
// admission limit. Safe for concurrent use.
type Load struct {
	mu      sync.Mutex
	next    uint64
	pending map[uint64]ticket
}

// ticket is where a queued run went and where its caller waits for the reply.
type ticket struct{ worker, reply *actor.PID }

// submit issues the ticket of a run about to be handed to worker, answered at reply.
func (l *Load) submit(worker, reply *actor.PID) uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pending == nil {
		l.pending = map[uint64]ticket{}
	}
	l.next++
	l.pending[l.next] = ticket{worker: worker, reply: reply}
	return l.next
}

// begin retires a ticket (a worker began the run, or the engine gave up on it).
func (l *Load) begin(id uint64) {
	l.mu.Lock()
	delete(l.pending, id)
	l.mu.Unlock()
}

// stopped retires the tickets of the runs still queued at a worker that stopped (its
// mailbox went with it) and returns where their callers wait.
func (l *Load) stopped(worker *actor.PID) []*actor.PID {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*actor.PID
	for id, t := range l.pending {
		if t.worker.Id == worker.Id {
			out = append(out, t.reply)
			delete(l.pending, id)
		}
	}
	return out
}

// Queued returns the number of runs waiting for a worker.
func (l *Load) Queued() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.pending)
}

// Engine is the edge of the query pipeline: gates, admission, the cache fast path, and
// the hand-off to a worker with the caller's deadline. Safe for concurrent use.
type Engine struct {
	opts     EngineOptions
	log      *slog.Logger
	admitted atomic.Int64
	rr       atomic.Uint64
	stopped  atomic.Bool
}

// NewEngine checks opts and builds an Engine.
func NewEngine(opts EngineOptions) (*Engine, error) {
	if opts.System == nil || opts.Metrics == nil || len(opts.Workers) == 0 {
		return nil, errors.New("query: EngineOptions needs System, Metrics and Workers")
	}
	if opts.Queue <= 0 {
		opts.Queue = 256
	}
	if opts.Load == nil {
		opts.Load = &Load{}
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Engine{opts: opts, log: log}
	opts.Metrics.SetLoadSource(func() (int, int) { return e.InFlight(), opts.Load.Queued() })
	return e, nil
}

// WorkerStopped answers, at once, the queries whose runs were still queued at worker
// when it stopped (a restart of its supervisor stops it, and its mailbox goes with it):
// WORKER_RESTARTED instead of their deadline. Runs the worker had begun are answered
// by the worker itself. Safe from any goroutine.
func (e *Engine) WorkerStopped(worker *actor.PID) {
	for _, reply := range e.opts.Load.stopped(worker) {
		e.opts.System.Root.Send(reply, &Done{Failure: ErrWorkerRestarted})
	}
}

// Stop makes further queries fail fast with ErrStopped.
func (e *Engine) Stop() { e.stopped.Store(true) }

// InFlight returns the number of admitted queries.
func (e *Engine) InFlight() int { return int(e.admitted.Load()) }

// NewQueryID returns a fresh query id: q-<unix ms>-<16 hex>.
func NewQueryID(now time.Time) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "q-" + strconv.FormatInt(now.UnixMilli(), 10) + "-" + hex.EncodeToString(b[:])
}

// Query runs one query: schema gate, admission, safety gate, cache, then a worker,
// waiting at most until ctx's deadline. A timeout gives ErrTimeout and nothing is
// cached or committed.
func (e *Engine) Query(ctx context.Context, req Request) (_ Result, err error) {
	start := time.Now()
	if e.stopped.Load() {
		return Result{}, ErrStopped
	}
	// The client's traceparent (gateway, bridge) is the parent of the query's span;
	// with tracing off the span is the zero Span and the parent is still handed to
	// the inference backends.
	parent, _ := tracing.FromContext(ctx)
	span := e.opts.Tracer.Root(parent, "query")
	defer func() { endSpan(span, err) }()
	gate := span.Child("gate")
	if err := Validate(&req); err != nil {
		e.opts.Metrics.GateRejected(GateSchema)
		endSpan(gate, err)
		return Result{}, err
	}
	req.Query = strings.TrimSpace(req.Query)
	deadline := start.Add(time.Duration(req.TimeoutMs) * time.Millisecond)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	// Concurrency slot: acquired here, always released on return.
	if n := e.admitted.Add(1); n > int64(e.opts.Queue) {
		e.admitted.Add(-1)
		e.opts.Metrics.Overloaded()
		return Result{}, ErrOverloaded
	}
	defer e.admitted.Add(-1)
	e.opts.Metrics.SetLoad(int(e.admitted.Load()), e.opts.Load.Queued(), e.opts.Queue)

	qid := NewQueryID(start)
	span.SetString("query_id", qid)
	if hits := e.opts.Safety.Hits(req.Query); hits > 0 {
		e.opts.Metrics.GateRejected(GateSafety)
		gate.SetString("rejected_by", GateSafety)
		gate.End()
		res := rejected(qid, &req, GateSafety, "SAFETY_POLICY", fmt.Sprintf("rejected by the safety gate: %d deny pattern(s) matched", hits))
		if err := e.finish(&res, &req, start, Completion{Success: false}, span); err != nil {
			return Result{}, err
		}
		return res, nil
	}
	gate.End()
	var key cache.Key
	var gen uint64 // the cache's generation at the miss: a purge meanwhile (index swap) keeps this answer out
	consult := e.opts.Cache != nil && e.opts.Cache.Enabled()
	if consult {
		cspan := span.Child("cache")
		gen = e.opts.Cache.Generation()
		k, err := CacheKey(&req)
		if err != nil {
			endSpan(cspan, err)
			return Result{}, fmt.Errorf("query %s: %w", qid, err)
		}
		key = k
		hit, ok := e.opts.Cache.Get(key)
		if ok {
			cspan.SetString("result", "hit")
		} else {
			cspan.SetString("result", "miss")
		}
		cspan.End()
		if ok {
			if hit.UserID != req.UserID {
				hit.hit = nil // the stored digest was computed for another user_id
			}
			hit.QueryID, hit.Cached = qid, true
			hit.UserID = req.UserID
			hit.Detail.BackendMs, hit.Detail.TokensUsed = 0, 0
			hit.Detail.Episode = nil // a cache hit commits no episode of its own
			if err := e.finish(&hit, &req, start, Completion{Success: hit.Success, Cached: true, SNR: hit.SNRScore,
				Ihsan: hit.IhsanScore, CacheConsult: true, CacheHit: true, Validated: hit.Validated, Passed: hit.ValidationPassed}, span); err != nil {
				return Result{}, err
			}
			return hit, nil
		}
	}
	run := &Run{Request: req, QueryID: qid, CacheKey: key, UseCache: consult,
		StartUnixNano: start.UnixNano(), DeadlineUnixNano: deadline.UnixNano(), Span: span, Trace: parent}
	if span.Recording() {
		run.Trace = span.Parent()
	}
	pid := e.opts.Workers[e.rr.Add(1)%uint64(len(e.opts.Workers))]
	wait := time.Until(deadline)
	if wait <= 0 {
		return e.timedOut(consult)
	}
	// The reply slot exists before the run is sent, so a worker that stops with the
	// run still in its mailbox can be answered at once (WorkerStopped); the first
	// reply wins.
	slot, replyTo, release := NewReplySlot(e.opts.System, "query")
	defer release()
	run.Ticket = e.opts.Load.submit(pid, replyTo)
	defer e.opts.Load.begin(run.Ticket)
	e.opts.System.Root.RequestWithCustomSender(pid, run, replyTo)
	timer := time.NewTimer(wait)
	defer timer.Stop()
	var reply any
	select {
	case reply = <-slot.C():
	case <-timer.C:
		return e.timedOut(consult)
	}
	if _, ok := reply.(*actor.DeadLetterResponse); ok {
		return Result{}, fmt.Errorf("query %s: %w: no worker at %s", qid, ErrStopped, pid.Id)
	}
	done, ok := reply.(*Done)
	if !ok {
		return Result{}, fmt.Errorf("query %s: unexpected reply %T", qid, reply)
	}
	if err := done.Err(); err != nil {
		return Result{}, err
	}
	res := done.Result
	if err := e.finish(&res, &req, start, done.Completion, span); err != nil {
		return Result{}, err
	}
	// Cached only once its receipt is durable: a query whose receipt failed leaves no
	// success behind. The cached copy is the worker's result, before finish stamped it.
	if run.UseCache && e.opts.Cache != nil && done.Result.Success && !done.Result.Degraded {
		e.opts.Cache.PutIn(gen, key, withHitForm(done.Result))
	}
	return res, nil
}

func (e *Engine) timedOut(consulted bool) (Result, error) {
	e.opts.Metrics.Timeout()
	if consulted {
		e.opts.Metrics.CacheMiss()
	}
	return Result{}, ErrTimeout
}

// finish stamps the timing, issues the receipt and records the metrics of a completed
// query (cache hits and rejections included). It runs on the caller's goroutine (never
// inside an actor's Receive) because Issue waits for the receipt's record to be
// durable. A receipt that could not be issued fails the query with its error (503
// STORAGE_UNAVAILABLE for a log that cannot be written): no receipt, no answer.
func (e *Engine) finish(res *Result, req *Request, start time.Time, c Completion, span tracing.Span) error {
	elapsed := time.Since(start)
	res.ProcessingTimeMs = float64(elapsed.Microseconds()) / 1000
	res.Detail.TotalMs = res.ProcessingTimeMs
	res.Detail.OverheadMs = max(0, res.Detail.TotalMs-res.Detail.BackendMs)
	if e.opts.Receipts != nil {
		status := receipt.StatusAccepted
		reason := ""
		if !res.Success {
			status = receipt.StatusRejected
			if res.Error != nil {
				reason = *res.Error
			}
		}
		method := req.Method
		if method == "" {
			method = "query"
		}
		in := receipt.Input{
			Kind: receipt.KindQuery, Status: status, Method: method,
			Params: receiptParams{req}, Payload: res, SNR: res.SNRScore, Ihsan: res.IhsanScore,
			GatePassed: res.Detail.Gate == "", Reason: reason, Duration: elapsed,
		}
		if d, ok := res.hitDigest(); ok { // a cache hit: head and tail were digested at put time
			in.Payload, in.PayloadDigest = nil, d
		}
		rspan := span.Child("receipt.issue")
		ref, err := e.opts.Receipts.Issue(in)
		endSpan(rspan, err)
		if err != nil {
			// The receipt service logs (rate-limited) and counts the failure itself.
			e.log.Debug("query failed: receipt not issued", "query_id", res.QueryID, "err", err)
			c.Success, c.Duration = false, time.Since(start)
			e.opts.Metrics.Record(c)
			return fmt.Errorf("query %s: receipt: %w", res.QueryID, err)
		}
		res.ReceiptID, res.Detail.LeafHash, res.Detail.ReceiptStatus = ref.ReceiptID, ref.LeafHash, ref.Status
	}
	c.Duration = elapsed
	c.Overhead = time.Duration(res.Detail.OverheadMs * float64(time.Millisecond))
	c.Degraded = res.Degraded
	e.opts.Metrics.Record(c)
	return nil
}

// endSpan ends s, marked failed when err is not nil.
func endSpan(s tracing.Span, err error) {
	s.Fail(err)
	s.End()
}

// rejected builds the result of a query a gate refused.
func rejected(qid string, req *Request, gate, code, msg string) Result {
	return Result{QueryID: qid, Success: false, Error: &msg, Verdict: VerdictRejected,
		ValidationIssues: []string{"gate:" + gate}, UserID: req.UserID, ModelUsed: "none",
		Thoughts: []string{}, ClaimTags: []string{}, Evidence: []Evidence{},
		Detail: Detail{ErrorCode: code, Gate: gate}}
}
