package query

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/bizra/bizra/actors/cache"
	"github.com/bizra/bizra/actors/receipt"
	"github.com/bizra/bizra/internal/catalog"
)

// storageReceipts fails Issue like an unwritable receipt log while fail is set.
type storageReceipts struct {
	fail   atomic.Bool
	issued atomic.Int64
}

func (s *storageReceipts) Issue(in receipt.Input) (receipt.Ref, error) {
	if s.fail.Load() {
		return receipt.Ref{}, fmt.Errorf("%w: injected", receipt.ErrStorage)
	}
	n := s.issued.Add(1)
	return receipt.Ref{ReceiptID: fmt.Sprintf("qr-0000000000001-%016x", n), Status: in.Status}, nil
}

// answerWorker answers every Run with a successful, cacheable result.
type answerWorker struct{ runs *atomic.Int64 }

func (w answerWorker) Receive(ctx actor.Context) {
	if m, ok := ctx.Message().(*Run); ok {
		w.runs.Add(1)
		snr := 0.9
		ctx.Respond(&Done{Result: Result{QueryID: m.QueryID, Success: true, Response: "answer", SNRScore: &snr, SNROK: true},
			Completion: Completion{Success: true, CacheConsult: m.UseCache}})
	}
}

// TestFaultQueryReceiptStorage: a query whose receipt cannot be written fails with 503
// STORAGE_UNAVAILABLE, and nothing is cached (the next query runs the pipeline again);
// once the log works, the answer is cached and served from the cache with a receipt.
func TestFaultQueryReceiptStorage(t *testing.T) {
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	}))
	t.Cleanup(sys.Shutdown)
	var runs atomic.Int64
	pid := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return answerWorker{&runs} }))
	t.Cleanup(func() { _ = sys.Root.PoisonFuture(pid).Wait() })
	c, err := cache.New[Result](cache.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rc := &storageReceipts{}
	e, err := NewEngine(EngineOptions{System: sys, Metrics: NewMetrics(nil, nil), Cache: c, Receipts: rc, Workers: []*actor.PID{pid}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rc.fail.Store(true)
	for i := range 2 {
		res, err := e.Query(ctx, NewRequest("what is the answer?"))
		if !errors.Is(err, receipt.ErrStorage) || res.ReceiptID != "" || res.Success {
			t.Fatalf("query %d with a failing log: %+v %v", i, res, err)
		}
		if p := catalog.Lookup(err); p.HTTP != 503 || p.Code != "STORAGE_UNAVAILABLE" {
			t.Fatalf("rendering %+v", p)
		}
	}
	if c.Len() != 0 || runs.Load() != 2 {
		t.Fatalf("cache holds %d entries after failed receipts (%d runs)", c.Len(), runs.Load())
	}
	rc.fail.Store(false)
	res, err := e.Query(ctx, NewRequest("what is the answer?"))
	if err != nil || !res.Success || res.ReceiptID == "" || res.Cached {
		t.Fatalf("query after recovery: %+v %v", res, err)
	}
	hit, err := e.Query(ctx, NewRequest("what is the answer?"))
	if err != nil || !hit.Cached || hit.ReceiptID == "" || hit.ReceiptID == res.ReceiptID || runs.Load() != 3 {
		t.Fatalf("cache hit: %+v %v (runs %d)", hit, err, runs.Load())
	}
	// A cache hit whose receipt fails is not served either.
	rc.fail.Store(true)
	if _, err := e.Query(ctx, NewRequest("what is the answer?")); !errors.Is(err, receipt.ErrStorage) {
		t.Fatalf("cache hit with a failing log: %v", err)
	}
}

// silentWorker drops every Run (as a crash that loses the message does, without a
// failure reply).
type silentWorker struct{}

func (silentWorker) Receive(actor.Context) {}

// TestEngineLeavesNoSlotBehind: whatever becomes of a run (answered, lost and timed
// out, refused by a stopped engine), the in-flight slot and the queue ticket are gone
// when Query returns, and the gauges read them live.
func TestEngineLeavesNoSlotBehind(t *testing.T) {
	tests := []struct {
		name    string
		worker  func(*atomic.Int64) actor.Actor
		ctxWait time.Duration // the caller's deadline
		wantErr error
	}{
		{"answered", func(n *atomic.Int64) actor.Actor { return answerWorker{n} }, 10 * time.Second, nil},
		{"lost and timed out", func(*atomic.Int64) actor.Actor { return silentWorker{} }, 50 * time.Millisecond, ErrTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
				return slog.New(slog.DiscardHandler)
			}))
			t.Cleanup(sys.Shutdown)
			var runs atomic.Int64
			pid := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return tt.worker(&runs) }))
			t.Cleanup(func() { _ = sys.Root.PoisonFuture(pid).Wait() })
			m := NewMetrics(nil, nil)
			load := &Load{}
			e, err := NewEngine(EngineOptions{System: sys, Metrics: m, Workers: []*actor.PID{pid}, Load: load})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), tt.ctxWait)
			defer cancel()
			if _, err := e.Query(ctx, NewRequest("what is the answer?")); !errors.Is(err, tt.wantErr) {
				t.Fatalf("err %v; want %v", err, tt.wantErr)
			}
			if s := m.Snapshot(); e.InFlight() != 0 || load.Queued() != 0 || s.InFlight != 0 || s.Queued != 0 {
				t.Fatalf("in flight %d/%d, queued %d/%d after Query returned", e.InFlight(), s.InFlight, load.Queued(), s.Queued)
			}
		})
	}
}

// TestEngineWorkerStoppedAnswersQueuedRuns: runs still queued at a worker that stops
// (its mailbox gone) are answered WORKER_RESTARTED at once, not at their deadline.
func TestEngineWorkerStoppedAnswersQueuedRuns(t *testing.T) {
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	}))
	t.Cleanup(sys.Shutdown)
	pid := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return silentWorker{} }))
	t.Cleanup(func() { _ = sys.Root.PoisonFuture(pid).Wait() })
	load := &Load{}
	e, err := NewEngine(EngineOptions{System: sys, Metrics: NewMetrics(nil, nil), Workers: []*actor.PID{pid}, Load: load})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		req := NewRequest("what is the answer?")
		req.TimeoutMs = 600_000
		_, err := e.Query(context.Background(), req)
		got <- err
	}()
	for load.Queued() == 0 { // the silent worker never begins the run
		time.Sleep(time.Millisecond)
	}
	e.WorkerStopped(actor.NewPID(pid.Address, "someone-else"))
	if load.Queued() != 1 {
		t.Fatal("another worker's stop retired this run")
	}
	e.WorkerStopped(pid)
	if err := <-got; !errors.Is(err, ErrWorkerRestarted) {
		t.Fatalf("queued run after its worker stopped: %v; want ErrWorkerRestarted", err)
	}
	if load.Queued() != 0 || e.InFlight() != 0 {
		t.Fatalf("queued %d in flight %d", load.Queued(), e.InFlight())
	}
}

func TestCitedFirst(t *testing.T) {
	ev := []Evidence{{Source: "a:L1"}, {Source: "b:L2"}, {Source: "c:L3"}}
	for _, tc := range []struct {
		name  string
		cites []Citation
		want  string
	}{
		{"no citations keeps retrieval order", nil, "a:L1 b:L2 c:L3"},
		{"quoted passages first, by marker", []Citation{{Marker: 1, Source: "c:L3"}, {Marker: 2, Source: "a:L1"}}, "c:L3 a:L1 b:L2"},
		{"a passage quoted twice appears once", []Citation{{Marker: 1, Source: "b:L2"}, {Marker: 2, Source: "b:L2"}}, "b:L2 a:L1 c:L3"},
		{"a citation of no evidence changes nothing", []Citation{{Marker: 1, Source: "zz"}}, "a:L1 b:L2 c:L3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := citedFirst(ev, tc.cites)
			var s []string
			for _, e := range got {
				s = append(s, e.Source)
			}
			if strings.Join(s, " ") != tc.want || ev[0].Source != "a:L1" {
				t.Errorf("got %v, want %s (input %v)", s, tc.want, ev)
			}
		})
	}
}
