package cache

import (
	"crypto/sha256"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

type result struct {
	Response string
	Cached   bool
}

func key(_ testing.TB, q string) Key { return Key(sha256.Sum256([]byte(q))) }

func TestGetPutTTLEviction(t *testing.T) {
	clk := &fakeClock{}
	clk.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	s, err := New[result](Options{Capacity: 2, Shards: 1, TTL: time.Minute, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := key(t, "a"), key(t, "b"), key(t, "c")
	if _, ok := s.Get(a); ok {
		t.Fatal("hit on empty store")
	}
	s.Put(a, result{Response: "A"})
	s.Put(b, result{Response: "B"})
	if r, ok := s.Get(a); !ok || r.Response != "A" {
		t.Fatalf("got %q %v; want A true", r.Response, ok)
	}
	// a is now most recent, so c evicts b.
	if ev := s.Put(c, result{Response: "C"}); !ev {
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
	s, _ := New[result](Options{})
	k := key(t, "copy")
	s.Put(k, result{Response: "x"})
	r, _ := s.Get(k)
	r.Response, r.Cached = "mutated", true
	again, _ := s.Get(k)
	if again.Response != "x" || again.Cached {
		t.Fatalf("store entry changed through a returned value: %+v", again)
	}
}

func TestDisabledAndOptions(t *testing.T) {
	s, err := New[result](Options{Capacity: -1})
	if err != nil {
		t.Fatal(err)
	}
	k := key(t, "q")
	s.Put(k, result{})
	if _, ok := s.Get(k); ok || s.Enabled() {
		t.Fatal("disabled cache served a hit")
	}
	if _, err := New[result](Options{TTL: -time.Second}); err == nil {
		t.Fatal("negative TTL accepted")
	}
}

func TestConcurrentAccess(t *testing.T) {
	s, _ := New[result](Options{Capacity: 100})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				k := key(t, fmt.Sprintf("%d-%d", g, i%150))
				s.Put(k, result{Response: "v"})
				s.Get(k)
			}
		})
	}
	wg.Wait()
	if s.Len() > 100 {
		t.Fatalf("len %d exceeds capacity 100", s.Len())
	}
}

// TestPurgeGenerations: Purge empties the store, and a value computed before a purge
// (PutIn with the older generation) is never stored, even racing the purge.
func TestPurgeGenerations(t *testing.T) {
	s, err := New[result](Options{Capacity: 64})
	if err != nil {
		t.Fatal(err)
	}
	g0 := s.Generation()
	if !s.PutIn(g0, key(t, "a"), result{Response: "A"}) || s.Len() != 1 {
		t.Fatal("PutIn in the current generation did not store")
	}
	if n := s.Purge(); n != 1 || s.Len() != 0 {
		t.Fatalf("Purge removed %d, %d left", n, s.Len())
	}
	if _, ok := s.Get(key(t, "a")); ok {
		t.Fatal("purged entry served")
	}
	if s.PutIn(g0, key(t, "b"), result{Response: "B"}) || s.Len() != 0 {
		t.Fatal("a value of the old generation was stored after the purge")
	}
	// Racing: every PutIn that reports true was stored in a generation no Purge has
	// ended yet; after the last Purge, nothing of an older generation remains.
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				s.PutIn(s.Generation(), key(t, fmt.Sprint(w, i)), result{})
			}
		})
	}
	for range 50 {
		s.Purge()
	}
	wg.Wait()
	last := s.Generation()
	s.Purge()
	if s.Len() != 0 || s.PutIn(last, key(t, "late"), result{}) {
		t.Fatalf("%d entries after the final purge", s.Len())
	}
}
