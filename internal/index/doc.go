// Package index implements the full-text index of the data lake (BIZRA_DATA_LAKE_ROOT;
// the runtime passes the path in): a hand-written BM25 inverted index over passages of
// markdown, text, code and JSON files.
//
// # What is indexed
//
// Files whose lower-case extension is in DefaultExtensions (markdown .md .markdown .mdx;
// text .txt .text .rst .adoc .org .log .csv .tsv; code .go .py .rs .js .ts .java .c .h
// .cpp .rb .php .sh .sql .proto .html .css and the like; configuration and data .json
// .jsonl .yaml .yml .toml .ini .cfg .conf .xml). Build skips and counts, in Stats, files
// that are binary (a NUL byte or invalid UTF-8: SkippedBinary), larger than
// Options.MaxFileBytes (default 2 MiB: SkippedHuge), unreadable or a symbolic link that
// leaves the root (SkippedUnreadable), of another type (SkippedType), or past the
// MaxFiles / MaxTotalBytes budget (SkippedBudget). All file access goes through os.Root,
// so nothing outside the root is read; directory links are not followed.
//
// Documents are split into passages that follow their structure (Units, units.go):
// Markdown headings, paragraphs, list items, fenced code and tables; in plain text
// (man pages, `go doc -all`) upper-case section headings, man subsection headings,
// entries — an option such as "-i, --ignore-case" with the lines indented under it, a
// declaration with its doc comment — and paragraphs. Units are grouped, in order, up
// to Options.PassageTarget bytes (default 700), never across a heading and never cut;
// a unit longer than Options.MaxPassageBytes (default 1500) is cut at its blank lines
// first. A passage's text is the verbatim slice of the document from its first unit to
// its last, so its lines are the document's from the one its Source names. A passage's
// Source is the relative path, then "#<heading-slug>" inside a markdown section, then
// ":L<first line>", e.g. "ops/runbook.md#bridge-health:L212"; DocOf strips the
// anchors. The heading and the document's name are indexed with each passage.
//
// # Terms and scores
//
// ContentTerms is the one definition of a content term, shared with reasoning and
// scoring: lower-cased runs of unicode letters and digits, at least two runes and at
// most MaxTermBytes (a camel-case identifier also gives its parts), English stop words
// removed, then Stem (plurals, Porter's step 1b and 5a).
//
// Search ranks passages by BM25 (k1 = 1.2, b = 0.75, Lucene's always-positive idf
// ln(1 + (N − df + 0.5)/(df + 0.5))) over the query's distinct content terms. Hit.Norm
// compares the passage with the query's ideal self-match, a passage of average length
// containing each query term exactly once, whose BM25 score is IdealScore(q) = Σ idf(t)
// over the query's distinct terms (the tf part tf·(k1+1)/(tf + k1·(1−b+b·len/avglen)) is
// 1 there). Each term's tf part is capped at that ideal 1, so repeating one term cannot
// make up for a missing one:
//
//	Norm = Σ_t idf(t)·min(1, tfpart(t, passage)) / Σ_t idf(t)      ∈ [0,1]
//
// Norm is therefore an idf-weighted, length-aware coverage of the query by the passage.
// Because it is relative to the query and not to the best hit, it is comparable across
// queries: terms the data lake does not contain keep their (maximal) idf in the
// denominator, so the best hit of an off-topic query scores low instead of 1.0.
//
// # Why not bleve
//
// The issue suggested github.com/blevesearch/bleve/v2 unless a measurement gave a reason
// not to. Measured on this machine (2 shared cores, Go 1.26, bleve v2 latest, a scratch
// module so go.mod was never touched), 10,000 small documents (~40 words each):
//
//	                          bleve NewMemOnly ("en")   this package (FromDocuments)
//	index 10,000 docs         15.0 s/op, 2.07 GB, 38 M allocs   0.10 s/op, 46 MB, 0.61 M allocs
//	search, 3 terms, top 5    37 ms/op                  0.13 ms/op
//	hello-world binary        21.3 MB                   5.3 MB
//	compile (std cached)      14.0 s, 123 extra packages   < 1 s, none
//
// bleve buys phrase queries and facets we do not need, at two orders of magnitude in
// build time and memory, so this package keeps a small BM25 index of its own (and its
// own persistence, below). Figures: go test -bench . -benchmem ./internal/index/
// and the scratch benchmark quoted in the issue report.
//
// # The live lake and the saved index
//
// Lake keeps a node's index in step with its data lake. At Start it loads the saved
// index (<state>/index/index.bin) and serves it at once, then scans the lake in the
// background: the walk stats every file, and only files whose size or mtime changed
// (or whose mtime is within 2 s of when they were read: racily clean) are read again;
// a read file whose SHA-256 is unchanged is not split again. Between scans fsnotify
// events (debounced: one rescan per burst) and a periodic full rescan (events miss
// changes on network file systems and overflowed queues) bring added, changed and
// removed files in; each scan that changed something assembles a new immutable Index
// from the kept passages (no file read, no tokenizing) and swaps it in. Scans apply
// the same path guard as Build (the state folder, links out of the lake or into the
// state folder, hard links of state files); an unreadable file is counted and the
// first LakeOptions.MaxUnreadable are named in Progress, never fatal.
//
// The saved file is "BZRAIDX\n", the FormatVersion (uint32), a SHA-256 fingerprint of
// FormatVersion, SplitterVersion and the splitting options, the payload (the term
// dictionary, then each file: path, size, mtime, read time, content hash, passages with
// their term ids and frequencies), the payload length and a SHA-256 of everything
// before it. It is written to a temporary file in the same folder, fsynced and renamed
// over the old one (then the folder is fsynced), so a reader never sees a mix. A file
// that is missing, truncated, altered, of another format or fingerprint, larger than
// 3×MaxTotalBytes + 64 MiB, or unreadable is discarded with one WARN and the index is
// rebuilt from the lake (and saved again). Saves follow a change at most every
// LakeOptions.SaveInterval, and at Shutdown.
//
// A change to how passages are split or terms made must bump SplitterVersion; a change
// to what an entry holds must bump FormatVersion and extend encodePayload and
// decodePayload.
//
// Measured on this machine (2 cores shared with other work; load average 6–20, so
// ranges): go test -run XXX -bench 'LakeStart20k|LakeNewFile20k' ./internal/index/, a
// 20,000-file generated markdown lake (~60 MB): first start (no saved index) 2.2–7.3 s
// (13–20 s at load 19), restart on the unchanged lake 0.27–1.15 s (0.9–1.5 s at load
// 19), 0.07–0.25× the first start in the same run; a file added to the watched lake
// answerable after 0.48–0.90 s. End to end, a one-shot `bizra query` on such a lake
// (/usr/bin/time): 3.9–6.0 s and 314–329 MB peak RSS with --no-index-cache, 0.83–1.22 s
// and 259–275 MB reusing the saved index (61 MB).
//
// # Concurrency
//
// Build and FromDocuments return an immutable *Index; Search, IdealScore, Stats and Len
// are safe for concurrent use (per-call scratch comes from a sync.Pool). Lake swaps a
// new Index in with an atomic pointer; searches in flight finish on the old one. A
// Lake's scans run on its one goroutine; Progress, Index, Rescan and Ready are safe
// from any goroutine.
package index
