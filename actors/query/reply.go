package query

import (
	"github.com/asynkron/protoactor-go/actor"
)

// ReplySlot is where a caller outside the actors waits for one reply: a process
// registered under its own PID that keeps the first message sent to it and drops the
// rest. It replaces a protoactor Future, whose result field two concurrent replies (a
// dead letter and WorkerStopped, say) would race on; here the first reply wins,
// whatever sends it. The engine waits on one for a worker's answer, and
// actors/cluster for a remote grain's.
type ReplySlot struct{ ch chan any }

var _ actor.Process = (*ReplySlot)(nil)

// C delivers the first message sent to the slot.
func (s *ReplySlot) C() <-chan any { return s.ch }

func (s *ReplySlot) SendUserMessage(_ *actor.PID, message any) {
	_, msg, _ := actor.UnwrapEnvelope(message)
	select {
	case s.ch <- msg:
	default: // answered already
	}
}

func (s *ReplySlot) SendSystemMessage(*actor.PID, any) {}
func (s *ReplySlot) Stop(*actor.PID)                   {}

// NewReplySlot registers a slot under a PID named prefix plus a fresh id; release
// unregisters it (always call it).
func NewReplySlot(sys *actor.ActorSystem, prefix string) (slot *ReplySlot, pid *actor.PID, release func()) {
	slot = &ReplySlot{ch: make(chan any, 1)}
	pid, _ = sys.ProcessRegistry.Add(slot, prefix+sys.ProcessRegistry.NextId())
	return slot, pid, func() { sys.ProcessRegistry.Remove(pid) }
}
