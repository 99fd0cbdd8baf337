package inference

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/asynkron/protoactor-go/actor"
	"github.com/sony/gobreaker/v2"

	"github.com/bizra/bizra/internal/tracing"
)

// Health of a backend as the last observation (probe or call) saw it.
const (
	healthUnknown int32 = iota
	healthOK
	healthFailing
)

// backend is one external backend, shared by the pipeline (its actor) and the
// pass-through: its HTTP client with the one request-with-retries (retry.go), its
// circuit breaker, its MaxInFlight slots (taken by a call as a *slot that the call
// releases) and its published status. It outlives restarts of its actor. Its fields
// are atomics (or immutable) because the pass-through (fallback.go) uses them from
// callers' goroutines.
type backend struct {
	cfg         BackendConfig
	client      *httpClient
	breaker     *gobreaker.TwoStepCircuitBreaker[struct{}]
	maxInFlight int
	pid         *actor.PID

	model    atomic.Pointer[string]   // configured or discovered
	models   atomic.Pointer[[]string] // the backend's listed models (nil until listed)
	tools    atomic.Pointer[[]string] // of those, the ones listed as taking tools
	health   atomic.Int32
	inflight atomic.Int64 // calls in flight: actor calls and pass-through calls together
	listedAt atomic.Int64 // unix ns of the last on-demand model listing (refreshModels)
	listMu   sync.Mutex   // serialises on-demand listings

	mDuration *metrics.PrometheusHistogram
	mTTFT     *metrics.PrometheusHistogram // pass-through streams: time to first chunk
	mITL      *metrics.PrometheusHistogram // pass-through streams: gap between chunks
}

// acquire takes one of the backend's MaxInFlight slots (shared by the actor's calls and
// the pass-through API); false when all are taken.
func (b *backend) acquire() bool {
	if b.inflight.Add(1) > int64(b.maxInFlight) {
		b.inflight.Add(-1)
		return false
	}
	return true
}

func (b *backend) release() { b.inflight.Add(-1) }

// slot is one taken MaxInFlight slot. The call that took it owns it and releases it
// exactly once, whatever ends the call (completion, error, cancel, deadline, restart of
// the backend actor, shutdown): release is idempotent, so an owner may call it from
// every exit path.
type slot struct {
	b        *backend
	released atomic.Bool
}

// takeSlot takes one of b's slots (nil when all are taken).
func (b *backend) takeSlot() *slot {
	if !b.acquire() {
		return nil
	}
	return &slot{b: b}
}

func (s *slot) release() {
	if s.released.CompareAndSwap(false, true) {
		s.b.release()
	}
}

func (b *backend) currentModel() string {
	if p := b.model.Load(); p != nil {
		return *p
	}
	return ""
}

func (b *backend) status() BackendStatus {
	st := BackendStatus{Name: b.cfg.Name, URL: b.cfg.URL, Model: b.currentModel()}
	cs := b.breaker.State()
	st.Circuit = cs.String()
	switch {
	case cs == gobreaker.StateOpen:
		st.Status = StatusOffline
	case cs == gobreaker.StateHalfOpen || b.health.Load() != healthOK:
		st.Status = StatusDegraded
	default:
		st.Status = StatusReady
	}
	return st
}

func circuitValue(s gobreaker.State) float64 {
	switch s {
	case gobreaker.StateHalfOpen:
		return 1
	case gobreaker.StateOpen:
		return 2
	}
	return 0
}

// errExcluded marks an outcome that must not count against the circuit.
var errExcluded = errors.New("inference: excluded from circuit accounting")

// pendingCall is a call in flight, owned by the backend actor. Its slot is owned by the
// call's goroutine, which releases it when the HTTP exchange ends; the actor only
// cancels (on Stopping and Restarting), so no slot depends on the actor's state.
type pendingCall struct {
	sender    *actor.PID
	cancel    context.CancelFunc
	done      func(error) // circuit breaker outcome
	decompose bool
	req       Request
}

// backendActor owns one backend's requests in flight and its probes. Receive never
// blocks: HTTP runs on goroutines owned by the service's WaitGroup, whose results come
// back as callDone / probeDone messages.
type backendActor struct {
	b       *backend
	rt      *runtime
	calls   map[uint64]*pendingCall
	probing bool
}

func (a *backendActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		a.calls = map[uint64]*pendingCall{}
	case *call:
		a.onCall(ctx, m)
	case *callDone:
		a.onCallDone(ctx, m)
	case *probeTick:
		a.onProbeTick(ctx)
	case *probeDone:
		a.onProbeDone(m)
	case *actor.Stopping:
		a.abandon(ctx, failWith(ErrStopped, "stopping"))
	case *actor.Restarting:
		// The next incarnation starts with no calls: cancel these (their goroutines
		// release their slots) and let the router fall back to the next backend.
		a.abandon(ctx, failWith(ErrBackend, "backend restarted"))
	}
}

// abandon cancels every call in flight and answers its sender with code. The calls'
// goroutines end soon after and release their slots; their callDone finds no call.
func (a *backendActor) abandon(ctx actor.Context, err error) {
	for id, p := range a.calls {
		p.cancel()
		p.done(errExcluded)
		a.rt.countRequest(a.b.cfg.Name, "canceled")
		a.reply(ctx, p.sender, &callResult{ID: id, Err: err})
	}
	clear(a.calls)
}

func (a *backendActor) reply(ctx actor.Context, to *actor.PID, r *callResult) {
	if to != nil {
		ctx.Send(to, r)
	}
}

func (a *backendActor) onCall(ctx actor.Context, m *call) {
	name := a.b.cfg.Name
	fail := func(outcome string, err error) {
		a.rt.countRequest(name, outcome)
		a.reply(ctx, ctx.Sender(), &callResult{ID: m.ID, Err: err})
	}
	if a.rt.stopping.Load() {
		fail("canceled", failWith(ErrStopped, "stopping"))
		return
	}
	if !m.Request.Deadline.IsZero() && !a.rt.now().Before(m.Request.Deadline) {
		fail("timeout", failWith(ErrTimeout, "timeout"))
		return
	}
	sl := a.b.takeSlot()
	if sl == nil {
		fail("overloaded", failWith(ErrOverloaded, "overloaded"))
		return
	}
	done, err := a.b.breaker.Allow()
	if err != nil {
		sl.release()
		fail("circuit_open", failWith(ErrCircuitOpen, "circuit open"))
		return
	}
	cctx, cancel := context.WithCancel(a.rt.ctx)
	if !m.Request.Deadline.IsZero() {
		cancel()
		cctx, cancel = context.WithDeadline(a.rt.ctx, m.Request.Deadline)
	}
	cctx = tracing.WithParent(cctx, m.Request.TraceParent) // sent as traceparent by exchange
	a.calls[m.ID] = &pendingCall{sender: ctx.Sender(), cancel: cancel, done: done, decompose: m.Decompose, req: m.Request}

	self, sys := ctx.Self(), ctx.ActorSystem()
	client, model := a.b.client, a.b.currentModel()
	id, req, decompose := m.ID, m.Request, m.Decompose
	a.rt.wg.Go(func() {
		defer sl.release() // after the exchange ended, whatever became of the actor
		defer cancel()
		start := time.Now()
		d := &callDone{ID: id}
		var err error
		if model == "" {
			var ms []string
			ms, err = client.models(cctx)
			if err == nil && len(ms) == 0 {
				err = failure(ErrNoModel, "no model listed", nil)
			}
			if err == nil {
				model = ms[0]
			}
		}
		if err == nil {
			msgs := answerMessages(req)
			maxTokens, temp := req.MaxTokens, req.Temperature
			switch {
			case decompose:
				msgs = decomposeMessages(req.Query, req.MaxTokens)
				d.Result, err = client.chat(cctx, model, msgs, 0, nil)
			case req.OnDelta != nil:
				d.Result, d.Streamed, err = client.chatStreamed(cctx, model, msgs, maxTokens, temp, req.OnDelta)
			default:
				d.Result, err = client.chat(cctx, model, msgs, maxTokens, temp)
			}
		}
		d.Model, d.Duration, d.ReachedNet = model, time.Since(start), true
		if err != nil {
			d.Err, d.Detail = failWith(ErrBackend, "backend error"), err.Error()
			var be *backendError
			if errors.As(err, &be) {
				// a 4xx (429 included) is not a failure of the backend: no circuit count,
				// as in the pass-through's policy (fallback.failed)
				d.Err = failWith(be.sentinel, be.reason)
				d.Excluded = be.excluded || (be.status >= 400 && be.status < 500)
				d.Rejected = requestInvalid(be.status)
				d.Status = be.status
			}
		}
		sl.release() // before the result: a caller that gets it may call again at once
		sys.Root.Send(self, d)
	})
}

func (a *backendActor) onCallDone(ctx actor.Context, m *callDone) {
	p := a.calls[m.ID]
	if p == nil {
		return
	}
	delete(a.calls, m.ID)
	p.cancel()
	name := a.b.cfg.Name
	if m.ReachedNet {
		a.b.mDuration.Update(m.Duration.Seconds())
	}
	if m.Model != "" && a.b.cfg.Model == "" && m.Err == nil {
		model := m.Model
		a.b.model.Store(&model)
	}
	if m.Err != nil {
		switch {
		case m.Excluded:
			p.done(errExcluded)
		default:
			p.done(m.Err)
			a.b.health.Store(healthFailing)
		}
		outcome := "error"
		switch {
		case errors.Is(m.Err, ErrTimeout):
			outcome = "timeout"
		case errors.Is(m.Err, ErrCanceled), errors.Is(m.Err, ErrStopped):
			outcome = "canceled"
		case errors.Is(m.Err, ErrBadResponse):
			outcome = "bad_response"
		}
		a.rt.countRequest(name, outcome)
		// the router logs the failure with its decision (fallback or final)
		a.reply(ctx, p.sender, &callResult{ID: m.ID, Err: m.Err, Rejected: m.Rejected,
			Status: m.Status, Detail: m.Detail, Duration: m.Duration, Streamed: m.Streamed})
		return
	}
	p.done(nil)
	a.b.health.Store(healthOK)
	a.rt.countRequest(name, "success")
	msgs := answerMessages(p.req)
	if p.decompose {
		msgs = decomposeMessages(p.req.Query, p.req.MaxTokens)
	}
	usage := Usage{PromptTokens: m.Result.PromptTokens, CompletionTokens: m.Result.CompletionTokens, Reported: true}
	if !m.Result.UsageReported {
		usage = usageOf(0, 0, false, chatMessages(msgs), len(m.Result.Text))
	}
	a.rt.tokens.count(m.Model, usage)
	r := &callResult{ID: m.ID}
	if p.decompose {
		r.SubQuestions = parseSubQuestions(m.Result.Text, p.req.MaxTokens)
		if len(r.SubQuestions) == 0 {
			r.Err = failWith(ErrBadResponse, "empty response")
		}
		r.Answer = Answer{Backend: name, Model: m.Model, BackendDuration: m.Duration, Usage: usage}
	} else {
		r.Answer = Answer{Text: m.Result.Text, Model: m.Model, Backend: name, BackendDuration: m.Duration,
			Sentences: parseCitations(m.Result.Text, p.req.Evidence), Usage: usage,
			TokensUsed: usage.PromptTokens + usage.CompletionTokens, TokensEstimated: !usage.Reported}
	}
	a.reply(ctx, p.sender, r)
}

func (a *backendActor) onProbeTick(ctx actor.Context) {
	if a.probing || a.rt.stopping.Load() {
		return
	}
	a.probing = true
	self, sys, client := ctx.Self(), ctx.ActorSystem(), a.b.client
	pctx, timeout := a.rt.probeCtx, a.rt.probeTimeout
	a.rt.wg.Go(func() {
		cctx, cancel := context.WithTimeout(pctx, timeout)
		defer cancel()
		start := time.Now()
		l, err := client.listing(cctx)
		ms := l.ids
		d := &probeDone{OK: err == nil, Models: ms, ToolModels: l.tools, Duration: time.Since(start)}
		if len(ms) > 0 {
			d.Model = ms[0]
		}
		if err != nil {
			d.Reason, d.Detail = "probe failed", err.Error()
			var be *backendError
			if errors.As(err, &be) {
				d.Reason, d.Status = be.reason, be.status
				d.Excluded = be.excluded && errors.Is(be.err, context.Canceled)
			}
		}
		sys.Root.Send(self, d)
	})
}

// onProbeDone records a probe. In the half-open state the probe is the trial request
// that closes (or re-opens) the circuit; in the closed state a failed probe counts as a
// failure, so a backend nobody calls still goes offline; in the open state it only
// updates the health seen by status.
func (a *backendActor) onProbeDone(m *probeDone) {
	a.probing = false
	if m.Excluded {
		return
	}
	if m.OK && a.b.cfg.Model == "" && m.Model != "" {
		model := m.Model
		a.b.model.Store(&model)
	}
	if m.OK {
		ms, ts := m.Models, m.ToolModels
		a.b.models.Store(&ms)
		a.b.tools.Store(&ts)
	}
	var perr error
	if m.OK {
		a.b.health.Store(healthOK)
	} else {
		// logged at WARN when the backend turns failing, not at every probe after
		was := a.b.health.Swap(healthFailing)
		perr = errors.New(m.Reason)
		a.rt.log.Log(context.Background(), probeLevel(was), "inference backend probe failed", "backend", a.b.cfg.Name,
			"status", m.Status, "reason", m.Reason, "duration_ms", durationMs(m.Duration), "err", m.Detail)
	}
	switch a.b.breaker.State() {
	case gobreaker.StateHalfOpen:
		if done, err := a.b.breaker.Allow(); err == nil {
			done(perr)
		}
	case gobreaker.StateClosed:
		if perr != nil {
			if done, err := a.b.breaker.Allow(); err == nil {
				done(perr)
			}
		}
	}
}

// probeLevel is the level of a failed probe's log line: WARN when the backend was not
// already failing.
func probeLevel(was int32) slog.Level {
	if was == healthFailing {
		return slog.LevelDebug
	}
	return slog.LevelWarn
}

// logStateChange logs circuit transitions (called by gobreaker under its lock).
func logStateChange(log *slog.Logger) func(name string, from, to gobreaker.State) {
	return func(name string, from, to gobreaker.State) {
		log.Info("inference circuit changed", "backend", name, "from", from.String(), "to", to.String())
	}
}
