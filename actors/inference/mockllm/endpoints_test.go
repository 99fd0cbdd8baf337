package mockllm

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestOtherEndpoints(t *testing.T) {
	s := start(t, Options{})
	c := client(t)
	for _, tc := range []struct {
		name, path string
		body       map[string]any
		want       []string // substrings of the body
	}{
		{"embeddings one", "/v1/embeddings", map[string]any{"model": "mock-small", "input": "hello world"},
			[]string{`"object":"embedding"`, `"prompt_tokens":2`}},
		{"embeddings many", "/v1/embeddings", map[string]any{"model": "mock-small", "input": []string{"a", "b c"}},
			[]string{`"index":1`, `"prompt_tokens":3`}},
		{"completions n=2", "/v1/completions", map[string]any{"model": "mock-small", "prompt": "say hi", "n": 2},
			[]string{`"object":"text_completion"`, `"index":1`, `"text":"Completion of: say hi"`}},
		{"responses", "/v1/responses", map[string]any{"model": "mock-small", "input": "hi there"},
			[]string{`"object":"response"`, `"output_text"`, `"input_tokens":2`}},
		{"responses messages", "/v1/responses", map[string]any{"model": "mock-small",
			"input": []any{map[string]any{"role": "user", "content": []any{map[string]any{"type": "input_text", "text": "one two three"}}}}},
			[]string{`"input_tokens":3`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := post(t, c, s.URL()+strings.TrimPrefix(tc.path, "/v1"), tc.body)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d %s", resp.StatusCode, body)
			}
			for _, w := range tc.want {
				if !bytes.Contains(body, []byte(w)) {
					t.Fatalf("body %s lacks %s", body, w)
				}
			}
		})
	}
}

func TestOtherEndpointsStream(t *testing.T) {
	s := start(t, Options{Answer: "alpha beta gamma"})
	c := client(t)
	for _, tc := range []struct {
		path     string
		last     string // the last data payload contains this
		done     bool   // ends with data: [DONE]
		nDeltas  int
		deltaKey string
	}{
		{"/v1/completions", `"usage"`, true, 3, `"text":`},
		{"/v1/responses", `"response.completed"`, false, 3, `"response.output_text.delta"`},
	} {
		t.Run(tc.path, func(t *testing.T) {
			b, _ := json.Marshal(map[string]any{"model": "mock-small", "prompt": "x", "input": "x", "stream": true})
			resp, err := c.Post(s.URL()+strings.TrimPrefix(tc.path, "/v1"), "application/json", bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
				t.Fatalf("content type %q", ct)
			}
			var datas []string
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
					datas = append(datas, d)
				}
			}
			if tc.done {
				if datas[len(datas)-1] != "[DONE]" {
					t.Fatalf("no [DONE]: %q", datas)
				}
				datas = datas[:len(datas)-1]
			}
			if !strings.Contains(datas[len(datas)-1], tc.last) {
				t.Fatalf("last %s", datas[len(datas)-1])
			}
			deltas := 0
			for _, d := range datas {
				if strings.Contains(d, tc.deltaKey) && !strings.Contains(d, `"finish_reason":"stop"`) {
					deltas++
				}
			}
			if deltas != tc.nDeltas {
				t.Fatalf("%d deltas in %q", deltas, datas)
			}
		})
	}
}

func TestErrorReplies(t *testing.T) {
	s := start(t, Options{})
	c := client(t)
	chat := map[string]any{"model": "mock-small", "messages": msgs()}
	emb := map[string]any{"model": "mock-small", "input": "x"}
	s.SetError("/v1/chat/completions", ErrorReply{Status: 400, Message: "Invalid schema for function get_weather",
		Type: "invalid_request_error", Param: "tools[0].function.parameters", Code: "invalid_function_parameters", Count: 1})
	s.SetError("", ErrorReply{Status: 429, Message: "slow down", Type: "rate_limit_exceeded", RetryAfter: "7", Count: 2})
	for i, tc := range []struct {
		path       string
		body       map[string]any
		status     int
		retryAfter string
		want       string
	}{
		{"/chat/completions", chat, 400, "", `{"error":{"code":"invalid_function_parameters","message":"Invalid schema for function get_weather","param":"tools[0].function.parameters","type":"invalid_request_error"}}`},
		{"/chat/completions", chat, 429, "7", `{"error":{"code":null,"message":"slow down","param":null,"type":"rate_limit_exceeded"}}`},
		{"/embeddings", emb, 429, "7", `"slow down"`},
		{"/embeddings", emb, 200, "", `"embedding"`},
	} {
		resp, body := post(t, c, s.URL()+tc.path, tc.body)
		if resp.StatusCode != tc.status || resp.Header.Get("Retry-After") != tc.retryAfter || !strings.Contains(string(body), tc.want) {
			t.Fatalf("%d: %s: status %d retry-after %q body %s", i, tc.path, resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
	}
	s.Disable("/v1/responses")
	if resp, body := post(t, c, s.URL()+"/responses", map[string]any{"model": "mock-small", "input": "x"}); resp.StatusCode != 404 {
		t.Fatalf("disabled path: %d %s", resp.StatusCode, body)
	}
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/embeddings", strings.NewReader(`{"model":"mock-small","input":"x"}`))
	req.Header.Set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if r, _ := s.LastRequest(); r.Headers.Get("Traceparent") == "" || r.Path != "/v1/embeddings" || string(r.Body) != `{"model":"mock-small","input":"x"}` {
		t.Fatalf("recorded %+v", r)
	}
}
