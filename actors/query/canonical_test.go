package query

import (
	"encoding/json"
	"testing"

	"github.com/bizra/bizra/internal/canon"
)

// generic is the canonical encoding through encoding/json and the JCS transform, the
// path the AppendCanonical methods replace.
func generic(t testing.TB, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	b, err := canon.Transform(raw)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func sampleResults() []Result {
	snr, ih := 0.912345678, 0.95
	e, d := "NO_EVIDENCE: \"quoted\"\n", "all backends failed"
	return []Result{
		{},
		{QueryID: "q-1-ab", Success: true, Response: "Answer <with> & \u2028 é 😀", ReasoningUsed: true, ReasoningDepth: 3,
			Thoughts: []string{"a", "b\tc"}, IhsanScore: &ih, SNRScore: &snr, SNROK: true, Validated: true,
			ValidationPassed: true, ValidationIssues: []string{}, ProcessingTimeMs: 1.25e-3, ModelUsed: "embedded-extractive",
			GraphHash: "abc", ClaimTags: []string{"source:local"}, UserID: "u\x01", Error: &e, Degraded: true,
			DegradedReason: &d, Cached: true, Verdict: VerdictApproved, ReceiptID: "qr-1",
			Evidence: []Evidence{{Source: "RUNBOOK.md#x:L1", Excerpt: "text \xff bad", Score: 0.1 + 0.2}, {}}},
	}
}

func TestResultCanonicalMatchesGeneric(t *testing.T) {
	for i, r := range sampleResults() {
		got, err := r.AppendCanonical(nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := generic(t, r); string(got) != want {
			t.Fatalf("result %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

func TestRequestCanonicalsMatchGeneric(t *testing.T) {
	reqs := []Request{NewRequest("how do I check bridge health?"),
		{Query: "q \"x\"", Context: map[string]any{"b": 1.5, "a": []any{"x", nil, true}}, MaxDepth: 7, TimeoutMs: 1000, UserID: "é"}}
	for _, r := range reqs {
		got, err := identity{&r}.AppendCanonical(nil)
		if err != nil {
			t.Fatal(err)
		}
		want := generic(t, map[string]any{"query": r.Query, "context": nonNilCtx(r.Context), "require_reasoning": r.RequireReasoning,
			"require_validation": r.RequireValidation, "max_depth": r.MaxDepth, "user_id": r.UserID})
		if string(got) != want {
			t.Fatalf("identity:\n got %s\nwant %s", got, want)
		}
		got, err = receiptParams{&r}.AppendCanonical(nil)
		if err != nil {
			t.Fatal(err)
		}
		want = generic(t, map[string]any{"query": r.Query, "context": nonNilCtx(r.Context), "require_reasoning": r.RequireReasoning,
			"require_validation": r.RequireValidation, "max_depth": r.MaxDepth, "timeout_ms": r.TimeoutMs, "user_id": r.UserID})
		if string(got) != want {
			t.Fatalf("receipt params:\n got %s\nwant %s", got, want)
		}
	}
}

func nonNilCtx(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func FuzzResultCanonical(f *testing.F) {
	f.Add("answer", "src", "ex", 0.5, 3, true)
	f.Fuzz(func(t *testing.T, resp, src, ex string, score float64, depth int, ok bool) {
		r := Result{Response: resp, Success: ok, ReasoningDepth: depth, SNRScore: &score,
			Evidence: []Evidence{{Source: src, Excerpt: ex, Score: score}}, Thoughts: []string{resp}}
		got, err := r.AppendCanonical(nil)
		raw, jerr := json.Marshal(r)
		if err != nil || jerr != nil {
			if (err == nil) != (jerr == nil) {
				t.Fatalf("fast err %v, generic err %v", err, jerr)
			}
			return
		}
		want, terr := canon.Transform(raw)
		if terr != nil {
			return
		}
		if string(got) != string(want) {
			t.Fatalf("\n got %s\nwant %s", got, want)
		}
	})
}

func BenchmarkResultDigest(b *testing.B) {
	r := sampleResults()[1]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := canon.Digest("bizra-receipt-payload-v1", &r); err != nil {
			b.Fatal(err)
		}
	}
}
