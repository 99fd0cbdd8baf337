package supervision

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// recSupervisor records what a strategy asked of it.
type recSupervisor struct {
	mu        sync.Mutex
	restarts  []*actor.PID
	stops     []*actor.PID
	resumes   []*actor.PID
	escalated []any
}

func (s *recSupervisor) Children() []*actor.PID { return nil }
func (s *recSupervisor) EscalateFailure(reason any, _ any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.escalated = append(s.escalated, reason)
}
func (s *recSupervisor) RestartChildren(p ...*actor.PID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.restarts = append(s.restarts, p...)
}
func (s *recSupervisor) StopChildren(p ...*actor.PID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stops = append(s.stops, p...)
}
func (s *recSupervisor) ResumeChildren(p ...*actor.PID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resumes = append(s.resumes, p...)
}

func (s *recSupervisor) counts() (restarts, stops, resumes, escalated int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.restarts), len(s.stops), len(s.resumes), len(s.escalated)
}

type restartRec struct {
	attempt int
	delay   time.Duration
}

type harness struct {
	b        *Backoff
	clock    *fakeClock
	sup      *recSupervisor
	restarts []restartRec
	escal    []int
}

func newHarness(t *testing.T, opts Options) *harness {
	t.Helper()
	h := &harness{clock: newFakeClock(), sup: &recSupervisor{}}
	opts.Clock = h.clock
	opts.OnRestart = func(_ *actor.PID, _ any, attempt int, d time.Duration) {
		h.restarts = append(h.restarts, restartRec{attempt, d})
	}
	opts.OnEscalate = func(_ *actor.PID, _ any, n int) { h.escal = append(h.escal, n) }
	b, err := NewBackoff(opts)
	if err != nil {
		t.Fatal(err)
	}
	h.b = b
	t.Cleanup(func() { _ = b.Shutdown(context.Background()) })
	return h
}

var child1 = actor.NewPID("nonhost", "root/worker-1")

// fail reports a failure of child and returns the scheduled delay (-1 when none).
func (h *harness) fail(child *actor.PID) time.Duration {
	n := len(h.restarts)
	h.b.HandleFailure(nil, h.sup, child, nil, errors.New("boom"), nil)
	if len(h.restarts) == n {
		return -1
	}
	return h.restarts[len(h.restarts)-1].delay
}

func TestDelaysGrowAndCap(t *testing.T) {
	h := newHarness(t, Options{Min: 100 * time.Millisecond, Max: time.Second, MaxRestarts: -1})
	want := []time.Duration{100, 200, 400, 800, 1000, 1000, 1000}
	for i, w := range want {
		w *= time.Millisecond
		d := h.fail(child1)
		if d != w {
			t.Fatalf("restart %d: delay %v; want %v", i+1, d, w)
		}
		if h.restarts[i].attempt != i+1 {
			t.Fatalf("restart %d: attempt %d", i+1, h.restarts[i].attempt)
		}
		// Nothing restarts before the delay, exactly one restart at it.
		h.clock.Advance(w - 1)
		if r, _, _, _ := h.sup.counts(); r != i {
			t.Fatalf("restart %d sent %v early", i+1, w)
		}
		h.clock.Advance(1)
		if r, _, _, _ := h.sup.counts(); r != i+1 {
			t.Fatalf("restart %d not sent after %v", i+1, w)
		}
	}
}

func TestDelayFormula(t *testing.T) {
	b, err := NewBackoff(Options{Min: time.Millisecond, Max: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		attempt int
		want    time.Duration
	}{
		{0, time.Millisecond}, {1, time.Millisecond}, {2, 2 * time.Millisecond}, {11, 1024 * time.Millisecond},
		{22, 2097152 * time.Millisecond}, {23, time.Hour}, {40, time.Hour}, {63, time.Hour}, {64, time.Hour}, {1 << 30, time.Hour},
	}
	for _, tt := range tests {
		if got := b.Delay(tt.attempt); got != tt.want {
			t.Errorf("Delay(%d) = %v; want %v", tt.attempt, got, tt.want)
		}
	}
}

func TestJitterBounds(t *testing.T) {
	const j = 0.2
	minD, maxD := 100*time.Millisecond, 1600*time.Millisecond
	// Pinned random values: the ends and the middle of the range.
	rs := []float64{0, 0.5, 0.999999, 0.25, 0.75, 0.5, 0.999999}
	i := 0
	h := newHarness(t, Options{Min: minD, Max: maxD, Jitter: j, MaxRestarts: -1, Rand: func() float64 { r := rs[i%len(rs)]; i++; return r }})
	wants := []time.Duration{80, 200, 480, 720, 1680, 1600, 1600} // ms, before the cap
	for k := range rs {
		d := h.fail(child1)
		w := min(wants[k]*time.Millisecond, maxD)
		if diff := d - w; diff < -time.Microsecond || diff > time.Microsecond {
			t.Fatalf("failure %d (r=%v): delay %v; want %v", k+1, rs[k], d, w)
		}
		h.clock.Advance(d)
	}

	// With the real random source: always within [d(1−j), min(Max, d(1+j))], and spread.
	h = newHarness(t, Options{Min: minD, Max: maxD, Jitter: j, MaxRestarts: -1})
	seen := map[time.Duration]bool{}
	for k := range 200 {
		d := h.fail(child1)
		attempt := h.restarts[len(h.restarts)-1].attempt
		base := h.b.Delay(attempt)
		lo, hi := time.Duration(float64(base)*(1-j)), min(maxD, time.Duration(float64(base)*(1+j)))
		if d < lo || d > hi {
			t.Fatalf("attempt %d: delay %v outside [%v, %v]", attempt, d, lo, hi)
		}
		seen[d] = true
		h.clock.Advance(d)
		if k%5 == 4 {
			h.clock.Advance(DefaultResetAfter) // quiet: start again at Min
		}
	}
	if len(seen) < 50 {
		t.Fatalf("only %d distinct delays in 200: jitter is not spreading", len(seen))
	}
}

func TestResetAfterQuietPeriod(t *testing.T) {
	h := newHarness(t, Options{Min: 100 * time.Millisecond, Max: 10 * time.Second, ResetAfter: 5 * time.Second, MaxRestarts: -1})
	for _, w := range []time.Duration{100, 200, 400} {
		if d := h.fail(child1); d != w*time.Millisecond {
			t.Fatalf("delay %v; want %vms", d, w)
		}
		h.clock.Advance(w * time.Millisecond)
	}
	// Quiet for just under ResetAfter since the restart: the backoff keeps growing.
	h.clock.Advance(5*time.Second - time.Nanosecond)
	if d := h.fail(child1); d != 800*time.Millisecond {
		t.Fatalf("after %v quiet: delay %v; want 800ms", 5*time.Second-time.Nanosecond, d)
	}
	h.clock.Advance(800 * time.Millisecond)
	// Quiet for ResetAfter: back to Min and attempt 1.
	h.clock.Advance(5 * time.Second)
	if d := h.fail(child1); d != 100*time.Millisecond || h.restarts[len(h.restarts)-1].attempt != 1 {
		t.Fatalf("after reset: delay %v attempt %d; want 100ms, 1", d, h.restarts[len(h.restarts)-1].attempt)
	}
	// Another child has its own count.
	if d := h.fail(actor.NewPID("nonhost", "root/other")); d != 100*time.Millisecond {
		t.Fatalf("second child: delay %v", d)
	}
}

func TestIntensityLimitEscalates(t *testing.T) {
	h := newHarness(t, Options{Min: 10 * time.Millisecond, Max: 100 * time.Millisecond, MaxRestarts: 3, Window: 10 * time.Second})
	for i := range 3 {
		if d := h.fail(child1); d < 0 {
			t.Fatalf("failure %d not restarted", i+1)
		}
		h.clock.Advance(time.Second)
	}
	if d := h.fail(child1); d != -1 {
		t.Fatalf("4th failure in the window restarted after %v", d)
	}
	if _, _, _, e := h.sup.counts(); e != 1 || len(h.escal) != 1 || h.escal[0] != 3 {
		t.Fatalf("escalations %d, hook %v; want 1, [3]", e, h.escal)
	}
	if h.b.Tracked() != 0 {
		t.Fatal("escalated child still tracked")
	}

	// Failures spread wider than the window never escalate.
	h = newHarness(t, Options{Min: 10 * time.Millisecond, Max: 100 * time.Millisecond, MaxRestarts: 3, Window: 10 * time.Second, ResetAfter: time.Hour})
	for i := range 20 {
		if d := h.fail(child1); d < 0 {
			t.Fatalf("failure %d escalated", i+1)
		}
		h.clock.Advance(4 * time.Second)
	}
	if _, _, _, e := h.sup.counts(); e != 0 {
		t.Fatalf("%d escalations", e)
	}
}

// TestDirectives: the strategy carries out each directive a Decider returns (Decide
// itself only restarts; a caller's Decider may resume, stop or escalate).
func TestDirectives(t *testing.T) {
	tests := []struct {
		name      string
		directive actor.Directive
		check     func(restarts, stops, resumes, escalated int) bool
	}{
		{"resume", actor.ResumeDirective, func(r, s, re, e int) bool { return re == 1 && r+s+e == 0 }},
		{"stop", actor.StopDirective, func(r, s, re, e int) bool { return s == 1 && r+re+e == 0 }},
		{"escalate", actor.EscalateDirective, func(r, s, re, e int) bool { return e == 1 && r+s+re == 0 }},
		{"restart", actor.RestartDirective,
			func(r, s, re, e int) bool { return r == 0 && s+re+e == 0 }}, // scheduled, not yet sent
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Options{Decider: func(any) actor.Directive { return tt.directive }})
			h.b.HandleFailure(nil, h.sup, child1, nil, "boom", nil)
			if !tt.check(h.sup.counts()) {
				r, s, re, e := h.sup.counts()
				t.Fatalf("restarts %d stops %d resumes %d escalations %d", r, s, re, e)
			}
		})
	}
}

func TestShutdownCancelsPendingRestarts(t *testing.T) {
	h := newHarness(t, Options{Min: time.Second})
	h.fail(child1)
	h.fail(actor.NewPID("nonhost", "root/b"))
	if h.clock.pending() != 2 {
		t.Fatalf("%d pending timers", h.clock.pending())
	}
	if err := h.b.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := h.b.Shutdown(context.Background()); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
	if h.clock.pending() != 0 {
		t.Fatal("timers survive Shutdown")
	}
	h.clock.Advance(time.Hour)
	h.b.HandleFailure(nil, h.sup, child1, nil, "late", nil)
	if r, s, _, _ := h.sup.counts(); r != 0 || s != 1 {
		t.Fatalf("after Shutdown: restarts %d stops %d; want 0, 1", r, s)
	}
}

func TestTrackedChildrenBounded(t *testing.T) {
	h := newHarness(t, Options{Min: time.Millisecond, MaxChildren: 8})
	for i := range 100 {
		d := h.fail(actor.NewPID("nonhost", fmt.Sprintf("root/w-%d", i)))
		h.clock.Advance(d)
	}
	if n := h.b.Tracked(); n > 8 {
		t.Fatalf("%d children tracked; bound 8", n)
	}
}

func TestOptionsValidation(t *testing.T) {
	bad := []Options{
		{Min: -1}, {Max: -time.Second}, {Min: 2 * time.Second, Max: time.Second},
		{Jitter: 1}, {Jitter: -0.1}, {ResetAfter: -1}, {Window: -1}, {MaxChildren: -1},
	}
	for _, o := range bad {
		if _, err := NewBackoff(o); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%+v: err %v", o, err)
		}
	}
	b, err := NewBackoff(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if b.Delay(1) != DefaultMin || b.Delay(100) != DefaultMax {
		t.Fatalf("defaults: %v %v", b.Delay(1), b.Delay(100))
	}
}
