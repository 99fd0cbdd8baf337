package core

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/bizra/bizra/actors/inference"
	"github.com/bizra/bizra/actors/ledger"
	"github.com/bizra/bizra/actors/query"
	"github.com/bizra/bizra/actors/receipt"
	"github.com/bizra/bizra/supervision"
)

// Policy is a child kind's restart policy.
type Policy string

// Restart policies (Erlang's names). Both restart a child that crashed, with backoff
// and under the intensity limit; they differ when a child stops without crashing.
const (
	// Permanent children are spawned again when they stop while the runtime runs:
	// the node cannot serve without them.
	Permanent Policy = "permanent"
	// Transient children stay stopped once their owner stops them (their owner's
	// lifecycle decides, as the inference service does when it swaps its backends).
	Transient Policy = "transient"
)

// KindInfo describes one kind of actor under the core supervisor.
type KindInfo struct {
	Kind   string
	Policy Policy
	// Owns is the mutable state whose mailbox serialises it: why it is an actor.
	Owns string
}

// kinds is the registry of every actor kind under the core supervisor: the bounded
// label set of sovereign_actor_restarts_total{kind}, of /v1/status "actors", and the
// kinds `--fault-inject` accepts.
var kinds = []KindInfo{
	{KindWorker, Permanent, "the stages of the queries it holds"},
	{KindLedger, Permanent, "the single entry to the experience ledger's commit queue"},
	{KindSealer, Permanent, "the receipt batch being built and the chain position"},
	{KindInference, Transient, "the inference router's pending asks and each backend's circuit"},
}

// Kinds returns the registry of actor kinds under the core supervisor, in a fixed order.
func Kinds() []KindInfo { return slices.Clone(kinds) }

// KindNames returns the kinds' names, in the registry's order.
func KindNames() []string {
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = k.Kind
	}
	return out
}

func policyOf(kind string) Policy {
	for _, k := range kinds {
		if k.Kind == kind {
			return k.Policy
		}
	}
	return Transient
}

// childSpec is how a child of the core supervisor is (re)spawned.
type childSpec struct {
	name   string
	kind   string
	policy Policy
	props  *actor.Props
	pid    *actor.PID
}

// tree is the root supervisor's recovered state, kept by the Runtime outside the
// actor: every child spec in spawn order, so that a restarted root (a fresh instance)
// spawns its children again under the same names and their PIDs stay valid.
type tree struct {
	mu sync.Mutex
	// mu guards the following fields.
	specs   []*childSpec
	names   map[string]int        // name prefix → children spawned with it
	faulted map[*actor.Props]bool // props that carry the fault-injection middleware already
	stops   map[string]int        // kind → children that stopped (each handled by the root)
}

func (t *tree) stopped(kind string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stops == nil {
		t.stops = map[string]int{}
	}
	t.stops[kind]++
}

func (t *tree) stopsOf(kind string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stops[kind]
}

// withFault adds the configured fault injection to props once (Configure mutates
// props, and workers share theirs, so they share one fault counter too).
func (t *tree) withFault(props *actor.Props, fi supervision.FaultInjection, kind string) *actor.Props {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.faulted == nil {
		t.faulted = map[*actor.Props]bool{}
	}
	if !t.faulted[props] {
		t.faulted[props] = true
		props.Configure(fi.Option(kind))
	}
	return props
}

func (t *tree) add(s *childSpec) {
	t.mu.Lock()
	t.specs = append(t.specs, s)
	t.mu.Unlock()
}

// specsToSpawn returns the recorded specs for the root to spawn (their pid is written under mu).
func (t *tree) specsToSpawn() []*childSpec {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.specs)
}

// list returns a copy of every spec, safe to read from any goroutine.
func (t *tree) list() []childSpec {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]childSpec, len(t.specs))
	for i, s := range t.specs {
		out[i] = *s
	}
	return out
}

func (t *tree) byID(id string) *childSpec {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, s := range t.specs {
		if s.pid != nil && s.pid.Id == id {
			return s
		}
	}
	return nil
}

func (t *tree) setPID(s *childSpec, pid *actor.PID) {
	t.mu.Lock()
	s.pid = pid
	t.mu.Unlock()
}

// uniqueName returns prefix the first time, then prefix-2, prefix-3, …: stable names
// the root can spawn again after its own restart.
func (t *tree) uniqueName(prefix string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.names == nil {
		t.names = map[string]int{}
	}
	t.names[prefix]++
	if n := t.names[prefix]; n > 1 {
		return prefix + "-" + strconv.Itoa(n)
	}
	return prefix
}

// spawnChild asks the root supervisor to spawn a child; it answers *spawnedChild.
type spawnChild struct{ spec *childSpec }

type spawnedChild struct {
	pid *actor.PID
	err error
}

// rootActor is the core's supervisor. Every actor of the core is its child, spawned
// through the Runtime's spawner and supervised by the backoff-and-intensity strategy in
// its props. It keeps no state of its own: on Started (the first, and after its own
// restart) it spawns every recorded child again under the same name.
type rootActor struct {
	r          *Runtime
	restarting bool
}

func (a *rootActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		for _, s := range a.r.tree.specsToSpawn() {
			a.spawn(ctx, s)
		}
	case *spawnChild:
		pid, err := ctx.SpawnNamed(m.spec.props, m.spec.name)
		if err == nil {
			a.r.tree.setPID(m.spec, pid)
			a.r.tree.add(m.spec)
		}
		ctx.Respond(&spawnedChild{pid: pid, err: err})
	case *actor.Restarting:
		a.restarting = true // its children stop now; the fresh instance respawns them
	case *actor.Terminated:
		s := a.r.tree.byID(m.Who.Id)
		if s != nil && s.kind == KindWorker {
			if e := a.r.engineRef.Load(); e != nil {
				e.WorkerStopped(m.Who) // the runs queued in its mailbox are gone with it
			}
		}
		if s == nil {
			return
		}
		if !a.restarting && s.policy == Permanent && a.r.state.Load() == stateRunning {
			a.r.log.Warn("permanent actor stopped; spawning it again", "actor_kind", s.kind, "pid", m.Who.Id)
			a.spawn(ctx, s)
		}
		a.r.tree.stopped(s.kind) // after the decision: a reader sees its outcome
	}
}

func (a *rootActor) spawn(ctx actor.Context, s *childSpec) {
	pid, err := ctx.SpawnNamed(s.props, s.name)
	if err != nil {
		a.r.log.Error("spawn actor", "actor_kind", s.kind, "name", s.name, "err", err)
		return
	}
	a.r.tree.setPID(s, pid)
}

// treeSpawner spawns actors as children of the core supervisor, for the components
// that take an actor.SpawnerContext (ledger, receipts, inference). It asks the root
// actor, so it is safe from any goroutine but not from inside the root's Receive.
type treeSpawner struct {
	r    *Runtime
	root *actor.PID
}

var _ actor.SpawnerContext = (*treeSpawner)(nil)

func (t *treeSpawner) Parent() *actor.PID                  { return nil }
func (t *treeSpawner) Self() *actor.PID                    { return t.root }
func (t *treeSpawner) Actor() actor.Actor                  { return nil }
func (t *treeSpawner) ActorSystem() *actor.ActorSystem     { return t.r.opts.System }
func (t *treeSpawner) Logger() *slog.Logger                { return t.r.log }
func (t *treeSpawner) Spawn(props *actor.Props) *actor.PID { return t.SpawnPrefix(props, "anonymous") }

// SpawnPrefix spawns under the name prefix (prefix-2, … for later ones); nil when the
// root could not spawn it (logged).
func (t *treeSpawner) SpawnPrefix(props *actor.Props, prefix string) *actor.PID {
	pid, err := t.SpawnNamed(props, t.r.tree.uniqueName(prefix))
	if err != nil {
		t.r.log.Error("spawn actor under the core supervisor", "prefix", prefix, "err", err)
		return nil
	}
	return pid
}

// SpawnNamed spawns a child of the core supervisor named id; its kind (the restart
// metric's label) is supervision.KindOf of the name.
func (t *treeSpawner) SpawnNamed(props *actor.Props, id string) (*actor.PID, error) {
	kind := supervision.KindOf(actor.NewPID("", id))
	props = t.r.tree.withFault(props, t.r.opts.FaultInjection, kind)
	spec := &childSpec{name: id, kind: kind, policy: policyOf(kind), props: props}
	res, err := t.r.opts.System.Root.RequestFuture(t.root, &spawnChild{spec: spec}, 5*time.Second).Result()
	if err != nil {
		return nil, fmt.Errorf("core supervisor: spawn %s: %w", id, err)
	}
	sc, ok := res.(*spawnedChild)
	if !ok {
		return nil, fmt.Errorf("core supervisor: spawn %s: reply %T", id, res)
	}
	return sc.pid, sc.err
}

// failureReply answers, at once, the caller of the message a crashed child was
// processing, in the reply type that caller expects.
func failureReply(_ any, msg any) any {
	if _, ok := msg.(*query.Run); ok {
		return query.FailureReply(msg)
	}
	if rep := inference.FailureReply(msg); rep != nil { // the worker answers BACKEND_ERROR or splits by clauses
		return rep
	}
	if rep := ledger.FailureReply(msg); rep != nil {
		return rep
	}
	return receipt.FailureReply(msg)
}

// startSupervisor spawns the core supervisor before any component, so that every
// component's actors are spawned under it. It stops last.
func (r *Runtime) startSupervisor(context.Context) error {
	hooks := supervision.MetricsHooks(r.set, supervision.KindOf)
	sopts := r.opts.Supervision
	userRestart, userEscalate := sopts.OnRestart, sopts.OnEscalate
	sopts.OnRestart = func(child *actor.PID, reason any, attempt int, delay time.Duration) {
		kind := supervision.KindOf(child)
		r.restarts.restart(kind)
		hooks.OnRestart(child, reason, attempt, delay)
		r.log.Warn("actor restarted", "actor_kind", kind, "pid", child.Id, "attempt", attempt,
			"delay_ms", float64(delay.Microseconds())/1000, "reason", fmt.Sprint(reason))
		if userRestart != nil {
			userRestart(child, reason, attempt, delay)
		}
	}
	sopts.OnEscalate = func(child *actor.PID, reason any, restarts int) {
		kind := supervision.KindOf(child)
		r.restarts.escalate(kind)
		r.escalated.Store(true)
		hooks.OnEscalate(child, reason, restarts)
		r.log.Error("actor crash loop escalated; the core supervisor restarts its children",
			"actor_kind", kind, "restarts", restarts, "reason", fmt.Sprint(reason))
		if userEscalate != nil {
			userEscalate(child, reason, restarts)
		}
	}
	if sopts.FailureReply == nil {
		sopts.FailureReply = failureReply
	}
	strategy, err := supervision.NewBackoff(sopts)
	if err != nil {
		return err
	}
	r.tree = &tree{}
	props := actor.PropsFromProducer(func() actor.Actor { return &rootActor{r: r} },
		actor.WithSupervisor(strategy))
	root, err := r.opts.System.Root.SpawnNamed(props, "core")
	if err != nil {
		return err
	}
	r.root = root
	r.spawner = &treeSpawner{r: r, root: root}
	r.onStop("core supervisor", func(ctx context.Context) error {
		err := waitFuture(ctx, r.opts.System.Root.StopFuture(root))
		if serr := strategy.Shutdown(ctx); serr != nil && err == nil {
			err = serr
		}
		return err
	})
	return nil
}
