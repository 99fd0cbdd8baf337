package inference

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// Retry is the retry policy of the external backends.
type Retry struct {
	Min      time.Duration // first backoff; 0 → 100ms
	Max      time.Duration // backoff cap (also caps Retry-After); 0 → 2s
	Attempts int           // total attempts including the first; 0 → 3, 1 = no retry
}

func (r Retry) withDefaults() Retry {
	if r.Min <= 0 {
		r.Min = 100 * time.Millisecond
	}
	if r.Max <= 0 {
		r.Max = 2 * time.Second
	}
	if r.Max < r.Min {
		r.Max = r.Min
	}
	if r.Attempts <= 0 {
		r.Attempts = 3
	}
	return r
}

// backoff is the wait before retry n+1: Min·2^n capped at Max, with "equal jitter"
// (uniform in [d/2, d]) so synchronized clients spread out.
func (r Retry) backoff(n int) time.Duration {
	d := r.Max
	if n < 30 {
		if e := r.Min << n; e > 0 && e < r.Max {
			d = e
		}
	}
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(half)+1))
}

// withRetries runs attempt, the single request-with-retries of every backend call
// (pipeline and pass-through): connection failures and 5xx are retried against the same
// backend with jittered exponential backoff (a Retry-After is honoured up to Max) while
// the context's deadline leaves room for the wait; a 429 or any other 4xx is not
// retried (the fallback decides what follows); neither is a bad 2xx answer. Each
// retried failure is logged here (decision "retried"); the last one is the caller's
// to log, with its decision (fell back or final).
func (c *httpClient) withRetries(ctx context.Context, attempt func() error) error {
	for n := 0; ; n++ {
		start := time.Now()
		err := attempt()
		if err == nil {
			return nil
		}
		wait, ok := c.retryWait(ctx, err, n)
		if !ok {
			return err
		}
		logFailure(c.log, c.cfg, err, decisionRetried, "", time.Since(start))
		if werr := sleepCtx(ctx, wait); werr != nil {
			return werr
		}
	}
}

// retryWait says whether attempt n's failure err may be retried, and after how long.
func (c *httpClient) retryWait(ctx context.Context, err error, n int) (time.Duration, bool) {
	var be *backendError
	if !errors.As(err, &be) || !be.retryable || n+1 >= c.retry.Attempts || ctx.Err() != nil {
		return 0, false
	}
	wait := c.retry.backoff(n)
	if be.retryAfter > wait {
		wait = min(be.retryAfter, c.retry.Max)
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= wait {
		return 0, false
	}
	return wait, true
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctxFailure(ctx)
	}
}
