package bridge

import (
	"math"
	"sync"
	"time"
)

// bucket is a token bucket. The zero rate means "off" (always allows). A bucket owned
// by one connection's reader needs no lock; the global one is wrapped in lockedBucket.
type bucket struct {
	rate   float64 // tokens per second
	burst  float64
	tokens float64
	last   time.Time
}

func newBucket(rate float64, burst int, now time.Time) bucket {
	return bucket{rate: rate, burst: float64(burst), tokens: float64(burst), last: now}
}

// take consumes one token. When none is left it reports how long until one is.
func (b *bucket) take(now time.Time) (ok bool, retryAfter time.Duration) {
	if b.rate <= 0 {
		return true, 0
	}
	if el := now.Sub(b.last); el > 0 {
		b.tokens = math.Min(b.burst, b.tokens+el.Seconds()*b.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	need := (1 - b.tokens) / b.rate
	return false, time.Duration(math.Ceil(need * float64(time.Second)))
}

// lockedBucket is a bucket shared by every connection.
type lockedBucket struct {
	mu sync.Mutex
	b  bucket
}

func (l *lockedBucket) take(now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.take(now)
}

// retryMs rounds a retry delay up to whole milliseconds (at least 1).
func retryMs(d time.Duration) int64 {
	ms := (d + time.Millisecond - 1) / time.Millisecond
	return max(1, int64(ms))
}
