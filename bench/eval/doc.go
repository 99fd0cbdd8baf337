// Package eval is `make eval` (bench/cmd/bizra-eval): the answer-quality evaluation of
// issue 16, over documentation nobody on this project wrote, generated at run time from
// what the machine has (docs/eval.md).
//
// Run renders two corpora with the machine's own tools — `go doc -all` of a fixed list
// of standard-library packages (the tuning corpus) and Debian man pages rendered by
// `man` (the held-out corpus) — writes them into a throw-away data lake, builds a node
// with supervision/node over it (embedded engine, no model, no network, no cache) and
// asks the committed questions of testdata/eval through Runtime.Query, the call
// POST /v1/query makes, with the request the API decodes. The same questions are ranked
// over the same documents' paragraphs by SQLite FTS5 bm25() through the sqlite3 shell.
// Grade and Summarize turn the results into hit@1, hit@5, answer-contains-fact, APPROVED
// precision and recall, the unanswerable questions' verdicts, the spread of every score
// component and latency percentiles; a second node over the corpus replicated to 20,000
// passages gives the latency on a larger lake.
//
// A run reports figures whatever they are; it returns an error only when it measured
// nothing meaningful (Sanity, errors.go), so an empty corpus or a broken question file
// cannot pass as a result.
//
// # Concurrency
//
// Run asks one question at a time and owns the nodes it starts; it renders documents
// with Renderer.Workers processes at once and waits for them. Grade, Summarize and the
// report functions are pure.
package eval
