package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/bizra/bizra/supervision/gate"
)

// gateLeakCheck verifies, after every other cleanup of t, that t left no goroutine
// behind. It ignores protoactor's dead-letter throttle, which lingers up to a second
// after a message reaches a stopped actor, and fasthttp's process-wide date updater.
func gateLeakCheck(t *testing.T) {
	t.Helper()
	ignore := []goleak.Option{goleak.IgnoreCurrent(),
		goleak.IgnoreAnyFunction("github.com/asynkron/protoactor-go/actor.NewDeadLetter.NewThrottle.func4.1"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2")}
	t.Cleanup(func() { goleak.VerifyNone(t, ignore...) })
}

// TestGateJSONAllChecksPass runs `bizra gate --json` in process: every one of the nine
// checks must pass on this machine, the report must have the contract's shape, and
// the file written under --out must hold the same report.
func TestGateJSONAllChecksPass(t *testing.T) {
	gateLeakCheck(t)
	out := t.TempDir()
	start := time.Now()
	r := runCLI(t, map[string]string{}, "gate", "--json", "--out", out)
	took := time.Since(start)
	var rep gate.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s\nstderr: %s", err, r.stdout, r.stderr)
	}
	for _, c := range rep.Checks {
		if !c.Passed {
			b, _ := json.MarshalIndent(c, "", "  ")
			t.Errorf("check %s failed:\n%s", c.Name, b)
		}
	}
	wantCode(t, r, 0, "gate --json")
	if len(rep.Checks) != len(gate.CheckNames) {
		t.Fatalf("%d checks, want %d", len(rep.Checks), len(gate.CheckNames))
	}
	for i, c := range rep.Checks {
		if c.Name != gate.CheckNames[i] || c.Score != 1 || len(c.Details.Assertions) == 0 {
			t.Errorf("check %d: %s score %v with %d assertions", i, c.Name, c.Score, len(c.Details.Assertions))
		}
	}
	if !rep.Score.Passed || rep.Score.CompositeScore != 1 || rep.StrictMode {
		t.Errorf("score %+v strict %v", rep.Score, rep.StrictMode)
	}
	if _, err := time.Parse(time.RFC3339, rep.TimestampUTC); err != nil || !strings.HasSuffix(rep.TimestampUTC, "Z") {
		t.Errorf("timestamp_utc %q: %v", rep.TimestampUTC, err)
	}
	// The raw shape: exactly the contract's top-level members and check members.
	var raw map[string]json.RawMessage
	_ = json.Unmarshal([]byte(r.stdout), &raw)
	for _, k := range []string{"timestamp_utc", "strict_mode", "score", "checks"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("report lacks %q", k)
		}
	}
	var checks []map[string]json.RawMessage
	_ = json.Unmarshal(raw["checks"], &checks)
	for _, c := range checks {
		if len(c) != 4 || c["name"] == nil || c["passed"] == nil || c["score"] == nil || c["details"] == nil {
			t.Errorf("check members %v, want name, passed, score, details", c)
		}
	}
	files, _ := filepath.Glob(filepath.Join(out, "gate-*.json"))
	if len(files) != 1 {
		t.Fatalf("report files %v, want one gate-<timestamp>.json", files)
	}
	b, _ := os.ReadFile(files[0])
	if !bytes.Equal(b, []byte(r.stdout)) {
		t.Errorf("%s differs from stdout", files[0])
	}
	lat := rep.Checks[6].Details.Figures["latency"].(map[string]any)
	for _, m := range []string{"ping", "status", "list_skills"} {
		f := lat[m].(map[string]any)
		t.Logf("%s: p50 %v ms, p95 %v ms, p99 %v ms over %v samples", m, f["p50_ms"], f["p95_ms"], f["p99_ms"], f["samples"])
	}
	t.Logf("gate took %s", took)
	if took > 30*time.Second {
		t.Errorf("gate took %s, want under 30 s", took)
	}
}

func TestGateTableAndFlags(t *testing.T) {
	gateLeakCheck(t)
	r := runCLI(t, map[string]string{}, "gate", "--only", "localhost_defaults,metrics_contract", "--strict")
	wantCode(t, r, 0, "gate --only")
	for _, want := range []string{"localhost_defaults", "metrics_contract", "PASS", "(strict)", "gate PASSED"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "bridge_auth") {
		t.Errorf("--only ran other checks:\n%s", r.stdout)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"gate", "--bogus"}, 2, "flag provided but not defined"},
		{[]string{"gate", "extra"}, 2, "unexpected argument"},
		{[]string{"gate", "--only", "nope"}, 2, "unknown check"},
		{[]string{"gate", "--help"}, 0, ""},
	} {
		r := runCLI(t, map[string]string{}, tc.args...)
		wantCode(t, r, tc.code, strings.Join(tc.args, " "))
		if tc.code == 2 {
			wantOneLine(t, r.stderr, tc.want)
		}
	}
}
