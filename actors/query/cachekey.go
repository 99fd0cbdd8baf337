package query

import (
	"fmt"
	"strings"

	"github.com/bizra/bizra/actors/cache"
	"github.com/bizra/bizra/actors/canon"
)

// cacheKeyDomain separates result-cache keys from every other digest.
const cacheKeyDomain = "bizra-cache-v1"

// CacheKey returns the result-cache key of a request (core.md step 2): SHA-256 of the
// canonical encoding of {query (trimmed), context, require_reasoning,
// require_validation, max_depth, user_id}.
func CacheKey(r *Request) (cache.Key, error) {
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
		return cache.Key{}, fmt.Errorf("cache key: %w", err)
	}
	return canon.Sum(cacheKeyDomain, b), nil
}
