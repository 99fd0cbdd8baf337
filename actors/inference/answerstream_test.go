package inference

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/bizra/bizra/actors/inference/mockllm"
)

// TestAnswerStreamed: with Request.OnDelta the answer comes from a streamed backend
// call and its pieces arrive as the backend sends them (the first long before the
// last), in order, making up the answer's text; without it the call is not streamed.
// A stream that breaks after its first pieces is final: no other backend is asked and
// the embedded engine does not replace it.
func TestAnswerStreamed(t *testing.T) {
	const tokenDelay = 30 * time.Millisecond
	cases := []struct {
		name    string
		kind    Kind
		fault   mockllm.Fault
		answer  string
		want    string // the answer's text ("" when the call fails)
		pieces  bool   // deltas expected
		wantErr error
	}{
		{"openai", KindOpenAI, mockllm.FaultNone, "", "", true, nil},
		{"ollama", KindOllama, mockllm.FaultNone, "", "", true, nil},
		{"think block left out", KindOpenAI, mockllm.FaultNone, "<think>private plan</think> The sky is blue [physics/rayleigh.md].",
			"The sky is blue [physics/rayleigh.md].", true, nil},
		{"broken mid-way is final", KindOpenAI, mockllm.FaultBreakStream, "", "", true, ErrBackend},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := startMock(t, mockllm.Options{TokenDelay: tokenDelay, Answer: tc.answer})
			spare := startMock(t, mockllm.Options{})
			url := m.URL()
			if tc.kind == KindOllama {
				url = m.OllamaURL()
			}
			s := startService(t, testOptions(newSystem(t), metrics.NewSet(),
				BackendConfig{Name: "be", Kind: tc.kind, URL: url, Model: "mock-small"},
				BackendConfig{Name: "spare", Kind: KindOpenAI, URL: spare.URL(), Model: "mock-small"}))
			m.SetFault(tc.fault)
			var mu sync.Mutex
			var pieces []string
			var at []time.Time
			req := sampleRequest()
			req.OnDelta = func(s string) {
				mu.Lock()
				pieces, at = append(pieces, s), append(at, time.Now())
				mu.Unlock()
			}
			ans, err := askAnswer(s, context.Background(), req)
			done := time.Now()
			mu.Lock()
			defer mu.Unlock()
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err %v (answer %+v), want %v", err, ans, tc.wantErr)
				}
				if len(pieces) == 0 {
					t.Fatal("no piece before the break")
				}
				if n := len(spare.Requests()); n != 0 {
					t.Fatalf("the spare backend was asked %d times after a broken stream", n)
				}
				return
			}
			if err != nil || ans.Degraded || ans.Backend != "be" {
				t.Fatalf("err %v, answer %+v", err, ans)
			}
			if len(pieces) < 3 {
				t.Fatalf("%d pieces: %q", len(pieces), pieces)
			}
			if got := strings.Join(pieces, ""); strings.TrimSpace(got) != ans.Text {
				t.Fatalf("pieces make %q, answer %q", got, ans.Text)
			}
			if tc.want != "" && ans.Text != tc.want {
				t.Fatalf("answer %q, want %q", ans.Text, tc.want)
			}
			if lead := done.Sub(at[0]); lead < 2*tokenDelay {
				t.Fatalf("the first piece came only %v before the answer: not streamed as it arrived", lead)
			}
			rec := m.Requests()
			if len(rec) == 0 || !rec[len(rec)-1].Stream {
				t.Fatalf("the backend call was not a streamed one: %+v", rec)
			}
		})
	}
	t.Run("no OnDelta: not streamed", func(t *testing.T) {
		m := startMock(t, mockllm.Options{})
		s := startService(t, testOptions(newSystem(t), metrics.NewSet(),
			BackendConfig{Name: "be", Kind: KindOpenAI, URL: m.URL(), Model: "mock-small"}))
		if _, err := askAnswer(s, context.Background(), sampleRequest()); err != nil {
			t.Fatal(err)
		}
		if rec := m.Requests(); len(rec) == 0 || rec[len(rec)-1].Stream {
			t.Fatalf("requests %+v", rec)
		}
	})
}

func TestThinkFilter(t *testing.T) {
	cases := []struct {
		name   string
		pieces []string
		want   string
	}{
		{"plain", []string{"Hello", " world"}, "Hello world"},
		{"leading space trimmed", []string{"  ", "\nHi"}, "Hi"},
		{"block in one piece", []string{"<think>x</think>Yes."}, "Yes."},
		{"tags split across pieces", []string{"A <thi", "nk>hidden</th", "ink> B"}, "A  B"},
		{"upper case", []string{"<THINK>no</Think>ok"}, "ok"},
		{"unclosed block hides the rest", []string{"ok <think>never", " closed"}, "ok "},
		{"a lone < is not held forever", []string{"a <", "b"}, "a <b"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var f thinkFilter
			var b strings.Builder
			for _, p := range tc.pieces {
				b.WriteString(f.feed(p))
			}
			if b.String() != tc.want {
				t.Fatalf("got %q, want %q", b.String(), tc.want)
			}
		})
	}
}

// FuzzThinkFilter: the filter's output does not depend on where the text is cut into
// pieces, never shows a think block's opening tag, and the stream-line parsers never
// panic on any line.
func FuzzThinkFilter(f *testing.F) {
	for _, s := range []string{"<think>x</think>Yes", "a <thi", "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}", "{\"done\":true}", ""} {
		f.Add(s, 3)
	}
	f.Fuzz(func(t *testing.T, s string, cut int) {
		var whole, split thinkFilter
		w := whole.feed(s)
		cut = min(max(cut, 0), len(s))
		p := split.feed(s[:cut]) + split.feed(s[cut:])
		if w != p {
			t.Fatalf("whole %q, split at %d %q", w, cut, p)
		}
		if strings.Contains(asciiLower(w), thinkOpen) {
			t.Fatalf("output %q shows a think tag", w)
		}
		var res chatResult
		_, _ = openAIStreamLine([]byte(s), &res, func(string) {})
		_, _ = ollamaStreamLine([]byte(s), &res, func(string) {})
	})
}
