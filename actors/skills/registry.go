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

	"github.com/bizra/bizra/actors/skills/smartfiles"
)

// Defaults of Options.
const (
	DefaultMaxConcurrent = 4
	DefaultInvokeTimeout = 60 * time.Second
	maxInputDepth        = 32
)

// Options configures a Registry.
type Options struct {
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
}

// Registry owns the skills and their running invocations. It is plain code, not an
// actor: its skill table is fixed at New and the running invocations are bounded by a
// semaphore and owned by a WaitGroup, so a mailbox would serialise nothing.
type Registry struct {
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

	mu       sync.Mutex // guards the following fields (and r.wg.Add against Shutdown's Wait)
	started  bool
	shutdown bool
}

// New validates opts, builds the skills and returns a Registry to Start.
func New(opts Options) (*Registry, error) {
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
		log: opts.Logger, metrics: opts.Metrics, opts: opts,
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

// Start opens the registry for List and Invoke. It fails if called twice or after
// Shutdown.
func (r *Registry) Start(context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started || r.shutdown {
		return fmt.Errorf("skills: start: already started or shut down: %w", ErrClosed)
	}
	r.started = true
	return nil
}

// Shutdown stops accepting work and waits for the running invocations. When ctx ends
// first it cancels their context and returns ctx's error (they finish shortly after,
// as skills honour ctx). It is idempotent.
func (r *Registry) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	if r.shutdown {
		r.mu.Unlock()
		return nil
	}
	r.shutdown = true
	r.mu.Unlock()
	r.closed.Store(true)
	// After shutdown is set under mu, nothing adds to wg any more.
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

// open reports whether the registry serves (started, not shut down).
func (r *Registry) open() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.started && !r.shutdown
}

// List returns the skills whose status is filter ("" = all), sorted by name.
func (r *Registry) List(ctx context.Context, filter string) ([]Info, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("skills: %w: %w", ErrTimeout, err)
	}
	if !r.open() {
		return nil, ErrClosed
	}
	return r.list(filter).Skills, nil
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
	res, err := r.invoke(ctx, Invoke{Skill: name, Inputs: in, Deadline: deadline})
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
