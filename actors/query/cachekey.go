package query

import (
	"fmt"
	"strings"

	"github.com/bizra/bizra/actors/cache"
	"github.com/bizra/bizra/internal/canon"
)

// cacheKeyDomain separates result-cache keys from every other digest.
const cacheKeyDomain = "bizra-cache-v1"

// CacheKey returns the result-cache key of a request (core.md step 2): SHA-256 of the
// canonical encoding of {query (trimmed), context, require_reasoning,
// require_validation, max_depth, user_id}.
func CacheKey(r *Request) (cache.Key, error) {
	var buf [512]byte
	trimmed := *r
	trimmed.Query = strings.TrimSpace(r.Query)
	b, err := identity{&trimmed}.AppendCanonical(buf[:0])
	if err != nil {
		return cache.Key{}, fmt.Errorf("cache key: %w", err)
	}
	return canon.Sum(cacheKeyDomain, b), nil
}
