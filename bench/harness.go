package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"github.com/valyala/fasthttp"
)

// Mode selects the size of a run.
type Mode string

// Modes: Full is `make bench` (under 5 minutes), Quick is BENCH_QUICK=1 (under 60
// seconds), Tiny is the self-test (a few seconds; figures are not meaningful).
const (
	Full  Mode = "full"
	Quick Mode = "quick"
	Tiny  Mode = "tiny"
)

// Options configures Run. Zero values are documented per field.
type Options struct {
	// Mode is Full, Quick or Tiny; "" means Full.
	Mode Mode
	// Progress receives one line per phase (a redrawn bar when TTY); nil discards.
	Progress io.Writer
	TTY      bool
	// ProfileDir receives the CPU profiles of the profiled phases; "" skips them.
	ProfileDir string
	// GoTool is the go command, used for `go tool pprof` summaries and for the
	// packages' own benchmarks that need unexported code (the bridge auth check);
	// "" skips both.
	GoTool string
	// ModuleDir is the module root where those `go test` benchmarks run; "" skips
	// them.
	ModuleDir string
	// Command is the command line recorded in the report.
	Command string
}

// plan is the size of every phase for a mode. Every loop below is bounded by these
// counts and durations.
type plan struct {
	fixedRate      int
	fixedDur       time.Duration
	missDelay      time.Duration
	missRate       int
	missDur        time.Duration
	rounds         int           // interleaved slices per scenario
	passDur        time.Duration // pass-through phase, all scenarios together
	frontier       frontierOptions
	frontierBudget time.Duration
	bridgeConns    int
	bridgeDur      time.Duration
	benchtime      time.Duration
	micros         map[string]bool // nil: all
	profileDur     time.Duration   // 0: no profiles
	pkgBench       bool
	// closed loop with wrk: interleaved rounds of one slice per scenario
	closedRounds int
	closedSlice  time.Duration
}

var limits = []time.Duration{time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond}

func planFor(m Mode) plan {
	switch m {
	case Tiny:
		return plan{fixedRate: 200, fixedDur: 300 * time.Millisecond, missDelay: 5 * time.Millisecond, missRate: 20,
			missDur: 500 * time.Millisecond, rounds: 1, passDur: 400 * time.Millisecond,
			frontier: frontierOptions{limits: limits, start: 200, maxRate: 400, step: 200 * time.Millisecond,
				bisect: 0, settle: 20 * time.Millisecond}, frontierBudget: 2 * time.Second,
			bridgeConns: 8, bridgeDur: 300 * time.Millisecond, benchtime: 5 * time.Millisecond,
			closedRounds: 1, closedSlice: time.Second,
			micros: map[string]bool{"actor-request-future": true, "cache-get-hit": true, "receipt-batch-1024": true,
				"receipt-single-ed25519": true, "ledger-group-64": true, "ledger-fsync-each-64": true}}
	case Quick:
		return plan{fixedRate: 1000, fixedDur: 1500 * time.Millisecond, missDelay: 20 * time.Millisecond, missRate: 100,
			missDur: 3 * time.Second, rounds: 3, passDur: 4 * time.Second,
			frontier: frontierOptions{limits: limits, start: 500, maxRate: 32000, step: 400 * time.Millisecond,
				bisect: 1, settle: 100 * time.Millisecond, warm: 200 * time.Millisecond}, frontierBudget: 6 * time.Second,
			bridgeConns: 64, bridgeDur: 1500 * time.Millisecond, benchtime: 40 * time.Millisecond,
			profileDur: time.Second, closedRounds: 1, closedSlice: time.Second}
	default:
		return plan{fixedRate: 1000, fixedDur: 6 * time.Second, missDelay: 20 * time.Millisecond, missRate: 100,
			missDur: 10 * time.Second, rounds: 5, passDur: 20 * time.Second,
			frontier: frontierOptions{limits: limits, start: 500, maxRate: 64000, step: 1500 * time.Millisecond,
				bisect: 3, settle: 300 * time.Millisecond, warm: 500 * time.Millisecond}, frontierBudget: 35 * time.Second,
			bridgeConns: 64, bridgeDur: 5 * time.Second, benchtime: 400 * time.Millisecond,
			profileDur: 3 * time.Second, pkgBench: true, closedRounds: 3, closedSlice: 2 * time.Second}
	}
}

// Run runs the whole suite and returns its report. It starts everything it measures
// in process on 127.0.0.1:0 and stops it before returning.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Mode == "" {
		o.Mode = Full
	}
	p := planFor(o.Mode)
	rep := &Report{Machine: DescribeMachine(), Mode: string(o.Mode), Command: o.Command,
		Started: time.Now().UTC().Format(time.RFC3339)}
	t0 := time.Now()
	phases := 9
	if p.profileDur > 0 && o.ProfileDir != "" {
		phases += 5
	}
	if p.pkgBench && o.GoTool != "" && o.ModuleDir != "" {
		phases++
	}
	pr := newProgress(o.Progress, o.TTY, phases)
	// net/http (the load generator's client) reports protocol oddities through the
	// standard logger: count them into the report instead of the terminal.
	stdlog := &logTally{}
	prevOut, prevFlags := log.Writer(), log.Flags()
	log.SetOutput(stdlog)
	defer func() { log.SetOutput(prevOut); log.SetFlags(prevFlags) }()

	pr.begin("start runtime")
	rig, err := startHitRig(ctx, StackOptions{MockLatency: p.missDelay, FastMockLatency: time.Millisecond})
	if err != nil {
		return nil, err
	}
	defer rig.close()
	st, ceil, hitBody := rig.st, rig.ceil, rig.hitBody
	pr.end(fmt.Sprintf("gateway %s, bridge %s, mock %s (delay %s)", st.Gateway.Addr(), st.Bridge.Addr(), st.Mock.Addr(), p.missDelay))

	tCeil := target{method: "GET", url: "http://" + ceil.addr + "/v1/health"}
	tHealth := target{method: "GET", url: st.APIURL() + "/v1/health"}
	jsonHdr := http.Header{"Content-Type": []string{"application/json"}}
	tHit := target{method: "POST", url: st.APIURL() + "/v1/query", header: jsonHdr,
		body: func(uint64) []byte { return hitBody }, check: wantCached}

	// 1–3: the same constant rate against the ceiling, /v1/health and cache hits,
	// interleaved.
	pr.begin("ceiling, health, cache hit")
	rep.Fixed = interleave(ctx, []scenario{
		{"ceiling: bare fasthttp", tCeil, loadOptions{rate: p.fixedRate}},
		{"GET /v1/health", tHealth, loadOptions{rate: p.fixedRate}},
		{"POST /v1/query cache hit", tHit, loadOptions{rate: p.fixedRate}},
	}, p.rounds, p.fixedDur/time.Duration(p.rounds), p.frontier.warm, pr.step)
	pr.end(fmt.Sprintf("p99 %s / %s / %s", fmtDur(rep.Fixed[0].Latency.P99), fmtDur(rep.Fixed[1].Latency.P99), fmtDur(rep.Fixed[2].Latency.P99)))

	// 3b: closed loop at ClosedConns connections (issue 21): the cache hit against a
	// bare fasthttp handler answering a body of the same size, /v1/health against the
	// bare health-sized handler, interleaved.
	pr.begin(fmt.Sprintf("closed loop, %d connections", ClosedConns))
	tSame := target{method: "POST", url: "http://" + ceil.addr + sameSizePath, header: jsonHdr,
		body: func(uint64) []byte { return hitBody }}
	co := loadOptions{rate: 0, maxWorkers: ClosedConns, okOnly: true}
	closed := []scenario{
		{closedBareHit, tSame, co},
		{closedHit, tHit, co},
		{closedBare, tCeil, co},
		{closedHealth, tHealth, co},
	}
	if wrk := wrkTool(); wrk != "" && o.ProfileDir != "" {
		// wrk in its own process; a hit counts only when the cache-hit counter moved.
		hits := st.Metrics.GetOrCreateCounter("sovereign_cache_hits_total")
		served := []func() uint64{nil, hits.Get, nil, nil}
		rcp := st.Runtime.Receipts()
		around := []func(bool){nil, func(start bool) { commitFrom(&rep.ClosedCommit, rcp.Stats(), start) }, nil, nil}
		rep.ClosedTool = "wrk " + wrkVersion(wrk) + " (own process, 1 thread)"
		rep.Closed = interleaveWrk(ctx, wrk, o.ProfileDir, closed, served, around, p.closedRounds, p.closedSlice, pr.step)
	} else {
		rep.ClosedTool = "vegeta in process (wrk not installed)"
		rep.Closed = interleave(ctx, closed, p.rounds, p.fixedDur/time.Duration(p.rounds), p.frontier.warm, pr.step)
	}
	pr.end(closedLine(rep.Closed))

	// 4: cache misses through the runtime against the mock backend, calibrated by the
	// same backend called directly.
	rep.Miss = MissReport{DelayMs: ms(p.missDelay), Rate: p.missRate}
	mockURL := st.Mock.URL() + "/chat/completions"
	answerBody, decomposeBody := mockBodies()
	tDirect := target{method: "POST", url: mockURL, header: jsonHdr, body: func(uint64) []byte { return answerBody }, check: wantChat}
	two := &http.Client{Transport: twoCalls{rt: newTransport(256), url: mockURL, body: decomposeBody}, Timeout: 10 * time.Second}
	var missPrefix = fmt.Sprintf("How are receipts sealed and verified? bench run %d case", time.Now().UnixNano()%1e6)
	// One counter for every slice and the profile run, so no miss query repeats.
	var missSeq atomic.Uint64
	tVia := target{method: "POST", url: st.APIURL() + "/v1/query", header: jsonHdr, body: func(uint64) []byte {
		return fmt.Appendf(nil, `{"query":"%s %d"}`, missPrefix, missSeq.Add(1))
	}, check: wantMiss}
	pr.begin("query miss: direct vs via")
	var timing timingAgg
	epBefore := st.Runtime.Ledger().Len()
	miss := interleave(ctx, []scenario{
		{"mock direct (1 call)", tDirect, loadOptions{rate: p.missRate}},
		{"mock direct ×2 (decompose + answer)", tDirect, loadOptions{rate: p.missRate, client: two}},
		{"POST /v1/query miss via runtime", tVia, loadOptions{rate: p.missRate, onResult: timing.add, timeout: 3 * time.Second}},
	}, p.rounds, p.missDur/time.Duration(p.rounds), 0, pr.step)
	two.CloseIdleConnections()
	rep.Miss.Direct, rep.Miss.Direct2, rep.Miss.Via = miss[0], miss[1], miss[2]
	pr.end(fmt.Sprintf("p50 direct×2 %s via %s; p99 direct×2 %s via %s", fmtDur(miss[1].Latency.P50), fmtDur(miss[2].Latency.P50),
		fmtDur(miss[1].Latency.P99), fmtDur(miss[2].Latency.P99)))
	rep.Miss.finish(&timing, st, epBefore, missPrefix)

	// 5: the OpenAI-compatible pass-through against the mock called directly.
	pr.begin("OpenAI pass-through")
	rep.PassThrough = passThrough(ctx, st, p.rounds, p.passDur, pr.step)
	pr.end(passLine(rep.PassThrough))

	// 6: throughput frontiers.
	for _, c := range []struct {
		name string
		t    target
	}{{"ceiling: bare fasthttp", tCeil}, {"GET /v1/health", tHealth}, {"POST /v1/query cache hit", tHit}} {
		pr.begin("frontier " + c.name)
		fo := p.frontier
		fo.deadline = time.Now().Add(p.frontierBudget)
		f := frontier(ctx, c.name, c.t, fo, pr.step)
		rep.Frontiers = append(rep.Frontiers, f)
		pr.end(frontierLine(f))
	}

	// 7: the bridge against a bare NDJSON echo server, the same client.
	echo, err := startEcho()
	if err != nil {
		return nil, err
	}
	defer echo.Close()
	pr.begin("bridge ping vs echo")
	rep.Bridge.Echo = closedLoop(ctx, "NDJSON echo, 64 conns", echo.Addr(), st.BridgeToken, p.bridgeConns, p.bridgeDur, checkEcho)
	brc := st.Runtime.BridgeReceipts()
	commitFrom(&rep.Bridge.Commit, brc.Stats(), true)
	rep.Bridge.Ping = closedLoop(ctx, "bridge ping + receipt, 64 conns", st.Bridge.Addr(), st.BridgeToken, p.bridgeConns, p.bridgeDur, checkBridgePing)
	commitFrom(&rep.Bridge.Commit, brc.Stats(), false)
	rep.Bridge.Conns = p.bridgeConns
	pr.end(fmt.Sprintf("ping %.0f/s p99 %s, echo %.0f/s p99 %s; %s", rep.Bridge.Ping.Throughput, fmtDur(rep.Bridge.Ping.Latency.P99),
		rep.Bridge.Echo.Throughput, fmtDur(rep.Bridge.Echo.Latency.P99), rep.Bridge.Commit))

	// 8: micro-benchmarks.
	pr.begin("micro-benchmarks")
	restore := setBenchtime(p.benchtime)
	for _, m := range Micros() {
		if p.micros != nil && !p.micros[m.Name] {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		pr.step(m.Name)
		rep.Micro = append(rep.Micro, runMicro(m))
	}
	restore()
	pr.end(fmt.Sprintf("%d benchmarks, benchtime %s", len(rep.Micro), p.benchtime))
	if p.pkgBench && o.GoTool != "" && o.ModuleDir != "" {
		pr.begin("bridge auth check (go test)")
		res := packageBenches(ctx, o.GoTool, o.ModuleDir)
		rep.Micro = append(rep.Micro, res...)
		pr.end(fmt.Sprintf("%d results", len(res)))
	}

	// Profiles: separate runs of the same phases, so the profiler does not perturb
	// the figures above.
	if p.profileDur > 0 && o.ProfileDir != "" {
		type prof struct {
			phase, file string
			run         func()
		}
		list := []prof{
			{"POST /v1/query cache hit", "cpu-cache-hit.prof", func() {
				attack(ctx, "profile", tHit, loadOptions{rate: hitProfileRate(rep), duration: p.profileDur})
			}},
			{"POST /v1/query miss via runtime", "cpu-miss.prof", func() {
				attack(ctx, "profile", tVia, loadOptions{rate: p.missRate, duration: p.profileDur})
			}},
			{"OpenAI pass-through", "cpu-pass-through.prof", func() {
				passThrough(ctx, st, 1, p.profileDur, func(string) {})
			}},
			{"bridge ping + receipt", "cpu-bridge.prof", func() {
				closedLoop(ctx, "profile", st.Bridge.Addr(), st.BridgeToken, p.bridgeConns, p.profileDur, checkBridgePing)
			}},
			{"ledger group commit, 64 writers", "cpu-ledger-group.prof", func() {
				restore := setBenchtime(p.profileDur)
				defer restore()
				testing.Benchmark(BenchLedgerGroup)
			}},
		}
		for _, pf := range list {
			pr.begin("profile " + pf.phase)
			file := filepath.Join(o.ProfileDir, pf.file)
			if err := profiled(file, pf.run); err != nil {
				rep.Profiles = append(rep.Profiles, Profile{Phase: pf.phase, Note: err.Error()})
				pr.end(err.Error())
				continue
			}
			s := summarize(ctx, o.GoTool, pf.phase, file)
			rep.Profiles = append(rep.Profiles, s)
			pr.end(s.String())
		}
	}
	rep.ElapsedS = time.Since(t0).Seconds()
	rep.evaluate()
	if n, first := stdlog.get(); n > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("The load generator's HTTP client logged %d protocol warnings during the run; first: %s", n, first))
	}
	return rep, ctx.Err()
}

// hitProfileRate profiles cache hits at their 10 ms frontier (where the goal is
// judged), and at no less than 1000/s so the profile has samples.
func hitProfileRate(r *Report) int {
	for _, f := range r.Frontiers {
		if f.Name == "POST /v1/query cache hit" {
			return max(f.At(10*time.Millisecond), 1000)
		}
	}
	return 1000
}

// setBenchtime sets testing's -test.benchtime for testing.Benchmark and returns a
// function that restores it.
func setBenchtime(d time.Duration) func() {
	initTesting()
	f := benchtimeFlag()
	if f == nil {
		return func() {}
	}
	old := f.Value.String()
	_ = f.Value.Set(d.String())
	return func() { _ = f.Value.Set(old) }
}

// logTally counts standard-logger lines and keeps the first.
type logTally struct {
	mu    sync.Mutex
	n     int
	first string
}

func (l *logTally) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n++
	if l.first == "" {
		l.first = clip(p, 400)
	}
	return len(p), nil
}

func (l *logTally) get() (int, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n, l.first
}

// ceiling is the bare fasthttp server: the most a handler on this machine can do.
type ceiling struct {
	srv  *fasthttp.Server
	ln   net.Listener
	addr string
	done chan struct{}
	// sameSize is the body sameSizePath answers (a copy of a cache hit's response);
	// nil answers ceilingBody.
	sameSize atomic.Pointer[[]byte]
}

var ceilingBody = []byte(`{"status":"healthy","version":"bench","uptime_s":1.5,"checks":{"core":"ok"}}`)

// sameSizePath is the ceiling's route that answers a body as large as a cache hit's.
const sameSizePath = "/same-size"

// hitRig is the bench stack with one answer in its cache (hitBody asks it) and the bare
// handler answering as many bytes as that cache hit: the side-by-side cache-hit phases
// of Run and WrkProfile start from it.
type hitRig struct {
	st      *Stack
	ceil    *ceiling
	hitBody []byte
}

func startHitRig(ctx context.Context, so StackOptions) (*hitRig, error) {
	st, err := StartStack(ctx, so)
	if err != nil {
		return nil, err
	}
	rig := &hitRig{st: st, hitBody: []byte(`{"query":"How are receipts sealed and verified?"}`)}
	if rig.ceil, err = startCeiling(); err != nil {
		rig.close()
		return nil, err
	}
	hitResp, err := warmCache(ctx, st.APIURL(), rig.hitBody)
	if err != nil {
		rig.close()
		return nil, err
	}
	rig.ceil.sameSize.Store(&hitResp)
	return rig, nil
}

// close stops the bare handler and the stack.
func (h *hitRig) close() {
	if h.ceil != nil {
		h.ceil.close()
	}
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	_ = h.st.Shutdown(sctx)
}

func startCeiling() (*ceiling, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c := &ceiling{ln: ln, addr: ln.Addr().String(), done: make(chan struct{})}
	c.srv = &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("application/json")
		if b := c.sameSize.Load(); b != nil && string(ctx.Path()) == sameSizePath {
			ctx.SetBody(*b)
			return
		}
		ctx.SetBody(ceilingBody)
	}, NoDefaultServerHeader: true}
	go func() { defer close(c.done); _ = c.srv.Serve(ln) }()
	return c, nil
}

func (c *ceiling) close() {
	_ = c.srv.Shutdown()
	<-c.done
}

// warmCache sends the cache-hit query twice: a miss that fills the cache, then a
// check that it hits; it returns the hit's response body.
func warmCache(ctx context.Context, api string, body []byte) ([]byte, error) {
	cl := &http.Client{Timeout: 30 * time.Second, Transport: newTransport(1)}
	defer cl.CloseIdleConnections()
	for i := range 2 {
		req, _ := http.NewRequestWithContext(ctx, "POST", api+"/v1/query", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := cl.Do(req)
		if err != nil {
			return nil, fmt.Errorf("warm cache: %w", err)
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Contains(b, []byte(`"success":true`)) {
			return nil, fmt.Errorf("warm cache: HTTP %d %s", resp.StatusCode, clip(b, 300))
		}
		if i == 1 {
			return b, wantCached(b)
		}
	}
	return nil, nil
}

func wantCached(b []byte) error {
	if !bytes.Contains(b, []byte(`"cached":true`)) {
		return fmt.Errorf("not a cache hit: %s", clip(b, 200))
	}
	return nil
}

func wantMiss(b []byte) error {
	switch {
	case !bytes.Contains(b, []byte(`"success":true`)):
		return fmt.Errorf("query failed: %s", clip(b, 300))
	case bytes.Contains(b, []byte(`"cached":true`)):
		return errors.New("unexpected cache hit")
	case bytes.Contains(b, []byte(`"degraded":true`)):
		var v struct {
			Reason string `json:"degraded_reason"`
		}
		_ = json.Unmarshal(b, &v)
		return fmt.Errorf("degraded (answered by the embedded engine): %s", v.Reason)
	}
	return nil
}

func wantChat(b []byte) error {
	if !bytes.Contains(b, []byte(`"choices"`)) {
		return fmt.Errorf("not a chat completion: %s", clip(b, 200))
	}
	return nil
}

func newTransport(conns int) *http.Transport {
	return &http.Transport{MaxIdleConnsPerHost: conns, MaxIdleConns: conns, DisableCompression: true,
		IdleConnTimeout: 30 * time.Second}
}

// twoCalls makes one load-generator hit do what the runtime does on a miss with a
// model configured: a decompose call, then the answer call, in sequence.
type twoCalls struct {
	rt   *http.Transport
	url  string
	body []byte
}

func (t twoCalls) RoundTrip(r *http.Request) (*http.Response, error) {
	first, err := http.NewRequestWithContext(r.Context(), "POST", t.url, bytes.NewReader(t.body))
	if err != nil {
		return nil, err
	}
	first.Header.Set("Content-Type", "application/json")
	resp, err := t.rt.RoundTrip(first)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("decompose call: HTTP %d", resp.StatusCode)
	}
	return t.rt.RoundTrip(r)
}

func (t twoCalls) CloseIdleConnections() { t.rt.CloseIdleConnections() }

// mockBodies are chat requests shaped like the runtime's: the answer request with
// three evidence lines, and the decompose request.
func mockBodies() (answer, decompose []byte) {
	ev := []string{
		"[RUNBOOK.md] Receipts are sealed in batches: one Ed25519 signature over an RFC 6962 Merkle root covers every receipt of the batch.",
		"[receipts.md] Each receipt carries its leaf hash, the batch root and an inclusion proof, so anyone can verify it offline.",
		"[RUNBOOK.md] The bridge issues one receipt per authenticated request; the gateway one per query.",
	}
	user := "Question: How are receipts sealed and verified?\n\nEvidence:\n" + strings.Join(ev, "\n")
	answer, _ = json.Marshal(map[string]any{"model": "mock-small", "stream": false, "max_tokens": 512, "temperature": 0.2,
		"messages": []map[string]string{
			{"role": "system", "content": "Answer the question from the evidence only. Cite sources in brackets."},
			{"role": "user", "content": user}}})
	decompose, _ = json.Marshal(map[string]any{"model": "mock-small", "stream": false, "max_tokens": 256, "temperature": 0,
		"messages": []map[string]string{
			{"role": "system", "content": "Split the question into at most 3 sub-questions, one per line."},
			{"role": "user", "content": "How are receipts sealed and verified?"}}})
	return answer, decompose
}

// timingAgg collects the timing fields of the miss responses.
type timingAgg struct {
	n                      int
	total, backend, overhd float64
	observed               time.Duration
}

func (a *timingAgg) add(r *vegeta.Result) {
	var v struct {
		Timing struct {
			TotalMs    float64 `json:"total_ms"`
			OverheadMs float64 `json:"overhead_ms"`
			BackendMs  float64 `json:"backend_ms"`
		} `json:"timing"`
	}
	if json.Unmarshal(r.Body, &v) != nil {
		return
	}
	a.n++
	a.total += v.Timing.TotalMs
	a.backend += v.Timing.BackendMs
	a.overhd += v.Timing.OverheadMs
	a.observed += r.Latency
}

func passLine(p PassThrough) string {
	if !p.Measured {
		return p.Note
	}
	var parts []string
	for _, c := range p.Cases {
		parts = append(parts, fmt.Sprintf("%s: added p50 %s p99 %s, %.2f× throughput, +%.0f CPU µs/request, %d errors", c.Name(),
			fmtDur(c.Added.P50), fmtDur(c.Added.P99), c.ThroughputRatio, c.AddedCPUus, c.Via.Errors))
	}
	return strings.Join(parts, "; ")
}
