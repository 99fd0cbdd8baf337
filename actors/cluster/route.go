package cluster

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/identitylookup/disthash"

	"github.com/bizra/bizra/actors/query"
)

// maxAttempts bounds the owners one query is sent to (the first and its successors
// after losses or stale activations).
const maxAttempts = 4

// activationWait bounds one activation request (disthash's own Get waits 5s).
const activationWait = 5 * time.Second

// outcome of one request to a member.
type outcome int

const (
	answered outcome = iota
	deadLetter
	lost
	timedOut
	stopping
)

// Query answers req from the grain that owns its cache key, wherever it lives: in
// process when this member owns it, over the remote otherwise. The owner's pipeline
// does everything (gates, cache, reasoning, ledger, receipt); this member adds the hop.
// When the owner is lost before it answers, the query goes to the key's next owner
// while its deadline allows, else fails with ErrMemberLost; it never waits past its
// deadline. With no member list yet it runs on this member's pipeline.
func (m *Member) Query(ctx context.Context, req query.Request) (query.Result, error) {
	if m.state.Load() != stateRunning {
		return query.Result{}, query.ErrStopped
	}
	start := time.Now()
	if err := query.Validate(&req); err != nil {
		return query.Result{}, err // the owner would refuse it too: no hop
	}
	req.Query = strings.TrimSpace(req.Query)
	key, err := query.CacheKey(&req)
	if err != nil {
		return query.Result{}, err
	}
	identity := hex.EncodeToString(key[:])
	deadline := start.Add(time.Duration(req.TimeoutMs) * time.Millisecond)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	body, err := encodeRequest(&req)
	if err != nil {
		return query.Result{}, fmt.Errorf("cluster: %w", err)
	}
	call := &QueryCall{Request: body, DeadlineUnixNano: deadline.UnixNano(), From: m.id}
	wasLost := false
	for range maxAttempts {
		if !time.Now().Before(deadline) {
			break
		}
		addr := m.owner(identity)
		if addr == "" || (addr == m.addr && m.opts.Cached != nil && m.opts.Cached(&req)) {
			// no member list yet, or a hit this member owns: its own pipeline, here
			res, err := m.opts.Local(ctx, req)
			if err == nil {
				res.Detail.AnsweredBy = m.id
			}
			return res, err
		}
		pid, oc := m.activate(identity, addr, deadline)
		if oc == answered {
			var reply any
			t0 := time.Now()
			reply, oc = m.request(pid, call, deadline)
			if addr != m.addr {
				m.met.remoteCalls.Inc()
				m.met.nRemote.Add(1)
			}
			if oc == answered {
				a, ok := reply.(*QueryAnswer)
				if !ok {
					return query.Result{}, fmt.Errorf("%w: unexpected reply %T", ErrRemote, reply)
				}
				if addr != m.addr {
					m.met.remoteLatency.UpdateDuration(t0)
				}
				if a.Retry {
					m.c.PidCache.Remove(identity, QueryKind)
					m.met.failDead.Inc()
					m.met.nFailures.Add(1)
					continue
				}
				if a.ErrorCode != "" {
					return query.Result{}, answerError(a)
				}
				res, err := decodeResult(a.Result)
				if err != nil {
					return query.Result{}, err
				}
				res.Detail.AnsweredBy = a.AnsweredBy
				return res, nil
			}
		}
		m.c.PidCache.Remove(identity, QueryKind)
		m.met.nFailures.Add(1)
		switch oc {
		case lost:
			m.met.failLost.Inc()
			wasLost = true
		case deadLetter:
			m.met.failDead.Inc() // a stopped grain or a gone member: ask again
		case stopping:
			return query.Result{}, query.ErrStopped
		case timedOut:
			m.met.failTimeout.Inc()
		}
		if oc == timedOut {
			break
		}
	}
	if wasLost {
		return query.Result{}, fmt.Errorf("query %s: %w", identity[:12], ErrMemberLost)
	}
	return query.Result{}, query.ErrTimeout
}

// activate returns the grain's PID at addr: from the PID cache, or by disthash's
// activation request to the owner's placement actor, bounded by the deadline.
func (m *Member) activate(identity, addr string, deadline time.Time) (*actor.PID, outcome) {
	if pid, ok := m.c.PidCache.Get(identity, QueryKind); ok && pid.Address == addr {
		return pid, answered
	}
	wait := time.Now().Add(activationWait)
	if deadline.Before(wait) {
		wait = deadline
	}
	target := actor.NewPID(addr, disthash.PartitionActivatorActorName)
	reply, oc := m.request(target, &cluster.ActivationRequest{ClusterIdentity: cluster.NewClusterIdentity(identity, QueryKind)}, wait)
	if oc != answered {
		if oc == timedOut && wait.Before(deadline) {
			oc = lost // the owner did not answer its activation in 5s
		}
		if oc != lost {
			m.met.failActivation.Inc()
		}
		return nil, oc
	}
	resp, ok := reply.(*cluster.ActivationResponse)
	if !ok || resp.Pid == nil {
		m.met.failActivation.Inc()
		return nil, deadLetter
	}
	m.c.PidCache.Set(identity, QueryKind, resp.Pid)
	return resp.Pid, answered
}

// request sends msg to pid and waits for the first reply, the deadline, the loss of
// pid's member, or the member's shutdown.
func (m *Member) request(pid *actor.PID, msg any, deadline time.Time) (any, outcome) {
	wait := time.Until(deadline)
	if wait <= 0 {
		return nil, timedOut
	}
	lostCh := m.lostSignal(pid.Address)
	slot, replyTo, release := query.NewReplySlot(m.sys, "cluster")
	defer release()
	m.sys.Root.RequestWithCustomSender(pid, msg, replyTo)
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case r := <-slot.C():
		if _, ok := r.(*actor.DeadLetterResponse); ok {
			return nil, deadLetter
		}
		return r, answered
	case <-lostCh:
		return nil, lost
	case <-timer.C:
		return nil, timedOut
	case <-m.ctx.Done():
		return nil, stopping
	}
}
