package inference

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/asynkron/protoactor-go/actor"
	"github.com/bizra/bizra/actors/inference/mockllm"
	"github.com/bizra/bizra/internal/catalog"
)

func newSystem(t testing.TB) *actor.ActorSystem {
	t.Helper()
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	}))
	t.Cleanup(sys.Shutdown)
	return sys
}

func startMock(t testing.TB, opts mockllm.Options) *mockllm.Server {
	t.Helper()
	m := mockllm.New(opts)
	if _, err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown(context.Background()) })
	return m
}

// testOptions are fast settings for tests: short probes and backoffs.
func testOptions(sys *actor.ActorSystem, set *metrics.Set, backends ...BackendConfig) Options {
	return Options{
		System: sys, Metrics: set, Config: Config{Backends: backends},
		ProbeInterval: 40 * time.Millisecond, ProbeTimeout: 200 * time.Millisecond,
		Retry:          Retry{Min: 5 * time.Millisecond, Max: 20 * time.Millisecond, Attempts: 3},
		DefaultTimeout: 5 * time.Second,
	}
}

func startService(t testing.TB, opts Options) *Service {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return s
}

func sampleRequest() Request {
	temp := 0.25
	return Request{
		QueryID:      "q1",
		Query:        "Why is the sky blue during the day?",
		SubQuestions: []string{"What scatters sunlight in the atmosphere?"},
		Conclusion:   "Rayleigh scattering makes the sky blue.",
		Evidence: []Evidence{
			{Source: "physics/rayleigh.md", Excerpt: "Rayleigh scattering affects short blue wavelengths of sunlight far more than red ones. It was described in 1871.", Score: 0.9},
			{Source: "notes/sky.txt", Excerpt: "The sky looks blue because air molecules scatter blue sunlight in every direction.", Score: 0.7},
		},
		MaxTokens:   77,
		Temperature: &temp,
	}
}

func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestAnswerThroughEachWireFormat(t *testing.T) {
	for _, tc := range []struct {
		name  string
		kind  Kind
		model string // configured; "" discovers
	}{
		{"openai", KindOpenAI, "mock-large"},
		{"openai-discovered-model", KindOpenAI, ""},
		{"ollama", KindOllama, "mock-large"},
		{"ollama-discovered-model", KindOllama, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := startMock(t, mockllm.Options{APIKey: "sekret"})
			url := m.URL()
			if tc.kind == KindOllama {
				url = m.OllamaURL()
			}
			set := metrics.NewSet()
			s := startService(t, testOptions(newSystem(t), set,
				BackendConfig{Name: "be", Kind: tc.kind, URL: url, Model: tc.model, APIKey: "sekret"}))
			req := sampleRequest()
			ans, err := askAnswer(s, context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			wantModel := tc.model
			if wantModel == "" {
				wantModel = "mock-small" // first listed
			}
			if ans.Backend != "be" || ans.Model != wantModel || ans.Degraded {
				t.Fatalf("answer from %q/%q degraded=%v, want be/%s", ans.Backend, ans.Model, ans.Degraded, wantModel)
			}
			// The mock echoes the first sentence of each evidence line with its citation.
			if !strings.Contains(ans.Text, "Rayleigh scattering affects short blue wavelengths of sunlight far more than red ones") ||
				!strings.Contains(ans.Text, "[notes/sky.txt]") {
				t.Fatalf("evidence did not reach the model: %q", ans.Text)
			}
			if len(ans.Sentences) != 2 || ans.Sentences[0].Source != "physics/rayleigh.md" || ans.Sentences[1].Source != "notes/sky.txt" {
				t.Fatalf("citations not parsed: %+v", ans.Sentences)
			}
			if strings.Contains(ans.Sentences[0].Text, "[") {
				t.Fatalf("citation left in sentence text: %q", ans.Sentences[0].Text)
			}
			if ans.TokensUsed <= 0 || ans.TokensEstimated {
				t.Fatalf("tokens %d estimated=%v, want reported usage", ans.TokensUsed, ans.TokensEstimated)
			}
			if ans.BackendDuration <= 0 {
				t.Fatal("no backend duration")
			}
			rec, ok := m.LastRequest()
			if !ok {
				t.Fatal("mock recorded nothing")
			}
			if rec.Model != wantModel || rec.MaxTokens == nil || *rec.MaxTokens != 77 ||
				rec.Temperature == nil || *rec.Temperature != 0.25 || rec.Stream || rec.Auth != "Bearer sekret" {
				t.Fatalf("request arrived as model=%q max=%v temp=%v stream=%v auth=%q",
					rec.Model, rec.MaxTokens, rec.Temperature, rec.Stream, rec.Auth)
			}
			if got := set.GetOrCreateCounter(`sovereign_inference_requests_total{backend="be",outcome="success"}`).Get(); got != 1 {
				t.Fatalf("success counter %d", got)
			}
			var buf bytes.Buffer
			set.WritePrometheus(&buf)
			for _, want := range []string{
				`sovereign_inference_duration_seconds_bucket{backend="be",le="0.01"}`,
				`sovereign_inference_duration_seconds_count{backend="be"} 1`,
				`sovereign_inference_circuit_state{backend="be"} 0`,
			} {
				if !strings.Contains(buf.String(), want) {
					t.Fatalf("metrics lack %s:\n%s", want, buf.String())
				}
			}
			waitFor(t, "ready status", 2*time.Second, func() bool { return s.Status()[0].Status == StatusReady })
			if b, mdl, st := s.Primary(); b != "be" || mdl != wantModel || st != StatusReady || !s.Available() {
				t.Fatalf("primary %s %s %s", b, mdl, st)
			}
		})
	}
}

func TestRetriesBurst(t *testing.T) {
	// One request-with-retries for the pipeline too: 5xx is retried against the same
	// backend, a 429 is not (the router falls back at once).
	for _, tc := range []struct {
		status   int
		requests int
		degraded bool
	}{
		{503, 3, false},
		{500, 3, false},
		{502, 3, false},
		{429, 1, true},
	} {
		t.Run(strconv.Itoa(tc.status), func(t *testing.T) {
			m := startMock(t, mockllm.Options{})
			s := startService(t, testOptions(newSystem(t), metrics.NewSet(),
				BackendConfig{Name: "be", Kind: KindOpenAI, URL: m.URL(), Model: "mock-small"}))
			m.Burst(tc.status, 2)
			ans, err := askAnswer(s, context.Background(), sampleRequest())
			if err != nil || ans.Degraded != tc.degraded || (!tc.degraded && ans.Backend != "be") {
				t.Fatalf("answer %+v err %v, want degraded=%v", ans, err, tc.degraded)
			}
			if tc.degraded && !strings.Contains(ans.DegradedReason, "be: HTTP "+strconv.Itoa(tc.status)) {
				t.Fatalf("reason %q", ans.DegradedReason)
			}
			chats := 0
			for _, r := range m.Requests() {
				if r.Path == "/v1/chat/completions" {
					chats++
				}
			}
			if chats != tc.requests {
				t.Fatalf("%d chat requests, want %d", chats, tc.requests)
			}
		})
	}
	t.Run("429s do not open the circuit", func(t *testing.T) {
		m := startMock(t, mockllm.Options{})
		opts := testOptions(newSystem(t), metrics.NewSet(), BackendConfig{Name: "be", Kind: KindOpenAI, URL: m.URL(), Model: "mock-small"})
		opts.BreakerFailures, opts.ProbeInterval = 2, time.Hour
		s := startService(t, opts)
		m.Burst(429, 3)
		for range 3 {
			if ans, err := askAnswer(s, context.Background(), sampleRequest()); err != nil || !ans.Degraded {
				t.Fatalf("answer %+v err %v, want degraded", ans, err)
			}
		}
		if st := s.Status()[0]; st.Circuit != "closed" {
			t.Fatalf("circuit %s after 429s", st.Circuit)
		}
		m.Burst(500, 6)
		for range 2 {
			_, _ = askAnswer(s, context.Background(), sampleRequest())
		}
		if st := s.Status()[0]; st.Circuit != "open" {
			t.Fatalf("circuit %s after 5xx failures", st.Circuit)
		}
	})
	t.Run("burst longer than attempts fails over", func(t *testing.T) {
		m := startMock(t, mockllm.Options{})
		s := startService(t, testOptions(newSystem(t), metrics.NewSet(),
			BackendConfig{Name: "be", Kind: KindOpenAI, URL: m.URL(), Model: "mock-small"}))
		m.Burst(503, 3)
		ans, err := askAnswer(s, context.Background(), sampleRequest())
		if err != nil || !ans.Degraded || !strings.Contains(ans.DegradedReason, "be: HTTP 503") {
			t.Fatalf("answer %+v err %v, want degraded after 3 attempts", ans, err)
		}
	})
}

func TestHardDownOpensCircuitAndRecovers(t *testing.T) {
	for _, mode := range []struct {
		name   string
		mode   mockllm.DownMode
		reason string
	}{
		{"refused", mockllm.DownRefuse, "connection failed"},
		{"503", mockllm.Down503, "HTTP 503"},
	} {
		t.Run(mode.name, func(t *testing.T) {
			m := startMock(t, mockllm.Options{})
			set := metrics.NewSet()
			opts := testOptions(newSystem(t), set, BackendConfig{Name: "be", Kind: KindOpenAI, URL: m.URL(), Model: "mock-small"})
			opts.ProbeInterval = 200 * time.Millisecond // keep probes from racing the trip
			s := startService(t, opts)
			waitFor(t, "ready", 2*time.Second, func() bool { return s.Status()[0].Status == StatusReady })
			if err := m.SetDown(mode.mode); err != nil {
				t.Fatal(err)
			}
			req := sampleRequest()
			var last Answer
			for i := 0; i < 6 && s.Status()[0].Circuit != "open"; i++ {
				ans, err := askAnswer(s, context.Background(), req)
				if err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
				if !ans.Degraded || ans.Backend != EmbeddedBackend {
					t.Fatalf("call %d: %+v, want embedded degraded", i, ans)
				}
				last = ans
			}
			st := s.Status()[0]
			if st.Circuit != "open" || st.Status != StatusOffline || s.Available() {
				t.Fatalf("status %+v after repeated failures, want open/offline", st)
			}
			if !strings.HasPrefix(last.DegradedReason, "all backends failed: be: ") {
				t.Fatalf("degraded reason %q", last.DegradedReason)
			}
			if !strings.Contains(last.DegradedReason, mode.reason) && !strings.Contains(last.DegradedReason, "circuit open") {
				t.Fatalf("degraded reason %q, want %q", last.DegradedReason, mode.reason)
			}
			// With the circuit open, the backend is not called at all.
			before := m.Total()
			ans, err := askAnswer(s, context.Background(), req)
			if err != nil || !ans.Degraded || !strings.Contains(ans.DegradedReason, "circuit open") {
				t.Fatalf("open circuit answer %+v %v", ans, err)
			}
			if mode.mode == mockllm.Down503 && m.Total() > before+1 { // at most one probe slipped in
				t.Fatalf("open circuit still called the backend (%d → %d)", before, m.Total())
			}
			if got := set.GetOrCreateCounter("sovereign_degraded_answers_total").Get(); got < 3 {
				t.Fatalf("degraded counter %d", got)
			}
			var buf bytes.Buffer
			set.WritePrometheus(&buf)
			if !strings.Contains(buf.String(), `sovereign_inference_circuit_state{backend="be"} 2`) {
				t.Fatalf("circuit gauge not 2:\n%s", buf.String())
			}
			// Recovery: the probe closes the circuit again.
			if err := m.SetDown(mockllm.Up); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "circuit closed", 3*time.Second, func() bool {
				st := s.Status()[0]
				return st.Circuit == "closed" && st.Status == StatusReady
			})
			ans, err = askAnswer(s, context.Background(), req)
			if err != nil || ans.Degraded || ans.Backend != "be" {
				t.Fatalf("after recovery: %+v %v", ans, err)
			}
		})
	}
}

func TestSlowBackendTimesOutAndCancels(t *testing.T) {
	for _, kind := range []Kind{KindOpenAI, KindOllama} {
		t.Run(string(kind), func(t *testing.T) {
			m := startMock(t, mockllm.Options{Latency: 3 * time.Second})
			url := m.URL()
			if kind == KindOllama {
				url = m.OllamaURL()
			}
			s := startService(t, testOptions(newSystem(t), metrics.NewSet(),
				BackendConfig{Name: "slow", Kind: kind, URL: url, Model: "mock-small"}))
			req := sampleRequest()
			const budget = 300 * time.Millisecond
			start := time.Now()
			req.Deadline = start.Add(budget)
			_, err := askAnswer(s, context.Background(), req)
			took := time.Since(start)
			if !errors.Is(err, ErrTimeout) || catalog.Lookup(err).Code != "TIMEOUT" {
				t.Fatalf("err %v, want TIMEOUT", err)
			}
			if took > budget+150*time.Millisecond {
				t.Fatalf("took %v for a %v deadline", took, budget)
			}
			waitFor(t, "mock request cancelled", time.Second, func() bool { return m.Active() == 0 })
			// The deadline is the caller's: it does not count against the circuit.
			if st := s.Status()[0]; st.Circuit != "closed" {
				t.Fatalf("circuit %s after a caller timeout", st.Circuit)
			}
		})
	}
	t.Run("context deadline", func(t *testing.T) {
		m := startMock(t, mockllm.Options{Latency: 3 * time.Second})
		s := startService(t, testOptions(newSystem(t), metrics.NewSet(),
			BackendConfig{Name: "slow", Kind: KindOpenAI, URL: m.URL(), Model: "mock-small"}))
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := askAnswer(s, ctx, sampleRequest())
		if !errors.Is(err, ErrTimeout) || time.Since(start) > 350*time.Millisecond {
			t.Fatalf("err %v after %v", err, time.Since(start))
		}
		waitFor(t, "mock request cancelled", time.Second, func() bool { return m.Active() == 0 })
	})
}

func TestFallbackOrder(t *testing.T) {
	first := startMock(t, mockllm.Options{Models: []string{"m1"}})
	second := startMock(t, mockllm.Options{Models: []string{"m2"}})
	third := startMock(t, mockllm.Options{Models: []string{"m3"}})
	s := startService(t, testOptions(newSystem(t), metrics.NewSet(),
		BackendConfig{Name: "first", Kind: KindOpenAI, URL: first.URL(), Model: "m1"},
		BackendConfig{Name: "second", Kind: KindOllama, URL: second.OllamaURL(), Model: "m2"},
		BackendConfig{Name: "third", Kind: KindOpenAI, URL: third.URL(), Model: "m3"}))
	req := sampleRequest()

	ans, err := askAnswer(s, context.Background(), req)
	if err != nil || ans.Backend != "first" || ans.Model != "m1" {
		t.Fatalf("all healthy: %+v %v, want first", ans, err)
	}
	first.SetFault(mockllm.FaultEmptyChoices)
	ans, err = askAnswer(s, context.Background(), req)
	if err != nil || ans.Backend != "second" || ans.Degraded {
		t.Fatalf("first broken: %+v %v, want second", ans, err)
	}
	second.SetFault(mockllm.FaultErrorBody)
	ans, err = askAnswer(s, context.Background(), req)
	if err != nil || ans.Backend != "third" || ans.Degraded {
		t.Fatalf("first two broken: %+v %v, want third", ans, err)
	}
	third.SetFault(mockllm.FaultMalformedJSON)
	ans, err = askAnswer(s, context.Background(), req)
	if err != nil || !ans.Degraded || ans.Backend != EmbeddedBackend {
		t.Fatalf("all broken: %+v %v, want embedded degraded", ans, err)
	}
	for _, want := range []string{"first: empty response", "second: error response", "third: malformed response"} {
		if !strings.Contains(ans.DegradedReason, want) {
			t.Fatalf("reason %q lacks %q", ans.DegradedReason, want)
		}
	}
	if i1, i2 := strings.Index(ans.DegradedReason, "first"), strings.Index(ans.DegradedReason, "second"); i1 > i2 {
		t.Fatalf("reasons out of order: %q", ans.DegradedReason)
	}
}

func TestUnusableResponsesAreFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		kind   Kind
		fault  mockllm.Fault
		answer string
		reason string
	}{
		{"openai malformed", KindOpenAI, mockllm.FaultMalformedJSON, "", "malformed response"},
		{"openai empty choices", KindOpenAI, mockllm.FaultEmptyChoices, "", "empty response"},
		{"openai error body", KindOpenAI, mockllm.FaultErrorBody, "", "error response"},
		{"openai only think", KindOpenAI, mockllm.FaultNone, "<think>all reasoning, no answer</think>", "empty response"},
		{"ollama malformed", KindOllama, mockllm.FaultMalformedJSON, "", "malformed response"},
		{"ollama no message", KindOllama, mockllm.FaultEmptyChoices, "", "empty response"},
		{"ollama error body", KindOllama, mockllm.FaultErrorBody, "", "error response"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := startMock(t, mockllm.Options{Answer: tc.answer})
			m.SetFault(tc.fault)
			url := m.URL()
			if tc.kind == KindOllama {
				url = m.OllamaURL()
			}
			set := metrics.NewSet()
			s := startService(t, testOptions(newSystem(t), set, BackendConfig{Name: "be", Kind: tc.kind, URL: url, Model: "mock-small"}))
			req := sampleRequest()
			ans, err := askAnswer(s, context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if !ans.Degraded || ans.DegradedReason != "all backends failed: be: "+tc.reason {
				t.Fatalf("got degraded=%v reason %q, want %q", ans.Degraded, ans.DegradedReason, tc.reason)
			}
			assertExtractive(t, ans, req.Evidence)
			if set.GetOrCreateCounter(`sovereign_inference_requests_total{backend="be",outcome="bad_response"}`).Get() != 1 {
				t.Fatal("bad_response not counted")
			}
		})
	}
}

func TestThinkStripped(t *testing.T) {
	m := startMock(t, mockllm.Options{Answer: "<think>\nThe user wants colour physics. Secret plan.\n</think>\n\nThe sky is blue by scattering [notes/sky.txt]."})
	s := startService(t, testOptions(newSystem(t), metrics.NewSet(), BackendConfig{Name: "be", Kind: KindOpenAI, URL: m.URL(), Model: "mock-small"}))
	ans, err := askAnswer(s, context.Background(), sampleRequest())
	if err != nil {
		t.Fatal(err)
	}
	if ans.Text != "The sky is blue by scattering [notes/sky.txt]." {
		t.Fatalf("text %q", ans.Text)
	}
	if len(ans.Sentences) != 1 || ans.Sentences[0] != (Sentence{Text: "The sky is blue by scattering.", Source: "notes/sky.txt"}) {
		t.Fatalf("sentences %+v", ans.Sentences)
	}
}

func TestOverloadIsImmediate(t *testing.T) {
	m := startMock(t, mockllm.Options{Latency: 700 * time.Millisecond})
	set := metrics.NewSet()
	opts := testOptions(newSystem(t), set, BackendConfig{Name: "be", Kind: KindOpenAI, URL: m.URL(), Model: "mock-small"})
	opts.MaxInFlight = 1
	s := startService(t, opts)
	var wg sync.WaitGroup
	wg.Go(func() {
		if ans, err := askAnswer(s, context.Background(), sampleRequest()); err != nil || ans.Degraded {
			t.Errorf("first call: %+v %v", ans, err)
		}
	})
	waitFor(t, "first call in flight", 2*time.Second, func() bool { return m.Active() == 1 })
	start := time.Now()
	ans, err := askAnswer(s, context.Background(), sampleRequest())
	if err != nil || !ans.Degraded || !strings.Contains(ans.DegradedReason, "be: overloaded") {
		t.Fatalf("second call %+v %v, want degraded overloaded", ans, err)
	}
	if d := time.Since(start); d > 200*time.Millisecond {
		t.Fatalf("overload answer took %v", d)
	}
	wg.Wait()
	if set.GetOrCreateCounter(`sovereign_inference_requests_total{backend="be",outcome="overloaded"}`).Get() != 1 {
		t.Fatal("overload not counted")
	}
	// Overload is not the backend's failure: the circuit stays closed.
	if c := s.Status()[0].Circuit; c != "closed" {
		t.Fatalf("circuit %s", c)
	}
}

func TestEmbeddedOnlyService(t *testing.T) {
	set := metrics.NewSet()
	s := startService(t, testOptions(newSystem(t), set))
	ans, err := askAnswer(s, context.Background(), sampleRequest())
	if err != nil || ans.Degraded || ans.Backend != EmbeddedBackend {
		t.Fatalf("%+v %v", ans, err)
	}
	assertExtractive(t, ans, sampleRequest().Evidence)
	req := sampleRequest()
	req.Evidence = nil
	_, err = askAnswer(s, context.Background(), req)
	if !errors.Is(err, ErrNoEvidence) || catalog.Lookup(err).Code != "NO_EVIDENCE" {
		t.Fatalf("err %v, want NO_EVIDENCE", err)
	}
	if b, m, st := s.Primary(); b != EmbeddedBackend || m != EmbeddedModel || st != StatusDegraded {
		t.Fatalf("primary %s %s %s", b, m, st)
	}
	if s.Available() || len(s.Status()) != 0 {
		t.Fatal("no external backend should be available")
	}
	if _, err := askDecompose(s, context.Background(), "a and b", 3); !errors.Is(err, ErrNoModel) {
		t.Fatalf("decompose without model: %v", err)
	}
	_, err = askAnswer(s, context.Background(), Request{Query: "  "})
	if !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("empty query: %v", err)
	}
	if set.GetOrCreateCounter(`sovereign_inference_requests_total{backend="embedded",outcome="success"}`).Get() != 1 {
		t.Fatal("embedded success not counted")
	}
}

func TestDegradedWithoutEvidence(t *testing.T) {
	m := startMock(t, mockllm.Options{})
	s := startService(t, testOptions(newSystem(t), metrics.NewSet(), BackendConfig{Name: "be", Kind: KindOpenAI, URL: m.URL(), Model: "mock-small"}))
	req := sampleRequest()
	req.Evidence = nil
	ans, err := askAnswer(s, context.Background(), req)
	if err != nil || ans.Backend != "be" {
		t.Fatalf("model answers without evidence: %+v %v", ans, err)
	}
	m.SetFault(mockllm.FaultErrorBody)
	ans, err = askAnswer(s, context.Background(), req)
	if !errors.Is(err, ErrNoEvidence) || !ans.Degraded || !strings.HasPrefix(ans.DegradedReason, "all backends failed") {
		t.Fatalf("%+v %v, want NO_EVIDENCE with degraded reason", ans, err)
	}
}

func TestDecompose(t *testing.T) {
	m := startMock(t, mockllm.Options{})
	s := startService(t, testOptions(newSystem(t), metrics.NewSet(), BackendConfig{Name: "be", Kind: KindOllama, URL: m.OllamaURL(), Model: "mock-small"}))
	subs, err := askDecompose(s, context.Background(), "What is Rayleigh scattering and why is the sky blue, and what about sunsets?", 2)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"What is Rayleigh scattering?", "why is the sky blue?"}
	if strings.Join(subs, "|") != strings.Join(want, "|") {
		t.Fatalf("sub-questions %q, want %q", subs, want)
	}
	rec, _ := m.LastRequest()
	if !strings.Contains(rec.Messages[0].Content, "at most 2 self-contained sub-questions") {
		t.Fatalf("decompose prompt %q", rec.Messages[0].Content)
	}
	if _, err := askDecompose(s, context.Background(), "q", 0); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("max 0: %v", err)
	}
	m.SetDown(mockllm.Down503)
	if _, err := askDecompose(s, context.Background(), "a and b", 2); !errors.Is(err, ErrNoModel) {
		t.Fatalf("down: %v", err)
	}
}

// asker is an actor that uses the message API as the query worker will.
type asker struct {
	svc   *actor.PID
	reply chan<- any
}

func (a *asker) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *Ask:
		f := ctx.RequestFuture(a.svc, m, 5*time.Second)
		ctx.ReenterAfter(f, func(res any, err error) {
			if err != nil {
				a.reply <- err
				return
			}
			a.reply <- res
		})
	}
}

func TestMessageAPI(t *testing.T) {
	m := startMock(t, mockllm.Options{})
	sys := newSystem(t)
	s := startService(t, testOptions(sys, metrics.NewSet(), BackendConfig{Name: "be", Kind: KindOpenAI, URL: m.URL(), Model: "mock-small"}))
	replies := make(chan any, 1)
	pid := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return &asker{svc: s.PID(), reply: replies} }))
	t.Cleanup(func() { _ = sys.Root.PoisonFuture(pid).Wait() })
	sys.Root.Send(pid, &Ask{Request: sampleRequest()})
	select {
	case r := <-replies:
		a, ok := r.(*Answered)
		if !ok || a.Err != nil || a.Answer.Backend != "be" || a.ID == 0 {
			t.Fatalf("reply %#v", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no reply")
	}
}

func TestShutdownIdempotentAndStops(t *testing.T) {
	m := startMock(t, mockllm.Options{Latency: 5 * time.Second})
	sys := newSystem(t)
	s, err := New(testOptions(sys, metrics.NewSet(), BackendConfig{Name: "be", Kind: KindOpenAI, URL: m.URL(), Model: "mock-small"}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := askAnswer(s, context.Background(), sampleRequest()); !errors.Is(err, ErrStopped) {
		t.Fatalf("before start: %v", err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err == nil {
		t.Fatal("second Start succeeded")
	}
	errc := make(chan error, 1)
	go func() { _, err := askAnswer(s, context.Background(), sampleRequest()); errc <- err }()
	waitFor(t, "call in flight", 2*time.Second, func() bool { return m.Active() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := s.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("shutdown with a call in flight past its ctx: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("shutdown took %v", d)
	}
	t.Logf("shutdown returned after %v", time.Since(start))
	if err := <-errc; err == nil {
		t.Fatal("in-flight call succeeded after a forced shutdown")
	}
	if err := s.Shutdown(context.Background()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second shutdown: %v", err)
	}
	if _, err := askAnswer(s, context.Background(), sampleRequest()); !errors.Is(err, ErrStopped) {
		t.Fatalf("after shutdown: %v", err)
	}
	waitFor(t, "mock idle", time.Second, func() bool { return m.Active() == 0 })
	t.Logf("end after %v", time.Since(start))
}

func TestNewValidates(t *testing.T) {
	sys := newSystem(t)
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"no system", Options{}},
		{"bad name", Options{System: sys, Config: Config{Backends: []BackendConfig{{Name: "Bad Name", Kind: KindOpenAI, URL: "http://x"}}}}},
		{"dup name", Options{System: sys, Config: Config{Backends: []BackendConfig{
			{Name: "a", Kind: KindOpenAI, URL: "http://x"}, {Name: "a", Kind: KindOpenAI, URL: "http://y"}}}}},
		{"bad kind", Options{System: sys, Config: Config{Backends: []BackendConfig{{Name: "a", Kind: "grpc", URL: "http://x"}}}}},
		{"bad url", Options{System: sys, Config: Config{Backends: []BackendConfig{{Name: "a", Kind: KindOpenAI, URL: "ftp://x"}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.opts); !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("err %v", err)
			}
		})
	}
}
