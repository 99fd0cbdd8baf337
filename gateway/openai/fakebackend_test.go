package openai

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/bizra/bizra/actors/inference"
)

// fakeBackend is a Forwarder standing in for inference.Service.Forward (issue 17's
// contract) over a tool-capable OpenAI backend. By model:
//   - "bad-tools": 400 invalid_request_error with param and code (an invalid tool schema)
//   - "limited": 429 with Retry-After: 7
//   - "native": serves /v1/responses itself (every other model answers 404 there)
//   - "breaks": a stream that fails after its first chunk
//   - anything else: chat (tool calls when tools are given, a JSON object when
//     response_format asks for one, else weatherAnswer), embeddings (3 dims per
//     input) and completions.
type fakeBackend struct {
	mu   sync.Mutex
	reqs []ForwardRequest
}

const weatherAnswer = "It is sunny in Paris today."

// structured is the object of every structured answer (response_format, or a tool
// other than get_weather, which is how LangChain's withStructuredOutput asks).
const structured = `{"city":"Paris","temperature_c":21}`

func (f *fakeBackend) requests() []ForwardRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]ForwardRequest(nil), f.reqs...)
}

func (f *fakeBackend) last() ForwardRequest {
	r := f.requests()
	if len(r) == 0 {
		return ForwardRequest{}
	}
	return r[len(r)-1]
}

func (f *fakeBackend) record(req ForwardRequest) {
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
}

func upstreamFault(req ForwardRequest) error {
	switch req.Model {
	case "bad-tools":
		return fmt.Errorf("inference: forward: %w", &UpstreamError{Status: 400, Type: "invalid_request_error",
			Code: "invalid_function_parameters", Param: "tools[0].function.parameters",
			Message: "Invalid schema for function get_weather", Backend: "fake"})
	case "limited":
		return fmt.Errorf("inference: forward: %w", &UpstreamError{Status: 429, Type: "rate_limit_error",
			Code: "rate_limit_exceeded", Message: "Rate limit reached for requests", RetryAfter: "7", Backend: "fake"})
	}
	if req.Path == "/v1/responses" && req.Model != "native" {
		return fmt.Errorf("inference: forward: %w", &UpstreamError{Status: 404, Type: "invalid_request_error",
			Message: "Not found", Backend: "fake"})
	}
	return nil
}

type fakeChatReq struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string `json:"role"`
		Content any    `json:"content"`
	} `json:"messages"`
	Tools []struct {
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	} `json:"tools"`
	ResponseFormat *struct {
		Type string `json:"type"`
	} `json:"response_format"`
	N     int `json:"n"`
	Input any `json:"input"`
}

func (f *fakeBackend) Forward(ctx context.Context, req ForwardRequest) (ForwardResponse, error) {
	f.record(req)
	if err := upstreamFault(req); err != nil {
		return ForwardResponse{}, err
	}
	var in fakeChatReq
	if err := json.Unmarshal(req.Body, &in); err != nil {
		return ForwardResponse{}, &UpstreamError{Status: 400, Type: "invalid_request_error", Message: "bad json"}
	}
	var body any
	switch req.Path {
	case "/v1/embeddings":
		n := 1
		if a, ok := in.Input.([]any); ok {
			n = len(a)
		}
		data := []any{}
		for i := range n {
			data = append(data, map[string]any{"object": "embedding", "index": i, "embedding": []float64{0.1, 0.2, float64(i)}})
		}
		body = map[string]any{"object": "list", "model": in.Model, "data": data, "usage": map[string]any{"prompt_tokens": 2 * n, "total_tokens": 2 * n}}
	case "/v1/completions":
		body = map[string]any{"id": "cmpl-1", "object": "text_completion", "created": 1, "model": in.Model,
			"choices": []any{map[string]any{"index": 0, "text": " sunny", "finish_reason": "stop", "logprobs": nil}},
			"usage":   map[string]any{"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
	case "/v1/responses":
		body = map[string]any{"id": "resp_native", "object": "response", "created_at": 1, "status": "completed", "model": in.Model,
			"output": []any{map[string]any{"type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
				"content": []any{map[string]any{"type": "output_text", "text": "native answer", "annotations": []any{}}}}},
			"usage": map[string]any{"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}}
	default:
		n := max(in.N, 1)
		choices := []any{}
		for i := range n {
			choices = append(choices, map[string]any{"index": i, "message": fakeMessage(&in), "finish_reason": fakeFinish(&in), "logprobs": nil})
		}
		body = map[string]any{"id": "chatcmpl-fake", "object": "chat.completion", "created": 1, "model": in.Model,
			"choices": choices, "usage": map[string]any{"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}}
	}
	b, _ := json.Marshal(body)
	return ForwardResponse{Status: 200, ContentType: "application/json", Body: b, Backend: "fake",
		Usage: inference.Usage{PromptTokens: 11, CompletionTokens: 7, Reported: true}}, nil
}

func fakeToolCall(in *fakeChatReq) (name, args string, ok bool) {
	if len(in.Tools) == 0 {
		return "", "", false
	}
	if len(in.Messages) > 0 && in.Messages[len(in.Messages)-1].Role == "tool" {
		return "", "", false // the tool answered: now the text
	}
	name = in.Tools[0].Function.Name
	args = structured
	if name == "get_weather" {
		args = `{"city":"Paris"}`
	}
	return name, args, true
}

func fakeMessage(in *fakeChatReq) map[string]any {
	if name, args, ok := fakeToolCall(in); ok {
		return map[string]any{"role": "assistant", "content": nil, "tool_calls": []any{map[string]any{
			"id": "call_1", "type": "function", "function": map[string]any{"name": name, "arguments": args}}}}
	}
	if in.ResponseFormat != nil && in.ResponseFormat.Type != "text" {
		return map[string]any{"role": "assistant", "content": structured}
	}
	return map[string]any{"role": "assistant", "content": weatherAnswer}
}

func fakeFinish(in *fakeChatReq) string {
	if _, _, ok := fakeToolCall(in); ok {
		return "tool_calls"
	}
	return "stop"
}

// fakeStream replays its events.
type fakeStream struct {
	events [][]byte
	failAt int // -1: never
	usage  inference.Usage
	closed bool
}

func (s *fakeStream) Next() ([]byte, error) {
	if s.failAt == 0 {
		return nil, fmt.Errorf("inference: stream: %w", inference.ErrBackend)
	}
	s.failAt--
	if len(s.events) == 0 {
		return nil, io.EOF
	}
	e := s.events[0]
	s.events = s.events[1:]
	return e, nil
}
func (s *fakeStream) Usage() inference.Usage { return s.usage }
func (s *fakeStream) Backend() string        { return "fake" }
func (s *fakeStream) Close() error           { s.closed = true; return nil }

func (f *fakeBackend) OpenForwardStream(ctx context.Context, req ForwardRequest) (ForwardStream, error) {
	f.record(req)
	if err := upstreamFault(req); err != nil {
		return nil, err
	}
	var in fakeChatReq
	_ = json.Unmarshal(req.Body, &in)
	st := &fakeStream{failAt: -1, usage: inference.Usage{PromptTokens: 11, CompletionTokens: 7, Reported: true}}
	add := func(v any) {
		b, _ := json.Marshal(v)
		st.events = append(st.events, b)
	}
	chunk := func(d map[string]any, finish any) map[string]any {
		return map[string]any{"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1, "model": in.Model,
			"choices": []any{map[string]any{"index": 0, "delta": d, "finish_reason": finish}}}
	}
	switch req.Path {
	case "/v1/completions":
		for _, w := range []string{" sun", "ny"} {
			add(map[string]any{"id": "cmpl-1", "object": "text_completion", "created": 1, "model": in.Model,
				"choices": []any{map[string]any{"index": 0, "text": w, "finish_reason": nil}}})
		}
	case "/v1/responses":
		add(map[string]any{"type": "response.created", "sequence_number": 0, "response": map[string]any{"id": "resp_native", "status": "in_progress"}})
		add(map[string]any{"type": "response.completed", "sequence_number": 1, "response": map[string]any{"id": "resp_native", "status": "completed"}})
	default:
		add(chunk(map[string]any{"role": "assistant", "content": ""}, nil))
		if name, args, ok := fakeToolCall(&in); ok {
			add(chunk(map[string]any{"tool_calls": []any{map[string]any{"index": 0, "id": "call_1", "type": "function",
				"function": map[string]any{"name": name, "arguments": args}}}}, nil))
			add(chunk(map[string]any{}, "tool_calls"))
		} else {
			text := weatherAnswer
			if in.ResponseFormat != nil && in.ResponseFormat.Type != "text" {
				text = structured
			}
			for _, w := range strings.SplitAfter(text, " ") {
				add(chunk(map[string]any{"content": w}, nil))
			}
			add(chunk(map[string]any{}, "stop"))
		}
		add(map[string]any{"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1, "model": in.Model,
			"choices": []any{}, "usage": map[string]any{"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}})
	}
	if req.Model == "breaks" {
		st.failAt = 2
	}
	return st, nil
}
