package query

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test of the engine, the workers and the pool leaves no goroutine behind.
// protoactor's dead-letter throttle goroutine lives for its period after a message
// reaches a stopped actor; it ends on its own and is not ours.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/asynkron/protoactor-go/actor.NewDeadLetter.NewThrottle.func4.1"))
}
