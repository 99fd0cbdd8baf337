package core

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/bizra/bizra/actors/cache"
	"github.com/bizra/bizra/actors/catalog"
	"github.com/bizra/bizra/actors/query"
	"github.com/bizra/bizra/actors/reasoning"
	"github.com/bizra/bizra/supervision"
)

// Actor kinds of the core's children: the bounded labels of the restart metric and of
// /v1/status "actors".
const (
	KindWorker = "worker"
	KindCache  = "cache"
	KindLedger = "ledger" // the experience ledger's writer actor (top level)
	KindSealer = "sealer" // a receipt service's sealer actor (top level)
)

// restartCounts counts restarts and escalations per actor kind for /v1/status.
type restartCounts struct {
	mu sync.Mutex
	// mu guards the following fields.
	restarts, escalations map[string]uint64
}

func (c *restartCounts) restart(kind string) {
	c.mu.Lock()
	c.restarts[kind]++
	c.mu.Unlock()
}

func (c *restartCounts) escalate(kind string) {
	c.mu.Lock()
	c.escalations[kind]++
	c.mu.Unlock()
}

func (c *restartCounts) get(kind string) (uint64, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.restarts[kind], c.escalations[kind]
}

// mailboxStats counts messages posted to and received by the mailboxes of one actor
// kind; the difference is their depth.
type mailboxStats struct {
	mu sync.Mutex
	// mu guards the following fields.
	byKind map[string]*kindMailbox
}

type kindMailbox struct{ posted, received atomic.Int64 }

func (k *kindMailbox) MailboxStarted()     {}
func (k *kindMailbox) MessagePosted(any)   { k.posted.Add(1) }
func (k *kindMailbox) MessageReceived(any) { k.received.Add(1) }
func (k *kindMailbox) MailboxEmpty()       {}
func (k *kindMailbox) depth() int64        { return max(0, k.posted.Load()-k.received.Load()) }
func (m *mailboxStats) kinds() map[string]*kindMailbox {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]*kindMailbox, len(m.byKind))
	for k, v := range m.byKind {
		out[k] = v
	}
	return out
}

func (m *mailboxStats) of(kind string) *kindMailbox {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := m.byKind[kind]
	if k == nil {
		k = &kindMailbox{}
		m.byKind[kind] = k
	}
	return k
}

// children asks the root supervisor for its children's PIDs; it answers childrenReply.
type children struct{}

type childrenReply struct{ workers []*actor.PID }

// rootActor is the core's supervisor. It spawns the cache actor and the query workers
// on Started (and again after its own restart, under the same names, so their PIDs stay
// valid), and supervises them with the strategy in its props.
type rootActor struct {
	r       *Runtime
	workers []*actor.PID
}

func (a *rootActor) Receive(ctx actor.Context) {
	switch ctx.Message().(type) {
	case *actor.Started:
		a.workers = a.workers[:0]
		r := a.r
		cacheProps := cache.Props(r.cache).Configure(
			actor.WithMailbox(actor.Bounded(1024, r.mailboxes.of(KindCache))))
		cacheProps = cacheProps.Configure(r.opts.FaultInjection.Option(KindCache))
		if _, err := ctx.SpawnNamed(cacheProps, KindCache); err != nil {
			r.log.Error("spawn cache actor", "err", err)
		}
		wopts := query.WorkerOptions{Logger: r.log.With("component", "query"),
			Index:           func() query.Searcher { return r.idx.Load() },
			Inference:       r.infer.PID(),
			ModelDecomposes: len(r.opts.Inference.Backends) > 0,
			Ledger:          r.ledger.PID(), Artifacts: r.artifacts, Policy: r.policy,
			Safety: r.safetyPolicy, Recorder: r.recorder, EnforceIhsan: r.opts.EnforceIhsan, Load: r.load,
			Pool: r.pool}
		wprops := query.WorkerProps(wopts).Configure(
			actor.WithMailbox(actor.Bounded(r.opts.Queue+16, r.mailboxes.of(KindWorker))),
			r.opts.FaultInjection.Option(KindWorker))
		for i := range r.opts.Workers {
			pid, err := ctx.SpawnNamed(wprops, KindWorker+"-"+strconv.Itoa(i))
			if err != nil {
				r.log.Error("spawn query worker", "worker", i, "err", err)
				continue
			}
			a.workers = append(a.workers, pid)
		}
	case *children:
		ctx.Respond(&childrenReply{workers: append([]*actor.PID(nil), a.workers...)})
	}
}

func (r *Runtime) startActors(ctx context.Context) error {
	var err error
	r.safetyPolicy, err = query.NewSafetyPolicy(r.opts.DenyPatterns)
	if err != nil {
		return err
	}
	r.cache, err = cache.New[query.Result](cache.Options{Capacity: r.opts.CacheEntries, TTL: r.opts.CacheTTL})
	if err != nil {
		return err
	}
	r.set.GetOrCreateGauge("sovereign_cache_entries", func() float64 { return float64(r.cache.Len()) })
	r.set.GetOrCreateGauge(`sovereign_build_info{version="`+r.opts.Version+`",goversion="`+runtime.Version()+`"}`,
		func() float64 { return 1 })
	r.set.GetOrCreateGauge("sovereign_uptime_seconds", func() float64 { return time.Since(r.start).Seconds() })
	r.artifacts = reasoning.NewArtifactStore(1000)
	r.recorder = reasoning.NewRecorder(r.set)
	r.load = &query.Load{}
	r.qmetrics = query.NewMetrics(r.set, r.Ready)
	// The reasoning pool outlives the workers that feed it: registered before the actor
	// core, it stops after it. Its queue holds every admitted query, so a worker's
	// hand-off never finds it full.
	r.pool = query.NewPool(r.opts.Workers, r.opts.Queue+16, r.log.With("component", "query"))
	r.onStop("reasoning pool", func(context.Context) error { r.pool.Stop(); return nil })

	hooks := supervision.MetricsHooks(r.set, supervision.KindOf)
	sopts := r.opts.Supervision
	userRestart, userEscalate := sopts.OnRestart, sopts.OnEscalate
	sopts.OnRestart = func(child *actor.PID, reason any, attempt int, delay time.Duration) {
		kind := supervision.KindOf(child)
		r.restarts.restart(kind)
		hooks.OnRestart(child, reason, attempt, delay)
		r.log.Warn("actor restarted", "actor_kind", kind, "pid", child.Id, "attempt", attempt,
			"delay", delay, "reason", fmt.Sprint(reason))
		if userRestart != nil {
			userRestart(child, reason, attempt, delay)
		}
	}
	sopts.OnEscalate = func(child *actor.PID, reason any, restarts int) {
		kind := supervision.KindOf(child)
		r.restarts.escalate(kind)
		r.escalated.Store(true)
		hooks.OnEscalate(child, reason, restarts)
		r.log.Error("actor crash loop escalated; the core supervisor restarts its children",
			"actor_kind", kind, "restarts", restarts, "reason", fmt.Sprint(reason))
		if userEscalate != nil {
			userEscalate(child, reason, restarts)
		}
	}
	if sopts.FailureReply == nil {
		// The query that was being processed when a worker crashed gets an answer at
		// once instead of waiting for its deadline.
		sopts.FailureReply = func(any, any) any {
			return &query.Done{Code: query.ErrWorkerRestarted.Code(), Kind: catalog.Unavailable,
				Message: query.ErrWorkerRestarted.Message()}
		}
	}
	strategy, err := supervision.NewBackoff(sopts)
	if err != nil {
		return err
	}
	props := actor.PropsFromProducer(func() actor.Actor { return &rootActor{r: r} },
		actor.WithSupervisor(strategy))
	root, err := r.opts.System.Root.SpawnNamed(props, "core")
	if err != nil {
		return err
	}
	r.root = root
	r.onStop("actor core", func(ctx context.Context) error {
		if r.engine != nil {
			r.engine.Stop()
		}
		return waitFuture(ctx, r.opts.System.Root.StopFuture(root))
	})
	reply, err := r.opts.System.Root.RequestFuture(root, &children{}, 5*time.Second).Result()
	if err != nil {
		return fmt.Errorf("core supervisor: %w", err)
	}
	workers := reply.(*childrenReply).workers
	if len(workers) == 0 {
		return fmt.Errorf("core supervisor started no query worker")
	}
	r.watchTopLevel()
	r.engine, err = query.NewEngine(query.EngineOptions{System: r.opts.System, Logger: r.log.With("component", "query"),
		Metrics: r.qmetrics, Cache: r.cache, Receipts: r.receipts, Workers: workers, Queue: r.opts.Queue,
		Safety: r.safetyPolicy, Load: r.load})
	return err
}

// faultProps adds the configured fault injection to the props of a component's actor.
func (r *Runtime) faultProps(kind string) func(*actor.Props) *actor.Props {
	return func(p *actor.Props) *actor.Props { return p.Configure(r.opts.FaultInjection.Option(kind)) }
}

// watchTopLevel counts the restarts of the top-level actors that the ledger and
// receipt packages spawn (protoactor's root strategy restarts them): they appear in
// /v1/status and sovereign_actor_restarts_total like the core's own children.
func (r *Runtime) watchTopLevel() {
	kinds := map[string]string{}
	if pid := r.ledger.PID(); pid != nil {
		kinds[pid.Id] = KindLedger
	}
	for _, s := range []interface{ PID() *actor.PID }{r.receipts, r.bridgeRcp} {
		if pid := s.PID(); pid != nil {
			kinds[pid.Id] = KindSealer
		}
	}
	sub := r.opts.System.EventStream.Subscribe(func(evt any) {
		e, ok := evt.(*actor.SupervisorEvent)
		if !ok || e.Child == nil || e.Directive != actor.RestartDirective {
			return
		}
		kind, ok := kinds[e.Child.Id]
		if !ok {
			return
		}
		r.restarts.restart(kind)
		r.set.GetOrCreateCounter(`sovereign_actor_restarts_total{kind="` + kind + `"}`).Inc()
		r.log.Warn("actor restarted", "actor_kind", kind, "pid", e.Child.Id, "reason", fmt.Sprint(e.Reason))
	})
	r.onStop("restart watch", func(context.Context) error {
		r.opts.System.EventStream.Unsubscribe(sub)
		return nil
	})
}

func waitFuture(ctx context.Context, f *actor.Future) error {
	done := make(chan error, 1)
	go func() { done <- f.Wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
