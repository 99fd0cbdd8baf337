package openai

import "github.com/bizra/bizra/internal/canon"

// The receipt documents write their own RFC 8785 encoding (canon.Canonicaler): the
// generic path (encoding/json, then a JCS transform) cost about a sixth of the
// pass-through's CPU. Members are in sorted order; TestCanonicalMatchesGeneric pins the
// bytes against the generic path.

// AppendCanonical implements canon.Canonicaler.
func (p receiptParams) AppendCanonical(dst []byte) ([]byte, error) {
	var err error
	dst = canon.AppendKey(append(dst, '{'), "max_tokens", true)
	if dst, err = canon.AppendNumber(dst, float64(p.MaxTokens)); err != nil {
		return dst, err
	}
	dst = canon.AppendKey(dst, "messages", false)
	if p.Messages == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i, m := range p.Messages {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = canon.AppendString(canon.AppendKey(append(dst, '{'), "content", true), m.Content)
			if m.Name != "" {
				dst = canon.AppendString(canon.AppendKey(dst, "name", false), m.Name)
			}
			dst = append(canon.AppendString(canon.AppendKey(dst, "role", false), m.Role), '}')
		}
		dst = append(dst, ']')
	}
	dst = canon.AppendString(canon.AppendKey(dst, "model", false), p.Model)
	dst = canon.AppendKey(dst, "stop", false)
	if p.Stop == nil {
		dst = append(dst, "null"...)
	} else {
		dst = canon.AppendStrings(dst, p.Stop)
	}
	dst = canon.AppendBool(canon.AppendKey(dst, "stream", false), p.Stream)
	if dst, err = appendOptNumber(canon.AppendKey(dst, "temperature", false), p.Temperature); err != nil {
		return dst, err
	}
	if dst, err = appendOptNumber(canon.AppendKey(dst, "top_p", false), p.TopP); err != nil {
		return dst, err
	}
	dst = canon.AppendString(canon.AppendKey(dst, "user", false), p.User)
	dst = canon.AppendString(canon.AppendKey(dst, "user_id", false), p.UserID)
	return append(dst, '}'), nil
}

func appendOptNumber(dst []byte, f *float64) ([]byte, error) {
	if f == nil {
		return append(dst, "null"...), nil
	}
	return canon.AppendNumber(dst, *f)
}

// AppendCanonical implements canon.Canonicaler.
func (p receiptPayload) AppendCanonical(dst []byte) ([]byte, error) {
	var err error
	dst = canon.AppendString(canon.AppendKey(append(dst, '{'), "backend", true), p.Backend)
	if p.Chunks != 0 {
		if dst, err = canon.AppendNumber(canon.AppendKey(dst, "chunks", false), float64(p.Chunks)); err != nil {
			return dst, err
		}
	}
	if dst, err = canon.AppendNumber(canon.AppendKey(dst, "completion_tokens", false), float64(p.CompletionTokens)); err != nil {
		return dst, err
	}
	dst = canon.AppendString(canon.AppendKey(dst, "model", false), p.Model)
	dst = canon.AppendString(canon.AppendKey(dst, "outcome", false), p.Outcome)
	if dst, err = canon.AppendNumber(canon.AppendKey(dst, "prompt_tokens", false), float64(p.PromptTokens)); err != nil {
		return dst, err
	}
	dst = canon.AppendString(canon.AppendKey(dst, "response_sha256", false), p.ResponseSHA256)
	dst = canon.AppendBool(canon.AppendKey(dst, "usage_reported", false), p.UsageReported)
	return append(dst, '}'), nil
}
