package openai

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/bizra/bizra/actors/inference"
)

// ResponsesRequest is a /v1/responses request as the front translates it to a chat
// completion (text in, text out): the backend does not offer /v1/responses, or the
// model is bizra.
type ResponsesRequest struct {
	Chat Request
	// Instructions is the request's "instructions" (a system message in Chat).
	Instructions *string
	// Format is the chat response_format of text.format (nil: plain text).
	Format json.RawMessage
}

type respWire struct {
	Model           *string         `json:"model"`
	Input           json.RawMessage `json:"input"`
	Instructions    *string         `json:"instructions"`
	MaxOutputTokens *int64          `json:"max_output_tokens"`
	Temperature     *float64        `json:"temperature"`
	TopP            *float64        `json:"top_p"`
	Stream          *bool           `json:"stream"`
	User            *string         `json:"user"`
	Text            *struct {
		Format json.RawMessage `json:"format"`
	} `json:"text"`
	Tools              json.RawMessage `json:"tools"`
	ToolChoice         json.RawMessage `json:"tool_choice"`
	PreviousResponseID *string         `json:"previous_response_id"`
}

type respItem struct {
	Type    *string         `json:"type"`
	Role    *string         `json:"role"`
	Content json.RawMessage `json:"content"`
}

type respPart struct {
	Type *string `json:"type"`
	Text *string `json:"text"`
}

// DecodeResponses parses and validates a /v1/responses body for translation. Every
// failure is a *RequestError naming the parameter; it never panics (fuzzed).
func DecodeResponses(body []byte) (ResponsesRequest, error) {
	var w respWire
	var out ResponsesRequest
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return out, reqErr("", "invalid_json", "The body must be a JSON object.")
	}
	if err := json.Unmarshal(trimmed, &w); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			kind := ""
			if te.Type != nil {
				kind = te.Type.Kind().String()
			}
			return out, reqErr(te.Field, "invalid_type", "Invalid type for '%s': expected %s.", te.Field, jsonType(kind))
		}
		return out, reqErr("", "invalid_json", "The body is not valid JSON.")
	}
	r := &out.Chat
	r.N = 1
	if w.Model == nil {
		return out, reqErr("model", "missing_required_parameter", "Missing required parameter: 'model'.")
	}
	if *w.Model == "" || len(*w.Model) > MaxModelBytes || !printable(*w.Model) {
		return out, reqErr("model", "invalid_value", "Invalid 'model': must be 1..%d printable characters.", MaxModelBytes)
	}
	r.Model = *w.Model
	if w.Stream != nil {
		r.Stream = *w.Stream
	}
	if w.PreviousResponseID != nil {
		return out, reqErr("previous_response_id", "unsupported_parameter", "Unsupported parameter: 'previous_response_id' (responses are not stored here); send the conversation in 'input'.")
	}
	if given(w.Tools) || (given(w.ToolChoice) && string(bytes.TrimSpace(w.ToolChoice)) != `"none"`) {
		p := "tools"
		if !given(w.Tools) {
			p = "tool_choice"
		}
		return out, reqErr(p, "unsupported_parameter", "Unsupported parameter: '%s' on /v1/responses for this model (its backend has no /v1/responses; use /v1/chat/completions for tools).", p)
	}
	if w.Instructions != nil {
		out.Instructions = w.Instructions
		r.Messages = append(r.Messages, Message{Role: "system", Content: *w.Instructions})
	}
	msgs, err := responsesInput(w.Input)
	if err != nil {
		return out, err
	}
	r.Messages = append(r.Messages, msgs...)
	if len(r.Messages) > MaxMessages {
		return out, reqErr("input", "invalid_value", "Invalid 'input': at most %d items.", MaxMessages)
	}
	for _, m := range r.Messages {
		r.ContentBytes += len(m.Content)
	}
	if mt := w.MaxOutputTokens; mt != nil {
		if *mt < 1 || *mt > MaxTokensLimit {
			return out, reqErr("max_output_tokens", "invalid_value", "Invalid 'max_output_tokens': must be an integer in 1..%d.", MaxTokensLimit)
		}
		r.MaxTokens = int(*mt)
	}
	if t := w.Temperature; t != nil {
		if math.IsNaN(*t) || *t < 0 || *t > MaxTemperature {
			return out, reqErr("temperature", "invalid_value", "Invalid 'temperature': must be between 0 and 2.")
		}
		r.Temperature = t
	}
	if p := w.TopP; p != nil {
		if math.IsNaN(*p) || *p < 0 || *p > 1 {
			return out, reqErr("top_p", "invalid_value", "Invalid 'top_p': must be between 0 and 1.")
		}
		r.TopP = p
	}
	if w.User != nil {
		if len(*w.User) > MaxUserBytes {
			return out, reqErr("user", "invalid_value", "Invalid 'user': at most %d bytes.", MaxUserBytes)
		}
		r.User = *w.User
	}
	if w.Text != nil && given(w.Text.Format) {
		f, err := chatFormat(w.Text.Format)
		if err != nil {
			return out, err
		}
		if f != nil {
			out.Format = f
			r.Unsupported = "text.format"
		}
	}
	return out, nil
}

func given(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && string(raw) != "null" && string(raw) != "[]"
}

// responsesInput turns "input" (a string, or message items with text parts) into chat
// messages.
func responsesInput(raw json.RawMessage) ([]Message, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, reqErr("input", "missing_required_parameter", "Missing required parameter: 'input'.")
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, reqErr("input", "invalid_type", "Invalid type for 'input': expected a string or an array of items.")
		}
		return []Message{{Role: "user", Content: s}}, nil
	}
	var items []respItem
	if raw[0] != '[' || json.Unmarshal(raw, &items) != nil {
		return nil, reqErr("input", "invalid_type", "Invalid type for 'input': expected a string or an array of items.")
	}
	if len(items) == 0 || len(items) > MaxMessages {
		return nil, reqErr("input", "invalid_value", "Invalid 'input': must hold 1..%d items.", MaxMessages)
	}
	out := make([]Message, 0, len(items))
	for i, it := range items {
		param := fmt.Sprintf("input[%d]", i)
		if it.Type != nil && *it.Type != "message" {
			return nil, reqErr(param+".type", "unsupported_value", "Unsupported value: '%s.type' %q (only message items are translated to chat completions).", param, truncate(*it.Type, 32))
		}
		if it.Role == nil {
			return nil, reqErr(param+".role", "missing_required_parameter", "Missing required parameter: '%s.role'.", param)
		}
		switch *it.Role {
		case "user", "system", "developer", "assistant":
		default:
			return nil, reqErr(param+".role", "invalid_value", "Invalid '%s.role': must be user, system, developer or assistant.", param)
		}
		text, err := responsesContent(it.Content, param+".content")
		if err != nil {
			return nil, err
		}
		out = append(out, Message{Role: *it.Role, Content: text})
	}
	return out, nil
}

func responsesContent(raw json.RawMessage, param string) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			return s, nil
		}
	}
	var parts []respPart
	if len(raw) == 0 || raw[0] != '[' || json.Unmarshal(raw, &parts) != nil {
		return "", reqErr(param, "invalid_type", "Invalid type for '%s': expected a string or an array of parts.", param)
	}
	if len(parts) > MaxContentParts {
		return "", reqErr(param, "invalid_value", "Invalid '%s': at most %d parts.", param, MaxContentParts)
	}
	var b strings.Builder
	for j, p := range parts {
		pp := fmt.Sprintf("%s[%d]", param, j)
		if p.Type == nil {
			return "", reqErr(pp+".type", "missing_required_parameter", "Missing required parameter: '%s.type'.", pp)
		}
		switch *p.Type {
		case "input_text", "output_text", "text":
		default:
			return "", reqErr(pp+".type", "unsupported_value", "Unsupported value: '%s.type' %q (text only when translated to chat completions).", pp, truncate(*p.Type, 32))
		}
		if p.Text == nil {
			return "", reqErr(pp+".text", "missing_required_parameter", "Missing required parameter: '%s.text'.", pp)
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(*p.Text)
	}
	return b.String(), nil
}

// chatFormat maps text.format to a chat response_format (nil for plain text).
func chatFormat(raw json.RawMessage) (json.RawMessage, error) {
	var f struct {
		Type        string          `json:"type"`
		Name        string          `json:"name"`
		Description string          `json:"description,omitempty"`
		Schema      json.RawMessage `json:"schema"`
		Strict      *bool           `json:"strict,omitempty"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, reqErr("text.format", "invalid_type", "Invalid type for 'text.format': expected an object.")
	}
	switch f.Type {
	case "text":
		return nil, nil
	case "json_object":
		return json.RawMessage(`{"type":"json_object"}`), nil
	case "json_schema":
		if !given(f.Schema) {
			return nil, reqErr("text.format.schema", "missing_required_parameter", "Missing required parameter: 'text.format.schema'.")
		}
		if f.Name == "" {
			f.Name = "response"
		}
		b, err := json.Marshal(map[string]any{"type": "json_schema", "json_schema": map[string]any{
			"name": f.Name, "description": f.Description, "schema": f.Schema, "strict": f.Strict}})
		return b, err
	}
	return nil, reqErr("text.format.type", "invalid_value", "Invalid 'text.format.type': must be text, json_object or json_schema.")
}

// chatBody is the chat-completions body of a translated request.
func (rr *ResponsesRequest) chatBody() ([]byte, error) {
	r := &rr.Chat
	m := map[string]any{"model": r.Model, "messages": r.Messages}
	if r.MaxTokens > 0 {
		m["max_tokens"] = r.MaxTokens
	}
	if r.Temperature != nil {
		m["temperature"] = *r.Temperature
	}
	if r.TopP != nil {
		m["top_p"] = *r.TopP
	}
	if r.User != "" {
		m["user"] = r.User
	}
	if rr.Format != nil {
		m["response_format"] = rr.Format
	}
	if r.Stream {
		m["stream"] = true
		m["stream_options"] = map[string]any{"include_usage": true}
	}
	return json.Marshal(m)
}

// Response is a Responses API response object (text output only).
type Response struct {
	ID                string             `json:"id"`
	Object            string             `json:"object"`
	CreatedAt         int64              `json:"created_at"`
	Status            string             `json:"status"`
	Error             *apiErrorBody      `json:"error"`
	IncompleteDetails *incompleteDetails `json:"incomplete_details"`
	Instructions      *string            `json:"instructions"`
	MaxOutputTokens   *int               `json:"max_output_tokens"`
	Model             string             `json:"model"`
	Output            []OutputItem       `json:"output"`
	ParallelToolCalls bool               `json:"parallel_tool_calls"`
	Temperature       *float64           `json:"temperature"`
	TopP              *float64           `json:"top_p"`
	ToolChoice        string             `json:"tool_choice"`
	Tools             []any              `json:"tools"`
	Usage             *ResponseUsage     `json:"usage"`
	Bizra             *Extension         `json:"bizra,omitempty"`
}

type incompleteDetails struct {
	Reason string `json:"reason"`
}

// OutputItem is one output message.
type OutputItem struct {
	Type    string       `json:"type"`
	ID      string       `json:"id"`
	Status  string       `json:"status"`
	Role    string       `json:"role"`
	Content []OutputText `json:"content"`
}

// OutputText is an output_text content part.
type OutputText struct {
	Type        string `json:"type"`
	Text        string `json:"text"`
	Annotations []any  `json:"annotations"`
}

// ResponseUsage is the Responses API usage object.
type ResponseUsage struct {
	InputTokens        int `json:"input_tokens"`
	InputTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"input_tokens_details"`
	OutputTokens        int `json:"output_tokens"`
	OutputTokensDetails struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"output_tokens_details"`
	TotalTokens int `json:"total_tokens"`
}

func newID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func (r *Routes) newResponse(rr *ResponsesRequest) *Response {
	resp := &Response{ID: newID("resp_"), Object: "response", CreatedAt: r.opts.Now().Unix(), Status: "in_progress",
		Instructions: rr.Instructions, Model: rr.Chat.Model, Output: []OutputItem{}, ParallelToolCalls: false,
		Temperature: rr.Chat.Temperature, TopP: rr.Chat.TopP, ToolChoice: "auto", Tools: []any{}}
	if rr.Chat.MaxTokens > 0 {
		resp.MaxOutputTokens = &rr.Chat.MaxTokens
	}
	return resp
}

// finish completes resp with its text, chat finish reason and usage.
func (resp *Response) finish(itemID, text, finishReason string, in, out int) {
	resp.Status = "completed"
	switch finishReason {
	case "length":
		resp.Status, resp.IncompleteDetails = "incomplete", &incompleteDetails{Reason: "max_output_tokens"}
	case "content_filter":
		resp.Status, resp.IncompleteDetails = "incomplete", &incompleteDetails{Reason: "content_filter"}
	}
	resp.Output = []OutputItem{{Type: "message", ID: itemID, Status: "completed", Role: "assistant",
		Content: []OutputText{{Type: "output_text", Text: text, Annotations: []any{}}}}}
	u := &ResponseUsage{InputTokens: in, OutputTokens: out, TotalTokens: in + out}
	resp.Usage = u
}

// Responses serves POST /v1/responses: passed through when the model's backend offers
// it (a 404 from the backend for that path means it does not), else translated to a
// chat completion, text in and out, streaming included (the Responses API's events:
// response.created, response.output_text.delta, ..., response.completed). The bizra
// model is always translated.
func (r *Routes) Responses(ctx *fasthttp.RequestCtx, userID string) {
	start := r.opts.Now()
	body := ctx.PostBody()
	pr, err := DecodePass(body)
	if err != nil {
		r.observe(kindPass, false, r.writeError(ctx, err), start)
		return
	}
	if pr.Model != ModelID && r.opts.Forward != nil {
		freq := ForwardRequest{Path: "/v1/responses", Model: pr.Model, Body: bytes.Clone(body), Stream: pr.Stream,
			Headers: forwardHeaders(ctx), Deadline: start.Add(r.opts.Timeout)}
		if !pr.Stream {
			res, err := r.opts.Forward.Forward(context.Background(), freq)
			if err == nil {
				r.writeForwarded(ctx, res, start)
				return
			}
			if !notOffered(err) {
				r.observe(kindPass, false, r.writeError(ctx, err), start)
				return
			}
		} else {
			cctx, cancel := context.WithTimeout(context.Background(), r.opts.Timeout)
			st, err := r.opts.Forward.OpenForwardStream(cctx, freq)
			if err == nil {
				r.forwardResponsesStream(ctx, st, cancel, start)
				return
			}
			cancel()
			if !notOffered(err) {
				r.observe(kindPass, true, r.writeError(ctx, err), start)
				return
			}
		}
	}
	rr, err := DecodeResponses(body)
	if err != nil {
		r.observe(kindPass, pr.Stream, r.writeError(ctx, err), start)
		return
	}
	if rr.Chat.Model == ModelID {
		r.bizraResponse(ctx, &rr, userID, start)
		return
	}
	r.translatedResponse(ctx, &rr, start)
}

// notOffered: the backend answered 404 for /v1/responses.
func notOffered(err error) bool {
	var ue *UpstreamError
	return errors.As(err, &ue) && ue.Status == fasthttp.StatusNotFound
}

// forwardResponsesStream forwards a native Responses stream: its events are not chat
// chunks, and it has no [DONE].
func (r *Routes) forwardResponsesStream(ctx *fasthttp.RequestCtx, st ForwardStream, cancel context.CancelFunc, start time.Time) {
	sseHeaders(ctx)
	ctx.SetBodyStreamWriter(r.safeStream(ctx, func(w *bufio.Writer) {
		defer cancel()
		defer st.Close()
		code := fasthttp.StatusOK
		for {
			c, err := st.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				var msg apiError
				code, msg = streamError(err)
				writeEvent(w, "error", map[string]any{"type": "error", "message": msg.Error.Message, "code": msg.Error.Code, "param": msg.Error.Param})
				_ = w.Flush()
				break
			}
			var head struct {
				Type string `json:"type"`
			}
			if json.Unmarshal(c, &head) == nil && head.Type != "" && printable(head.Type) && len(head.Type) <= 64 {
				w.WriteString("event: " + head.Type + "\n")
			}
			if !sendData(w, c) {
				code = 499
				r.mDisconn.Inc()
				break
			}
		}
		r.observe(kindPass, true, code, start)
	}))
}

func writeEvent(w *bufio.Writer, typ string, payload map[string]any) {
	b, err := json.Marshal(payload)
	if err != nil {
		return
	}
	w.WriteString("event: ")
	w.WriteString(typ)
	w.WriteString("\n")
	writeData(w, b)
}

// respEvents writes one translated response's events in order, numbering them.
type respEvents struct {
	w      *bufio.Writer
	seq    int
	resp   *Response
	itemID string
	text   strings.Builder
}

func (e *respEvents) emit(typ string, payload map[string]any) error {
	payload["type"] = typ
	payload["sequence_number"] = e.seq
	e.seq++
	writeEvent(e.w, typ, payload)
	return e.w.Flush()
}

func (e *respEvents) begin() error {
	if err := e.emit("response.created", map[string]any{"response": e.resp}); err != nil {
		return err
	}
	if err := e.emit("response.in_progress", map[string]any{"response": e.resp}); err != nil {
		return err
	}
	item := OutputItem{Type: "message", ID: e.itemID, Status: "in_progress", Role: "assistant", Content: []OutputText{}}
	if err := e.emit("response.output_item.added", map[string]any{"output_index": 0, "item": item}); err != nil {
		return err
	}
	return e.emit("response.content_part.added", map[string]any{"item_id": e.itemID, "output_index": 0, "content_index": 0,
		"part": OutputText{Type: "output_text", Text: "", Annotations: []any{}}})
}

func (e *respEvents) delta(s string) error {
	if s == "" {
		return nil
	}
	e.text.WriteString(s)
	return e.emit("response.output_text.delta", map[string]any{"item_id": e.itemID, "output_index": 0, "content_index": 0, "delta": s, "logprobs": []any{}})
}

func (e *respEvents) end(finishReason string, in, out int, ext *Extension) error {
	text := e.text.String()
	part := OutputText{Type: "output_text", Text: text, Annotations: []any{}}
	if err := e.emit("response.output_text.done", map[string]any{"item_id": e.itemID, "output_index": 0, "content_index": 0, "text": text, "logprobs": []any{}}); err != nil {
		return err
	}
	if err := e.emit("response.content_part.done", map[string]any{"item_id": e.itemID, "output_index": 0, "content_index": 0, "part": part}); err != nil {
		return err
	}
	e.resp.finish(e.itemID, text, finishReason, in, out)
	e.resp.Bizra = ext
	if err := e.emit("response.output_item.done", map[string]any{"output_index": 0, "item": e.resp.Output[0]}); err != nil {
		return err
	}
	typ := "response.completed"
	if e.resp.Status == "incomplete" {
		typ = "response.incomplete"
	}
	return e.emit(typ, map[string]any{"response": e.resp})
}

func (e *respEvents) fail(err error) {
	_, msg := streamError(err)
	_ = e.emit("error", map[string]any{"message": msg.Error.Message, "code": msg.Error.Code, "param": msg.Error.Param})
	e.resp.Status = "failed"
	e.resp.Error = &msg.Error
	_ = e.emit("response.failed", map[string]any{"response": e.resp})
}

// bizraResponse answers a Responses request with the bizra pipeline.
func (r *Routes) bizraResponse(ctx *fasthttp.RequestCtx, rr *ResponsesRequest, userID string, start time.Time) {
	a, err := r.runBizra(&rr.Chat, userID, start, clientTrace(ctx))
	if err != nil {
		r.observe(kindBizra, rr.Chat.Stream, r.writeError(ctx, err), start)
		return
	}
	if a.res.ReceiptID != "" {
		ctx.Response.Header.Set("X-Bizra-Receipt", a.res.ReceiptID)
	}
	resp := r.newResponse(rr)
	itemID := newID("msg_")
	if !rr.Chat.Stream {
		resp.finish(itemID, a.text, a.finish, a.usage.PromptTokens, a.usage.CompletionTokens)
		resp.Bizra = a.ext
		writeJSON(ctx, fasthttp.StatusOK, resp)
		r.observe(kindBizra, false, fasthttp.StatusOK, start)
		return
	}
	sseHeaders(ctx)
	ctx.SetBodyStreamWriter(r.safeStream(ctx, func(w *bufio.Writer) {
		e := &respEvents{w: w, resp: resp, itemID: itemID}
		err := e.begin()
		for _, piece := range splitAnswer(a.text, 4) {
			if err != nil {
				break
			}
			err = e.delta(piece)
		}
		if err == nil {
			err = e.end(a.finish, a.usage.PromptTokens, a.usage.CompletionTokens, a.ext)
		}
		code := fasthttp.StatusOK
		if err != nil {
			code = 499
			r.mDisconn.Inc()
		}
		r.observe(kindBizra, true, code, start)
	}))
}

// chatCompletion is what the translation reads of a chat completion or chunk.
type chatCompletion struct {
	Choices []struct {
		Message struct {
			Content *string `json:"content"`
		} `json:"message"`
		Delta struct {
			Content *string `json:"content"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
}

// translatedResponse serves a Responses request through the model's chat completions.
func (r *Routes) translatedResponse(ctx *fasthttp.RequestCtx, rr *ResponsesRequest, start time.Time) {
	body, err := rr.chatBody()
	if err != nil {
		r.observe(kindPass, rr.Chat.Stream, r.writeError(ctx, fmt.Errorf("openai: encode translated request: %w", ErrInternal)), start)
		return
	}
	freq := ForwardRequest{Path: "/v1/chat/completions", Model: rr.Chat.Model, Body: body, Stream: rr.Chat.Stream,
		Headers: forwardHeaders(ctx), Deadline: start.Add(r.opts.Timeout)}
	if !rr.Chat.Stream {
		res, err := r.chatCall(freq)
		if err != nil {
			r.observe(kindPass, false, r.writeError(ctx, err), start)
			return
		}
		var cc chatCompletion
		if err := json.Unmarshal(res.Body, &cc); err != nil || len(cc.Choices) == 0 {
			r.observe(kindPass, false, r.writeError(ctx, fmt.Errorf("openai: translated chat answer: %w", inference.ErrBadResponse)), start)
			return
		}
		text, finish := "", "stop"
		if c := cc.Choices[0].Message.Content; c != nil {
			text = *c
		}
		if f := cc.Choices[0].FinishReason; f != nil {
			finish = *f
		}
		in, out := res.Usage.PromptTokens, res.Usage.CompletionTokens
		if cc.Usage != nil {
			in, out = cc.Usage.PromptTokens, cc.Usage.CompletionTokens
		}
		resp := r.newResponse(rr)
		resp.finish(newID("msg_"), text, finish, in, out)
		writeJSON(ctx, fasthttp.StatusOK, resp)
		r.observe(kindPass, false, fasthttp.StatusOK, start)
		return
	}
	st, cancel, ok := r.openStream(ctx, freq, start)
	if !ok {
		return
	}
	resp := r.newResponse(rr)
	sseHeaders(ctx)
	ctx.SetBodyStreamWriter(r.safeStream(ctx, func(w *bufio.Writer) {
		defer cancel()
		defer st.Close()
		e := &respEvents{w: w, resp: resp, itemID: newID("msg_")}
		code := fasthttp.StatusOK
		finish, in, out, reported := "stop", 0, 0, false
		err := e.begin()
		for err == nil {
			c, nerr := st.Next()
			if nerr == io.EOF {
				break
			}
			if nerr != nil {
				code, _ = streamError(nerr)
				e.fail(nerr)
				r.observe(kindPass, true, code, start)
				return
			}
			var cc chatCompletion
			if json.Unmarshal(c, &cc) != nil {
				continue // not a chunk (a keep-alive or an unknown event): nothing to translate
			}
			if cc.Usage != nil {
				in, out, reported = cc.Usage.PromptTokens, cc.Usage.CompletionTokens, true
			}
			if len(cc.Choices) == 0 {
				continue
			}
			if f := cc.Choices[0].FinishReason; f != nil && *f != "" {
				finish = *f
			}
			if d := cc.Choices[0].Delta.Content; d != nil {
				err = e.delta(*d)
			}
		}
		if err == nil {
			if !reported {
				u := st.Usage()
				in, out = u.PromptTokens, u.CompletionTokens
			}
			err = e.end(finish, in, out, nil)
		}
		if err != nil {
			code = 499
			r.mDisconn.Inc()
		}
		r.observe(kindPass, true, code, start)
	}))
}

// chatCall runs a translated chat completion through Forward.
func (r *Routes) chatCall(freq ForwardRequest) (ForwardResponse, error) {
	if r.opts.Forward == nil {
		return ForwardResponse{}, errNoForward
	}
	return r.opts.Forward.Forward(context.Background(), freq)
}
