package inference

import (
	"errors"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// futureGrace is how long past a request's deadline the router waits for a backend
// actor's own TIMEOUT reply before answering TIMEOUT itself.
const futureGrace = 50 * time.Millisecond

// pendingAsk is an Ask or DecomposeAsk being served, owned by the router actor.
type pendingAsk struct {
	id        uint64
	sender    *actor.PID
	decompose bool
	req       Request
	idx       int      // backend being tried
	reasons   []string // public failure reasons so far, "<backend>: <reason>"
	degraded  string   // set when the embedded engine answers because all backends failed
}

// routerActor is the service actor (Service.PID): it tries the external backends in
// fallback order and answers with the embedded engine when all of them fail.
type routerActor struct {
	rt       *runtime
	backends []*backend
	pending  map[uint64]*pendingAsk
}

func (r *routerActor) Receive(ctx actor.Context) {
	if h := r.rt.routerHook; h != nil {
		h(ctx.Message())
	}
	switch m := ctx.Message().(type) {
	case *actor.Started:
		r.pending = map[uint64]*pendingAsk{}
	case *actor.Stopping:
		for _, p := range r.pending {
			r.fail(ctx, p, failWith(ErrStopped, "stopping"))
		}
	case *actor.Restarting:
		// A crash (a panic in Receive, say on a follow-up message such as embeddedDone)
		// restarts the router with an empty pending map: answer every ask at once
		// instead of leaving it to its deadline. Late replies for them (a backend's
		// callResult, an embedded goroutine's embeddedDone) find no pending ask.
		for _, p := range r.pending {
			r.fail(ctx, p, failWith(ErrBackend, "inference router restarted"))
		}
	case *Ask:
		r.onAsk(ctx, m)
	case *DecomposeAsk:
		r.onDecompose(ctx, m)
	case *embeddedDone:
		r.onEmbeddedDone(ctx, m)
	}
}

func (r *routerActor) reply(ctx actor.Context, to *actor.PID, msg any) {
	if to != nil {
		ctx.Send(to, msg)
	}
}

func (r *routerActor) onAsk(ctx actor.Context, m *Ask) {
	id := m.ID
	if id == 0 {
		id = r.rt.nextID()
	}
	req := m.Request
	deny := func(err error) {
		r.reply(ctx, ctx.Sender(), &Answered{ID: id, Err: err})
	}
	if r.rt.stopping.Load() {
		deny(failWith(ErrStopped, "stopping"))
		return
	}
	if err := req.Validate(); err != nil {
		deny(failWith(ErrInvalidRequest, publicValidation(err)))
		return
	}
	if req.Deadline.IsZero() {
		req.Deadline = r.rt.now().Add(r.rt.defaultTimeout)
	}
	if _, dup := r.pending[id]; dup || len(r.pending) >= r.rt.maxPending {
		deny(failWith(ErrOverloaded, "overloaded"))
		return
	}
	p := &pendingAsk{id: id, sender: ctx.Sender(), req: req}
	r.pending[id] = p
	if len(r.backends) == 0 {
		r.runEmbedded(ctx, p)
		return
	}
	r.dispatch(ctx, p)
}

func (r *routerActor) onDecompose(ctx actor.Context, m *DecomposeAsk) {
	id := m.ID
	if id == 0 {
		id = r.rt.nextID()
	}
	deny := func(err error) {
		r.reply(ctx, ctx.Sender(), &Decomposed{ID: id, Err: err})
	}
	switch {
	case r.rt.stopping.Load():
		deny(failWith(ErrStopped, "stopping"))
		return
	case strings.TrimSpace(m.Query) == "" || len(m.Query) > MaxQueryBytes:
		deny(failWith(ErrInvalidRequest, "query empty or too long"))
		return
	case m.Max < 1 || m.Max > MaxDecomposeQuestion:
		deny(failWith(ErrInvalidRequest, "max sub-questions out of range"))
		return
	case len(r.backends) == 0:
		deny(failWith(ErrNoModel, "no external backend configured"))
		return
	}
	if _, dup := r.pending[id]; dup || len(r.pending) >= r.rt.maxPending {
		deny(failWith(ErrOverloaded, "overloaded"))
		return
	}
	dl := m.Deadline
	if dl.IsZero() {
		dl = r.rt.now().Add(r.rt.defaultTimeout)
	}
	p := &pendingAsk{id: id, sender: ctx.Sender(), decompose: true,
		req: Request{Query: m.Query, MaxTokens: m.Max, Deadline: dl, TraceParent: m.TraceParent}}
	r.pending[id] = p
	r.dispatch(ctx, p)
}

// dispatch sends p to its current backend and continues (ReenterAfter) with the reply.
func (r *routerActor) dispatch(ctx actor.Context, p *pendingAsk) {
	remaining := p.req.Deadline.Sub(r.rt.now())
	if remaining <= 0 {
		r.fail(ctx, p, failWith(ErrTimeout, "timeout"))
		return
	}
	b := r.backends[p.idx]
	f := ctx.RequestFuture(b.pid, &call{ID: p.id, Decompose: p.decompose, Request: p.req}, remaining+futureGrace)
	ctx.ReenterAfter(f, func(res any, err error) {
		if r.pending[p.id] != p {
			return // canceled meanwhile
		}
		cr, ok := res.(*callResult)
		if err != nil || !ok {
			r.fail(ctx, p, failWith(ErrTimeout, "timeout"))
			return
		}
		if cr.Err == nil {
			delete(r.pending, p.id)
			if p.decompose {
				r.reply(ctx, p.sender, &Decomposed{ID: p.id, SubQuestions: cr.SubQuestions,
					Backend: cr.Answer.Backend, Model: cr.Answer.Model, Usage: cr.Answer.Usage})
			} else {
				r.reply(ctx, p.sender, &Answered{ID: p.id, Answer: cr.Answer})
			}
			return
		}
		reason := Reason(cr.Err)
		detail := cr.Detail
		if detail == "" {
			detail = reason
		}
		if errors.Is(cr.Err, ErrTimeout) || errors.Is(cr.Err, ErrCanceled) || errors.Is(cr.Err, ErrStopped) {
			// the caller's deadline passed (or the service stops): no time for fallback
			logFailed(r.rt.log, b.cfg, cr.Status, reason, detail, decisionFinal, "", cr.Duration, !errors.Is(cr.Err, ErrTimeout))
			r.fail(ctx, p, cr.Err)
			return
		}
		if cr.Streamed {
			// part of the answer already reached the caller: no other backend may
			// continue it, nor the embedded engine replace it
			logFailed(r.rt.log, b.cfg, cr.Status, reason, detail, decisionFinal, "", cr.Duration, false)
			r.fail(ctx, p, cr.Err)
			return
		}
		p.reasons = append(p.reasons, b.cfg.Name+": "+reason)
		p.idx++
		if cr.Rejected {
			// the request itself is invalid (400, 413, 422): every external backend
			// would refuse it too, so none is asked; the embedded engine answers
			p.idx = len(r.backends)
		}
		switch {
		case p.idx < len(r.backends):
			logFailed(r.rt.log, b.cfg, cr.Status, reason, detail, decisionFellBack, r.backends[p.idx].cfg.Name, cr.Duration, false)
		case p.decompose:
			// the caller splits the query itself
			logFailed(r.rt.log, b.cfg, cr.Status, reason, detail, decisionFinal, "", cr.Duration, false)
		default:
			logFailed(r.rt.log, b.cfg, cr.Status, reason, detail, decisionFellBack, "embedded", cr.Duration, false)
		}
		if p.idx < len(r.backends) {
			r.dispatch(ctx, p)
			return
		}
		r.exhausted(ctx, p)
	})
}

// exhausted answers once every backend failed: the embedded engine, degraded.
func (r *routerActor) exhausted(ctx actor.Context, p *pendingAsk) {
	reason := "all backends failed: " + strings.Join(p.reasons, "; ")
	if p.decompose {
		delete(r.pending, p.id)
		r.reply(ctx, p.sender, &Decomposed{ID: p.id, Err: failWith(ErrNoModel, reason)})
		return
	}
	p.degraded = reason
	r.runEmbedded(ctx, p)
}

// runEmbedded runs the embedded engine for p on an owned goroutine (its cost grows with
// the evidence, up to MaxEvidenceBytes, so it stays out of Receive) and continues with
// embeddedDone. While the service stops it runs inline: no goroutine may start after
// Shutdown's wait.
func (r *routerActor) runEmbedded(ctx actor.Context, p *pendingAsk) {
	req, id := p.req, p.id
	if r.rt.stopping.Load() {
		ans, err := Embedded(req)
		r.onEmbeddedDone(ctx, embeddedResult(id, ans, err))
		return
	}
	self, sys := ctx.Self(), ctx.ActorSystem()
	r.rt.wg.Go(func() {
		ans, err := Embedded(req)
		sys.Root.Send(self, embeddedResult(id, ans, err))
	})
}

func embeddedResult(id uint64, ans Answer, err error) *embeddedDone {
	d := &embeddedDone{ID: id, Answer: ans}
	if err != nil {
		d.Err = failWith(ErrNoEvidence, "no evidence")
		if errors.Is(err, ErrInvalidRequest) {
			d.Err = failWith(ErrInvalidRequest, "invalid request")
		}
	}
	return d
}

func (r *routerActor) onEmbeddedDone(ctx actor.Context, m *embeddedDone) {
	p := r.pending[m.ID]
	if p == nil {
		return
	}
	delete(r.pending, m.ID)
	r.rt.countEmbedded(m.Err != nil)
	out := &Answered{ID: p.id, Answer: m.Answer, Err: m.Err}
	if p.degraded != "" {
		out.Answer.Degraded, out.Answer.DegradedReason = true, p.degraded
		r.rt.mDegraded.Inc()
		var re *replyError
		if errors.As(out.Err, &re) {
			out.Err = failWith(re.sentinel, p.degraded)
		}
	}
	r.reply(ctx, p.sender, out)
}

func (r *routerActor) fail(ctx actor.Context, p *pendingAsk, err error) {
	delete(r.pending, p.id)
	if p.decompose {
		r.reply(ctx, p.sender, &Decomposed{ID: p.id, Err: err})
	} else {
		r.reply(ctx, p.sender, &Answered{ID: p.id, Err: err})
	}
}

// publicValidation turns a validation error into a public reason (its text is built
// from limits and counts only, never from request content).
func publicValidation(err error) string {
	s := err.Error()
	return strings.TrimSuffix(s, ": "+ErrInvalidRequest.Error())
}
