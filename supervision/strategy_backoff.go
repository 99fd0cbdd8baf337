package supervision

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// Defaults for zero Options fields.
const (
	DefaultMin         = 100 * time.Millisecond
	DefaultMax         = 10 * time.Second
	DefaultResetAfter  = 30 * time.Second
	DefaultMaxRestarts = 5
	DefaultWindow      = 30 * time.Second
	DefaultMaxChildren = 4096
)

// Options configure a Backoff strategy. Zero values take the documented defaults.
type Options struct {
	// Min is the first restart delay (0 → 100 ms). Max caps the delay (0 → 10 s).
	// The n-th consecutive restart waits min(Max, Min·2^(n−1)), then jittered.
	Min, Max time.Duration
	// Jitter spreads each delay uniformly over ±Jitter of it, never past Max
	// (0 → no jitter; must be in [0, 1)).
	Jitter float64
	// ResetAfter: a child that has run this long since its last restart without failing
	// starts again at Min (0 → 30 s).
	ResetAfter time.Duration
	// MaxRestarts and Window are the intensity limit: a child failing more than
	// MaxRestarts times within Window is not restarted; the failure is escalated to the
	// supervisor's own parent (0 → 5 in 30 s; MaxRestarts < 0 → no limit).
	MaxRestarts int
	Window      time.Duration
	// Decider maps a panic value to a directive (nil → Decide). Only Restart is subject
	// to backoff and the intensity limit.
	Decider actor.DeciderFunc
	// OnRestart, when set, is called (on the supervisor's goroutine, so keep it quick)
	// each time a restart is scheduled; attempt counts from 1 since the last reset.
	OnRestart func(child *actor.PID, reason any, attempt int, delay time.Duration)
	// OnEscalate, when set, is called when the intensity limit escalates a failure;
	// restarts is the number of restarts within Window.
	OnEscalate func(child *actor.PID, reason any, restarts int)
	// FailureReply, when set, builds the reply sent at once to the sender of the message
	// being processed when the child failed (a RequestFuture caller, or an actor that
	// used ctx.Request), so the caller gets an error instead of waiting for its deadline.
	// message is the lost message (unwrapped from its envelope), so one supervisor can
	// answer each kind of child in the reply type its callers expect; nil from it, or a
	// nil FailureReply → no reply. It runs on the supervisor's goroutine; return plain data.
	FailureReply func(reason, message any) any
	// Clock and Rand (uniform in [0, 1)) are for tests; nil → real time, math/rand/v2.
	Clock Clock
	Rand  func() float64
	// MaxChildren bounds the per-child bookkeeping (0 → 4096); the stalest entries go first.
	MaxChildren int
}

// Backoff is a one-for-one actor.SupervisorStrategy with real exponential backoff,
// jitter, reset after a quiet period and an Erlang-style intensity limit. Create it
// with NewBackoff; one value may supervise any number of parents. Stop it with
// Shutdown when the actor system goes down.
type Backoff struct {
	opts Options

	mu       sync.Mutex
	children map[string]*childState
	closed   bool
	pending  sync.WaitGroup // scheduled restarts not yet finished
}

type childState struct {
	attempt   int         // consecutive restarts since the last reset
	failures  []time.Time // failure times within Window, at most MaxRestarts+1
	resumedAt time.Time   // when the child was (or will be) restarted
	timer     Timer       // the pending restart, nil when none
	gen       uint64      // identifies the pending restart
}

var _ actor.SupervisorStrategy = (*Backoff)(nil)

// NewBackoff returns a Backoff strategy, or an error wrapping ErrInvalidOptions.
func NewBackoff(opts Options) (*Backoff, error) {
	if opts.Min == 0 {
		opts.Min = DefaultMin
	}
	if opts.Max == 0 {
		opts.Max = max(DefaultMax, opts.Min)
	}
	if opts.ResetAfter == 0 {
		opts.ResetAfter = DefaultResetAfter
	}
	if opts.MaxRestarts == 0 {
		opts.MaxRestarts = DefaultMaxRestarts
	}
	if opts.Window == 0 {
		opts.Window = DefaultWindow
	}
	if opts.MaxChildren == 0 {
		opts.MaxChildren = DefaultMaxChildren
	}
	switch {
	case opts.Min < 0 || opts.Max < 0 || opts.ResetAfter < 0 || opts.Window < 0 || opts.MaxChildren < 0:
		return nil, fmt.Errorf("negative duration or bound: %w", ErrInvalidOptions)
	case opts.Min > opts.Max:
		return nil, fmt.Errorf("min %v above max %v: %w", opts.Min, opts.Max, ErrInvalidOptions)
	case !(opts.Jitter >= 0 && opts.Jitter < 1):
		return nil, fmt.Errorf("jitter %v outside [0, 1): %w", opts.Jitter, ErrInvalidOptions)
	}
	if opts.Decider == nil {
		opts.Decider = Decide
	}
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	if opts.Rand == nil {
		opts.Rand = rand.Float64
	}
	return &Backoff{opts: opts, children: make(map[string]*childState)}, nil
}

// Delay is the un-jittered delay of the attempt-th consecutive restart (from 1):
// min(Max, Min·2^(attempt−1)).
func (b *Backoff) Delay(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	if attempt > 63 || b.opts.Min<<(attempt-1)>>(attempt-1) != b.opts.Min {
		return b.opts.Max // the shift overflowed
	}
	return min(b.opts.Max, b.opts.Min<<(attempt-1))
}

// jittered spreads d over [d·(1−J), d·(1+J)], capped at Max.
func (b *Backoff) jittered(d time.Duration) time.Duration {
	if b.opts.Jitter == 0 || d <= 0 {
		return d
	}
	r := b.opts.Rand()
	if !(r >= 0 && r < 1) || math.IsNaN(r) {
		r = 0.5
	}
	f := 1 + b.opts.Jitter*(2*r-1)
	j := time.Duration(float64(d) * f)
	return min(max(j, 0), b.opts.Max)
}

func childKey(pid *actor.PID) string {
	if pid == nil {
		return ""
	}
	return pid.Address + "/" + pid.Id
}

// HandleFailure implements actor.SupervisorStrategy. It runs on the supervisor's
// goroutine and never blocks: a restart is scheduled on the Clock and sent to the child
// when its delay has passed; the child's mailbox stays suspended meanwhile.
func (b *Backoff) HandleFailure(system *actor.ActorSystem, supervisor actor.Supervisor, child *actor.PID,
	_ *actor.RestartStatistics, reason any, message any) {
	b.replyFailure(system, reason, message)
	directive := b.opts.Decider(reason)
	switch directive {
	case actor.ResumeDirective:
		publish(system, child, reason, directive)
		supervisor.ResumeChildren(child)
		return
	case actor.StopDirective:
		b.forget(child)
		publish(system, child, reason, directive)
		supervisor.StopChildren(child)
		return
	case actor.EscalateDirective:
		b.forget(child)
		supervisor.EscalateFailure(reason, message)
		return
	}

	now := b.opts.Clock.Now()
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		publish(system, child, reason, actor.StopDirective)
		supervisor.StopChildren(child)
		return
	}
	key := childKey(child)
	st := b.children[key]
	if st == nil {
		b.evictLocked(now)
		st = &childState{}
		b.children[key] = st
	}
	if st.timer != nil { // a failure while a restart is pending: supersede it
		if st.timer.Stop() {
			b.pending.Done()
		}
		st.timer = nil
	}
	if st.attempt > 0 && now.Sub(st.resumedAt) >= b.opts.ResetAfter {
		st.attempt = 0
	}
	// The intensity limit: failures within Window, this one included.
	if b.opts.MaxRestarts > 0 {
		kept := st.failures[:0]
		for _, t := range st.failures {
			if now.Sub(t) < b.opts.Window {
				kept = append(kept, t)
			}
		}
		st.failures = append(kept, now) // at most MaxRestarts+1 long
		if len(st.failures) > b.opts.MaxRestarts {
			restarts := len(st.failures) - 1
			delete(b.children, key)
			b.mu.Unlock()
			if b.opts.OnEscalate != nil {
				b.opts.OnEscalate(child, reason, restarts)
			}
			supervisor.EscalateFailure(reason, message)
			return
		}
	}
	st.attempt++
	attempt := st.attempt
	delay := b.jittered(b.Delay(attempt))
	st.resumedAt = now.Add(delay)
	st.gen++
	gen := st.gen
	if delay > 0 {
		b.pending.Add(1)
		st.timer = b.opts.Clock.AfterFunc(delay, func() { b.fire(supervisor, child, key, gen) })
	}
	b.mu.Unlock()

	if b.opts.OnRestart != nil {
		b.opts.OnRestart(child, reason, attempt, delay)
	}
	publish(system, child, reason, actor.RestartDirective)
	if delay <= 0 {
		supervisor.RestartChildren(child)
	}
}

// replyFailure answers the sender of the lost message, when FailureReply is set.
func (b *Backoff) replyFailure(system *actor.ActorSystem, reason, message any) {
	if b.opts.FailureReply == nil || system == nil {
		return
	}
	env, ok := message.(*actor.MessageEnvelope)
	if !ok || env.Sender == nil {
		return
	}
	if reply := b.opts.FailureReply(reason, env.Message); reply != nil {
		system.Root.Send(env.Sender, reply)
	}
}

// fire sends the scheduled restart unless it was superseded or the strategy shut down.
func (b *Backoff) fire(supervisor actor.Supervisor, child *actor.PID, key string, gen uint64) {
	defer b.pending.Done()
	b.mu.Lock()
	st := b.children[key]
	live := !b.closed && st != nil && st.gen == gen && st.timer != nil
	if live {
		st.timer = nil
	}
	b.mu.Unlock()
	if live {
		// Supervisor.RestartChildren only sends a system message to the child: it is safe
		// from this goroutine (unlike Children or EscalateFailure, which touch the
		// supervisor's state and are only called from HandleFailure).
		supervisor.RestartChildren(child)
	}
}

// forget drops a child's bookkeeping and cancels its pending restart.
func (b *Backoff) forget(child *actor.PID) {
	b.mu.Lock()
	defer b.mu.Unlock()
	key := childKey(child)
	if st := b.children[key]; st != nil {
		if st.timer != nil && st.timer.Stop() {
			b.pending.Done()
		}
		delete(b.children, key)
	}
}

// evictLocked makes room for one more child: entries quiet for longer than both
// ResetAfter and Window carry no information and go first, then the stalest ones.
func (b *Backoff) evictLocked(now time.Time) {
	if len(b.children) < b.opts.MaxChildren {
		return
	}
	quiet := max(b.opts.ResetAfter, b.opts.Window)
	for k, st := range b.children {
		if st.timer == nil && now.Sub(st.resumedAt) >= quiet {
			delete(b.children, k)
		}
	}
	if len(b.children) < b.opts.MaxChildren {
		return
	}
	var oldest string
	var oldestAt time.Time
	for k, st := range b.children {
		if st.timer == nil && (oldest == "" || st.resumedAt.Before(oldestAt)) {
			oldest, oldestAt = k, st.resumedAt
		}
	}
	if oldest != "" { // when every entry has a pending restart, allow the overshoot
		delete(b.children, oldest)
	}
}

// Tracked returns the number of children with bookkeeping (for tests and status).
func (b *Backoff) Tracked() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.children)
}

// Shutdown cancels every pending restart and waits for restarts already firing; after
// it, failing children are stopped instead of restarted. It is idempotent.
func (b *Backoff) Shutdown(ctx context.Context) error {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		for _, st := range b.children {
			if st.timer != nil && st.timer.Stop() {
				b.pending.Done()
			}
			st.timer = nil
		}
		clear(b.children)
	}
	b.mu.Unlock()
	done := make(chan struct{})
	go func() {
		b.pending.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("supervision: shutdown: %w", ctx.Err())
	}
}

func publish(system *actor.ActorSystem, child *actor.PID, reason any, d actor.Directive) {
	if system == nil || system.EventStream == nil {
		return
	}
	system.EventStream.Publish(&actor.SupervisorEvent{Child: child, Reason: reason, Directive: d})
}
