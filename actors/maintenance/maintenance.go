// Package maintenance implements the maintenance loop, the one thing bizra calls
// "autonomous" (core.md): a supervised actor that wakes every interval, observes the
// runtime through a list of tasks, decides what needs doing, and acts. Its counts feed
// sovereign_autonomous_cycles_total, _decisions_total and _actions_total.
//
// The actor accepts only its own tick and cycle-done messages. A cycle's checks and
// actions may touch files, caches and other actors, so they run on one goroutine owned
// by the Loop (never inside Receive); a tick that arrives while a cycle still runs is
// skipped and counted as skipped, so cycles never pile up.
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

	"github.com/asynkron/protoactor-go/actor"
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
	// System runs the loop's actor. Required.
	System *actor.ActorSystem
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
	// Props wraps the actor's props (for example with a supervisor strategy); nil
	// leaves them as they are.
	Props func(*actor.Props) *actor.Props
}

// Stats counts the loop's work.
type Stats struct {
	Cycles, Decisions, Actions, Failures, Skipped uint64
}

// Loop is the maintenance loop.
type Loop struct {
	opts Options
	log  *slog.Logger
	pid  *actor.PID

	cycles, decisions, actions, failures, skipped atomic.Uint64

	wg      sync.WaitGroup
	ctx     context.Context
	cancel  context.CancelFunc
	started atomic.Bool
	stopped atomic.Bool
}

type tick struct{}

type cycleDone struct{ decisions, actions, failures int }

// New builds a loop; nothing runs until Start.
func New(opts Options) (*Loop, error) {
	if opts.System == nil {
		return nil, errors.New("maintenance: Options.System is required")
	}
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
	l := &Loop{opts: opts, log: log.With("component", "maintenance")}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	return l, nil
}

// Start spawns the loop's actor; the first cycle runs after one interval.
func (l *Loop) Start(context.Context) error {
	if !l.started.CompareAndSwap(false, true) {
		return errors.New("maintenance: already started")
	}
	props := actor.PropsFromProducer(func() actor.Actor { return &loopActor{l: l} })
	if l.opts.Props != nil {
		props = l.opts.Props(props)
	}
	pid, err := l.opts.System.Root.SpawnNamed(props, "maintenance")
	if err != nil {
		return err
	}
	l.pid = pid
	// The ticker is a goroutine owned by the Loop rather than protoactor's timer
	// scheduler, whose cancel races with its own timer (a data race under -race).
	l.wg.Go(func() {
		t := time.NewTicker(l.opts.Interval)
		defer t.Stop()
		for {
			select {
			case <-l.ctx.Done():
				return
			case <-t.C:
				l.opts.System.Root.Send(pid, &tick{})
			}
		}
	})
	return nil
}

// PID returns the loop actor (nil before Start).
func (l *Loop) PID() *actor.PID { return l.pid }

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

// Shutdown stops the actor and waits for a running cycle. Idempotent.
func (l *Loop) Shutdown(ctx context.Context) error {
	if !l.started.Load() || !l.stopped.CompareAndSwap(false, true) {
		return nil
	}
	l.cancel() // stops the ticker
	if l.pid != nil {
		if err := l.opts.System.Root.StopFuture(l.pid).Wait(); err != nil && ctx.Err() == nil {
			l.log.Warn("stop maintenance actor", "err", err)
		}
	}
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

type loopActor struct {
	l       *Loop
	running bool
}

func (a *loopActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *tick:
		if a.running || a.l.stopped.Load() {
			a.l.skipped.Add(1)
			return
		}
		a.running = true
		self, root := ctx.Self(), a.l.opts.System.Root
		a.l.wg.Add(1)
		go func() {
			defer a.l.wg.Done()
			cctx, cancel := context.WithTimeout(a.l.ctx, a.l.opts.Timeout)
			d := a.l.cycle(cctx)
			cancel()
			if a.l.stopped.Load() {
				a.l.record(d) // the actor is gone; count the cycle here
				return
			}
			root.Send(self, &d)
		}()
	case *cycleDone:
		a.running = false
		a.l.record(*m)
	}
}
