package core

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/bizra/bizra/actors/cache"
	"github.com/bizra/bizra/actors/query"
	"github.com/bizra/bizra/internal/reasoning"
)

// Actor kinds of the core's children (see kinds in tree.go): the bounded labels of the
// restart metric and of /v1/status "actors".
const (
	KindWorker    = "worker"    // a query worker
	KindLedger    = "ledger"    // the experience ledger's writer actor
	KindSealer    = "sealer"    // a receipt service's sealer actor
	KindInference = "inference" // the inference router and one actor per backend
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
	r.cacheRef.Store(r.cache)
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

	wopts := query.WorkerOptions{Logger: r.log.With("component", "query"),
		Index:           func() query.Searcher { return r.searcher() },
		Inference:       r.infer.PID(),
		ModelDecomposes: len(r.opts.Inference.Backends) > 0,
		Ledger:          r.ledger.PID(), Artifacts: r.artifacts, Policy: r.policy,
		Safety: r.safetyPolicy, Recorder: r.recorder, EnforceIhsan: r.opts.EnforceIhsan, Load: r.load,
		Pool: r.pool}
	wprops := query.WorkerProps(wopts).Configure(
		actor.WithMailbox(actor.Bounded(r.opts.Queue+16, r.mailboxes.of(KindWorker))))
	var workers []*actor.PID
	for range r.opts.Workers {
		pid := r.spawner.SpawnPrefix(wprops, KindWorker)
		if pid == nil {
			return fmt.Errorf("core supervisor could not spawn a query worker")
		}
		workers = append(workers, pid)
	}
	// The engine stops before the workers: the first stop of Shutdown, and again here
	// for a Start that failed after this step.
	r.onStop("query engine", func(context.Context) error {
		if r.engine != nil {
			r.engine.Stop()
		}
		return nil
	})
	r.engine, err = query.NewEngine(query.EngineOptions{System: r.opts.System, Logger: r.log.With("component", "query"),
		Metrics: r.qmetrics, Cache: r.cache, Receipts: r.receipts, Workers: workers, Queue: r.opts.Queue,
		Safety: r.safetyPolicy, Load: r.load})
	if err != nil {
		return err
	}
	r.engineRef.Store(r.engine)
	return nil
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
