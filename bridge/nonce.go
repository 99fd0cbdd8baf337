package bridge

import (
	"sync"
	"time"
)

// nonceSlots is the number of time buckets covering the window, plus one being filled.
const nonceSlots = 4

// Nonce states in the store.
const (
	nonceRateLimited uint8 = 1 // seen on a rate-limited request: a retry may still use it
	nonceUsed        uint8 = 2 // admitted: any further use is a replay
)

type nonceResult uint8

const (
	nonceOK nonceResult = iota
	nonceReplay
	nonceFull
)

// nonceStore remembers nonces for at least window (2 × MaxSkew) after they were first
// seen, in nonceSlots+1 rotating maps of window/nonceSlots each: a whole map is dropped
// once it is older than the window, so there is no per-entry expiry. It holds at most
// max entries and refuses new ones when full rather than forgetting any early.
type nonceStore struct {
	width int64 // bucket width in ns
	max   int

	mu sync.Mutex
	// mu guards the following fields.
	slots [nonceSlots + 1]nonceSlot
	count int
}

type nonceSlot struct {
	idx int64
	m   map[string]uint8
}

func newNonceStore(window time.Duration, max int) *nonceStore {
	w := int64(window) / nonceSlots
	if w <= 0 {
		w = 1
	}
	return &nonceStore{width: w, max: max}
}

// sweepLocked drops the buckets older than the window and returns the current index.
func (s *nonceStore) sweepLocked(now time.Time) int64 {
	cur := now.UnixNano() / s.width
	for i := range s.slots {
		sl := &s.slots[i]
		if sl.m != nil && sl.idx < cur-nonceSlots {
			s.count -= len(sl.m)
			sl.m = nil
		}
	}
	return cur
}

func (s *nonceStore) findLocked(nonce string) (*nonceSlot, uint8) {
	for i := range s.slots {
		sl := &s.slots[i]
		if sl.m == nil {
			continue
		}
		if st, ok := sl.m[nonce]; ok {
			return sl, st
		}
	}
	return nil, 0
}

func (s *nonceStore) insertLocked(cur int64, nonce string, st uint8) {
	sl := &s.slots[int(cur%(nonceSlots+1))]
	if sl.m == nil || sl.idx != cur {
		s.count -= len(sl.m)
		sl.m = make(map[string]uint8)
		sl.idx = cur
	}
	sl.m[nonce] = st
	s.count++
}

// use records nonce as admitted.
func (s *nonceStore) use(nonce string, now time.Time) nonceResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.sweepLocked(now)
	if sl, st := s.findLocked(nonce); sl != nil {
		if st == nonceUsed {
			return nonceReplay
		}
		sl.m[nonce] = nonceUsed
		return nonceOK
	}
	if s.count >= s.max {
		return nonceFull
	}
	s.insertLocked(cur, nonce, nonceUsed)
	return nonceOK
}

// markRateLimited notes a rate-limited request's nonce without spending it. It
// reports whether the nonce was new, i.e. whether this request deserves a receipt
// (a nonce already seen means a retry or a replay, which gets none).
func (s *nonceStore) markRateLimited(nonce string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.sweepLocked(now)
	if sl, _ := s.findLocked(nonce); sl != nil {
		return false
	}
	if s.count >= s.max {
		return false
	}
	s.insertLocked(cur, nonce, nonceRateLimited)
	return true
}

// size returns the number of remembered nonces.
func (s *nonceStore) size(now time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(now)
	return s.count
}
