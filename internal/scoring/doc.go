// Package scoring owns the scoring policy (core.md, Scoring): Measure turns one query's
// answer, evidence and reasoning outcome into measured inputs, each in [0,1]; Policy.Score
// combines them into SNR, Ihsan, a verdict, the failed components (validation.issues)
// and every input and term (quality.components). Nothing is constant: every number comes
// from the query being scored.
//
// policy.go is the policy in one file: weights, thresholds, trust values and the
// formulas beside the code; Policy.Digest (canon domain "bizra-policy-v1") is the
// receipts' policy_digest, pinned by a python-computed vector in testdata/scoring.
// measure.go holds the definitions of the inputs (R, C, G, A, K, D, U, Rd, time used).
//
// # Tuning
//
// The weights are those of core.md; policy bizra-scoring-2026.2 adds the off-topic
// noise (0.3·O), user benefit C·(1−O) and efficiency against an expected latency
// (250 ms local, 10 s model). The definitions were tuned on the Go corpus of `make eval`
// (go doc -all of the standard library; the man-page corpus is held out): coverage is
// the best quoted unit's idf-weighted fit to the question, 0.8 of it judged on the
// unit's lead (head line and first sentence), so that a long unit that mentions the
// question's words in passing no longer passes for an answer; depth counts only
// expansion rounds that improved the coverage of the original question. docs/scoring.md
// writes every formula out; scoring_test.go pins them with hand-computed cases and
// runs the real chain (index → reasoning → the embedded engine → Measure → Score) over
// the project's docs in testdata/scoring/lake.
//
// # Concurrency
//
// Measure and Policy methods are pure functions, safe for concurrent use. A Policy is a
// value; copy it to change it.
package scoring
