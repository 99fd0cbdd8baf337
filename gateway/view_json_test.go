package gateway

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/bizra/bizra/actors/query"
)

func viewSamples() []query.Result {
	snr, ih := 0.9123456789, 1e-7
	e, d := "NO_EVIDENCE: \"x\"\n<&>", "degraded \u2028"
	return []query.Result{
		{},
		{QueryID: "q-1", Success: true, Response: "answer é 😀 <b>", ReasoningUsed: true, ReasoningDepth: 3,
			Thoughts: []string{"t1", "t\t2"}, SNRScore: &snr, IhsanScore: &ih, SNROK: true, Validated: true,
			ValidationPassed: true, ValidationIssues: []string{"a"}, ModelUsed: "m", GraphHash: "gh", Error: &e,
			Degraded: true, DegradedReason: &d, Cached: true, Verdict: "APPROVED", ReceiptID: "qr-1",
			Evidence: []query.Evidence{{Source: "s", Excerpt: "x\x01y", Score: 0.3}, {Score: 1e22}},
			Detail: query.Detail{Components: map[string]float64{"b": 0.5, "a": 1, "tiny": 1e-9, "big": 123456789},
				Nodes: 4, Edges: 5, TotalMs: 1.5, OverheadMs: 0.25, BackendMs: 1e-8, LeafHash: "lh",
				ReceiptStatus: "accepted", ErrorCode: "NO_EVIDENCE",
				Citations: []query.Citation{{Marker: 1, Source: "man/grep.1.txt:L54", Lines: [2]int{58, 60}, LineStart: 58,
					LineEnd: 60, Excerpt: "  -i, --ignore-case\n\tIgnore \"case\" é"}, {Marker: 2}}}},
		{QueryID: "q-2", Success: true, SNROK: true, Detail: query.Detail{
			Episode: &query.EpisodeRef{Sequence: 1<<63 + 5, Hash: "ab\"12"}}},
	}
}

// TestAppendViewMatchesEncodingJSON pins the hand-written encoder: both decode to the
// same value.
func TestAppendViewMatchesEncodingJSON(t *testing.T) {
	for i, r := range viewSamples() {
		fast := appendView(nil, &r)
		want, err := json.Marshal(ViewOf(&r))
		if err != nil {
			t.Fatal(err)
		}
		var a, b any
		if err := json.Unmarshal(fast, &a); err != nil {
			t.Fatalf("sample %d: fast encoding is not JSON: %v\n%s", i, err, fast)
		}
		if err := json.Unmarshal(want, &b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("sample %d:\nfast %s\njson %s", i, fast, want)
		}
	}
}

func FuzzAppendView(f *testing.F) {
	f.Add("answer", "src", 0.5, 3)
	f.Fuzz(func(t *testing.T, s, src string, x float64, n int) {
		r := query.Result{Response: s, ReasoningDepth: n, SNRScore: &x, Thoughts: []string{s},
			Evidence: []query.Evidence{{Source: src, Excerpt: s, Score: x}}, Detail: query.Detail{Components: map[string]float64{src: x},
				Citations: []query.Citation{{Marker: n, Source: src, Lines: [2]int{n, n + 1}, LineStart: n, LineEnd: n + 1, Excerpt: s}}}}
		want, err := json.Marshal(ViewOf(&r))
		if err != nil {
			return // NaN or Inf: cannot occur in a result
		}
		var a, b any
		if err := json.Unmarshal(appendView(nil, &r), &a); err != nil {
			t.Fatalf("not JSON: %v", err)
		}
		_ = json.Unmarshal(want, &b)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("mismatch for %q", s)
		}
	})
}

// TestAppendHitViewMatchesAppendView: a hit's response written from parts built once
// equals appendView's bytes, whatever the per-request fields (id, timing, cached,
// receipt, episode) of the hit.
func TestAppendHitViewMatchesAppendView(t *testing.T) {
	perRequest := []struct {
		name string
		set  func(*query.Result)
	}{
		{"as built", func(*query.Result) {}},
		{"hit", func(r *query.Result) {
			r.QueryID, r.Cached, r.ReceiptID = "q-1733300000000-0123456789abcdef", true, "qr-1733300000000-0123456789abcdef"
			r.Detail.TotalMs, r.Detail.OverheadMs, r.Detail.BackendMs = 0.214, 0.2, 0
			r.Detail.LeafHash, r.Detail.ReceiptStatus, r.Detail.Episode = "ab12", "accepted", nil
		}},
		{"escapes and episode", func(r *query.Result) {
			r.QueryID, r.Cached, r.ReceiptID = "q-\"<\u2028", false, ""
			r.Detail.TotalMs, r.Detail.Episode = 1e-9, &query.EpisodeRef{Sequence: 7, Hash: "h"}
		}},
	}
	for i, base := range viewSamples() {
		p := newViewParts(&base)
		for _, tt := range perRequest {
			t.Run(tt.name, func(t *testing.T) {
				r := base
				tt.set(&r)
				if got, want := appendHitView(nil, &r, p), appendView(nil, &r); string(got) != string(want) {
					t.Fatalf("sample %d:\n  hit %s\n full %s", i, got, want)
				}
			})
		}
	}
}
