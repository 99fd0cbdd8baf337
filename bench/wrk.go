package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// wrk: the closed-loop phase's load generator when wrk is installed. It runs in its
// own process (one thread, conns connections), so the load generator's CPU is not
// charged to the server's Go runtime (the scheduler, the GC) as vegeta's is; the two
// cores are still shared. A Lua done() hook prints one JSON line with wrk's counts and
// its latency percentiles (wrk's histogram has 1 µs resolution).

// wrkDone is the Lua the runner appends to every script: it prints the summary as one
// JSON line prefixed with wrkMark.
const wrkDone = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BIZRA_WRK {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d,"mean":%.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean))
end
`

const wrkMark = "BIZRA_WRK "

// wrkSummary is what the done() hook prints (latencies in µs).
type wrkSummary struct {
	Requests   int     `json:"requests"`
	DurationUS int64   `json:"duration_us"`
	Connect    int     `json:"connect"`
	Read       int     `json:"read"`
	Write      int     `json:"write"`
	Status     int     `json:"status"`
	Timeout    int     `json:"timeout"`
	P50        int64   `json:"p50"`
	P90        int64   `json:"p90"`
	P99        int64   `json:"p99"`
	P999       int64   `json:"p999"`
	Max        int64   `json:"max"`
	Mean       float64 `json:"mean"`
}

// wrkScript is the Lua request setup for t (method, headers, a fixed body).
func wrkScript(t target) string {
	var b strings.Builder
	fmt.Fprintf(&b, "wrk.method = %q\n", t.method)
	for k, vs := range t.header {
		for _, v := range vs {
			fmt.Fprintf(&b, "wrk.headers[%q] = %q\n", k, v)
		}
	}
	if t.body != nil {
		fmt.Fprintf(&b, "wrk.body = %s\n", luaString(t.body(0)))
	}
	b.WriteString(wrkDone)
	return b.String()
}

// luaString quotes b as a Lua long string-free literal (decimal escapes for anything
// outside printable ASCII, quotes and backslashes).
func luaString(b []byte) string {
	var sb strings.Builder
	sb.WriteByte('"')
	for _, c := range b {
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			fmt.Fprintf(&sb, "\\%03d", c)
			continue
		}
		sb.WriteByte(c)
	}
	sb.WriteByte('"')
	return sb.String()
}

// parseWrk finds the done() line in wrk's output.
func parseWrk(out []byte) (wrkSummary, error) {
	var s wrkSummary
	i := bytes.Index(out, []byte(wrkMark))
	if i < 0 {
		return s, errors.New("wrk printed no summary")
	}
	line := out[i+len(wrkMark):]
	if j := bytes.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
	}
	if err := json.Unmarshal(line, &s); err != nil {
		return s, fmt.Errorf("wrk summary: %w", err)
	}
	return s, nil
}

// runOf turns a wrk summary into a LoadRun. answered counts the requests the server
// confirms it served as intended (a cache hit: the hit counter's delta); negative means
// no such check (every 2xx counts).
func runOf(name string, s wrkSummary, answered int) LoadRun {
	ok := s.Requests - s.Status
	if answered >= 0 && answered < ok {
		ok = answered
	}
	secs := float64(s.DurationUS) / 1e6
	r := LoadRun{Name: name, Seconds: secs, Requests: s.Requests, OK: ok,
		Errors: s.Requests - ok + s.Connect + s.Read + s.Write + s.Timeout,
		Latency: Latency{P50: us(s.P50), P90: us(s.P90), P99: us(s.P99), P999: us(s.P999), Max: us(s.Max),
			Mean: time.Duration(s.Mean * float64(time.Microsecond))}}
	if secs > 0 {
		r.Throughput = float64(ok) / secs
	}
	if r.Errors > 0 {
		r.FirstError = fmt.Sprintf("wrk: %d non-2xx, %d connect, %d read, %d write, %d timeout, %d not confirmed by the server",
			s.Status, s.Connect, s.Read, s.Write, s.Timeout, max(s.Requests-s.Status-ok, 0))
	}
	return r
}

func us(v int64) time.Duration { return time.Duration(v) * time.Microsecond }

// wrkAttack runs wrk (closed loop, one thread, conns connections) against t for d.
// served, when set, returns a server-side count (read before and after) that must
// grow by one per request answered as intended.
func wrkAttack(ctx context.Context, wrk, dir, name string, t target, conns int, d time.Duration, served func() uint64) LoadRun {
	fail := func(err error) LoadRun {
		return LoadRun{Name: name, Seconds: d.Seconds(), Errors: 1, FirstError: err.Error()}
	}
	script := filepath.Join(dir, "wrk-"+strconv.FormatInt(time.Now().UnixNano(), 36)+".lua")
	if err := os.WriteFile(script, []byte(wrkScript(t)), 0o600); err != nil {
		return fail(err)
	}
	defer os.Remove(script)
	secs := max(int(d.Round(time.Second)/time.Second), 1)
	cctx, cancel := context.WithTimeout(ctx, d+20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(cctx, wrk, "-t1", "-c"+strconv.Itoa(conns), "-d"+strconv.Itoa(secs)+"s",
		"--timeout", "5s", "-s", script, t.url)
	var before uint64
	if served != nil {
		before = served()
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fail(fmt.Errorf("wrk: %w: %s", err, clip(out, 300)))
	}
	s, err := parseWrk(out)
	if err != nil {
		return fail(fmt.Errorf("%w: %s", err, clip(out, 300)))
	}
	answered := -1
	if served != nil {
		answered = int(served() - before)
	}
	return runOf(name, s, answered)
}

// wrkTool is wrk's path, "" when it is not installed.
func wrkTool() string {
	p, err := exec.LookPath("wrk")
	if err != nil {
		return ""
	}
	return p
}

// wrkVersion is the first line of `wrk -v` ("" when it cannot be read).
func wrkVersion(wrk string) string {
	out, _ := exec.Command(wrk, "-v").CombinedOutput()
	line, _, _ := strings.Cut(string(out), "\n")
	if f := strings.Fields(line); len(f) >= 2 {
		return f[1]
	}
	return ""
}

// interleaveWrk runs the scenarios in rounds of one wrk slice each (so a stall from
// outside hits all of them alike) and merges each scenario's slices: counts summed,
// throughput over the summed time, each percentile the worst slice's (wrk reports
// percentiles, not every latency).
//
// served[i] (nil: none) is scenario i's server-side count (see wrkAttack); around[i]
// (nil: none) is called with true before and false after each of its slices.
func interleaveWrk(ctx context.Context, wrk, dir string, sc []scenario, served []func() uint64, around []func(start bool), rounds int, slice time.Duration, progress func(string)) []LoadRun {
	parts := make([][]LoadRun, len(sc))
	for r := range rounds {
		for i, s := range sc {
			if ctx.Err() != nil {
				break
			}
			progress(fmt.Sprintf("round %d/%d: %s (wrk)", r+1, rounds, s.name))
			if around[i] != nil {
				around[i](true)
			}
			parts[i] = append(parts[i], wrkAttack(ctx, wrk, dir, s.name, s.t, int(s.o.maxWorkers), slice, served[i]))
			if around[i] != nil {
				around[i](false)
			}
		}
	}
	out := make([]LoadRun, len(sc))
	for i, s := range sc {
		out[i] = mergeWorst(s.name, parts[i])
	}
	return out
}

// mergeWorst merges runs that carry percentiles only: counts summed, throughput over
// the summed seconds, mean weighted by requests, every percentile the highest slice's.
func mergeWorst(name string, parts []LoadRun) LoadRun {
	out := LoadRun{Name: name, Slices: len(parts)}
	var meanSum float64
	for _, p := range parts {
		out.Seconds += p.Seconds
		out.Requests += p.Requests
		out.OK += p.OK
		out.Errors += p.Errors
		if out.FirstError == "" {
			out.FirstError = p.FirstError
		}
		meanSum += float64(p.Latency.Mean) * float64(p.Requests)
		l := &out.Latency
		l.P50, l.P90, l.P99 = max(l.P50, p.Latency.P50), max(l.P90, p.Latency.P90), max(l.P99, p.Latency.P99)
		l.P999, l.Max = max(l.P999, p.Latency.P999), max(l.Max, p.Latency.Max)
	}
	if out.Seconds > 0 {
		out.Throughput = float64(out.OK) / out.Seconds
	}
	if out.Requests > 0 {
		out.Latency.Mean = time.Duration(meanSum / float64(out.Requests))
	}
	return out
}
