package cache

import (
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Key identifies a cached result: SHA-256 of the canonical encoding of the query's
// identity (see KeyOf).
type Key [32]byte

// Options configures a Store.
type Options struct {
	// Capacity is the maximum number of entries; 0 means 10,000. Negative disables
	// the cache (every Get misses, Put stores nothing).
	Capacity int
	// TTL is how long an entry is served; 0 means 10 minutes.
	TTL time.Duration
	// Shards is the number of lock shards, rounded up to a power of two; 0 means 64.
	Shards int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Defaults of Options.
const (
	DefaultCapacity = 10000
	DefaultTTL      = 10 * time.Minute
	defaultShards   = 64
)

type entry[V any] struct {
	key        Key
	val        V
	expires    int64 // unix nanoseconds
	prev, next *entry[V]
}

type shard[V any] struct {
	mu sync.Mutex
	// mu guards the following fields.
	items map[Key]*entry[V]
	head  entry[V] // sentinel: head.next is the most recently used
	cap   int
}

// Store is a sharded LRU with TTL over values of type V. The zero value is not usable;
// use New.
type Store[V any] struct {
	shards   []shard[V]
	mask     uint64
	ttl      time.Duration
	now      func() time.Time
	disabled bool
	capacity int
	size     atomic.Int64
	gen      atomic.Uint64 // generation: Purge increments it
}

// New builds a Store.
func New[V any](opts Options) (*Store[V], error) {
	if opts.TTL < 0 {
		return nil, fmt.Errorf("ttl %s: %w", opts.TTL, ErrBadOptions)
	}
	s := &Store[V]{ttl: opts.TTL, now: opts.Now}
	if s.ttl == 0 {
		s.ttl = DefaultTTL
	}
	if s.now == nil {
		s.now = time.Now
	}
	capacity := opts.Capacity
	switch {
	case capacity < 0:
		s.disabled = true
		capacity = 0
	case capacity == 0:
		capacity = DefaultCapacity
	}
	s.capacity = capacity
	n := opts.Shards
	if n <= 0 {
		n = defaultShards
	}
	pow := 1
	for pow < n {
		pow <<= 1
	}
	// Never more shards than entries, so every shard holds at least one.
	for pow > 1 && pow > capacity {
		pow >>= 1
	}
	s.shards = make([]shard[V], pow)
	s.mask = uint64(pow - 1)
	per, extra := capacity/pow, capacity%pow
	for i := range s.shards {
		sh := &s.shards[i]
		sh.items = make(map[Key]*entry[V])
		sh.head.next, sh.head.prev = &sh.head, &sh.head
		sh.cap = per
		if i < extra {
			sh.cap++
		}
	}
	return s, nil
}

// Enabled reports whether the store caches anything.
func (s *Store[V]) Enabled() bool { return !s.disabled }

// Capacity returns the configured maximum number of entries.
func (s *Store[V]) Capacity() int { return s.capacity }

// Len returns the number of entries (expired ones included until swept).
func (s *Store[V]) Len() int { return int(s.size.Load()) }

func (s *Store[V]) shardOf(k Key) *shard[V] {
	return &s.shards[binary.LittleEndian.Uint64(k[:8])&s.mask]
}

// Get returns a copy of the live entry for k.
func (s *Store[V]) Get(k Key) (V, bool) {
	var zero V
	if s.disabled {
		return zero, false
	}
	sh := s.shardOf(k)
	now := s.now().UnixNano()
	sh.mu.Lock()
	e, ok := sh.items[k]
	if !ok {
		sh.mu.Unlock()
		return zero, false
	}
	if now >= e.expires {
		sh.removeLocked(e)
		sh.mu.Unlock()
		s.size.Add(-1)
		return zero, false
	}
	sh.moveFrontLocked(e)
	v := e.val
	sh.mu.Unlock()
	return v, true
}

// Put stores r under k, evicting the least recently used entry of k's shard when it is
// full. It reports whether an entry was evicted.
func (s *Store[V]) Put(k Key, r V) (evicted bool) {
	if s.disabled {
		return false
	}
	sh := s.shardOf(k)
	exp := s.now().Add(s.ttl).UnixNano()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e, ok := sh.items[k]; ok {
		e.val, e.expires = r, exp
		sh.moveFrontLocked(e)
		return false
	}
	if len(sh.items) >= sh.cap {
		if old := sh.head.prev; old != &sh.head {
			sh.removeLocked(old)
			s.size.Add(-1)
			evicted = true
		}
	}
	e := &entry[V]{key: k, val: r, expires: exp}
	sh.items[k] = e
	sh.pushFrontLocked(e)
	s.size.Add(1)
	return evicted
}

// Generation returns the store's generation; Purge increments it. A caller that
// computes a value after a miss takes the generation at the miss and stores with
// PutIn, so a value computed from data that changed meanwhile is never stored.
func (s *Store[V]) Generation() uint64 { return s.gen.Load() }

// Purge removes every entry and starts a new generation (the data-lake index
// changed: answers computed from the old one must not be served). It returns how many
// entries it removed.
func (s *Store[V]) Purge() int {
	s.gen.Add(1)
	return s.Trim(0)
}

// PutIn stores r under k as Put does, unless the store was purged since generation
// gen (then nothing is stored). It reports whether r was stored.
func (s *Store[V]) PutIn(gen uint64, k Key, r V) bool {
	if s.disabled || s.gen.Load() != gen {
		return false
	}
	s.Put(k, r)
	// Purge bumps the generation before it clears the shards: an entry put before the
	// bump is cleared by it; one put after is removed here.
	if s.gen.Load() != gen {
		sh := s.shardOf(k)
		sh.mu.Lock()
		if e, ok := sh.items[k]; ok {
			sh.removeLocked(e)
			s.size.Add(-1)
		}
		sh.mu.Unlock()
		return false
	}
	return true
}

// Sweep removes expired entries and returns how many it removed.
func (s *Store[V]) Sweep() int {
	now := s.now().UnixNano()
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for e := sh.head.prev; e != &sh.head; {
			prev := e.prev
			if now >= e.expires {
				sh.removeLocked(e)
				n++
			}
			e = prev
		}
		sh.mu.Unlock()
	}
	s.size.Add(int64(-n))
	return n
}

// Trim evicts least recently used entries, shard by shard, until at most max remain,
// and returns how many it evicted.
func (s *Store[V]) Trim(max int) int {
	if max < 0 {
		max = 0
	}
	per := max / len(s.shards)
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for len(sh.items) > per {
			sh.removeLocked(sh.head.prev)
			n++
		}
		sh.mu.Unlock()
	}
	s.size.Add(int64(-n))
	return n
}

func (sh *shard[V]) removeLocked(e *entry[V]) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
	delete(sh.items, e.key)
}

func (sh *shard[V]) pushFrontLocked(e *entry[V]) {
	e.prev, e.next = &sh.head, sh.head.next
	sh.head.next.prev = e
	sh.head.next = e
}

func (sh *shard[V]) moveFrontLocked(e *entry[V]) {
	if sh.head.next == e {
		return
	}
	e.prev.next, e.next.prev = e.next, e.prev
	sh.pushFrontLocked(e)
}
