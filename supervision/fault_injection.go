package supervision

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"
)

// FaultInjection makes actors of one kind panic, so that supervision can be seen
// working (tests, `bizra gate`, chaos drills). The zero value is off.
type FaultInjection struct {
	// Kind is the actor kind to break, as passed to Middleware or Option ("" → off).
	Kind string
	// PanicOnNth: panic on the n-th user message (≤ 0 → off).
	PanicOnNth int
	// Repeat: also panic on every later multiple of PanicOnNth (a crash loop).
	Repeat bool
}

// Enabled reports whether f breaks actors of kind.
func (f FaultInjection) Enabled(kind string) bool {
	return f.Kind != "" && f.PanicOnNth > 0 && f.Kind == kind
}

// Middleware returns the receiver middleware for the props of actors of kind: nil
// when f does not target kind, so `actor.WithReceiverMiddleware(f.Middleware(k)...)`
// costs nothing when off. The count of user messages (lifecycle and system messages
// excluded) is shared by every actor spawned from the props it is installed in, and
// survives restarts; the panic value wraps ErrInjectedFault.
func (f FaultInjection) Middleware(kind string) []actor.ReceiverMiddleware {
	if !f.Enabled(kind) {
		return nil
	}
	n := int64(f.PanicOnNth)
	repeat := f.Repeat
	var seen atomic.Int64
	mw := func(next actor.ReceiverFunc) actor.ReceiverFunc {
		return func(c actor.ReceiverContext, env *actor.MessageEnvelope) {
			switch env.Message.(type) {
			case actor.AutoReceiveMessage, actor.SystemMessage:
				next(c, env)
				return
			}
			i := seen.Add(1)
			if i == n || (repeat && i%n == 0) {
				panic(fmt.Errorf("%s message %d: %w", kind, i, ErrInjectedFault))
			}
			next(c, env)
		}
	}
	return []actor.ReceiverMiddleware{mw}
}

// Option is Middleware as a props option: actor.PropsFromProducer(p, f.Option("cache")).
func (f FaultInjection) Option(kind string) actor.PropsOption {
	mw := f.Middleware(kind)
	return func(p *actor.Props) {
		if len(mw) > 0 {
			actor.WithReceiverMiddleware(mw...)(p)
		}
	}
}

// ParseFaultInjection parses "kind:n" or "kind:n:repeat" (e.g. from a flag that cmd
// reads); "" is off. Kinds are 1..64 characters of [a-z0-9_-].
func ParseFaultInjection(s string) (FaultInjection, error) {
	if s == "" {
		return FaultInjection{}, nil
	}
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 || (len(parts) == 3 && parts[2] != "repeat") {
		return FaultInjection{}, fmt.Errorf("fault injection %q: want kind:n or kind:n:repeat: %w", trunc(s), ErrInvalidOptions)
	}
	kind := parts[0]
	if len(kind) == 0 || len(kind) > 64 || strings.TrimFunc(kind, func(r rune) bool {
		return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-'
	}) != "" {
		return FaultInjection{}, fmt.Errorf("fault injection kind %q: want 1..64 of [a-z0-9_-]: %w", trunc(kind), ErrInvalidOptions)
	}
	n, err := strconv.Atoi(parts[1])
	if err != nil || n < 1 || n > 1_000_000_000 {
		return FaultInjection{}, fmt.Errorf("fault injection count %q: want 1..1000000000: %w", trunc(parts[1]), ErrInvalidOptions)
	}
	return FaultInjection{Kind: kind, PanicOnNth: n, Repeat: len(parts) == 3}, nil
}

func trunc(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
