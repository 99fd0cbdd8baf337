package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// gateCheckNames are the nine checks of operations.md, in report order.
var gateCheckNames = []string{
	"bridge_auth", "receipt_signer_strict", "node0_genesis_fail_closed", "receipt_origin_proof",
	"localhost_defaults", "secret_hygiene", "control_plane_latency", "query_pipeline", "metrics_contract",
}

// gateCheck is one check's entry in the report: {name, passed, score, details}.
type gateCheck struct {
	Name    string      `json:"name"`
	Passed  bool        `json:"passed"`
	Score   float64     `json:"score"`
	Details gateDetails `json:"details"`
}

// gateDetails says what a check asserted and measured.
type gateDetails struct {
	Assertions []gateAssertion `json:"assertions"`
	Warnings   []string        `json:"warnings"`
	Notes      []string        `json:"notes,omitempty"`
	Figures    map[string]any  `json:"figures,omitempty"`
	DurationMs float64         `json:"duration_ms"`
}

// gateAssertion is one property a check tested.
type gateAssertion struct {
	What   string `json:"what"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// gateReport is `bizra gate --json`.
type gateReport struct {
	TimestampUTC string      `json:"timestamp_utc"`
	StrictMode   bool        `json:"strict_mode"`
	Score        gateScore   `json:"score"`
	Checks       []gateCheck `json:"checks"`
}

type gateScore struct {
	CompositeScore float64 `json:"composite_score"`
	Passed         bool    `json:"passed"`
}

// probe records a check's assertions, warnings and figures.
type probe struct {
	d gateDetails
}

// check records one assertion and returns ok.
func (p *probe) check(what string, ok bool, format string, args ...any) bool {
	a := gateAssertion{What: what, OK: ok}
	if format != "" {
		a.Detail = fmt.Sprintf(format, args...)
	}
	p.d.Assertions = append(p.d.Assertions, a)
	return ok
}

// fail records a failed assertion caused by err.
func (p *probe) fail(what string, err error) bool {
	return p.check(what, false, "%s", gateErrText(err))
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
func (p *probe) result(name string, strict bool) gateCheck {
	ok := 0
	for _, a := range p.d.Assertions {
		if a.OK {
			ok++
		}
	}
	c := gateCheck{Name: name, Details: p.d}
	if c.Details.Assertions == nil {
		c.Details.Assertions = []gateAssertion{}
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

// gateFunc runs one check against g, recording into p.
type gateFunc func(ctx context.Context, g *gate, p *probe)

func gateFuncs() map[string]gateFunc {
	return map[string]gateFunc{
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

// runGate runs the checks named in only (all nine when empty) and returns the report.
// secret_hygiene runs last so that it scans the logs of every other check's nodes; the
// report keeps the order of operations.md.
func runGate(ctx context.Context, strict bool, getenv func(string) (string, bool), only []string) (gateReport, error) {
	g, err := newGate(strict, getenv)
	if err != nil {
		return gateReport{}, err
	}
	defer g.close()
	names := gateCheckNames
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
	funcs := gateFuncs()
	results := map[string]gateCheck{}
	for _, name := range order {
		f, ok := funcs[name]
		if !ok {
			return gateReport{}, fmt.Errorf("unknown check %q", name)
		}
		results[name] = runOneCheck(ctx, g, name, f)
	}
	rep := gateReport{TimestampUTC: time.Now().UTC().Format(time.RFC3339), StrictMode: strict,
		Score: gateScore{Passed: true}}
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
func runOneCheck(ctx context.Context, g *gate, name string, f gateFunc) (c gateCheck) {
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

// cmdGate is `bizra gate [--strict] [--json]` (operations.md, Control-plane gate).
func cmdGate(ctx context.Context, a *app, args []string) int {
	const cmd = "gate"
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	strict := fs.Bool("strict", false, "also fail on warnings (a receipt sealed later than its batch interval allows, a p95 over 50 ms, ...)")
	asJSON := fs.Bool("json", false, "print the report as JSON and write it to <out>/gate-<timestamp>.json")
	out := fs.String("out", ".proof-forge", "folder for the JSON report")
	only := fs.String("only", "", "comma-separated checks to run (default: all nine)")
	pos, code := toolFlags(a, fs, args, "bizra gate [--strict] [--json] [--out DIR] [--only CHECK,...]")
	if code >= 0 {
		return code
	}
	if len(pos) > 0 {
		return toolUsage(a, cmd, "unexpected argument %q", pos[0])
	}
	var sel []string
	if *only != "" {
		known := map[string]bool{}
		for _, n := range gateCheckNames {
			known[n] = true
		}
		for _, n := range splitList(*only) {
			if !known[n] {
				return toolUsage(a, cmd, "unknown check %q in --only (checks: %s)", n, strings.Join(gateCheckNames, ", "))
			}
			sel = append(sel, n)
		}
	}
	rep, err := runGate(ctx, *strict, a.getenv, sel)
	if err != nil {
		return toolFail(a, cmd, err)
	}
	if *asJSON {
		b, _ := json.MarshalIndent(rep, "", "  ")
		b = append(b, '\n')
		a.stdout.Write(b)
		path, err := writeGateReport(*out, b, time.Now().UTC())
		if err != nil {
			fmt.Fprintf(a.stderr, "bizra gate: cannot write the report: %v\n", err)
			return 1
		}
		fmt.Fprintf(a.stderr, "bizra gate: report written to %s\n", path)
	} else {
		printGateTable(a.stdout, &rep)
	}
	if !rep.Score.Passed {
		return 1
	}
	return 0
}

// writeGateReport writes b to dir/gate-<timestamp>.json and returns the path.
func writeGateReport(dir string, b []byte, now time.Time) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "gate-"+now.Format("20060102T150405.000Z")+".json")
	return path, os.WriteFile(path, b, 0o644)
}

// printGateTable prints one line per check, then its failed assertions and warnings.
func printGateTable(w io.Writer, rep *gateReport) {
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
