package maintenance

import (
	"context"
	"log/slog"
	"sync"

	"github.com/VictoriaMetrics/metrics"

	"github.com/bizra/bizra/supervision/genesis"
)

// Security event kinds counted by GenesisTask in
// sovereign_security_events_total{kind}.
const (
	// EventGenesisSwapped: the genesis on disk is another document (another genesis
	// hash or identity key) than the one validated at start.
	EventGenesisSwapped = "genesis_swapped"
	// EventGenesisInvalid: the genesis on disk no longer validates (edited in place,
	// deleted, its key file changed).
	EventGenesisInvalid = "genesis_invalid"
)

// SecurityEventsMetric is the counter family of security events, by bounded kind.
const SecurityEventsMetric = "sovereign_security_events_total"

// GenesisOptions configures GenesisTask.
type GenesisOptions struct {
	// Guard is the node0 origin guard started by the runtime. Required.
	Guard *genesis.Guard
	// Logger receives the security events; nil discards.
	Logger *slog.Logger
	// Metrics receives sovereign_security_events_total{kind}; nil is a private set.
	Metrics *metrics.Set
	// OnChange is called (on the cycle goroutine) with each verdict that differs from
	// the previous one, before the event is logged: the runtime publishes the new
	// origin and health there. nil ignores it.
	OnChange func(genesis.Verdict)
}

// GenesisTask is the maintenance task that re-verifies a node0's genesis every
// cycle (proof.md: the maintenance loop re-verifies the files each cycle; a failure
// turns health unhealthy and is logged as a security event). Its check re-reads the
// files through the guard; when the verdict changes it decides to act, and the action
// calls OnChange, logs at ERROR with event=security and kind (or at WARN when the
// chain validates again) and counts sovereign_security_events_total{kind}. A verdict
// that stays failed is one event, not one per cycle; a failure whose reason changes
// (another swap) is a new event.
func GenesisTask(o GenesisOptions) Task {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	set := o.Metrics
	if set == nil {
		set = metrics.NewSet()
	}
	swapped := set.GetOrCreateCounter(SecurityEventsMetric + `{kind="` + EventGenesisSwapped + `"}`)
	invalid := set.GetOrCreateCounter(SecurityEventsMetric + `{kind="` + EventGenesisInvalid + `"}`)
	var mu sync.Mutex // cycles run one at a time; the lock keeps RunOnce callers honest too
	last := o.Guard.Last()
	return Task{Name: "genesis_reverify", Check: func(context.Context) func(context.Context) error {
		v := o.Guard.Check()
		mu.Lock()
		changed := v != last
		prev := last
		last = v
		mu.Unlock()
		if !changed {
			return nil
		}
		return func(context.Context) error {
			if o.OnChange != nil {
				o.OnChange(v)
			}
			switch {
			case v.OK:
				log.Warn("node0 genesis chain validates again; health recovers", "event", "security",
					"kind", "genesis_restored", "previous_reason", prev.Reason)
			case v.Swapped:
				swapped.Inc()
				log.Error("SECURITY: node0 genesis swapped on disk while running; health is unhealthy until the original is restored or the node is restarted deliberately",
					"event", "security", "kind", EventGenesisSwapped, "reason", v.Reason, "key_id", o.Guard.KeyID())
			default:
				invalid.Inc()
				log.Error("SECURITY: node0 genesis chain no longer validates; health is unhealthy",
					"event", "security", "kind", EventGenesisInvalid, "reason", v.Reason, "key_id", o.Guard.KeyID())
			}
			return nil
		}
	}}
}
