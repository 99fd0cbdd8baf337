package query

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/bizra/bizra/actors/inference"
	"github.com/bizra/bizra/actors/ledger"
	"github.com/bizra/bizra/internal/catalog"
	"github.com/bizra/bizra/internal/index"
	"github.com/bizra/bizra/internal/scoring"
)

// lake is a fixed Searcher: every search finds the same passages.
type lake []index.Hit

func (l lake) Search(string, int) []index.Hit { return l }

var bridgeLake = lake{{Source: "notes.md:L1", Doc: "notes.md", Text: "The bridge listens on port 9742 for desktop clients.", Norm: 0.9}}

// fakeInference answers every Ask with reply (its text made of the first evidence).
type fakeInference struct{ err error }

func (f fakeInference) Receive(ctx actor.Context) {
	m, ok := ctx.Message().(*inference.Ask)
	if !ok {
		return
	}
	a := &inference.Answered{ID: m.ID, Err: f.err}
	if f.err == nil && len(m.Request.Evidence) > 0 {
		e := m.Request.Evidence[0]
		a.Answer = inference.Answer{Text: e.Excerpt, Backend: inference.EmbeddedBackend, Model: inference.EmbeddedModel,
			Sentences: []inference.Sentence{{Text: e.Excerpt, Source: e.Source}}, TokensUsed: 10}
	}
	ctx.Respond(a)
}

// fakeLedger acknowledges every Append, or refuses it with fail.
type fakeLedger struct {
	fail    error
	appends *atomic.Int64
}

func (f fakeLedger) Receive(ctx actor.Context) {
	if _, ok := ctx.Message().(*ledger.Append); !ok {
		return
	}
	f.appends.Add(1)
	if f.fail != nil {
		ctx.Respond(&ledger.AppendFailed{Code: catalog.Lookup(f.fail).Code, Detail: f.fail.Error()})
		return
	}
	ctx.Respond(&ledger.Appended{Sequence: 1, EpisodeHash: strings.Repeat("ab", 32)})
}

type workerRig struct {
	sys     *actor.ActorSystem
	worker  *actor.PID
	pool    *Pool
	appends atomic.Int64
}

// newWorkerRig spawns one worker with fake inference and ledger actors; everything is
// stopped at cleanup (goleak checks it).
func newWorkerRig(t *testing.T, idx Searcher, inferErr error, ledgerFail error, pool bool) *workerRig {
	t.Helper()
	rig := &workerRig{sys: actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	}))}
	t.Cleanup(rig.sys.Shutdown)
	inf := rig.sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return fakeInference{err: inferErr} }))
	led := rig.sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return fakeLedger{fail: ledgerFail, appends: &rig.appends} }))
	safety, err := NewSafetyPolicy(nil)
	if err != nil {
		t.Fatal(err)
	}
	opts := WorkerOptions{Index: func() Searcher { return idx }, Inference: inf, Ledger: led,
		Policy: scoring.Default(), Safety: safety, Load: &Load{}}
	if pool {
		rig.pool = NewPool(2, 8, nil)
		opts.Pool = rig.pool
		t.Cleanup(rig.pool.Stop)
	}
	rig.worker = rig.sys.Root.Spawn(WorkerProps(opts).Configure(actor.WithReceiverMiddleware(poisonMiddleware)))
	t.Cleanup(func() {
		for _, pid := range []*actor.PID{rig.worker, inf, led} {
			_ = rig.sys.Root.StopFuture(pid).Wait()
		}
	})
	return rig
}

func (rig *workerRig) run(t *testing.T, req Request) *Done {
	t.Helper()
	now := time.Now()
	run := &Run{Request: req, QueryID: NewQueryID(now), StartUnixNano: now.UnixNano(),
		DeadlineUnixNano: now.Add(10 * time.Second).UnixNano()}
	res, err := rig.sys.Root.RequestFuture(rig.worker, run, 10*time.Second).Result()
	if err != nil {
		t.Fatalf("worker reply: %v", err)
	}
	d, ok := res.(*Done)
	if !ok {
		t.Fatalf("worker reply %T", res)
	}
	return d
}

// TestWorkerPipeline: the worker's stages end to end against fake inference and
// ledger actors, with and without the reasoning pool.
func TestWorkerPipeline(t *testing.T) {
	shallow := NewRequest("which port does the bridge use?")
	plain := shallow
	plain.RequireReasoning = false
	tests := []struct {
		name       string
		idx        Searcher
		req        Request
		inferErr   error
		ledgerFail error
		wantCode   string // "" → a completed result
		success    bool
		episode    bool
	}{
		{"reasoned answer is committed", bridgeLake, shallow, nil, nil, "", true, true},
		{"retrieval answer is committed", bridgeLake, plain, nil, nil, "", true, true},
		{"no evidence is a rejected result", lake{}, shallow, inference.ErrNoEvidence, nil, "", false, false},
		{"backend failure is the query's error", bridgeLake, shallow, inference.ErrBackend, nil, inference.ErrBackend.Code(), false, false},
		{"unwritable ledger is STORAGE_UNAVAILABLE", bridgeLake, shallow, nil, ledger.ErrDiskFull, ledger.ErrStorageUnavailable.Code(), false, false},
		{"full ledger queue is OVERLOADED", bridgeLake, shallow, nil, ledger.ErrOverloaded, ErrOverloaded.Code(), false, false},
		{"a query without content terms is refused", bridgeLake, func() Request { r := plain; r.Query = "the of and"; return r }(), nil, nil, ErrInvalidQuery.Code(), false, false},
	}
	for _, pooled := range []bool{false, true} {
		for _, tt := range tests {
			name := tt.name
			if pooled {
				name += " (pool)"
			}
			t.Run(name, func(t *testing.T) {
				rig := newWorkerRig(t, tt.idx, tt.inferErr, tt.ledgerFail, pooled)
				d := rig.run(t, tt.req)
				if tt.wantCode != "" {
					if d.Err() == nil || catalog.Lookup(d.Err()).Code != tt.wantCode {
						t.Fatalf("failure %v (code %q); want code %q", d.Err(), catalog.Lookup(d.Err()).Code, tt.wantCode)
					}
					return
				}
				if d.Err() != nil {
					t.Fatalf("failure %v; want a result", d.Err())
				}
				if d.Result.Success != tt.success || (d.Result.Detail.Episode != nil) != tt.episode {
					t.Fatalf("success %v episode %v; want %v %v", d.Result.Success, d.Result.Detail.Episode, tt.success, tt.episode)
				}
				if tt.success && !strings.Contains(d.Result.Response, "9742") {
					t.Fatalf("response %q", d.Result.Response)
				}
			})
		}
	}
}

// blockingLake blocks every search until release is closed: a deep query that holds a
// pool goroutine.
type blockingLake struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func (b *blockingLake) Search(string, int) []index.Hit {
	b.once.Do(func() { close(b.entered) })
	<-b.release
	return bridgeLake
}

// TestWorkerNotBlockedByReasoning: while one query's reasoning is held on the pool,
// the same worker still receives and answers others (Receive never blocks on it).
func TestWorkerNotBlockedByReasoning(t *testing.T) {
	bl := &blockingLake{entered: make(chan struct{}), release: make(chan struct{})}
	var slow atomic.Bool
	slow.Store(true)
	idx := switchLake{slow: &slow, blocking: bl}
	rig := newWorkerRig(t, idx, nil, nil, true)
	now := time.Now()
	held := rig.sys.Root.RequestFuture(rig.worker, &Run{Request: NewRequest("which port does the bridge use?"),
		QueryID: "q-held", StartUnixNano: now.UnixNano(), DeadlineUnixNano: now.Add(10 * time.Second).UnixNano()}, 10*time.Second)
	<-bl.entered
	slow.Store(false)
	if d := rig.run(t, NewRequest("which port does the bridge use? again")); d.Err() != nil || !d.Result.Success {
		t.Fatalf("query behind a held one: %+v", d)
	}
	close(bl.release)
	res, err := held.Result()
	if d, ok := res.(*Done); err != nil || !ok || d.Err() != nil {
		t.Fatalf("held query: %v %v", res, err)
	}
}

// switchLake sends searches to blocking while slow is set, else answers at once.
type switchLake struct {
	slow     *atomic.Bool
	blocking *blockingLake
}

func (s switchLake) Search(q string, k int) []index.Hit {
	if s.slow.Load() {
		return s.blocking.Search(q, k)
	}
	return bridgeLake
}

// TestWorkerRestartAnswersHeldJobs: a worker that crashes while it holds queries (one
// waiting on the pool) answers each WORKER_RESTARTED at once, and the result the pool
// delivers afterwards is dropped by the fresh instance.
func TestWorkerRestartAnswersHeldJobs(t *testing.T) {
	bl := &blockingLake{entered: make(chan struct{}), release: make(chan struct{})}
	rig := newWorkerRig(t, bl, nil, nil, true)
	now := time.Now()
	f := rig.sys.Root.RequestFuture(rig.worker, &Run{Request: NewRequest("which port does the bridge use?"),
		QueryID: "q-held", StartUnixNano: now.UnixNano(), DeadlineUnixNano: now.Add(10 * time.Second).UnixNano()}, 10*time.Second)
	<-bl.entered
	rig.sys.Root.Send(rig.worker, &poison{})
	res, err := f.Result()
	d, ok := res.(*Done)
	if err != nil || !ok || !errors.Is(d.Err(), ErrWorkerRestarted) {
		t.Fatalf("held query after the crash: %v %v", res, err)
	}
	close(bl.release) // the pool's late result goes to the fresh worker, which drops it
	if !errors.Is(d.Err(), ErrWorkerRestarted) {
		t.Fatalf("Done.Err() = %v", d.Err())
	}
}

// poison makes the worker panic (as a bug would): the rig's props carry a middleware
// that panics on it.
type poison struct{}

func poisonMiddleware(next actor.ReceiverFunc) actor.ReceiverFunc {
	return func(c actor.ReceiverContext, env *actor.MessageEnvelope) {
		if _, ok := env.Message.(*poison); ok {
			panic("query: test poison")
		}
		next(c, env)
	}
}

// TestPool: tasks run, a panicking task does not end the pool, Submit after Stop is
// refused, and Stop cancels the running tasks' context and waits for them.
func TestPool(t *testing.T) {
	p := NewPool(2, 4, nil)
	var ran atomic.Int64
	done := make(chan struct{}, 3)
	for _, f := range []func(context.Context){
		func(context.Context) { ran.Add(1); done <- struct{}{} },
		func(context.Context) { defer func() { done <- struct{}{} }(); panic("boom") },
		func(context.Context) { ran.Add(1); done <- struct{}{} },
	} {
		if !p.Submit(f) {
			t.Fatal("submit refused on an idle pool")
		}
	}
	for range 3 {
		<-done
	}
	if ran.Load() != 2 {
		t.Fatalf("%d tasks ran; want 2 (and the panicking one contained)", ran.Load())
	}
	entered := make(chan struct{})
	var cancelled atomic.Bool
	if !p.Submit(func(ctx context.Context) { close(entered); <-ctx.Done(); cancelled.Store(true) }) {
		t.Fatal("submit refused")
	}
	<-entered
	p.Stop()
	if !cancelled.Load() {
		t.Fatal("Stop returned before the running task saw its context end")
	}
	if p.Submit(func(context.Context) {}) || !p.Stopped() {
		t.Fatal("Submit after Stop accepted")
	}
	p.Stop() // idempotent
}

// TestPoolQueueBounded: past its queue a pool refuses at once instead of blocking.
func TestPoolQueueBounded(t *testing.T) {
	p := NewPool(1, 1, nil)
	t.Cleanup(p.Stop)
	hold := make(chan struct{})
	entered := make(chan struct{})
	if !p.Submit(func(context.Context) { close(entered); <-hold }) {
		t.Fatal("first submit refused")
	}
	<-entered
	if !p.Submit(func(context.Context) {}) {
		t.Fatal("queued submit refused")
	}
	if p.Submit(func(context.Context) {}) {
		t.Fatal("submit past the queue accepted")
	}
	close(hold)
}

func TestFailureReply(t *testing.T) {
	if d, ok := FailureReply(&Run{}).(*Done); !ok || !errors.Is(d.Err(), ErrWorkerRestarted) {
		t.Fatalf("a lost Run: %v", FailureReply(&Run{}))
	}
	for _, m := range []any{&reasoned{}, "other", nil} {
		if r := FailureReply(m); r != nil {
			t.Fatalf("FailureReply(%T) = %v; want nil", m, r)
		}
	}
}
