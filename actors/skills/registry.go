package skills

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/asynkron/protoactor-go/actor"

	"github.com/bizra/bizra/actors/skills/smartfiles"
)

// Defaults of Options.
const (
	DefaultMaxConcurrent = 4
	DefaultInvokeTimeout = 60 * time.Second
	DefaultMailboxSize   = 1024
	maxInputDepth        = 32
)

// Options configures a Registry.
type Options struct {
	// System is the actor system the registry actor runs in. Required.
	System *actor.ActorSystem
	// Logger receives invocation failures; nil discards.
	Logger *slog.Logger
	// Metrics receives sovereign_skill_*; nil is a private metrics.NewSet().
	Metrics *metrics.Set
	// DataLakeRoot, when set, registers the Smart Files skill over it (an absolute
	// path to an existing directory). "" registers no Smart Files skill.
	DataLakeRoot string
	// SmartFiles holds the Smart Files limits (its Root is replaced by DataLakeRoot);
	// zero values take smartfiles' defaults.
	SmartFiles smartfiles.Options
	// StateDir is the node's state folder; Smart Files refuses every path inside it
	// (it replaces SmartFiles.StateDir). "" checks nothing.
	StateDir string
	// Skills are further skills to register; names must be unique.
	Skills []Skill
	// MaxConcurrent bounds running invocations (0 = DefaultMaxConcurrent); past it an
	// Invoke is answered ErrOverloaded at once.
	MaxConcurrent int
	// InvokeTimeout is the longest an invocation may run (0 = DefaultInvokeTimeout).
	InvokeTimeout time.Duration
	// MailboxSize bounds the actor's mailbox (0 = DefaultMailboxSize).
	MailboxSize int
}

// Registry owns the skill registry actor and its running invocations.
type Registry struct {
	system  *actor.ActorSystem
	log     *slog.Logger
	metrics *metrics.Set
	opts    Options
	skills  map[string]Skill
	infos   []Info // sorted by name
	sem     chan struct{}
	wg      sync.WaitGroup
	base    context.Context // ends every running invocation
	cancel  context.CancelFunc
	closed  atomic.Bool
	panics  *metrics.Counter // sovereign_panics_total{component="skills"}

	mu       sync.Mutex // guards the following fields
	pid      *actor.PID
	started  bool
	shutdown bool
}

// New validates opts, builds the skills and returns a Registry to Start.
func New(opts Options) (*Registry, error) {
	if opts.System == nil {
		return nil, fmt.Errorf("skills: nil actor system: %w", ErrOptions)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Metrics == nil {
		opts.Metrics = metrics.NewSet()
	}
	if opts.MaxConcurrent <= 0 {
		opts.MaxConcurrent = DefaultMaxConcurrent
	}
	if opts.InvokeTimeout <= 0 {
		opts.InvokeTimeout = DefaultInvokeTimeout
	}
	if opts.MailboxSize <= 0 {
		opts.MailboxSize = DefaultMailboxSize
	}
	all := slices.Clone(opts.Skills)
	if opts.DataLakeRoot != "" {
		sf := opts.SmartFiles
		sf.Root = opts.DataLakeRoot
		if opts.StateDir != "" {
			sf.StateDir = opts.StateDir
		}
		s, err := NewSmartFiles(sf)
		if err != nil {
			return nil, fmt.Errorf("skills: smart_files: %w", err)
		}
		all = append(all, s)
	}
	r := &Registry{
		system: opts.System, log: opts.Logger, metrics: opts.Metrics, opts: opts,
		skills: make(map[string]Skill, len(all)), sem: make(chan struct{}, opts.MaxConcurrent),
		panics: opts.Metrics.GetOrCreateCounter(`sovereign_panics_total{component="skills"}`),
	}
	for _, s := range all {
		if s == nil {
			return nil, fmt.Errorf("skills: nil skill: %w", ErrOptions)
		}
		info := s.Info()
		if info.Name == "" {
			return nil, fmt.Errorf("skills: skill without a name: %w", ErrOptions)
		}
		if _, dup := r.skills[info.Name]; dup {
			return nil, fmt.Errorf("skills: duplicate skill %q: %w", info.Name, ErrOptions)
		}
		r.skills[info.Name] = s
		r.infos = append(r.infos, info.clone())
	}
	slices.SortFunc(r.infos, func(a, b Info) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	r.base, r.cancel = context.WithCancel(context.Background())
	return r, nil
}

// Start spawns the registry actor. It fails if called twice or after Shutdown.
func (r *Registry) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started || r.shutdown {
		return fmt.Errorf("skills: start: already started or shut down: %w", ErrClosed)
	}
	props := actor.PropsFromProducer(func() actor.Actor { return &registryActor{r: r} },
		actor.WithMailbox(actor.Bounded(r.opts.MailboxSize)))
	r.pid = r.system.Root.Spawn(props)
	r.started = true
	return nil
}

// PID is the registry actor (nil before Start).
func (r *Registry) PID() *actor.PID {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pid
}

// Shutdown stops accepting work, stops the actor and waits for the running
// invocations. When ctx ends first it cancels their context and returns ctx's error
// (they finish shortly after, as skills honour ctx). It is idempotent.
func (r *Registry) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	if r.shutdown {
		r.mu.Unlock()
		return nil
	}
	r.shutdown = true
	pid := r.pid
	r.mu.Unlock()
	r.closed.Store(true)
	if pid != nil {
		// After the actor has stopped, nothing adds to wg any more.
		_ = r.system.Root.StopFuture(pid).Wait()
	}
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
		r.cancel()
		return nil
	case <-ctx.Done():
		r.cancel()
		<-done // skills honour the cancelled context
		return ctx.Err()
	}
}

// List returns the skills whose status is filter ("" = all), sorted by name.
func (r *Registry) List(ctx context.Context, filter string) ([]Info, error) {
	res, err := r.request(ctx, List{Filter: filter}, time.Now().Add(r.opts.InvokeTimeout))
	if err != nil {
		return nil, err
	}
	l, ok := res.(Listed)
	if !ok {
		return nil, fmt.Errorf("skills: list answered %T", res)
	}
	return l.Skills, nil
}

// Invoke runs a skill with a copy of inputs and waits for its Invocation, at most
// until ctx's deadline (or InvokeTimeout). The error is nil when the skill ran, even
// if it failed (Success false); otherwise it wraps one of the catalog sentinels and
// the Invocation still carries the public text in Error.
func (r *Registry) Invoke(ctx context.Context, name string, inputs map[string]any) (Invocation, error) {
	in, err := cloneInputs(inputs)
	if err != nil {
		inv := r.rejection(name, time.Now(), "Inputs must be a JSON object of plain values, nested at most 32 deep.")
		return inv, &InputError{Skill: name, Input: "inputs", Text: *inv.Error}
	}
	deadline := time.Now().Add(r.opts.InvokeTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	res, err := r.request(ctx, Invoke{Skill: name, Inputs: in, Deadline: deadline}, deadline)
	if err != nil {
		return r.rejection(name, time.Now(), catalogText(err)), err
	}
	switch m := res.(type) {
	case Invocation:
		return m, nil
	case Rejected:
		return m.Invocation, m.Err
	}
	return Invocation{}, fmt.Errorf("skills: invoke answered %T", res)
}

// request sends msg to the actor and waits until deadline (plus a grace period so the
// actor's own timeout answer arrives first).
func (r *Registry) request(ctx context.Context, msg any, deadline time.Time) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("skills: %w: %w", ErrTimeout, err)
	}
	pid := r.PID()
	if pid == nil || r.closed.Load() {
		return nil, ErrClosed
	}
	wait := time.Until(deadline) + 250*time.Millisecond
	res, err := r.system.Root.RequestFuture(pid, msg, wait).Result()
	switch {
	case errors.Is(err, actor.ErrTimeout):
		return nil, fmt.Errorf("skills: request: %w", ErrTimeout)
	case err != nil:
		return nil, fmt.Errorf("skills: request: %w: %w", ErrClosed, err)
	}
	return res, nil
}

// cloneInputs deep-copies JSON-like inputs so the message owns them.
func cloneInputs(in map[string]any) (map[string]any, error) {
	v, err := cloneValue(in, 0)
	if err != nil {
		return nil, err
	}
	m, _ := v.(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

var (
	errDepth = errors.New("skills: inputs nested too deeply")
	errType  = errors.New("skills: input is not a plain JSON value")
)

func cloneValue(v any, depth int) (any, error) {
	if depth > maxInputDepth {
		return nil, errDepth
	}
	switch x := v.(type) {
	case map[string]any:
		if x == nil {
			return nil, nil
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			c, err := cloneValue(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			c, err := cloneValue(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case []string:
		return slices.Clone(x), nil
	case nil, string, bool, float64, float32, int, int64, int32, uint, uint64, uint32, json.Number:
		return x, nil
	}
	return nil, fmt.Errorf("skills: input of type %T: %w", v, errType)
}
