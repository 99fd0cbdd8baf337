package inference

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// UpstreamError is a final error answer of a backend: a 4xx other than 429, or the
// last 5xx or 429 once the fallback ran out of backends. It is returned wrapped; the
// OpenAI front renders it unchanged in the OpenAI error shape. Its fields come from the
// upstream's {"error": {...}} body with secrets (API keys, bearer tokens, credentials
// in URLs) redacted; RetryAfter is the upstream's Retry-After header unchanged.
// errors.Is matches ErrBackendRejected (4xx), ErrOverloaded (429) or ErrBackend (5xx).
type UpstreamError struct {
	Status                     int
	Type, Code, Param, Message string
	RetryAfter                 string // "" when absent
	Backend                    string
}

func (e *UpstreamError) Error() string {
	s := "inference: backend " + e.Backend + ": HTTP " + strconv.Itoa(e.Status)
	if e.Type != "" {
		s += " " + e.Type
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Unwrap is the catalog sentinel of the status class.
func (e *UpstreamError) Unwrap() error {
	switch {
	case e.Status == http.StatusTooManyRequests:
		return ErrOverloaded
	case e.Status >= 400 && e.Status < 500:
		return ErrBackendRejected
	}
	return ErrBackend
}

// Bounds of an UpstreamError's fields.
const (
	maxUpstreamMessage = 4096
	maxUpstreamField   = 256
)

var (
	reBearer  = regexp.MustCompile(`(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+`)
	reKey     = regexp.MustCompile(`\b(?:sk|rk|pk|key)-[A-Za-z0-9_-]{6,}`)
	reURLCred = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/\s:@]*:[^/\s@]*@`)
	reKV      = regexp.MustCompile(`(?i)\b(api[_-]?key|access[_-]?token|token|secret|password)(\s*[=:]\s*["']?)[^\s"'&,;]+`)
	reHeader  = regexp.MustCompile(`^[\x21-\x7e][\x20-\x7e]*$`)
)

// redact removes secrets from s (the backend's own API key, bearer tokens, key-like
// tokens, credentials in URLs, key=value secrets) and bounds it to n bytes.
func redact(s, apiKey string, n int) string {
	if apiKey != "" {
		s = strings.ReplaceAll(s, apiKey, "[redacted]")
	}
	s = reBearer.ReplaceAllString(s, "Bearer [redacted]")
	s = reKey.ReplaceAllString(s, "[redacted]")
	s = reURLCred.ReplaceAllString(s, "${1}[redacted]@")
	s = reKV.ReplaceAllString(s, "${1}${2}[redacted]")
	if len(s) > n {
		s = s[:n]
		for len(s) > 0 && !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return strings.ToValidUTF8(s, "")
}

// jsonText is a JSON string or number as text ("" for null, objects, arrays).
func jsonText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// newUpstreamError reads a backend's error answer: the OpenAI shape {"error": {message,
// type, param, code}}, Ollama's {"error": "message"}, or anything else (the message is
// then the status text: an unknown body is not shown to clients).
func newUpstreamError(cfg BackendConfig, status int, body []byte, retryAfter string) *UpstreamError {
	e := &UpstreamError{Status: status, Backend: cfg.Name}
	if ra := strings.TrimSpace(retryAfter); len(ra) <= 64 && reHeader.MatchString(ra) {
		e.RetryAfter = ra
	}
	var r struct {
		Error   json.RawMessage `json:"error"`
		Message json.RawMessage `json:"message"`
	}
	if json.Unmarshal(body, &r) == nil {
		var obj struct {
			Message, Type, Param, Code json.RawMessage
		}
		switch {
		case json.Unmarshal(r.Error, &obj) == nil && obj.Message != nil:
			e.Message, e.Type = jsonText(obj.Message), jsonText(obj.Type)
			e.Param, e.Code = jsonText(obj.Param), jsonText(obj.Code)
		case jsonText(r.Error) != "":
			e.Message = jsonText(r.Error)
		case jsonText(r.Message) != "":
			e.Message = jsonText(r.Message)
		}
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	e.Message = redact(e.Message, cfg.APIKey, maxUpstreamMessage)
	e.Type = redact(e.Type, cfg.APIKey, maxUpstreamField)
	e.Param = redact(e.Param, cfg.APIKey, maxUpstreamField)
	e.Code = redact(e.Code, cfg.APIKey, maxUpstreamField)
	return e
}

// Forwarded headers: only these reach a backend (ChatRequest.Headers,
// ForwardRequest.Headers), under their canonical names.
var forwardedHeaders = map[string]string{
	"traceparent":  "traceparent",
	"tracestate":   "tracestate",
	"x-request-id": "X-Request-Id",
}

// maxForwardedHeader bounds a forwarded header's value.
const maxForwardedHeader = 1024

// forwardHeaders keeps the forwarded headers of h (other names are dropped) and refuses
// a malformed value.
func forwardHeaders(h map[string]string) (map[string]string, error) {
	if len(h) == 0 {
		return nil, nil
	}
	var out map[string]string
	for k, v := range h {
		name, ok := forwardedHeaders[strings.ToLower(k)]
		if !ok || v == "" {
			continue
		}
		if len(v) > maxForwardedHeader || !reHeader.MatchString(v) {
			return nil, fmt.Errorf("header %s: 1..%d printable ASCII bytes: %w", name, maxForwardedHeader, ErrInvalidRequest)
		}
		if out == nil {
			out = map[string]string{}
		}
		out[name] = v
	}
	return out, nil
}
