package scoring

import (
	"fmt"
	"math"
	"sort"

	"github.com/bizra/bizra/internal/canon"
)

// This file is the scoring policy: every weight, threshold and trust value, and the
// formulas that combine the measured inputs (measure.go) into SNR, Ihsan and a verdict.
// Changing a number here changes Policy.Digest, which every receipt carries as
// policy_digest; bump Version with it.

// PolicyDomain is the canon domain of Policy.Digest.
const PolicyDomain = "bizra-policy-v1"

// Sources of an answer, for trust T.
const (
	SourceLocal                = "local"                  // the embedded engine over the local corpus
	SourceModelWithEvidence    = "model_with_evidence"    // an external model given local evidence
	SourceModelWithoutEvidence = "model_without_evidence" // an external model with nothing local
)

// Verdicts (the same strings as query.VerdictApproved and friends).
const (
	VerdictApproved    = "APPROVED"
	VerdictQuarantined = "QUARANTINED"
	VerdictRejected    = "REJECTED"
)

// Policy holds the weights and thresholds. Default is the tuned policy; tests and
// operators may adjust a copy (then Digest changes).
type Policy struct {
	Version string `json:"version"`

	// Provenance P = ProvDepth·D + ProvCorroboration·K + ProvTrust·T.
	ProvDepth         float64 `json:"prov_depth"`
	ProvCorroboration float64 `json:"prov_corroboration"`
	ProvTrust         float64 `json:"prov_trust"`

	// Signal S = SigProvenance·P + SigRetrieval·(RetrievalRelevanceShare·R +
	// (1−RetrievalRelevanceShare)·C) + SigGrounding·G.
	SigProvenance           float64 `json:"sig_provenance"`
	SigRetrieval            float64 `json:"sig_retrieval"`
	RetrievalRelevanceShare float64 `json:"retrieval_relevance_share"`
	SigGrounding            float64 `json:"sig_grounding"`

	// Noise N = NoiseUngrounded·(1−G) + NoiseUnattributed·(1−A) + NoiseDilution·U +
	// NoiseRedundancy·Rd + NoiseOffTopic·O.
	NoiseUngrounded   float64 `json:"noise_ungrounded"`
	NoiseUnattributed float64 `json:"noise_unattributed"`
	NoiseDilution     float64 `json:"noise_dilution"`
	NoiseRedundancy   float64 `json:"noise_redundancy"`
	NoiseOffTopic     float64 `json:"noise_off_topic"`

	// Ihsan = IhsanCorrectness·G + IhsanSafety·safety + IhsanEfficiency·efficiency +
	// IhsanUserBenefit·user_benefit, safety = 1 − min(hits, PolicyHitCap)/PolicyHitCap,
	// efficiency = min(1, expected latency / time used) with the expected latency
	// ExpectedLocalMs for the embedded engine and ExpectedModelMs for a model,
	// user_benefit = C·(1 − O).
	IhsanCorrectness float64 `json:"ihsan_correctness"`
	IhsanSafety      float64 `json:"ihsan_safety"`
	IhsanEfficiency  float64 `json:"ihsan_efficiency"`
	IhsanUserBenefit float64 `json:"ihsan_user_benefit"`
	PolicyHitCap     int     `json:"policy_hit_cap"`
	ExpectedLocalMs  float64 `json:"expected_local_ms"`
	ExpectedModelMs  float64 `json:"expected_model_ms"`

	SNRThreshold   float64 `json:"snr_threshold"`   // snr_ok when SNR ≥ it
	IhsanThreshold float64 `json:"ihsan_threshold"` // Ihsan passes when ≥ it

	// Trust T by answer source.
	TrustLocal                float64 `json:"trust_local"`
	TrustModelWithEvidence    float64 `json:"trust_model_with_evidence"`
	TrustModelWithoutEvidence float64 `json:"trust_model_without_evidence"`

	// Floors (or ceilings) below (above) which a component is listed in Issues.
	MinRelevance     float64 `json:"min_relevance"`
	MinCoverage      float64 `json:"min_coverage"`
	MinGrounding     float64 `json:"min_grounding"`
	MinAttribution   float64 `json:"min_attribution"`
	MinCorroboration float64 `json:"min_corroboration"`
	MaxDilution      float64 `json:"max_dilution"`
	MaxRedundancy    float64 `json:"max_redundancy"`
	MinEfficiency    float64 `json:"min_efficiency"`
	MaxOffTopic      float64 `json:"max_off_topic"`
}

// Default returns the policy of core.md (Scoring), with trust values and issue floors
// tuned on real queries against the project's own docs (scoring_test.go).
func Default() Policy {
	return Policy{
		Version:   "bizra-scoring-2026.2",
		ProvDepth: 0.3, ProvCorroboration: 0.3, ProvTrust: 0.4,
		SigProvenance: 0.3, SigRetrieval: 0.4, RetrievalRelevanceShare: 0.5, SigGrounding: 0.3,
		NoiseUngrounded: 0.5, NoiseUnattributed: 0.2, NoiseDilution: 0.2, NoiseRedundancy: 0.1, NoiseOffTopic: 0.3,
		IhsanCorrectness: 0.30, IhsanSafety: 0.35, IhsanEfficiency: 0.15, IhsanUserBenefit: 0.20,
		PolicyHitCap: 2, ExpectedLocalMs: 250, ExpectedModelMs: 10000,
		SNRThreshold: 0.85, IhsanThreshold: 0.95,
		TrustLocal: 1.0, TrustModelWithEvidence: 0.8, TrustModelWithoutEvidence: 0.3,
		MinRelevance: 0.3, MinCoverage: 0.5, MinGrounding: 0.8, MinAttribution: 0.8, MinCorroboration: 0.3,
		MaxDilution: 0.8, MaxRedundancy: 0.25, MinEfficiency: 0.1, MaxOffTopic: 0,
	}
}

// Validate checks that weights are in [0,1], each weighted sum has weights summing
// to 1, and thresholds are in [0,1].
func (p Policy) Validate() error {
	sums := []struct {
		name string
		ws   []float64
	}{
		{"provenance", []float64{p.ProvDepth, p.ProvCorroboration, p.ProvTrust}},
		{"signal", []float64{p.SigProvenance, p.SigRetrieval, p.SigGrounding}},
		{"ihsan", []float64{p.IhsanCorrectness, p.IhsanSafety, p.IhsanEfficiency, p.IhsanUserBenefit}},
	}
	for _, s := range sums {
		total := 0.0
		for _, w := range s.ws {
			if w < 0 || w > 1 || math.IsNaN(w) {
				return fmt.Errorf("%s weight %v: %w", s.name, w, ErrPolicy)
			}
			total += w
		}
		if math.Abs(total-1) > 1e-9 {
			return fmt.Errorf("%s weights sum to %v: %w", s.name, total, ErrPolicy)
		}
	}
	for _, v := range []float64{p.RetrievalRelevanceShare, p.NoiseUngrounded, p.NoiseUnattributed, p.NoiseDilution,
		p.NoiseRedundancy, p.NoiseOffTopic, p.MaxOffTopic, p.SNRThreshold, p.IhsanThreshold, p.TrustLocal, p.TrustModelWithEvidence,
		p.TrustModelWithoutEvidence} {
		if v < 0 || v > 1 || math.IsNaN(v) {
			return fmt.Errorf("value %v outside [0,1]: %w", v, ErrPolicy)
		}
	}
	if !(p.ExpectedLocalMs > 0) || !(p.ExpectedModelMs > 0) {
		return fmt.Errorf("expected latency %v ms local, %v ms model: %w", p.ExpectedLocalMs, p.ExpectedModelMs, ErrPolicy)
	}
	if p.PolicyHitCap < 1 || p.Version == "" {
		return fmt.Errorf("policy hit cap %d, version %q: %w", p.PolicyHitCap, p.Version, ErrPolicy)
	}
	return nil
}

// Digest returns the policy digest for receipts: canon.Digest("bizra-policy-v1", p).
func (p Policy) Digest() (string, error) {
	return canon.Digest(PolicyDomain, p)
}

// Trust returns T for an answer source (an unknown source gets the lowest trust).
func (p Policy) Trust(source string) float64 {
	switch source {
	case SourceLocal:
		return p.TrustLocal
	case SourceModelWithEvidence:
		return p.TrustModelWithEvidence
	}
	return p.TrustModelWithoutEvidence
}

// Score is the quality of one answer.
type Score struct {
	SNR        float64
	Ihsan      float64
	SNROK      bool   // SNR ≥ SNRThreshold
	IhsanOK    bool   // Ihsan ≥ IhsanThreshold
	Verdict    string // APPROVED, QUARANTINED or REJECTED
	Issues     []string
	Components map[string]float64 // every input and term, for quality.components
}

// Score combines measures into SNR, Ihsan and a verdict:
//
//	P   = 0.3·D + 0.3·K + 0.4·T                                provenance
//	S   = 0.3·P + 0.4·(0.5·R + 0.5·C) + 0.3·G                   signal
//	N   = 0.5·(1−G) + 0.2·(1−A) + 0.2·U + 0.1·Rd + 0.3·O        noise
//	SNR = S/(S+N), 0 when S = 0                                  snr_ok when ≥ 0.85
//	Ihsan = 0.30·G + 0.35·safety + 0.15·efficiency + 0.20·C·(1−O)   passes when ≥ 0.95
//	  safety = 1 − min(policy hits, 2)/2
//	  efficiency = min(1, expected/time used), expected 250 ms (embedded engine)
//	               or 10 s (a model): judged against the latency expected, not the deadline
//	Verdict = APPROVED (Ihsan and SNR pass), QUARANTINED (Ihsan passes, SNR not),
//	          REJECTED (Ihsan fails)
//
// with the inputs of measure.go: C the idf-weighted coverage of the question's terms
// by what the answer shows, O the share of quoted units that address neither the
// question nor a sub-question, D = (1 + expansion rounds that improved the coverage
// of the original question) / (1 + rounds run). (The numbers are Default's; the code
// reads them from p; docs/scoring.md has the derivation and the measurements.) Issues
// names each failed component ("snr", "ihsan", "relevance", "coverage", "grounding",
// "attribution", "corroboration", "dilution", "redundancy", "safety", "efficiency",
// "off_topic") with its value and bound, in that order.
func (p Policy) Score(m Measures) Score {
	T := p.Trust(m.Source)
	P := p.ProvDepth*m.Depth + p.ProvCorroboration*m.Corroboration + p.ProvTrust*T
	retrieval := p.RetrievalRelevanceShare*m.Relevance + (1-p.RetrievalRelevanceShare)*m.Coverage
	S := p.SigProvenance*P + p.SigRetrieval*retrieval + p.SigGrounding*m.Grounding
	N := p.NoiseUngrounded*(1-m.Grounding) + p.NoiseUnattributed*(1-m.Attribution) +
		p.NoiseDilution*m.Dilution + p.NoiseRedundancy*m.Redundancy + p.NoiseOffTopic*m.OffTopic
	snr := 0.0
	if S > 0 {
		snr = S / (S + N)
	}
	hits := min(max(m.PolicyHits, 0), p.PolicyHitCap)
	safety := 1 - float64(hits)/float64(p.PolicyHitCap)
	expected := p.ExpectedModelMs
	if m.Source == SourceLocal {
		expected = p.ExpectedLocalMs
	}
	efficiency := 1.0
	if m.ElapsedMs > expected && m.ElapsedMs > 0 {
		efficiency = expected / m.ElapsedMs
	}
	benefit := m.Coverage * (1 - m.OffTopic)
	ihsan := p.IhsanCorrectness*m.Grounding + p.IhsanSafety*safety + p.IhsanEfficiency*efficiency +
		p.IhsanUserBenefit*benefit

	sc := Score{SNR: round(snr), Ihsan: round(ihsan)}
	sc.SNROK = sc.SNR >= p.SNRThreshold
	sc.IhsanOK = sc.Ihsan >= p.IhsanThreshold
	switch {
	case !sc.IhsanOK:
		sc.Verdict = VerdictRejected
	case !sc.SNROK:
		sc.Verdict = VerdictQuarantined
	default:
		sc.Verdict = VerdictApproved
	}
	sc.Components = map[string]float64{
		"relevance": m.Relevance, "coverage": m.Coverage, "grounding": m.Grounding, "attribution": m.Attribution,
		"corroboration": m.Corroboration, "sources": float64(m.Sources), "trust": T, "depth": m.Depth,
		"dilution": m.Dilution, "redundancy": m.Redundancy, "policy_hits": float64(m.PolicyHits),
		"time_used": m.TimeUsed, "provenance": P, "retrieval": retrieval, "signal": S, "noise": N,
		"snr": sc.SNR, "correctness": m.Grounding, "safety": safety, "efficiency": efficiency,
		"user_benefit": benefit, "ihsan": sc.Ihsan, "off_topic": m.OffTopic, "sentences": float64(m.Sentences),
		"evidence_used": float64(m.EvidenceUsed),
	}
	for k, v := range sc.Components {
		sc.Components[k] = round(v)
	}
	issue := func(name string, v, bound float64, below bool) {
		if below && v < bound {
			sc.Issues = append(sc.Issues, fmt.Sprintf("%s %.2f below %.2f", name, v, bound))
		} else if !below && v > bound {
			sc.Issues = append(sc.Issues, fmt.Sprintf("%s %.2f above %.2f", name, v, bound))
		}
	}
	issue("snr", sc.SNR, p.SNRThreshold, true)
	issue("ihsan", sc.Ihsan, p.IhsanThreshold, true)
	issue("relevance", m.Relevance, p.MinRelevance, true)
	issue("coverage", m.Coverage, p.MinCoverage, true)
	issue("grounding", m.Grounding, p.MinGrounding, true)
	issue("attribution", m.Attribution, p.MinAttribution, true)
	issue("corroboration", m.Corroboration, p.MinCorroboration, true)
	issue("dilution", m.Dilution, p.MaxDilution, false)
	issue("redundancy", m.Redundancy, p.MaxRedundancy, false)
	issue("safety", safety, 1, true)
	issue("efficiency", efficiency, p.MinEfficiency, true)
	issue("off_topic", m.OffTopic, p.MaxOffTopic, false)
	return sc
}

// round keeps 6 decimals, so a score survives JSON and ledger quantisation unchanged.
func round(x float64) float64 {
	if math.IsNaN(x) {
		return 0
	}
	return math.Round(x*1e6) / 1e6
}

// ComponentNames lists the keys of Score.Components, sorted.
func ComponentNames() []string {
	m := Default().Score(Measures{}).Components
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
