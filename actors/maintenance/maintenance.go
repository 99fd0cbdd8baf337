// Package maintenance implements the maintenance loop, the one thing bizra calls
// "autonomous" (core.md): a loop that wakes every interval, observes the runtime
// through a list of tasks, decides what needs doing, and acts. Its counts feed
// sovereign_autonomous_cycles_total, _decisions_total and _actions_total.
//
// It is plain code, not an actor: its only state was one "a cycle is running" bit, and
// a mailbox serialised nothing the two goroutines below do not. The Loop owns a ticker
// goroutine and a cycle goroutine; the ticker hands each tick to the cycle goroutine
// without blocking, and a tick that finds a cycle still running is skipped and counted
// as skipped, so cycles never pile up. Shutdown stops both and waits for them.
//
// # Concurrency
//
// Start and Shutdown may be called from any goroutine; Shutdown is idempotent and waits
// for the running cycle. Task functions run on the cycle goroutine, one at a time.
package maintenance

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Task is one thing the loop watches.
type Task struct {
	// Name is a bounded label for logs.
	Name string
	// Check observes and decides. It returns nil when nothing needs doing, else the
	// action to run.
	Check func(ctx context.Context) (act func(ctx context.Context) error)
}

// Options configures the loop.
type Options struct {
	// Logger; nil discards.
	Logger *slog.Logger
	// Interval between cycles; 0 means 10 s.
	Interval time.Duration
	// Timeout bounds one cycle; 0 means the interval.
	Timeout time.Duration
	// Tasks are checked in order every cycle.
	Tasks []Task
	// OnCycle receives each finished cycle's decisions and actions (for the
	// sovereign_autonomous_* counters); nil ignores them.
	OnCycle func(decisions, actions int)
}

// Stats counts the loop's work.
type Stats struct {
	Cycles, Decisions, Actions, Failures, Skipped uint64
}

// Loop is the maintenance loop.
type Loop struct {
	opts Options
	log  *slog.Logger
	kick chan struct{} // unbuffered: a send succeeds only when the cycle goroutine waits

	cycles, decisions, actions, failures, skipped atomic.Uint64

	wg      sync.WaitGroup
	ctx     context.Context
	cancel  context.CancelFunc
	started atomic.Bool
	stopped atomic.Bool
}

type cycleDone struct{ decisions, actions, failures int }

// New builds a loop; nothing runs until Start.
func New(opts Options) (*Loop, error) {
	if opts.Interval <= 0 {
		opts.Interval = 10 * time.Second
	}
	if opts.Timeout <= 0 {
		opts.Timeout = opts.Interval
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &Loop{opts: opts, log: log.With("component", "maintenance"), kick: make(chan struct{})}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	return l, nil
}

// Start starts the ticker and cycle goroutines; the first cycle runs after one interval.
func (l *Loop) Start(context.Context) error {
	if !l.started.CompareAndSwap(false, true) {
		return errors.New("maintenance: already started")
	}
	l.wg.Go(func() {
		t := time.NewTicker(l.opts.Interval)
		defer t.Stop()
		for {
			select {
			case <-l.ctx.Done():
				return
			case <-t.C:
				select {
				case l.kick <- struct{}{}:
				default:
					l.skipped.Add(1) // a cycle is still running
				}
			}
		}
	})
	l.wg.Go(func() {
		for {
			select {
			case <-l.ctx.Done():
				return
			case <-l.kick:
				cctx, cancel := context.WithTimeout(l.ctx, l.opts.Timeout)
				d := l.cycle(cctx)
				cancel()
				l.record(d)
			}
		}
	})
	return nil
}

// RunOnce runs one cycle now, on the caller's goroutine, and returns its counts. For
// tests and `bizra doctor`; it does not go through the actor.
func (l *Loop) RunOnce(ctx context.Context) (decisions, actions, failures int) {
	d := l.cycle(ctx)
	l.record(d)
	return d.decisions, d.actions, d.failures
}

// Stats returns the counts so far.
func (l *Loop) Stats() Stats {
	return Stats{Cycles: l.cycles.Load(), Decisions: l.decisions.Load(), Actions: l.actions.Load(),
		Failures: l.failures.Load(), Skipped: l.skipped.Load()}
}

// Shutdown stops the loop and waits for a running cycle (whose context it cancels).
// Idempotent.
func (l *Loop) Shutdown(ctx context.Context) error {
	if !l.started.Load() || !l.stopped.CompareAndSwap(false, true) {
		return nil
	}
	l.cancel()
	done := make(chan struct{})
	go func() { l.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *Loop) cycle(ctx context.Context) cycleDone {
	var d cycleDone
	for _, t := range l.opts.Tasks {
		if ctx.Err() != nil {
			break
		}
		act := t.Check(ctx)
		if act == nil {
			continue
		}
		d.decisions++
		if err := act(ctx); err != nil {
			d.failures++
			l.log.Warn("maintenance action failed", "task", t.Name, "err", err)
			continue
		}
		d.actions++
	}
	return d
}

func (l *Loop) record(d cycleDone) {
	l.cycles.Add(1)
	l.decisions.Add(uint64(d.decisions))
	l.actions.Add(uint64(d.actions))
	l.failures.Add(uint64(d.failures))
	if l.opts.OnCycle != nil {
		l.opts.OnCycle(d.decisions, d.actions)
	}
}
