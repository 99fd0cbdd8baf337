package core

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/asynkron/protoactor-go/actor"

	"github.com/bizra/bizra/actors/cache"
	"github.com/bizra/bizra/actors/inference"
	"github.com/bizra/bizra/actors/ledger"
	"github.com/bizra/bizra/actors/maintenance"
	"github.com/bizra/bizra/actors/query"
	"github.com/bizra/bizra/actors/receipt"
	"github.com/bizra/bizra/actors/skills"
	"github.com/bizra/bizra/internal/fsguard"
	"github.com/bizra/bizra/internal/index"
	"github.com/bizra/bizra/internal/reasoning"
	"github.com/bizra/bizra/internal/scoring"
	"github.com/bizra/bizra/supervision"
	"github.com/bizra/bizra/supervision/genesis"
)

// Options configures the runtime. Zero values are documented per field.
type Options struct {
	// System is the actor system the core runs in. Required.
	System *actor.ActorSystem
	// Logger; nil discards.
	Logger *slog.Logger
	// Metrics is the process's one metrics set; nil means a private one.
	Metrics *metrics.Set
	// Version is reported in health and status.
	Version string
	// StateDir holds the ledgers, receipts and genesis files; "" means sovereign_state.
	StateDir string
	// DataLake is the folder indexed for evidence; "" means data-lake. A missing folder
	// is created empty (every query answers NO_EVIDENCE); an unreadable one fails the
	// start.
	DataLake string
	// Index configures how the data-lake index is saved and follows the lake.
	Index IndexOptions
	// Role is node (default) or node0.
	Role string
	// GenesisPublicKey pins Node0's genesis identity key (role node0): a genesis signed
	// by another key refuses start. nil trusts the key recorded in
	// <state>/trusted_genesis_key, recording the first validated one (trust on first
	// use). GenesisPinSource names the pin's origin in messages.
	GenesisPublicKey ed25519.PublicKey
	GenesisPinSource string
	// Inference lists the external backends; empty uses the embedded engine alone.
	Inference inference.Config
	// InferenceOptions tunes the inference service (System, Logger, Metrics and Config
	// are filled in here).
	InferenceOptions inference.Options
	// CacheEntries (0 → 10,000; -1 disables) and CacheTTL (0 → 10 min).
	CacheEntries int
	CacheTTL     time.Duration
	// Workers is the number of query workers (0 → GOMAXPROCS); Queue the number of
	// queries admitted at once (0 → 256).
	Workers, Queue int
	// ReceiptSecret is the receipt key (required). ReceiptMode is batch (default) or
	// single; ReceiptBatch (0 → 5 ms) and ReceiptBatchMax (0 → 1024) bound a batch.
	ReceiptSecret   receipt.Secret
	ReceiptMode     string
	ReceiptBatch    time.Duration
	ReceiptBatchMax int
	// SELMaxEpisodes is the experience-ledger retention (0 → the ledger's default).
	SELMaxEpisodes int
	// AcceptLedgerLoss starts over a ledger that lost or altered acknowledged episodes
	// (ledger.Options.AcceptLoss); without it such a ledger fails the start with
	// ledger.ErrLoss. LedgerFault injects ledger write failures (tests only).
	AcceptLedgerLoss bool
	LedgerFault      func(op, path string) error
	// DenyPatterns are the safety gate's patterns; nil uses query.DefaultDenyPatterns.
	DenyPatterns []string
	// EnforceIhsan withholds answers whose verdict is REJECTED.
	EnforceIhsan bool
	// MaintenanceInterval is the maintenance loop's period (0 → 10 s).
	MaintenanceInterval time.Duration
	// MemoryBudget is the heap size above which maintenance trims the cache (0 → 1 GiB).
	MemoryBudget uint64
	// Supervision configures the restart strategy of the core's children (zero values
	// take the package's defaults).
	Supervision supervision.Options
	// FaultInjection makes a kind of the core's actors panic (tests; off by default).
	FaultInjection supervision.FaultInjection
}

// IndexOptions configure the data-lake index (internal/index.Lake). Zero values: the
// index is saved in <state>/index and reloaded at start, the lake is watched and
// rescanned every minute, Start waits up to 2 s for the first index, and a query
// waits up to 10 s for it.
type IndexOptions struct {
	// NoCache neither loads nor saves <state>/index: every start reads the whole lake.
	NoCache bool
	// ReadOnly loads the saved index but never writes it (a one-shot query beside a
	// running node, which owns the file).
	ReadOnly bool
	// NoWatch starts no watcher and no periodic rescan (a one-shot query).
	NoWatch bool
	// RescanInterval is the period of the full rescan (0 → 1 min; negative: none).
	RescanInterval time.Duration
	// StartWait is how long Start waits for the first index before going on with
	// indexing in the background (0 → 2 s; negative: no wait). A small lake is then
	// indexed when the node is ready; a large one is served as soon as it is.
	StartWait time.Duration
	// QueryWait is how long a query waits for the first index before it is answered
	// 503 INDEX_NOT_READY (0 → 10 s, within the query's own deadline).
	QueryWait time.Duration
}

// Runtime is the assembled core.
type Runtime struct {
	opts  Options
	log   *slog.Logger
	set   *metrics.Set
	role  genesis.Role
	start time.Time

	state atomic.Int32 // stateStarting, stateRunning, stateStopping, stateStopped

	lake      *index.Lake
	cache     *cache.Store[query.Result]
	ledger    *ledger.Ledger
	receipts  *receipt.Service
	bridgeRcp *receipt.Service
	infer     *inference.Service
	skills    *skills.Registry
	maint     *maintenance.Loop
	artifacts *reasoning.ArtifactStore
	recorder  *reasoning.Recorder
	qmetrics  *query.Metrics
	engine    *query.Engine
	engineRef atomic.Pointer[query.Engine]              // engine, for the core supervisor's goroutine
	cacheRef  atomic.Pointer[cache.Store[query.Result]] // cache, for the index's goroutine
	pool      *query.Pool
	load      *query.Load
	policy    scoring.Policy
	// safetyPolicy is compiled once at start and shared by the edge and the workers
	// (it keeps no state).
	safetyPolicy *query.SafetyPolicy
	policyDig    string
	root         *actor.PID
	tree         *tree
	spawner      *treeSpawner
	restarts     *restartCounts
	mailboxes    *mailboxStats

	ledgerBootValid bool
	guard           *genesis.Guard
	originSnap      atomic.Pointer[originSnapshot]
	genesisOK       atomic.Bool
	escalated       atomic.Bool
	bridgeStats     atomic.Pointer[func() BridgeStats]

	mu      sync.Mutex
	stops   []namedStop // reverse-order shutdown list
	stopped bool
}

type namedStop struct {
	name string
	stop func(context.Context) error
}

const (
	stateStarting int32 = iota
	stateRunning
	stateStopping
	stateStopped
)

// BridgeStats is what the bridge reports for status and health.
type BridgeStats struct {
	Enabled      bool
	Listening    bool
	Address      string
	Connections  int
	RequestCount uint64
}

// New validates opts; nothing starts until Start.
func New(opts Options) (*Runtime, error) {
	if opts.System == nil {
		return nil, fmt.Errorf("%w: System is required", ErrOptions)
	}
	if opts.ReceiptSecret.IsZero() {
		return nil, fmt.Errorf("%w: a receipt secret is required (BIZRA_RECEIPT_PRIVATE_KEY_HEX)", ErrOptions)
	}
	if opts.StateDir == "" {
		opts.StateDir = "sovereign_state"
	}
	if opts.DataLake == "" {
		opts.DataLake = "data-lake"
	}
	for _, p := range []*string{&opts.DataLake, &opts.StateDir} {
		abs, err := filepath.Abs(*p)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrOptions, *p, err)
		}
		*p = abs
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Queue <= 0 {
		opts.Queue = 256
	}
	if opts.MaintenanceInterval <= 0 {
		opts.MaintenanceInterval = 10 * time.Second
	}
	if opts.MemoryBudget == 0 {
		opts.MemoryBudget = 1 << 30
	}
	if opts.DenyPatterns == nil {
		opts.DenyPatterns = query.DefaultDenyPatterns
	}
	role, err := genesis.ParseRole(opts.Role)
	if err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	set := opts.Metrics
	if set == nil {
		set = metrics.NewSet()
	}
	r := &Runtime{opts: opts, log: log, set: set, role: role, policy: scoring.Default(),
		restarts:  &restartCounts{restarts: map[string]uint64{}, escalations: map[string]uint64{}},
		mailboxes: &mailboxStats{byKind: map[string]*kindMailbox{}}}
	r.policyDig, err = r.policy.Digest()
	if err != nil {
		return nil, fmt.Errorf("%w: scoring policy digest: %w", ErrOptions, err)
	}
	return r, nil
}

// Start brings the core up in dependency order. On failure everything already started
// is shut down and the error names the component.
func (r *Runtime) Start(ctx context.Context) (err error) {
	r.start = time.Now()
	r.state.Store(stateStarting)
	defer func() {
		if err != nil {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = r.Shutdown(sctx)
		}
	}()
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"state and data-lake separation", r.checkSeparation},
		{"origin guard", r.startOrigin},
		{"state folders", r.startState},
		{"core supervisor", r.startSupervisor},
		{"experience ledger", r.startLedger},
		{"receipts", r.startReceipts},
		{"data-lake index", r.startIndex},
		{"inference", r.startInference},
		{"actor core", r.startActors},
		{"skills", r.startSkills},
		{"maintenance", r.startMaintenance},
	}
	for _, s := range steps {
		if err := s.fn(ctx); err != nil {
			return fmt.Errorf("start %s: %w", s.name, err)
		}
	}
	r.state.Store(stateRunning)
	r.log.Info("runtime started", "role", string(r.role), "state_dir", r.opts.StateDir,
		"data_lake", r.opts.DataLake, "passages", r.searcher().Stats().Passages, "index", r.lake.Progress().State, "backends", len(r.opts.Inference.Backends),
		"workers", r.opts.Workers)
	return nil
}

func (r *Runtime) onStop(name string, fn func(context.Context) error) {
	r.mu.Lock()
	r.stops = append(r.stops, namedStop{name, fn})
	r.mu.Unlock()
}

// Shutdown stops every started component in reverse start order. Idempotent.
func (r *Runtime) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return nil
	}
	r.stopped = true
	stops := r.stops
	r.stops = nil
	r.mu.Unlock()
	r.state.Store(stateStopping)
	if r.engine != nil {
		r.engine.Stop()
	}
	var errs []error
	for i := len(stops) - 1; i >= 0; i-- {
		if err := stops[i].stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop %s: %w", stops[i].name, err))
		}
	}
	r.state.Store(stateStopped)
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	r.log.Info("runtime stopped")
	return nil
}

// checkSeparation refuses a state folder and a data lake that contain one another:
// the index would serve, and smart_files copy, the keys the state folder holds.
func (r *Runtime) checkSeparation(context.Context) error {
	return fsguard.CheckSeparate(r.opts.StateDir, r.opts.DataLake)
}

func (r *Runtime) startOrigin(context.Context) error {
	g, err := genesis.NewGuardWith(genesis.GuardOptions{Role: r.role, Dir: r.opts.StateDir,
		TrustedPublicKey: r.opts.GenesisPublicKey, PinSource: r.opts.GenesisPinSource,
		TrustOnFirstUse: true, Logger: r.log})
	if err != nil {
		return err
	}
	r.guard = g
	r.genesisOK.Store(true)
	r.storeOrigin()
	return nil
}

// originSnapshot is the origin and its map form, built once per change: every receipt
// carries the map, and the receipt service caches its canonical form by map identity.
type originSnapshot struct {
	o genesis.Origin
	m map[string]any
}

// storeOrigin publishes the guard's current origin.
func (r *Runtime) storeOrigin() {
	o := r.guard.Origin()
	m := map[string]any{"designation": o.Designation, "genesis_node": o.GenesisNode, "genesis_block": o.GenesisBlock,
		"home_base_device": o.HomeBaseDevice, "authority_source": o.AuthoritySource, "hash_validated": o.HashValidated}
	if o.BlockID != "" {
		m["block_id"] = o.BlockID
	}
	if o.NodeID != "" {
		m["node_id"], m["node_name"] = o.NodeID, o.NodeName
	}
	r.originSnap.Store(&originSnapshot{o: o, m: m})
}

func (r *Runtime) startState(context.Context) error {
	for _, d := range []string{r.opts.StateDir, filepath.Join(r.opts.StateDir, "sel"),
		filepath.Join(r.opts.StateDir, "receipts"), filepath.Join(r.opts.StateDir, "bridge_receipts")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
	}
	return nil
}

func (r *Runtime) startLedger(ctx context.Context) error {
	l, err := ledger.Open(ledger.Options{System: r.opts.System, Logger: r.log,
		Metrics: r.set, Dir: filepath.Join(r.opts.StateDir, "sel"), MaxEpisodes: r.opts.SELMaxEpisodes,
		Spawner: r.spawner, AcceptLoss: r.opts.AcceptLedgerLoss, Fault: r.opts.LedgerFault,
		MailboxStats: r.mailboxes.of(KindLedger)})
	if err != nil {
		return err
	}
	if err := l.Start(ctx); err != nil {
		_ = l.Close()
		return err
	}
	r.ledger = l
	r.onStop("experience ledger", l.Shutdown)
	v := l.Verify()
	r.ledgerBootValid = v.Valid
	if !v.Valid {
		var bad any // the sequence, not the pointer's address
		if v.FirstBadSequence != nil {
			bad = *v.FirstBadSequence
		}
		r.log.Error("experience ledger chain failed verification on boot; serving degraded",
			"first_bad_sequence", bad, "episodes", v.Episodes)
	}
	if d := l.Damage(); d != nil {
		r.log.Warn("security event: started over an experience ledger that lost or altered acknowledged episodes",
			"security_event", "sel_loss_accepted", "damage", d.String())
	}
	return nil
}

func (r *Runtime) startReceipts(ctx context.Context) error {
	mk := func(dir, name string, set *metrics.Set) (*receipt.Service, error) {
		s, err := receipt.New(receipt.Options{System: r.opts.System, Logger: r.log.With("log", name),
			Metrics: set, Dir: filepath.Join(r.opts.StateDir, dir), Secret: r.opts.ReceiptSecret,
			Mode: r.opts.ReceiptMode, BatchInterval: r.opts.ReceiptBatch, BatchMax: r.opts.ReceiptBatchMax,
			NodeID: r.NodeID(), Origin: r.originMap, PolicyDigest: func() string { return r.policyDig },
			Spawner: r.spawner, MailboxStats: r.mailboxes.of(KindSealer)})
		if err != nil {
			return nil, err
		}
		if err := s.Start(ctx); err != nil {
			return nil, err
		}
		r.onStop(name, s.Shutdown)
		return s, nil
	}
	var err error
	if r.receipts, err = mk("receipts", "receipts", r.set); err != nil {
		return err
	}
	// The bridge's log has its own sealer; its series would collide with the query
	// log's on one set, so they go to a private set.
	r.bridgeRcp, err = mk("bridge_receipts", "bridge receipts", metrics.NewSet())
	return err
}

func (r *Runtime) startIndex(ctx context.Context) error {
	if _, err := os.Stat(r.opts.DataLake); errors.Is(err, os.ErrNotExist) {
		// An empty lake is a valid lake: every query answers NO_EVIDENCE until documents
		// are added (the lake is watched).
		if err := os.MkdirAll(r.opts.DataLake, 0o755); err != nil {
			return fmt.Errorf("create data lake %s: %w", r.opts.DataLake, err)
		}
		r.log.Warn("data lake missing; created it empty: every query answers NO_EVIDENCE until documents are added",
			"data_lake", r.opts.DataLake)
	}
	io := r.opts.Index
	lo := index.LakeOptions{Root: r.opts.DataLake, Index: index.Options{Logger: r.log, StateDir: r.opts.StateDir},
		ReadOnly: io.ReadOnly, Watch: !io.NoWatch, RescanInterval: io.RescanInterval, OnSwap: r.onIndexSwap}
	if !io.NoCache {
		lo.SaveDir = filepath.Join(r.opts.StateDir, "index")
	}
	if io.NoWatch {
		lo.RescanInterval = -1
	}
	lake, err := index.NewLake(lo)
	if err != nil {
		return err
	}
	if err := lake.Start(ctx); err != nil {
		return err
	}
	r.lake = lake
	r.onStop("data-lake index", lake.Shutdown)
	wait := io.StartWait
	if wait == 0 {
		wait = 2 * time.Second
	}
	if wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-lake.Scanned():
		case <-t.C:
			r.log.Info("data-lake index still being built; serving meanwhile (GET /v1/health says indexing)",
				"data_lake", r.opts.DataLake)
		case <-ctx.Done():
		}
		t.Stop()
	}
	r.set.GetOrCreateGauge("sovereign_index_passages", func() float64 { return float64(r.searcher().Stats().Passages) })
	r.set.GetOrCreateGauge("sovereign_index_files", func() float64 { return float64(r.searcher().Stats().Files) })
	r.set.GetOrCreateGauge("sovereign_index_indexing", func() float64 {
		if p := r.lake.Progress(); p.State == index.StateIndexing || p.State == index.StateLoading {
			return 1
		}
		return 0
	})
	r.set.GetOrCreateGauge("sovereign_index_scan_files_done", func() float64 { return float64(r.lake.Progress().FilesDone) })
	r.set.GetOrCreateGauge("sovereign_index_scan_files", func() float64 { return float64(r.lake.Progress().FilesTotal) })
	r.set.GetOrCreateGauge("sovereign_index_unreadable_files", func() float64 { return float64(r.lake.Progress().Unreadable) })
	return nil
}

// searcher is the index served now (an empty one before the first is ready).
func (r *Runtime) searcher() *index.Index {
	if r.lake == nil {
		return index.Empty()
	}
	return r.lake.Index()
}

// onIndexSwap drops the answers cached from the previous index (the lake's goroutine
// calls it after each swap; the cache may not exist yet at the first).
func (r *Runtime) onIndexSwap(*index.Index) {
	if c := r.cacheRef.Load(); c != nil {
		c.Purge()
	}
}

// RescanIndex asks the data-lake index for a rescan now (SIGHUP). It never blocks.
func (r *Runtime) RescanIndex() {
	if r.lake != nil {
		r.lake.Rescan()
	}
}

// WaitIndex waits until the first scan since start completed (the index reflects the
// lake as it is) or ctx ends. A one-shot query waits so.
func (r *Runtime) WaitIndex(ctx context.Context) error {
	if r.lake == nil {
		return ErrNotRunning
	}
	select {
	case <-r.lake.Scanned():
		return r.lake.WaitReady(ctx)
	case <-ctx.Done():
		return fmt.Errorf("%w (%w)", index.ErrNotReady, ctx.Err())
	}
}

// IndexProgress is the data-lake index's state (status, health, the console).
func (r *Runtime) IndexProgress() index.Progress {
	if r.lake == nil {
		return index.Progress{State: index.StateIndexing}
	}
	return r.lake.Progress()
}

func (r *Runtime) startInference(ctx context.Context) error {
	o := r.opts.InferenceOptions
	o.System, o.Logger, o.Metrics, o.Config = r.opts.System, r.log, r.set, r.opts.Inference
	o.Spawner = r.spawner
	s, err := inference.New(o)
	if err != nil {
		return err
	}
	if err := s.Start(ctx); err != nil {
		return err
	}
	r.infer = s
	r.onStop("inference", s.Shutdown)
	return nil
}

func (r *Runtime) startSkills(ctx context.Context) error {
	s, err := skills.New(skills.Options{Logger: r.log,
		Metrics: r.set, DataLakeRoot: r.opts.DataLake, StateDir: r.opts.StateDir})
	if err != nil {
		return err
	}
	if err := s.Start(ctx); err != nil {
		return err
	}
	r.skills = s
	r.onStop("skills", s.Shutdown)
	return nil
}

// Ready reports whether the runtime serves queries.
func (r *Runtime) Ready() bool { return r.state.Load() == stateRunning }

// Query runs one query through the pipeline with ctx's deadline.
func (r *Runtime) Query(ctx context.Context, req query.Request) (query.Result, error) {
	if r.state.Load() != stateRunning || r.engine == nil {
		return query.Result{}, ErrNotRunning
	}
	if err := r.waitFirstIndex(ctx); err != nil {
		return query.Result{}, err
	}
	return r.engine.Query(ctx, req)
}

// waitFirstIndex holds a query that arrives before the first index is served, up
// to Options.Index.QueryWait: answering it NO_EVIDENCE would be a false "nothing
// found".
func (r *Runtime) waitFirstIndex(ctx context.Context) error {
	select {
	case <-r.lake.Ready():
		return nil
	default:
	}
	wait := r.opts.Index.QueryWait
	if wait <= 0 {
		wait = 10 * time.Second
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	return r.lake.WaitReady(wctx)
}

// WriteMetrics writes the process's Prometheus exposition: the metrics set with HELP
// text, then the Go and process series.
func (r *Runtime) WriteMetrics(w io.Writer) { WriteExposition(w, r.set) }

// Receipts returns the query and skill receipt service.
func (r *Runtime) Receipts() *receipt.Service { return r.receipts }

// BridgeReceipts returns the bridge's receipt service.
func (r *Runtime) BridgeReceipts() *receipt.Service { return r.bridgeRcp }

// Ledger returns the experience ledger.
func (r *Runtime) Ledger() *ledger.Ledger { return r.ledger }

// Skills returns the skill registry.
func (r *Runtime) Skills() *skills.Registry { return r.skills }

// Inference returns the inference service.
func (r *Runtime) Inference() *inference.Service { return r.infer }

// Artifact returns the JSON of a recent query's graph artifact.
func (r *Runtime) Artifact(queryID string) (reasoning.Artifact, bool) {
	if r.artifacts == nil {
		return reasoning.Artifact{}, false
	}
	return r.artifacts.Get(queryID)
}

// PolicyDigest returns the active scoring policy's digest.
func (r *Runtime) PolicyDigest() string { return r.policyDig }

// Role returns the node role.
func (r *Runtime) Role() string { return string(r.role) }

// StateDir returns the state folder.
func (r *Runtime) StateDir() string { return r.opts.StateDir }

// SetBridgeStats installs the bridge's reporter (nil: bridge disabled).
func (r *Runtime) SetBridgeStats(f func() BridgeStats) {
	if f == nil {
		r.bridgeStats.Store(nil)
		return
	}
	r.bridgeStats.Store(&f)
}

// GenesisStatus is the origin guard's last verdict: the check at start (with the pin
// or the key recorded on first use), then one per maintenance cycle. Before Start it
// validates the files as they are.
func (r *Runtime) GenesisStatus() (ok bool, reason string) {
	if r.guard == nil {
		return genesis.Validate(r.opts.StateDir)
	}
	return r.guard.Status()
}

// GenesisIsThisNode reports whether doc is a valid genesis document that is this
// node's own (a node0 whose genesis still checks, same genesis hash and identity key).
func (r *Runtime) GenesisIsThisNode(doc []byte) bool {
	return r.guard != nil && r.guard.IsThisNode(doc)
}

// Origin returns the origin snapshot of proof.md, as last verified (at start, then by
// every maintenance cycle).
func (r *Runtime) Origin() genesis.Origin {
	if p := r.originSnap.Load(); p != nil {
		return p.o
	}
	return genesis.Snapshot(r.role, r.opts.StateDir)
}

// OriginMap returns the origin snapshot as the map every receipt carries. It is shared:
// callers must not modify it.
func (r *Runtime) OriginMap() map[string]any { return r.originMap() }

func (r *Runtime) originMap() map[string]any {
	if p := r.originSnap.Load(); p != nil {
		return p.m
	}
	return nil
}

// NodeID is the node0 id for a validated node0, else an id derived from the receipt
// signer's public key, so it is stable for the node's key.
func (r *Runtime) NodeID() string {
	if o := r.Origin(); o.NodeID != "" {
		return o.NodeID
	}
	if r.receipts != nil {
		return "node_" + r.receipts.KeyID()
	}
	return "node_" + receipt.KeyID(receipt.NewEd25519Signer(r.opts.ReceiptSecret).PublicKeyBytes())
}
