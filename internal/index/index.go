package index

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Defaults of Options (zero values take these).
const (
	DefaultMaxFileBytes    = 2 << 20   // files larger than this are skipped (SkippedHuge)
	DefaultMaxTotalBytes   = 512 << 20 // total text indexed; files past it are skipped (SkippedBudget)
	DefaultMaxFiles        = 200_000   // files indexed; files past it are skipped (SkippedBudget)
	DefaultPassageTarget   = 700       // passages grow paragraph by paragraph up to about this many bytes
	DefaultMaxPassageBytes = 1500      // hard limit on one passage
)

// BM25 parameters (the usual Lucene values).
const (
	k1 = 1.2
	b  = 0.75
)

// DefaultExtensions lists the file types indexed, by lower-case extension. Markdown
// files are split at headings; the others at blank lines.
var DefaultExtensions = []string{
	// markdown and text
	".md", ".markdown", ".mdx", ".txt", ".text", ".rst", ".adoc", ".org", ".log", ".csv", ".tsv",
	// code
	".go", ".py", ".rs", ".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".java", ".kt", ".scala",
	".c", ".h", ".cc", ".cpp", ".hpp", ".cs", ".rb", ".php", ".swift", ".lua", ".pl", ".r",
	".sh", ".bash", ".zsh", ".ps1", ".sql", ".proto", ".html", ".css", ".vue", ".svelte",
	// configuration and data
	".json", ".jsonl", ".ndjson", ".yaml", ".yml", ".toml", ".ini", ".cfg", ".conf", ".env.example", ".xml",
}

// Options configure Build. Zero values take the defaults above.
type Options struct {
	MaxFileBytes    int64        // 0 → DefaultMaxFileBytes
	MaxTotalBytes   int64        // 0 → DefaultMaxTotalBytes
	MaxFiles        int          // 0 → DefaultMaxFiles
	PassageTarget   int          // 0 → DefaultPassageTarget
	MaxPassageBytes int          // 0 → DefaultMaxPassageBytes
	Extensions      []string     // nil → DefaultExtensions (lower case, with the dot)
	Logger          *slog.Logger // nil → discard
	// StateDir is the node's state folder (keys, tokens, ledgers): the walk never
	// enters it (SkippedState), and a root inside it is refused. "" checks nothing.
	StateDir string
}

func (o Options) withDefaults() (Options, error) {
	if o.MaxFileBytes < 0 || o.MaxTotalBytes < 0 || o.MaxFiles < 0 || o.PassageTarget < 0 || o.MaxPassageBytes < 0 {
		return o, fmt.Errorf("negative limit: %w", ErrOptions)
	}
	if o.MaxFileBytes == 0 {
		o.MaxFileBytes = DefaultMaxFileBytes
	}
	if o.MaxTotalBytes == 0 {
		o.MaxTotalBytes = DefaultMaxTotalBytes
	}
	if o.MaxFiles == 0 {
		o.MaxFiles = DefaultMaxFiles
	}
	if o.MaxPassageBytes == 0 {
		o.MaxPassageBytes = DefaultMaxPassageBytes
	}
	if o.PassageTarget == 0 {
		o.PassageTarget = min(DefaultPassageTarget, o.MaxPassageBytes)
	}
	if o.PassageTarget > o.MaxPassageBytes || o.MaxPassageBytes < 16 {
		return o, fmt.Errorf("passage target %d, max %d: %w", o.PassageTarget, o.MaxPassageBytes, ErrOptions)
	}
	if o.Extensions == nil {
		o.Extensions = DefaultExtensions
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// Stats describe one build. Every file met in the walk is counted exactly once: in
// Files or in one of the Skipped counters.
type Stats struct {
	Files             int           `json:"files"`              // files indexed
	Passages          int           `json:"passages"`           // passages indexed
	Terms             int           `json:"terms"`              // distinct content terms
	Bytes             int64         `json:"bytes"`              // bytes of text indexed
	SkippedBinary     int           `json:"skipped_binary"`     // NUL byte or invalid UTF-8
	SkippedHuge       int           `json:"skipped_huge"`       // larger than MaxFileBytes
	SkippedUnreadable int           `json:"skipped_unreadable"` // open/read/stat failed, or a symlink leaving the root
	SkippedType       int           `json:"skipped_type"`       // extension not indexed, or not a regular file
	SkippedBudget     int           `json:"skipped_budget"`     // past MaxFiles or MaxTotalBytes
	SkippedState      int           `json:"skipped_state"`      // the state folder, or a symlink into it, met in the walk
	Duration          time.Duration `json:"duration_ns"`
}

// Hit is one search result.
type Hit struct {
	Source string  // relative path, "#heading-slug" for markdown sections, then ":L<line>"
	Doc    string  // relative path of the document (Source without the anchor)
	Text   string  // the passage
	Score  float64 // raw BM25
	Norm   float64 // Score / ideal score of the query, clamped to [0,1]; see the package doc
}

// Document is an in-memory document for FromDocuments.
type Document struct {
	Path string // relative, slash-separated; its extension chooses markdown or text splitting
	Text string
}

type posting struct {
	doc uint32
	tf  uint32
}

// Index is an immutable BM25 index over passages. It is safe for concurrent use.
type Index struct {
	sources  []string
	docs     []string
	texts    []string
	lengths  []uint32
	avgLen   float64
	postings map[string][]posting
	stats    Stats
	scratch  sync.Pool // *scratch, accumulators of len(texts)
}

type scratch struct {
	score []float64 // BM25 per passage
	cover []float64 // Σ idf·min(tf part, 1) per passage, the numerator of Norm
}

// Stats returns the build statistics.
func (ix *Index) Stats() Stats { return ix.stats }

// Len returns the number of passages.
func (ix *Index) Len() int { return len(ix.texts) }

func finishIndex(ix *Index, start time.Time) *Index {
	var total float64
	for _, l := range ix.lengths {
		total += float64(l)
	}
	if len(ix.lengths) > 0 {
		ix.avgLen = total / float64(len(ix.lengths))
	}
	ix.stats.Passages = len(ix.texts)
	ix.stats.Terms = len(ix.postings)
	ix.stats.Duration = time.Since(start)
	n := len(ix.texts)
	ix.scratch.New = func() any { return &scratch{score: make([]float64, n), cover: make([]float64, n)} }
	return ix
}

// Empty returns an index with no passages (what a node serves before its first index
// is ready).
func Empty() *Index { return finishIndex(&Index{postings: map[string][]posting{}}, time.Now()) }

// FromDocuments indexes in-memory documents (tests, benchmarks, skills that index
// generated text). Documents are subject to the same size and budget limits as files.
func FromDocuments(ctx context.Context, docs []Document, opts Options) (*Index, error) {
	start := time.Now()
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	d := newDict()
	files := make([]namedEntry, 0, len(docs))
	for i, doc := range docs {
		if i%256 == 0 && ctx.Err() != nil {
			return nil, fmt.Errorf("index documents: %w", ctx.Err())
		}
		files = append(files, namedEntry{doc.Path, classify(doc.Path, []byte(doc.Text), &opts, d)})
	}
	return assemble(files, d, &opts, Stats{}, start), nil
}

// validText reports whether data is text: no NUL byte and valid UTF-8.
func validText(data []byte) bool { return bytes.IndexByte(data, 0) < 0 && utf8.Valid(data) }

// Build walks root and indexes every file whose extension is in opts.Extensions. All
// access goes through os.Root, so nothing outside root is ever read: symbolic links to
// directories are not followed, and a symbolic link to a file is read only when it
// resolves inside root (else it counts as SkippedUnreadable). Binary files (a NUL byte
// or invalid UTF-8), files over MaxFileBytes and unreadable files are skipped and
// counted. Build stops with ctx's error when ctx ends. Lake does the same work
// incrementally, keeping what it read between scans.
func Build(ctx context.Context, root string, opts Options) (*Index, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	lr, err := openLake(root, opts.StateDir)
	if err != nil {
		return nil, err
	}
	ix, _, err := newScanner(lr, opts).scan(ctx, true, nil, nil)
	if err != nil {
		return nil, err
	}
	st := ix.stats
	opts.Logger.Info("index: built", "files", st.Files, "passages", st.Passages,
		"skipped_binary", st.SkippedBinary, "skipped_huge", st.SkippedHuge,
		"skipped_unreadable", st.SkippedUnreadable, "duration_ms", float64(st.Duration.Microseconds())/1000)
	return ix, nil
}

var errTooLarge = errors.New("index: file too large")

func readLimited(r *os.Root, p string, limit int64) ([]byte, error) {
	f, err := r.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() > limit {
		return nil, errTooLarge
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, errTooLarge
	}
	return data, nil
}

// idf is Lucene's BM25 idf, always positive.
func (ix *Index) idf(df int) float64 {
	n := float64(len(ix.texts))
	return math.Log(1 + (n-float64(df)+0.5)/(float64(df)+0.5))
}

// TermWeight returns the idf of a content term (as ContentTerms produces it). A term
// absent from the index weighs as the rarest term it holds (df 1): in a small lake
// nearly every word is absent, so absence says little about a word ("use" in "which
// port does the bridge use?" against one note), while in a large lake df 0 and df 1
// weigh nearly alike.
func (ix *Index) TermWeight(term string) float64 { return ix.idf(max(len(ix.postings[term]), 1)) }

// IdealScore returns the BM25 score that a passage of average length containing each
// distinct content term of q exactly once would get: Σ idf(t) over the query's
// distinct terms (the tf component is 1 for tf = 1 at average length). Terms absent
// from the index count at their maximal idf, so they lower every hit's Norm.
func (ix *Index) IdealScore(q string) float64 {
	var ideal float64
	for _, t := range distinctTerms(q) {
		ideal += ix.idf(len(ix.postings[t]))
	}
	return ideal
}

// Search returns the k best passages for q by BM25 over q's distinct content terms,
// best first (ties by index order, so results are deterministic). A query without
// content terms, k ≤ 0 or an empty index gives nil.
func (ix *Index) Search(q string, k int) []Hit {
	if k <= 0 || len(ix.texts) == 0 {
		return nil
	}
	terms := distinctTerms(q) // sorted: the float sums must not depend on map order
	if len(terms) == 0 {
		return nil
	}
	sp := ix.scratch.Get().(*scratch)
	acc, cov := sp.score, sp.cover
	defer ix.scratch.Put(sp)
	var touched []uint32
	var ideal float64
	for _, t := range terms {
		ps := ix.postings[t]
		w := ix.idf(len(ps))
		ideal += w
		for _, p := range ps {
			tf := float64(p.tf)
			norm := k1 * (1 - b + b*float64(ix.lengths[p.doc])/ix.avgLen)
			if acc[p.doc] == 0 {
				touched = append(touched, p.doc)
			}
			part := tf * (k1 + 1) / (tf + norm)
			acc[p.doc] += w * part
			cov[p.doc] += w * min(part, 1)
		}
	}
	better := func(x, y uint32) bool { // x ranks before y
		return acc[x] > acc[y] || (acc[x] == acc[y] && x < y)
	}
	top := selectTop(touched, k, better)
	hits := make([]Hit, len(top))
	for i, d := range top {
		s := acc[d]
		hits[i] = Hit{Source: ix.sources[d], Doc: ix.docs[d], Text: ix.texts[d], Score: s,
			Norm: math.Min(1, cov[d]/ideal)}
	}
	for _, d := range touched {
		acc[d], cov[d] = 0, 0 // the accumulators go back to the pool clean
	}
	return hits
}

// selectTop returns the k best of ids, best first, keeping a bounded min-heap (the
// worst of the current top at heap[0]) so the cost is O(n log k), not O(n log n).
func selectTop(ids []uint32, k int, better func(x, y uint32) bool) []uint32 {
	heap := make([]uint32, 0, min(k, len(ids)))
	down := func(i int) {
		for {
			l, w := 2*i+1, i
			if l < len(heap) && better(heap[w], heap[l]) {
				w = l
			}
			if r := l + 1; r < len(heap) && better(heap[w], heap[r]) {
				w = r
			}
			if w == i {
				return
			}
			heap[i], heap[w] = heap[w], heap[i]
			i = w
		}
	}
	for _, id := range ids {
		if len(heap) < k {
			heap = append(heap, id)
			for i := len(heap) - 1; i > 0; { // sift up: worst to the root
				p := (i - 1) / 2
				if !better(heap[p], heap[i]) {
					break
				}
				heap[i], heap[p] = heap[p], heap[i]
				i = p
			}
			continue
		}
		if better(id, heap[0]) {
			heap[0] = id
			down(0)
		}
	}
	slices.SortFunc(heap, func(x, y uint32) int {
		if better(x, y) {
			return -1
		}
		if better(y, x) {
			return 1
		}
		return 0
	})
	return heap
}

func distinctTerms(q string) []string {
	terms := ContentTerms(q)
	slices.Sort(terms)
	return slices.Compact(terms)
}

// DocOf returns the document part of a Source: the text before the ":L<line>" anchor
// and the "#heading" anchor.
func DocOf(source string) string {
	if i := strings.LastIndex(source, ":L"); i >= 0 && isDigits(source[i+2:]) {
		source = source[:i]
	}
	if i := strings.LastIndex(source, "#"); i >= 0 {
		source = source[:i]
	}
	return source
}

// DocName is the document's name without folders and extensions, with the section
// anchor of the source as words ("man/grep.1.txt:L4" → "grep";
// "RUNBOOK.md#33-bridge-health:L82" → "RUNBOOK 33-bridge-health"): an answer shows it
// with every citation, so the engine and scoring count its words as shown.
func DocName(source string) string {
	base := path.Base(DocOf(source))
	if i := strings.IndexByte(base, '.'); i > 0 {
		base = base[:i]
	}
	if i := strings.LastIndex(source, ":L"); i >= 0 && isDigits(source[i+2:]) {
		source = source[:i]
	}
	if i := strings.LastIndexByte(source, '#'); i >= 0 {
		base += " " + source[i+1:]
	}
	return base
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Evidence is one local passage an answer drew on: the shape of query.Evidence (the
// runtime contract), declared here, at the bottom of the import graph, because the
// query pipeline imports reasoning and scoring, which therefore cannot import query.
// Package query aliases it (type Evidence = index.Evidence).
type Evidence struct {
	Source  string  `json:"source"`
	Excerpt string  `json:"excerpt"`
	Score   float64 `json:"score"`
}
