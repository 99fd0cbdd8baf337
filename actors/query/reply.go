package query

import (
	"github.com/asynkron/protoactor-go/actor"
)

// replySlot is where the engine waits for a worker's answer: a process registered
// under its own PID that keeps the first message sent to it and drops the rest. It
// replaces a protoactor Future, whose result field two concurrent replies (a dead
// letter and WorkerStopped, say) would race on; here the first reply wins, whatever
// sends it.
type replySlot struct{ ch chan any }

var _ actor.Process = (*replySlot)(nil)

func (s *replySlot) SendUserMessage(_ *actor.PID, message any) {
	_, msg, _ := actor.UnwrapEnvelope(message)
	select {
	case s.ch <- msg:
	default: // answered already
	}
}

func (s *replySlot) SendSystemMessage(*actor.PID, any) {}
func (s *replySlot) Stop(*actor.PID)                   {}

// newReplySlot registers a slot; release unregisters it (always call it).
func newReplySlot(sys *actor.ActorSystem) (slot *replySlot, pid *actor.PID, release func()) {
	slot = &replySlot{ch: make(chan any, 1)}
	pid, _ = sys.ProcessRegistry.Add(slot, "query"+sys.ProcessRegistry.NextId())
	return slot, pid, func() { sys.ProcessRegistry.Remove(pid) }
}
