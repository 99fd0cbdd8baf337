package gateway

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
	"golang.org/x/time/rate"
)

// apiKeys holds the configured keys as fixed-size digests, so comparison is constant
// time whatever the presented key's length.
type apiKeys struct {
	digests [][32]byte
	ids     []string
}

func newAPIKeys(keys []string) apiKeys {
	var k apiKeys
	for _, key := range keys {
		if key == "" {
			continue
		}
		d := sha256.Sum256([]byte(key))
		k.digests = append(k.digests, d)
		k.ids = append(k.ids, "key-"+hex.EncodeToString(d[:4]))
	}
	return k
}

func (k apiKeys) enabled() bool { return len(k.digests) > 0 }

// check finds the presented key (X-API-Key, or Authorization: Bearer) and returns the
// key's public id. Every configured key is compared, so timing does not tell which
// one matched.
func (k apiKeys) check(ctx *fasthttp.RequestCtx) (string, bool) {
	presented := ctx.Request.Header.Peek("X-API-Key")
	if len(presented) == 0 {
		auth := ctx.Request.Header.Peek("Authorization")
		const bearer = "Bearer "
		if len(auth) > len(bearer) && string(auth[:len(bearer)]) == bearer {
			presented = auth[len(bearer):]
		}
	}
	if len(presented) == 0 {
		return "", false
	}
	d := sha256.Sum256(presented)
	match := -1
	for i := range k.digests {
		if subtle.ConstantTimeCompare(d[:], k.digests[i][:]) == 1 {
			match = i
		}
	}
	if match < 0 {
		return "", false
	}
	return k.ids[match], true
}

// limiter is a token bucket per key, bounded in the number of keys it tracks.
type limiter struct {
	perSec float64
	burst  int
	mu     sync.Mutex
	// mu guards the following fields.
	buckets map[string]*bucket
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

const maxBuckets = 65536

func newLimiter(perSec float64, burst int) *limiter {
	if perSec <= 0 {
		return nil
	}
	if burst <= 0 {
		burst = int(perSec)
		if burst < 1 {
			burst = 1
		}
	}
	return &limiter{perSec: perSec, burst: burst, buckets: map[string]*bucket{}}
}

// allow takes one token for key; when the bucket is empty it returns how long until
// the next token.
func (l *limiter) allow(key string, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			l.pruneLocked(now)
		}
		b = &bucket{lim: rate.NewLimiter(rate.Limit(l.perSec), l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	l.mu.Unlock()
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d, false
	}
	return 0, true
}

// pruneLocked drops buckets that have refilled (idle longer than a full refill); if
// that frees nothing, it drops the oldest half.
func (l *limiter) pruneLocked(now time.Time) {
	full := time.Duration(float64(l.burst)/l.perSec*float64(time.Second)) + time.Second
	for k, b := range l.buckets {
		if now.Sub(b.seen) > full {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) < maxBuckets {
		return
	}
	i := 0
	for k := range l.buckets {
		if i%2 == 0 {
			delete(l.buckets, k)
		}
		i++
	}
}
