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
// The weights are those of core.md. The definitions were tuned on the real chain
// (index of the project's own docs in testdata/scoring/lake → reasoning → the embedded
// engine of actors/inference → Measure → Score), see scoring_test.go. The one change
// the measurements forced was the definition of dilution U: counting every answer term
// that is not literally a query term gave U ≈ 0.8–0.95 for on-topic and off-topic
// answers alike (an extractive sentence has many context words), so SNR sat at
// 0.80–0.85 for everything. U now counts as related the context of sentences that
// address the question (at least half of the query's or a sub-question's terms), which
// brings good on-topic answers to U ≈ 0.2–0.6 and SNR ≈ 0.86–0.97, while an answer
// that only brushes one query word keeps U ≈ 0.95. Figures on the 20 test queries:
// "how do I check bridge health?" SNR 0.965 (APPROVED); random words → no evidence,
// SNR 0.176; a query brushing one corpus word with pruning off, SNR 0.753 (REJECTED);
// 17 distinct SNR and 15 distinct Ihsan values over the 20 queries.
//
// # Concurrency
//
// Measure and Policy methods are pure functions, safe for concurrent use. A Policy is a
// value; copy it to change it.
package scoring
