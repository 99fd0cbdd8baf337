package openai

import (
	"net/http"
	"strings"
	"testing"
)

// TestBizraCarriesTraceparent: the bizra model's pipeline runs in the client's trace
// on both chat completions and responses; an invalid traceparent is ignored.
func TestBizraCarriesTraceparent(t *testing.T) {
	e := newEnv(t, envOpts{})
	c := client(t)
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	tests := []struct {
		name, path, body, header, want string
	}{
		{"chat", "/v1/chat/completions", `{"model":"bizra","messages":[{"role":"user","content":"why is the sky blue?"}]}`, tp, tp},
		{"responses", "/v1/responses", `{"model":"bizra","input":"why is the sky blue?"}`, tp, tp},
		{"invalid ignored", "/v1/chat/completions", `{"model":"bizra","messages":[{"role":"user","content":"why is the sky blue?"}]}`, "00-zz", ""},
		{"absent", "/v1/chat/completions", `{"model":"bizra","messages":[{"role":"user","content":"why?"}]}`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, e.base+tt.path, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			if tt.header != "" {
				req.Header.Set("traceparent", tt.header)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			got := ""
			if p := e.core.trace.Load(); p != nil {
				got = *p
			}
			if got != tt.want {
				t.Errorf("pipeline saw traceparent %q, want %q", got, tt.want)
			}
		})
	}
}
