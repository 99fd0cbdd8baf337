package inference

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/bizra/bizra/actors/inference/mockllm"
)

// crashRouter is a message that makes a test's router hook panic.
type crashRouter struct{}

// TestFaultInferenceRouterRestart crashes the router while asks are pending (on its own
// follow-up message embeddedDone, and on an unrelated message while backend calls are
// in flight) and checks that its Restarting handler answers every pending ask at once
// with BACKEND_ERROR instead of leaving it to its deadline (TIMEOUT) or to a late
// backend answer, and that the restarted router serves the next ask normally.
func TestFaultInferenceRouterRestart(t *testing.T) {
	tests := []struct {
		name      string
		asks      int  // Asks pending when the router crashes
		backend   bool // an external backend whose calls are in flight when the router crashes
		crashOn   func(msg any) bool
		decompose bool
	}{
		// one ask: its own embeddedDone crashes the router, so nothing else would answer it
		{name: "on embeddedDone", asks: 1, crashOn: func(msg any) bool { _, ok := msg.(*embeddedDone); return ok }},
		{name: "with backend calls in flight", asks: 2, backend: true, decompose: true,
			crashOn: func(msg any) bool { _, ok := msg.(*crashRouter); return ok }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sys := newSystem(t)
			var backends []BackendConfig
			var m *mockllm.Server
			if tt.backend {
				// the backend answers well after the crash but well before the deadline:
				// a pending ask left alone would get this answer, not BACKEND_ERROR
				m = startMock(t, mockllm.Options{Latency: 2 * time.Second, Answer: "Blue light scatters most [physics/rayleigh.md]."})
				backends = append(backends, BackendConfig{Name: "be", Kind: KindOpenAI, URL: m.URL(), Model: "mock-small"})
			}
			opts := testOptions(sys, metrics.NewSet(), backends...)
			opts.ProbeInterval = time.Hour
			opts.DefaultTimeout = 20 * time.Second
			s, err := New(opts)
			if err != nil {
				t.Fatal(err)
			}
			var armed atomic.Bool
			armed.Store(true)
			crashed := make(chan struct{})
			s.rt.routerHook = func(msg any) {
				if tt.crashOn(msg) && armed.CompareAndSwap(true, false) {
					close(crashed)
					panic("injected router crash")
				}
			}
			startServiceNew(t, s)

			type result struct {
				err    error
				answer Answer
			}
			asks := tt.asks
			results := make(chan result, asks+1)
			dl := time.Now().Add(8 * time.Second)
			for range asks {
				go func() {
					req := sampleRequest()
					req.Deadline = dl
					res, err := askService(s, t.Context(), &Ask{Request: req}, dl)
					if err == nil {
						a := res.(*Answered)
						err = a.Err
						results <- result{err: err, answer: a.Answer}
						return
					}
					results <- result{err: err}
				}()
			}
			if tt.decompose {
				asks++
				go func() {
					res, err := askService(s, t.Context(), &DecomposeAsk{Query: "Why is the sky blue and why is grass green?", Max: 3, Deadline: dl}, dl)
					if err == nil {
						err = res.(*Decomposed).Err
					}
					results <- result{err: err}
				}()
			}
			if tt.backend {
				waitFor(t, "backend calls in flight", 3*time.Second, func() bool { return m.Active() == asks })
				s.opts.System.Root.Send(s.PID(), &crashRouter{})
			}
			<-crashed
			for range asks {
				r := <-results
				if !errors.Is(r.err, ErrBackend) {
					t.Fatalf("a pending ask got %v (answer %q), want BACKEND_ERROR from the restart", r.err, r.answer.Text)
				}
			}
			// the restarted router serves the next ask
			ans, err := askAnswer(s, t.Context(), sampleRequest())
			if err != nil || ans.Text == "" {
				t.Fatalf("after the restart: %+v, %v", ans, err)
			}
		})
	}
}

// startServiceNew starts s (made with New) and shuts it down at cleanup.
func startServiceNew(t *testing.T, s *Service) {
	t.Helper()
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
}
