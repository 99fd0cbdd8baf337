package inference

import (
	"context"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/bizra/bizra/actors/inference/mockllm"
)

// TestFaultInferencePipelineFallback: the router's fallback follows the pass-through's
// policy. A 400, 413 or 422 means the request itself is invalid: no other external
// backend is asked and the embedded engine answers, degraded. A 429 is not retried on
// the same backend and falls back; a 401 or 404 (this backend's key or model) falls
// back; a 5xx is retried on the same backend, then falls back.
func TestFaultInferencePipelineFallback(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		firstCalls int  // requests the first backend got
		second     bool // the second backend was asked (and answered)
	}{
		{"400 invalid request", 400, 1, false},
		{"413 too large", 413, 1, false},
		{"422 unprocessable", 422, 1, false},
		{"429 busy", 429, 1, true},
		{"401 this backend's key", 401, 1, true},
		{"404 this backend's model", 404, 1, true},
		{"500 retried then next", 500, 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first := startMock(t, mockllm.Options{})
			second := startMock(t, mockllm.Options{Answer: "Blue light scatters most [physics/rayleigh.md]."})
			first.SetError("/v1/chat/completions", mockllm.ErrorReply{Status: tt.status, Message: "refused", Type: "invalid_request_error", RetryAfter: "1"})
			opts := testOptions(newSystem(t), metrics.NewSet(),
				BackendConfig{Name: "first", Kind: KindOpenAI, URL: first.URL(), Model: "mock-small"},
				BackendConfig{Name: "second", Kind: KindOpenAI, URL: second.URL(), Model: "mock-small"})
			opts.ProbeInterval = time.Hour
			opts.Retry = Retry{Min: time.Millisecond, Max: 2 * time.Millisecond, Attempts: 2}
			s := startService(t, opts)
			ans, err := askAnswer(s, context.Background(), sampleRequest())
			if err != nil {
				t.Fatal(err)
			}
			if got := len(first.Requests()); got != tt.firstCalls {
				t.Fatalf("the first backend got %d requests, want %d", got, tt.firstCalls)
			}
			asked := len(second.Requests()) > 0
			if asked != tt.second {
				t.Fatalf("second backend asked: %v, want %v", asked, tt.second)
			}
			if tt.second && (ans.Backend != "second" || ans.Degraded) {
				t.Fatalf("answer %+v, want the second backend's", ans)
			}
			if !tt.second && (ans.Backend != EmbeddedBackend || !ans.Degraded) {
				t.Fatalf("answer %+v, want the embedded engine's, degraded", ans)
			}
			if st := s.backends[0].breaker.State().String(); tt.status < 500 && st != "closed" {
				t.Fatalf("a %d moved the circuit to %s", tt.status, st)
			}
		})
	}
}
