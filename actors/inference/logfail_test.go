package inference

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/bizra/bizra/actors/inference/mockllm"
)

// logSink collects JSON log records.
type logSink struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

// failures returns the "inference backend failed" records as "backend status decision
// [next]" lines, checking each one's level and duration_ms.
func (s *logSink) failures(t *testing.T) []string {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for line := range strings.SplitSeq(strings.TrimSpace(s.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["msg"] != "inference backend failed" {
			continue
		}
		if rec["level"] != "WARN" {
			t.Errorf("level %v in %s", rec["level"], line)
		}
		if d, ok := rec["duration_ms"].(float64); !ok || d < 0 {
			t.Errorf("duration_ms %v in %s", rec["duration_ms"], line)
		}
		if _, ok := rec["reason"].(string); !ok {
			t.Errorf("no reason in %s", line)
		}
		l := fmt.Sprintf("%v %v %v", rec["backend"], rec["status"], rec["decision"])
		if n, ok := rec["next"]; ok {
			l += fmt.Sprintf(" %v", n)
		}
		out = append(out, l)
	}
	return out
}

// TestBackendFailuresLogged: every failed backend exchange is logged once, at WARN,
// with the backend, the status, the retry decision (retried, fell back with the next
// backend, final) and duration_ms: pass-through, pipeline and a stream broken mid-way.
func TestBackendFailuresLogged(t *testing.T) {
	chat := "/v1/chat/completions"
	cases := []struct {
		name  string
		setup func(a, b *mockllm.Server)
		run   func(t *testing.T, s *Service) error
		want  []string
	}{
		{"5xx retried, then the next backend", func(a, b *mockllm.Server) {
			a.SetError(chat, mockllm.ErrorReply{Status: 500, Message: "boom"})
		}, forwardChat, []string{"a 500 retried", "a 500 fell back b"}},
		{"429 falls back without a retry", func(a, b *mockllm.Server) {
			a.SetError(chat, mockllm.ErrorReply{Status: 429, Message: "slow", RetryAfter: "7"})
		}, forwardChat, []string{"a 429 fell back b"}},
		{"400 is final", func(a, b *mockllm.Server) {
			a.SetError(chat, mockllm.ErrorReply{Status: 400, Message: "bad key sk-live1234567890abcdef", Param: "tools"})
		}, forwardChat, []string{"a 400 final"}},
		{"both fail: the last one is final", func(a, b *mockllm.Server) {
			a.SetError(chat, mockllm.ErrorReply{Status: 503, Message: "down"})
			b.SetError(chat, mockllm.ErrorReply{Status: 429, Message: "busy"})
		}, forwardChat, []string{"a 503 retried", "a 503 fell back b", "b 429 final"}},
		{"pipeline: 5xx retried, then the next backend", func(a, b *mockllm.Server) {
			a.SetError(chat, mockllm.ErrorReply{Status: 502, Message: "gateway"})
		}, pipelineAnswer, []string{"a 502 retried", "a 502 fell back b"}},
		{"pipeline: both fail, the embedded engine answers", func(a, b *mockllm.Server) {
			a.SetError(chat, mockllm.ErrorReply{Status: 401, Message: "key"})
			b.SetError(chat, mockllm.ErrorReply{Status: 500, Message: "boom"})
		}, pipelineAnswer, []string{"a 401 fell back b", "b 500 retried", "b 500 fell back embedded"}},
		{"stream broken mid-way is final", func(a, b *mockllm.Server) {
			a.SetFault(mockllm.FaultBreakStream)
		}, forwardStreamChat, []string{"a 0 final"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := startMock(t, mockllm.Options{Models: []string{"m"}})
			b := startMock(t, mockllm.Options{Models: []string{"m"}})
			sink := &logSink{}
			opts := testOptions(newSystem(t), metrics.NewSet(),
				BackendConfig{Name: "a", Kind: KindOpenAI, URL: a.URL(), Model: "m"},
				BackendConfig{Name: "b", Kind: KindOpenAI, URL: b.URL(), Model: "m"})
			opts.Retry.Attempts = 2
			opts.ProbeInterval = time.Minute
			opts.Logger = slog.New(slog.NewJSONHandler(sink, &slog.HandlerOptions{Level: slog.LevelDebug}))
			s := startService(t, opts)
			tc.setup(a, b)
			_ = tc.run(t, s) // the outcome is the other tests'; the log is this one's
			if got := sink.failures(t); !slices.Equal(got, tc.want) {
				t.Fatalf("failure log lines\n got %q\nwant %q", got, tc.want)
			}
			if strings.Contains(sink.buf.String(), "sk-live") {
				t.Fatalf("a secret from the backend's body reached the log: %s", sink.buf.String())
			}
		})
	}
}

func forwardChat(t *testing.T, s *Service) error {
	_, err := s.Forward(context.Background(), ForwardRequest{Path: "/v1/chat/completions", Model: "m",
		Body: forwardBody("/v1/chat/completions", "m", false, "")})
	return err
}

func forwardStreamChat(t *testing.T, s *Service) error {
	st, err := s.OpenForwardStream(context.Background(), ForwardRequest{Path: "/v1/chat/completions", Model: "m",
		Body: forwardBody("/v1/chat/completions", "m", true, ""), Stream: true})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer st.Close()
	for {
		if _, err := st.Next(); err != nil {
			if err == io.EOF {
				t.Fatal("the broken stream ended cleanly")
			}
			_ = st.Close() // the failure is settled (and logged) on Close
			return err
		}
	}
}

func pipelineAnswer(t *testing.T, s *Service) error {
	_, err := askAnswer(s, context.Background(), sampleRequest())
	return err
}
