package openai

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/bizra/bizra/actors/inference/mockllm"
)

const weatherTool = `"tools":[{"type":"function","function":{"name":"get_weather","description":"The weather in a city","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]`

// TestBizraToolsThroughCapableBackend: with a tool-capable backend (BackendConfig.Tools)
// the bizra model hands tools and response_format to it, with the pipeline's evidence
// in a system message put first, and answers with the backend's tool call or
// structured content, "model": "bizra", the extension and a receipt; without one (or
// with logprobs, which no backend gets) the refusal names the parameter.
func TestBizraToolsThroughCapableBackend(t *testing.T) {
	cases := []struct {
		name      string
		tools     bool
		listed    bool // the backend lists its models as taking tools instead
		body      string
		wantParam string // a 400 naming it; "" for an answer
		check     func(t *testing.T, msg map[string]any)
	}{
		{"tool call", true, false, `"messages":[{"role":"user","content":"What is the weather in Paris?"}],` + weatherTool, "",
			func(t *testing.T, msg map[string]any) {
				calls, _ := msg["tool_calls"].([]any)
				if len(calls) != 1 || !strings.Contains(mustJSON(t, calls[0]), `"get_weather"`) || !strings.Contains(mustJSON(t, calls[0]), `Paris`) {
					t.Fatalf("tool calls %s", mustJSON(t, msg))
				}
			}},
		{"structured output", true, false, `"messages":[{"role":"user","content":"Weather in Paris as an object"}],"response_format":{"type":"json_schema","json_schema":{"name":"weather","schema":{"type":"object","properties":{"city":{"type":"string"},"temperature_c":{"type":"number"}},"required":["city","temperature_c"]}}}`, "",
			func(t *testing.T, msg map[string]any) {
				var obj map[string]any
				if err := json.Unmarshal([]byte(msg["content"].(string)), &obj); err != nil || obj["city"] != "Paris" {
					t.Fatalf("content %v (%v)", msg["content"], err)
				}
			}},
		{"capability from the model listing", false, true, `"messages":[{"role":"user","content":"What is the weather in Paris?"}],` + weatherTool, "",
			func(t *testing.T, msg map[string]any) {
				if calls, _ := msg["tool_calls"].([]any); len(calls) != 1 {
					t.Fatalf("tool calls %s", mustJSON(t, msg))
				}
			}},
		{"no capable backend: refused", false, false, `"messages":[{"role":"user","content":"What is the weather?"}],` + weatherTool, "tools", nil},
		{"logprobs stay refused", true, false, `"messages":[{"role":"user","content":"What is the weather?"}],"logprobs":true,` + weatherTool, "logprobs", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mo := mockllm.Options{ToolArguments: map[string]string{"get_weather": `{"city":"Paris"}`},
				Structured: `{"city":"Paris","temperature_c":21}`}
			if tc.listed {
				mo.ToolModels = []string{"mock-small", "mock-large"}
			}
			e := newEnv(t, envOpts{tools: tc.tools, mock: mo})
			if tc.tools || tc.listed {
				waitFor(t, "tool model discovered", 5*time.Second, func() bool { _, ok := e.inf.ToolModel(); return ok })
			}
			resp, b := e.post(t, client(t), `{"model":"bizra",`+tc.body+`}`, "")
			if tc.wantParam != "" {
				if resp.StatusCode != 400 {
					t.Fatalf("status %d: %s", resp.StatusCode, b)
				}
				if p := openAIError(t, b).Param; p == nil || *p != tc.wantParam {
					t.Fatalf("param %v, want %s: %s", p, tc.wantParam, b)
				}
				return
			}
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, b)
			}
			var out struct {
				Model   string `json:"model"`
				Choices []struct {
					Message map[string]any `json:"message"`
				} `json:"choices"`
				Usage Usage      `json:"usage"`
				Bizra *Extension `json:"bizra"`
			}
			if err := json.Unmarshal(b, &out); err != nil || len(out.Choices) != 1 {
				t.Fatalf("%s: %v", b, err)
			}
			tc.check(t, out.Choices[0].Message)
			if out.Model != ModelID || out.Bizra == nil || len(out.Bizra.Sources) == 0 || out.Bizra.Receipt == nil {
				t.Fatalf("model %q, extension %+v", out.Model, out.Bizra)
			}
			if resp.Header.Get("X-Bizra-Receipt") == "" || out.Usage.TotalTokens == 0 {
				t.Fatalf("receipt %q, usage %+v", resp.Header.Get("X-Bizra-Receipt"), out.Usage)
			}
			// the backend got the client's parameters and the evidence, first
			rec := e.mock.Requests()
			last := rec[len(rec)-1]
			if len(last.Messages) < 2 || last.Messages[0].Role != "system" || !strings.Contains(last.Messages[0].Content, "[docs/sky.md]") {
				t.Fatalf("backend messages %+v", last.Messages)
			}
			if !strings.Contains(string(last.Body), `"tools"`) && !strings.Contains(string(last.Body), `"response_format"`) {
				t.Fatalf("backend body without the tool parameters: %s", last.Body)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
