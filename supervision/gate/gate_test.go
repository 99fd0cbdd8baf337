package gate

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/bizra/bizra/supervision/genesis"
)

// leakCheck verifies, after every other cleanup of t, that t left no goroutine
// behind. It ignores protoactor's dead-letter throttle, which lingers up to a second
// after a message reaches a stopped actor, and fasthttp's process-wide date updater.
func leakCheck(t *testing.T) {
	t.Helper()
	ignore := []goleak.Option{goleak.IgnoreCurrent(),
		goleak.IgnoreAnyFunction("github.com/asynkron/protoactor-go/actor.NewDeadLetter.NewThrottle.func4.1"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2")}
	t.Cleanup(func() { goleak.VerifyNone(t, ignore...) })
}

func TestProbeResult(t *testing.T) {
	for _, tc := range []struct {
		name       string
		oks        []bool
		warn       bool
		strict     bool
		wantPassed bool
		wantScore  float64
	}{
		{"all hold", []bool{true, true}, false, false, true, 1},
		{"one fails", []bool{true, false, true, true}, false, false, false, 0.75},
		{"no assertions is a failure", nil, false, false, false, 0},
		{"warning passes when not strict", []bool{true}, true, false, true, 1},
		{"warning fails in strict mode", []bool{true}, true, true, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &probe{}
			for i, ok := range tc.oks {
				p.check(fmt.Sprint(i), ok, "")
			}
			if tc.warn {
				p.warn("slow")
			}
			c := p.result("x", tc.strict)
			if c.Passed != tc.wantPassed || c.Score != tc.wantScore {
				t.Errorf("passed %v score %v, want %v %v", c.Passed, c.Score, tc.wantPassed, tc.wantScore)
			}
		})
	}
}

// failedAssertions lists the assertions of p that did not hold.
func failedAssertions(p *probe) []string {
	var out []string
	for _, a := range p.d.Assertions {
		if !a.OK {
			out = append(out, a.What)
		}
	}
	return out
}

// contractExposition builds an exposition with the 15 contract series, minus skip and
// with the overrides (name → replacement lines).
func contractExposition(skip string, override map[string]string) []byte {
	var b strings.Builder
	for _, s := range contractSeries {
		if s.name == skip {
			continue
		}
		if o, ok := override[s.name]; ok {
			b.WriteString(o)
			continue
		}
		fmt.Fprintf(&b, "# HELP %s help text\n# TYPE %s %s\n%s 1\n", s.name, s.name, s.typ, s.name)
	}
	b.WriteString("# HELP sovereign_bridge_requests_total x\n# TYPE sovereign_bridge_requests_total counter\n")
	b.WriteString(`sovereign_bridge_requests_total{method="ping",outcome="ok"} 3` + "\n")
	return []byte(b.String())
}

// TestMetricsContractCheckerFails shows the metrics_contract checker failing on an
// exposition that breaks the contract, one way at a time.
func TestMetricsContractCheckerFails(t *testing.T) {
	for _, tc := range []struct {
		name string
		body []byte
		want []string // failed assertions
	}{
		{"complete", contractExposition("", nil), nil},
		{"missing series", contractExposition("sovereign_cache_hit_rate", nil), []string{"sovereign_cache_hit_rate (gauge)"}},
		{"wrong type", contractExposition("", map[string]string{"sovereign_queries_total": "# HELP sovereign_queries_total h\n# TYPE sovereign_queries_total gauge\nsovereign_queries_total 3\n"}),
			[]string{"sovereign_queries_total (counter)"}},
		{"no HELP", contractExposition("", map[string]string{"sovereign_snr_score": "# TYPE sovereign_snr_score gauge\nsovereign_snr_score 0.9\n"}),
			[]string{"sovereign_snr_score (gauge)"}},
		{"labelled only", contractExposition("", map[string]string{"sovereign_ihsan_score": "# HELP sovereign_ihsan_score h\n# TYPE sovereign_ihsan_score gauge\nsovereign_ihsan_score{node=\"a\"} 0.9\n"}),
			[]string{"sovereign_ihsan_score (gauge)"}},
		{"negative counter", contractExposition("", map[string]string{"sovereign_cache_hits_total": "# HELP sovereign_cache_hits_total h\n# TYPE sovereign_cache_hits_total counter\nsovereign_cache_hits_total -1\n"}),
			[]string{"sovereign_cache_hits_total (counter)"}},
		{"unparsable sample", append(contractExposition("", nil), []byte("sovereign_broken{a=\"b\" 1\n")...), []string{"the exposition parses"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &probe{}
			checkContractSeries(p, tc.body)
			got := failedAssertions(p)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("failed assertions %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseSample(t *testing.T) {
	for _, tc := range []struct {
		line, name, labels string
		value              float64
		bad                bool
	}{
		{line: "a 1", name: "a", value: 1},
		{line: `a{b="x}y",c="q\"z"} 2.5 1700000000`, name: "a", labels: `b="x}y",c="q\"z"`, value: 2.5},
		{line: "a NaN", bad: false, name: "a"},
		{line: "a", bad: true},
		{line: "a{b=\"c\" 1", bad: true},
		{line: "a x", bad: true},
	} {
		name, labels, v, err := parseSample(tc.line)
		if (err != nil) != tc.bad {
			t.Errorf("%q: err %v", tc.line, err)
			continue
		}
		if !tc.bad && (name != tc.name || labels != tc.labels || (v != tc.value && tc.line != "a NaN")) {
			t.Errorf("%q: %q %q %v", tc.line, name, labels, v)
		}
	}
}

// FuzzParseExposition: the exposition parser never panics and never reports a sample
// it could not read.
func FuzzParseExposition(f *testing.F) {
	f.Add(contractExposition("", nil))
	f.Add([]byte("# TYPE a counter\na{b=\"\\\"}\"} 1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, _ := parseExposition(b)
		if e.samples < len(e.unlabelled) {
			t.Fatalf("%d samples but %d unlabelled", e.samples, len(e.unlabelled))
		}
	})
}

func TestJudgeLatency(t *testing.T) {
	mk := func(d time.Duration) []time.Duration {
		s := make([]time.Duration, latencySamples)
		for i := range s {
			s[i] = d + time.Duration(i)*time.Microsecond
		}
		return s
	}
	for _, tc := range []struct {
		name     string
		samples  []time.Duration
		failures int
		pass     bool
		warn     bool
	}{
		{"fast", mk(time.Millisecond), 0, true, false},
		{"slow but under 200 ms warns", mk(60 * time.Millisecond), 0, true, true},
		{"p95 over 200 ms fails", mk(250 * time.Millisecond), 0, false, true},
		{"a failed call fails", mk(time.Millisecond)[:latencySamples-1], 1, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &probe{}
			judgeLatency(p, "ping", tc.samples, tc.failures)
			c := p.result("control_plane_latency", false)
			if c.Passed != tc.pass || (len(c.Details.Warnings) > 0) != tc.warn {
				t.Errorf("passed %v warnings %v", c.Passed, c.Details.Warnings)
			}
		})
	}
	s := []time.Duration{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	p := &probe{}
	judgeLatency(p, "x", s, 0) // sorts
	if percentile(s, 0.5) != 5 || percentile(s, 0.95) != 10 || percentile(s, 0.1) != 1 || percentile(nil, 0.5) != 0 {
		t.Errorf("nearest-rank percentiles of 1..10: p50 %v p95 %v p10 %v", percentile(s, 0.5), percentile(s, 0.95), percentile(s, 0.1))
	}
}

// TestBridgeAuthJudgeFails: a bridge that answered alive (or another code) where a
// refusal was due fails the assertion. (A bridge that accepts wrong tokens cannot be
// built: the bridge has no such option.)
func TestBridgeAuthJudgeFails(t *testing.T) {
	alive := []byte(`{"jsonrpc":"2.0","result":{"status":"alive","receipt":{"receipt_id":"br-1700000000000-0123456789abcdef","status":"accepted"}},"id":1}`)
	wrongCode := []byte(`{"jsonrpc":"2.0","error":{"code":-32001,"message":"x","data":{"code":"AUTH_MISSING_TOKEN","receipt":null}},"id":1}`)
	right := []byte(`{"jsonrpc":"2.0","error":{"code":-32002,"message":"x","data":{"code":"AUTH_INVALID_TOKEN","receipt":null}},"id":1}`)
	for _, tc := range []struct {
		name string
		line []byte
		ok   bool
	}{{"accepted a wrong token", alive, false}, {"wrong data.code", wrongCode, false}, {"refused as due", right, true}} {
		r, err := decodeRPC(tc.line)
		p := &probe{}
		wantError(p, tc.name, r, err, -32002, "AUTH_INVALID_TOKEN")
		if got := len(failedAssertions(p)) == 0; got != tc.ok {
			t.Errorf("%s: assertion held %v, want %v", tc.name, got, tc.ok)
		}
	}
	r, err := decodeRPC(right)
	p := &probe{}
	if id := wantAlive(p, "ping", r, err); id != "" || len(failedAssertions(p)) != 1 {
		t.Errorf("a refused ping counted as alive")
	}
	r, err = decodeRPC(alive)
	p = &probe{}
	if id := wantAlive(p, "ping", r, err); id == "" || len(failedAssertions(p)) != 0 {
		t.Errorf("an alive ping was not recognised")
	}
}

func TestJudgeOriginAndScores(t *testing.T) {
	good := genesis.Origin{Designation: "node0", GenesisNode: true, GenesisBlock: true, BlockID: "block0", NodeID: "node0_x", HashValidated: true}
	for _, tc := range []struct {
		name  string
		o     genesis.Origin
		fails int
	}{
		{"node0", good, 0},
		{"ephemeral", genesis.Origin{Designation: "ephemeral_node"}, 3},
		{"not validated", func() genesis.Origin { o := good; o.HashValidated = false; return o }(), 1},
		{"another node", func() genesis.Origin { o := good; o.NodeID = "node0_y"; return o }(), 1},
	} {
		p := &probe{}
		judgeOrigin(p, tc.o, "node0_x")
		if got := len(failedAssertions(p)); got != tc.fails {
			t.Errorf("%s: %d failed assertions, want %d", tc.name, got, tc.fails)
		}
	}
	f := func(v float64) *float64 { return &v }
	ans := func(snr, ihsan *float64) answer {
		var a answer
		a.Quality.SNR, a.Quality.Ihsan = snr, ihsan
		return a
	}
	if scoresDiffer(ans(f(0.9), f(0.99)), ans(f(0.9), f(0.99))) {
		t.Error("constant scores counted as different")
	}
	if scoresDiffer(ans(nil, nil), ans(nil, f(0.5))) {
		t.Error("missing scores counted as computed")
	}
	if !scoresDiffer(ans(f(0.9), f(0.99)), ans(f(0.8), f(0.99))) {
		t.Error("different scores not seen")
	}
}

// TestSecretHygieneFails: the secret_hygiene check fails when a generated secret
// reaches a captured log or a key file is readable by others.
func TestSecretHygieneFails(t *testing.T) {
	leakCheck(t)
	// No node builder: the hygiene node fails to start (its own assertion), and the
	// captured logs and key files below are what the check must catch.
	g, err := newHarness(Options{Machine: func() (Machine, error) {
		return Machine{StateDir: filepath.Join(t.TempDir(), "none")}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.close)
	sec, err := g.newSecrets()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(g.newLog(), `{"level":"INFO","msg":"auth failed","token":"%s"}`+"\n", sec.token)
	fmt.Fprintf(g.newLog(), `{"level":"INFO","msg":"key","hex":"%s"}`+"\n", strings.ToUpper(sec.keyHex))
	loose := filepath.Join(g.tmp, "99-loose", "state")
	if err := os.MkdirAll(loose, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(loose, ".env"), []byte("X=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &probe{}
	checkSecretHygiene(context.Background(), g, p)
	got := strings.Join(failedAssertions(p), "|")
	for _, want := range []string{"key files (.env, node0_identity.key) are 0600", "no generated key or token in the logs"} {
		if !strings.Contains(got, want) {
			t.Errorf("failed assertions %q lack %q", got, want)
		}
	}
	for _, a := range p.d.Assertions {
		if strings.Contains(a.Detail, sec.token) || strings.Contains(strings.ToLower(a.Detail), sec.keyHex) {
			t.Errorf("the report repeats the secret: %s", a.Detail)
		}
	}
}

func TestSecretFindings(t *testing.T) {
	live := "f3a9c2e8b7d6015a4c3b2e1f0a9d8c7b"
	for _, tc := range []struct {
		name    string
		content string
		n       int
	}{
		{"clean", "nothing to see", 0},
		{"live secret", "token=" + live, 1},
		{"live secret upper case", strings.ToUpper(live), 1},
		// Built at run time: written out here, it would be a finding of the gate itself.
		{"real-looking key", "BIZRA_RECEIPT_PRIVATE_KEY_HEX=" + fmt.Sprintf("%x", sha256.Sum256([]byte("fixture"))), 1},
		{"well-known test key", "BIZRA_RECEIPT_PRIVATE_KEY_HEX=" + strings.Repeat("11", 32), 0},
		{"counting test key", `"BIZRA_RECEIPT_PRIVATE_KEY_HEX": "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"`, 0},
		{"generated token", "export BIZRA_BRIDGE_TOKEN=" + strings.Repeat("ab12", 12), 1},
		{"placeholder token", "export BIZRA_BRIDGE_TOKEN=your_bridge_token", 0},
	} {
		if got := secretFindings("f", []byte(tc.content), []string{live, "short"}); len(got) != tc.n {
			t.Errorf("%s: findings %q, want %d", tc.name, got, tc.n)
		} else if tc.n > 0 && strings.Contains(strings.ToLower(got[0]), live) {
			t.Errorf("%s: the finding repeats the secret", tc.name)
		}
	}
	for path, risky := range map[string]bool{".env": true, "sovereign_state/x": true, "a/node0_identity.key": true, "docs/RUNBOOK.md": false} {
		if (secretFileRisk(path) != "") != risky {
			t.Errorf("%s: risk %q", path, secretFileRisk(path))
		}
	}
}

// TestChangeByteChangesOneByte: the node0 check's tampered copies differ from the
// original in exactly one byte, and Validate refuses them.
func TestChangeByteChangesOneByte(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	if _, err := genesis.Init(good, "gate-node0", "loopback", time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ file, marker string }{
		{genesis.GenesisFile, `"signature": "`}, {genesis.GenesisFile, `"name": "`}, {genesis.HashFile, ""},
	} {
		dst := filepath.Join(dir, fmt.Sprintf("bad-%d", len(tc.marker)))
		if err := changeByte(good, dst, tc.file, tc.marker); err != nil {
			t.Fatal(err)
		}
		a, _ := os.ReadFile(filepath.Join(good, tc.file))
		b, _ := os.ReadFile(filepath.Join(dst, tc.file))
		diff := 0
		for i := range a {
			if a[i] != b[i] {
				diff++
			}
		}
		if len(a) != len(b) || diff != 1 {
			t.Errorf("%s after %q: %d bytes differ", tc.file, tc.marker, diff)
		}
		if ok, reason := genesis.Validate(dst); ok {
			t.Errorf("tampered %s validates", tc.file)
		} else {
			t.Logf("%s %q: %s", tc.file, tc.marker, reason)
		}
	}
	if err := changeByte(good, filepath.Join(dir, "x"), genesis.GenesisFile, "no such marker"); err == nil {
		t.Error("a missing marker was not reported")
	}
}

// TestFaultGateOptionsMissing: a check whose Options hook is missing fails, naming the
// hook, instead of panicking or passing.
func TestFaultGateOptionsMissing(t *testing.T) {
	leakCheck(t)
	for _, tc := range []struct {
		check string
		want  string
	}{
		{"localhost_defaults", "no Options.Defaults"},
		{"bridge_auth", "no Options.SeedLake"},
		{"metrics_contract", "no Options.SeedLake"},
	} {
		t.Run(tc.check, func(t *testing.T) {
			rep, err := Run(context.Background(), Options{}, []string{tc.check})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Checks) != 1 || rep.Checks[0].Passed || rep.Score.Passed {
				t.Fatalf("report %+v, want one failed check", rep)
			}
			var details []string
			for _, a := range rep.Checks[0].Details.Assertions {
				if !a.OK {
					details = append(details, a.Detail)
				}
			}
			if got := strings.Join(details, "|"); !strings.Contains(got, tc.want) {
				t.Errorf("failed assertions %q lack %q", got, tc.want)
			}
		})
	}
}

// TestFaultGateUnknownCheck: Run refuses a check name it does not know.
func TestFaultGateUnknownCheck(t *testing.T) {
	if _, err := Run(context.Background(), Options{}, []string{"no_such_check"}); !errors.Is(err, ErrUnknownCheck) {
		t.Fatalf("Run = %v, want ErrUnknownCheck", err)
	}
}
