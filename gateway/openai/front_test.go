package openai

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/bizra/bizra/actors/inference"
	"github.com/bizra/bizra/actors/inference/mockllm"
	"github.com/bizra/bizra/actors/query"
)

// fullAnswer is fakeCore's answer.
const fullAnswer = "Rayleigh scattering makes the sky blue [docs/sky.md]. Blue light scatters more than red light [docs/light.md]."

func (e *env) do(t testing.TB, c *http.Client, method, path, body string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, e.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer k-test")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// frontEnv is clientEnv (the real inference service over HTTP to the mocks) and the
// log of what the backends were asked.
func frontEnv(t *testing.T) (*env, backendLog) {
	e, native := clientEnv(t, false)
	return e, backendLog{e.mock, native}
}

// backendLog reads what the mock backends received, as pass-through requests (path,
// model, body and the forwarded headers), oldest first.
type backendLog []*mockllm.Server

func (l backendLog) requests() []ForwardRequest {
	var recs []mockllm.Recorded
	for _, m := range l {
		recs = append(recs, m.Requests()...)
	}
	slices.SortStableFunc(recs, func(a, b mockllm.Recorded) int { return a.At.Compare(b.At) })
	out := make([]ForwardRequest, 0, len(recs))
	for _, r := range recs {
		h := map[string]string{}
		for _, k := range []string{"traceparent", "tracestate", "X-Request-Id"} {
			if v := r.Headers.Get(k); v != "" {
				h[k] = v
			}
		}
		out = append(out, ForwardRequest{Path: r.Path, Model: r.Model, Body: r.Body, Stream: r.Stream, Headers: h})
	}
	return out
}

func (l backendLog) last() ForwardRequest {
	r := l.requests()
	if len(r) == 0 {
		return ForwardRequest{}
	}
	return r[len(r)-1]
}

// TestBizraConversationCacheKey: system and developer messages and earlier turns enter
// the query's context and so its result-cache key; the same conversation gives the
// same key, any difference another one.
func TestBizraConversationCacheKey(t *testing.T) {
	e, _ := frontEnv(t)
	c := client(t)
	const q = `{"role":"user","content":"Why is the sky blue?"}`
	bodies := []struct {
		name, msgs, extra string
	}{
		{"bare", q, ""},
		{"system A", `{"role":"system","content":"Answer as a pirate."},` + q, ""},
		{"system B", `{"role":"system","content":"Answer formally."},` + q, ""},
		{"developer A", `{"role":"developer","content":"Answer as a pirate."},` + q, ""},
		{"earlier turn", `{"role":"user","content":"Hello"},{"role":"assistant","content":"Hi"},` + q, ""},
		{"temperature", q, `,"temperature":0.3`},
		{"max_tokens", q, `,"max_tokens":20`},
	}
	keys := map[string]string{}
	for _, b := range bodies {
		for range 2 {
			resp, out := e.post(t, c, `{"model":"bizra","messages":[`+b.msgs+`]`+b.extra+`}`, "k-test")
			if resp.StatusCode != 200 {
				t.Fatalf("%s: %d %s", b.name, resp.StatusCode, out)
			}
			k, err := query.CacheKey(e.core.last.Load())
			if err != nil {
				t.Fatal(err)
			}
			if prev, ok := keys[b.name]; ok && prev != string(k[:]) {
				t.Fatalf("%s: the same conversation got two cache keys", b.name)
			}
			keys[b.name] = string(k[:])
		}
	}
	seen := map[string]string{}
	for name, k := range keys {
		if other, ok := seen[k]; ok {
			t.Fatalf("%s and %s share a cache key: one would get the other's cached answer", name, other)
		}
		seen[k] = name
	}
}

// TestBizraShapesAnswer: max_tokens cuts at a unit boundary with finish_reason
// "length" and usage counting what was sent; stop cuts before the first stop
// sequence with finish_reason "stop"; temperature is accepted.
func TestBizraShapesAnswer(t *testing.T) {
	e, _ := frontEnv(t)
	c := client(t)
	tests := []struct {
		name, extra, want, finish string
	}{
		{"whole", `"temperature":0.7`, fullAnswer, "stop"},
		{"max_tokens 8", `"max_tokens":8`, "Rayleigh scattering makes the", "length"},
		{"max_tokens 14 ends at the sentence", `"max_tokens":14`, "Rayleigh scattering makes the sky blue [docs/sky.md].", "length"},
		{"max_completion_tokens 3", `"max_completion_tokens":3`, "Rayleigh", "length"},
		{"max_tokens past the answer", `"max_tokens":1000`, fullAnswer, "stop"},
		{"stop", `"stop":"Blue"`, "Rayleigh scattering makes the sky blue [docs/sky.md]. ", "stop"},
		{"first of two stops", `"stop":["light","sky"]`, "Rayleigh scattering makes the ", "stop"},
		{"stop then max_tokens", `"stop":["Blue"],"max_tokens":4`, "Rayleigh", "length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := e.post(t, c, `{"model":"bizra","messages":[{"role":"user","content":"Why is the sky blue?"}],`+tt.extra+`}`, "k-test")
			if resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, b)
			}
			var got Completion
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			ch := got.Choices[0]
			if ch.Message.Content != tt.want || ch.FinishReason != tt.finish {
				t.Fatalf("got %q (%s); want %q (%s)", ch.Message.Content, ch.FinishReason, tt.want, tt.finish)
			}
			if got.Usage.CompletionTokens != estimateTokens(len(tt.want)) || got.Usage.TotalTokens != got.Usage.PromptTokens+got.Usage.CompletionTokens {
				t.Fatalf("usage %+v for %d bytes", got.Usage, len(tt.want))
			}
		})
	}
}

func TestUnitCut(t *testing.T) {
	tests := []struct {
		text string
		max  int
		want string
	}{
		{"one two three", 100, "one two three"},
		{"one two three", 9, "one two"},
		{"one two three", 7, "one two"},
		{"one two three", 6, "one"},
		{"one two three", 2, ""},
		{"Done. And more words here", 20, "Done. And more words"},
		{"A long sentence here. Next one", 28, "A long sentence here."},
		{"naïve café au lait", 8, "naïve"},
	}
	for _, tt := range tests {
		if got := unitCut(tt.text, tt.max); got != tt.want {
			t.Errorf("unitCut(%q, %d) = %q; want %q", tt.text, tt.max, got, tt.want)
		}
	}
}

// TestFaultBizraRefusesUnsupported: what the bizra model cannot do is refused with 400
// invalid_request_error naming the field, and the pipeline is not run.
func TestFaultBizraRefusesUnsupported(t *testing.T) {
	e, _ := frontEnv(t)
	c := client(t)
	tests := []struct {
		name, extra, param string
	}{
		{"tools", `"tools":[{"type":"function","function":{"name":"get_weather","parameters":{}}}]`, "tools"},
		{"tool_choice", `"tool_choice":"required"`, "tool_choice"},
		{"functions", `"functions":[{"name":"f"}]`, "functions"},
		{"json_schema", `"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{}}}`, "response_format"},
		{"json_object", `"response_format":{"type":"json_object"}`, "response_format"},
		{"n", `"n":2`, "n"},
		{"logprobs", `"logprobs":true`, "logprobs"},
		{"top_logprobs", `"top_logprobs":2`, "top_logprobs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.core.queries.Load()
			resp, b := e.post(t, c, `{"model":"bizra","messages":[{"role":"user","content":"q"}],`+tt.extra+`}`, "k-test")
			er := openAIError(t, b)
			if resp.StatusCode != 400 || er.Type != "invalid_request_error" || er.Param == nil || *er.Param != tt.param {
				t.Fatalf("%d %s", resp.StatusCode, b)
			}
			if e.core.queries.Load() != before {
				t.Fatal("the pipeline ran")
			}
		})
	}
	for _, ok := range []string{`"response_format":{"type":"text"}`, `"tool_choice":"none"`, `"tools":[]`, `"logprobs":false`} {
		resp, b := e.post(t, c, `{"model":"bizra","messages":[{"role":"user","content":"q"}],`+ok+`}`, "k-test")
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", ok, resp.StatusCode, b)
		}
	}
}

// TestFaultUpstreamErrorUnchanged: a backend's error answer reaches the client with its
// status, message, type, param, code and Retry-After, on every pass-through endpoint.
func TestFaultUpstreamErrorUnchanged(t *testing.T) {
	e, _ := frontEnv(t)
	c := client(t)
	paths := map[string]string{
		"/v1/chat/completions": `"messages":[{"role":"user","content":"hi"}]`,
		"/v1/embeddings":       `"input":"hi"`,
		"/v1/completions":      `"prompt":"hi"`,
		"/v1/responses":        `"input":"hi"`,
	}
	for path, rest := range paths {
		for _, stream := range []bool{false, true} {
			if stream && path == "/v1/embeddings" {
				continue
			}
			s := ""
			if stream {
				s = `,"stream":true`
			}
			resp, b := e.do(t, c, "POST", path, `{"model":"bad-tools",`+rest+s+`}`, nil)
			er := openAIError(t, b)
			if resp.StatusCode != 400 || er.Message != "Invalid schema for function get_weather" || er.Type != "invalid_request_error" ||
				er.Param == nil || *er.Param != "tools[0].function.parameters" || *er.Code != "invalid_function_parameters" {
				t.Fatalf("%s stream %v: %d %s", path, stream, resp.StatusCode, b)
			}
			resp, b = e.do(t, c, "POST", path, `{"model":"limited",`+rest+s+`}`, nil)
			er = openAIError(t, b)
			if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "7" || *er.Code != "rate_limit_exceeded" || er.Type != "rate_limit_error" {
				t.Fatalf("%s stream %v: %d %v %s", path, stream, resp.StatusCode, resp.Header, b)
			}
		}
	}
}

// TestPassThroughEndpoints: embeddings, completions (plain and streamed) and chat with
// n > 1 reach the backend with the client's body unchanged and traceparent and
// X-Request-Id forwarded; the backend's answer comes back unchanged.
func TestPassThroughEndpoints(t *testing.T) {
	e, fb := frontEnv(t)
	c := client(t)
	const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	hdr := map[string]string{"traceparent": tp, "X-Request-Id": "req-42"}
	embB, _ := json.Marshal(mockllm.Embed("b"))
	tests := []struct {
		name, path, body, want string
	}{
		{"embeddings", "/v1/embeddings", `{"model":"emb","input":["a","b"],"encoding_format":"float"}`, `"embedding":` + string(embB)},
		{"completions", "/v1/completions", `{"model":"mock-small","prompt":"The weather is","max_tokens":2}`, `"text":" sunny"`},
		{"completions streamed", "/v1/completions", `{"model":"mock-small","prompt":"The weather is","stream":true}`, "data: [DONE]"},
		{"chat n 2", "/v1/chat/completions", `{"model":"mock-small","messages":[{"role":"user","content":"hi"}],"n":2}`, `"index":1`},
		{"chat streamed", "/v1/chat/completions", `{"model":"mock-small","messages":[{"role":"user","content":"hi"}],"stream":true}`, "data: [DONE]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := e.do(t, c, "POST", tt.path, tt.body, hdr)
			if resp.StatusCode != 200 || !strings.Contains(string(b), tt.want) {
				t.Fatalf("%d %s", resp.StatusCode, b)
			}
			got := fb.last()
			if got.Path != tt.path || string(got.Body) != tt.body || got.Headers["traceparent"] != tp || got.Headers["X-Request-Id"] != "req-42" {
				t.Fatalf("the backend got %+v", got)
			}
		})
	}
	// without a client id, the gateway's own is forwarded
	resp, _ := e.do(t, c, "POST", "/v1/embeddings", `{"model":"emb","input":"a"}`, nil)
	if id := resp.Header.Get("X-Request-Id"); id == "" || fb.last().Headers["X-Request-Id"] != id {
		t.Fatalf("forwarded %q; answered %q", fb.last().Headers["X-Request-Id"], id)
	}
}

// TestFaultPassThroughBadInput: a pass-through body the front cannot route is refused
// with 400 naming the field; the bizra model on embeddings names "model".
func TestFaultPassThroughBadInput(t *testing.T) {
	e, fb := frontEnv(t)
	c := client(t)
	tests := []struct {
		name, path, body, param, code string
	}{
		{"not json", "/v1/embeddings", `{"model":`, "", "invalid_json"},
		{"array", "/v1/completions", `[1]`, "", "invalid_json"},
		{"no model", "/v1/embeddings", `{"input":"a"}`, "model", "missing_required_parameter"},
		{"model type", "/v1/completions", `{"model":5}`, "model", "invalid_type"},
		{"stream type", "/v1/completions", `{"model":"m","stream":"yes"}`, "stream", "invalid_type"},
		{"bizra embeddings", "/v1/embeddings", `{"model":"bizra","input":"a"}`, "model", "model_not_supported"},
		{"responses input type", "/v1/responses", `{"model":"mock-small","input":5}`, "input", "invalid_type"},
		{"responses tools", "/v1/responses", `{"model":"mock-small","input":"a","tools":[{"type":"function","name":"f"}]}`, "tools", "unsupported_parameter"},
		{"responses image", "/v1/responses", `{"model":"mock-small","input":[{"role":"user","content":[{"type":"input_image","image_url":"x"}]}]}`, "input[0].content[0].type", "unsupported_value"},
		{"responses previous id", "/v1/responses", `{"model":"bizra","input":"a","previous_response_id":"resp_1"}`, "previous_response_id", "unsupported_parameter"},
		{"responses bizra json", "/v1/responses", `{"model":"bizra","input":"a","text":{"format":{"type":"json_object"}}}`, "text.format", "unsupported_parameter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := len(fb.requests())
			resp, b := e.do(t, c, "POST", tt.path, tt.body, nil)
			er := openAIError(t, b)
			p := ""
			if er.Param != nil {
				p = *er.Param
			}
			if resp.StatusCode != 400 || p != tt.param || *er.Code != tt.code {
				t.Fatalf("%d %s", resp.StatusCode, b)
			}
			if tt.path != "/v1/responses" && len(fb.requests()) != n {
				t.Fatal("forwarded anyway")
			}
		})
	}
}

// TestModelByID: GET /v1/models/{id} answers the model object, or 404 model_not_found
// in OpenAI's shape.
func TestModelByID(t *testing.T) {
	e, _ := frontEnv(t)
	c := client(t)
	tests := []struct {
		id      string
		status  int
		ownedBy string
	}{
		{"bizra", 200, "bizra"},
		{"mock-small", 200, "llm"},
		{"no-such-model", 404, ""},
	}
	for _, tt := range tests {
		resp, b := e.do(t, c, "GET", "/v1/models/"+tt.id, "", nil)
		if resp.StatusCode != tt.status {
			t.Fatalf("%s: %d %s", tt.id, resp.StatusCode, b)
		}
		if tt.status == 404 {
			if er := openAIError(t, b); *er.Code != "model_not_found" || er.Type != "invalid_request_error" {
				t.Fatalf("%s: %s", tt.id, b)
			}
			continue
		}
		var m model
		if err := json.Unmarshal(b, &m); err != nil || m.ID != tt.id || m.Object != "model" || m.OwnedBy != tt.ownedBy {
			t.Fatalf("%s: %s", tt.id, b)
		}
	}
}

// TestFaultUnknownRoutes: an unknown /v1/... route answers 404 in OpenAI's error shape;
// other paths keep the gateway's own.
func TestFaultUnknownRoutes(t *testing.T) {
	e, _ := frontEnv(t)
	c := client(t)
	for _, p := range []string{"/v1/nope", "/v1/audio/speech", "/v1/models/a/b", "/v1/chat/completions/x"} {
		resp, b := e.do(t, c, "POST", p, `{}`, nil)
		if er := openAIError(t, b); resp.StatusCode != 404 || *er.Code != "not_found" || er.Type != "invalid_request_error" {
			t.Fatalf("%s: %d %s", p, resp.StatusCode, b)
		}
	}
	resp, b := e.do(t, c, "GET", "/nope", "", nil)
	var own struct{ Error, Code, RequestID string }
	if err := json.Unmarshal(b, &own); err != nil || resp.StatusCode != 404 || own.Code != "NOT_FOUND" || own.Error == "" {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
}

// TestFaultPassThroughBodyLimit: the OpenAI paths take bodies up to the pass-through
// limit (8 MiB by default); the query API keeps 1 MiB.
func TestFaultPassThroughBodyLimit(t *testing.T) {
	e, _ := frontEnv(t)
	c := client(t)
	big := strings.Repeat("x", 3<<20)
	resp, b := e.do(t, c, "POST", "/v1/embeddings", `{"model":"emb","input":"`+big+`"}`, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("3 MiB embeddings: %d %.200s", resp.StatusCode, b)
	}
	resp, b = e.do(t, c, "POST", "/v1/chat/completions", `{"model":"mock-small","messages":[{"role":"user","content":"`+big+`"}]}`, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("3 MiB chat: %d %.200s", resp.StatusCode, b)
	}
	resp, b = e.do(t, c, "POST", "/v1/query", `{"query":"`+big+`"}`, nil)
	if resp.StatusCode != 413 {
		t.Fatalf("3 MiB query: %d %.200s", resp.StatusCode, b)
	}
}

// TestFaultForwardStreamBreaks: a backend that breaks off mid-stream ends a forwarded
// stream with an OpenAI error event and no [DONE] (no internal text).
func TestFaultForwardStreamBreaks(t *testing.T) {
	e, _ := frontEnv(t)
	e.mock.SetFault(mockllm.FaultBreakStream) // the connection breaks after two events
	c := client(t)
	for _, tt := range []struct{ path, body string }{
		{"/v1/chat/completions", `{"model":"mock-small","messages":[{"role":"user","content":"hi"}],"stream":true}`},
		{"/v1/completions", `{"model":"mock-small","prompt":"hi","stream":true}`},
	} {
		resp, b := e.do(t, c, "POST", tt.path, tt.body, nil)
		data, _ := sseEvents(t, strings.NewReader(string(b)), nil)
		if resp.StatusCode != 200 || len(data) != 3 || !strings.HasPrefix(data[2], `{"error":`) || strings.Contains(string(b), "[DONE]") || strings.Contains(string(b), "inference:") {
			t.Fatalf("%s: %d %s", tt.path, resp.StatusCode, b)
		}
		if er := openAIError(t, []byte(data[2])); *er.Code != "backend_error" {
			t.Fatalf("%s: %s", tt.path, data[2])
		}
	}
}

// TestResponsesWithoutForward: a backend without /v1/responses (it answers 404 there)
// gets the Responses call translated to its chat completions.
func TestResponsesWithoutForward(t *testing.T) {
	e := newEnv(t, envOpts{apiKeys: []string{"k-test"}})
	e.mock.Disable("/v1/responses")
	c := client(t)
	resp, b := e.do(t, c, "POST", "/v1/responses", `{"model":"mock-small","input":"[doc.md] Rayleigh scattering makes the sky blue. More."}`, nil)
	var r Response
	if err := json.Unmarshal(b, &r); err != nil || resp.StatusCode != 200 || r.Status != "completed" ||
		r.Output[0].Content[0].Text != "Rayleigh scattering makes the sky blue [doc.md]." {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	rec, ok := e.mock.LastRequest()
	if !ok || rec.Path != "/v1/chat/completions" {
		t.Fatalf("the backend got %+v", rec)
	}
	// the other pass-through endpoints go through the inference service's Forward
	resp, b = e.do(t, c, "POST", "/v1/embeddings", `{"model":"mock-small","input":"a"}`, nil)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"object":"list"`) {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
}

// TestBizraUsageUpstream: with external backends behind the pipeline, the bizra model's
// usage is what their calls really sent and received (usage_estimated false when every
// count was reported); for the embedded engine and for a cache hit it is the estimate,
// flagged as such.
func TestBizraUsageUpstream(t *testing.T) {
	e, _ := frontEnv(t)
	c := client(t)
	const body = `{"model":"bizra","messages":[{"role":"user","content":"Why is the sky blue?"}]}`
	est := Usage{PromptTokens: estimateTokens(len("Why is the sky blue?")), CompletionTokens: estimateTokens(len(fullAnswer))}
	tests := []struct {
		name      string
		upstream  *inference.Usage
		cached    bool
		want      Usage
		estimated bool
	}{
		{"embedded", nil, false, est, true},
		{"backend reported", &inference.Usage{PromptTokens: 812, CompletionTokens: 40, Reported: true}, false, Usage{PromptTokens: 812, CompletionTokens: 40}, false},
		{"backend estimated", &inference.Usage{PromptTokens: 700, CompletionTokens: 31}, false, Usage{PromptTokens: 700, CompletionTokens: 31}, true},
		{"cache hit", &inference.Usage{PromptTokens: 812, CompletionTokens: 40, Reported: true}, true, est, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.core.usage.Store(tt.upstream)
			e.core.cached.Store(tt.cached)
			t.Cleanup(func() { e.core.usage.Store(nil); e.core.cached.Store(false) })
			resp, b := e.post(t, c, body, "k-test")
			if resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, b)
			}
			var got struct {
				Usage Usage `json:"usage"`
				Bizra struct {
					UsageEstimated bool `json:"usage_estimated"`
				} `json:"bizra"`
			}
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			tt.want.TotalTokens = tt.want.PromptTokens + tt.want.CompletionTokens
			if got.Usage != tt.want || got.Bizra.UsageEstimated != tt.estimated {
				t.Fatalf("usage %+v estimated %v; want %+v estimated %v", got.Usage, got.Bizra.UsageEstimated, tt.want, tt.estimated)
			}
		})
	}
}
