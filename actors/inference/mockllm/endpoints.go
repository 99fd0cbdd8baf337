package mockllm

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"
)

// otherRequest is the union of the fields of /v1/embeddings, /v1/completions and
// /v1/responses requests the mock reads.
type otherRequest struct {
	Model     string          `json:"model"`
	Input     json.RawMessage `json:"input"`  // embeddings, responses
	Prompt    json.RawMessage `json:"prompt"` // completions
	Stream    bool            `json:"stream"`
	MaxTokens *int            `json:"max_tokens"`
	N         int             `json:"n"`
}

// texts flattens a string, an array of strings or (responses) an array of messages
// with string or part contents.
func texts(raw json.RawMessage) []string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		return many
	}
	var msgs []struct {
		Content json.RawMessage `json:"content"`
	}
	if json.Unmarshal(raw, &msgs) == nil {
		var out []string
		for _, m := range msgs {
			if json.Unmarshal(m.Content, &one) == nil {
				out = append(out, one)
				continue
			}
			var parts []struct {
				Text string `json:"text"`
			}
			if json.Unmarshal(m.Content, &parts) == nil {
				for _, p := range parts {
					out = append(out, p.Text)
				}
			}
		}
		return out
	}
	return nil
}

func words(ss []string) int {
	n := 0
	for _, s := range ss {
		n += len(strings.Fields(s))
	}
	return n
}

// other serves POST /v1/embeddings, /v1/completions and /v1/responses (OpenAI shapes;
// completions and responses stream as SSE when asked).
func (s *Server) other(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		writeErr(w, "openai", http.StatusBadRequest, "unreadable or oversized body")
		return
	}
	var req otherRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeErr(w, "openai", http.StatusBadRequest, "invalid JSON: "+err.Error())
		return
	}
	rec := Recorded{Format: "openai", Path: r.URL.Path, Model: req.Model, MaxTokens: req.MaxTokens, Stream: req.Stream,
		Auth: r.Header.Get("Authorization"), N: req.N, Headers: r.Header.Clone(), Body: body}
	p := s.decide(rec)
	if !pause(r, p.latency) {
		return
	}
	switch {
	case p.errReply != nil:
		writeErrorReply(w, "openai", p.errReply)
		return
	case p.status != 0:
		if p.status == http.StatusTooManyRequests || p.status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "1")
		}
		writeErr(w, "openai", p.status, fmt.Sprintf("mock status %d", p.status))
		return
	case !slices.Contains(p.models, req.Model):
		writeErr(w, "openai", http.StatusNotFound, fmt.Sprintf("The model `%s` does not exist", req.Model))
		return
	}
	switch r.URL.Path {
	case "/v1/embeddings":
		in := texts(req.Input)
		if len(in) == 0 {
			writeErrorReply(w, "openai", &ErrorReply{Status: 400, Message: "'input' is required", Type: "invalid_request_error", Param: "input"})
			return
		}
		data := []any{}
		for i, t := range in {
			data = append(data, map[string]any{"object": "embedding", "index": i, "embedding": Embed(t)})
		}
		pt := words(in)
		writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data, "model": req.Model,
			"usage": map[string]any{"prompt_tokens": pt, "total_tokens": pt}})
	case "/v1/completions":
		in := texts(req.Prompt)
		answer := p.answer
		if answer == "" {
			answer = "Completion of: " + strings.Join(in, " ")
		}
		s.completionAnswer(w, r, req, answer, words(in), p.tokenDelay, p.fault)
	default:
		in := texts(req.Input)
		answer := p.answer
		if answer == "" {
			answer = Compose([]Message{{Role: "user", Content: strings.Join(in, "\n")}})
		}
		s.responsesAnswer(w, r, req, answer, words(in), p.tokenDelay, p.fault)
	}
}

// Embed is the mock's deterministic 8-dimensional embedding of text.
func Embed(text string) []float64 {
	out := make([]float64, 8)
	for i := range out {
		h := fnv.New32a()
		fmt.Fprintf(h, "%d:%s", i, text)
		out[i] = float64(h.Sum32()%2000)/1000 - 1
	}
	return out
}

// pieces splits text into tokens for streaming: each word with the white space before
// it ("alpha beta" → "alpha", " beta"; " sunny" → " sunny").
func pieces(text string) []string {
	var out []string
	start, inWord := 0, false
	for i, r := range text {
		sp := unicode.IsSpace(r)
		if sp && inWord {
			out = append(out, text[start:i])
			start = i
		}
		inWord = !sp
	}
	if inWord {
		out = append(out, text[start:])
	}
	return out
}

// cut keeps the first maxTokens pieces of answer (verbatim) and counts them.
func cut(answer string, maxTokens *int) (string, int) {
	ps := pieces(answer)
	if maxTokens != nil && *maxTokens > 0 && len(ps) > *maxTokens {
		ps = ps[:*maxTokens]
	}
	return strings.Join(ps, ""), len(ps)
}

// sse writes SSE events, flushing each; false once the client went away.
type sse struct {
	w    http.ResponseWriter
	r    *http.Request
	f    Fault
	sent *int
}

func (e sse) send(event string, v any) bool {
	defer breakAfter(e.f, e.sent)
	b, _ := json.Marshal(v)
	if event != "" {
		if _, err := fmt.Fprintf(e.w, "event: %s\n", event); err != nil {
			return false
		}
	}
	if _, err := fmt.Fprintf(e.w, "data: %s\n\n", b); err != nil {
		return false
	}
	if fl, ok := e.w.(http.Flusher); ok {
		fl.Flush()
	}
	return e.r.Context().Err() == nil
}

func startSSE(w http.ResponseWriter, r *http.Request, f Fault) sse {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	return sse{w: w, r: r, f: f, sent: new(int)}
}

// breakAfter counts a sent stream event and, under FaultBreakStream, breaks the
// connection off after the second one (no end of the chunked body, no [DONE]).
func breakAfter(f Fault, sent *int) {
	*sent++
	if f == FaultBreakStream && *sent == 2 {
		panic(http.ErrAbortHandler) // net/http closes the connection, silently
	}
}

func (s *Server) completionAnswer(w http.ResponseWriter, r *http.Request, req otherRequest, answer string, pt int, tokenDelay time.Duration, f Fault) {
	answer, ct := cut(answer, req.MaxTokens)
	n := max(req.N, 1)
	created := time.Now().Unix()
	usage := map[string]any{"prompt_tokens": pt, "completion_tokens": n * ct, "total_tokens": pt + n*ct}
	if !req.Stream {
		choices := []any{}
		for i := range n {
			choices = append(choices, map[string]any{"index": i, "text": answer, "finish_reason": "stop", "logprobs": nil})
		}
		writeJSON(w, http.StatusOK, map[string]any{"id": "cmpl-mock", "object": "text_completion", "created": created,
			"model": req.Model, "choices": choices, "usage": usage})
		return
	}
	e := startSSE(w, r, f)
	chunk := func(text string, finish any) map[string]any {
		return map[string]any{"id": "cmpl-mock", "object": "text_completion", "created": created, "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "text": text, "finish_reason": finish, "logprobs": nil}}}
	}
	for i, word := range pieces(answer) {
		if i > 0 && !pause(r, tokenDelay) {
			return
		}
		if !e.send("", chunk(word, nil)) {
			return
		}
	}
	last := chunk("", "stop")
	last["usage"] = usage
	if !e.send("", last) {
		return
	}
	io.WriteString(w, "data: [DONE]\n\n")
}

func (s *Server) responsesAnswer(w http.ResponseWriter, r *http.Request, req otherRequest, answer string, pt int, tokenDelay time.Duration, f Fault) {
	answer, ct := cut(answer, req.MaxTokens)
	created := time.Now().Unix()
	resp := func(status string, text string) map[string]any {
		out := []any{}
		if status == "completed" {
			out = append(out, map[string]any{"type": "message", "id": "msg_mock", "status": "completed", "role": "assistant",
				"content": []any{map[string]any{"type": "output_text", "text": text, "annotations": []any{}}}})
		}
		m := map[string]any{"id": "resp_mock", "object": "response", "created_at": created, "status": status,
			"model": req.Model, "output": out}
		if status == "completed" {
			m["usage"] = map[string]any{"input_tokens": pt, "output_tokens": ct, "total_tokens": pt + ct}
		}
		return m
	}
	if !req.Stream {
		writeJSON(w, http.StatusOK, resp("completed", answer))
		return
	}
	e := startSSE(w, r, f)
	seq := 0
	ev := func(typ string, m map[string]any) bool {
		m["type"], m["sequence_number"] = typ, seq
		seq++
		return e.send(typ, m)
	}
	if !ev("response.created", map[string]any{"response": resp("in_progress", "")}) {
		return
	}
	for i, word := range strings.Fields(answer) {
		if i > 0 {
			word = " " + word
			if !pause(r, tokenDelay) {
				return
			}
		}
		if !ev("response.output_text.delta", map[string]any{"item_id": "msg_mock", "output_index": 0, "content_index": 0, "delta": word}) {
			return
		}
	}
	if !ev("response.output_text.done", map[string]any{"item_id": "msg_mock", "output_index": 0, "content_index": 0, "text": answer}) {
		return
	}
	ev("response.completed", map[string]any{"response": resp("completed", answer)})
}
