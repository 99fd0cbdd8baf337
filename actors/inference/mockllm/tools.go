package mockllm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// UnmarshalJSON reads a chat message whose content is a string, null, or an array of
// content parts (the text of the text parts, concatenated).
func (m *Message) UnmarshalJSON(b []byte) error {
	var raw struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	m.Role = raw.Role
	m.Content = ""
	c := bytes.TrimSpace(raw.Content)
	if len(c) == 0 || bytes.Equal(c, []byte("null")) {
		return nil
	}
	if c[0] == '"' {
		return json.Unmarshal(c, &m.Content)
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(c, &parts); err != nil {
		return fmt.Errorf("mockllm: message content: %w", err)
	}
	var sb strings.Builder
	for _, p := range parts {
		sb.WriteString(p.Text)
	}
	m.Content = sb.String()
	return nil
}

// tool is one entry of a chat request's "tools".
type tool struct {
	Type     string `json:"type"`
	Function struct {
		Name       string          `json:"name"`
		Parameters json.RawMessage `json:"parameters"`
	} `json:"function"`
}

// responseFormat is a chat request's "response_format".
type responseFormat struct {
	Type       string `json:"type"`
	JSONSchema *struct {
		Name   string          `json:"name"`
		Schema json.RawMessage `json:"schema"`
	} `json:"json_schema"`
}

// toolCall is the mock's decision to call a tool: the function and its JSON arguments.
type toolCall struct {
	name, args string
}

// chooseTool decides whether a chat request with tools gets a tool call: not when
// tool_choice is "none" or the last message is a tool's answer (then the model
// answers with text). The tool is the one tool_choice names, else the first. Its
// arguments are Options.ToolArguments[name], else Options.Structured, else an object
// generated from the function's parameter schema.
func chooseTool(req *chatRequest, opts *Options) (toolCall, bool) {
	if len(req.Tools) == 0 {
		return toolCall{}, false
	}
	if n := len(req.Messages); n > 0 && req.Messages[n-1].Role == "tool" {
		return toolCall{}, false
	}
	var choice struct {
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	var mode string
	if json.Unmarshal(req.ToolChoice, &mode) == nil && mode == "none" {
		return toolCall{}, false
	}
	t := req.Tools[0]
	if json.Unmarshal(req.ToolChoice, &choice) == nil && choice.Function.Name != "" {
		i := slices.IndexFunc(req.Tools, func(t tool) bool { return t.Function.Name == choice.Function.Name })
		if i >= 0 {
			t = req.Tools[i]
		}
	}
	name := t.Function.Name
	if a, ok := opts.ToolArguments[name]; ok {
		return toolCall{name: name, args: a}, true
	}
	if opts.Structured != "" {
		return toolCall{name: name, args: opts.Structured}, true
	}
	return toolCall{name: name, args: string(fromSchema(t.Function.Parameters))}, true
}

// structuredAnswer is the content of an answer to response_format json_schema or
// json_object: Options.Structured, else an object generated from the schema.
func structuredAnswer(rf *responseFormat, opts *Options) (string, bool) {
	if rf == nil || (rf.Type != "json_schema" && rf.Type != "json_object") {
		return "", false
	}
	if opts.Structured != "" {
		return opts.Structured, true
	}
	var schema json.RawMessage
	if rf.JSONSchema != nil {
		schema = rf.JSONSchema.Schema
	}
	return string(fromSchema(schema)), true
}

// fromSchema generates a deterministic JSON value that satisfies a simple JSON schema:
// objects with every property (in name order), strings "mock" (or the first enum
// value), numbers 1, booleans true, arrays with one item. Anything else is {}.
func fromSchema(schema json.RawMessage) []byte {
	var s map[string]any
	if json.Unmarshal(schema, &s) != nil || s == nil {
		return []byte("{}")
	}
	b, err := json.Marshal(valueOf(s, 0))
	if err != nil {
		return []byte("{}")
	}
	return b
}

func valueOf(s map[string]any, depth int) any {
	if depth > 8 {
		return nil
	}
	if e, ok := s["enum"].([]any); ok && len(e) > 0 {
		return e[0]
	}
	typ, _ := s["type"].(string)
	if ts, ok := s["type"].([]any); ok && len(ts) > 0 {
		typ, _ = ts[0].(string)
	}
	switch typ {
	case "string":
		return "mock"
	case "number", "integer":
		return 1
	case "boolean":
		return true
	case "array":
		item, _ := s["items"].(map[string]any)
		if item == nil {
			return []any{}
		}
		return []any{valueOf(item, depth+1)}
	}
	props, _ := s["properties"].(map[string]any)
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := map[string]any{}
	for _, k := range keys {
		p, _ := props[k].(map[string]any)
		if p == nil {
			p = map[string]any{}
		}
		out[k] = valueOf(p, depth+1)
	}
	return out
}
