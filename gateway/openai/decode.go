package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// Limits of a chat-completions request (checked by Decode).
const (
	MaxMessages      = 1000
	MaxContentBytes  = 1 << 20 // all message contents together
	MaxTokensLimit   = 1_000_000
	MaxStop          = 4
	MaxStopBytes     = 256 // one stop sequence
	MaxModelBytes    = 256
	MaxUserBytes     = 256
	MaxNameBytes     = 64
	MaxContentParts  = 256 // parts of one message
	MaxTemperature   = 2.0
	MaxN             = 128 // choices of one pass-through request
	maxRoleBytes     = 32
	maxPartTypeBytes = 32
)

// Request is a decoded and validated chat-completions request. Fields the front does
// not interpret (tools, response_format, seed, ...) are not kept here: for OpenAI-
// compatible backends the original body is forwarded as is.
type Request struct {
	Model        string
	Messages     []Message
	MaxTokens    int      // 0: not given
	Temperature  *float64 // nil: not given
	TopP         *float64
	Stop         []string
	Stream       bool
	IncludeUsage bool // stream_options.include_usage
	User         string
	N            int // choices asked for (1 when not given); only pass-through serves n > 1
	// ContentBytes is the size of all message texts together.
	ContentBytes int
	// Unsupported names the first parameter given that the bizra model cannot honour
	// (logprobs, top_logprobs first, then tools, tool_choice, functions,
	// response_format other than text); "" when there is none. Pass-through forwards
	// them all.
	Unsupported string
	// Tools: one of tools, tool_choice, functions or response_format (other than
	// text) is given. The bizra model hands them to a tool-capable backend when one is
	// configured (bizraTools), else refuses them.
	Tools bool
}

// Message is one message with its text content (text parts joined by newlines; other
// parts, such as images, are passed through to OpenAI backends but not counted here).
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
	Name    string `json:"name,omitempty"`
}

// RequestError is a 400 answer: the parameter at fault, an OpenAI error code
// (invalid_json, missing_required_parameter, invalid_type, invalid_value) and a public
// message. It wraps ErrInvalidRequest.
type RequestError struct {
	Param   string
	Code    string
	Message string
}

func (e *RequestError) Error() string { return "openai: invalid request: " + e.Message }
func (e *RequestError) Unwrap() error { return ErrInvalidRequest }

func reqErr(param, code, format string, args ...any) *RequestError {
	return &RequestError{Param: param, Code: code, Message: fmt.Sprintf(format, args...)}
}

// wire is the request's JSON with strict types for every field the front reads.
type wire struct {
	Model               *string         `json:"model"`
	Messages            []wireMessage   `json:"messages"`
	MaxTokens           *int64          `json:"max_tokens"`
	MaxCompletionTokens *int64          `json:"max_completion_tokens"`
	Temperature         *float64        `json:"temperature"`
	TopP                *float64        `json:"top_p"`
	Stop                json.RawMessage `json:"stop"`
	Stream              *bool           `json:"stream"`
	StreamOptions       *struct {
		IncludeUsage *bool `json:"include_usage"`
	} `json:"stream_options"`
	User           *string         `json:"user"`
	N              *int64          `json:"n"`
	Tools          json.RawMessage `json:"tools"`
	ToolChoice     json.RawMessage `json:"tool_choice"`
	Functions      json.RawMessage `json:"functions"`
	ResponseFormat json.RawMessage `json:"response_format"`
	Logprobs       *bool           `json:"logprobs"`
	TopLogprobs    json.RawMessage `json:"top_logprobs"`
}

type wireMessage struct {
	Role    *string         `json:"role"`
	Content json.RawMessage `json:"content"`
	Name    *string         `json:"name"`
}

type wirePart struct {
	Type *string `json:"type"`
	Text *string `json:"text"`
}

// Decode parses and validates a chat-completions body with the bizra model's content
// limit (MaxContentBytes). Every failure is a *RequestError naming the parameter; it
// never panics on any input (fuzzed).
func Decode(body []byte) (Request, error) { return decode(body, MaxContentBytes) }

// decode is Decode with a limit on all message texts together (pass-through bodies
// are bounded by the gateway's body limit instead).
func decode(body []byte, maxContent int) (Request, error) {
	var w wire
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return Request{}, reqErr("", "invalid_json", "The body must be a JSON object.")
	}
	if err := json.Unmarshal(trimmed, &w); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			field := te.Field
			if field == "" {
				field = "body"
			}
			kind := ""
			if te.Type != nil {
				kind = te.Type.Kind().String()
			}
			return Request{}, reqErr(field, "invalid_type", "Invalid type for '%s': expected %s.", field, jsonType(kind))
		}
		return Request{}, reqErr("", "invalid_json", "The body is not valid JSON.")
	}
	var r Request
	if w.Model == nil {
		return r, reqErr("model", "missing_required_parameter", "Missing required parameter: 'model'.")
	}
	if *w.Model == "" || len(*w.Model) > MaxModelBytes || !printable(*w.Model) {
		return r, reqErr("model", "invalid_value", "Invalid 'model': must be 1..%d printable characters.", MaxModelBytes)
	}
	r.Model = *w.Model
	if w.Messages == nil {
		return r, reqErr("messages", "missing_required_parameter", "Missing required parameter: 'messages'.")
	}
	if len(w.Messages) == 0 || len(w.Messages) > MaxMessages {
		return r, reqErr("messages", "invalid_value", "Invalid 'messages': must hold 1..%d messages.", MaxMessages)
	}
	r.Messages = make([]Message, len(w.Messages))
	total := 0
	for i, m := range w.Messages {
		param := fmt.Sprintf("messages[%d]", i)
		if m.Role == nil {
			return r, reqErr(param+".role", "missing_required_parameter", "Missing required parameter: '%s.role'.", param)
		}
		switch *m.Role {
		case "system", "user", "assistant", "tool", "developer", "function":
		default:
			return r, reqErr(param+".role", "invalid_value", "Invalid '%s.role': must be system, developer, user, assistant, tool or function.", param)
		}
		text, err := contentText(m.Content, param+".content", *m.Role, maxContent)
		if err != nil {
			return r, err
		}
		total += len(text)
		if total > maxContent {
			return r, reqErr("messages", "invalid_value", "Invalid 'messages': the contents exceed %d bytes in total.", maxContent)
		}
		r.Messages[i] = Message{Role: *m.Role, Content: text}
		if m.Name != nil {
			if len(*m.Name) > MaxNameBytes {
				return r, reqErr(param+".name", "invalid_value", "Invalid '%s.name': at most %d bytes.", param, MaxNameBytes)
			}
			r.Messages[i].Name = *m.Name
		}
	}
	mt := w.MaxTokens
	param := "max_tokens"
	if mt == nil {
		mt, param = w.MaxCompletionTokens, "max_completion_tokens"
	}
	if mt != nil {
		if *mt < 1 || *mt > MaxTokensLimit {
			return r, reqErr(param, "invalid_value", "Invalid '%s': must be an integer in 1..%d.", param, MaxTokensLimit)
		}
		r.MaxTokens = int(*mt)
	}
	if t := w.Temperature; t != nil {
		if math.IsNaN(*t) || *t < 0 || *t > MaxTemperature {
			return r, reqErr("temperature", "invalid_value", "Invalid 'temperature': must be between 0 and 2.")
		}
		v := *t
		r.Temperature = &v
	}
	if p := w.TopP; p != nil {
		if math.IsNaN(*p) || *p < 0 || *p > 1 {
			return r, reqErr("top_p", "invalid_value", "Invalid 'top_p': must be between 0 and 1.")
		}
		v := *p
		r.TopP = &v
	}
	stop, err := decodeStop(w.Stop)
	if err != nil {
		return r, err
	}
	r.Stop = stop
	if w.Stream != nil {
		r.Stream = *w.Stream
	}
	if so := w.StreamOptions; so != nil && so.IncludeUsage != nil {
		if !r.Stream {
			return r, reqErr("stream_options", "invalid_value", "Invalid 'stream_options': only allowed when 'stream' is true.")
		}
		r.IncludeUsage = *so.IncludeUsage
	}
	if w.User != nil {
		if len(*w.User) > MaxUserBytes {
			return r, reqErr("user", "invalid_value", "Invalid 'user': at most %d bytes.", MaxUserBytes)
		}
		r.User = *w.User
	}
	r.N = 1
	if w.N != nil {
		if *w.N < 1 || *w.N > MaxN {
			return r, reqErr("n", "invalid_value", "Invalid 'n': must be an integer in 1..%d.", MaxN)
		}
		r.N = int(*w.N)
	}
	r.ContentBytes = total
	r.Unsupported, r.Tools = unsupported(&w)
	return r, nil
}

// unsupported names the first parameter the bizra model cannot honour.
func unsupported(w *wire) (string, bool) {
	tool := toolParam(w)
	if w.Logprobs != nil && *w.Logprobs {
		return "logprobs", tool != ""
	}
	if len(bytes.TrimSpace(w.TopLogprobs)) > 0 && string(bytes.TrimSpace(w.TopLogprobs)) != "null" {
		return "top_logprobs", tool != ""
	}
	return tool, tool != ""
}

// toolParam names the first of tools, tool_choice, functions and response_format
// (other than text) that w gives; "" when none.
func toolParam(w *wire) string {
	given := func(raw json.RawMessage) bool {
		raw = bytes.TrimSpace(raw)
		return len(raw) > 0 && string(raw) != "null" && string(raw) != "[]"
	}
	switch {
	case given(w.Tools):
		return "tools"
	case given(w.ToolChoice) && string(bytes.TrimSpace(w.ToolChoice)) != `"none"`:
		return "tool_choice"
	case given(w.Functions):
		return "functions"
	case given(w.ResponseFormat):
		var rf struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(w.ResponseFormat, &rf) != nil || rf.Type != "text" {
			return "response_format"
		}
	}
	return ""
}

// contentText returns a message's text: a string, null (assistant or tool messages
// only), or an array of parts whose "text" parts are joined by newlines.
func contentText(raw json.RawMessage, param, role string, maxContent int) (string, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		if role == "assistant" || role == "tool" || role == "function" {
			return "", nil
		}
		return "", reqErr(param, "missing_required_parameter", "Missing required parameter: '%s'.", param)
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", reqErr(param, "invalid_type", "Invalid type for '%s': expected a string or an array of parts.", param)
		}
		return s, nil
	case raw[0] == '[':
		var parts []wirePart
		if err := json.Unmarshal(raw, &parts); err != nil {
			return "", reqErr(param, "invalid_type", "Invalid type for '%s': expected an array of content parts.", param)
		}
		if len(parts) > MaxContentParts {
			return "", reqErr(param, "invalid_value", "Invalid '%s': at most %d parts.", param, MaxContentParts)
		}
		var b strings.Builder
		for j, p := range parts {
			if p.Type == nil || *p.Type == "" || len(*p.Type) > maxPartTypeBytes {
				return "", reqErr(fmt.Sprintf("%s[%d].type", param, j), "missing_required_parameter", "Missing required parameter: '%s[%d].type'.", param, j)
			}
			if *p.Type != "text" {
				continue
			}
			if p.Text == nil {
				return "", reqErr(fmt.Sprintf("%s[%d].text", param, j), "missing_required_parameter", "Missing required parameter: '%s[%d].text'.", param, j)
			}
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(*p.Text)
			if b.Len() > maxContent {
				return "", reqErr("messages", "invalid_value", "Invalid 'messages': the contents exceed %d bytes in total.", maxContent)
			}
		}
		return b.String(), nil
	}
	return "", reqErr(param, "invalid_type", "Invalid type for '%s': expected a string or an array of parts.", param)
}

// decodeStop accepts a string or an array of at most MaxStop strings.
func decodeStop(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var out []string
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, reqErr("stop", "invalid_type", "Invalid type for 'stop': expected a string or an array of strings.")
		}
		out = []string{s}
	case '[':
		if err := json.Unmarshal(raw, &out); err != nil {
			return nil, reqErr("stop", "invalid_type", "Invalid type for 'stop': expected a string or an array of strings.")
		}
		if len(out) > MaxStop {
			return nil, reqErr("stop", "invalid_value", "Invalid 'stop': at most %d sequences.", MaxStop)
		}
	default:
		return nil, reqErr("stop", "invalid_type", "Invalid type for 'stop': expected a string or an array of strings.")
	}
	for _, s := range out {
		if s == "" || len(s) > MaxStopBytes {
			return nil, reqErr("stop", "invalid_value", "Invalid 'stop': each sequence must be 1..%d bytes.", MaxStopBytes)
		}
	}
	return out, nil
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

func jsonType(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "int64", "int", "float64":
		return "a number"
	case "slice":
		return "an array"
	case "struct", "map", "ptr":
		return "an object"
	}
	return "another type"
}

// LastUserMessage is the content of the conversation's last user message ("" when
// there is none).
func (r *Request) LastUserMessage() string {
	for i := len(r.Messages) - 1; i >= 0; i-- {
		if r.Messages[i].Role == "user" {
			return r.Messages[i].Content
		}
	}
	return ""
}
