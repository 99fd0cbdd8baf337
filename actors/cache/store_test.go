package cache

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bizra/bizra/actors/query"
)

type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

func key(t testing.TB, q string) Key {
	t.Helper()
	r := query.NewRequest(q)
	k, err := KeyOf(&r)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestGetPutTTLEviction(t *testing.T) {
	clk := &fakeClock{}
	clk.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	s, err := New(Options{Capacity: 2, Shards: 1, TTL: time.Minute, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := key(t, "a"), key(t, "b"), key(t, "c")
	if _, ok := s.Get(a); ok {
		t.Fatal("hit on empty store")
	}
	s.Put(a, query.Result{Response: "A"})
	s.Put(b, query.Result{Response: "B"})
	if r, ok := s.Get(a); !ok || r.Response != "A" {
		t.Fatalf("got %q %v; want A true", r.Response, ok)
	}
	// a is now most recent, so c evicts b.
	if ev := s.Put(c, query.Result{Response: "C"}); !ev {
		t.Fatal("no eviction at capacity")
	}
	if _, ok := s.Get(b); ok {
		t.Fatal("least recently used entry survived eviction")
	}
	if s.Len() != 2 {
		t.Fatalf("len %d; want 2", s.Len())
	}
	clk.advance(time.Minute)
	if _, ok := s.Get(a); ok {
		t.Fatal("expired entry served")
	}
	if n := s.Sweep(); n != 1 {
		t.Fatalf("sweep removed %d; want 1 (c)", n)
	}
	if s.Len() != 0 {
		t.Fatalf("len %d after expiry; want 0", s.Len())
	}
}

func TestGetReturnsCopy(t *testing.T) {
	s, _ := New(Options{})
	k := key(t, "copy")
	s.Put(k, query.Result{Response: "x"})
	r, _ := s.Get(k)
	r.Response, r.Cached = "mutated", true
	again, _ := s.Get(k)
	if again.Response != "x" || again.Cached {
		t.Fatalf("store entry changed through a returned value: %+v", again)
	}
}

func TestDisabledAndOptions(t *testing.T) {
	s, err := New(Options{Capacity: -1})
	if err != nil {
		t.Fatal(err)
	}
	k := key(t, "q")
	s.Put(k, query.Result{})
	if _, ok := s.Get(k); ok || s.Enabled() {
		t.Fatal("disabled cache served a hit")
	}
	if _, err := New(Options{TTL: -time.Second}); err == nil {
		t.Fatal("negative TTL accepted")
	}
}

func TestKeyOf(t *testing.T) {
	base := query.NewRequest("  how do I check bridge health?  ")
	k0, _ := KeyOf(&base)
	trimmed := query.NewRequest("how do I check bridge health?")
	if k1, _ := KeyOf(&trimmed); k1 != k0 {
		t.Fatal("surrounding whitespace changed the key")
	}
	tests := []struct {
		name string
		mod  func(r *query.Request)
	}{
		{"max_depth", func(r *query.Request) { r.MaxDepth = 4 }},
		{"user", func(r *query.Request) { r.UserID = "u" }},
		{"reasoning", func(r *query.Request) { r.RequireReasoning = false }},
		{"validation", func(r *query.Request) { r.RequireValidation = false }},
		{"context", func(r *query.Request) { r.Context = map[string]any{"k": 1} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := base
			tt.mod(&r)
			if k, _ := KeyOf(&r); k == k0 {
				t.Fatalf("changing %s kept the key", tt.name)
			}
		})
	}
	// The key is the domain digest of the golden canonical bytes in testdata/canon
	// (computed independently with python3 hashlib).
	r := query.NewRequest("how do I check bridge health?")
	k, _ := KeyOf(&r)
	const want = "13ea748f3e26b0a3d6247bb04d08d8511250d8e5f6ee80ad1065b013dec5d1ce"
	if got := fmt.Sprintf("%x", k[:]); got != want {
		t.Fatalf("cache key %s; want %s", got, want)
	}
}

func TestConcurrentAccess(t *testing.T) {
	s, _ := New(Options{Capacity: 100})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				k := key(t, fmt.Sprintf("%d-%d", g, i%150))
				s.Put(k, query.Result{Response: "v"})
				s.Get(k)
			}
		})
	}
	wg.Wait()
	if s.Len() > 100 {
		t.Fatalf("len %d exceeds capacity 100", s.Len())
	}
}
