package inference

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/asynkron/protoactor-go/actor"
	"github.com/bizra/bizra/actors/inference/mockllm"
)

// supervisor is a parent for the service's actors that can restart one of them, as a
// supervision strategy does after a panic.
type supervisor struct{ ready chan actor.Context }

type restartChild struct{ pid *actor.PID }

func (p *supervisor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		p.ready <- ctx
	case *restartChild:
		ctx.(actor.Supervisor).RestartChildren(m.pid)
	}
}

// TestFaultInferenceSlots restarts the backend actor mid-call, cancels calls and lets
// calls time out, and checks after each that every MaxInFlight slot came back: the
// in-flight count returns to 0 and MaxInFlight concurrent calls are all admitted.
func TestFaultInferenceSlots(t *testing.T) {
	const maxInFlight = 3
	type env struct {
		m   *mockllm.Server
		s   *Service
		sup *actor.PID
		sys *actor.ActorSystem
	}
	setup := func(t *testing.T) env {
		m := startMock(t, mockllm.Options{Latency: 3 * time.Second, Answer: "Blue light scatters most [physics/rayleigh.md]."})
		sys := newSystem(t)
		ready := make(chan actor.Context, 1)
		// Not poisoned at the end: its children are stopped by Shutdown, and stopping it
		// would send them stop messages as dead letters (whose throttle goroutine
		// outlives the test). An idle actor holds no goroutine.
		sup := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return &supervisor{ready: ready} }))
		opts := testOptions(sys, metrics.NewSet(), BackendConfig{Name: "be", Kind: KindOpenAI, URL: m.URL(), Model: "mock-small"})
		opts.MaxInFlight, opts.Spawner = maxInFlight, <-ready
		opts.ProbeInterval = time.Hour // no probe traffic in the counts
		return env{m: m, s: startService(t, opts), sup: sup, sys: sys}
	}
	inflight := func(e env) int64 { return e.s.backends[0].inflight.Load() }
	// fullCapacity checks that MaxInFlight calls are admitted at once (they overlap: the
	// mock holds each one until all have arrived).
	fullCapacity := func(t *testing.T, e env) {
		t.Helper()
		waitFor(t, "in-flight back to 0", 3*time.Second, func() bool { return inflight(e) == 0 })
		e.m.SetLatency(300 * time.Millisecond)
		var wg sync.WaitGroup
		errs := make(chan error, maxInFlight)
		for range maxInFlight {
			wg.Go(func() {
				ans, err := askAnswer(e.s, context.Background(), sampleRequest())
				if err == nil && (ans.Degraded || ans.Backend != "be") {
					err = errors.New("degraded: " + ans.DegradedReason)
				}
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("after the fault, a call within MaxInFlight failed: %v", err)
			}
		}
		waitFor(t, "in-flight back to 0", 3*time.Second, func() bool { return inflight(e) == 0 })
	}
	slowCalls := func(t *testing.T, e env, n int, dl time.Time) <-chan error {
		t.Helper()
		errs := make(chan error, n)
		for range n {
			go func() {
				req := sampleRequest()
				req.Deadline = dl
				ans, err := askAnswer(e.s, context.Background(), req)
				if err == nil && !ans.Degraded {
					err = errors.New("answered by the backend")
				}
				errs <- err
			}()
		}
		waitFor(t, "calls in flight", 3*time.Second, func() bool { return inflight(e) == int64(n) && e.m.Active() == n })
		return errs
	}

	t.Run("restart mid-call", func(t *testing.T) {
		e := setup(t)
		errs := slowCalls(t, e, maxInFlight, time.Now().Add(10*time.Second))
		e.sys.Root.Send(e.sup, &restartChild{pid: e.s.backends[0].pid})
		for range maxInFlight {
			// The router falls back to the embedded engine: a degraded answer.
			if err := <-errs; err != nil {
				t.Fatalf("call abandoned by the restart: %v", err)
			}
		}
		waitFor(t, "backend requests cancelled", 3*time.Second, func() bool { return e.m.Active() == 0 })
		fullCapacity(t, e)
	})
	t.Run("restart twice", func(t *testing.T) {
		e := setup(t)
		for range 2 {
			errs := slowCalls(t, e, maxInFlight, time.Now().Add(10*time.Second))
			e.sys.Root.Send(e.sup, &restartChild{pid: e.s.backends[0].pid})
			for range maxInFlight {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
			waitFor(t, "in-flight back to 0", 3*time.Second, func() bool { return inflight(e) == 0 })
		}
		fullCapacity(t, e)
	})
	t.Run("deadline", func(t *testing.T) {
		e := setup(t)
		errs := slowCalls(t, e, maxInFlight, time.Now().Add(400*time.Millisecond))
		for range maxInFlight {
			if err := <-errs; !errors.Is(err, ErrTimeout) {
				t.Fatalf("err %v, want TIMEOUT", err)
			}
		}
		fullCapacity(t, e)
	})
	t.Run("cancel pass-through", func(t *testing.T) {
		e := setup(t)
		ctx, cancel := context.WithCancel(context.Background())
		errs := make(chan error, maxInFlight)
		for range maxInFlight {
			go func() { _, err := e.s.Chat(ctx, chatReq("mock-small", false)); errs <- err }()
		}
		waitFor(t, "calls in flight", 3*time.Second, func() bool { return inflight(e) == maxInFlight && e.m.Active() == maxInFlight })
		cancel()
		for range maxInFlight {
			if err := <-errs; !errors.Is(err, ErrCanceled) {
				t.Fatalf("err %v, want CANCELED", err)
			}
		}
		fullCapacity(t, e)
	})
	t.Run("forward stream cancelled", func(t *testing.T) {
		e := setup(t)
		e.m.SetLatency(0)
		e.m.SetTokenDelay(time.Second)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var sts []*ForwardStream
		for range maxInFlight {
			st, err := e.s.OpenForwardStream(ctx, ForwardRequest{Path: "/v1/completions", Model: "mock-small", Stream: true,
				Body: forwardBody("/v1/completions", "mock-small", true, "")})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			if _, err := st.Next(); err != nil {
				t.Fatal(err)
			}
			sts = append(sts, st)
		}
		cancel()
		for _, st := range sts {
			if _, err := st.Next(); !errors.Is(err, ErrCanceled) {
				t.Fatalf("after cancel: %v, want CANCELED", err)
			}
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
		}
		e.m.SetTokenDelay(0)
		fullCapacity(t, e)
	})
	t.Run("backend gone mid-stream", func(t *testing.T) {
		e := setup(t)
		e.m.SetLatency(0)
		e.m.SetTokenDelay(time.Second)
		st, err := e.s.OpenForwardStream(context.Background(), ForwardRequest{Path: "/v1/responses", Model: "mock-small", Stream: true,
			Body: forwardBody("/v1/responses", "mock-small", true, "")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Next(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })                    // also on failure: Shutdown waits for open streams
		if err := e.m.SetDown(mockllm.DownRefuse); err != nil { // closes every connection
			t.Fatal(err)
		}
		for range 10 { // what was sent before the break is still delivered
			if _, err = st.Next(); err != nil {
				break
			}
		}
		if !errors.Is(err, ErrBackend) {
			t.Fatalf("broken stream: %v, want BACKEND_ERROR", err)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		if err := e.m.SetDown(mockllm.Up); err != nil {
			t.Fatal(err)
		}
		e.m.SetTokenDelay(0)
		fullCapacity(t, e)
	})
	t.Run("stream closed early", func(t *testing.T) {
		e := setup(t)
		e.m.SetLatency(0)
		e.m.SetTokenDelay(time.Second)
		for range maxInFlight {
			st, err := e.s.OpenChatStream(context.Background(), chatReq("mock-small", true))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			if _, err := st.Next(); err != nil && err != io.EOF {
				t.Fatal(err)
			}
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
		}
		e.m.SetTokenDelay(0)
		fullCapacity(t, e)
	})
}
