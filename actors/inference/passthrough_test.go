package inference

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/bizra/bizra/actors/inference/mockllm"
)

func chatReq(model string, stream bool) ChatRequest {
	return ChatRequest{Model: model, Stream: stream,
		Messages: []ChatMessage{{Role: "system", Content: "be brief"}, {Role: "user", Content: "[doc.md] Rayleigh scattering makes the sky blue. More text."}}}
}

func exposition(set *metrics.Set) string {
	var b bytes.Buffer
	set.WritePrometheus(&b)
	return b.String()
}

func TestChatPassThrough(t *testing.T) {
	mOpen := startMock(t, mockllm.Options{Models: []string{"gpt-mock"}})
	mOll := startMock(t, mockllm.Options{Models: []string{"llama3:latest"}})
	set := metrics.NewSet()
	s := startService(t, testOptions(newSystem(t), set,
		BackendConfig{Name: "llm", Kind: KindOpenAI, URL: mOpen.URL()},
		BackendConfig{Name: "ollama", Kind: KindOllama, URL: mOll.OllamaURL()}))
	ctx := context.Background()

	t.Run("openai body verbatim", func(t *testing.T) {
		req := chatReq("gpt-mock", false)
		req.Body = []byte(`{"model":"gpt-mock","messages":[{"role":"user","content":"[doc.md] Rayleigh scattering makes the sky blue."}],"max_tokens":50,"x_unknown":1}`)
		res, err := s.Chat(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if res.Backend != "llm" || res.Model != "gpt-mock" || !res.Usage.Reported || res.Usage.CompletionTokens == 0 {
			t.Fatalf("response %+v", res)
		}
		var body struct {
			Object  string `json:"object"`
			Choices []struct {
				Message struct{ Content string } `json:"message"`
			} `json:"choices"`
		}
		if err := json.Unmarshal(res.Body, &body); err != nil || body.Object != "chat.completion" ||
			body.Choices[0].Message.Content != "Rayleigh scattering makes the sky blue [doc.md]." {
			t.Fatalf("body %s (%v)", res.Body, err)
		}
		rec, _ := mOpen.LastRequest()
		if rec.MaxTokens == nil || *rec.MaxTokens != 50 || rec.Stream {
			t.Fatalf("mock saw %+v", rec)
		}
	})
	t.Run("ollama translated", func(t *testing.T) {
		res, err := s.Chat(ctx, chatReq("llama3", false))
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Object  string `json:"object"`
			Model   string `json:"model"`
			Choices []struct {
				Message struct{ Role, Content string } `json:"message"`
			} `json:"choices"`
			Usage openAIUsage `json:"usage"`
		}
		if err := json.Unmarshal(res.Body, &body); err != nil || body.Object != "chat.completion" || body.Model != "llama3" ||
			body.Choices[0].Message.Role != "assistant" || !strings.Contains(body.Choices[0].Message.Content, "Rayleigh") ||
			body.Usage.TotalTokens != body.Usage.PromptTokens+body.Usage.CompletionTokens || body.Usage.TotalTokens == 0 {
			t.Fatalf("body %s (%v)", res.Body, err)
		}
		if rec, _ := mOll.LastRequest(); rec.Model != "llama3:latest" || rec.Format != "ollama" {
			t.Fatalf("mock saw %+v", rec)
		}
	})
	t.Run("unknown model", func(t *testing.T) {
		_, err := s.Chat(ctx, chatReq("nope", false))
		if !errors.Is(err, ErrModelNotFound) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("backend rejects", func(t *testing.T) {
		req := chatReq("gpt-mock", false)
		req.Body = []byte(`{"model":"gpt-mock","messages":`)
		_, err := s.Chat(ctx, req)
		if !errors.Is(err, ErrBackendRejected) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("models", func(t *testing.T) {
		ms := s.Models(ctx)
		if len(ms) != 2 || ms[0] != (ModelInfo{ID: "gpt-mock", Backend: "llm"}) || ms[1] != (ModelInfo{ID: "llama3:latest", Backend: "ollama"}) {
			t.Fatalf("models %+v", ms)
		}
	})
	if !strings.Contains(exposition(set), `sovereign_inference_requests_total{backend="llm",outcome="success"}`) {
		t.Fatal("no success counted")
	}
}

func TestChatFallbackAndOverload(t *testing.T) {
	down := startMock(t, mockllm.Options{Models: []string{"m"}})
	up := startMock(t, mockllm.Options{Models: []string{"m"}})
	opts := testOptions(newSystem(t), metrics.NewSet(),
		BackendConfig{Name: "a", Kind: KindOpenAI, URL: down.URL()},
		BackendConfig{Name: "b", Kind: KindOpenAI, URL: up.URL()})
	opts.MaxInFlight = 1
	s := startService(t, opts)
	ctx := context.Background()
	if _, err := s.Chat(ctx, chatReq("m", false)); err != nil { // both listed now
		t.Fatal(err)
	}
	if err := down.SetDown(mockllm.Down503); err != nil {
		t.Fatal(err)
	}
	res, err := s.Chat(ctx, chatReq("m", false))
	if err != nil || res.Backend != "b" {
		t.Fatalf("fallback: %+v %v", res, err)
	}
	if got := down.Total(); got < 3 {
		t.Fatalf("503 was not retried: %d requests", got)
	}

	up.SetDown(mockllm.Down503)
	if _, err := s.Chat(ctx, chatReq("m", false)); !errors.Is(err, ErrBackend) {
		t.Fatalf("all down: %v", err)
	}
	down.SetDown(mockllm.Up)
	up.SetDown(mockllm.Up)
	waitFor(t, "circuits closed by the probes", 3*time.Second, func() bool {
		for _, st := range s.Status() {
			if st.Circuit != "closed" {
				return false
			}
		}
		return true
	})

	// overload: both slots held by slow calls → the third is refused at once
	down.SetLatency(300 * time.Millisecond)
	up.SetLatency(300 * time.Millisecond)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { _, _ = s.Chat(ctx, chatReq("m", false)) })
	}
	deadline := time.Now().Add(2 * time.Second)
	for down.Active()+up.Active() < 2 && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	t0 := time.Now()
	_, err = s.Chat(ctx, chatReq("m", false))
	if !errors.Is(err, ErrOverloaded) || time.Since(t0) > 100*time.Millisecond {
		t.Fatalf("overload: %v after %v", err, time.Since(t0))
	}
	wg.Wait()
}

func TestChatStream(t *testing.T) {
	m := startMock(t, mockllm.Options{Models: []string{"gpt-mock"}, TokenDelay: 20 * time.Millisecond})
	mOll := startMock(t, mockllm.Options{Models: []string{"llama3"}})
	set := metrics.NewSet()
	s := startService(t, testOptions(newSystem(t), set,
		BackendConfig{Name: "llm", Kind: KindOpenAI, URL: m.URL()},
		BackendConfig{Name: "ollama", Kind: KindOllama, URL: mOll.OllamaURL()}))
	ctx := context.Background()

	t.Run("chunks arrive before the end", func(t *testing.T) {
		req := chatReq("gpt-mock", true)
		req.IncludeUsage = true
		st, err := s.OpenChatStream(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		first, err := st.Next()
		if err != nil || !bytes.Contains(first, []byte(`"chat.completion.chunk"`)) {
			t.Fatalf("first chunk %s %v", first, err)
		}
		if m.Active() != 1 {
			t.Fatal("first chunk only came after the mock finished")
		}
		var text strings.Builder
		n := 1
		for {
			c, err := st.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			n++
			var ch struct {
				Choices []struct {
					Delta struct{ Content string } `json:"delta"`
				} `json:"choices"`
			}
			if err := json.Unmarshal(c, &ch); err != nil {
				t.Fatalf("chunk %s: %v", c, err)
			}
			if len(ch.Choices) > 0 {
				text.WriteString(ch.Choices[0].Delta.Content)
			}
		}
		if text.String() != "Rayleigh scattering makes the sky blue [doc.md]." || n < 6 {
			t.Fatalf("text %q in %d chunks", text.String(), n)
		}
		if u := st.Usage(); !u.Reported || u.CompletionTokens != 7 {
			t.Fatalf("usage %+v", u)
		}
		exp := exposition(set)
		for _, want := range []string{`sovereign_inference_time_to_first_token_seconds_count{backend="llm"} 1`, `sovereign_inference_inter_token_seconds_bucket{backend="llm",le="0.025"}`} {
			if !strings.Contains(exp, want) {
				t.Fatalf("exposition lacks %s", want)
			}
		}
	})
	t.Run("cancel ends the backend request", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		n := 0
		_, err := s.ChatStream(cctx, chatReq("gpt-mock", true), func([]byte) error {
			n++
			if n == 2 {
				return errors.New("client went away")
			}
			return nil
		})
		cancel()
		if !errors.Is(err, ErrCanceled) {
			t.Fatalf("err %v", err)
		}
		waitFor(t, "backend request ended", 3*time.Second, func() bool { return m.Active() == 0 })
	})
	t.Run("ollama translated", func(t *testing.T) {
		req := chatReq("llama3", true)
		req.IncludeUsage = true
		var chunks []string
		u, err := s.ChatStream(ctx, req, func(c []byte) error { chunks = append(chunks, string(c)); return nil })
		if err != nil {
			t.Fatal(err)
		}
		if len(chunks) < 3 || !strings.Contains(chunks[0], `"role":"assistant"`) ||
			!strings.Contains(chunks[len(chunks)-2], `"finish_reason":"stop"`) || !strings.Contains(chunks[len(chunks)-1], `"usage"`) || !u.Reported {
			t.Fatalf("chunks %q usage %+v", chunks, u)
		}
	})
}
