package mockllm

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func start(t *testing.T, opts Options) *Server {
	t.Helper()
	s := New(opts)
	addr, err := s.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(addr, "127.0.0.1:") || strings.HasSuffix(addr, ":0") {
		t.Fatalf("bound %q", addr)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	return s
}

func client(t *testing.T) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 5 * time.Second}
}

func post(t *testing.T, c *http.Client, url string, body any) (*http.Response, []byte) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := c.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, out
}

const evidencePrompt = "Question: Why is the sky blue?\nEvidence:\n[a.md] Air scatters blue light. More text.\n[b.md] Sunsets are red!\n"

func msgs() []Message {
	return []Message{{Role: "system", Content: "answer with citations"}, {Role: "user", Content: evidencePrompt}}
}

func TestOpenAINonStreaming(t *testing.T) {
	s := start(t, Options{})
	c := client(t)
	resp, body := post(t, c, s.URL()+"/chat/completions", map[string]any{
		"model": "mock-small", "messages": msgs(), "max_tokens": 50, "temperature": 0.3, "stream": false})
	if resp.StatusCode != 200 {
		t.Fatalf("status %d %s", resp.StatusCode, body)
	}
	var r struct {
		Model   string
		Choices []struct{ Message struct{ Content string } }
		Usage   struct{ PromptTokens, CompletionTokens, TotalTokens int } `json:"usage"`
	}
	_ = json.Unmarshal(body, &r)
	var u struct {
		Usage struct {
			P int `json:"prompt_tokens"`
			C int `json:"completion_tokens"`
			T int `json:"total_tokens"`
		} `json:"usage"`
	}
	_ = json.Unmarshal(body, &u)
	if len(r.Choices) != 1 || r.Choices[0].Message.Content != "Air scatters blue light [a.md]. Sunsets are red [b.md]." {
		t.Fatalf("answer %s", body)
	}
	if u.Usage.P != len(strings.Fields("answer with citations"+" "+evidencePrompt)) || u.Usage.C != 9 || u.Usage.T != u.Usage.P+u.Usage.C {
		t.Fatalf("usage %+v", u.Usage)
	}
	rec, _ := s.LastRequest()
	if rec.Format != "openai" || rec.Model != "mock-small" || *rec.MaxTokens != 50 || *rec.Temperature != 0.3 || rec.Stream {
		t.Fatalf("recorded %+v", rec)
	}
	// Unknown model: 404 with an OpenAI error object.
	resp, body = post(t, c, s.URL()+"/chat/completions", map[string]any{"model": "nope", "messages": msgs()})
	if resp.StatusCode != 404 || !strings.Contains(string(body), `"error"`) {
		t.Fatalf("unknown model: %d %s", resp.StatusCode, body)
	}
}

func TestOpenAIStreaming(t *testing.T) {
	s := start(t, Options{})
	resp, body := post(t, client(t), s.URL()+"/chat/completions", map[string]any{"model": "mock-large", "messages": msgs(), "stream": true})
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var text strings.Builder
	events, done, finish := 0, false, ""
	for _, block := range strings.Split(strings.TrimSpace(string(body)), "\n\n") {
		data, ok := strings.CutPrefix(block, "data: ")
		if !ok {
			t.Fatalf("bad event %q", block)
		}
		if data == "[DONE]" {
			done = true
			continue
		}
		if done {
			t.Fatal("event after [DONE]")
		}
		var ch struct {
			Object  string
			Choices []struct {
				Delta        struct{ Content string }
				FinishReason *string `json:"finish_reason"`
			}
		}
		if err := json.Unmarshal([]byte(data), &ch); err != nil || ch.Object != "chat.completion.chunk" {
			t.Fatalf("chunk %q: %v", data, err)
		}
		text.WriteString(ch.Choices[0].Delta.Content)
		if ch.Choices[0].FinishReason != nil {
			finish = *ch.Choices[0].FinishReason
		}
		events++
	}
	if !done || finish != "stop" || events < 3 || text.String() != "Air scatters blue light [a.md]. Sunsets are red [b.md]." {
		t.Fatalf("done=%v finish=%q events=%d text=%q", done, finish, events, text.String())
	}
}

func TestOllamaFormats(t *testing.T) {
	s := start(t, Options{Models: []string{"llama3.2:latest"}})
	c := client(t)
	resp, err := c.Get(s.OllamaURL() + "/api/tags")
	if err != nil {
		t.Fatal(err)
	}
	var tags struct{ Models []struct{ Name string } }
	_ = json.NewDecoder(resp.Body).Decode(&tags)
	resp.Body.Close()
	if len(tags.Models) != 1 || tags.Models[0].Name != "llama3.2:latest" {
		t.Fatalf("tags %+v", tags)
	}

	// Non-streaming.
	_, body := post(t, c, s.OllamaURL()+"/api/chat", map[string]any{"model": "llama3.2:latest", "messages": msgs(),
		"stream": false, "options": map[string]any{"num_predict": 12, "temperature": 0}})
	var r struct {
		Message         struct{ Content string }
		Done            bool
		PromptEvalCount int `json:"prompt_eval_count"`
		EvalCount       int `json:"eval_count"`
	}
	if err := json.Unmarshal(body, &r); err != nil || !r.Done || r.EvalCount != 9 || r.PromptEvalCount == 0 ||
		r.Message.Content != "Air scatters blue light [a.md]. Sunsets are red [b.md]." {
		t.Fatalf("ollama answer %s (%v)", body, err)
	}
	rec, _ := s.LastRequest()
	if rec.Format != "ollama" || *rec.MaxTokens != 12 || *rec.Temperature != 0 || rec.Stream {
		t.Fatalf("recorded %+v", rec)
	}

	// Streaming is the default, as in Ollama.
	_, body = post(t, c, s.OllamaURL()+"/api/chat", map[string]any{"model": "llama3.2:latest", "messages": msgs()})
	var text strings.Builder
	lines, sawDone := 0, false
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		var ch struct {
			Message struct{ Content string }
			Done    bool
		}
		if err := json.Unmarshal(sc.Bytes(), &ch); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if sawDone {
			t.Fatal("line after done")
		}
		text.WriteString(ch.Message.Content)
		sawDone = ch.Done
		lines++
	}
	if !sawDone || lines < 3 || text.String() != "Air scatters blue light [a.md]. Sunsets are red [b.md]." {
		t.Fatalf("stream: done=%v lines=%d text=%q", sawDone, lines, text.String())
	}
	if rec, _ := s.LastRequest(); !rec.Stream {
		t.Fatal("stream not recorded")
	}
}

func TestFaultsAndModes(t *testing.T) {
	s := start(t, Options{APIKey: "k"})
	c := client(t)
	chat := func() (int, string) {
		b, _ := json.Marshal(map[string]any{"model": "mock-small", "messages": msgs(), "stream": false})
		req, _ := http.NewRequest(http.MethodPost, s.URL()+"/chat/completions", bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer k")
		resp, err := c.Do(req)
		if err != nil {
			return -1, err.Error()
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(out)
	}
	if resp, _ := post(t, c, s.URL()+"/chat/completions", map[string]any{"model": "mock-small"}); resp.StatusCode != 401 {
		t.Fatalf("no key: %d", resp.StatusCode)
	}
	s.Burst(429, 2)
	for i, want := range []int{429, 429, 200} {
		if code, body := chat(); code != want {
			t.Fatalf("burst request %d: %d %s", i, code, body)
		}
	}
	for _, tc := range []struct {
		f    Fault
		want string
	}{
		{FaultMalformedJSON, `"content":"trunc`},
		{FaultEmptyChoices, `"choices":[]`},
		{FaultErrorBody, `"error":{"message":"mock failure"`},
	} {
		s.SetFault(tc.f)
		code, body := chat()
		if code != 200 || !strings.Contains(body, tc.want) {
			t.Fatalf("fault %d: %d %s", tc.f, code, body)
		}
		if tc.f == FaultMalformedJSON && json.Valid([]byte(body)) {
			t.Fatal("malformed JSON is valid")
		}
	}
	s.SetFault(FaultNone)
	if err := s.SetDown(Down503); err != nil {
		t.Fatal(err)
	}
	if code, _ := chat(); code != 503 {
		t.Fatalf("down503: %d", code)
	}
	if err := s.SetDown(DownRefuse); err != nil {
		t.Fatal(err)
	}
	// The first call may see its kept-alive connection close (EOF); none gets an answer.
	if code, body := chat(); code != -1 {
		t.Fatalf("refuse mode: %d %s", code, body)
	}
	_, err := http.Get("http://" + s.Addr() + "/v1/models")
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("want connection refused, got %v", err)
	}
	if err := s.SetDown(Up); err != nil {
		t.Fatal(err)
	}
	if code, body := chat(); code != 200 {
		t.Fatalf("after recovery %d %s", code, body)
	}
	s.SetErrorRate(1)
	if code, _ := chat(); code != 500 {
		t.Fatalf("error rate 1: %d", code)
	}
	s.SetErrorRate(0)
	s.SetAnswer("<think>x</think>fixed")
	if _, body := chat(); !strings.Contains(body, `"content":"\u003cthink\u003ex\u003c/think\u003efixed"`) {
		t.Fatalf("fixed answer %s", body)
	}
}

func TestLatencyCancelledByClient(t *testing.T) {
	s := start(t, Options{Latency: 5 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	b, _ := json.Marshal(map[string]any{"model": "mock-small", "messages": msgs(), "stream": false})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+"/chat/completions", bytes.NewReader(b))
	c := client(t)
	if _, err := c.Do(req); err == nil {
		t.Fatal("slow request succeeded")
	}
	deadline := time.Now().Add(time.Second)
	for s.Active() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests still active", s.Active())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestComposeDecomposition(t *testing.T) {
	got := Compose([]Message{{Role: "system", Content: "Split into at most 3 sub-questions"}, {Role: "user", Content: "What is A and what is B? Why C"}})
	if got != "1. What is A?\n2. what is B?\n3. Why C?" {
		t.Fatalf("%q", got)
	}
	if got := Compose([]Message{{Role: "user", Content: "hello\nworld"}}); got != "No evidence was given for: hello" {
		t.Fatalf("%q", got)
	}
}

func TestRecordLimitAndRun(t *testing.T) {
	s := start(t, Options{RecordLimit: 2})
	c := client(t)
	for i := range 3 {
		post(t, c, s.URL()+"/chat/completions", map[string]any{"model": "mock-small", "messages": msgs(), "max_tokens": i + 1, "stream": false})
	}
	recs := s.Requests()
	if len(recs) != 2 || *recs[0].MaxTokens != 2 || *recs[1].MaxTokens != 3 {
		t.Fatalf("records %+v", recs)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- Run(ctx, "127.0.0.1:0", Options{}) }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if err := Run(context.Background(), "256.0.0.1:1", Options{}); err == nil {
		t.Fatal("bad address accepted")
	}
}
