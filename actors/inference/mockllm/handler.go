package mockllm

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

const maxBody = 4 << 20

// chatRequest is the union of the two wire formats' request fields we read.
type chatRequest struct {
	Model       string    `json:"model"`
	Messages    []Message `json:"messages"`
	Stream      *bool     `json:"stream"`
	MaxTokens   *int      `json:"max_tokens"`
	Temperature *float64  `json:"temperature"`
	N           int       `json:"n"`
	// OpenAI only: tools, tool_choice and response_format (chooseTool, structuredAnswer)
	Tools          []tool          `json:"tools"`
	ToolChoice     json.RawMessage `json:"tool_choice"`
	ResponseFormat *responseFormat `json:"response_format"`
	Options        *struct {
		NumPredict  *int     `json:"num_predict"`
		Temperature *float64 `json:"temperature"`
	} `json:"options"`
}

// plan is what the mock decided for one chat request, under the lock.
type plan struct {
	latency    time.Duration
	tokenDelay time.Duration
	status     int
	errReply   *ErrorReply
	fault      Fault
	answer     string
	models     []string
	opts       Options // ToolArguments and Structured (read-only after New)
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.active.Add(1)
	defer s.active.Add(-1)
	s.total.Add(1)

	s.mu.Lock()
	key, models, down, toolModels := s.opts.APIKey, slices.Clone(s.opts.Models), s.down, slices.Clone(s.opts.ToolModels)
	s.mu.Unlock()
	if key != "" && r.Header.Get("Authorization") != "Bearer "+key {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": map[string]any{"message": "invalid api key", "type": "invalid_request_error"}})
		return
	}
	if down == Down503 {
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": "service unavailable"})
		return
	}

	s.mu.Lock()
	off := s.disabled[r.URL.Path]
	s.mu.Unlock()
	switch {
	case off:
		s.recordOff(r)
		writeJSON(w, http.StatusNotFound, map[string]any{"error": map[string]any{"message": "Unknown path " + r.URL.Path, "type": "invalid_request_error", "param": nil, "code": "unknown_url"}})
	case r.URL.Path == "/" && r.Method == http.MethodGet:
		io.WriteString(w, "Ollama is running")
	case r.URL.Path == "/v1/models" && r.Method == http.MethodGet:
		data := []map[string]any{}
		for _, m := range models {
			e := map[string]any{"id": m, "object": "model", "created": 1700000000, "owned_by": "mockllm"}
			if slices.Contains(toolModels, m) {
				e["capabilities"] = []string{"tool_use"}
			}
			data = append(data, e)
		}
		writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data})
	case r.URL.Path == "/api/tags" && r.Method == http.MethodGet:
		data := []map[string]any{}
		for _, m := range models {
			data = append(data, map[string]any{"name": m, "model": m, "size": 1 << 30,
				"modified_at": "2025-01-01T00:00:00Z", "digest": "sha256:0"})
		}
		writeJSON(w, http.StatusOK, map[string]any{"models": data})
	case r.URL.Path == "/v1/chat/completions" && r.Method == http.MethodPost:
		s.chat(w, r, "openai")
	case r.URL.Path == "/api/chat" && r.Method == http.MethodPost:
		s.chat(w, r, "ollama")
	case (r.URL.Path == "/v1/embeddings" || r.URL.Path == "/v1/completions" || r.URL.Path == "/v1/responses") && r.Method == http.MethodPost:
		s.other(w, r)
	default:
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "not found"})
	}
}

func (s *Server) chat(w http.ResponseWriter, r *http.Request, format string) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		writeErr(w, format, http.StatusBadRequest, "unreadable or oversized body")
		return
	}
	var req chatRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeErr(w, format, http.StatusBadRequest, "invalid JSON: "+err.Error())
		return
	}
	rec := Recorded{Format: format, Path: r.URL.Path, Model: req.Model, MaxTokens: req.MaxTokens,
		Temperature: req.Temperature, Messages: req.Messages, Auth: r.Header.Get("Authorization"),
		N: req.N, Headers: r.Header.Clone(), Body: body}
	stream := format == "ollama" // Ollama streams unless told not to
	if req.Stream != nil {
		stream = *req.Stream
	}
	rec.Stream = stream
	if format == "ollama" && req.Options != nil {
		rec.MaxTokens, rec.Temperature = req.Options.NumPredict, req.Options.Temperature
	}

	p := s.decide(rec)
	if p.latency > 0 {
		t := time.NewTimer(p.latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return // the client went away: stop, as a real server would
		}
	}
	if p.errReply != nil {
		writeErrorReply(w, format, p.errReply)
		return
	}
	if p.status != 0 {
		if p.status == http.StatusTooManyRequests || p.status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "1")
		}
		writeErr(w, format, p.status, fmt.Sprintf("mock status %d", p.status))
		return
	}
	if !slices.Contains(p.models, req.Model) {
		if format == "ollama" {
			writeErr(w, format, http.StatusNotFound, fmt.Sprintf("model %q not found, try pulling it first", req.Model))
		} else {
			writeErr(w, format, http.StatusNotFound, fmt.Sprintf("The model `%s` does not exist", req.Model))
		}
		return
	}
	promptTok := 0
	for _, m := range req.Messages {
		promptTok += len(strings.Fields(m.Content))
	}
	answer := p.answer
	if answer == "" {
		answer = Compose(req.Messages)
	}
	complTok := len(strings.Fields(answer))
	if req.MaxTokens != nil && *req.MaxTokens > 0 && complTok > *req.MaxTokens && format == "openai" {
		answer = strings.Join(strings.Fields(answer)[:*req.MaxTokens], " ")
		complTok = *req.MaxTokens
	}
	if format == "ollama" {
		s.ollamaAnswer(w, r, req.Model, answer, promptTok, complTok, stream, p.fault, p.tokenDelay)
		return
	}
	var tc *toolCall
	if c, ok := chooseTool(&req, &p.opts); ok {
		tc, complTok = &c, len(strings.Fields(c.args))
	} else if text, ok := structuredAnswer(req.ResponseFormat, &p.opts); ok {
		answer, complTok = text, len(strings.Fields(text))
	}
	s.openAIAnswer(w, r, req.Model, answer, promptTok, complTok, stream, p.fault, p.tokenDelay, max(req.N, 1), tc)
}

// decide records the request and draws its fate under the lock.
func (s *Server) decide(rec Recorded) plan {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recordLocked(rec)
	p := plan{latency: s.opts.Latency, tokenDelay: s.opts.TokenDelay, fault: s.fault, answer: s.opts.Answer,
		models: slices.Clone(s.opts.Models), opts: s.opts}
	if a, ok := s.opts.PathAnswers[rec.Path]; ok {
		p.answer = a
	}
	switch {
	case s.burstLeft > 0:
		s.burstLeft--
		p.status = s.burstStatus
	case s.opts.ErrorRate > 0 && s.rng.Float64() < s.opts.ErrorRate:
		p.status = http.StatusInternalServerError
	default:
		for _, key := range []string{errKey(rec.Path, rec.Model), rec.Path, errKey("", rec.Model), ""} {
			e := s.errs[key]
			if e == nil {
				continue
			}
			reply := *e
			p.errReply = &reply
			if e.Count > 0 {
				if e.Count--; e.Count == 0 {
					delete(s.errs, key)
				}
			}
			break
		}
	}
	return p
}

// pause waits d (nothing when d is 0); false when the client went away meanwhile.
func pause(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return r.Context().Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

func (s *Server) openAIAnswer(w http.ResponseWriter, r *http.Request, model, answer string, pt, ct int, stream bool, f Fault, tokenDelay time.Duration, n int, tc *toolCall) {
	created := time.Now().Unix()
	usage := map[string]any{"prompt_tokens": pt, "completion_tokens": ct, "total_tokens": pt + ct}
	finish := "stop"
	message := map[string]any{"role": "assistant", "content": answer}
	if tc != nil {
		finish = "tool_calls"
		message = map[string]any{"role": "assistant", "content": nil, "tool_calls": []any{map[string]any{
			"id": "call_mock_1", "type": "function", "function": map[string]any{"name": tc.name, "arguments": tc.args}}}}
	}
	if !stream {
		switch f {
		case FaultMalformedJSON:
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id":"chatcmpl-mock","choices":[{"message":{"content":"trunc`)
			return
		case FaultEmptyChoices:
			writeJSON(w, http.StatusOK, map[string]any{"id": "chatcmpl-mock", "object": "chat.completion", "model": model, "choices": []any{}, "usage": usage})
			return
		case FaultErrorBody:
			writeJSON(w, http.StatusOK, map[string]any{"error": map[string]any{"message": "mock failure", "type": "server_error"}})
			return
		}
		choices := []any{}
		for i := range n {
			choices = append(choices, map[string]any{"index": i, "finish_reason": finish, "message": message})
		}
		usage["completion_tokens"], usage["total_tokens"] = n*ct, pt+n*ct
		writeJSON(w, http.StatusOK, map[string]any{
			"id": "chatcmpl-mock", "object": "chat.completion", "created": created, "model": model,
			"choices": choices, "usage": usage,
		})
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	fl, _ := w.(http.Flusher)
	sent := 0
	send := func(v any) bool {
		defer breakAfter(f, &sent)
		b, _ := json.Marshal(v)
		if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
			return false
		}
		if fl != nil {
			fl.Flush()
		}
		return r.Context().Err() == nil
	}
	chunk := func(delta map[string]any, finish any) map[string]any {
		return map[string]any{"id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": created, "model": model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}}
	}
	if !send(chunk(map[string]any{"role": "assistant", "content": ""}, nil)) {
		return
	}
	if tc != nil {
		if !send(chunk(map[string]any{"tool_calls": []any{map[string]any{"index": 0, "id": "call_mock_1", "type": "function",
			"function": map[string]any{"name": tc.name, "arguments": tc.args}}}}, nil)) {
			return
		}
		answer = ""
	}
	for i, word := range strings.Fields(answer) {
		if i > 0 {
			word = " " + word
			if !pause(r, tokenDelay) {
				return
			}
		}
		if !send(chunk(map[string]any{"content": word}, nil)) {
			return
		}
	}
	last := chunk(map[string]any{}, finish)
	last["usage"] = usage
	if !send(last) {
		return
	}
	io.WriteString(w, "data: [DONE]\n\n")
}

func (s *Server) ollamaAnswer(w http.ResponseWriter, r *http.Request, model, answer string, pt, ct int, stream bool, f Fault, tokenDelay time.Duration) {
	now := time.Now().UTC().Format(time.RFC3339Nano)
	final := map[string]any{"model": model, "created_at": now, "done": true, "done_reason": "stop",
		"total_duration": 1000, "load_duration": 0, "prompt_eval_count": pt, "eval_count": ct}
	if !stream {
		switch f {
		case FaultMalformedJSON:
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"model":"`+model+`","message":{"role":"assistant","content":"trunc`)
			return
		case FaultEmptyChoices:
			writeJSON(w, http.StatusOK, final)
			return
		case FaultErrorBody:
			writeJSON(w, http.StatusOK, map[string]any{"error": "mock failure"})
			return
		}
		final["message"] = map[string]any{"role": "assistant", "content": answer}
		writeJSON(w, http.StatusOK, final)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	fl, _ := w.(http.Flusher)
	enc := json.NewEncoder(w)
	for i, word := range strings.Fields(answer) {
		if i > 0 {
			word = " " + word
			if !pause(r, tokenDelay) {
				return
			}
		}
		if enc.Encode(map[string]any{"model": model, "created_at": now,
			"message": map[string]any{"role": "assistant", "content": word}, "done": false}) != nil {
			return
		}
		if fl != nil {
			fl.Flush()
		}
		if r.Context().Err() != nil {
			return
		}
	}
	final["message"] = map[string]any{"role": "assistant", "content": ""}
	_ = enc.Encode(final)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeErrorReply answers e in the OpenAI error shape (Ollama: {"error": message}).
func writeErrorReply(w http.ResponseWriter, format string, e *ErrorReply) {
	if e.RetryAfter != "" {
		w.Header().Set("Retry-After", e.RetryAfter)
	}
	if format == "ollama" {
		writeJSON(w, e.Status, map[string]any{"error": e.Message})
		return
	}
	nullable := func(v string) any {
		if v == "" {
			return nil
		}
		return v
	}
	writeJSON(w, e.Status, map[string]any{"error": map[string]any{"message": e.Message, "type": e.Type,
		"param": nullable(e.Param), "code": nullable(e.Code)}})
}

func writeErr(w http.ResponseWriter, format string, status int, msg string) {
	if format == "ollama" {
		writeJSON(w, status, map[string]any{"error": msg})
		return
	}
	writeJSON(w, status, map[string]any{"error": map[string]any{"message": msg, "type": "invalid_request_error", "code": status}})
}

// Compose is the mock's deterministic answer to messages: for each evidence line
// "[source] text" of the last user message (up to three), the first sentence of text
// followed by " [source]"; when the system message asks for sub-questions, one numbered
// sub-question per clause of the user message; else an echo of the first user line.
func Compose(msgs []Message) string {
	var sys, user string
	for _, m := range msgs {
		switch m.Role {
		case "system":
			sys = m.Content
		case "user":
			user = m.Content
		}
	}
	if strings.Contains(strings.ToLower(sys), "sub-question") {
		var out []string
		for _, c := range strings.FieldsFunc(user, func(r rune) bool { return r == '?' || r == ';' || r == ',' }) {
			for part := range strings.SplitSeq(c, " and ") {
				if part = strings.TrimSpace(part); part != "" {
					out = append(out, fmt.Sprintf("%d. %s?", len(out)+1, part))
				}
			}
		}
		return strings.Join(out, "\n")
	}
	var facts []string
	for line := range strings.Lines(user) {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "[") {
			continue
		}
		end := strings.IndexByte(line, ']')
		if end < 0 {
			continue
		}
		src, text := line[1:end], strings.TrimSpace(line[end+1:])
		if text == "" {
			continue
		}
		if i := strings.IndexAny(text, ".!?"); i >= 0 {
			text = text[:i]
		}
		facts = append(facts, text+" ["+src+"].")
		if len(facts) == 3 {
			break
		}
	}
	if len(facts) > 0 {
		return strings.Join(facts, " ")
	}
	first, _, _ := strings.Cut(strings.TrimSpace(user), "\n")
	return "No evidence was given for: " + first
}
