package index

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/bizra/bizra/internal/fsguard"
)

// racyWindow: a file whose modification time is this close to (or after) the moment
// it was read may have changed again within the file system's timestamp granularity
// without its size or mtime changing, so the next scan re-reads it and compares
// content hashes (git's "racily clean" entries).
const racyWindow = 2 * time.Second

// skipKind is why a file met in the walk is not indexed (0: indexed).
type skipKind uint8

const (
	skipNone skipKind = iota
	skipBinary
	skipHuge
)

// termTF is one distinct content term of a passage (an id in the scanner's
// dictionary) and its frequency there.
type termTF struct {
	term uint32
	tf   uint32
}

// storedPassage is a passage after analysis: what assembling an Index needs, without
// splitting or tokenizing again.
type storedPassage struct {
	source string
	text   string
	length uint32   // content terms, heading included
	terms  []termTF // by term id
}

// fileEntry is what the scanner remembers of one lake file: enough to tell whether it
// changed (size, mtime, content hash) and its analysed passages.
type fileEntry struct {
	size     int64
	mtime    int64 // ns since the epoch
	readAt   int64 // ns since the epoch, when its content was read
	hash     [sha256.Size]byte
	bytes    int64 // bytes of text (0 unless indexed)
	skip     skipKind
	passages []storedPassage
}

// dict interns content terms as ids. It is owned by one scanner (one goroutine).
type dict struct {
	ids   map[string]uint32
	terms []string
}

func newDict() *dict { return &dict{ids: make(map[string]uint32)} }

func (d *dict) id(t string) uint32 {
	if id, ok := d.ids[t]; ok {
		return id
	}
	id := uint32(len(d.terms))
	d.ids[t] = id
	d.terms = append(d.terms, t)
	return id
}

// analyze splits and tokenizes one document.
func analyze(rel, text string, opts *Options, d *dict) []storedPassage {
	k := kindText
	switch strings.ToLower(path.Ext(rel)) {
	case ".md", ".markdown", ".mdx":
		k = kindMarkdown
	}
	var out []storedPassage
	counts := make(map[uint32]uint32)
	for _, p := range splitDocument(rel, text, k, opts.PassageTarget, opts.MaxPassageBytes) {
		clear(counts)
		n := uint32(0)
		for _, s := range []string{p.head, p.text} {
			forEachToken(s, func(tok string) {
				if t, ok := contentTerm(tok); ok {
					counts[d.id(t)]++
					n++
				}
			})
		}
		if n == 0 {
			continue
		}
		terms := make([]termTF, 0, len(counts))
		for id, c := range counts {
			terms = append(terms, termTF{term: id, tf: c})
		}
		slices.SortFunc(terms, func(x, y termTF) int { return int(x.term) - int(y.term) })
		out = append(out, storedPassage{source: p.source, text: p.text, length: n, terms: terms})
	}
	return out
}

// classify applies the content checks to one file's bytes and analyses it.
func classify(rel string, data []byte, opts *Options, d *dict) *fileEntry {
	e := &fileEntry{size: int64(len(data)), hash: sha256.Sum256(data)}
	switch {
	case int64(len(data)) > opts.MaxFileBytes:
		e.skip = skipHuge
	case !validText(data):
		e.skip = skipBinary
	default:
		e.bytes = int64(len(data))
		e.passages = analyze(rel, string(data), opts, d)
	}
	return e
}

// namedEntry is a file's entry and its relative path.
type namedEntry struct {
	rel string
	e   *fileEntry
}

// assemble builds the immutable Index from entries in walk order, applying the file
// and byte budgets. st carries the walk's counters in; the rest are added here.
func assemble(files []namedEntry, d *dict, opts *Options, st Stats, start time.Time) *Index {
	ix := &Index{}
	post := make([][]posting, len(d.terms))
	for _, f := range files {
		rel, e := f.rel, f.e
		switch {
		case e == nil:
			continue
		case e.skip == skipHuge:
			st.SkippedHuge++
			continue
		case e.skip == skipBinary:
			st.SkippedBinary++
			continue
		case st.Files >= opts.MaxFiles || st.Bytes+e.bytes > opts.MaxTotalBytes:
			st.SkippedBudget++
			continue
		}
		for _, p := range e.passages {
			id := uint32(len(ix.texts))
			ix.sources = append(ix.sources, p.source)
			ix.docs = append(ix.docs, rel)
			ix.texts = append(ix.texts, p.text)
			ix.lengths = append(ix.lengths, p.length)
			for _, t := range p.terms {
				post[t.term] = append(post[t.term], posting{doc: id, tf: t.tf})
			}
		}
		st.Files++
		st.Bytes += e.bytes
	}
	live := 0
	for _, ps := range post {
		if len(ps) > 0 {
			live++
		}
	}
	ix.postings = make(map[string][]posting, live)
	for id, ps := range post {
		if len(ps) > 0 {
			ix.postings[d.terms[id]] = slices.Clip(ps)
		}
	}
	ix.stats = st
	return finishIndex(ix, start)
}

// tally computes the statistics assemble would, without building anything.
func tally(files []namedEntry, opts *Options, st Stats, start time.Time) Stats {
	for _, f := range files {
		e := f.e
		switch {
		case e == nil:
		case e.skip == skipHuge:
			st.SkippedHuge++
		case e.skip == skipBinary:
			st.SkippedBinary++
		case st.Files >= opts.MaxFiles || st.Bytes+e.bytes > opts.MaxTotalBytes:
			st.SkippedBudget++
		default:
			st.Files++
			st.Bytes += e.bytes
			st.Passages += len(e.passages)
		}
	}
	st.Duration = time.Since(start)
	return st
}

// withStats returns a copy of ix sharing its (immutable) data, with st's counters.
func (ix *Index) withStats(st Stats) *Index {
	n := &Index{sources: ix.sources, docs: ix.docs, texts: ix.texts, lengths: ix.lengths, avgLen: ix.avgLen,
		postings: ix.postings}
	st.Passages, st.Terms = len(ix.texts), len(ix.postings)
	n.stats = st
	n.scratch.New = ix.scratch.New
	return n
}

// compact drops dictionary terms no entry uses any more (removed or changed files
// leave theirs behind) once they outnumber the live ones, renumbering the entries.
func compact(entries map[string]*fileEntry, d *dict) *dict {
	used := make([]bool, len(d.terms))
	live := 0
	for _, e := range entries {
		for _, p := range e.passages {
			for _, t := range p.terms {
				if !used[t.term] {
					used[t.term] = true
					live++
				}
			}
		}
	}
	if len(d.terms) <= 2*live+1024 {
		return d
	}
	nd := &dict{ids: make(map[string]uint32, live), terms: make([]string, 0, live)}
	remap := make([]uint32, len(d.terms))
	for id, t := range d.terms {
		if used[id] {
			remap[id] = nd.id(t)
		}
	}
	for _, e := range entries {
		for _, p := range e.passages {
			for i := range p.terms {
				p.terms[i].term = remap[p.terms[i].term]
			}
		}
	}
	return nd
}

// lakeRoot is an opened, checked data-lake root.
type lakeRoot struct {
	root     string // as given
	abs      string
	resolved string
	state    fsguard.Guard
}

// openLake checks root: not empty, a readable directory, not inside the state folder.
func openLake(root, stateDir string) (*lakeRoot, error) {
	if root == "" {
		return nil, fmt.Errorf("empty root: %w", ErrRoot)
	}
	state, err := fsguard.NewGuard(stateDir)
	if err != nil {
		return nil, fmt.Errorf("state folder %q: %w", stateDir, err)
	}
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("data lake %q: %w: %w", root, ErrRoot, err)
	}
	resolvedRoot, err := fsguard.Resolve(absRoot)
	if err != nil {
		return nil, fmt.Errorf("data lake %q: %w: %w", root, ErrRoot, err)
	}
	if state.Contains(absRoot) {
		return nil, fmt.Errorf("data lake %q is inside the state folder %q: %w", root, state.Dir(), ErrStateDir)
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, fmt.Errorf("open data lake %q: %w: %w", root, ErrRoot, err)
	}
	_ = r.Close()
	return &lakeRoot{root: root, abs: absRoot, resolved: resolvedRoot, state: state}, nil
}

// candidate is a file the walk found indexable by type and path.
type candidate struct {
	rel   string
	size  int64
	mtime int64
}

// unreadable is a lake file (or folder) that could not be read, and why.
type Unreadable struct {
	Path  string `json:"path"`
	Error string `json:"error"`
}

// walkResult is what one walk of the lake found.
type walkResult struct {
	files      []candidate
	dirs       []string // relative, "." first: what a watcher watches
	stats      Stats    // SkippedType, SkippedState, SkippedUnreadable
	unreadable []Unreadable
}

// walk lists the lake's candidate files in walk order, applying the path guard (the
// state folder, symbolic links out of the root or into the state folder, hard links
// of state-folder files). It reads no file content.
func (lr *lakeRoot) walk(ctx context.Context, opts *Options) (*walkResult, error) {
	r, err := os.OpenRoot(lr.root)
	if err != nil {
		return nil, fmt.Errorf("open data lake %q: %w: %w", lr.root, ErrRoot, err)
	}
	defer r.Close()
	state := lr.state
	// inState reports whether the walk's path p (slash-separated, relative to root)
	// is the state folder or inside it; d is its entry.
	inState := func(p string, d fs.DirEntry) bool {
		if state.Dir() == "" {
			return false
		}
		fp := filepath.FromSlash(p)
		if d.Type()&fs.ModeSymlink != 0 {
			return state.Contains(filepath.Join(lr.abs, fp))
		}
		if !d.IsDir() {
			return false
		}
		if state.ContainsLexically(filepath.Join(lr.abs, fp)) || state.ContainsLexically(filepath.Join(lr.resolved, fp)) {
			return true
		}
		fi, err := d.Info()
		return err == nil && state.SameDir(fi)
	}
	exts := make(map[string]struct{}, len(opts.Extensions))
	for _, e := range opts.Extensions {
		exts[strings.ToLower(e)] = struct{}{}
	}
	w := &walkResult{}
	st := &w.stats
	bad := func(p string, err error) {
		st.SkippedUnreadable++
		opts.Logger.Debug("index: skip unreadable", "path", p, "err", err)
		w.unreadable = append(w.unreadable, Unreadable{Path: p, Error: unreadableReason(err)})
	}
	walkErr := fs.WalkDir(r.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if err != nil {
			if p == "." {
				return err
			}
			bad(p, err)
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if p != "." && inState(p, d) {
			st.SkippedState++
			opts.Logger.Warn("index: skipped the state folder found inside the data lake", "path", p,
				"state_dir", state.Dir())
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			w.dirs = append(w.dirs, p)
			return nil
		}
		if _, ok := exts[strings.ToLower(path.Ext(p))]; !ok {
			st.SkippedType++
			return nil
		}
		var fi fs.FileInfo
		if d.Type()&fs.ModeSymlink != 0 {
			fi, err = r.Stat(p) // follows the link, refusing to leave root
		} else {
			fi, err = d.Info() // lstat from the folder's descriptor: not a link, so the same
		}
		if err != nil {
			bad(p, err)
			return nil
		}
		if !fi.Mode().IsRegular() {
			st.SkippedType++
			return nil
		}
		// A hard link of a state-folder file (.env, the identity key) has a lake path
		// that no path check catches; its device and inode give it away.
		if state.HoldsFile(fi) {
			st.SkippedState++
			opts.Logger.Warn("index: skipped a hard link of a state-folder file found in the data lake", "path", p,
				"state_dir", state.Dir())
			return nil
		}
		w.files = append(w.files, candidate{rel: p, size: fi.Size(), mtime: fi.ModTime().UnixNano()})
		return nil
	})
	if walkErr != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("index %q: %w", lr.root, ctx.Err())
		}
		return nil, fmt.Errorf("walk data lake %q: %w: %w", lr.root, ErrRoot, walkErr)
	}
	return w, nil
}

// unreadableReason is the short, path-free reason a file could not be read.
func unreadableReason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return err.Error()
}

// scanner keeps the analysed lake between scans: one owner goroutine.
type scanner struct {
	lake    *lakeRoot
	opts    Options
	entries map[string]*fileEntry
	dict    *dict
	order   []string // walk order of the last scan
	dirs    []string // folders of the last walk
	// unreadable of the last scan
	unreadable []Unreadable
	reads      int // files read since the scanner was made (tests: unchanged files are not read)
}

func newScanner(lake *lakeRoot, opts Options) *scanner {
	return &scanner{lake: lake, opts: opts, entries: make(map[string]*fileEntry), dict: newDict()}
}

// scanProgress is called during a scan's reading phase.
type scanProgress func(done, total, passages int)

// scan walks the lake and brings the entries up to date: a file whose size and mtime
// are unchanged (and not racily clean) is not read; one whose content hash is
// unchanged is not analysed again. It reports whether anything the index depends on
// changed and returns the new index (nil when nothing changed and force is false).
//
// reuse, when set, is the index the entries were last assembled into: an unchanged
// scan returns it with fresh statistics instead of assembling again.
func (s *scanner) scan(ctx context.Context, force bool, reuse *Index, progress scanProgress) (*Index, bool, error) {
	start := time.Now()
	w, err := s.lake.walk(ctx, &s.opts)
	if err != nil {
		return nil, false, err
	}
	r, err := os.OpenRoot(s.lake.root)
	if err != nil {
		return nil, false, fmt.Errorf("open data lake %q: %w: %w", s.lake.root, ErrRoot, err)
	}
	defer r.Close()
	changed := false
	seen := make(map[string]struct{}, len(w.files))
	order := make([]string, 0, len(w.files))
	passages := 0
	for i, c := range w.files {
		if i%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, false, fmt.Errorf("index %q: %w", s.lake.root, err)
			}
			if progress != nil {
				progress(i, len(w.files), passages)
			}
		}
		seen[c.rel] = struct{}{}
		old := s.entries[c.rel]
		if old != nil && old.size == c.size && old.mtime == c.mtime && old.readAt-old.mtime > int64(racyWindow) {
			order = append(order, c.rel)
			passages += len(old.passages)
			continue
		}
		readAt := time.Now().UnixNano()
		s.reads++
		data, err := readLimited(r, c.rel, s.opts.MaxFileBytes)
		var e *fileEntry
		switch {
		case errors.Is(err, errTooLarge):
			e = &fileEntry{skip: skipHuge}
		case err != nil:
			w.stats.SkippedUnreadable++
			w.unreadable = append(w.unreadable, Unreadable{Path: c.rel, Error: unreadableReason(err)})
			if old != nil {
				delete(s.entries, c.rel)
				changed = true
			}
			continue
		default:
			if old != nil && old.skip == skipNone && int64(len(data)) == old.size && sha256.Sum256(data) == old.hash {
				old.mtime, old.readAt = c.mtime, readAt // touched, same content
				order = append(order, c.rel)
				passages += len(old.passages)
				continue
			}
			e = classify(c.rel, data, &s.opts, s.dict)
		}
		e.size, e.mtime, e.readAt = c.size, c.mtime, readAt
		if e.skip != skipNone && old != nil && old.skip == e.skip {
			s.entries[c.rel] = e // still skipped the same way: no change to the index
		} else {
			s.entries[c.rel] = e
			changed = true
		}
		order = append(order, c.rel)
		passages += len(e.passages)
	}
	for rel := range s.entries {
		if _, ok := seen[rel]; !ok {
			delete(s.entries, rel)
			changed = true
		}
	}
	if !slices.Equal(order, s.order) {
		changed = true
	}
	s.order, s.dirs, s.unreadable = order, w.dirs, w.unreadable
	if progress != nil {
		progress(len(w.files), len(w.files), passages)
	}
	if !changed && !force {
		return nil, false, nil
	}
	files := make([]namedEntry, len(order))
	for i, rel := range order {
		files[i] = namedEntry{rel, s.entries[rel]}
	}
	if !changed && reuse != nil {
		// Same files, same content: the served index stays; only the walk's counters
		// (which a loaded index lacks) are new.
		return reuse.withStats(tally(files, &s.opts, w.stats, start)), false, nil
	}
	s.dict = compact(s.entries, s.dict)
	return assemble(files, s.dict, &s.opts, w.stats, start), changed, nil
}
