package inference

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func seedResponses(f *testing.F) {
	entries, _ := os.ReadDir(filepath.Join(testdataDir, "responses"))
	for _, e := range entries {
		if b, err := os.ReadFile(filepath.Join(testdataDir, "responses", e.Name())); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{``, `{}`, `null`, `{"choices":[{}]}`, `{"choices":[{"text":"x"}]}`,
		`{"message":{"content":"<think>a</think>b"},"done":true,"eval_count":-5}`,
		`{"usage":{"prompt_tokens":-1,"completion_tokens":3},"choices":[{"message":{"content":"ok"}}]}`} {
		f.Add([]byte(s))
	}
}

func checkChat(t *testing.T, res chatResult, err error) {
	if err != nil {
		if _, ok := err.(*backendError); !ok {
			t.Fatalf("unclassified error %T %v", err, err)
		}
		return
	}
	if strings.TrimSpace(res.Text) == "" {
		t.Fatal("accepted an empty answer")
	}
	if strings.Contains(strings.ToLower(res.Text), "<think>") {
		t.Fatalf("think block left: %q", res.Text)
	}
	if res.PromptTokens < 0 || res.CompletionTokens < 0 {
		t.Fatalf("negative usage %+v", res)
	}
}

func FuzzDecodeOpenAIChat(f *testing.F) {
	seedResponses(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := decodeOpenAIChat(b)
		checkChat(t, res, err)
		if err == nil {
			_ = parseCitations(res.Text, []Evidence{{Source: "a"}})
		}
	})
}

func FuzzDecodeOllamaChat(f *testing.F) {
	seedResponses(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := decodeOllamaChat(b)
		checkChat(t, res, err)
	})
}

func FuzzDecodeModels(f *testing.F) {
	seedResponses(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, dec := range []func([]byte) ([]string, error){decodeOpenAIModels, decodeOllamaTags} {
			ms, err := dec(b)
			if err != nil {
				continue
			}
			if len(ms) > maxModels {
				t.Fatalf("%d models", len(ms))
			}
			for _, m := range ms {
				if strings.TrimSpace(m) == "" {
					t.Fatal("empty model name")
				}
			}
		}
	})
}

// FuzzEmbedded: the embedded engine never invents text and never panics.
func FuzzEmbedded(f *testing.F) {
	f.Add("why is the sky blue", "The sky is blue. Grass is green!", "a.md")
	f.Add("e.g. x", "e.g. x. 3.5 y? \n\n z", "")
	f.Fuzz(func(t *testing.T, q, excerpt, src string) {
		ev := []Evidence{{Source: src, Excerpt: excerpt, Score: 0.5}}
		ans, err := Embedded(Request{Query: q, Evidence: ev})
		if err != nil {
			return
		}
		for _, s := range ans.Sentences {
			if !strings.Contains(excerpt, s.Text) || s.Source != src || strings.TrimSpace(s.Text) == "" {
				t.Fatalf("invented sentence %q", s.Text)
			}
		}
		_ = utf8.ValidString(ans.Text)
	})
}

func FuzzStripThink(f *testing.F) {
	f.Add("<think>a</think>b")
	f.Add("x</think>y<think>")
	f.Fuzz(func(t *testing.T, s string) {
		out := stripThink(s)
		l := strings.ToLower(out)
		if strings.Contains(l, "<think>") || strings.Contains(l, "</think>") {
			t.Fatalf("open tag left in %q", out)
		}
		if len(out) > len(s) {
			t.Fatal("grew")
		}
	})
}

// FuzzForwardRequest: a client's forward request is refused or accepted with only the
// forwarded headers left, never a panic.
func FuzzForwardRequest(f *testing.F) {
	f.Add("/v1/embeddings", "m", []byte(`{"model":"m"}`), "X-Request-Id", "r-1")
	f.Add("/v1/responses", "", []byte(nil), "traceparent", "00-x\r\n")
	f.Add("/v1/x", "m", []byte(`{}`), "Cookie", "a=b")
	f.Fuzz(func(t *testing.T, path, model string, body []byte, hk, hv string) {
		r := ForwardRequest{Path: path, Model: model, Body: body, Headers: map[string]string{hk: hv}}
		if err := r.validate(); err != nil {
			if !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("error %v is not INVALID_INFERENCE_REQUEST", err)
			}
			return
		}
		for k, v := range r.Headers {
			if forwardedHeaders[strings.ToLower(k)] != k || v == "" || strings.ContainsAny(v, "\r\n\x00") {
				t.Fatalf("forwarded %q: %q", k, v)
			}
		}
	})
}

// FuzzUpstreamError: any backend error body becomes a bounded UpstreamError.
func FuzzUpstreamError(f *testing.F) {
	f.Add(400, []byte(`{"error":{"message":"m","type":"t","param":"p","code":"c"}}`), "7")
	f.Add(404, []byte(`{"error":"x"}`), "")
	f.Add(500, []byte(`{"error":{"message":12}}`), "\x00")
	f.Fuzz(func(t *testing.T, status int, body []byte, ra string) {
		e := newUpstreamError(BackendConfig{Name: "b", APIKey: "k"}, status, body, ra)
		if len(e.Message) > maxUpstreamMessage || len(e.Type) > maxUpstreamField || len(e.Param) > maxUpstreamField ||
			len(e.Code) > maxUpstreamField || len(e.RetryAfter) > 64 || !utf8.ValidString(e.Message) {
			t.Fatalf("unbounded %+v", e)
		}
		if u, _ := parseUsage(body); u.PromptTokens < 0 || u.CompletionTokens < 0 {
			t.Fatalf("negative usage %+v", u)
		}
	})
}
