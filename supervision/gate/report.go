package gate

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"
)

// CheckNames are the nine checks of operations.md, in report order.
var CheckNames = []string{
	"bridge_auth", "receipt_signer_strict", "node0_genesis_fail_closed", "receipt_origin_proof",
	"localhost_defaults", "secret_hygiene", "control_plane_latency", "query_pipeline", "metrics_contract",
}

// Check is one check's entry in the report: {name, passed, score, details}.
type Check struct {
	Name    string  `json:"name"`
	Passed  bool    `json:"passed"`
	Score   float64 `json:"score"`
	Details Details `json:"details"`
}

// Details says what a check asserted and measured.
type Details struct {
	Assertions []Assertion    `json:"assertions"`
	Warnings   []string       `json:"warnings"`
	Notes      []string       `json:"notes,omitempty"`
	Figures    map[string]any `json:"figures,omitempty"`
	DurationMs float64        `json:"duration_ms"`
}

// Assertion is one property a check tested.
type Assertion struct {
	What   string `json:"what"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// Report is `bizra gate --json`.
type Report struct {
	TimestampUTC string  `json:"timestamp_utc"`
	StrictMode   bool    `json:"strict_mode"`
	Score        Score   `json:"score"`
	Checks       []Check `json:"checks"`
}

type Score struct {
	CompositeScore float64 `json:"composite_score"`
	Passed         bool    `json:"passed"`
}

// probe records a check's assertions, warnings and figures.
type probe struct {
	d Details
}

// check records one assertion and returns ok.
func (p *probe) check(what string, ok bool, format string, args ...any) bool {
	a := Assertion{What: what, OK: ok}
	if format != "" {
		a.Detail = fmt.Sprintf(format, args...)
	}
	p.d.Assertions = append(p.d.Assertions, a)
	return ok
}

// fail records a failed assertion caused by err.
func (p *probe) fail(what string, err error) bool {
	return p.check(what, false, "%s", errText(err))
}

func (p *probe) warn(format string, args ...any) {
	p.d.Warnings = append(p.d.Warnings, fmt.Sprintf(format, args...))
}

func (p *probe) note(format string, args ...any) {
	p.d.Notes = append(p.d.Notes, fmt.Sprintf(format, args...))
}

func (p *probe) figure(name string, v any) {
	if p.d.Figures == nil {
		p.d.Figures = map[string]any{}
	}
	p.d.Figures[name] = v
}

// result turns the probe into the check's entry: score is the share of assertions
// that held; passed needs all of them (at least one), and no warning in strict mode.
func (p *probe) result(name string, strict bool) Check {
	ok := 0
	for _, a := range p.d.Assertions {
		if a.OK {
			ok++
		}
	}
	c := Check{Name: name, Details: p.d}
	if c.Details.Assertions == nil {
		c.Details.Assertions = []Assertion{}
	}
	if c.Details.Warnings == nil {
		c.Details.Warnings = []string{}
	}
	if n := len(p.d.Assertions); n > 0 {
		c.Score = math.Round(float64(ok)/float64(n)*1000) / 1000
		c.Passed = ok == n
	}
	if strict && len(p.d.Warnings) > 0 {
		c.Passed = false
	}
	return c
}

// checkFunc runs one check against g, recording into p.
type checkFunc func(ctx context.Context, g *harness, p *probe)

func checkFuncs() map[string]checkFunc {
	return map[string]checkFunc{
		"bridge_auth":               checkBridgeAuth,
		"receipt_signer_strict":     checkReceiptSignerStrict,
		"node0_genesis_fail_closed": checkNode0Genesis,
		"receipt_origin_proof":      checkReceiptOriginProof,
		"localhost_defaults":        checkLocalhostDefaults,
		"secret_hygiene":            checkSecretHygiene,
		"control_plane_latency":     checkControlPlaneLatency,
		"query_pipeline":            checkQueryPipeline,
		"metrics_contract":          checkMetricsContract,
	}
}

// Run runs the checks named in only (all nine when empty) and returns the report.
// secret_hygiene runs last so that it scans the logs of every other check's nodes; the
// report keeps the order of operations.md.
func Run(ctx context.Context, o Options, only []string) (Report, error) {
	g, err := newHarness(o)
	if err != nil {
		return Report{}, err
	}
	defer g.close()
	names := CheckNames
	if len(only) > 0 {
		names = only
	}
	order := make([]string, 0, len(names))
	for _, n := range names {
		if n != "secret_hygiene" {
			order = append(order, n)
		}
	}
	for _, n := range names {
		if n == "secret_hygiene" {
			order = append(order, n)
		}
	}
	funcs := checkFuncs()
	results := map[string]Check{}
	for _, name := range order {
		f, ok := funcs[name]
		if !ok {
			return Report{}, fmt.Errorf("%w %q", ErrUnknownCheck, name)
		}
		results[name] = runOneCheck(ctx, g, name, f)
	}
	rep := Report{TimestampUTC: time.Now().UTC().Format(time.RFC3339), StrictMode: o.Strict,
		Score: Score{Passed: true}}
	sum := 0.0
	for _, n := range names {
		c := results[n]
		rep.Checks = append(rep.Checks, c)
		sum += c.Score
		if !c.Passed {
			rep.Score.Passed = false
		}
	}
	if len(rep.Checks) > 0 {
		rep.Score.CompositeScore = math.Round(sum/float64(len(rep.Checks))*1000) / 1000
	}
	return rep, nil
}

// runOneCheck runs f with its own deadline and turns a panic into a failed assertion.
func runOneCheck(ctx context.Context, g *harness, name string, f checkFunc) (c Check) {
	p := &probe{}
	start := time.Now()
	cctx, cancel := context.WithTimeout(ctx, 25*time.Second)
	defer cancel()
	func() {
		defer func() {
			if r := recover(); r != nil {
				p.check("check ran to completion", false, "panic: %v", r)
			}
		}()
		f(cctx, g, p)
	}()
	if cctx.Err() != nil {
		p.check("check finished within its deadline", false, "%v", cctx.Err())
	}
	p.d.DurationMs = math.Round(float64(time.Since(start).Microseconds())/10) / 100
	return p.result(name, g.strict)
}

// WriteReport writes b to dir/gate-<timestamp>.json and returns the path.
func WriteReport(dir string, b []byte, now time.Time) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "gate-"+now.Format("20060102T150405.000Z")+".json")
	return path, os.WriteFile(path, b, 0o644)
}

// PrintTable prints one line per check, then its failed assertions and warnings.
func PrintTable(w io.Writer, rep *Report) {
	fmt.Fprintf(w, "bizra gate — %s%s\n\n", rep.TimestampUTC, map[bool]string{true: " (strict)", false: ""}[rep.StrictMode])
	fmt.Fprintf(w, "%-27s %-6s %6s %9s  %s\n", "CHECK", "RESULT", "SCORE", "TIME", "DETAIL")
	for _, c := range rep.Checks {
		res := "PASS"
		if !c.Passed {
			res = "FAIL"
		}
		ok := 0
		for _, a := range c.Details.Assertions {
			if a.OK {
				ok++
			}
		}
		summary := fmt.Sprintf("%d/%d assertions", ok, len(c.Details.Assertions))
		if s, ok := c.Details.Figures["summary"].(string); ok {
			summary += "; " + s
		}
		fmt.Fprintf(w, "%-27s %-6s %6.3f %7.0fms  %s\n", c.Name, res, c.Score, c.Details.DurationMs, summary)
		for _, a := range c.Details.Assertions {
			if !a.OK {
				fmt.Fprintf(w, "    ✗ %s: %s\n", a.What, a.Detail)
			}
		}
		for _, wn := range c.Details.Warnings {
			fmt.Fprintf(w, "    ! warning: %s\n", wn)
		}
		for _, n := range c.Details.Notes {
			fmt.Fprintf(w, "    · %s\n", n)
		}
	}
	verdict := "PASSED"
	if !rep.Score.Passed {
		verdict = "FAILED"
	}
	fmt.Fprintf(w, "\ncomposite score %.3f — gate %s\n", rep.Score.CompositeScore, verdict)
}
