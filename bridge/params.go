package bridge

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// paramError is an invalid params member: -32602 with data.member naming it.
type paramError struct {
	member string
	detail string
}

func (e *paramError) Error() string { return "bridge: invalid params: " + e.member + ": " + e.detail }

func badParam(member, detail string) error { return &paramError{member: member, detail: detail} }

// paramObject decodes params that must be by-name. Absent or null is {}.
func paramObject(raw json.RawMessage) (map[string]json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return map[string]json.RawMessage{}, nil
	}
	if raw[0] != '{' {
		return nil, badParam("params", "must be an object")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, badParam("params", "must be an object")
	}
	return m, nil
}

// noParams accepts absent, null, an object or an array (members ignored).
func noParams(raw json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] == '{' || raw[0] == '[' || string(raw) == "null" {
		return nil
	}
	return badParam("params", "must be an object")
}

func present(m map[string]json.RawMessage, name string) (json.RawMessage, bool) {
	v, ok := m[name]
	if !ok || string(v) == "null" {
		return nil, false
	}
	return v, true
}

// str reads an optional string member of at most maxChars characters.
func str(m map[string]json.RawMessage, name string, maxChars int) (string, bool, error) {
	v, ok := present(m, name)
	if !ok {
		return "", false, nil
	}
	s, ok := rawString(v)
	if !ok {
		return "", false, badParam(name, "must be a string")
	}
	if maxChars > 0 && utf8.RuneCountInString(s) > maxChars {
		return "", false, badParam(name, "at most "+strconv.Itoa(maxChars)+" characters")
	}
	return s, true, nil
}

// requiredStr reads a required, non-blank string member.
func requiredStr(m map[string]json.RawMessage, name string, maxChars int) (string, error) {
	s, ok, err := str(m, name, maxChars)
	if err != nil {
		return "", err
	}
	if !ok || strings.TrimSpace(s) == "" {
		return "", badParam(name, "required, a non-blank string")
	}
	return s, nil
}

func boolean(m map[string]json.RawMessage, name string, def bool) (bool, error) {
	v, ok := present(m, name)
	if !ok {
		return def, nil
	}
	switch string(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, badParam(name, "must be a boolean")
}

// integer reads an optional integral member (3, 3.0, 1e3). Its range is
// query.Validate's to judge; numbers beyond ±2^31 are not integers any member accepts,
// as the gateway's decoder says too.
func integer(m map[string]json.RawMessage, name string, def int) (int, error) {
	v, ok := present(m, name)
	if !ok {
		return def, nil
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		// Accept integral JSON numbers written with a fraction or exponent (3.0, 1e3).
		f, ferr := strconv.ParseFloat(string(v), 64)
		if ferr != nil || v[0] == '"' || f != float64(int64(f)) {
			return 0, badParam(name, "must be an integer")
		}
		n = int64(f)
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		return 0, badParam(name, "must be an integer")
	}
	return int(n), nil
}

// object reads an optional object member.
func object(m map[string]json.RawMessage, name string) (map[string]any, json.RawMessage, error) {
	v, ok := present(m, name)
	if !ok {
		return nil, nil, nil
	}
	if v[0] != '{' {
		return nil, nil, badParam(name, "must be an object")
	}
	var out map[string]any
	if err := json.Unmarshal(v, &out); err != nil {
		return nil, nil, badParam(name, "must be an object")
	}
	return out, v, nil
}
