package query

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
)

// Pool is the bounded CPU pool the query workers hand reasoning and retrieval to, so
// no worker blocks inside Receive: a deep query occupies one pool goroutine while the
// others serve what is queued behind it. It owns its goroutines; Stop waits for them.
type Pool struct {
	log    *slog.Logger
	tasks  chan func(context.Context)
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	closed bool // mu guards closed and the close of tasks
}

// NewPool starts size goroutines (≥ 1) behind a queue of queue tasks (≥ 1). logger may
// be nil.
func NewPool(size, queue int, logger *slog.Logger) *Pool {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Pool{log: logger, tasks: make(chan func(context.Context), max(queue, 1)), ctx: ctx, cancel: cancel}
	for range max(size, 1) {
		p.wg.Go(p.loop)
	}
	return p
}

func (p *Pool) loop() {
	for f := range p.tasks {
		p.run(f)
	}
}

// run runs one task; a panic is logged and ends the task, never the process (tasks
// recover their own panics to answer their caller; this is the last resort).
func (p *Pool) run(f func(context.Context)) {
	defer func() {
		if v := recover(); v != nil {
			p.log.Error("query pool task panicked", "panic", fmt.Sprint(v))
		}
	}()
	f(p.ctx)
}

// Submit queues f without blocking; false when the queue is full or the pool stopped.
// f's context is cancelled by Stop.
func (p *Pool) Submit(f func(context.Context)) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	select {
	case p.tasks <- f:
		return true
	default:
		return false
	}
}

// Stopped reports whether Stop was called.
func (p *Pool) Stopped() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// Stop cancels the running tasks' context, lets the queued ones see it, and waits for
// every goroutine. Idempotent.
func (p *Pool) Stop() {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		p.cancel()
		close(p.tasks)
	}
	p.mu.Unlock()
	p.wg.Wait()
}
