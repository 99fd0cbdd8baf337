package gate

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// contractSeries are the 15 unlabelled series of api.md with their types.
var contractSeries = []struct{ name, typ string }{
	{"sovereign_queries_total", "counter"},
	{"sovereign_query_success_rate", "gauge"},
	{"sovereign_snr_score", "gauge"},
	{"sovereign_ihsan_score", "gauge"},
	{"sovereign_avg_query_time_ms", "gauge"},
	{"sovereign_health_score", "gauge"},
	{"sovereign_reasoning_calls_total", "counter"},
	{"sovereign_reasoning_avg_depth", "gauge"},
	{"sovereign_validation_pass_rate", "gauge"},
	{"sovereign_autonomous_cycles_total", "counter"},
	{"sovereign_autonomous_decisions_total", "counter"},
	{"sovereign_autonomous_actions_total", "counter"},
	{"sovereign_cache_hits_total", "counter"},
	{"sovereign_cache_misses_total", "counter"},
	{"sovereign_cache_hit_rate", "gauge"},
}

// exposition is a parsed Prometheus text exposition (0.0.4).
type exposition struct {
	types map[string]string // # TYPE name type
	help  map[string]bool   // # HELP name seen
	// unlabelled holds the value of every sample without labels, by name.
	unlabelled map[string]float64
	samples    int
}

// parseExposition parses the text format. It returns the problems it met (a sample it
// cannot read, a second TYPE for a name) beside what it could read.
func parseExposition(b []byte) (exposition, []string) {
	e := exposition{types: map[string]string{}, help: map[string]bool{}, unlabelled: map[string]float64{}}
	var problems []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for ln := 1; sc.Scan(); ln++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if rest, ok := strings.CutPrefix(line, "#"); ok {
			f := strings.Fields(rest)
			if len(f) >= 3 && f[0] == "TYPE" {
				if _, dup := e.types[f[1]]; dup {
					problems = append(problems, fmt.Sprintf("line %d: second TYPE for %s", ln, f[1]))
				}
				e.types[f[1]] = f[2]
			} else if len(f) >= 2 && f[0] == "HELP" {
				e.help[f[1]] = true
			}
			continue
		}
		name, labels, value, err := parseSample(line)
		if err != nil {
			problems = append(problems, fmt.Sprintf("line %d: %v", ln, err))
			continue
		}
		e.samples++
		if labels == "" {
			if _, dup := e.unlabelled[name]; dup {
				problems = append(problems, fmt.Sprintf("line %d: duplicate sample %s", ln, name))
			}
			e.unlabelled[name] = value
		}
	}
	if err := sc.Err(); err != nil {
		problems = append(problems, err.Error())
	}
	return e, problems
}

// parseSample reads `name{labels} value [timestamp]`.
func parseSample(line string) (name, labels string, value float64, err error) {
	i := strings.IndexAny(line, "{ \t")
	if i <= 0 {
		return "", "", 0, fmt.Errorf("no value in %q", trunc(line, 80))
	}
	name, rest := line[:i], line[i:]
	if rest[0] == '{' {
		end, inQuote := -1, false
		for j := 1; j < len(rest); j++ {
			switch c := rest[j]; {
			case c == '\\' && inQuote:
				j++
			case c == '"':
				inQuote = !inQuote
			case c == '}' && !inQuote:
				end = j
			}
			if end >= 0 {
				break
			}
		}
		if end < 0 {
			return "", "", 0, fmt.Errorf("unterminated labels in %q", trunc(line, 80))
		}
		labels, rest = rest[1:end], rest[end+1:]
	}
	f := strings.Fields(rest)
	if len(f) < 1 || len(f) > 2 {
		return "", "", 0, fmt.Errorf("bad sample %q", trunc(line, 80))
	}
	value, err = strconv.ParseFloat(f[0], 64)
	if err != nil {
		return "", "", 0, fmt.Errorf("bad value in %q", trunc(line, 80))
	}
	return name, labels, value, nil
}

// checkContractSeries records one assertion per contract series: its TYPE, its HELP and
// one finite unlabelled sample (counters not negative).
func checkContractSeries(p *probe, body []byte) exposition {
	e, problems := parseExposition(body)
	p.check("the exposition parses", len(problems) == 0, "%s", strings.Join(problems, "; "))
	missing := 0
	for _, s := range contractSeries {
		typ, hasType := e.types[s.name]
		v, hasSample := e.unlabelled[s.name]
		ok := hasType && typ == s.typ && e.help[s.name] && hasSample && !math.IsNaN(v) && !math.IsInf(v, 0) && (s.typ != "counter" || v >= 0)
		if !ok {
			missing++
		}
		detail := ""
		switch {
		case !hasType:
			detail = "no # TYPE line"
		case typ != s.typ:
			detail = fmt.Sprintf("TYPE %s, want %s", typ, s.typ)
		case !e.help[s.name]:
			detail = "no # HELP line"
		case !hasSample:
			detail = "no unlabelled sample"
		default:
			detail = fmt.Sprintf("%s = %g", s.typ, v)
		}
		p.check(s.name+" ("+s.typ+")", ok, "%s", detail)
	}
	p.figure("summary", fmt.Sprintf("%d/%d contract series, %d samples", len(contractSeries)-missing, len(contractSeries), e.samples))
	return e
}

// checkMetricsContract: all 15 contract series present with their types, parsed from
// GET /v1/metrics of a node that served one query.
func checkMetricsContract(ctx context.Context, g *harness, p *probe) {
	n, err := g.startNode(ctx, "metrics", nodeOpts{})
	defer n.close()
	if !p.check("node started", err == nil, "%s", errText(err)) {
		return
	}
	code, _, _, err := n.httpDo(ctx, http.MethodPost, "/v1/query", map[string]any{"query": queries[0], "timeout_ms": 10000})
	p.check("one query served first", err == nil && code == 200, "HTTP %d %s", code, errText(err))
	code, body, hdr, err := n.httpDo(ctx, http.MethodGet, "/v1/metrics", nil)
	if !p.check("GET /v1/metrics: HTTP 200", err == nil && code == 200, "HTTP %d %s", code, errText(err)) {
		return
	}
	ct := hdr.Get("Content-Type")
	p.check("Content-Type is text/plain; version=0.0.4", strings.HasPrefix(ct, "text/plain") && strings.Contains(ct, "version=0.0.4"), "%q", ct)
	p.check("the exposition ends with a newline", len(body) > 0 && body[len(body)-1] == '\n', "")
	e := checkContractSeries(p, body)
	p.check("sovereign_queries_total counted the query", e.unlabelled["sovereign_queries_total"] >= 1, "value %g", e.unlabelled["sovereign_queries_total"])
	if out, ran := promtoolCheck(ctx, body); ran && out != "" {
		p.warn("promtool check metrics: %s", out)
	} else if !ran {
		p.note("promtool not installed: lint not run")
	}
}

// promtoolCheck runs `promtool check metrics` on body when promtool is installed and
// returns its findings other than the one api.md allows (sovereign_avg_query_time_ms).
func promtoolCheck(ctx context.Context, body []byte) (findings string, ran bool) {
	path, err := exec.LookPath("promtool")
	if err != nil {
		return "", false
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	out, _ := cmd.CombinedOutput()
	var keep []string
	for _, l := range strings.Split(string(out), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "sovereign_avg_query_time_ms ") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "; "), true
}

// Exposition is what ParseExposition read of a Prometheus text exposition (0.0.4).
type Exposition struct {
	// Unlabelled holds the value of every sample without labels, by name.
	Unlabelled map[string]float64
	// Samples counts the samples read.
	Samples int
}

// ParseExposition parses the text format, as metrics_contract does. It returns the
// problems it met (a sample it cannot read, a second TYPE for a name) beside what it
// could read.
func ParseExposition(b []byte) (Exposition, []string) {
	e, problems := parseExposition(b)
	return Exposition{Unlabelled: e.unlabelled, Samples: e.samples}, problems
}

// ContractSeries are the names of api.md's 15 unlabelled series, in contract order.
func ContractSeries() []string {
	out := make([]string, len(contractSeries))
	for i, s := range contractSeries {
		out[i] = s.name
	}
	return out
}
