// Package reasoning implements the graph of thought of one query (core.md, query
// pipeline step 3): a fresh graph per query, never shared, built over the data-lake
// index.
//
// Run builds it:
//
//  1. a root question node (depth 0);
//  2. decomposition into at most Branching (default 3) sub-questions at depth 1, by a
//     Decomposer (a model) when one is given, else by SplitClauses; a query of one
//     clause gives one sub-question; extra clauses are merged into the last;
//  3. evidence per sub-question: the TopK (default 5) passages of Searcher.Search, one
//     evidence node per passage (a passage found twice gets a second supports edge).
//     An evidence node's snr is the passage's normalised retrieval score (index
//     Hit.Norm) for the query that found it; its confidence is the share of that
//     query's content terms the passage contains;
//  4. expansion: while depth < MaxDepth and the previous depth kept new evidence, each
//     branch's query is expanded with the ExpansionTerms terms of its best new passages
//     that score highest by tf·idf (a refinement node at the next depth) and searched
//     again; a branch stops when the expansion finds no new passage above the
//     threshold, and the run stops when no branch added evidence, so MaxDepth bounds
//     the work and Outcome.Depth is the depth actually reached;
//  5. pruning: evidence nodes with snr below SNRThreshold (default 0.2, a node-level
//     threshold, not the answer's snr_ok 0.85) are marked Pruned and take no further
//     part; they stay in the graph so the artifact shows what was discarded;
//  6. one reasoning node per sub-question, a synthesis node, a conclusion node (the
//     best passage's first sentence with its source) and a validation node (share of
//     the query's content terms the kept evidence covers); the best path runs from the
//     root through the best branch's questions and best passage to the conclusion.
//
// The Outcome carries the depth reached, short thoughts, the graph size, the kept
// evidence (one per source, best first, Score = snr) and the sub-questions. With no
// kept evidence the Outcome has no Evidence and the pipeline answers NO_EVIDENCE. A
// query without content terms (only punctuation or stop words) is ErrNoContentTerms,
// never an empty graph.
//
// Graph.Hash is graph_hash: SHA-256 over the canonical encoding (internal/canon, domain
// "bizra-graph-v1") of the nodes sorted by id and the edges sorted by (from, to, type),
// scores as integers at ScoreScale; testdata/reasoning holds a vector computed with
// python. Graph.Artifact is the body of GET /v1/artifacts/graph/{query_id};
// ArtifactStore keeps the last 1,000. Recorder counts sovereign_reasoning_calls_total,
// sovereign_graph_nodes_total and sovereign_graph_edges_total and exposes MeanDepth for
// the pipeline's sovereign_reasoning_avg_depth gauge.
//
// # Concurrency
//
// Run is pure computation over an immutable Searcher (no goroutines, no I/O except an
// optional Decomposer) and is safe to call from many query workers at once; each call
// builds its own graph. A returned Graph and Outcome are not modified afterwards.
// ArtifactStore and Recorder are safe for concurrent use.
package reasoning
