package supervision

import (
	"fmt"
	"strings"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/asynkron/protoactor-go/actor"
)

// Hooks are the OnRestart and OnEscalate callbacks of Options.
type Hooks struct {
	OnRestart  func(child *actor.PID, reason any, attempt int, delay time.Duration)
	OnEscalate func(child *actor.PID, reason any, restarts int)
}

// MetricsHooks returns hooks that count sovereign_actor_restarts_total{kind} and
// sovereign_actor_escalations_total{kind} in set (nil → a new set). kindOf maps a child
// to a bounded label; nil → KindOf. Install them with
// Options{OnRestart: h.OnRestart, OnEscalate: h.OnEscalate}.
func MetricsHooks(set *metrics.Set, kindOf func(*actor.PID) string) Hooks {
	if set == nil {
		set = metrics.NewSet()
	}
	if kindOf == nil {
		kindOf = KindOf
	}
	return Hooks{
		OnRestart: func(child *actor.PID, _ any, _ int, _ time.Duration) {
			set.GetOrCreateCounter(fmt.Sprintf(`sovereign_actor_restarts_total{kind=%q}`, kindOf(child))).Inc()
		},
		OnEscalate: func(child *actor.PID, _ any, _ int) {
			set.GetOrCreateCounter(fmt.Sprintf(`sovereign_actor_escalations_total{kind=%q}`, kindOf(child))).Inc()
		},
	}
}

// KindOf is the default kind label of a child: the last segment of its PID id, cut at
// the first '-', '$' or digit after it ("root/inference-ollama" → "inference",
// "root/worker7" → "worker"), at most 32 bytes of [a-z0-9_]; an anonymous ("$12") or
// empty name is "anonymous". Name actors "<kind>" or "<kind>-<instance>" to keep the
// label bounded.
func KindOf(pid *actor.PID) string {
	if pid == nil {
		return "anonymous"
	}
	name := pid.Id
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	end := 0
	for end < len(name) && end < 32 {
		c := name[end]
		if !(c >= 'a' && c <= 'z' || c == '_') {
			break
		}
		end++
	}
	if end == 0 {
		return "anonymous"
	}
	return name[:end]
}
