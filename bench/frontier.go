package bench

import (
	"context"
	"net/http"
	"slices"
	"time"
)

// FrontierPoint is the highest offered rate, among the rates tried, that was kept
// (see LoadRun.Kept) with a p99 under Limit.
type FrontierPoint struct {
	Limit time.Duration `json:"p99_limit_ns"`
	Rate  int           `json:"rate_per_s"` // 0: no rate tried met the limit
	P99   time.Duration `json:"p99_ns"`
	// Capped: the search stopped at its maximum rate, so the true frontier is higher.
	Capped bool `json:"capped"`
}

// Frontier is the throughput frontier of one target.
type Frontier struct {
	Name   string          `json:"name"`
	Points []FrontierPoint `json:"points"`
	Steps  []LoadRun       `json:"steps"` // every step, in the order run
}

// At returns the frontier rate for a p99 limit (0 when not measured).
func (f Frontier) At(limit time.Duration) int {
	for _, p := range f.Points {
		if p.Limit == limit {
			return p.Rate
		}
	}
	return 0
}

// frontierOptions bound a frontier search.
type frontierOptions struct {
	limits  []time.Duration // ascending
	start   int             // first rate
	maxRate int             // doubling stops here
	step    time.Duration   // duration of each constant-rate step
	bisect  int             // bisection steps per limit
	settle  time.Duration   // pause between steps
	warm    time.Duration   // unrecorded warm-up at the start rate
	// deadline stops the search (returning what was found) when passed.
	deadline time.Time
}

// frontier doubles the rate from start until a step misses the largest limit (or
// maxRate), then bisects between the best kept rate and the first missed rate for
// each limit. Each step is a short constant-rate run; every loop is bounded in
// count (doubling up to maxRate, bisect steps per limit) and by the deadline.
func frontier(ctx context.Context, name string, t target, o frontierOptions, progress func(string)) Frontier {
	f := Frontier{Name: name}
	tried := map[int]LoadRun{}
	retried := map[int]bool{}
	// One warm client for every step, so each step measures the server, not the
	// load generator opening connections.
	tp := newTransport(4096)
	defer tp.CloseIdleConnections()
	client := &http.Client{Transport: tp, Timeout: 2 * time.Second}
	meets := func(r LoadRun, limit time.Duration) bool { return r.Kept() && r.Latency.P99 < limit }
	stopped := func() bool { return ctx.Err() != nil || (!o.deadline.IsZero() && time.Now().After(o.deadline)) }
	step := func(rate int) LoadRun {
		progress(name + " @ " + itoa(rate) + "/s")
		r := attack(ctx, name, t, loadOptions{rate: rate, duration: o.step, timeout: 2 * time.Second, client: client})
		f.Steps = append(f.Steps, r)
		select {
		case <-ctx.Done():
		case <-time.After(o.settle):
		}
		return r
	}
	// probe runs a step at rate, or reuses it. A step that misses limit is run once
	// more and the better of the two counts: the machine is shared, and one stall
	// from outside should not set the frontier.
	probe := func(rate int, limit time.Duration) (LoadRun, bool) {
		r, ok := tried[rate]
		if !ok {
			if stopped() {
				return LoadRun{}, false
			}
			r = step(rate)
			tried[rate] = r
		}
		if meets(r, limit) || retried[rate] || stopped() {
			return r, true
		}
		retried[rate] = true
		r2 := step(rate)
		if r2.Kept() && (!r.Kept() || r2.Latency.P99 < r.Latency.P99) {
			tried[rate] = r2
			return r2, true
		}
		return r, true
	}
	warm := o.warm
	if warm > 0 {
		attack(ctx, name+" warm-up", t, loadOptions{rate: o.start, duration: warm, client: client})
	}
	top := o.limits[len(o.limits)-1]
	rate := o.start
	for rate <= o.maxRate {
		r, ok := probe(rate, top)
		if !ok || !meets(r, top) {
			break
		}
		rate *= 2
	}
	for _, limit := range o.limits {
		// lo: the highest rate tried that met the limit; hi: the lowest rate above it
		// that missed (0: none).
		lo, hi := 0, 0
		for k, r := range tried {
			if meets(r, limit) && k > lo {
				lo = k
			}
		}
		for k, r := range tried {
			if k > lo && !meets(r, limit) && (hi == 0 || k < hi) {
				hi = k
			}
		}
		if hi == 0 && lo == 0 {
			continue
		}
		for range o.bisect {
			if hi == 0 || hi-lo <= max(lo/16, 8) {
				break
			}
			mid := lo + (hi-lo)/2
			r, ok := probe(mid, limit)
			if !ok {
				break
			}
			if meets(r, limit) {
				lo = mid
			} else {
				hi = mid
			}
		}
		p := FrontierPoint{Limit: limit, Rate: lo, Capped: hi == 0 && lo >= o.maxRate}
		if lo > 0 {
			p.P99 = tried[lo].Latency.P99
		}
		f.Points = append(f.Points, p)
	}
	// Limits never reached (the first step already missed them) report 0.
	for _, limit := range o.limits {
		if !slices.ContainsFunc(f.Points, func(p FrontierPoint) bool { return p.Limit == limit }) {
			f.Points = append(f.Points, FrontierPoint{Limit: limit})
		}
	}
	slices.SortFunc(f.Points, func(a, b FrontierPoint) int { return int(a.Limit - b.Limit) })
	return f
}
