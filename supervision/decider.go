package supervision

import (
	"errors"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/bizra/bizra/actors/catalog"
	"github.com/bizra/bizra/supervision/genesis"
)

// rule maps a failure to a directive: by sentinel (errors.Is) when err is set, by the
// catalog Kind of the first catalog sentinel in the chain otherwise.
type rule struct {
	err       error
	kind      catalog.Kind
	directive actor.Directive
}

// decisions is the one table of what a failing actor's supervisor does, first match
// wins. Failures that are not errors (a panic with a string, a runtime error) and
// errors without a catalog sentinel restart with backoff.
//
//   - explicit requests (ErrEscalate, ErrStopActor) are obeyed;
//   - a failed Node0 origin guard escalates: restarting cannot fix tampered genesis files;
//   - an injected fault restarts (that is what it is for);
//   - a failure caused by one bad request (invalid input, not found, unauthorized,
//     rate limited, conflict) resumes: the message is dropped, the actor keeps its state;
//   - everything else (internal, overloaded, timeout, unavailable) restarts.
var decisions = []rule{
	{err: ErrEscalate, directive: actor.EscalateDirective},
	{err: ErrStopActor, directive: actor.StopDirective},
	{err: genesis.ErrEnforcement, directive: actor.EscalateDirective},
	{err: ErrInjectedFault, directive: actor.RestartDirective},
	{kind: catalog.InvalidInput, directive: actor.ResumeDirective},
	{kind: catalog.InvalidJSON, directive: actor.ResumeDirective},
	{kind: catalog.PayloadTooLarge, directive: actor.ResumeDirective},
	{kind: catalog.NotFound, directive: actor.ResumeDirective},
	{kind: catalog.MethodNotAllowed, directive: actor.ResumeDirective},
	{kind: catalog.Unauthorized, directive: actor.ResumeDirective},
	{kind: catalog.RateLimited, directive: actor.ResumeDirective},
	{kind: catalog.Conflict, directive: actor.ResumeDirective},
	{kind: catalog.Overloaded, directive: actor.RestartDirective},
	{kind: catalog.Timeout, directive: actor.RestartDirective},
	{kind: catalog.Unavailable, directive: actor.RestartDirective},
	{kind: catalog.Internal, directive: actor.RestartDirective},
}

// Decide is the default actor.DeciderFunc: it maps a panic value to a directive with
// the decisions table.
func Decide(reason any) actor.Directive {
	err, ok := reason.(error)
	if !ok {
		return actor.RestartDirective
	}
	var ce *catalog.Error
	hasKind := errors.As(err, &ce)
	for _, r := range decisions {
		if r.err != nil {
			if errors.Is(err, r.err) {
				return r.directive
			}
			continue
		}
		if hasKind && ce.Kind() == r.kind {
			return r.directive
		}
	}
	return actor.RestartDirective
}

var _ actor.DeciderFunc = Decide
