package openai

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/bizra/bizra/actors/inference/mockllm"
)

// respEventsOf reads a Responses stream: the event names in order, each checked to
// match its payload's type and sequence number, and the payloads.
func respEventsOf(t *testing.T, b []byte) ([]string, []map[string]any) {
	t.Helper()
	var names []string
	var payloads []map[string]any
	for _, block := range strings.Split(strings.TrimSpace(string(b)), "\n\n") {
		lines := strings.Split(block, "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "event: ") || !strings.HasPrefix(lines[1], "data: ") {
			t.Fatalf("not an event: %q", block)
		}
		name := strings.TrimPrefix(lines[0], "event: ")
		var p map[string]any
		if err := json.Unmarshal([]byte(strings.TrimPrefix(lines[1], "data: ")), &p); err != nil {
			t.Fatal(err)
		}
		if p["type"] != name {
			t.Fatalf("event %s carries type %v", name, p["type"])
		}
		if seq, ok := p["sequence_number"].(float64); ok && int(seq) != len(names) {
			t.Fatalf("event %d has sequence_number %v", len(names), seq)
		}
		names = append(names, name)
		payloads = append(payloads, p)
	}
	return names, payloads
}

var streamedShape = []string{"response.created", "response.in_progress", "response.output_item.added",
	"response.content_part.added"}

// TestResponses: /v1/responses is passed through when the backend offers it, else
// translated to chat completions (text in and out, streamed with the Responses API's
// events); the bizra model is translated to its pipeline.
func TestResponses(t *testing.T) {
	e, fb := frontEnv(t)
	c := client(t)
	tests := []struct {
		name, body   string
		text, status string
		chatBody     string // what the backend's chat completions got ("" when passed through)
	}{
		{"native", `{"model":"native","input":"hi"}`, "native answer", "completed", ""},
		{"translated", `{"model":"mock-small","instructions":"be brief","input":[{"role":"user","content":[{"type":"input_text","text":"weather?"}]}],"max_output_tokens":50,"temperature":0.5}`,
			weatherAnswer, "completed", `{"max_tokens":50,"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"weather?"}],"model":"mock-small","temperature":0.5}`},
		{"translated json", `{"model":"mock-small","input":"city?","text":{"format":{"type":"json_schema","name":"city","schema":{"type":"object"},"strict":true}}}`,
			structured, "completed", `{"messages":[{"role":"user","content":"city?"}],"model":"mock-small","response_format":{"json_schema":{"description":"","name":"city","schema":{"type":"object"},"strict":true},"type":"json_schema"}}`},
		{"bizra", `{"model":"bizra","input":"Why is the sky blue?"}`, fullAnswer, "completed", ""},
		{"bizra cut", `{"model":"bizra","input":"Why is the sky blue?","max_output_tokens":8}`, "Rayleigh scattering makes the", "incomplete", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := len(fb.requests())
			resp, b := e.do(t, c, "POST", "/v1/responses", tt.body, nil)
			if resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, b)
			}
			var r Response
			if err := json.Unmarshal(b, &r); err != nil || r.Object != "response" || r.Status != tt.status || len(r.Output) != 1 ||
				len(r.Output[0].Content) != 1 || r.Output[0].Content[0].Text != tt.text {
				t.Fatalf("%s (%v)", b, err)
			}
			if tt.status == "incomplete" && (r.IncompleteDetails == nil || r.IncompleteDetails.Reason != "max_output_tokens") {
				t.Fatalf("incomplete without the reason: %s", b)
			}
			if r.Usage == nil || r.Usage.TotalTokens != r.Usage.InputTokens+r.Usage.OutputTokens {
				t.Fatalf("usage: %s", b)
			}
			if tt.chatBody != "" {
				reqs := fb.requests()[n:]
				if len(reqs) != 2 || reqs[0].Path != "/v1/responses" || reqs[1].Path != "/v1/chat/completions" || string(reqs[1].Body) != tt.chatBody {
					t.Fatalf("backend calls %+v", reqs)
				}
			}
		})
	}
}

// TestResponsesStreamed: a translated stream and the bizra model's answer stream in
// the Responses API's event order, the deltas adding up to the text of the final
// response.completed.
func TestResponsesStreamed(t *testing.T) {
	e, _ := frontEnv(t)
	c := client(t)
	for _, tt := range []struct{ model, text string }{{"mock-small", weatherAnswer}, {"bizra", fullAnswer}} {
		t.Run(tt.model, func(t *testing.T) {
			resp, b := e.do(t, c, "POST", "/v1/responses", `{"model":"`+tt.model+`","input":"Why is the sky blue?","stream":true}`, nil)
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
				t.Fatalf("%d %s", resp.StatusCode, b)
			}
			names, ps := respEventsOf(t, b)
			if len(names) < 9 || strings.Join(names[:4], ",") != strings.Join(streamedShape, ",") ||
				strings.Join(names[len(names)-4:], ",") != "response.output_text.done,response.content_part.done,response.output_item.done,response.completed" {
				t.Fatalf("events %v", names)
			}
			var text strings.Builder
			for i, n := range names {
				if n == "response.output_text.delta" {
					text.WriteString(ps[i]["delta"].(string))
				}
			}
			final, _ := json.Marshal(ps[len(ps)-1]["response"])
			var r Response
			if err := json.Unmarshal(final, &r); err != nil || text.String() != tt.text || r.Output[0].Content[0].Text != tt.text || r.Status != "completed" || r.Usage == nil {
				t.Fatalf("deltas %q, final %s", text.String(), final)
			}
		})
	}
	t.Run("native", func(t *testing.T) {
		resp, b := e.do(t, c, "POST", "/v1/responses", `{"model":"native","input":"hi","stream":true}`, nil)
		names, _ := respEventsOf(t, b)
		// the backend's own events, unchanged: no [DONE] (the Responses API has none)
		if resp.StatusCode != 200 || len(names) < 2 || names[0] != "response.created" || names[len(names)-1] != "response.completed" ||
			!bytes.Contains(b, []byte(`"native answer"`)) || bytes.Contains(b, []byte("[DONE]")) {
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
	})
}

// TestFaultResponsesStreamBreaks: a backend that fails mid-stream ends a translated
// Responses stream with an error event and response.failed, not response.completed.
func TestFaultResponsesStreamBreaks(t *testing.T) {
	e, _ := frontEnv(t)
	e.mock.SetFault(mockllm.FaultBreakStream) // the connection breaks after two events
	c := client(t)
	resp, b := e.do(t, c, "POST", "/v1/responses", `{"model":"mock-small","input":"hi","stream":true}`, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	names, ps := respEventsOf(t, b)
	if len(names) < 2 || names[len(names)-2] != "error" || names[len(names)-1] != "response.failed" {
		t.Fatalf("events %v", names)
	}
	if ps[len(ps)-2]["code"] != "backend_error" || strings.Contains(string(b), "inference:") {
		t.Fatalf("error event %v", ps[len(ps)-2])
	}
}
