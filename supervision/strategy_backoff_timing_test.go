package supervision

import (
	"fmt"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/bizra/bizra/internal/catalog"
)

// BenchmarkHandleFailure: the supervisor-side cost of one failure (decide, intensity
// check, schedule), without the actor system.
func BenchmarkHandleFailure(b *testing.B) {
	clock := newFakeClock()
	clock.added = make(chan time.Duration, 1<<20)
	s, err := NewBackoff(Options{Min: time.Millisecond, Max: time.Second, Jitter: 0.2, MaxRestarts: -1, Clock: clock})
	if err != nil {
		b.Fatal(err)
	}
	sup := &recSupervisor{}
	pid := actor.NewPID("nonhost", "root/worker")
	reason := fmt.Errorf("x: %w", ErrInjectedFault)
	b.ReportAllocs()
	for b.Loop() {
		s.HandleFailure(nil, sup, pid, nil, reason, nil)
		if len(clock.added) == cap(clock.added) {
			for len(clock.added) > 0 {
				<-clock.added
			}
		}
		clock.Advance(time.Second)
		sup.restarts = sup.restarts[:0]
	}
}

func BenchmarkDecide(b *testing.B) {
	reason := fmt.Errorf("op: %w", catalog.New(catalog.Timeout, "", "", "bench: timeout"))
	b.ReportAllocs()
	for b.Loop() {
		if Decide(reason) != actor.RestartDirective {
			b.Fatal("wrong directive")
		}
	}
}
