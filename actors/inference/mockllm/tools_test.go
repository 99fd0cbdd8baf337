package mockllm

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

var weatherTool = map[string]any{"type": "function", "function": map[string]any{"name": "get_weather",
	"parameters": map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}}}}

var objTool = map[string]any{"type": "function", "function": map[string]any{"name": "weather",
	"parameters": map[string]any{"type": "object", "properties": map[string]any{
		"temp": map[string]any{"type": "number"}, "city": map[string]any{"type": "string"},
		"kind": map[string]any{"type": "string", "enum": []any{"sunny", "rain"}}, "tags": map[string]any{"type": "array", "items": map[string]any{"type": "string"}}}}}}

type chatAnswer struct {
	Choices []struct {
		FinishReason string `json:"finish_reason"`
		Message      struct {
			Content   *string `json:"content"`
			ToolCalls []struct {
				ID       string `json:"id"`
				Type     string `json:"type"`
				Function struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"message"`
	} `json:"choices"`
}

// TestToolsAndStructured: a chat request with tools gets a tool call (the named tool
// of tool_choice, else the first; arguments from ToolArguments, Structured, or the
// schema), after the tool's answer the text; response_format json_schema and
// json_object get a JSON object; content given as parts is read.
func TestToolsAndStructured(t *testing.T) {
	user := map[string]any{"role": "user", "content": "What is the weather in Paris?"}
	tests := []struct {
		name      string
		opts      Options
		body      map[string]any
		tool      string // "" → a text answer
		content   string // the text (or tool arguments)
		finishing string
	}{
		{"tool from ToolArguments", Options{ToolArguments: map[string]string{"get_weather": `{"city":"Paris"}`}},
			map[string]any{"messages": []any{user}, "tools": []any{weatherTool}}, "get_weather", `{"city":"Paris"}`, "tool_calls"},
		{"tool from the schema", Options{},
			map[string]any{"messages": []any{user}, "tools": []any{objTool}}, "weather", `{"city":"mock","kind":"sunny","tags":["mock"],"temp":1}`, "tool_calls"},
		{"named tool_choice gets Structured", Options{Structured: `{"x":1}`, ToolArguments: map[string]string{"get_weather": `{}`}},
			map[string]any{"messages": []any{user}, "tools": []any{weatherTool, objTool},
				"tool_choice": map[string]any{"type": "function", "function": map[string]any{"name": "weather"}}}, "weather", `{"x":1}`, "tool_calls"},
		{"tool_choice none", Options{Answer: "text"},
			map[string]any{"messages": []any{user}, "tools": []any{weatherTool}, "tool_choice": "none"}, "", "text", "stop"},
		{"after the tool answered", Options{Answer: "It is sunny."},
			map[string]any{"messages": []any{user,
				map[string]any{"role": "assistant", "content": nil, "tool_calls": []any{map[string]any{"id": "c1", "type": "function", "function": map[string]any{"name": "get_weather", "arguments": "{}"}}}},
				map[string]any{"role": "tool", "tool_call_id": "c1", "content": "sunny"}}, "tools": []any{weatherTool}}, "", "It is sunny.", "stop"},
		{"json_schema", Options{Structured: `{"city":"Paris"}`},
			map[string]any{"messages": []any{user}, "response_format": map[string]any{"type": "json_schema",
				"json_schema": map[string]any{"name": "w", "schema": map[string]any{"type": "object"}}}}, "", `{"city":"Paris"}`, "stop"},
		{"json_object from an empty schema", Options{},
			map[string]any{"messages": []any{user}, "response_format": map[string]any{"type": "json_object"}}, "", `{}`, "stop"},
		{"content parts", Options{},
			map[string]any{"messages": []any{map[string]any{"role": "user", "content": []any{
				map[string]any{"type": "text", "text": "hello "}, map[string]any{"type": "text", "text": "there"}}}}}, "", "No evidence was given for: hello there", "stop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := start(t, tt.opts)
			c := client(t)
			tt.body["model"] = "mock-small"
			resp, b := post(t, c, s.URL()+"/chat/completions", tt.body)
			if resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, b)
			}
			var a chatAnswer
			if err := json.Unmarshal(b, &a); err != nil || len(a.Choices) != 1 {
				t.Fatalf("%s (%v)", b, err)
			}
			ch := a.Choices[0]
			if ch.FinishReason != tt.finishing {
				t.Fatalf("finish %q in %s", ch.FinishReason, b)
			}
			if tt.tool != "" {
				if len(ch.Message.ToolCalls) != 1 || ch.Message.Content != nil {
					t.Fatalf("no single tool call: %s", b)
				}
				tc := ch.Message.ToolCalls[0]
				if tc.ID == "" || tc.Type != "function" || tc.Function.Name != tt.tool || tc.Function.Arguments != tt.content {
					t.Fatalf("tool call %+v", tc)
				}
				return
			}
			if ch.Message.Content == nil || *ch.Message.Content != tt.content || len(ch.Message.ToolCalls) != 0 {
				t.Fatalf("answer %s", b)
			}
		})
	}
}

// TestToolCallStreamed: a streamed tool call is one tool_calls delta, then the finish
// chunk "tool_calls" with usage, then [DONE].
func TestToolCallStreamed(t *testing.T) {
	s := start(t, Options{ToolArguments: map[string]string{"get_weather": `{"city":"Paris"}`}})
	c := client(t)
	b, _ := json.Marshal(map[string]any{"model": "mock-small", "stream": true, "tools": []any{weatherTool},
		"messages": []any{map[string]any{"role": "user", "content": "weather?"}}})
	resp, err := c.Post(s.URL()+"/chat/completions", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var datas []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			datas = append(datas, d)
		}
	}
	if len(datas) != 4 || datas[3] != "[DONE]" || !strings.Contains(datas[1], `"arguments":"{\"city\":\"Paris\"}"`) ||
		!strings.Contains(datas[1], `"name":"get_weather"`) || !strings.Contains(datas[2], `"finish_reason":"tool_calls"`) ||
		!strings.Contains(datas[2], `"usage"`) {
		t.Fatalf("events %q", datas)
	}
}

// TestModelErrorsAndPathAnswers: an error reply limited to a model reaches only that
// model's requests, on every path; PathAnswers keep their leading space when cut and
// streamed; a disabled path records the request it refused.
func TestModelErrorsAndPathAnswers(t *testing.T) {
	s := start(t, Options{Models: []string{"mock-small", "bad"}, PathAnswers: map[string]string{"/v1/completions": " sunny day"}})
	c := client(t)
	s.SetError("", ErrorReply{Model: "bad", Status: 400, Message: "Invalid schema for function get_weather", Type: "invalid_request_error",
		Param: "tools[0].function.parameters", Code: "invalid_function_parameters"})
	s.SetError("", ErrorReply{Status: 429, Message: "busy", Type: "rate_limit_error", RetryAfter: "7", Count: 1})
	tests := []struct {
		path, model string
		status      int
		want        string
	}{
		{"/chat/completions", "bad", 400, `"param":"tools[0].function.parameters"`},
		{"/embeddings", "bad", 400, `"code":"invalid_function_parameters"`},
		{"/chat/completions", "mock-small", 429, `"busy"`},
		{"/chat/completions", "mock-small", 200, `"chat.completion"`},
		{"/completions", "mock-small", 200, `"text":" sunny"`},
	}
	for i, tt := range tests {
		body := map[string]any{"model": tt.model, "messages": msgs(), "input": "x", "prompt": "x", "max_tokens": 1}
		resp, b := post(t, c, s.URL()+tt.path, body)
		if resp.StatusCode != tt.status || !strings.Contains(string(b), tt.want) {
			t.Fatalf("%d %s %s: %d %s", i, tt.path, tt.model, resp.StatusCode, b)
		}
	}
	if got := strings.Join(pieces(" sunny day\n now"), "|"); got != " sunny| day|\n now" {
		t.Fatalf("pieces %q", got)
	}
	s.Disable("/v1/responses")
	if resp, _ := post(t, c, s.URL()+"/responses", map[string]any{"model": "mock-small", "input": "x"}); resp.StatusCode != 404 {
		t.Fatalf("disabled: %d", resp.StatusCode)
	}
	if rec, ok := s.LastRequest(); !ok || rec.Path != "/v1/responses" || rec.Model != "mock-small" {
		t.Fatalf("last request %+v", rec)
	}
}
