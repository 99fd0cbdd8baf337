package ledger

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// ledgerActor is the single entry point for appends. Receive validates and hands the
// episode to the flusher's bounded queue; it never touches the disk.
type ledgerActor struct {
	l *Ledger
}

// Receive implements actor.Actor.
func (a *ledgerActor) Receive(ctx actor.Context) {
	var ep Episode
	switch m := ctx.Message().(type) {
	case *Append:
		ep = m.Episode
	case Append:
		ep = m.Episode
	default:
		return
	}
	norm, err := normalize(ep)
	if err == nil {
		err = a.l.enqueue(pending{ep: norm, sender: ctx.Sender(), enqueued: time.Now()})
	}
	if err != nil && ctx.Sender() != nil {
		ctx.Respond(failed(err))
	}
}
