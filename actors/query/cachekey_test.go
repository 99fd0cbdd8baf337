package query

import (
	"fmt"
	"testing"
)

func TestCacheKey(t *testing.T) {
	base := NewRequest("  how do I check bridge health?  ")
	k0, _ := CacheKey(&base)
	trimmed := NewRequest("how do I check bridge health?")
	if k1, _ := CacheKey(&trimmed); k1 != k0 {
		t.Fatal("surrounding whitespace changed the key")
	}
	tests := []struct {
		name string
		mod  func(r *Request)
	}{
		{"max_depth", func(r *Request) { r.MaxDepth = 4 }},
		{"user", func(r *Request) { r.UserID = "u" }},
		{"reasoning", func(r *Request) { r.RequireReasoning = false }},
		{"validation", func(r *Request) { r.RequireValidation = false }},
		{"context", func(r *Request) { r.Context = map[string]any{"k": 1} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := base
			tt.mod(&r)
			if k, _ := CacheKey(&r); k == k0 {
				t.Fatalf("changing %s kept the key", tt.name)
			}
		})
	}
	// The key is the domain digest of the golden canonical bytes in testdata/canon
	// (computed independently with python3 hashlib).
	r := NewRequest("how do I check bridge health?")
	k, _ := CacheKey(&r)
	const want = "13ea748f3e26b0a3d6247bb04d08d8511250d8e5f6ee80ad1065b013dec5d1ce"
	if got := fmt.Sprintf("%x", k[:]); got != want {
		t.Fatalf("cache key %s; want %s", got, want)
	}
}

func BenchmarkCacheKey(b *testing.B) {
	r := NewRequest("how do I check bridge health?")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := CacheKey(&r); err != nil {
			b.Fatal(err)
		}
	}
}
