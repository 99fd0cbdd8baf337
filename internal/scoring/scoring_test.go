package scoring

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bizra/bizra/internal/index"
	"github.com/bizra/bizra/internal/reasoning"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

// TestScoreHandComputed pins the formula with numbers worked out by hand (comments).
func TestScoreHandComputed(t *testing.T) {
	zeroTrust := Default()
	zeroTrust.TrustModelWithoutEvidence = 0
	tests := []struct {
		name    string
		p       Policy
		m       Measures
		snr     float64
		ihsan   float64
		verdict string
		issues  []string
	}{
		{
			// P = 0.3·(2/3) + 0.3·(2/3) + 0.4·1 = 0.8
			// S = 0.3·0.8 + 0.4·(0.5·0.8 + 0.5·0.7) + 0.3·1 = 0.24 + 0.3 + 0.3 = 0.84
			// N = 0.5·0 + 0.2·0 + 0.2·0.25 + 0.1·0 + 0.3·0 = 0.05;  SNR = 0.84/0.89 = 0.943820
			// efficiency = 250 ms expected / 500 ms used = 0.5
			// Ihsan = 0.3·1 + 0.35·1 + 0.15·0.5 + 0.2·0.7·(1−0) = 0.865 < 0.95 → REJECTED
			name: "good snr, ihsan short of coverage and slow", p: Default(),
			m: Measures{Relevance: 0.8, Coverage: 0.7, Grounding: 1, Attribution: 1, Corroboration: 2.0 / 3,
				Depth: 2.0 / 3, Dilution: 0.25, TimeUsed: 0.1, ElapsedMs: 500, Source: SourceLocal},
			snr: 0.943820, ihsan: 0.865, verdict: VerdictRejected, issues: []string{"ihsan"},
		},
		{
			// perfect but half the quoted units off the question: N = 0.3·0.5 = 0.15,
			// SNR = 1/1.15 = 0.869565; Ihsan = 0.3 + 0.35 + 0.15 + 0.2·1·(1−0.5) = 0.9 → REJECTED
			name: "an off-topic unit lowers the score", p: Default(),
			m: Measures{Relevance: 1, Coverage: 1, Grounding: 1, Attribution: 1, Corroboration: 1, Depth: 1,
				OffTopic: 0.5, ElapsedMs: 3, Source: SourceLocal},
			snr: 0.869565, ihsan: 0.9, verdict: VerdictRejected, issues: []string{"ihsan", "off_topic"},
		},
		{
			// everything perfect: P = 1, S = 1, N = 0 → SNR 1; Ihsan 1 → APPROVED
			name: "perfect", p: Default(),
			m: Measures{Relevance: 1, Coverage: 1, Grounding: 1, Attribution: 1, Corroboration: 1, Depth: 1,
				Source: SourceLocal},
			snr: 1, ihsan: 1, verdict: VerdictApproved,
		},
		{
			// T = 0.8 (model with evidence); P = 0.3/3 + 0.3/3 + 0.4·0.8 = 0.52
			// S = 0.3·0.52 + 0.4·(0.25 + 0.5) + 0.3·1 = 0.156 + 0.3 + 0.3 = 0.756
			// N = 0.2·0.75 + 0.1·0.25 = 0.175;  SNR = 0.756/0.931 = 0.812030
			// efficiency = 10 s expected of a model / 12.5 s used = 0.8
			// Ihsan = 0.3 + 0.35 + 0.15·0.8 + 0.2·1 = 0.97 → QUARANTINED
			name: "quarantined", p: Default(),
			m: Measures{Relevance: 0.5, Coverage: 1, Grounding: 1, Attribution: 1, Corroboration: 1.0 / 3,
				Depth: 1.0 / 3, Dilution: 0.75, Redundancy: 0.25, TimeUsed: 0.2, ElapsedMs: 12500, Source: SourceModelWithEvidence},
			snr: 0.812030, ihsan: 0.97, verdict: VerdictQuarantined, issues: []string{"snr"},
		},
		{
			// nothing found, model without evidence (T = 0.3), 3 policy hits (capped at 2 → safety 0),
			// 200 s used of 10 s expected: P = 0.12, S = 0.036, N = 0.5 + 0.2 = 0.7 → SNR = 0.036/0.736 = 0.048913;
			// efficiency = 10/200 = 0.05, Ihsan = 0.15·0.05 = 0.0075
			name: "nothing", p: Default(),
			m:   Measures{PolicyHits: 3, TimeUsed: 1, ElapsedMs: 200000, Source: SourceModelWithoutEvidence},
			snr: 0.048913, ihsan: 0.0075, verdict: VerdictRejected,
			issues: []string{"snr", "ihsan", "relevance", "coverage", "grounding", "attribution", "corroboration", "safety", "efficiency"},
		},
		{
			// S = 0 → SNR = 0 (not 0/0)
			name: "zero signal", p: zeroTrust,
			m:   Measures{Source: SourceModelWithoutEvidence},
			snr: 0, ihsan: 0.5, verdict: VerdictRejected,
			issues: []string{"snr", "ihsan", "relevance", "coverage", "grounding", "attribution", "corroboration"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.p.Score(tt.m)
			if !near(s.SNR, tt.snr) || !near(s.Ihsan, tt.ihsan) || s.Verdict != tt.verdict {
				t.Errorf("snr %v ihsan %v %s; want %v %v %s", s.SNR, s.Ihsan, s.Verdict, tt.snr, tt.ihsan, tt.verdict)
			}
			var names []string
			for _, is := range s.Issues {
				names = append(names, strings.Fields(is)[0])
			}
			if !slices.Equal(names, tt.issues) {
				t.Errorf("issues %q; want %v", s.Issues, tt.issues)
			}
			if s.SNROK != (s.SNR >= 0.85) || s.IhsanOK != (s.Ihsan >= 0.95) {
				t.Errorf("flags %+v", s)
			}
			if got := s.Components["snr"]; got != s.SNR || s.Components["ihsan"] != s.Ihsan {
				t.Errorf("components %v", s.Components)
			}
		})
	}
}

// TestMeasureHandComputed pins every measured input on a small case worked by hand.
func TestMeasureHandComputed(t *testing.T) {
	in := Inputs{
		Query:        "how do I check bridge health?", // content terms {check, bridge, health}
		SubQuestions: []string{"how do I check bridge health"},
		Evidence: []index.Evidence{
			{Source: "ops.md#bridge:L3", Excerpt: "Check bridge health with the doctor command. The doctor reports the listener port.", Score: 0.9},
			{Source: "api.md#health:L28", Excerpt: "The health endpoint returns healthy or degraded.", Score: 0.6},
			{Source: "cache.md:L1", Excerpt: "The cache stores answers for ten minutes.", Score: 0.3},
		},
		AnswerSentences: []Sentence{
			{"Check bridge health with the doctor command.", "ops.md#bridge:L3"},      // grounded, cited, addresses (3 of 3 terms)
			{"The health endpoint returns healthy or degraded.", "api.md#health:L28"}, // grounded, cited, 1 of 3 terms: off the question
			{"Check bridge health with the doctor command.", ""},                      // grounded, uncited, repeats the first
			{"Bananas are yellow fruit.", "made-up.md"},                               // ungrounded, cites nothing real, off the question
		},
		Depth: 2, MaxDepth: 3, Rounds: 2, Improving: 1, Source: SourceLocal, Elapsed: 3 * time.Second, Deadline: 30 * time.Second,
	}
	m := Measure(in)
	// used evidence = cited {ops.md, api.md}: R = (0.9+0.6)/2 = 0.75, K = 2 docs/3
	// C = 3/3 (shown by the first sentence); G = 3/4; A = 2/4; Rd = 1/4; O = 2/4
	// D = (1 + 1 improving round)/(1 + 2 rounds) = 2/3
	// answer terms: check bridge health doctor command endpoint return healthy degraded banana yellow fruit (12);
	// related: query terms; doctor, command stand in a sentence that fits the question
	// fully, so each counts ContextDilution = 0.25 → unrelated 7 + 0.5 → U = 7.5/12
	want := Measures{Relevance: 0.75, Coverage: 1, Grounding: 0.75, Attribution: 0.5, Corroboration: 2.0 / 3,
		Sources: 2, Depth: 2.0 / 3, Dilution: 7.5 / 12, Redundancy: 0.25, TimeUsed: 0.1, Source: SourceLocal,
		Sentences: 4, EvidenceUsed: 2, OffTopic: 0.5, ElapsedMs: 3000}
	if !near(m.Relevance, want.Relevance) || !near(m.Coverage, want.Coverage) || !near(m.Grounding, want.Grounding) ||
		!near(m.Attribution, want.Attribution) || !near(m.Corroboration, want.Corroboration) || m.Sources != want.Sources ||
		!near(m.Depth, want.Depth) || !near(m.Dilution, want.Dilution) || !near(m.Redundancy, want.Redundancy) ||
		!near(m.TimeUsed, want.TimeUsed) || m.Sentences != want.Sentences || m.EvidenceUsed != want.EvidenceUsed ||
		!near(m.OffTopic, want.OffTopic) || !near(m.ElapsedMs, want.ElapsedMs) {
		t.Fatalf("measures\n got %+v\nwant %+v", m, want)
	}
	// P = 0.8; S = 0.24 + 0.4·(0.375 + 0.5) + 0.3·0.75 = 0.815
	// N = 0.5·0.25 + 0.2·0.5 + 0.2·7.5/12 + 0.1·0.25 + 0.3·0.5 = 0.525; SNR = 0.815/1.34 = 0.608209
	// efficiency = 250/3000; Ihsan = 0.3·0.75 + 0.35 + 0.15·0.083333 + 0.2·1·(1−0.5) = 0.6875
	s := Default().Score(m)
	if !near(s.SNR, 0.608209) || !near(s.Ihsan, 0.6875) || s.Verdict != VerdictRejected {
		t.Errorf("score %+v", s)
	}
	// Coverage is weighted by rarity: the health sentence alone shows health (2) of
	// check (1) + bridge (3) + health (2) = 1/3, and no longer addresses the question.
	rare := in
	rare.AnswerSentences = in.AnswerSentences[1:2]
	rare.TermWeights = map[string]float64{"check": 1, "bridge": 3, "health": 2}
	if m := Measure(rare); !near(m.Coverage, 1.0/3) || !near(m.OffTopic, 1) {
		t.Errorf("weighted coverage %v, off-topic %v", m.Coverage, m.OffTopic)
	}
	// Without sentences the answer text is split, citations in brackets become sources.
	in.AnswerSentences = nil
	in.Answer = "Check bridge health with the doctor command. [ops.md#bridge:L3] The health endpoint returns healthy or degraded. [api.md#health:L28]"
	m = Measure(in)
	if m.Sentences != 2 || !near(m.Attribution, 1) || !near(m.Grounding, 1) || m.EvidenceUsed != 2 {
		t.Errorf("split answer measures %+v", m)
	}
	// No answer, no evidence: zeros, not NaN.
	m = Measure(Inputs{Query: "bridge"})
	if m != (Measures{}) {
		t.Errorf("empty measures %+v", m)
	}
}

func TestPolicyDigestGolden(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "scoring", "policy_digest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ Canonical, Digest string }
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	got, err := Default().Digest()
	if err != nil || got != v.Digest {
		t.Fatalf("digest %s %v; want %s", got, err, v.Digest)
	}
	p := Default()
	p.NoiseDilution = 0.25
	if d, _ := p.Digest(); d == v.Digest {
		t.Error("changed policy, same digest")
	}
	if err := Default().Validate(); err != nil {
		t.Fatal(err)
	}
	bad := Default()
	bad.ProvTrust = 0.5
	if err := bad.Validate(); !errors.Is(err, ErrPolicy) {
		t.Errorf("weights summing to 1.1: %v", err)
	}
}

// TestOnTopicVersusOffTopic runs the real chain (index of the project's docs,
// reasoning, the embedded engine, Measure, Score).
func TestOnTopicVersusOffTopic(t *testing.T) {
	ix := specLake(t)
	on := runChain(t, ix, "how do I check bridge health?", reasoning.RunOptions{})
	off := runChain(t, ix, "purple elephant banana saxophone", reasoning.RunOptions{})
	t.Logf("on-topic snr %.3f ihsan %.3f %s; off-topic snr %.3f no_evidence %v", on.s.SNR, on.s.Ihsan, on.s.Verdict, off.s.SNR, off.noEvidence)
	if on.s.SNR-off.s.SNR < 0.2 || !off.noEvidence || on.noEvidence {
		t.Errorf("on-topic snr %.3f, off-topic %.3f", on.s.SNR, off.s.SNR)
	}
	if !on.s.SNROK || on.s.Verdict != VerdictApproved {
		t.Errorf("on-topic %+v", on.s)
	}
	// With pruning off, a query that brushes one corpus word gets evidence, but no
	// unit covers enough of its terms: the engine answers NO_EVIDENCE (or, if it
	// answered, the verdict would be REJECTED, clearly below the on-topic one).
	partial := runChain(t, ix, "banana weather cache recipe", reasoning.RunOptions{SNRThreshold: -1})
	t.Logf("partial off-topic no_evidence %v snr %.3f ihsan %.3f components %v", partial.noEvidence, partial.s.SNR,
		partial.s.Ihsan, partial.s.Components)
	if len(partial.outcome.Evidence) == 0 || !(partial.noEvidence || (partial.s.Verdict == VerdictRejected && on.s.SNR-partial.s.SNR >= 0.15)) {
		t.Errorf("partial off-topic %+v", partial.s)
	}
}

func TestScoresVaryAcrossQueries(t *testing.T) {
	ix := specLake(t)
	snrs, ihsans := map[float64]bool{}, map[float64]bool{}
	verdicts := map[string]int{}
	for _, q := range queries20 {
		r := runChain(t, ix, q, reasoning.RunOptions{})
		snrs[r.s.SNR], ihsans[r.s.Ihsan] = true, true
		verdicts[r.s.Verdict]++
		for k, v := range r.s.Components {
			if math.IsNaN(v) || v < 0 || (v > 1 && k != "sources" && k != "sentences" && k != "evidence_used" && k != "policy_hits") {
				t.Errorf("%q: component %s = %v", q, k, v)
			}
		}
	}
	t.Logf("%d distinct snr, %d distinct ihsan, verdicts %v", len(snrs), len(ihsans), verdicts)
	if len(snrs) < 10 || len(ihsans) < 4 || len(verdicts) < 2 {
		t.Errorf("%d distinct snr, %d distinct ihsan, verdicts %v", len(snrs), len(ihsans), verdicts)
	}
}

var queries20 = []string{
	"how do I check bridge health?",
	"what is the cache key and how long is the TTL?",
	"how are receipts sealed in batches?",
	"what does the merkle inclusion proof contain?",
	"how is the experience ledger episode hash computed?",
	"what happens when every external backend fails?",
	"how does the circuit breaker recover?",
	"which metrics must pass promtool check?",
	"how do I rotate the bridge token?",
	"what does bizra doctor check?",
	"how is node0 genesis validated?",
	"what is the rate limit for the API?",
	"how are smart files kept inside the data lake root?",
	"what does the maintenance loop do?",
	"how are supervisor restarts limited?",
	"what is the SNR formula?",
	"purple elephant banana saxophone",
	"banana weather cache recipe",
	"recipe for chocolate cake with strawberries",
	"football world cup results 1998",
}

func TestSplitSentences(t *testing.T) {
	tests := []struct {
		in   string
		want []Sentence
	}{
		{"One. Two! Three?", []Sentence{{"One.", ""}, {"Two!", ""}, {"Three?", ""}}},
		{"Cited. [a.md:L1] Next [b.md]", []Sentence{{"Cited.", "a.md:L1"}, {"Next", "b.md"}}},
		{"version 1.2 is out\nline two", []Sentence{{"version 1.2 is out", ""}, {"line two", ""}}},
		{"", nil},
	}
	for _, tt := range tests {
		if got := SplitSentences(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("SplitSentences(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzSplitSentences(f *testing.F) {
	for _, s := range []string{"One. [x] Two.", "a.[b", "]]. [[", "x\n\n. [a.md:L1]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, st := range SplitSentences(s) {
			if st.Text == "" || !strings.Contains(s, st.Text) {
				t.Fatalf("sentence %q not in %q", st.Text, s)
			}
		}
		_ = Default().Score(Measure(Inputs{Query: s, Answer: s, Evidence: []index.Evidence{{Source: "a", Excerpt: s, Score: 0.5}}}))
	})
}
