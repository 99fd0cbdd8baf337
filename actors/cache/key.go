package cache

import (
	"fmt"
	"strings"

	"github.com/bizra/bizra/actors/canon"
	"github.com/bizra/bizra/actors/query"
)

// keyDomain separates cache keys from every other digest.
const keyDomain = "bizra-cache-v1"

// KeyOf returns the cache key of a request: SHA-256 of the canonical encoding of
// {query (trimmed), context, require_reasoning, require_validation, max_depth, user_id}.
func KeyOf(r *query.Request) (Key, error) {
	ctx := r.Context
	if ctx == nil {
		ctx = map[string]any{}
	}
	b, err := canon.Marshal(struct {
		Query             string         `json:"query"`
		Context           map[string]any `json:"context"`
		RequireReasoning  bool           `json:"require_reasoning"`
		RequireValidation bool           `json:"require_validation"`
		MaxDepth          int            `json:"max_depth"`
		UserID            string         `json:"user_id"`
	}{strings.TrimSpace(r.Query), ctx, r.RequireReasoning, r.RequireValidation, r.MaxDepth, r.UserID})
	if err != nil {
		return Key{}, fmt.Errorf("cache key: %w", err)
	}
	return canon.Sum(keyDomain, b), nil
}
