package index

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Defaults of LakeOptions (zero values take these).
const (
	DefaultRescanInterval = time.Minute
	DefaultDebounce       = 300 * time.Millisecond
	DefaultSaveInterval   = 30 * time.Second
	DefaultProgressEvery  = 2 * time.Second
	DefaultMaxUnreadable  = 20
	DefaultMaxWatchedDirs = 4096
)

// States of a Lake (Progress.State).
const (
	StateLoading  = "loading"  // reading the saved index
	StateIndexing = "indexing" // the first scan since start is running
	StateReady    = "ready"    // a scan completed; later scans keep this state
	StateFailed   = "failed"   // the last scan failed (the last good index is served)
)

// LakeOptions configure a Lake. Zero values are documented per field.
type LakeOptions struct {
	// Root is the data lake. Required.
	Root string
	// Index configures splitting, limits, the state folder guard and the logger.
	Index Options
	// SaveDir is where the index is saved (<state>/index); "" keeps it in memory only.
	SaveDir string
	// ReadOnly loads the saved index but never writes it (a one-shot `bizra query`
	// beside a running node, which owns the file).
	ReadOnly bool
	// Watch follows the lake with fsnotify (folders added as they appear, up to
	// MaxWatchedDirs); false relies on RescanInterval and Rescan alone.
	Watch bool
	// RescanInterval is the period of the full rescan that catches what events miss
	// (network file systems, overflowed event queues, folders past MaxWatchedDirs).
	// 0 → DefaultRescanInterval; negative: no periodic rescan.
	RescanInterval time.Duration
	// Debounce is how long after the first event of a burst the rescan starts
	// (0 → DefaultDebounce): a burst of writes costs one rescan.
	Debounce time.Duration
	// SaveInterval is the least time between two saves after the first (0 →
	// DefaultSaveInterval); a pending change is saved at Shutdown.
	SaveInterval time.Duration
	// ProgressEvery is the period of the progress log line of a running scan (0 →
	// DefaultProgressEvery).
	ProgressEvery time.Duration
	// MaxUnreadable bounds the unreadable files named in Progress (0 →
	// DefaultMaxUnreadable); all are counted.
	MaxUnreadable int
	// MaxWatchedDirs bounds the folders watched (0 → DefaultMaxWatchedDirs).
	MaxWatchedDirs int
	// OnSwap, when set, is called from the lake's goroutine after a new index is
	// published (the runtime drops answers cached from the old one).
	OnSwap func(*Index)
}

// Progress is a Lake's state for health, status and metrics.
type Progress struct {
	State       string       `json:"state"`
	Ready       bool         `json:"ready"` // an index is served (loaded or built)
	Scanning    bool         `json:"scanning"`
	FilesDone   int          `json:"files_done"`
	FilesTotal  int          `json:"files_total"`
	PassagesNow int          `json:"passages_done"` // passages of the files done in the running scan
	FilesPerS   float64      `json:"files_per_s"`
	Scans       uint64       `json:"scans"`
	LastScanMs  float64      `json:"last_scan_ms"`
	LastScanRd  int          `json:"last_scan_read"` // files whose content the last scan read (new, changed or racily clean)
	LastScanAt  time.Time    `json:"last_scan_at"`
	LastError   string       `json:"last_error,omitempty"`
	Unreadable  int          `json:"unreadable"`
	Unreadables []Unreadable `json:"unreadable_files"` // the first MaxUnreadable of the last scan
	Watching    bool         `json:"watching"`
	WatchedDirs int          `json:"watched_dirs"`
	Saved       SavedInfo    `json:"saved"`
}

// SavedInfo describes the saved index.
type SavedInfo struct {
	Enabled    bool      `json:"enabled"`
	Path       string    `json:"path,omitempty"`
	Loaded     bool      `json:"loaded"` // this start reused it
	LoadMs     float64   `json:"load_ms"`
	Discarded  string    `json:"discarded,omitempty"` // why it was not reused
	Bytes      int64     `json:"bytes"`
	SavedAt    time.Time `json:"saved_at"`
	SaveError  string    `json:"save_error,omitempty"`
	ReadOnly   bool      `json:"read_only"`
	PendingSav bool      `json:"pending_save"`
}

// Lake is the live index of a data lake: it loads the saved index, brings it up to
// date in the background, follows the lake (events and periodic rescans) and saves
// what changed. Index never returns nil.
type Lake struct {
	o    LakeOptions
	log  *slog.Logger
	lake *lakeRoot
	sc   *scanner

	idx     atomic.Pointer[Index]
	ready   chan struct{}
	scanned chan struct{}
	rescan  chan struct{}

	mu   sync.Mutex
	prog Progress

	loaded    bool // the saved index was loaded (the lake's goroutine)
	unwatched int  // folders past MaxWatchedDirs at the last count (the lake's goroutine)

	once    sync.Once
	started atomic.Bool
	cancel  context.CancelFunc
	done    chan struct{}
}

// NewLake validates o; nothing is read until Start.
func NewLake(o LakeOptions) (*Lake, error) {
	io, err := o.Index.withDefaults()
	if err != nil {
		return nil, err
	}
	o.Index = io
	if o.Root == "" {
		return nil, fmt.Errorf("empty root: %w", ErrRoot)
	}
	if o.Debounce < 0 || o.SaveInterval < 0 || o.ProgressEvery < 0 || o.MaxUnreadable < 0 || o.MaxWatchedDirs < 0 {
		return nil, fmt.Errorf("negative interval or limit: %w", ErrLakeOptions)
	}
	if o.RescanInterval == 0 {
		o.RescanInterval = DefaultRescanInterval
	}
	if o.Debounce == 0 {
		o.Debounce = DefaultDebounce
	}
	if o.SaveInterval == 0 {
		o.SaveInterval = DefaultSaveInterval
	}
	if o.ProgressEvery == 0 {
		o.ProgressEvery = DefaultProgressEvery
	}
	if o.MaxUnreadable == 0 {
		o.MaxUnreadable = DefaultMaxUnreadable
	}
	if o.MaxWatchedDirs == 0 {
		o.MaxWatchedDirs = DefaultMaxWatchedDirs
	}
	l := &Lake{o: o, log: o.Index.Logger, ready: make(chan struct{}), scanned: make(chan struct{}), rescan: make(chan struct{}, 1),
		done: make(chan struct{})}
	l.idx.Store(Empty())
	l.prog.State = StateIndexing
	l.prog.Saved = SavedInfo{Enabled: o.SaveDir != "", ReadOnly: o.ReadOnly}
	if o.SaveDir != "" {
		l.prog.Saved.Path = filepath.Join(o.SaveDir, SavedIndexFile)
	}
	return l, nil
}

// Start checks the lake root (ErrRoot, ErrStateDir) and starts indexing in the
// background. Wait on Ready (or WaitReady) for the first index.
func (l *Lake) Start(context.Context) error {
	lr, err := openLake(l.o.Root, l.o.Index.StateDir)
	if err != nil {
		return err
	}
	if !l.started.CompareAndSwap(false, true) {
		return fmt.Errorf("started twice: %w", ErrLakeOptions)
	}
	l.lake = lr
	l.sc = newScanner(lr, l.o.Index)
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	go l.run(ctx)
	return nil
}

// Shutdown stops the lake's goroutine (a running scan stops at its next file), saves
// a pending change and waits for it, within ctx. Idempotent.
func (l *Lake) Shutdown(ctx context.Context) error {
	if !l.started.Load() {
		return nil
	}
	l.once.Do(func() { l.cancel() })
	select {
	case <-l.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("index: shutdown: %w", ctx.Err())
	}
}

// Index returns the index served now (an empty one before the first is ready).
func (l *Lake) Index() *Index { return l.idx.Load() }

// Ready is closed once an index (saved or built) is served.
func (l *Lake) Ready() <-chan struct{} { return l.ready }

// WaitReady waits until an index is served or ctx ends (then ErrNotReady).
func (l *Lake) WaitReady(ctx context.Context) error {
	select {
	case <-l.ready:
		return nil
	default:
	}
	select {
	case <-l.ready:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w (%w)", ErrNotReady, ctx.Err())
	}
}

// Scanned is closed once the first scan since Start completed: the index served then
// reflects the lake as it was at that scan (a loaded index is served before).
func (l *Lake) Scanned() <-chan struct{} { return l.scanned }

// Rescan asks for a rescan soon (SIGHUP); it never blocks.
func (l *Lake) Rescan() {
	select {
	case l.rescan <- struct{}{}:
	default:
	}
}

// Progress returns the lake's state.
func (l *Lake) Progress() Progress {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.prog
	p.Unreadables = append([]Unreadable(nil), p.Unreadables...)
	return p
}

// State returns Progress().State without copying the rest (the health path).
func (l *Lake) State() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.prog.State
}

func (l *Lake) update(f func(p *Progress)) {
	l.mu.Lock()
	f(&l.prog)
	l.mu.Unlock()
}

func (l *Lake) publish(ix *Index) {
	l.idx.Store(ix)
	select {
	case <-l.ready:
	default:
		close(l.ready)
	}
	l.update(func(p *Progress) { p.Ready = true })
	if l.o.OnSwap != nil {
		l.o.OnSwap(ix)
	}
}

func (l *Lake) run(ctx context.Context) {
	defer close(l.done)
	var lastSave time.Time
	dirty := false
	if l.o.SaveDir != "" {
		lastSave, dirty = l.loadSaved()
	}
	l.update(func(p *Progress) { p.State = StateIndexing })
	var w *fsnotify.Watcher
	if l.o.Watch {
		var err error
		if w, err = fsnotify.NewWatcher(); err != nil {
			l.log.Warn("index: cannot watch the data lake; relying on periodic rescans", "err", err,
				"rescan_interval_ms", l.o.RescanInterval.Milliseconds())
		} else {
			defer w.Close()
		}
	}
	if l.scanOnce(ctx, true) {
		dirty = true
	}
	watched := map[string]struct{}{}
	if w != nil {
		l.syncWatches(w, watched)
	}
	close(l.scanned)
	save := func() {
		if !dirty || l.o.SaveDir == "" || l.o.ReadOnly {
			return
		}
		l.save()
		lastSave, dirty = time.Now(), false
	}
	if ctx.Err() == nil {
		save()
	}
	var events <-chan fsnotify.Event
	var errs <-chan error
	if w != nil {
		events, errs = w.Events, w.Errors
	}
	var tick <-chan time.Time
	if l.o.RescanInterval > 0 {
		t := time.NewTicker(l.o.RescanInterval)
		defer t.Stop()
		tick = t.C
	}
	debounce := time.NewTimer(time.Hour)
	debounce.Stop()
	defer debounce.Stop()
	pending := false
	if w != nil {
		// What changed between the first walk and the watches being added has sent no
		// event: one more rescan (stat only for unchanged files) catches it.
		pending = true
		debounce.Reset(l.o.Debounce)
	}
	saveTimer := time.NewTimer(time.Hour)
	saveTimer.Stop()
	defer saveTimer.Stop()
	rescan := func() {
		pending = false
		if l.scanOnce(ctx, false) {
			dirty = true
			if since := time.Since(lastSave); since >= l.o.SaveInterval {
				save()
			} else {
				saveTimer.Reset(l.o.SaveInterval - since)
			}
			l.update(func(p *Progress) { p.Saved.PendingSav = dirty })
		}
		if w != nil {
			l.syncWatches(w, watched)
		}
	}
	for {
		select {
		case <-ctx.Done():
			save()
			return
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			l.log.Debug("index: lake event", "path", ev.Name, "op", ev.Op.String())
			if !pending {
				pending = true
				debounce.Reset(l.o.Debounce)
			}
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			// An overflowed queue loses events: a rescan finds what they said.
			l.log.Warn("index: lake watcher error; rescanning", "err", err)
			if !pending {
				pending = true
				debounce.Reset(l.o.Debounce)
			}
		case <-debounce.C:
			rescan()
		case <-l.rescan:
			debounce.Stop()
			rescan()
		case <-tick:
			rescan()
		case <-saveTimer.C:
			save()
			l.update(func(p *Progress) { p.Saved.PendingSav = dirty })
		}
	}
}

// loadSaved reuses the saved index when it is intact and made by this format and
// splitter; anything else is discarded with one WARN (and rebuilt by the first scan).
func (l *Lake) loadSaved() (savedAt time.Time, dirty bool) {
	l.update(func(p *Progress) { p.State = StateLoading })
	if !l.o.ReadOnly {
		removeStaleTemps(l.o.SaveDir)
	}
	start := time.Now()
	n, err := l.sc.load(l.o.SaveDir)
	ms := float64(time.Since(start).Microseconds()) / 1000
	var le *loadError
	switch {
	case err == nil:
		files := make([]namedEntry, len(l.sc.order))
		for i, rel := range l.sc.order {
			files[i] = namedEntry{rel, l.sc.entries[rel]}
		}
		ix := assemble(files, l.sc.dict, &l.sc.opts, Stats{}, start)
		l.publish(ix)
		l.loaded = true
		l.update(func(p *Progress) {
			p.Saved.Loaded, p.Saved.LoadMs, p.Saved.Bytes = true, ms, n
		})
		l.log.Info("index: loaded the saved index", "path", filepath.Join(l.o.SaveDir, SavedIndexFile), "files", ix.stats.Files,
			"passages", ix.stats.Passages, "bytes", n, "duration_ms", ms)
		return time.Now(), false
	case errors.As(err, &le) && le.reason == loadMissing:
		l.update(func(p *Progress) { p.Saved.Discarded = string(loadMissing) })
		return time.Time{}, true
	default:
		l.update(func(p *Progress) { p.Saved.Discarded = err.Error() })
		l.log.Warn("index: saved index discarded; rebuilding the index from the data lake",
			"path", filepath.Join(l.o.SaveDir, SavedIndexFile), "reason", err.Error())
		return time.Time{}, true
	}
}

// scanOnce runs one scan and publishes its index; it reports whether the index
// changed. Errors keep the last index and are reported in Progress.
func (l *Lake) scanOnce(ctx context.Context, first bool) bool {
	start := time.Now()
	lastLog := start
	l.update(func(p *Progress) { p.Scanning, p.FilesDone, p.FilesTotal, p.PassagesNow = true, 0, 0, 0 })
	progress := func(done, total, passages int) {
		now := time.Now()
		rate := 0.0
		if el := now.Sub(start).Seconds(); el > 0 {
			rate = float64(done) / el
		}
		l.update(func(p *Progress) {
			p.FilesDone, p.FilesTotal, p.PassagesNow, p.FilesPerS = done, total, passages, roundRate(rate)
		})
		if now.Sub(lastLog) >= l.o.ProgressEvery && done < total {
			lastLog = now
			l.log.Info("index: indexing", "files_done", done, "files_total", total, "passages", passages,
				"files_per_s", roundRate(rate))
		}
	}
	prevBad := make(map[string]struct{}, len(l.sc.unreadable))
	for _, u := range l.sc.unreadable {
		prevBad[u.Path] = struct{}{}
	}
	var reuse *Index
	if first && l.loaded {
		reuse = l.idx.Load()
	}
	reads := l.sc.reads
	ix, changed, err := l.sc.scan(ctx, first, reuse, progress)
	reads = l.sc.reads - reads
	el := time.Since(start)
	if err != nil {
		l.update(func(p *Progress) {
			p.Scanning, p.LastError = false, err.Error()
			if ctx.Err() == nil {
				p.State = StateFailed
			}
		})
		if ctx.Err() == nil {
			l.log.Error("index: scan of the data lake failed; serving the last index", "err", err)
		}
		return false
	}
	bad := l.sc.unreadable
	logged := 0
	for _, u := range bad {
		if _, seen := prevBad[u.Path]; !seen && logged < l.o.MaxUnreadable {
			logged++
			l.log.Warn("index: unreadable data-lake file skipped", "path", u.Path, "err", u.Error)
		}
	}
	if ix != nil {
		l.publish(ix)
	}
	cur := l.idx.Load().stats
	l.update(func(p *Progress) {
		p.State, p.Scanning, p.LastError = StateReady, false, ""
		p.Scans++
		p.LastScanMs, p.LastScanAt, p.LastScanRd = float64(el.Microseconds())/1000, time.Now().UTC(), reads
		p.Unreadable = len(bad)
		p.Unreadables = append(p.Unreadables[:0], bad[:min(len(bad), l.o.MaxUnreadable)]...)
	})
	if first || changed {
		l.log.Info("index: data lake indexed", "files", cur.Files, "passages", cur.Passages, "changed", changed,
			"skipped_unreadable", cur.SkippedUnreadable, "skipped_binary", cur.SkippedBinary,
			"skipped_huge", cur.SkippedHuge, "skipped_budget", cur.SkippedBudget, "duration_ms", float64(el.Microseconds())/1000)
	}
	return changed
}

func roundRate(r float64) float64 { return float64(int64(r*10+0.5)) / 10 }

func (l *Lake) save() {
	start := time.Now()
	n, err := l.sc.save(l.o.SaveDir)
	if err != nil {
		l.log.Warn("index: could not save the index; it will be rebuilt at the next start", "dir", l.o.SaveDir, "err", err)
		l.update(func(p *Progress) { p.Saved.SaveError = err.Error() })
		return
	}
	l.update(func(p *Progress) {
		p.Saved.Bytes, p.Saved.SavedAt, p.Saved.SaveError, p.Saved.PendingSav = n, time.Now().UTC(), "", false
	})
	l.log.Debug("index: saved", "bytes", n, "duration_ms", float64(time.Since(start).Microseconds())/1000)
}

// syncWatches watches the folders of the last walk (up to MaxWatchedDirs) and stops
// watching those that are gone.
func (l *Lake) syncWatches(w *fsnotify.Watcher, watched map[string]struct{}) {
	now := make(map[string]struct{}, len(l.sc.dirs))
	for _, d := range l.sc.dirs {
		now[d] = struct{}{}
	}
	for d := range watched {
		if _, ok := now[d]; !ok {
			_ = w.Remove(filepath.Join(l.lake.abs, filepath.FromSlash(d)))
			delete(watched, d)
		}
	}
	over := 0
	for _, d := range l.sc.dirs {
		if _, ok := watched[d]; ok {
			continue
		}
		if len(watched) >= l.o.MaxWatchedDirs {
			over++
			continue
		}
		if err := w.Add(filepath.Join(l.lake.abs, filepath.FromSlash(d))); err != nil {
			l.log.Warn("index: cannot watch a data-lake folder; periodic rescans cover it", "path", d, "err", err)
			continue
		}
		watched[d] = struct{}{}
	}
	if over > 0 && over != l.unwatched {
		l.log.Warn("index: more data-lake folders than the watch limit; periodic rescans cover the rest",
			"watched", len(watched), "unwatched", over)
	}
	l.unwatched = over
	l.update(func(p *Progress) { p.Watching, p.WatchedDirs = true, len(watched) })
}
