package receipt

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/asynkron/protoactor-go/actor"

	"github.com/bizra/bizra/internal/canon"
)

// Modes.
const (
	ModeBatch  = "batch"
	ModeSingle = "single"
)

// Defaults for zero Options fields.
const (
	DefaultBatchInterval = 5 * time.Millisecond
	DefaultBatchMax      = 1024
	DefaultMaxReceipts   = 1_000_000
	DefaultMaxPending    = 1 << 16
	DefaultSegmentBytes  = 4 << 20
	DefaultIssueTimeout  = 5 * time.Second
)

// Options configure a Service. Zero values take the documented defaults.
type Options struct {
	// System runs the sealer actor. nil: the Service creates (and shuts down) its own
	// actor system with a discard logger.
	System *actor.ActorSystem
	// Logger; nil discards.
	Logger *slog.Logger
	// Metrics; nil uses a fresh metrics.NewSet().
	Metrics *metrics.Set
	// Dir holds the durable log (required). Use one Service per folder: the runtime
	// opens <state>/receipts for query and skill receipts and <state>/bridge_receipts for
	// bridge receipts, and routes a lookup by id prefix (KindOfID).
	Dir string
	// Secret is the receipt secret (required); the Ed25519 key is derived from it.
	Secret Secret
	// Mode is "batch" (default, "" too) or "single".
	Mode string
	// BatchInterval seals a batch this long after its first leaf; 0 = 5 ms.
	BatchInterval time.Duration
	// BatchMax seals a batch once it holds this many leaves; 0 = 1024.
	BatchMax int
	// NodeID is written into every body ("" is allowed and written as is).
	NodeID string
	// Origin returns the origin snapshot (proof.md); nil or a nil map gives {}.
	// Called on the caller's goroutine by every Issue, so it must be cheap and safe
	// for concurrent use. A returned map is an immutable snapshot: never mutate it;
	// return a new map when the origin changes (the Service caches the canonical
	// form of the last map it saw, by identity).
	Origin func() map[string]any
	// PolicyDigest returns the active policy digest; nil writes "".
	PolicyDigest func() string
	// MaxReceipts is the retention limit of the log; 0 = 1,000,000, negative = keep all.
	// Pruning drops whole segments, oldest first.
	MaxReceipts int
	// MaxSegments is a second retention limit on segment files; 0 = none.
	MaxSegments int
	// SegmentBytes rotates the active segment once it reaches this size; 0 = 4 MiB;
	// at most 1 GiB.
	SegmentBytes int64
	// MaxPending bounds receipts issued but not yet sealed and durable (waiting for their
	// group commit or their seal); Issue answers ErrOverloaded beyond it; 0 = 65,536.
	MaxPending int
	// Now is the clock; nil = time.Now.
	Now func() time.Time
	// IssueTimeout bounds how long Issue waits for its record to be durable (one group
	// commit: a write and an fsync); past it Issue answers ErrStorage. 0 = 5 s.
	IssueTimeout time.Duration
	// NoPreallocate turns off spare segments: by default the background goroutine
	// prepares the next segment once the active one is half full (the header, then
	// SegmentBytes plus an eighth, at most 72 MiB, reserved with fallocate, or written
	// as zeros where that is not supported; fsynced), so an append in the group
	// commit neither grows the file nor allocates blocks, and it syncs with
	// fdatasync. With it set, segments grow by appending (each fdatasync then also
	// commits the new size and allocation). Durability is the same either way.
	NoPreallocate bool
	// faults injects storage failures (tests of this package): see storeOptions.faults.
	faults func(op string) error
	// fullSync fsyncs instead of fdatasync (benchmarks of this package).
	fullSync bool
	// Props, when set, adjusts the sealer actor's props before it is spawned (the
	// runtime adds fault injection for tests); nil leaves them as they are.
	Props func(*actor.Props) *actor.Props
	// MailboxStats, when set, observes the sealer's mailbox (the runtime's mailbox
	// depth in /v1/status); nil observes nothing.
	MailboxStats actor.MailboxMiddleware
	// Spawner spawns the sealer (a supervisor's spawner, so it supervises it, restarts
	// it from a fresh producer and answers a Flush lost in a crash through
	// FailureReply); nil → System's root.
	Spawner actor.SpawnerContext
}

// Input is what an edge knows about a request when it issues a receipt.
type Input struct {
	Kind    string // query | bridge | skill
	Status  string // accepted | rejected | amber_restricted | pending
	Method  string // route or JSON-RPC method (required, at most 256 bytes)
	Params  any    // the request's params, digested into query_digest
	Payload any    // the result before the receipt is attached, digested into payload_digest
	// PayloadDigest, when not empty, is payload_digest itself (64 lower-case hex:
	// canon.Digest(DomainPayload, payload) computed by the caller, a cache hit's stored
	// digest) and Payload must be nil. The receipt bytes are the same either way.
	PayloadDigest string
	// Scores; nil means "not measured" and is written as null.
	SNR, Ihsan, FateScore *float64
	GatePassed            bool
	Reason                string // at most 4096 bytes
	Duration              time.Duration
}

// Ref is what a response carries; Issue returns it once the issued record is durable.
type Ref struct {
	ReceiptID string `json:"receipt_id"`
	LeafHash  string `json:"leaf_hash"`
	Status    string `json:"status"`
}

// PID returns the sealer actor (nil before Start).
func (s *Service) PID() *actor.PID { return s.pid }

// Stats are the Service's counters.
type Stats struct {
	// Issued counts receipts whose issued record is durable; Pending those of them not
	// sealed yet (plus the ones waiting for their group commit).
	Issued, SealedBatches, Pending uint64
	// Commits counts group commits that wrote issued records (one write, one fsync
	// each) and CommitRecords the issued records they wrote: the mean group-commit
	// batch is CommitRecords/Commits.
	Commits, CommitRecords uint64
	// WriteFailing is true from a failed log write until the next write succeeds.
	WriteFailing bool
	// RejectedRecords counts log records refused at Start (integrity or framing
	// failed: tampering or corruption, logged with segment and offset);
	// DuplicateRecords those ignored because their receipt id was already indexed;
	// LegacySegments the segments written before record MACs (read without check).
	RejectedRecords, DuplicateRecords, LegacySegments int
	// LastSealAge is the time since the last batch became durable; 0 before the first.
	LastSealAge time.Duration
	// Stored is the number of receipts the log holds.
	Stored int
}

// Service issues, seals, stores and serves receipts. See the package documentation.
type Service struct {
	opts     Options
	signer   *Ed25519Signer
	hmacKey  string // key id of the legacy fingerprint, accepted by (*Service).Verify
	ownSys   bool
	sys      *actor.ActorSystem
	ids      idGen
	origin   func() map[string]any
	policy   func() string
	now      func() time.Time
	log      *slog.Logger
	verifier *Verifier

	originCache atomic.Pointer[originCache]

	mIssued   *metrics.Counter
	mBatches  *metrics.Counter
	mPending  *metrics.Gauge
	mSize     *metrics.PrometheusHistogram
	mSealSecs *metrics.PrometheusHistogram
	mErrors   *metrics.Counter
	mRejected *metrics.Counter
	mCommit   *metrics.PrometheusHistogram

	issued   atomic.Uint64
	batches  atomic.Uint64
	pendN    atomic.Int64
	lastSeal atomic.Int64 // unix nanos of the last durable batch
	commits  atomic.Uint64
	commitN  atomic.Uint64
	failing  atomic.Bool
	macKey   []byte

	// mu guards the following fields (Issue holds it shared while it sends).
	mu    sync.RWMutex
	state int // 0 new, 1 running, 2 closed
	st    *store
	w     *writer
	pid   *actor.PID
	book  *sealBook
	wg    sync.WaitGroup

	// durMu guards the following fields.
	durMu     sync.Mutex
	durJob    uint64
	failedJob uint64        // newest job whose write failed
	durSignal chan struct{} // closed and replaced whenever durJob moves
}

// New validates opts, derives the keys and prepares a Service; Start opens the log.
func New(opts Options) (*Service, error) {
	if opts.Dir == "" {
		return nil, fmt.Errorf("%w: Dir is required", ErrOptions)
	}
	if opts.Secret.IsZero() {
		return nil, fmt.Errorf("%w: Secret is required (%s)", ErrKey, EnvKey)
	}
	switch opts.Mode {
	case "":
		opts.Mode = ModeBatch
	case ModeBatch, ModeSingle:
	default:
		return nil, fmt.Errorf("%w: Mode %q (want batch or single)", ErrOptions, opts.Mode)
	}
	if opts.IssueTimeout < 0 || opts.BatchInterval < 0 || opts.BatchMax < 0 || opts.MaxPending < 0 || opts.SegmentBytes < 0 || opts.MaxSegments < 0 {
		return nil, fmt.Errorf("%w: negative limit", ErrOptions)
	}
	if opts.SegmentBytes > 1<<30 {
		return nil, fmt.Errorf("%w: SegmentBytes above 1 GiB", ErrOptions)
	}
	if opts.BatchInterval == 0 {
		opts.BatchInterval = DefaultBatchInterval
	}
	if opts.IssueTimeout == 0 {
		opts.IssueTimeout = DefaultIssueTimeout
	}
	if opts.BatchMax == 0 {
		opts.BatchMax = DefaultBatchMax
	}
	if opts.MaxReceipts == 0 {
		opts.MaxReceipts = DefaultMaxReceipts
	}
	if opts.MaxPending == 0 {
		opts.MaxPending = DefaultMaxPending
	}
	if opts.SegmentBytes == 0 {
		opts.SegmentBytes = DefaultSegmentBytes
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Metrics == nil {
		opts.Metrics = metrics.NewSet()
	}
	s := &Service{
		opts:      opts,
		signer:    NewEd25519Signer(opts.Secret),
		origin:    opts.Origin,
		policy:    opts.PolicyDigest,
		now:       opts.Now,
		log:       opts.Logger.With("component", "receipt", "dir", opts.Dir),
		durSignal: make(chan struct{}),
		macKey:    opts.Secret.logMACKey(),
	}
	s.hmacKey = NewSimpleSigner(opts.Secret).KeyID()
	s.verifier = NewVerifier(VerifyOptions{Secret: opts.Secret, TrustedKeyIDs: []string{s.signer.KeyID(), s.hmacKey}})
	if s.now == nil {
		s.now = time.Now
	}
	set := opts.Metrics
	s.mIssued = set.GetOrCreateCounter("sovereign_receipts_issued_total")
	s.mBatches = set.GetOrCreateCounter("sovereign_receipt_batches_sealed_total")
	s.mPending = set.GetOrCreateGauge("sovereign_receipt_pending", nil)
	s.mSize = set.GetOrCreatePrometheusHistogramExt("sovereign_receipt_batch_size",
		[]float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096})
	s.mSealSecs = set.GetOrCreatePrometheusHistogramExt("sovereign_receipt_seal_seconds",
		[]float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5})
	s.mErrors = set.GetOrCreateCounter("sovereign_receipt_write_errors_total")
	s.mRejected = set.GetOrCreateCounter("sovereign_receipt_log_rejected_total")
	s.mCommit = set.GetOrCreatePrometheusHistogramExt("sovereign_receipt_commit_batch_size",
		[]float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024})
	return s, nil
}

// Start opens (or recovers) the log and spawns the sealer and the writer goroutine.
func (s *Service) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != 0 {
		return fmt.Errorf("%w: Start called twice", ErrClosed)
	}
	segReceipts := s.opts.MaxReceipts / 4
	if s.opts.MaxReceipts < 0 || segReceipts > 1<<24 {
		segReceipts = 1 << 24
	}
	segReceipts = max(segReceipts, 1)
	st, err := openStore(storeOptions{
		dir: s.opts.Dir, segBytes: s.opts.SegmentBytes, segReceipts: segReceipts,
		maxReceipts: max(s.opts.MaxReceipts, 0), maxSegments: s.opts.MaxSegments, logger: s.log,
		macKey: s.macKey, faults: s.opts.faults, prealloc: preallocBytes(s.opts), fullSync: s.opts.fullSync,
	})
	if err != nil {
		return err
	}
	s.st = st
	s.mRejected.Add(st.rejected)
	seq, prevRoot := uint64(1), [32]byte{}
	if st.hasSeal {
		seq, prevRoot = st.lastSeq+1, st.lastRoot
	}
	s.book = newSealBook(seq, prevRoot)
	s.w = newWriter(st, s.signer, s.log, s.macKey, s.opts.IssueTimeout, writerHooks{
		issued: s.onIssued, sealed: s.onDurable, round: s.onRound,
		toSealer: func(m []*leafMsg) { s.sys.Root.Send(s.pid, s.book.send(m)) },
	})
	s.wg.Go(s.w.run)
	if s.opts.System == nil {
		s.ownSys = true
		s.sys = actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
			return slog.New(slog.DiscardHandler)
		}))
	} else {
		s.sys = s.opts.System
	}
	// A fresh sealer per (re)start: its state comes from the book (Started), never from
	// the instance a panic left.
	props := actor.PropsFromProducer(func() actor.Actor {
		return &sealer{signer: s.signer, book: s.book, single: s.opts.Mode == ModeSingle,
			interval: s.opts.BatchInterval, max: s.opts.BatchMax, out: s.w, now: s.now}
	})
	if s.opts.MailboxStats != nil {
		props.Configure(actor.WithMailbox(actor.Unbounded(s.opts.MailboxStats)))
	}
	if s.opts.Props != nil {
		props = s.opts.Props(props)
	}
	spawner := s.opts.Spawner
	if spawner == nil || s.ownSys {
		spawner = s.sys.Root
	}
	s.pid = spawner.SpawnPrefix(props, "sealer")
	if s.pid == nil {
		return fmt.Errorf("%w: the sealer actor could not be spawned", ErrClosed)
	}
	s.state = 1
	unsealed := st.takeUnsealed()
	if len(unsealed) > 0 {
		s.pendN.Add(int64(len(unsealed)))
		s.mPending.Add(float64(len(unsealed)))
		s.sys.Root.Send(s.pid, s.book.send(unsealed))
	}
	s.log.Info("receipt service started", "mode", s.opts.Mode, "key_id", s.signer.KeyID(),
		"stored", st.count(), "next_batch_seq", seq, "torn_bytes_cut", st.cutBytes,
		"resealing", len(unsealed), "rejected_records", st.rejected, "duplicate_records", st.duplicates,
		"legacy_segments", st.legacySegs)
	if st.rejected > 0 {
		s.log.Error("receipt log had records that failed their integrity check; they were not indexed and health reports receipts false",
			"rejected_records", st.rejected, "logged", min(st.rejected, maxLoggedRecords))
	}
	return nil
}

// preallocBytes is the size of a spare segment (0: none).
func preallocBytes(o Options) int64 {
	if o.NoPreallocate {
		return 0
	}
	return min(o.SegmentBytes+o.SegmentBytes/8, 72<<20)
}

// Shutdown stops accepting receipts, seals everything received, waits until it is
// durable, and stops the sealer and the writer. It is idempotent; ctx bounds the wait
// for the sealer (the writer always drains what it was handed).
func (s *Service) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.state != 1 {
		s.state = 2
		s.mu.Unlock()
		return nil
	}
	s.state = 2
	s.mu.Unlock()
	// No Issue can submit any more. The barrier waits until every submitted record is
	// written and its leaf sent to the sealer; the poison pill queues behind those, and
	// the sealer seals what it holds when it stops.
	var err, werr error
	select {
	case <-s.w.barrier().done:
	case <-ctx.Done():
		err = fmt.Errorf("stop receipt writer: %w", ctx.Err())
	}
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		werr = s.sys.Root.PoisonFuture(s.pid).Wait() // bounded by the future's own 10 s timeout
	}()
	select {
	case <-stopped:
	case <-ctx.Done():
		err = fmt.Errorf("stop receipt sealer: %w", ctx.Err())
		<-stopped // never leave the goroutine behind
	}
	if werr != nil && err == nil {
		err = fmt.Errorf("stop receipt sealer: %w", werr)
	}
	s.w.close()
	s.wg.Wait()
	if cerr := s.st.close(); cerr != nil && err == nil {
		err = cerr
	}
	if s.ownSys {
		s.sys.Shutdown()
	}
	s.log.Info("receipt service stopped", "issued", s.issued.Load(), "sealed_batches", s.batches.Load())
	return err
}

// Issue builds the body and its leaf on the caller's goroutine, hands the issued record
// to the writer and waits until it is durable (one group commit, at most IssueTimeout):
// a receipt id is only returned once its record is on disk. A failed write answers
// ErrStorage and nothing was recorded. Sealing follows asynchronously; until the sealed
// record is durable Get answers ErrPending. Issue blocks: never call it from an
// actor's Receive.
func (s *Service) Issue(in Input) (Ref, error) {
	prefix, ok := kindPrefix(in.Kind)
	if !ok {
		return Ref{}, fmt.Errorf("%w: kind %q", ErrInvalidInput, trunc(in.Kind))
	}
	if !validStatus(in.Status) {
		return Ref{}, fmt.Errorf("%w: status %q", ErrInvalidInput, trunc(in.Status))
	}
	if in.Method == "" {
		return Ref{}, fmt.Errorf("%w: method is required", ErrInvalidInput)
	}
	if err := checkText("method", in.Method, MaxMethodBytes); err != nil {
		return Ref{}, err
	}
	if err := checkText("reason", in.Reason, MaxReasonBytes); err != nil {
		return Ref{}, err
	}
	for _, sc := range []struct {
		n string
		v *float64
	}{{"snr", in.SNR}, {"ihsan", in.Ihsan}, {"fate_score", in.FateScore}} {
		if err := checkScore(sc.n, sc.v); err != nil {
			return Ref{}, err
		}
	}
	qd, err := canon.Digest(DomainQuery, in.Params)
	if err != nil {
		return Ref{}, fmt.Errorf("%w: params: %w", ErrInvalidInput, err)
	}
	pd, err := payloadDigest(&in)
	if err != nil {
		return Ref{}, err
	}
	var snap map[string]any
	if s.origin != nil {
		snap = s.origin()
	}
	origin, originDigest, err := originOf(&s.originCache, snap)
	if err != nil {
		return Ref{}, fmt.Errorf("%w: origin: %w", ErrInvalidInput, err)
	}
	policy := ""
	if s.policy != nil {
		policy = s.policy()
	}
	now := s.now().UTC()
	id, err := s.ids.next(prefix, now)
	if err != nil {
		return Ref{}, err
	}
	body := Body{
		ReceiptID: id, Version: Version, Kind: in.Kind, Status: in.Status, Method: in.Method,
		NodeID: s.opts.NodeID, QueryDigest: qd, PolicyDigest: policy, PayloadDigest: pd,
		Origin: origin, OriginDigest: originDigest,
		SNR: copyScore(in.SNR), Ihsan: copyScore(in.Ihsan), FateScore: copyScore(in.FateScore),
		GatePassed: in.GatePassed, Reason: in.Reason, DurationMS: DurationMS(in.Duration),
		Timestamp: now.Format(TimestampLayout),
	}
	cb, err := appendBodyCanonical(make([]byte, 0, 1024), &body)
	if err != nil {
		return Ref{}, fmt.Errorf("%w: %w", ErrInvalidInput, err)
	}
	leaf := LeafHash(cb)
	key, _ := parseIDKey(id)
	msg := &leafMsg{id: id, key: key, leaf: leaf, body: cb}

	s.mu.RLock()
	if s.state != 1 {
		s.mu.RUnlock()
		return Ref{}, ErrClosed
	}
	if s.pendN.Add(1) > int64(s.opts.MaxPending) {
		s.pendN.Add(-1)
		s.mu.RUnlock()
		return Ref{}, ErrOverloaded
	}
	s.mPending.Inc()
	g := s.w.submit(msg)
	s.mu.RUnlock()
	if g == nil { // not reachable while state is 1; kept for safety
		s.pendN.Add(-1)
		s.mPending.Dec()
		return Ref{}, ErrClosed
	}
	// The round's one timer bounds the wait (started when the round began, so at most
	// IssueTimeout).
	select {
	case <-g.done:
	case <-g.expired:
		select {
		case <-g.done: // both ready: the round completed
		default:
			// The record may still become durable (and sealed); no client learns its id.
			// Health reports the log failing until a write completes.
			s.failing.Store(true)
			return Ref{}, fmt.Errorf("%w: no fsync within %s", ErrStorage, s.opts.IssueTimeout)
		}
	}
	if g.err != nil {
		return Ref{}, fmt.Errorf("%w: %w", ErrStorage, g.err)
	}
	return Ref{ReceiptID: id, LeafHash: hex.EncodeToString(leaf[:]), Status: in.Status}, nil
}

// payloadDigest is in's payload_digest: the precomputed one (checked for form) or the
// digest of its payload.
func payloadDigest(in *Input) (string, error) {
	if in.PayloadDigest == "" {
		pd, err := canon.Digest(DomainPayload, in.Payload)
		if err != nil {
			return "", fmt.Errorf("%w: payload: %w", ErrInvalidInput, err)
		}
		return pd, nil
	}
	if in.Payload != nil {
		return "", fmt.Errorf("%w: payload and payload_digest both given", ErrInvalidInput)
	}
	if !isDigestHex(in.PayloadDigest) {
		return "", fmt.Errorf("%w: payload_digest %q is not 64 lower-case hex", ErrInvalidInput, trunc(in.PayloadDigest))
	}
	return in.PayloadDigest, nil
}

func isDigestHex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// onIssued runs on the writer goroutine after a round's issued records are durable
// (err nil) or were not written.
func (s *Service) onIssued(msgs []*leafMsg, err error) {
	n := len(msgs)
	if err != nil {
		s.pendN.Add(-int64(n))
		s.mPending.Add(-float64(n))
		return
	}
	s.issued.Add(uint64(n))
	s.mIssued.Add(n)
	s.commits.Add(1)
	s.commitN.Add(uint64(n))
	s.mCommit.Update(float64(n))
}

// onRound runs on the writer goroutine once per group commit that wrote something:
// a failure is counted and turns LogOK false until a round succeeds.
func (s *Service) onRound(err error) {
	if err == nil {
		if s.failing.Swap(false) {
			s.log.Info("receipt log writable again")
		}
		return
	}
	s.mErrors.Inc()
	if !s.failing.Swap(true) {
		s.log.Error("receipt log not writable: receipts are refused with STORAGE_UNAVAILABLE until a write succeeds")
	}
}

// onDurable runs on the writer goroutine after jobs are durable (err nil) or not
// written (their leaves are sealed again after the next good write).
func (s *Service) onDurable(jobs []*job, err error) {
	now := time.Now()
	if err == nil {
		n := 0
		for _, j := range jobs {
			n += len(j.items)
		}
		s.pendN.Add(-int64(n))
		s.mPending.Add(-float64(n))
		for _, j := range jobs {
			s.mBatches.Inc()
			s.batches.Add(1)
			s.mSize.Update(float64(len(j.items)))
			s.mSealSecs.Update(sealAge(j, s.now()).Seconds())
		}
		s.lastSeal.Store(now.UnixNano())
	}
	s.durMu.Lock()
	s.durJob = jobs[len(jobs)-1].num
	if err != nil {
		s.failedJob = s.durJob
	}
	close(s.durSignal)
	s.durSignal = make(chan struct{})
	s.durMu.Unlock()
}

// Flush seals every receipt issued before the call and waits until it is durable and
// retrievable (for tests, the maintenance loop and shutdown paths). It waits at most
// until ctx is done.
func (s *Service) Flush(ctx context.Context) error {
	s.mu.RLock()
	if s.state != 1 {
		s.mu.RUnlock()
		return ErrClosed
	}
	pid, sys, st := s.pid, s.sys, s.st
	s.mu.RUnlock()
	s.durMu.Lock()
	startJob := s.durJob
	s.durMu.Unlock()
	timeout := 10 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(dl), time.Millisecond)
	}
	res, err := sys.Root.RequestFuture(pid, flushMsg{}, timeout).Result()
	if err != nil {
		return fmt.Errorf("flush receipts: %w", err)
	}
	fm, ok := res.(flushedMsg)
	if !ok || fm.Restarted {
		return fmt.Errorf("flush receipts: %w: the sealer restarted; retry", ErrClosed)
	}
	target := fm.Job
	for {
		s.durMu.Lock()
		done, sig, failed := s.durJob >= target, s.durSignal, s.failedJob
		s.durMu.Unlock()
		if done {
			if failed > startJob {
				return fmt.Errorf("flush receipts: %w: a batch could not be written", ErrStore)
			}
			// Compression and retention of rotated segments run in the background;
			// a Flush that returns sees them done.
			if err := st.settle(ctx); err != nil {
				return fmt.Errorf("flush receipts: %w", err)
			}
			return nil
		}
		select {
		case <-sig:
		case <-ctx.Done():
			return fmt.Errorf("flush receipts: %w", ctx.Err())
		}
	}
}

// Get returns a copy of the stored, sealed receipt. It checks the id form first
// (ErrInvalidID, nothing touched), answers ErrPending for a receipt issued but not yet
// sealed and durable, and ErrNotFound for anything else it does not hold.
func (s *Service) Get(id string) (json.RawMessage, error) {
	key, ok := parseIDKey(id)
	if !ok {
		return nil, ErrInvalidID
	}
	s.mu.RLock()
	st, state := s.st, s.state
	s.mu.RUnlock()
	if state != 1 {
		return nil, ErrClosed
	}
	b, err := st.get(key)
	if errors.Is(err, ErrPending) {
		return nil, ErrPending
	}
	if err != nil {
		return nil, fmt.Errorf("get receipt %s: %w", id, err)
	}
	return b, nil
}

// Verify checks a receipt like VerifyWith, trusting only this node's keys (the Ed25519
// key and the legacy HMAC fingerprint, which it can check with its secret), and counts
// the outcome in VerifierStats.
func (s *Service) Verify(raw []byte) Verification { return s.verifier.Verify(raw) }

// VerifierStats returns the counters of (*Service).Verify.
func (s *Service) VerifierStats() VerifierStats { return s.verifier.Stats() }

// Stats returns the counters.
func (s *Service) Stats() Stats {
	st := Stats{Issued: s.issued.Load(), SealedBatches: s.batches.Load(), Commits: s.commits.Load(),
		CommitRecords: s.commitN.Load(), WriteFailing: s.failing.Load()}
	if p := s.pendN.Load(); p > 0 {
		st.Pending = uint64(p)
	}
	if ls := s.lastSeal.Load(); ls > 0 {
		st.LastSealAge = time.Since(time.Unix(0, ls))
	}
	s.mu.RLock()
	if s.st != nil && s.state == 1 {
		st.Stored = s.st.count()
		st.RejectedRecords, st.DuplicateRecords, st.LegacySegments = s.st.rejected, s.st.duplicates, s.st.legacySegs
	}
	s.mu.RUnlock()
	return st
}

// LogOK reports whether the log is trustworthy and writable: false while writes fail
// (from a failed write until one succeeds) and, for the life of the Service, when
// records failed their integrity check at Start. Cheap; for health checks.
func (s *Service) LogOK() bool {
	if s.failing.Load() {
		return false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.st == nil || s.st.rejected == 0
}

// PublicKeyHex returns the Ed25519 public key in hex.
func (s *Service) PublicKeyHex() string { return s.signer.PublicKeyHex() }

// KeyID returns the key id of the Ed25519 public key.
func (s *Service) KeyID() string { return s.signer.KeyID() }

// Mode returns "batch" or "single".
func (s *Service) Mode() string { return s.opts.Mode }
