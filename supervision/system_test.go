package supervision

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// Messages of the test actors (plain data).
type (
	ping      struct{ N int }
	pong      struct{ N int }
	getChild  struct{}
	childIs   struct{ PID *actor.PID }
	failed    struct{ Code string }
	failureAt struct {
		Who    *actor.PID
		Reason any
	}
)

func newSystem(t *testing.T) *actor.ActorSystem {
	t.Helper()
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	}))
	t.Cleanup(sys.Shutdown)
	return sys
}

// echo answers ping with pong; starts counts its incarnations.
type echo struct{ starts *atomic.Int32 }

func (e *echo) Receive(c actor.Context) {
	switch m := c.Message().(type) {
	case *actor.Started:
		e.starts.Add(1)
	case *ping:
		c.Respond(&pong{N: m.N})
	}
}

// parent spawns one child from childProps when it starts and tells who it is.
type parent struct {
	childProps *actor.Props
	child      *actor.PID
}

func (p *parent) Receive(c actor.Context) {
	switch c.Message().(type) {
	case *actor.Started:
		p.child = c.Spawn(p.childProps)
	case *getChild:
		c.Respond(&childIs{PID: p.child})
	}
}

// recorder is a SupervisorStrategy that reports failures reaching it and stops the
// failed actor.
type recorder struct{ got chan failureAt }

func (r recorder) HandleFailure(_ *actor.ActorSystem, s actor.Supervisor, child *actor.PID, _ *actor.RestartStatistics, reason any, _ any) {
	r.got <- failureAt{Who: child, Reason: reason}
	s.StopChildren(child)
}

func request(t *testing.T, sys *actor.ActorSystem, pid *actor.PID, msg any) any {
	t.Helper()
	res, err := sys.Root.RequestFuture(pid, msg, 5*time.Second).Result()
	if err != nil {
		t.Fatalf("request %T: %v", msg, err)
	}
	return res
}

func waitDelay(t *testing.T, c *fakeClock) time.Duration {
	t.Helper()
	select {
	case d := <-c.added:
		return d
	case <-time.After(5 * time.Second):
		t.Fatal("no restart was scheduled")
		return 0
	}
}

// TestChildRestartsWithBackoffAndKeepsServing: a child panics through fault injection,
// is restarted after the backoff delay (the fake clock holds it until then) and answers
// afterwards.
func TestChildRestartsWithBackoffAndKeepsServing(t *testing.T) {
	sys := newSystem(t)
	clock := newFakeClock()
	restarts := make(chan int, 16)
	b, err := NewBackoff(Options{Min: 200 * time.Millisecond, Max: time.Second, Clock: clock,
		FailureReply: func(reason, _ any) any {
			if errors.Is(reason.(error), ErrInjectedFault) {
				return &failed{Code: "INJECTED_FAULT"}
			}
			return &failed{Code: "INTERNAL"}
		},
		OnRestart: func(_ *actor.PID, reason any, attempt int, _ time.Duration) {
			if errors.Is(reason.(error), ErrInjectedFault) {
				restarts <- attempt
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Shutdown(context.Background()) })

	var starts atomic.Int32
	faults := FaultInjection{Kind: "echo", PanicOnNth: 2}
	childProps := actor.PropsFromProducer(func() actor.Actor { return &echo{starts: &starts} }, faults.Option("echo"))
	parentPID := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return &parent{childProps: childProps} },
		actor.WithSupervisor(b)))
	child := request(t, sys, parentPID, &getChild{}).(*childIs).PID

	if got := request(t, sys, child, &ping{N: 1}).(*pong); got.N != 1 {
		t.Fatalf("pong %d", got.N)
	}
	// The injected panic: this message is lost, and its caller hears so at once.
	lost, err := sys.Root.RequestFuture(child, &ping{N: 2}, 5*time.Second).Result()
	if err != nil {
		t.Fatalf("caller of the lost message: %v", err)
	}
	if f, ok := lost.(*failed); !ok || f.Code != "INJECTED_FAULT" {
		t.Fatalf("caller of the lost message got %#v", lost)
	}
	if d := waitDelay(t, clock); d != 200*time.Millisecond {
		t.Fatalf("first restart delay %v; want 200ms", d)
	}
	if a := <-restarts; a != 1 {
		t.Fatalf("attempt %d", a)
	}
	// The child is suspended until the delay passes: a request now waits for it.
	fut := sys.Root.RequestFuture(child, &ping{N: 3}, 5*time.Second)
	clock.Advance(200 * time.Millisecond)
	res, err := fut.Result()
	if err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if res.(*pong).N != 3 {
		t.Fatalf("pong %v", res)
	}
	for i := 4; i < 10; i++ {
		if got := request(t, sys, child, &ping{N: i}).(*pong); got.N != i {
			t.Fatalf("pong %d; want %d", got.N, i)
		}
	}
	if n := starts.Load(); n != 2 {
		t.Fatalf("%d incarnations; want 2 (start and one restart)", n)
	}
}

// TestCrashLoopEscalates: a child that panics on every message is restarted with
// growing delays until the intensity limit escalates the failure to the parent's
// supervisor.
func TestCrashLoopEscalates(t *testing.T) {
	sys := newSystem(t)
	clock := newFakeClock()
	escalated := make(chan int, 1)
	b, err := NewBackoff(Options{Min: 100 * time.Millisecond, Max: time.Second, MaxRestarts: 3, Window: time.Minute, Clock: clock,
		OnEscalate: func(_ *actor.PID, _ any, n int) { escalated <- n }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Shutdown(context.Background()) })

	var starts atomic.Int32
	faults := FaultInjection{Kind: "echo", PanicOnNth: 1, Repeat: true}
	childProps := actor.PropsFromProducer(func() actor.Actor { return &echo{starts: &starts} }, faults.Option("echo"))
	parentProps := actor.PropsFromProducer(func() actor.Actor { return &parent{childProps: childProps} }, actor.WithSupervisor(b))
	rec := recorder{got: make(chan failureAt, 4)}
	grand := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return &parent{childProps: parentProps} },
		actor.WithSupervisor(rec)))
	parentPID := request(t, sys, grand, &getChild{}).(*childIs).PID
	child := request(t, sys, parentPID, &getChild{}).(*childIs).PID

	for i := range 4 {
		sys.Root.Send(child, &ping{N: i})
	}
	for _, want := range []time.Duration{100, 200, 400} {
		d := waitDelay(t, clock)
		if d != want*time.Millisecond {
			t.Fatalf("delay %v; want %vms", d, want)
		}
		clock.Advance(d)
	}
	select {
	case n := <-escalated:
		if n != 3 {
			t.Fatalf("escalated after %d restarts; want 3", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("crash loop did not escalate")
	}
	select {
	case f := <-rec.got:
		if f.Who.Id != parentPID.Id {
			t.Fatalf("failure reached the grandparent from %v; want the parent %v", f.Who, parentPID)
		}
		if err, _ := f.Reason.(error); !errors.Is(err, ErrInjectedFault) {
			t.Fatalf("escalated reason %v", f.Reason)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("grandparent's supervisor never saw the failure")
	}
	if n := starts.Load(); n != 4 {
		t.Fatalf("%d incarnations; want 4 (start and three restarts)", n)
	}
	if clock.pending() != 0 {
		t.Fatal("a restart is still scheduled after escalation")
	}
}
