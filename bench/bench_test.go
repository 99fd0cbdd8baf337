package bench

import (
	"context"
	"encoding/xml"
	"strings"
	"testing"
	"time"
)

func TestPercentiles(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	tests := []struct {
		name string
		in   []time.Duration
		want Latency
	}{
		{"empty", nil, Latency{}},
		{"one", []time.Duration{ms(3)}, Latency{P50: ms(3), P90: ms(3), P99: ms(3), P999: ms(3), Max: ms(3), Mean: ms(3)}},
		{"1..1000 shuffled", func() []time.Duration {
			v := make([]time.Duration, 1000)
			for i := range v {
				v[i] = ms((i*7919)%1000 + 1)
			}
			return v
		}(), Latency{P50: ms(500), P90: ms(900), P99: ms(990), P999: ms(999), Max: ms(1000), Mean: 500500 * time.Microsecond}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentiles(tc.in); got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseBenchLine(t *testing.T) {
	tests := []struct {
		name string
		out  string
		ok   bool
		want MicroResult
	}{
		{"standard", "goos: linux\nBenchmarkAuthCheck-2   \t 1234567\t       950.5 ns/op\t      16 B/op\t       1 allocs/op\nPASS\n",
			true, MicroResult{N: 1234567, NsPerOp: 950.5, BytesPerOp: 16, AllocsPerOp: 1}},
		{"extra metrics", "BenchmarkX-2  100  2000 ns/op  3.5 p99-µs  0 B/op  0 allocs/op\n",
			true, MicroResult{N: 100, NsPerOp: 2000}},
		{"build failure", "# github.com/bizra/bizra/bridge\nbridge/x.go:1: syntax error\nFAIL\n", false, MicroResult{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseBenchLine([]byte(tc.out))
			if ok != tc.ok || got != tc.want {
				t.Fatalf("got %+v %v, want %+v %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestLoadRunKept(t *testing.T) {
	tests := []struct {
		name string
		r    LoadRun
		want bool
	}{
		{"kept", LoadRun{Rate: 100, Requests: 100, OK: 100, Throughput: 99}, true},
		{"slow", LoadRun{Rate: 100, Requests: 100, OK: 100, Throughput: 80}, false},
		{"errors", LoadRun{Rate: 100, Requests: 1000, OK: 990, Throughput: 99}, false},
		{"nothing sent", LoadRun{Rate: 100}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.r.Kept(); got != tc.want {
				t.Fatalf("Kept() = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestClosedPairRatio: the closed-loop ratio is via ÷ bare req/s, and is not measured
// (0) when either side has no throughput or the runtime failed requests.
func TestClosedPairRatio(t *testing.T) {
	ok := func(tp float64) LoadRun { return LoadRun{Requests: 1000, OK: 1000, Throughput: tp} }
	tests := []struct {
		name string
		p    closedPair
		want float64
	}{
		{"half", closedPair{via: ok(500), bare: ok(1000)}, 0.5},
		{"rounded", closedPair{via: ok(1), bare: ok(3)}, 0.333},
		{"no bare", closedPair{via: ok(500)}, 0},
		{"failures", closedPair{via: LoadRun{Requests: 1000, OK: 900, Throughput: 900}, bare: ok(1000)}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.ratio(); got != tc.want {
				t.Fatalf("ratio %v, want %v", got, tc.want)
			}
		})
	}
}

// TestRunTiny runs the whole harness in its tiny mode against the real runtime, so
// the harness does not rot: every phase must produce figures and the report must
// render. The figures themselves are not checked (a shared machine).
func TestRunTiny(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole stack for several seconds")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	LedgerDir = t.TempDir()
	t.Cleanup(func() { LedgerDir = "" })
	rep, err := Run(ctx, Options{Mode: Tiny})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Fixed) != 3 {
		t.Fatalf("fixed-rate runs: %d", len(rep.Fixed))
	}
	for _, r := range append(rep.Fixed, rep.Miss.Direct, rep.Miss.Direct2, rep.Miss.Via, rep.Bridge.Ping, rep.Bridge.Echo) {
		if r.OK == 0 || r.Latency.P50 <= 0 {
			t.Errorf("%s: no successful request (%d sent, first error %q)", r.Name, r.Requests, r.FirstError)
		}
	}
	if rep.Miss.Via.OK > 0 && rep.Miss.Via.Latency.P50 < time.Duration(rep.Miss.DelayMs*2)*time.Millisecond {
		t.Errorf("miss p50 %s is below two mock delays of %.0f ms: the backend was not on the path", rep.Miss.Via.Latency.P50, rep.Miss.DelayMs)
	}
	if rep.Miss.Episodes == 0 {
		t.Error("no ledger episode of the miss run")
	}
	if len(rep.Frontiers) != 3 {
		t.Fatalf("frontiers: %d", len(rep.Frontiers))
	}
	for _, f := range rep.Frontiers {
		if len(f.Steps) == 0 || len(f.Points) != len(limits) {
			t.Errorf("frontier %s: %d steps, %d points", f.Name, len(f.Steps), len(f.Points))
		}
	}
	for _, m := range rep.Micro {
		if m.Err != "" || m.NsPerOp <= 0 {
			t.Errorf("micro %s: %q %v", m.Name, m.Err, m.NsPerOp)
		}
	}
	if len(rep.Closed) != 4 {
		t.Fatalf("closed-loop runs: %d", len(rep.Closed))
	}
	for _, r := range rep.Closed {
		if r.OK == 0 || r.Latency.P99 <= 0 {
			t.Errorf("%s: no successful request (%d sent, first error %q)", r.Name, r.Requests, r.FirstError)
		}
	}
	if len(rep.Goals) != 8 {
		t.Fatalf("goals: %d", len(rep.Goals))
	}
	// the pass-through: both client counts and the constant rate, each with its
	// process CPU per request
	if n := len(rep.PassThrough.Cases); n != len(PassThroughClients)+1 {
		t.Fatalf("pass-through cases: %d", n)
	}
	for _, c := range rep.PassThrough.Cases {
		if c.Via.OK == 0 || c.Direct.OK == 0 || c.ViaCPUus <= 0 || c.DirectCPUus <= 0 {
			t.Errorf("pass-through %s: via %d ok (%.0f µs CPU), direct %d ok (%.0f µs CPU); first errors %q %q", c.Name(),
				c.Via.OK, c.ViaCPUus, c.Direct.OK, c.DirectCPUus, c.Via.FirstError, c.Direct.FirstError)
		}
	}
	for _, g := range rep.Goals {
		switch g.Status {
		case "MET", "MISSED", "NOT MEASURED":
		default:
			t.Errorf("goal %q: status %q", g.Goal, g.Status)
		}
	}
	md := rep.Markdown()
	for _, want := range []string{"### Goals (issues 12 and 21)", "bare fasthttp", "### Closed loop, 64 connections", "overhead = via − direct×2", "added by the pass-through, 1000/s", "### Ratios"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	var svg strings.Builder
	if err := rep.WriteSVG(&svg); err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(strings.NewReader(svg.String()))
	for {
		_, err := d.Token()
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("svg is not well-formed: %v", err)
			}
			break
		}
	}
	var js strings.Builder
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
}
