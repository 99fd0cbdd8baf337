package bench

import (
	"encoding/json"
	"fmt"
	"github.com/bizra/bizra/actors/receipt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/bizra/bizra/actors/ledger"
)

// Report is everything one run measured.
type Report struct {
	Machine  Machine   `json:"machine"`
	Mode     string    `json:"mode"`
	Command  string    `json:"command"`
	Started  string    `json:"started"`
	ElapsedS float64   `json:"elapsed_s"`
	Fixed    []LoadRun `json:"fixed_rate"` // ceiling, /v1/health, cache hit at one rate
	// Closed is the closed loop at ClosedConns connections: same-size bare handler,
	// cache hit, bare health-sized handler, /v1/health (issue 21).
	Closed []LoadRun `json:"closed_loop"`
	// ClosedTool names the closed loop's load generator (wrk in its own process when
	// installed, else vegeta in process).
	ClosedTool string `json:"closed_loop_tool"`
	// ClosedCommit is the query receipt log's group commit during the closed-loop
	// cache-hit runs.
	ClosedCommit GroupCommit   `json:"closed_loop_hit_commit"`
	Miss         MissReport    `json:"query_miss"`
	PassThrough  PassThrough   `json:"openai_pass_through"`
	Frontiers    []Frontier    `json:"frontiers"`
	Bridge       BridgeReport  `json:"bridge"`
	Micro        []MicroResult `json:"micro"`
	Profiles     []Profile     `json:"profiles"`
	Ratios       []Ratio       `json:"ratios"`
	Goals        []Goal        `json:"goals"`
	Notes        []string      `json:"notes"`
}

// MissReport is /v1/query on cache misses against the mock backend, calibrated by the
// mock called directly (once, and twice in sequence as the runtime does: decompose,
// then answer).
type MissReport struct {
	DelayMs float64 `json:"mock_delay_ms"`
	Rate    int     `json:"rate_per_s"`
	Direct  LoadRun `json:"direct"`
	Direct2 LoadRun `json:"direct_x2"`
	Via     LoadRun `json:"via"`
	// Overhead is via − direct×2 per percentile (signed).
	Overhead Latency `json:"overhead_vs_direct_x2"`
	// Stages is the mean time per stage of a miss, from the response timing fields
	// and the experience-ledger episodes of this run.
	Stages   []Stage `json:"stages"`
	Episodes int     `json:"episodes"`
}

// Stage is a mean duration of one part of a miss.
type Stage struct {
	Name   string  `json:"name"`
	MeanMs float64 `json:"mean_ms"`
	Source string  `json:"source"`
}

// PassThrough is the OpenAI-compatible front's pass-through against the mock backend
// called directly, at a fixed number of concurrent clients.
type PassThrough struct {
	Measured bool              `json:"measured"`
	Note     string            `json:"note"`
	DelayMs  float64           `json:"mock_delay_ms"`
	Cases    []PassThroughCase `json:"cases"`
}

// PassThroughCase is one client count (closed loop) or one constant rate. Latency
// percentiles count successful requests only (a refused request answers fast and
// would flatter the front). The CPU figures are process CPU µs per request (load
// generator, gateway and mock share the process): via − direct is the gateway's.
type PassThroughCase struct {
	Clients         int     `json:"clients,omitempty"`
	Rate            int     `json:"rate_per_s,omitempty"`
	DelayMs         float64 `json:"mock_delay_ms"`
	Direct          LoadRun `json:"direct"`
	Via             LoadRun `json:"via"`
	Added           Latency `json:"added"` // via − direct per percentile
	ThroughputRatio float64 `json:"throughput_ratio"`
	DirectCPUus     float64 `json:"direct_cpu_us_per_request"`
	ViaCPUus        float64 `json:"via_cpu_us_per_request"`
	AddedCPUus      float64 `json:"added_cpu_us_per_request"`
}

// BridgeReport compares the bridge's authenticated ping with a bare echo server.
type BridgeReport struct {
	Conns int     `json:"connections"`
	Ping  LoadRun `json:"ping"`
	Echo  LoadRun `json:"echo"`
	// Commit is the bridge receipt log's group commit during the ping run.
	Commit GroupCommit `json:"receipt_commit"`
}

// GroupCommit is a receipt log's group commit over one phase: fsyncs that wrote
// issued records, and the records they wrote.
type GroupCommit struct {
	Fsyncs  uint64 `json:"fsyncs"`
	Records uint64 `json:"records"`

	baseFsyncs, baseRecords uint64 // at the start of the current slice
}

// commitFrom starts (start true) or ends a slice measured from a receipt Service's
// Stats, adding the slice's commits.
func commitFrom(g *GroupCommit, st receipt.Stats, start bool) {
	if start {
		g.baseFsyncs, g.baseRecords = st.Commits, st.CommitRecords
		return
	}
	g.Fsyncs += st.Commits - g.baseFsyncs
	g.Records += st.CommitRecords - g.baseRecords
}

// PerFsync is the mean batch (0 when nothing was committed).
func (g GroupCommit) PerFsync() float64 {
	if g.Fsyncs == 0 {
		return 0
	}
	return float64(g.Records) / float64(g.Fsyncs)
}

func (g GroupCommit) String() string {
	return fmt.Sprintf("%d receipts in %d fsyncs, %.1f per fsync", g.Records, g.Fsyncs, g.PerFsync())
}

// Ratio is one of the report's headline ratios.
type Ratio struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"` // 0: not measured
	How   string  `json:"how"`
}

// Goal is one of issue 12's goals, judged on this run.
type Goal struct {
	Goal   string `json:"goal"`
	Figure string `json:"figure"`
	Status string `json:"status"` // MET, MISSED, NOT MEASURED
	Where  string `json:"where_the_time_goes,omitempty"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func fmtDur(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	var s string
	switch {
	case d >= 10*time.Second:
		s = fmt.Sprintf("%.1f s", d.Seconds())
	case d >= time.Second:
		s = fmt.Sprintf("%.2f s", d.Seconds())
	case d >= 10*time.Millisecond:
		s = fmt.Sprintf("%.1f ms", ms(d))
	case d >= time.Millisecond:
		s = fmt.Sprintf("%.2f ms", ms(d))
	default:
		s = fmt.Sprintf("%d µs", d.Microseconds())
	}
	if neg {
		return "−" + s
	}
	return s
}

func frontierLine(f Frontier) string {
	var parts []string
	for _, p := range f.Points {
		parts = append(parts, fmt.Sprintf("p99<%s: %s", fmtDur(p.Limit), rateStr(p)))
	}
	return strings.Join(parts, ", ") + fmt.Sprintf(" (%d steps)", len(f.Steps))
}

func rateStr(p FrontierPoint) string {
	if p.Rate == 0 {
		return "none"
	}
	s := fmt.Sprintf("%d/s", p.Rate)
	if p.Capped {
		s = "≥" + s
	}
	return s
}

// finish computes the overhead and the stage breakdown of the miss run.
func (m *MissReport) finish(t *timingAgg, st *Stack, before int, prefix string) {
	v, d := m.Via.Latency, m.Direct2.Latency
	m.Overhead = Latency{P50: v.P50 - d.P50, P90: v.P90 - d.P90, P99: v.P99 - d.P99, P999: v.P999 - d.P999,
		Max: v.Max - d.Max, Mean: v.Mean - d.Mean}
	if t.n == 0 {
		return
	}
	n := float64(t.n)
	observed := ms(t.observed) / n
	total := t.total / n
	// Episodes of this run (newest first, paged), bounded by what the run could have
	// made; only those answered by the backend, like the timing fields above.
	newEps := min(max(st.Runtime.Ledger().Len()-before, 0), 100_000)
	var eps []ledger.Episode
	for off := 0; off < newEps; {
		page := st.Runtime.Ledger().Episodes(ledger.MaxPageLimit, off)
		if len(page.Episodes) == 0 {
			break
		}
		eps = append(eps, page.Episodes...)
		off += len(page.Episodes)
	}
	sums := map[string]float64{}
	count := 0
	for _, e := range eps {
		if !strings.HasPrefix(e.Context, prefix) || !backendAnswered(e) {
			continue
		}
		count++
		for _, a := range e.Actions {
			sums[a.Type] += float64(a.DurationUS) / 1000
		}
	}
	m.Episodes = count
	add := func(name string, v float64, src string) {
		m.Stages = append(m.Stages, Stage{Name: name, MeanMs: math.Round(v*1000) / 1000, Source: src})
	}
	add("observed by the client", observed, "load generator")
	add("HTTP edge + client (observed − total_ms)", observed-total, "observed − timing.total_ms")
	add("runtime total (admission → receipt)", total, "timing.total_ms")
	if count > 0 {
		c := float64(count)
		dec, rea, inf := sums["decompose"]/c, sums["reasoning"]/c+sums["retrieval"]/c, sums["inference"]/c
		add("  decompose (model call 1 + actor hops)", dec, "ledger action decompose")
		add("  reasoning (graph of thought over the index)", rea, "ledger action reasoning")
		add("  inference (model call 2 + actor hops)", inf, "ledger action inference")
		add("  of which backend wait (both model calls)", t.backend/n, "timing.backend_ms")
		add("  rest: scoring, ledger commit (fsync), receipt, hops", total-dec-rea-inf, "total − the three above")
	}
	add("runtime overhead as reported (total − backend_ms)", t.overhd/n, "timing.overhead_ms")
}

// backendAnswered reports whether an episode's inference action names the mock
// backend ("inference: llm (mock-small)"), not the embedded fallback.
func backendAnswered(e ledger.Episode) bool {
	for _, a := range e.Actions {
		if a.Type == "inference" {
			return strings.HasPrefix(a.Description, "inference: llm")
		}
	}
	return false
}

// micro returns a micro result by name.
func (r *Report) micro(name string) (MicroResult, bool) {
	for _, m := range r.Micro {
		if m.Name == name && m.Err == "" && m.NsPerItem > 0 {
			return m, true
		}
	}
	return MicroResult{}, false
}

func (r *Report) frontierOf(name string) (Frontier, bool) {
	for _, f := range r.Frontiers {
		if f.Name == name {
			return f, true
		}
	}
	return Frontier{}, false
}

func (r *Report) profile(phase string) string {
	for _, p := range r.Profiles {
		if p.Phase == phase {
			s := "CPU profile of this phase (flat, by area; server and load generator share the process): " + p.String()
			if len(p.Hot) > 0 {
				var hot []string
				for i, h := range p.Hot {
					if i == 8 {
						break
					}
					hot = append(hot, fmt.Sprintf("%s %.0f%% cum", h.Func, h.Percent))
				}
				s += "; by cumulative share: " + strings.Join(hot, ", ")
			}
			return s
		}
	}
	return "no profile in this mode (run `make bench` or `make bench-profile`)"
}

// ClosedConns is the connection count of the closed-loop comparison (issue 21).
const ClosedConns = 64

// Names of the closed-loop runs.
const (
	closedBareHit = "bare fasthttp, cache-hit-sized body"
	closedHit     = "POST /v1/query cache hit"
	closedBare    = "bare fasthttp, health-sized body"
	closedHealth  = "GET /v1/health"
)

func (r *Report) closedOf(name string) (LoadRun, bool) {
	for _, c := range r.Closed {
		if c.Name == name {
			return c, true
		}
	}
	return LoadRun{}, false
}

// closedPair is one closed-loop comparison: the runtime's run against its bare handler.
type closedPair struct{ via, bare LoadRun }

func (r *Report) closedPairs() (hit, health closedPair) {
	hit.via, _ = r.closedOf(closedHit)
	hit.bare, _ = r.closedOf(closedBareHit)
	health.via, _ = r.closedOf(closedHealth)
	health.bare, _ = r.closedOf(closedBare)
	return hit, health
}

func (p closedPair) ratio() float64 {
	if p.via.Throughput <= 0 || p.bare.Throughput <= 0 || p.via.Success() < 0.999 {
		return 0
	}
	return math.Round(p.via.Throughput/p.bare.Throughput*1000) / 1000
}

func (p closedPair) figure() string {
	return fmt.Sprintf("%.2f× (%.0f vs %.0f req/s; p99 %s vs %s; %d of %d failed)", p.ratio(), p.via.Throughput, p.bare.Throughput,
		fmtDur(p.via.Latency.P99), fmtDur(p.bare.Latency.P99), p.via.Requests-p.via.OK, p.via.Requests)
}

func closedLine(runs []LoadRun) string {
	var parts []string
	for _, x := range runs {
		parts = append(parts, fmt.Sprintf("%s %.0f/s p99 %s", x.Name, x.Throughput, fmtDur(x.Latency.P99)))
	}
	return strings.Join(parts, "; ")
}

// evaluate computes the ratios and judges the goals.
func (r *Report) evaluate() {
	const lim = 10 * time.Millisecond
	ceil, _ := r.frontierOf("ceiling: bare fasthttp")
	health, _ := r.frontierOf("GET /v1/health")
	hit, _ := r.frontierOf("POST /v1/query cache hit")
	ratio := func(a, b float64) float64 {
		if a <= 0 || b <= 0 {
			return 0
		}
		return math.Round(a/b*1000) / 1000
	}
	hitRatio := ratio(float64(hit.At(lim)), float64(ceil.At(lim)))
	r.Ratios = append(r.Ratios,
		Ratio{"cache-hit /v1/query ÷ bare fasthttp ceiling", hitRatio, "highest constant rate with p99 < 10 ms"},
		Ratio{"/v1/health ÷ bare fasthttp ceiling", ratio(float64(health.At(lim)), float64(ceil.At(lim))), "highest constant rate with p99 < 10 ms"})
	chit, chealth := r.closedPairs()
	how := func(p closedPair) string {
		return fmt.Sprintf("req/s closed loop, %d connections, interleaved; p99 %s vs %s", ClosedConns,
			fmtDur(p.via.Latency.P99), fmtDur(p.bare.Latency.P99))
	}
	r.Ratios = append(r.Ratios,
		Ratio{"cache-hit /v1/query ÷ same-size bare fasthttp", chit.ratio(), how(chit)},
		Ratio{"/v1/health ÷ bare fasthttp", chealth.ratio(), how(chealth)})
	bridgeRatio := ratio(r.Bridge.Ping.Throughput, r.Bridge.Echo.Throughput)
	r.Ratios = append(r.Ratios, Ratio{"bridge ping ÷ bare NDJSON echo", bridgeRatio,
		fmt.Sprintf("req/s over %d connections, same client", r.Bridge.Conns)})
	var recRatio, recRatioLeaf, ledRatio float64
	batch, ok1 := r.micro("receipt-batch-1024")
	single, ok2 := r.micro("receipt-single-ed25519")
	leaf, ok3 := r.micro("receipt-leaf")
	if ok1 && ok2 {
		recRatio = ratio(single.NsPerItem, batch.NsPerItem)
		r.Ratios = append(r.Ratios, Ratio{"batched ÷ single receipt signing", recRatio,
			"receipts/s: one Ed25519 signature each vs a 1024-leaf Merkle batch with one signature"})
		if ok3 {
			recRatioLeaf = ratio(single.NsPerItem+leaf.NsPerItem, batch.NsPerItem+leaf.NsPerItem)
			r.Ratios = append(r.Ratios, Ratio{"batched ÷ single, leaf included", recRatioLeaf,
				"the same with each receipt's canonical body and leaf hash added to both"})
		}
	}
	group, ok4 := r.micro("ledger-group-64")
	each, ok5 := r.micro("ledger-fsync-each-64")
	if ok4 && ok5 {
		ledRatio = ratio(each.NsPerItem, group.NsPerItem)
		r.Ratios = append(r.Ratios, Ratio{"group-committed ÷ fsync-each ledger", ledRatio, "episodes/s from 64 writers"})
	}

	r.Notes = append(r.Notes,
		"Side-by-side phases are interleaved in short slices (ceiling, health, cache hit in turn; direct, direct×2, via in turn) "+
			"so that a stall from another process on this shared machine hits all of them alike.",
		"Frontier: each step is a short constant-rate run on a warm client; a step that misses a limit is run once more and the "+
			"better run counts. A step is kept when ≥ 99.9 % of requests succeed and answers come back at ≥ 95 % of the offered rate.")
	if v := r.Miss.Via; v.Errors > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d of %d misses were not answered by the backend (first: %s). With the "+
			"inference MaxInFlight of 32 calls per backend (bizra run's default), a burst of misses over a %.0f ms backend is answered OVERLOADED at once and "+
			"falls back to the embedded engine.", v.Errors, v.Requests, clip([]byte(v.FirstError), 160), r.Miss.DelayMs))
	}

	status := func(measured, met bool) string {
		switch {
		case !measured:
			return "NOT MEASURED"
		case met:
			return "MET"
		}
		return "MISSED"
	}
	g := Goal{Goal: "cache-hit /v1/query ≥ 0.5× the bare fasthttp ceiling",
		Figure: fmt.Sprintf("%.2f× (%d vs %d req/s at p99 < 10 ms)", hitRatio, hit.At(lim), ceil.At(lim)),
		Status: status(hitRatio > 0, hitRatio >= 0.5)}
	if g.Status == "MISSED" {
		g.Where = r.profile("POST /v1/query cache hit")
	}
	r.Goals = append(r.Goals, g)
	g = Goal{Goal: fmt.Sprintf("issue 21: cache-hit /v1/query ≥ 0.5× a same-size bare fasthttp handler, %d connections", ClosedConns),
		Figure: chit.figure(), Status: status(chit.ratio() > 0, chit.ratio() >= 0.5)}
	if g.Status == "MISSED" {
		g.Where = r.profile("POST /v1/query cache hit")
	}
	r.Goals = append(r.Goals, g)
	r.Goals = append(r.Goals, Goal{Goal: fmt.Sprintf("issue 21: /v1/health ≥ 0.9× a bare fasthttp handler, %d connections", ClosedConns),
		Figure: chealth.figure(), Status: status(chealth.ratio() > 0, chealth.ratio() >= 0.9)})
	g = Goal{Goal: "OpenAI pass-through added latency p50 ≤ 0.3 ms, p99 ≤ 1 ms at 16 clients, throughput ≥ 0.95× direct",
		Figure: r.PassThrough.Note, Status: "NOT MEASURED"}
	rg := Goal{Goal: fmt.Sprintf("OpenAI pass-through added latency p50 ≤ 0.2 ms, p99 ≤ 1 ms at a constant %d/s against a 1 ms mock", PassThroughRate),
		Figure: r.PassThrough.Note, Status: "NOT MEASURED"}
	for _, c := range r.PassThrough.Cases {
		cpu := fmt.Sprintf("; process CPU %.0f µs per request via, %.0f direct (+%.0f)", c.ViaCPUus, c.DirectCPUus, c.AddedCPUus)
		switch {
		case c.Clients == 16:
			met := c.Added.P50 <= 300*time.Microsecond && c.Added.P99 <= time.Millisecond && c.ThroughputRatio >= 0.95 && c.Via.Success() >= 0.999
			g.Status = status(c.Via.OK > 0, met)
			g.Figure = fmt.Sprintf("added p50 %s, p99 %s; throughput %.2f× (%.0f vs %.0f/s); %d of %d requests refused or failed",
				fmtDur(c.Added.P50), fmtDur(c.Added.P99), c.ThroughputRatio, c.Via.Throughput, c.Direct.Throughput, c.Via.Errors, c.Via.Requests) + cpu
			if g.Status == "MISSED" {
				g.Where = r.profile("OpenAI pass-through")
			}
		case c.Rate == PassThroughRate:
			met := c.Added.P50 <= 200*time.Microsecond && c.Added.P99 <= time.Millisecond && c.Via.Kept()
			rg.Status = status(c.Via.OK > 0, met)
			rg.Figure = fmt.Sprintf("added p50 %s, p99 %s (mock %.0f ms); %d of %d requests refused or failed",
				fmtDur(c.Added.P50), fmtDur(c.Added.P99), c.DelayMs, c.Via.Errors, c.Via.Requests) + cpu
			if rg.Status == "MISSED" {
				rg.Where = r.profile("OpenAI pass-through")
			}
		}
	}
	r.Goals = append(r.Goals, g, rg)
	g = Goal{Goal: "bridge ping ≥ 0.5× the bare echo server",
		Figure: fmt.Sprintf("%.2f× (%.0f vs %.0f req/s, %d conns)", bridgeRatio, r.Bridge.Ping.Throughput, r.Bridge.Echo.Throughput, r.Bridge.Conns),
		Status: status(bridgeRatio > 0, bridgeRatio >= 0.5)}
	if g.Status == "MISSED" {
		g.Where = r.profile("bridge ping + receipt")
	}
	r.Goals = append(r.Goals, g)
	g = Goal{Goal: "batched receipts ≥ 5× single signatures",
		Figure: fmt.Sprintf("%.1f× signing (%.0f vs %.0f ns/receipt); %.1f× with the leaf", recRatio, batch.NsPerItem, single.NsPerItem, recRatioLeaf),
		Status: status(recRatio > 0, recRatio >= 5)}
	if g.Status == "MISSED" {
		g.Where = fmt.Sprintf("per receipt: leaf %.0f ns, batch share %.0f ns, single signature %.0f ns", leaf.NsPerItem, batch.NsPerItem, single.NsPerItem)
	}
	r.Goals = append(r.Goals, g)
	g = Goal{Goal: "group-committed ledger ≥ 10× one fsync per episode",
		Figure: fmt.Sprintf("%.1f× (%.0f vs %.0f episodes/s)", ledRatio, perSec(group.NsPerItem), perSec(each.NsPerItem)),
		Status: status(ledRatio > 0, ledRatio >= 10)}
	if g.Status == "MISSED" {
		g.Where = fmt.Sprintf("one fsync costs only about %s on this disk (fsync-each: one episode per %s), and group commit is no longer fsync-bound "+
			"but CPU-bound at %s per episode; %s", fmtDur(time.Duration(each.NsPerItem)), fmtDur(time.Duration(each.NsPerItem)),
			fmtDur(time.Duration(group.NsPerItem)), r.profile("ledger group commit, 64 writers"))
	}
	r.Goals = append(r.Goals, g)
}

func perSec(ns float64) float64 {
	if ns <= 0 {
		return 0
	}
	return 1e9 / ns
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func latRow(b *strings.Builder, name string, rate string, r LoadRun) {
	fmt.Fprintf(b, "| %s | %s | %d/%d | %s | %s | %s | %s | %s |\n", name, rate, r.OK, r.Requests,
		fmtDur(r.Latency.P50), fmtDur(r.Latency.P90), fmtDur(r.Latency.P99), fmtDur(r.Latency.P999), fmtDur(r.Latency.Max))
}

// Markdown renders the report's tables (also printed at the end of the run).
func (r *Report) Markdown() string {
	var b strings.Builder
	m := r.Machine
	where := "The load generator runs in the same process"
	if strings.HasPrefix(r.ClosedTool, "wrk") {
		where = "The load generator runs in the same process (the closed loop's, wrk, in its own)"
	}
	fmt.Fprintf(&b, "Machine: %d cores (GOMAXPROCS %d), %s [%s], %s %s; load average at start %s. "+
		"%s and shares the cores with the servers, "+
		"and the machine is shared with other work, so figures are noisy. Mode %s, %s, took %.0f s.\n\n",
		m.Cores, m.GOMAXPROCS, m.CPU, m.Flags, m.GoVersion, m.OS, m.Load, where, r.Mode, r.Started, r.ElapsedS)
	if r.Command != "" {
		fmt.Fprintf(&b, "Command: `%s`\n\n", r.Command)
	}
	b.WriteString("Answer quality (hit@1, answer-contains-fact, APPROVED precision, latency on a 20,000-passage lake) is `make eval`'s report: [docs/eval.md](docs/eval.md).\n\n")

	b.WriteString("### Latency at a constant rate (vegeta, exact percentiles)\n\n")
	b.WriteString("| scenario | rate | ok/sent | p50 | p90 | p99 | p99.9 | max |\n|---|---|---|---|---|---|---|---|\n")
	for _, f := range r.Fixed {
		latRow(&b, f.Name, fmt.Sprintf("%d/s", f.Rate), f)
	}
	ms := r.Miss
	latRow(&b, fmt.Sprintf("mock backend direct, 1 call (delay %.0f ms)", ms.DelayMs), fmt.Sprintf("%d/s", ms.Rate), ms.Direct)
	latRow(&b, "mock backend direct ×2 (decompose + answer)", fmt.Sprintf("%d/s", ms.Rate), ms.Direct2)
	latRow(&b, "POST /v1/query miss via the runtime", fmt.Sprintf("%d/s", ms.Rate), ms.Via)
	o := ms.Overhead
	fmt.Fprintf(&b, "| **overhead = via − direct×2** | | | **%s** | **%s** | **%s** | **%s** | %s |\n",
		fmtDur(o.P50), fmtDur(o.P90), fmtDur(o.P99), fmtDur(o.P999), fmtDur(o.Max))
	if !r.PassThrough.Measured {
		fmt.Fprintf(&b, "| OpenAI pass-through | | | %s | | | | |\n", r.PassThrough.Note)
	}
	for _, c := range r.PassThrough.Cases {
		latRow(&b, c.Direct.Name+fmt.Sprintf(" (delay %.0f ms)", c.DelayMs), c.load(), c.Direct)
		latRow(&b, c.Via.Name, c.load(), c.Via)
		a := c.Added
		fmt.Fprintf(&b, "| **added by the pass-through, %s** | throughput %.2f×, CPU +%.0f µs/request | | **%s** | **%s** | **%s** | **%s** | %s |\n",
			c.Name(), c.ThroughputRatio, c.AddedCPUus, fmtDur(a.P50), fmtDur(a.P90), fmtDur(a.P99), fmtDur(a.P999), fmtDur(a.Max))
	}
	br := r.Bridge
	latRow(&b, br.Ping.Name, "closed loop", br.Ping)
	latRow(&b, br.Echo.Name, "closed loop", br.Echo)
	for _, f := range r.Fixed {
		if f.Errors > 0 {
			fmt.Fprintf(&b, "\n%s: %d errors, first: %s\n", f.Name, f.Errors, f.FirstError)
		}
	}
	if ms.Via.Errors > 0 {
		fmt.Fprintf(&b, "\nmiss via runtime: %d errors, first: %s\n", ms.Via.Errors, ms.Via.FirstError)
	}

	if len(ms.Stages) > 0 {
		fmt.Fprintf(&b, "\n### Where a miss's time goes (means over %d responses, %d ledger episodes)\n\n", ms.Via.OK, ms.Episodes)
		b.WriteString("| stage | mean | source |\n|---|---|---|\n")
		for _, s := range ms.Stages {
			fmt.Fprintf(&b, "| %s | %.2f ms | %s |\n", s.Name, s.MeanMs, s.Source)
		}
	}

	fmt.Fprintf(&b, "\n### Closed loop, %d connections (interleaved; bare handlers answer the same number of bytes)\n\n", ClosedConns)
	if r.ClosedTool != "" {
		fmt.Fprintf(&b, "Load generator: %s. Receipt log group commit during the cache-hit runs: %s.\n\n", r.ClosedTool, r.ClosedCommit)
	}
	b.WriteString("| scenario | req/s | ok/sent | p50 | p99 | p99.9 | max |\n|---|---|---|---|---|---|---|\n")
	for _, x := range r.Closed {
		fmt.Fprintf(&b, "| %s | %.0f | %d/%d | %s | %s | %s | %s |\n", x.Name, x.Throughput, x.OK, x.Requests,
			fmtDur(x.Latency.P50), fmtDur(x.Latency.P99), fmtDur(x.Latency.P999), fmtDur(x.Latency.Max))
	}

	b.WriteString("\n### Throughput frontier (highest constant rate kept with p99 under the limit)\n\n")
	b.WriteString("| target | p99 < 1 ms | p99 < 5 ms | p99 < 10 ms | steps |\n|---|---|---|---|---|\n")
	for _, f := range r.Frontiers {
		fmt.Fprintf(&b, "| %s |", f.Name)
		for _, p := range f.Points {
			fmt.Fprintf(&b, " %s |", rateStr(p))
		}
		fmt.Fprintf(&b, " %d |\n", len(f.Steps))
	}
	fmt.Fprintf(&b, "\n### Bridge (%d connections, closed loop, same client)\n\n", br.Conns)
	if br.Commit.Fsyncs > 0 {
		fmt.Fprintf(&b, "Each ping's receipt is group-committed in the bridge receipt log (its own folder, writer and fsync; it shares no lock with the query log): %s.\n\n", br.Commit)
	}
	b.WriteString("| server | req/s | p50 | p99 | errors |\n|---|---|---|---|---|\n")
	for _, x := range []LoadRun{br.Ping, br.Echo} {
		fmt.Fprintf(&b, "| %s | %.0f | %s | %s | %d |\n", x.Name, x.Throughput, fmtDur(x.Latency.P50), fmtDur(x.Latency.P99), x.Errors)
	}

	b.WriteString("\n### Micro-benchmarks (-benchmem)\n\n| benchmark | ns/op | ns/item | B/op | allocs/op | what |\n|---|---|---|---|---|---|\n")
	for _, x := range r.Micro {
		if x.Err != "" {
			fmt.Fprintf(&b, "| %s | error | | | | %s: %s |\n", x.Name, x.What, clip([]byte(x.Err), 160))
			continue
		}
		fmt.Fprintf(&b, "| %s | %.0f | %.0f | %d | %d | %s |\n", x.Name, x.NsPerOp, x.NsPerItem, x.BytesPerOp, x.AllocsPerOp, x.What)
	}

	b.WriteString("\n### Ratios\n\n| ratio | value | how |\n|---|---|---|\n")
	for _, x := range r.Ratios {
		v := "n/a"
		if x.Value > 0 {
			v = fmt.Sprintf("%.2f×", x.Value)
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", x.Name, v, x.How)
	}

	b.WriteString("\n### Goals (issues 12 and 21)\n\n| goal | figure | status |\n|---|---|---|\n")
	for _, g := range r.Goals {
		fmt.Fprintf(&b, "| %s | %s | **%s** |\n", g.Goal, g.Figure, g.Status)
	}
	for _, g := range r.Goals {
		if g.Where != "" {
			fmt.Fprintf(&b, "\n- %s — %s: %s\n", g.Status, g.Goal, g.Where)
		}
	}
	if len(r.Notes) > 0 {
		b.WriteString("\n### Notes\n\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	if len(r.Profiles) > 0 {
		b.WriteString("\n### CPU profiles (separate runs of the phase; flat share by area)\n\n")
		for _, p := range r.Profiles {
			fmt.Fprintf(&b, "- **%s** (`%s`): %s\n", p.Phase, p.File, p.String())
		}
	}
	return b.String()
}

// WriteSVG draws the latency percentiles of each scenario on a log axis.
func (r *Report) WriteSVG(w io.Writer) error {
	type series struct {
		name string
		lat  Latency
	}
	var ss []series
	for _, f := range r.Fixed {
		ss = append(ss, series{fmt.Sprintf("%s @%d/s", f.Name, f.Rate), f.Latency})
	}
	ss = append(ss, series{"mock direct ×2", r.Miss.Direct2.Latency}, series{"/v1/query miss via runtime", r.Miss.Via.Latency},
		series{"bridge ping (64 conns)", r.Bridge.Ping.Latency}, series{"NDJSON echo (64 conns)", r.Bridge.Echo.Latency})
	const W, H, left, right, top, bottom = 860, 460, 70, 260, 40, 50
	pw, ph := float64(W-left-right), float64(H-top-bottom)
	lo, hi := 10*time.Microsecond, time.Second
	for _, s := range ss {
		for _, d := range []time.Duration{s.lat.P50, s.lat.Max} {
			if d > 0 && d < lo {
				lo = d
			}
			if d > hi {
				hi = d
			}
		}
	}
	l0, l1 := math.Floor(math.Log10(float64(lo))), math.Ceil(math.Log10(float64(hi)))
	y := func(d time.Duration) float64 {
		v := math.Log10(math.Max(float64(d), math.Pow(10, l0)))
		return float64(top) + ph*(1-(v-l0)/(l1-l0))
	}
	cols := []string{"p50", "p90", "p99", "p99.9", "max"}
	x := func(i int) float64 { return float64(left) + pw*float64(i)/float64(len(cols)-1) }
	colors := []string{"#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666", "#1f78b4"}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", W, H)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", W, H)
	fmt.Fprintf(&b, `<text x="%d" y="22" font-size="14">bizra latency percentiles (log scale), %s, %d cores, %s</text>`+"\n",
		left, r.Mode, r.Machine.Cores, xmlEsc(r.Started))
	for e := l0; e <= l1; e++ {
		d := time.Duration(math.Pow(10, e))
		yy := y(d)
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", left, yy, float64(left)+pw, yy)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", left-6, yy+4, fmtDur(d))
	}
	for i, c := range cols {
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", x(i), H-bottom+20, c)
	}
	for si, s := range ss {
		if s.lat.P50 <= 0 {
			continue
		}
		col := colors[si%len(colors)]
		vals := []time.Duration{s.lat.P50, s.lat.P90, s.lat.P99, s.lat.P999, s.lat.Max}
		var pts []string
		for i, v := range vals {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(v)))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`+"\n", col, strings.Join(pts, " "))
		for i, v := range vals {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s %s: %s</title></circle>`+"\n",
				x(i), y(v), col, xmlEsc(s.name), cols[i], fmtDur(v))
		}
		ly := top + 14 + si*18
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/>`+"\n", W-right+16, ly-10, col)
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`+"\n", W-right+34, ly, xmlEsc(s.name))
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func xmlEsc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
