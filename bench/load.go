package bench

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync/atomic"
	"syscall"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Latency holds exact percentiles of one run (nearest rank over every response).
type Latency struct {
	P50  time.Duration `json:"p50_ns"`
	P90  time.Duration `json:"p90_ns"`
	P99  time.Duration `json:"p99_ns"`
	P999 time.Duration `json:"p999_ns"`
	Max  time.Duration `json:"max_ns"`
	Mean time.Duration `json:"mean_ns"`
}

// percentiles computes exact nearest-rank percentiles; lat is sorted in place.
func percentiles(lat []time.Duration) Latency {
	if len(lat) == 0 {
		return Latency{}
	}
	slices.Sort(lat)
	at := func(q float64) time.Duration {
		i := int(q*float64(len(lat))+0.999999) - 1
		return lat[min(max(i, 0), len(lat)-1)]
	}
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	return Latency{P50: at(0.50), P90: at(0.90), P99: at(0.99), P999: at(0.999), Max: lat[len(lat)-1],
		Mean: sum / time.Duration(len(lat))}
}

// LoadRun is one constant-rate load run.
type LoadRun struct {
	Name       string  `json:"name"`
	Rate       int     `json:"rate_per_s"`   // offered
	Seconds    float64 `json:"seconds"`      // attack duration
	Requests   int     `json:"requests"`     // sent
	OK         int     `json:"ok"`           // answered 2xx and accepted by the check
	Throughput float64 `json:"throughput_s"` // OK per second of wall time (first send to last answer)
	Latency    Latency `json:"latency"`
	Errors     int     `json:"errors"`
	Slices     int     `json:"slices,omitempty"` // interleaved slices merged into this run
	// CPU is the process's CPU time (user + system, every goroutine: load generator,
	// server and mocks alike) during the run.
	CPU time.Duration `json:"process_cpu_ns"`

	lat        []time.Duration // every latency, sorted (for merging slices)
	FirstError string          `json:"first_error,omitempty"`
}

// Success is the share of requests answered correctly.
func (r LoadRun) Success() float64 {
	if r.Requests == 0 {
		return 0
	}
	return float64(r.OK) / float64(r.Requests)
}

// Kept reports whether the run kept up with its offered rate: every request answered
// correctly (≥ 99.9 %) and the answers came back at ≥ 95 % of the offered rate.
func (r LoadRun) Kept() bool {
	return r.Requests > 0 && r.Success() >= 0.999 && r.Throughput >= 0.95*float64(r.Rate)
}

// target is one HTTP request shape; body may change per hit.
type target struct {
	method string
	url    string
	body   func(seq uint64) []byte
	header http.Header
	// check accepts a 2xx response body (nil accepts any).
	check func(body []byte) error
}

// loadOptions bound one constant-rate run.
type loadOptions struct {
	rate     int
	duration time.Duration
	// maxWorkers bounds the load generator's concurrency (0 → rate/10+64); with an
	// unbounded pacer vegeta adds workers instead of waiting, which keeps the rate
	// constant (no coordinated omission) until this bound.
	maxWorkers uint64
	timeout    time.Duration // per request; 0 → 5 s
	client     *http.Client  // nil → vegeta's own
	// okOnly computes the percentiles over successful requests only.
	okOnly bool
	// onResult sees every result (e.g. to parse timing fields); called from the
	// collecting goroutine only.
	onResult func(*vegeta.Result)
}

// attack runs t at a constant rate for the duration, bounded in time and count, and
// returns exact latency percentiles of every request sent.
func attack(ctx context.Context, name string, t target, o loadOptions) LoadRun {
	if o.timeout == 0 {
		o.timeout = 5 * time.Second
	}
	if o.maxWorkers == 0 {
		o.maxWorkers = uint64(o.rate/10 + 64)
	}
	var seq atomic.Uint64
	tr := func(tg *vegeta.Target) error {
		tg.Method, tg.URL, tg.Header = t.method, t.url, t.header
		if t.body != nil {
			tg.Body = t.body(seq.Add(1))
		}
		return nil
	}
	client := o.client
	if client == nil {
		tp := &http.Transport{MaxIdleConnsPerHost: int(o.maxWorkers), MaxIdleConns: int(o.maxWorkers),
			DisableCompression: true, IdleConnTimeout: 30 * time.Second}
		client = &http.Client{Transport: tp, Timeout: o.timeout}
		defer tp.CloseIdleConnections()
	}
	a := vegeta.NewAttacker(vegeta.Timeout(o.timeout), vegeta.MaxWorkers(o.maxWorkers),
		vegeta.Workers(min(o.maxWorkers, 16)), vegeta.Client(client))
	stop := context.AfterFunc(ctx, func() { a.Stop() })
	defer stop()
	pace := vegeta.Rate{Freq: o.rate, Per: time.Second}
	lat := make([]time.Duration, 0, int(float64(o.rate)*o.duration.Seconds())+16)
	run := LoadRun{Name: name, Rate: o.rate, Seconds: o.duration.Seconds()}
	var first, last time.Time
	cpu0 := processCPU()
	for res := range a.Attack(tr, pace, o.duration, name) {
		run.Requests++
		if first.IsZero() || res.Timestamp.Before(first) {
			first = res.Timestamp
		}
		if e := res.End(); e.After(last) {
			last = e
		}
		err := resultErr(res, t.check)
		if err == nil || !o.okOnly {
			lat = append(lat, res.Latency)
		}
		if err != nil {
			run.Errors++
			if run.FirstError == "" {
				run.FirstError = err.Error()
			}
			continue
		}
		run.OK++
		if o.onResult != nil {
			o.onResult(res)
		}
	}
	if el := last.Sub(first).Seconds(); el > 0 {
		run.Throughput = float64(run.OK) / el
	}
	run.CPU = processCPU() - cpu0
	run.Latency = percentiles(lat)
	run.lat = lat
	return run
}

// CPUPerRequest is the process CPU time per request sent, in µs (0 without requests).
func (r LoadRun) CPUPerRequest() float64 {
	if r.Requests == 0 {
		return 0
	}
	return float64(r.CPU.Microseconds()) / float64(r.Requests)
}

// processCPU is this process's user + system CPU time (0 where getrusage fails).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func resultErr(res *vegeta.Result, check func([]byte) error) error {
	if res.Error != "" {
		return fmt.Errorf("%s", res.Error)
	}
	if res.Code < 200 || res.Code > 299 {
		return fmt.Errorf("HTTP %d: %s", res.Code, clip(res.Body, 200))
	}
	if check != nil {
		return check(res.Body)
	}
	return nil
}

func clip(b []byte, n int) string {
	b = bytes.TrimSpace(b)
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// merge combines slices of the same scenario into one run: exact percentiles over
// every latency, throughput over the summed busy time.
func merge(name string, parts []LoadRun) LoadRun {
	out := LoadRun{Name: name, Slices: len(parts)}
	var all []time.Duration
	var busy float64
	for _, p := range parts {
		out.Rate = p.Rate
		out.Seconds += p.Seconds
		out.Requests += p.Requests
		out.OK += p.OK
		out.Errors += p.Errors
		out.CPU += p.CPU
		if out.FirstError == "" {
			out.FirstError = p.FirstError
		}
		if p.Throughput > 0 {
			busy += float64(p.OK) / p.Throughput
		}
		all = append(all, p.lat...)
	}
	if busy > 0 {
		out.Throughput = float64(out.OK) / busy
	}
	out.Latency = percentiles(all)
	out.lat = all
	return out
}

// scenario is one interleaved load.
type scenario struct {
	name string
	t    target
	o    loadOptions
}

// interleave runs the scenarios in turn, one slice each, for rounds rounds, and
// merges each scenario's slices. On a shared machine a stall from outside then hits
// every scenario alike instead of one whole phase, which keeps the side-by-side
// figures (and via − direct) comparable. Each scenario keeps one warm client.
func interleave(ctx context.Context, sc []scenario, rounds int, slice, warm time.Duration, progress func(string)) []LoadRun {
	parts := make([][]LoadRun, len(sc))
	for i := range sc {
		if sc[i].o.client == nil {
			tp := newTransport(int(max(sc[i].o.maxWorkers, uint64(sc[i].o.rate/10+64))))
			defer tp.CloseIdleConnections()
			sc[i].o.client = &http.Client{Transport: tp, Timeout: 5 * time.Second}
		}
		if warm > 0 {
			w := sc[i].o
			w.duration, w.onResult = warm, nil
			attack(ctx, sc[i].name+" warm-up", sc[i].t, w)
		}
	}
	for r := range rounds {
		for i, s := range sc {
			if ctx.Err() != nil {
				break
			}
			progress(fmt.Sprintf("round %d/%d: %s", r+1, rounds, s.name))
			o := s.o
			o.duration = slice
			parts[i] = append(parts[i], attack(ctx, s.name, s.t, o))
		}
	}
	out := make([]LoadRun, len(sc))
	for i, s := range sc {
		out[i] = merge(s.name, parts[i])
	}
	return out
}
