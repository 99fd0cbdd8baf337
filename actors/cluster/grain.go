package cluster

import (
	"context"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/bizra/bizra/actors/query"
)

// maxWaiters bounds the identical queries waiting at one grain; more are OVERLOADED.
const maxWaiters = 4096

// grain is the query grain of one cache key on its owning member. The first query runs
// the owner's pipeline on a goroutine the Member owns (never inside Receive); identical
// queries arriving meanwhile wait here. When the leader's answer was cacheable, each
// waiter is then answered by the owner's pipeline again (a cache hit with its own
// query id and receipt); otherwise it shares the leader's answer.
type grain struct {
	m       *Member
	busy    bool
	waiters []waiter
}

type waiter struct {
	to   *actor.PID
	call *QueryCall
}

// computed is the leader's outcome, sent by its goroutine to the grain (in process).
type computed struct {
	answer    *QueryAnswer
	cacheable bool
}

func (g *grain) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		ctx.SetReceiveTimeout(g.m.opts.GrainIdle)
		g.m.met.activations.Inc()
		g.m.met.nActivations.Add(1)
	case *actor.ReceiveTimeout:
		if !g.busy {
			ctx.Stop(ctx.Self())
		}
	case *actor.Stopping:
		// The placement moved the key (a topology change) or the member stops: the
		// waiters ask the key's owner again instead of waiting out their deadline.
		for _, w := range g.waiters {
			ctx.Send(w.to, &QueryAnswer{AnsweredBy: g.m.id, Retry: true})
		}
		g.waiters = nil
	case *QueryCall:
		to := ctx.Sender()
		if to == nil {
			return
		}
		if g.busy {
			if len(g.waiters) >= maxWaiters {
				g.m.met.overloaded.Inc()
				ctx.Send(to, errorAnswer(g.m.id, query.ErrOverloaded))
				return
			}
			g.waiters = append(g.waiters, waiter{to: to, call: msg})
			return
		}
		self := ctx.Self()
		if !g.m.goAnswer(msg, to, func(a *QueryAnswer, cacheable bool) {
			g.m.sys.Root.Send(self, &computed{answer: a, cacheable: cacheable})
		}) {
			ctx.Send(to, errorAnswer(g.m.id, query.ErrOverloaded))
			return
		}
		g.busy = true
		g.m.met.computations.Inc()
		g.m.met.nComputations.Add(1)
	case *computed:
		g.busy = false
		ws := g.waiters
		g.waiters = nil
		for _, w := range ws {
			g.m.met.coalesced.Inc()
			g.m.met.nCoalesced.Add(1)
			if msg.cacheable && g.m.goAnswer(w.call, w.to, nil) {
				continue
			}
			shared := proto.Clone(msg.answer).(*QueryAnswer)
			shared.Coalesced = true
			ctx.Send(w.to, shared)
		}
	}
}

// goAnswer runs call on the owner's pipeline on a member-owned goroutine, replies to
// to, then calls done (if any). False when the member is at MaxInFlight or stopping.
func (m *Member) goAnswer(call *QueryCall, to *actor.PID, done func(*QueryAnswer, bool)) bool {
	select {
	case m.slots <- struct{}{}:
	default:
		m.met.overloaded.Inc()
		return false
	}
	m.goMu.Lock()
	if m.closing {
		m.goMu.Unlock()
		<-m.slots
		return false
	}
	m.wg.Add(1)
	m.goMu.Unlock()
	go func() {
		defer m.wg.Done()
		defer func() { <-m.slots }()
		a, cacheable := m.answer(call)
		m.sys.Root.Send(to, a)
		if done != nil {
			done(a, cacheable)
		}
	}()
	return true
}

// answer runs one query on this member's pipeline until the caller's deadline. A
// panic in the pipeline answers INTERNAL instead of ending the process.
func (m *Member) answer(call *QueryCall) (a *QueryAnswer, cacheable bool) {
	defer func() {
		if v := recover(); v != nil {
			m.log.Error("cluster grain: pipeline panicked", "panic", v)
			a, cacheable = &QueryAnswer{AnsweredBy: m.id, ErrorCode: "INTERNAL"}, false
		}
	}()
	req, err := decodeRequest(call.Request)
	if err != nil {
		return errorAnswer(m.id, err), false
	}
	ctx, cancel := context.WithDeadline(m.ctx, time.Unix(0, call.DeadlineUnixNano))
	defer cancel()
	res, err := m.opts.Local(ctx, req)
	if err != nil {
		return errorAnswer(m.id, err), false
	}
	b, err := encodeResult(&res)
	if err != nil {
		return errorAnswer(m.id, err), false
	}
	return &QueryAnswer{Result: b, AnsweredBy: m.id}, res.Success && !res.Degraded
}
