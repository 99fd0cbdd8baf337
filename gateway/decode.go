package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/bizra/bizra/actors/query"
)

// queryBody mirrors the POST /v1/query fields as raw values, so each one can be
// checked and named on its own.
type queryBody struct {
	Query             json.RawMessage `json:"query"`
	Context           json.RawMessage `json:"context"`
	RequireReasoning  json.RawMessage `json:"require_reasoning"`
	RequireValidation json.RawMessage `json:"require_validation"`
	MaxDepth          json.RawMessage `json:"max_depth"`
	TimeoutMs         json.RawMessage `json:"timeout_ms"`
	UserID            json.RawMessage `json:"user_id"`
}

// DecodeQuery parses and validates a POST /v1/query body (api.md). Errors wrap
// ErrInvalidJSON or ErrInvalidQuery with a public detail naming the field.
func DecodeQuery(body []byte) (query.Request, error) {
	var qb queryBody
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return query.Request{}, withDetail(ErrInvalidJSON, "empty body")
	}
	if !utf8.Valid(body) {
		return query.Request{}, withDetail(ErrInvalidJSON, "body is not valid UTF-8")
	}
	if body[0] != '{' {
		if !json.Valid(body) {
			return query.Request{}, ErrInvalidJSON
		}
		return query.Request{}, withDetail(ErrInvalidQuery, "body must be a JSON object")
	}
	if err := json.Unmarshal(body, &qb); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return query.Request{}, withDetail(ErrInvalidQuery, "body must be a JSON object")
		}
		return query.Request{}, ErrInvalidJSON
	}
	req := query.NewRequest("")
	var err error
	if req.Query, err = decodeString(qb.Query, "query", true); err != nil {
		return req, err
	}
	req.Query = strings.TrimSpace(req.Query)
	if len(qb.Context) > 0 && string(qb.Context) != "null" {
		var m map[string]any
		dec := json.NewDecoder(bytes.NewReader(qb.Context))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil || m == nil {
			return req, withDetail(ErrInvalidQuery, "context: must be an object")
		}
		req.Context = m
	}
	if req.RequireReasoning, err = decodeBool(qb.RequireReasoning, "require_reasoning", true); err != nil {
		return req, err
	}
	if req.RequireValidation, err = decodeBool(qb.RequireValidation, "require_validation", true); err != nil {
		return req, err
	}
	if req.MaxDepth, err = decodeInt(qb.MaxDepth, "max_depth", query.DefaultMaxDepth); err != nil {
		return req, err
	}
	if req.TimeoutMs, err = decodeInt(qb.TimeoutMs, "timeout_ms", query.DefaultTimeoutMs); err != nil {
		return req, err
	}
	if req.UserID, err = decodeString(qb.UserID, "user_id", false); err != nil {
		return req, err
	}
	// Ranges and sizes are the core's rules, checked in one place for every front door.
	return req, query.Validate(&req)
}

func decodeString(raw json.RawMessage, field string, required bool) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		if required {
			return "", withDetail(ErrInvalidQuery, field+": required")
		}
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", withDetail(ErrInvalidQuery, field+": must be a string")
	}
	return s, nil
}

func decodeBool(raw json.RawMessage, field string, def bool) (bool, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return def, nil
	}
	switch string(raw) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return def, withDetail(ErrInvalidQuery, field+": must be a boolean")
}

// decodeInt reads an integral JSON number (3, 3.0, 1e3). Its range is query.Validate's
// to judge; numbers beyond ±2^31 are not integers any field accepts, and refusing
// them here keeps the conversion exact.
func decodeInt(raw json.RawMessage, field string, def int) (int, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return def, nil
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil || f != float64(int64(f)) || f < math.MinInt32 || f > math.MaxInt32 {
		return def, withDetail(ErrInvalidQuery, field+": must be an integer")
	}
	return int(f), nil
}
