package ledger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/asynkron/protoactor-go/actor"
)

// Defaults of Options.
const (
	DefaultMaxEpisodes   = 100_000
	DefaultSegmentBytes  = 4 << 20
	DefaultQueueSize     = 4096
	DefaultMaxBatch      = 512
	DefaultCommitTimeout = 30 * time.Second
	MaxPageLimit         = 200
	DefaultPageLimit     = 50
	MaxTopK              = 100
	DefaultTopK          = 5
)

// Options configures a Ledger. Zero values take the documented defaults.
type Options struct {
	// System runs the ledger actor. Required by Start (not by Open or read-only use).
	System *actor.ActorSystem
	// Logger; nil discards.
	Logger *slog.Logger
	// Metrics receives the sovereign_sel_* metrics; nil creates a private set.
	Metrics *metrics.Set
	// Dir is the ledger folder (the runtime passes <state>/sel/). Required.
	Dir string
	// MaxEpisodes is the retention: older episodes are pruned to an anchor. 0 means
	// DefaultMaxEpisodes; negative means unlimited (memory grows with the ledger).
	MaxEpisodes int
	// SegmentBytes rolls the active segment past this size; 0 means DefaultSegmentBytes.
	SegmentBytes int64
	// Now is the clock for timestamps and retrieval ages; nil means time.Now.
	Now func() time.Time
	// NoSync turns the fsyncs off. Leave it false (the zero value, i.e. Sync = true):
	// without fsync an acknowledged episode can be lost on power failure. It exists
	// only to measure the no-fsync ceiling in benchmarks.
	NoSync bool
	// QueueSize bounds the episodes waiting for the flusher; past it Append answers
	// OVERLOADED at once. 0 means DefaultQueueSize.
	QueueSize int
	// MaxBatch bounds the episodes sharing one write and fsync; 0 means
	// DefaultMaxBatch. 1 disables group commit (one fsync per episode).
	MaxBatch int
	// Props, when set, adjusts the ledger actor's props before it is spawned (the
	// runtime adds fault injection for tests); nil leaves them as they are.
	Props func(*actor.Props) *actor.Props
	// MailboxStats, when set, observes the ledger actor's mailbox (the runtime's
	// mailbox depth in /v1/status); nil observes nothing.
	MailboxStats actor.MailboxMiddleware
	// Spawner spawns the ledger actor (a supervisor's spawner, so it supervises it and
	// answers an Append lost in a crash through FailureReply); nil → System's root.
	Spawner actor.SpawnerContext
	// AcceptLoss lets a writable Open proceed over damage (acknowledged episodes lost
	// or altered, see Damage) instead of failing with ErrLoss: the loss is logged as a
	// security event, the witness is re-anchored on what is on disk (and remembers the
	// damage, so the same damage does not refuse a later start), and the ledger
	// reports itself not verified for the life of this process (and for as long as its
	// chain does not recompute).
	AcceptLoss bool
	// Fault, when set, is asked before each write, fsync and truncate of the ledger's
	// files with the operation ("write", "fsync", "truncate") and the path; a non-nil
	// error fails that operation as the disk would. Tests only; nil in production.
	Fault func(op, path string) error
}

// Verification is the result of recomputing the chain.
type Verification struct {
	Valid            bool    `json:"valid"`
	Episodes         int     `json:"episodes"`
	ChainHead        string  `json:"chain_head"`
	FirstBadSequence *uint64 `json:"first_bad_sequence"`
	// Damage names the file, byte offset and sequence of what was found lost or
	// altered when the folder was opened (nil when nothing was). Not in the API view.
	Damage *Damage `json:"-"`
}

// Stats is the ledger's health summary.
type Stats struct {
	Episodes  int    `json:"episodes"`  // retained episodes
	Committed uint64 `json:"committed"` // episodes ever committed (next sequence)
	ChainHead string `json:"chain_head"`
	Verified  bool   `json:"verified"` // the last verification (boot or Verify) passed
	Segments  int    `json:"segments"`
	DiskBytes int64  `json:"disk_bytes"`
	// Writable is false from a failed write or fsync until a batch is written again;
	// WriteError is then the public code of the failure (SEL_DISK_FULL, ...).
	Writable   bool   `json:"writable"`
	WriteError string `json:"write_error,omitempty"`
}

// Page is a page of episodes, newest first.
type Page struct {
	Total     int       `json:"total"`
	Count     int       `json:"count"`
	ChainHead string    `json:"chain_head"`
	Episodes  []Episode `json:"episodes"`
}

// Scored is a retrieved episode with its score.
type Scored struct {
	Episode    Episode `json:"episode"`
	Score      float64 `json:"score"`
	Relevance  float64 `json:"relevance"`
	Importance float64 `json:"importance"`
}

// entry is a retained episode with its retrieval words.
type entry struct {
	ep    Episode
	words []string
}

// pending is an episode waiting for the flusher.
type pending struct {
	ep       Episode
	sender   *actor.PID
	enqueued time.Time
}

// Ledger is the Sovereign Experience Ledger: the durable store, its in-memory view,
// the single-writer actor and its flusher.
type Ledger struct {
	opts     Options
	log      *slog.Logger
	st       *store
	readOnly bool
	maxEps   int
	maxBatch int

	mEpisodes *metrics.Counter
	mValid    *metrics.Gauge
	mCommit   *metrics.PrometheusHistogram
	mFsyncs   *metrics.Counter
	mWriteErr *metrics.Counter

	// writeErr is the public code of the last failed batch, nil once one succeeds.
	writeErr atomic.Pointer[string]
	damage   *Damage // found at open (see Damage); read-only after open

	mu sync.RWMutex // mu guards the following fields
	// eps holds the retained episodes in sequence order.
	eps    []*entry
	byHash map[string]*entry
	anchor *anchor // the last pruned (memory) or the disk anchor; nil: chain starts at genesis
	head   string
	next   uint64
	// bootBad is the first sequence found unreadable or broken when the folder was opened.
	bootBad  *uint64
	verified bool

	qmu     sync.RWMutex // qmu guards closed and sends on queue
	closed  bool
	started bool
	queue   chan pending

	pid      atomic.Pointer[actor.PID]
	kick     chan struct{}
	stop     chan struct{}
	wg       sync.WaitGroup
	shutOnce sync.Once
	stopped  chan struct{}
	shutErr  error
	testHook func() // called by the flusher before each batch (tests only)
}

// Open opens (creating it when needed) the ledger folder for writing: it takes the
// folder's lock, cuts a torn tail, reads and verifies the whole chain, and applies
// retention. A broken chain does not prevent opening; Verify reports it. Start must be
// called before appending.
func Open(opts Options) (*Ledger, error) {
	return open(opts, false)
}

// OpenReadOnly opens a ledger folder without locking or repairing it (a torn tail is
// ignored, not cut), for the CLI and for inspecting a running node's folder. Appends
// fail with ErrClosed; there is nothing to start or shut down.
func OpenReadOnly(dir string) (*Ledger, error) {
	return open(Options{Dir: dir, MaxEpisodes: -1}, true)
}

func open(opts Options, readOnly bool) (*Ledger, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Metrics == nil {
		opts.Metrics = metrics.NewSet()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SegmentBytes <= 0 {
		opts.SegmentBytes = DefaultSegmentBytes
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = DefaultQueueSize
	}
	l := &Ledger{
		opts:     opts,
		log:      opts.Logger.With("component", "sel"),
		readOnly: readOnly,
		maxEps:   opts.MaxEpisodes,
		maxBatch: opts.MaxBatch,
		byHash:   map[string]*entry{},
		head:     Genesis,
		kick:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		stopped:  make(chan struct{}),
	}
	if l.maxEps == 0 {
		l.maxEps = DefaultMaxEpisodes
	}
	if l.maxBatch <= 0 {
		l.maxBatch = DefaultMaxBatch
	}
	st, sc, err := openStore(opts.Dir, readOnly, !opts.NoSync, opts.AcceptLoss, opts.Fault)
	if err != nil {
		return nil, fmt.Errorf("open ledger %s: %w", opts.Dir, err)
	}
	l.st = st
	if sc.torn > 0 && (sc.damage == nil || sc.cut) {
		l.log.Warn("sel torn tail (never acknowledged)", "file", sc.tornAt.file, "offset", sc.tornAt.off, "bytes", sc.torn, "cut", sc.cut)
	}
	if d := sc.damage; d != nil {
		l.damage = d
		switch {
		case readOnly:
		case d.accepted:
			l.log.Warn("sel damage accepted earlier (the chain still does not verify)", "security_event", "sel_loss_accepted",
				"file", d.File, "offset", d.Offset, "sequence", d.Sequence, "reason", d.Reason)
		default:
			l.log.Warn("sel acknowledged episodes lost or altered; accepted, witness re-anchored", "security_event", "sel_loss_accepted",
				"file", d.File, "offset", d.Offset, "sequence", d.Sequence, "reason", d.Reason)
		}
		if sc.bad == nil || d.Sequence < *sc.bad {
			s := d.Sequence
			sc.bad = &s
		}
	}
	l.anchor = sc.anchor
	if sc.anchor != nil {
		l.head, l.next = sc.anchor.ChainHash, sc.anchor.Sequence+1
	}
	for i := range sc.eps {
		l.addLocked(sc.eps[i])
	}
	l.bootBad = sc.bad
	if sc.bad != nil && sc.reason != "" {
		// Only records the scan could not read have a reason here; a loss (cut,
		// removed or rewritten records) was logged above with its damage.
		l.log.Error("sel unreadable records", "first_bad_sequence", *sc.bad, "reason", sc.reason)
	}
	l.mEpisodes = opts.Metrics.GetOrCreateCounter("sovereign_sel_episodes_total")
	l.mValid = opts.Metrics.GetOrCreateGauge("sovereign_sel_chain_valid", nil)
	l.mCommit = opts.Metrics.GetOrCreatePrometheusHistogramExt("sovereign_sel_commit_seconds",
		[]float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5})
	l.mFsyncs = opts.Metrics.GetOrCreateCounter("sovereign_sel_fsyncs_total")
	l.mWriteErr = opts.Metrics.GetOrCreateCounter("sovereign_sel_write_errors_total")
	v := l.Verify() // full chain, before retention drops anything from memory
	if !v.Valid {
		l.log.Error("sel chain does not verify", "first_bad_sequence", *v.FirstBadSequence)
	}
	l.mu.Lock()
	l.pruneLocked()
	l.mu.Unlock()
	if !readOnly {
		l.mEpisodes.Set(l.next)
	}
	return l, nil
}

// Start spawns the ledger actor and its flusher and maintenance goroutines.
func (l *Ledger) Start(ctx context.Context) error {
	if l.readOnly {
		return fmt.Errorf("start: %w: opened read-only", ErrClosed)
	}
	if l.opts.System == nil {
		return fmt.Errorf("start: %w: Options.System is nil", ErrClosed)
	}
	l.qmu.Lock()
	defer l.qmu.Unlock()
	if l.closed || l.started {
		return fmt.Errorf("start: %w: already started or shut down", ErrClosed)
	}
	l.started = true
	l.queue = make(chan pending, l.opts.QueueSize)
	l.wg.Go(l.flushLoop)
	l.wg.Go(l.maintainLoop)
	props := actor.PropsFromProducer(func() actor.Actor { return &ledgerActor{l: l} },
		actor.WithMailbox(actor.Bounded(l.opts.QueueSize, mailboxStats(l.opts.MailboxStats)...)))
	if l.opts.Props != nil {
		props = l.opts.Props(props)
	}
	spawner := l.opts.Spawner
	if spawner == nil {
		spawner = l.opts.System.Root
	}
	pid := spawner.SpawnPrefix(props, "ledger")
	if pid == nil {
		return fmt.Errorf("start: %w: the ledger actor could not be spawned", ErrClosed)
	}
	l.pid.Store(pid)
	l.kickMaintenance() // seal segments left unsealed and prune what boot retention dropped
	l.log.Info("sel started", "dir", l.opts.Dir, "episodes", l.Len(), "next_sequence", l.nextSeq())
	return nil
}

// PID is the ledger actor (nil before Start and after Shutdown).
func (l *Ledger) PID() *actor.PID { return l.pid.Load() }

// Shutdown stops accepting appends, flushes and acknowledges everything already
// queued, stops the actor and goroutines and closes the files. It is idempotent; a
// second call waits for the first. When ctx ends first it returns ctx's error and the
// flush completes in the background.
func (l *Ledger) Shutdown(ctx context.Context) error {
	l.shutOnce.Do(func() {
		l.qmu.Lock()
		wasStarted := l.started && !l.closed
		l.closed = true
		if wasStarted {
			close(l.queue)
		}
		l.qmu.Unlock()
		go func() { // waited for by every Shutdown caller through l.stopped
			defer close(l.stopped)
			if pid := l.pid.Swap(nil); pid != nil {
				// Poison queues behind the appends already in the mailbox, which are
				// answered SEL_CLOSED rather than left to time out.
				_ = l.opts.System.Root.PoisonFuture(pid).Wait()
			}
			l.wg.Wait() // the flusher drains the closed queue before returning
			l.shutErr = l.st.close()
			l.log.Info("sel stopped", "next_sequence", l.nextSeq())
		}()
	})
	select {
	case <-l.stopped:
		return l.shutErr
	case <-ctx.Done():
		return fmt.Errorf("sel shutdown: %w", ctx.Err())
	}
}

// Close is Shutdown without a deadline (for read-only ledgers and the CLI).
func (l *Ledger) Close() error { return l.Shutdown(context.Background()) }

// enqueue hands an accepted episode to the flusher without blocking.
func (l *Ledger) enqueue(p pending) error {
	l.qmu.RLock()
	defer l.qmu.RUnlock()
	if l.closed || !l.started {
		return ErrClosed
	}
	select {
	case l.queue <- p:
		return nil
	default:
		return ErrOverloaded
	}
}

// flushLoop is the single writer: it takes every queued episode (up to MaxBatch),
// writes them with one write and one fsync, then acknowledges each.
func (l *Ledger) flushLoop() {
	defer close(l.stop) // stops the maintenance loop once the last batch is on disk
	batch := make([]pending, 0, l.maxBatch)
	var buf []byte
	for {
		p, ok := <-l.queue
		if !ok {
			return
		}
		batch = append(batch[:0], p)
	drain:
		for len(batch) < l.maxBatch {
			select {
			case p, ok := <-l.queue:
				if !ok {
					break drain
				}
				batch = append(batch, p)
			default:
				break drain
			}
		}
		if l.testHook != nil {
			l.testHook()
		}
		buf = l.commitBatch(batch, buf[:0])
		clear(batch)
	}
}

// commitBatch seals, writes, fsyncs and acknowledges one batch; it returns buf for reuse.
func (l *Ledger) commitBatch(batch []pending, buf []byte) []byte {
	l.mu.RLock()
	seq, head := l.next, l.head
	l.mu.RUnlock()
	now := uint64(max(0, l.opts.Now().Unix()))
	sealed := make([]Episode, 0, len(batch))
	owners := make([]*pending, 0, len(batch))
	for i := range batch {
		p := &batch[i]
		ep := p.ep
		if ep.Timestamp == 0 {
			ep.Timestamp = now
		}
		seal(&ep, seq, head)
		var err error
		mark := len(buf)
		if buf, err = appendRecord(buf, &ep); err != nil {
			buf = buf[:mark]
			l.reply(p.sender, failed(err))
			continue
		}
		sealed = append(sealed, ep)
		owners = append(owners, p)
		seq, head = seq+1, ep.ChainHash
	}
	if len(sealed) == 0 {
		return buf
	}
	first, last := sealed[0].Sequence, sealed[len(sealed)-1].Sequence
	synced, err := l.st.writeBatch(buf, first, last, head)
	if synced {
		l.mFsyncs.Inc()
	}
	if err != nil {
		l.mWriteErr.Inc()
		code := codeOf(err)
		l.writeErr.Store(&code)
		l.log.Error("sel write failed; nothing of the batch acknowledged", "first_sequence", first, "episodes", len(sealed),
			"broken", l.st.broken != nil, "err", err)
		f := failed(err)
		for _, p := range owners {
			l.reply(p.sender, f)
		}
		return buf
	}
	if l.writeErr.Swap(nil) != nil {
		l.log.Info("sel writes succeed again", "first_sequence", first)
	}
	l.mu.Lock()
	for _, ep := range sealed {
		l.addLocked(ep)
	}
	pruned := l.pruneLocked()
	l.mu.Unlock()
	l.mEpisodes.Add(len(sealed))
	done := time.Now()
	for i, p := range owners {
		l.mCommit.Update(done.Sub(p.enqueued).Seconds())
		ep := &sealed[i]
		l.reply(p.sender, &Appended{Sequence: ep.Sequence, EpisodeHash: ep.EpisodeHash, ChainHash: ep.ChainHash})
	}
	if l.st.activeSize >= l.opts.SegmentBytes {
		if err := l.st.roll(last + 1); err != nil {
			l.mWriteErr.Inc()
			l.log.Warn("sel segment roll failed (appends continue in the current segment)", "err", err)
		} else {
			pruned = true
		}
	}
	if pruned {
		l.kickMaintenance()
	}
	return buf
}

func (l *Ledger) reply(to *actor.PID, msg any) {
	if to != nil {
		l.opts.System.Root.Send(to, msg)
	}
}

func (l *Ledger) kickMaintenance() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// maintainLoop seals closed segments and prunes the files below the retention anchor.
func (l *Ledger) maintainLoop() {
	for {
		select {
		case <-l.stop:
			return
		case <-l.kick:
		}
		for _, seg := range l.st.sealable() {
			select {
			case <-l.stop:
				return
			default:
			}
			if err := l.st.seal(seg); err != nil {
				l.log.Warn("sel seal failed", "first_sequence", seg.first, "err", err)
				break
			}
		}
		l.mu.RLock()
		a := l.anchor
		l.mu.RUnlock()
		if a != nil {
			if n, err := l.st.prune(a.Sequence); err != nil {
				l.log.Warn("sel prune failed", "err", err)
			} else if n > 0 {
				l.log.Debug("sel pruned segments", "segments", n, "anchor", a.Sequence)
			}
		}
	}
}

// addLocked appends a stored episode to the in-memory view.
func (l *Ledger) addLocked(ep Episode) {
	e := &entry{ep: ep, words: words(ep.Context)}
	l.eps = append(l.eps, e)
	if _, dup := l.byHash[ep.EpisodeHash]; !dup {
		l.byHash[ep.EpisodeHash] = e
	}
	l.head, l.next = ep.ChainHash, ep.Sequence+1
}

// pruneLocked drops the oldest episodes past MaxEpisodes, moving the anchor to the
// last dropped one. It reports whether anything was dropped.
func (l *Ledger) pruneLocked() bool {
	if l.maxEps < 0 || len(l.eps) <= l.maxEps {
		return false
	}
	k := len(l.eps) - l.maxEps
	last := l.eps[k-1].ep
	for i := range k {
		if l.byHash[l.eps[i].ep.EpisodeHash] == l.eps[i] {
			delete(l.byHash, l.eps[i].ep.EpisodeHash)
		}
		l.eps[i] = nil
	}
	l.eps = l.eps[k:]
	l.anchor = &anchor{Sequence: last.Sequence, ChainHash: last.ChainHash}
	return true
}

func (l *Ledger) nextSeq() uint64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.next
}

// Len is the number of retained episodes.
func (l *Ledger) Len() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.eps)
}

// Head is the chain head ("genesis" when nothing was ever committed).
func (l *Ledger) Head() string {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.head
}

// Commit appends ep through the actor and waits for its acknowledgement (after fsync),
// at most until ctx's deadline (DefaultCommitTimeout without one). For edges, the CLI
// and tests; inside the core send Append and handle the reply.
func (l *Ledger) Commit(ctx context.Context, ep Episode) (Appended, error) {
	pid := l.pid.Load()
	if pid == nil {
		return Appended{}, fmt.Errorf("commit: %w", ErrClosed)
	}
	timeout := DefaultCommitTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	if err := ctx.Err(); err != nil || timeout <= 0 {
		return Appended{}, fmt.Errorf("commit: %w", ErrTimeout)
	}
	res, err := l.opts.System.Root.RequestFuture(pid, &Append{Episode: ep}, timeout).Result()
	if err != nil {
		if errors.Is(err, actor.ErrTimeout) {
			return Appended{}, fmt.Errorf("commit: %w", ErrTimeout)
		}
		return Appended{}, fmt.Errorf("commit: %w: %w", ErrClosed, err)
	}
	switch r := res.(type) {
	case *Appended:
		return *r, nil
	case *AppendFailed:
		return Appended{}, fmt.Errorf("commit: %w", r.Err())
	}
	return Appended{}, fmt.Errorf("commit: %w: unexpected reply %T", ErrStorage, res)
}

// Episodes returns a page of episodes, newest first. limit is clamped to 1..200 (0
// means 50); a negative offset is 0.
func (l *Ledger) Episodes(limit, offset int) Page {
	if limit <= 0 {
		limit = DefaultPageLimit
	}
	limit = min(limit, MaxPageLimit)
	offset = max(offset, 0)
	l.mu.RLock()
	defer l.mu.RUnlock()
	p := Page{Total: len(l.eps), ChainHead: l.head, Episodes: []Episode{}}
	for i := len(l.eps) - 1 - offset; i >= 0 && len(p.Episodes) < limit; i-- {
		p.Episodes = append(p.Episodes, l.eps[i].ep.clone())
	}
	p.Count = len(p.Episodes)
	return p
}

// ByHash returns the episode whose episode_hash is hash.
func (l *Ledger) ByHash(hash string) (Episode, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if e, ok := l.byHash[hash]; ok {
		return e.ep.clone(), nil
	}
	return Episode{}, fmt.Errorf("episode %.64q: %w", hash, ErrNotFound)
}

// BySequence returns the retained episode with that sequence.
func (l *Ledger) BySequence(seq uint64) (Episode, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	i := sort.Search(len(l.eps), func(i int) bool { return l.eps[i].ep.Sequence >= seq })
	if i < len(l.eps) && l.eps[i].ep.Sequence == seq {
		return l.eps[i].ep.clone(), nil
	}
	return Episode{}, fmt.Errorf("episode %d: %w", seq, ErrNotFound)
}

// Verify recomputes every retained episode's hashes and the chain from the anchor
// (or genesis), and adds what was found unreadable when the folder was opened.
func (l *Ledger) Verify() Verification {
	l.mu.RLock()
	prev, seq := Genesis, uint64(0)
	if l.anchor != nil {
		prev, seq = l.anchor.ChainHash, l.anchor.Sequence+1
	}
	v := Verification{Valid: true, Episodes: len(l.eps), ChainHead: l.head}
	var bad *uint64
	for _, e := range l.eps {
		if checkSealed(&e.ep, seq, prev) != "" {
			s := seq // the first sequence that is missing or does not recompute
			bad = &s
			break
		}
		prev, seq = e.ep.ChainHash, seq+1
	}
	if l.bootBad != nil && (bad == nil || *l.bootBad < *bad) {
		b := *l.bootBad
		bad = &b
	}
	l.mu.RUnlock()
	if bad != nil {
		v.Valid, v.FirstBadSequence = false, bad
	}
	v.Damage = l.damage
	l.mu.Lock()
	l.verified = v.Valid
	l.mu.Unlock()
	if v.Valid {
		l.mValid.Set(1)
	} else {
		l.mValid.Set(0)
	}
	return v
}

// Stats summarises the ledger for health and status.
func (l *Ledger) Stats() Stats {
	segs, bytes := l.st.diskStats()
	l.mu.RLock()
	defer l.mu.RUnlock()
	st := Stats{Episodes: len(l.eps), Committed: l.next, ChainHead: l.head, Verified: l.verified, Segments: segs,
		DiskBytes: bytes, Writable: !l.readOnly}
	if c := l.writeErr.Load(); c != nil {
		st.Writable, st.WriteError = false, *c
	}
	return st
}

// Damage is what was found lost or altered when the folder was opened (nil: nothing).
func (l *Ledger) Damage() *Damage { return l.damage }

// mailboxStats is the mailbox middleware list of one optional observer.
func mailboxStats(m actor.MailboxMiddleware) []actor.MailboxMiddleware {
	if m == nil {
		return nil
	}
	return []actor.MailboxMiddleware{m}
}
