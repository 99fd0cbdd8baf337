package maintenance

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRunOnceCountsDecisionsAndActions(t *testing.T) {
	var cycles, decisions, actions int
	var acted atomic.Int32
	l, err := New(Options{Tasks: []Task{
		{Name: "idle", Check: func(context.Context) func(context.Context) error { return nil }},
		{Name: "works", Check: func(context.Context) func(context.Context) error {
			return func(context.Context) error { acted.Add(1); return nil }
		}},
		{Name: "fails", Check: func(context.Context) func(context.Context) error {
			return func(context.Context) error { return errors.New("disk full") }
		}},
	}, OnCycle: func(d, a int) { cycles++; decisions += d; actions += a }})
	if err != nil {
		t.Fatal(err)
	}
	d, a, f := l.RunOnce(context.Background())
	if d != 2 || a != 1 || f != 1 || acted.Load() != 1 {
		t.Fatalf("decisions %d actions %d failures %d acted %d; want 2 1 1 1", d, a, f, acted.Load())
	}
	if cycles != 1 || decisions != 2 || actions != 1 {
		t.Fatalf("OnCycle saw %d cycles, %d decisions, %d actions; want 1 2 1", cycles, decisions, actions)
	}
}

func TestLoopTicksAndShutsDown(t *testing.T) {
	var checks atomic.Int32
	var cycles atomic.Int32
	l, err := New(Options{Interval: 20 * time.Millisecond, Tasks: []Task{
		{Name: "count", Check: func(context.Context) func(context.Context) error {
			checks.Add(1)
			return func(context.Context) error { return nil }
		}},
	}, OnCycle: func(int, int) { cycles.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for cycles.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d cycles in 5 s at a 20 ms interval", cycles.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := l.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.Shutdown(ctx); err != nil {
		t.Fatalf("second shutdown: %v", err)
	}
	s := l.Stats()
	if s.Cycles < 3 || s.Actions != s.Cycles || s.Decisions != s.Cycles {
		t.Fatalf("stats %+v: want one decision and one action per cycle", s)
	}
}

func TestSlowCycleSkipsTicks(t *testing.T) {
	release := make(chan struct{})
	l, _ := New(Options{Interval: 5 * time.Millisecond, Tasks: []Task{
		{Name: "slow", Check: func(ctx context.Context) func(context.Context) error {
			select {
			case <-release:
			case <-ctx.Done():
			}
			return nil
		}},
	}})
	if err := l.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for l.Stats().Skipped == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	close(release)
	if l.Stats().Skipped == 0 {
		t.Fatal("a tick during a running cycle was not skipped")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := l.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}
