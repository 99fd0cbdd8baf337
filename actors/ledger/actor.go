package ledger

import (
	"fmt"
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

// FailureReply is the reply a supervisor sends at once to the sender of an Append lost
// in a crash of the ledger actor (supervision.Options.FailureReply): the caller learns
// nothing was recorded instead of waiting for its deadline. nil for other messages.
// The actor holds no state of its own (the queue and the flusher live in the Ledger),
// so a fresh instance from its producer is all a restart needs.
func FailureReply(msg any) any {
	switch msg.(type) {
	case *Append, Append:
		return failed(fmt.Errorf("sel: ledger actor restarted, episode not recorded: %w", ErrClosed))
	}
	return nil
}
