package supervision

import (
	"errors"

	"github.com/asynkron/protoactor-go/actor"
)

// rule maps a failure whose chain holds err (errors.Is) to a directive.
type rule struct {
	err       error
	directive actor.Directive
}

// decisions is the one table of what a failing actor's supervisor does, first match
// wins. It holds rules only for failures that can reach a supervisor: no actor of the
// core panics on purpose, so a failure is an injected fault (--fault-inject) or a bug
// (a runtime error, a panic with any value), and both restart with backoff under the
// intensity limit. Rules for requests nothing made (escalate, stop, resume on a bad
// request) were removed: an unreachable rule is a claim no test can check.
var decisions = []rule{
	{err: ErrInjectedFault, directive: actor.RestartDirective},
}

// Decide is the default actor.DeciderFunc: it maps a panic value to a directive with
// the decisions table; anything the table does not name restarts.
func Decide(reason any) actor.Directive {
	if err, ok := reason.(error); ok {
		for _, r := range decisions {
			if errors.Is(err, r.err) {
				return r.directive
			}
		}
	}
	return actor.RestartDirective
}

var _ actor.DeciderFunc = Decide
