package inference

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/asynkron/protoactor-go/actor"
	"github.com/sony/gobreaker/v2"
)

// Options configures a Service. Zero values take the defaults given per field.
type Options struct {
	// System is the actor system the service's actors run in. Required.
	System *actor.ActorSystem
	// Spawner spawns the actors (a supervisor's context, so it supervises them). nil →
	// System.Root.
	Spawner actor.SpawnerContext
	// Logger: nil → discard.
	Logger *slog.Logger
	// Metrics: nil → metrics.NewSet(). The circuit gauges are callbacks bound to this
	// service: give each service its own set (or unregister) when running several.
	Metrics *metrics.Set
	// Config lists the external backends in fallback order; empty → the embedded
	// engine is the backend. Names must match [a-z0-9_-]{1,32} and be unique.
	Config Config
	// HTTPTimeout bounds one HTTP attempt (the request deadline bounds the whole call).
	// 0 → 120s.
	HTTPTimeout time.Duration
	// MaxInFlight is the number of requests in flight per backend; excess requests get
	// OVERLOADED at once. 0 → 8.
	MaxInFlight int
	// Retry: retries of connection errors and 5xx against the same backend (defaults in
	// Retry); a 429 moves on to the next backend, another 4xx is final.
	Retry Retry
	// ProbeInterval is the period of the health probe (GET /models or /api/tags). An
	// open circuit turns half-open after ProbeInterval/2, and the next successful probe
	// closes it. 0 → 10s.
	ProbeInterval time.Duration
	// ProbeTimeout bounds one probe. 0 → min(ProbeInterval, 5s).
	ProbeTimeout time.Duration
	// BreakerFailures is the number of consecutive failures that opens a circuit. 0 → 3.
	BreakerFailures int
	// DefaultTimeout is the deadline of a request that has none. 0 → 30s.
	DefaultTimeout time.Duration
	// Now is the clock for deadline arithmetic. nil → time.Now. It must agree with the
	// wall clock: HTTP contexts use real time.
	Now func() time.Time
}

// runtime is what the actors share with the service: lifetime contexts, the WaitGroup
// that owns every goroutine, settings and metrics.
type runtime struct {
	ctx            context.Context // cancelled when in-flight calls must stop
	probeCtx       context.Context // cancelled at the start of Shutdown
	wg             sync.WaitGroup
	stopping       atomic.Bool
	ids            atomic.Uint64
	now            func() time.Time
	log            *slog.Logger
	set            *metrics.Set
	defaultTimeout time.Duration
	probeTimeout   time.Duration
	maxPending     int
	mDegraded      *metrics.Counter
	tokens         *tokenCounter
	// routerHook, when set (by tests only), sees every message of the router before
	// it is handled; a fault test panics in it to crash the router.
	routerHook func(msg any)
}

func (rt *runtime) nextID() uint64 { return rt.ids.Add(1) }

func (rt *runtime) countRequest(backend, outcome string) {
	rt.set.GetOrCreateCounter(`sovereign_inference_requests_total{backend="` + backend + `",outcome="` + outcome + `"}`).Inc()
}

func (rt *runtime) countEmbedded(failed bool) {
	outcome := "success"
	if failed {
		outcome = "no_evidence"
	}
	rt.countRequest(EmbeddedBackend, outcome)
}

// genAIBuckets are the OpenTelemetry GenAI client operation-duration buckets (seconds).
var genAIBuckets = []float64{0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92}

var backendName = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)

// Service is the inference service: one actor per external backend plus the router
// actor (PID) that applies the fallback order. See the package doc.
type Service struct {
	opts     Options
	rt       *runtime
	backends []*backend
	pid      *actor.PID
	cancel   context.CancelFunc // rt.ctx
	cancelP  context.CancelFunc // rt.probeCtx

	// passMu orders pass-through admissions (passWG.Add) against Shutdown setting
	// stopping; passWG counts the pass-through calls and streams in progress.
	passMu sync.RWMutex
	passWG sync.WaitGroup

	startOnce sync.Once
	started   atomic.Bool
	stopOnce  sync.Once
	stopErr   error
	stopped   chan struct{}
}

// New validates opts and builds a Service; Start spawns its actors.
func New(opts Options) (*Service, error) {
	if opts.System == nil {
		return nil, fmt.Errorf("options: System is nil: %w", ErrInvalidConfig)
	}
	if opts.Spawner == nil {
		opts.Spawner = opts.System.Root
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Metrics == nil {
		opts.Metrics = metrics.NewSet()
	}
	if opts.HTTPTimeout <= 0 {
		opts.HTTPTimeout = 120 * time.Second
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = 8
	}
	opts.Retry = opts.Retry.withDefaults()
	if opts.ProbeInterval <= 0 {
		opts.ProbeInterval = 10 * time.Second
	}
	if opts.ProbeTimeout <= 0 {
		opts.ProbeTimeout = min(opts.ProbeInterval, 5*time.Second)
	}
	if opts.BreakerFailures <= 0 {
		opts.BreakerFailures = 3
	}
	if opts.DefaultTimeout <= 0 {
		opts.DefaultTimeout = 30 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	seen := map[string]bool{}
	for i, b := range opts.Config.Backends {
		if !backendName.MatchString(b.Name) || seen[b.Name] {
			return nil, fmt.Errorf("backend %d: name %q must match %s and be unique: %w", i, b.Name, backendName, ErrInvalidConfig)
		}
		seen[b.Name] = true
		if b.Kind != KindOpenAI && b.Kind != KindOllama {
			return nil, fmt.Errorf("backend %q: unknown kind %q: %w", b.Name, b.Kind, ErrInvalidConfig)
		}
		if _, err := parseBase(b.URL, "", ""); err != nil {
			return nil, fmt.Errorf("backend %q: url %q: %v: %w", b.Name, b.URL, err, ErrInvalidConfig)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	pctx, cancelP := context.WithCancel(ctx)
	rt := &runtime{ctx: ctx, probeCtx: pctx, now: opts.Now, log: opts.Logger, set: opts.Metrics,
		defaultTimeout: opts.DefaultTimeout, probeTimeout: opts.ProbeTimeout,
		maxPending: 4*opts.MaxInFlight*max(1, len(opts.Config.Backends)) + 64,
		mDegraded:  opts.Metrics.GetOrCreateCounter("sovereign_degraded_answers_total"),
		tokens:     newTokenCounter(opts.Metrics, maxTokenModels)}
	s := &Service{opts: opts, rt: rt, cancel: cancel, cancelP: cancelP, stopped: make(chan struct{})}
	for _, cfg := range opts.Config.Backends {
		client, err := newHTTPClient(cfg, opts.MaxInFlight, opts.Retry, opts.HTTPTimeout, opts.Logger)
		if err != nil {
			cancelP()
			cancel()
			return nil, fmt.Errorf("backend %q: url %q: %v: %w", cfg.Name, cfg.URL, err, ErrInvalidConfig)
		}
		b := &backend{cfg: cfg, maxInFlight: opts.MaxInFlight, client: client,
			mDuration: opts.Metrics.GetOrCreatePrometheusHistogramExt(
				`sovereign_inference_duration_seconds{backend="`+cfg.Name+`"}`, genAIBuckets),
			mTTFT: opts.Metrics.GetOrCreatePrometheusHistogramExt(
				`sovereign_inference_time_to_first_token_seconds{backend="`+cfg.Name+`"}`, ttftBuckets),
			mITL: opts.Metrics.GetOrCreatePrometheusHistogramExt(
				`sovereign_inference_inter_token_seconds{backend="`+cfg.Name+`"}`, itlBuckets)}
		if cfg.Model != "" {
			m := cfg.Model
			b.model.Store(&m)
		}
		b.breaker = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
			Name:        cfg.Name,
			MaxRequests: 1,
			Timeout:     max(opts.ProbeInterval/2, 10*time.Millisecond),
			ReadyToTrip: func(c gobreaker.Counts) bool {
				return c.ConsecutiveFailures >= uint32(opts.BreakerFailures)
			},
			IsExcluded:    func(err error) bool { return errors.Is(err, errExcluded) },
			OnStateChange: logStateChange(opts.Logger),
		})
		opts.Metrics.GetOrCreateGauge(`sovereign_inference_circuit_state{backend="`+cfg.Name+`"}`,
			func() float64 { return circuitValue(b.breaker.State()) })
		s.backends = append(s.backends, b)
	}
	return s, nil
}

// Start spawns the backend actors and the router actor and starts the health probes.
// ctx is not retained. Calling Start twice is an error.
func (s *Service) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := fmt.Errorf("inference: already started: %w", ErrInvalidConfig)
	s.startOnce.Do(func() {
		err = nil
		for _, b := range s.backends {
			b := b
			props := actor.PropsFromProducer(func() actor.Actor { return &backendActor{b: b, rt: s.rt} })
			b.pid = s.opts.Spawner.SpawnPrefix(props, "inference-"+b.cfg.Name)
		}
		bs := s.backends
		props := actor.PropsFromProducer(func() actor.Actor { return &routerActor{rt: s.rt, backends: bs} })
		s.pid = s.opts.Spawner.SpawnPrefix(props, "inference")
		s.started.Store(true)
		if len(s.backends) > 0 {
			s.rt.wg.Go(s.probeLoop)
		}
	})
	return err
}

// probeLoop ticks every backend actor at once and then every ProbeInterval.
func (s *Service) probeLoop() {
	t := time.NewTicker(s.opts.ProbeInterval)
	defer t.Stop()
	for {
		for _, b := range s.backends {
			s.opts.System.Root.Send(b.pid, &probeTick{})
		}
		select {
		case <-s.rt.probeCtx.Done():
			return
		case <-t.C:
		}
	}
}

// Shutdown stops accepting requests, stops the probes, waits for the requests in flight
// until ctx ends (then cancels them), and stops the actors. Idempotent; later calls
// return the first call's result.
func (s *Service) Shutdown(ctx context.Context) error {
	s.stopOnce.Do(func() {
		defer close(s.stopped)
		s.passMu.Lock()
		s.rt.stopping.Store(true)
		s.passMu.Unlock()
		s.cancelP()
		done := make(chan struct{})
		go func() { s.rt.wg.Wait(); s.passWG.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			s.stopErr = fmt.Errorf("inference shutdown: %w", ctx.Err())
			s.cancel()
			<-done
		}
		s.cancel()
		if s.started.Load() {
			// Backends first: their replies (queued before the poison) reach the router,
			// which answers its callers before it stops in turn.
			for _, pid := range append(s.backendPIDs(), s.pid) {
				_ = s.opts.System.Root.PoisonFuture(pid).Wait()
			}
		}
		for _, b := range s.backends {
			b.client.close()
		}
	})
	<-s.stopped
	return s.stopErr
}

func (s *Service) backendPIDs() []*actor.PID {
	out := make([]*actor.PID, 0, len(s.backends))
	for _, b := range s.backends {
		out = append(out, b.pid)
	}
	return out
}

// PID is the service actor: send it *Ask (reply *Answered) or *DecomposeAsk (reply
// *Decomposed). nil before Start.
func (s *Service) PID() *actor.PID { return s.pid }

// deadline is the earliest of the request's and the context's deadlines, else
// DefaultTimeout from now.
func (s *Service) deadline(ctx context.Context, dl time.Time) time.Time {
	if cd, ok := ctx.Deadline(); ok && (dl.IsZero() || cd.Before(dl)) {
		dl = cd
	}
	if dl.IsZero() {
		dl = s.rt.now().Add(s.opts.DefaultTimeout)
	}
	return dl
}

func ctxErr(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", ErrTimeout, err)
	}
	return fmt.Errorf("%w: %w", ErrCanceled, err)
}

// Status lists the external backends in fallback order (empty without any).
func (s *Service) Status() []BackendStatus {
	out := make([]BackendStatus, 0, len(s.backends))
	for _, b := range s.backends {
		out = append(out, b.status())
	}
	return out
}

// Primary names the backend that answers now: the first ready external backend, else
// the first degraded one, else the first backend with status offline (answers then come
// from the embedded engine, degraded). Without external backends: the embedded engine,
// status degraded (api.md: serving, but no external model).
func (s *Service) Primary() (backend, model, status string) {
	if len(s.backends) == 0 {
		return EmbeddedBackend, EmbeddedModel, StatusDegraded
	}
	sts := s.Status()
	for _, want := range []string{StatusReady, StatusDegraded} {
		for _, st := range sts {
			if st.Status == want {
				return st.Name, st.Model, st.Status
			}
		}
	}
	return sts[0].Name, sts[0].Model, StatusOffline
}

// Available reports whether an external model can answer now (some backend is not
// offline). The embedded engine is always there and does not count.
func (s *Service) Available() bool {
	for _, b := range s.backends {
		if b.status().Status != StatusOffline {
			return true
		}
	}
	return false
}
