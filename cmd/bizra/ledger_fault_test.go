package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bizra/bizra/actors/core"
	"github.com/bizra/bizra/actors/ledger"
)

// lastLine returns the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// TestFaultLedgerTamperCLI: 10 bytes cut off the last acknowledged episode make
// `bizra sel verify` exit 1 naming the file, byte offset and sequence; `bizra run`
// refuses to start in one line naming them and --accept-ledger-loss; with the flag it
// starts and logs the security event.
func TestFaultLedgerTamperCLI(t *testing.T) {
	gateLeakCheck(t)
	state := t.TempDir()
	key := "8f14e45fceea167a5a36dedd4bea2543c9f0f895fb98ab9159f51fd0297e236d"
	if err := os.WriteFile(filepath.Join(state, ".env"), []byte("BIZRA_RECEIPT_PRIVATE_KEY_HEX="+key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	writeLedger(t, filepath.Join(state, "sel"), "first question about bizra", "second question", "third question")
	segs, _ := filepath.Glob(filepath.Join(state, "sel", "seg-*.log"))
	if len(segs) != 1 {
		t.Fatalf("segments: %v", segs)
	}
	b, err := os.ReadFile(segs[0])
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(b), "third question")
	lastOff := strings.LastIndex(string(b[:i]), "SELR")
	if i < 0 || lastOff < 0 {
		t.Fatal("last record not found")
	}
	if err := os.Truncate(segs[0], int64(len(b)-10)); err != nil {
		t.Fatal(err)
	}
	where := fmt.Sprintf("%s offset %d sequence 2", filepath.Base(segs[0]), lastOff)
	env := map[string]string{"BIZRA_STATE_DIR": state, "BIZRA_DATA_LAKE_ROOT": filepath.Join(t.TempDir(), "lake")}

	r := runCLI(t, env, "sel", "verify")
	wantCode(t, r, 1, "verify a cut ledger")
	wantOneLine(t, r.stderr, where)
	if !strings.Contains(r.stdout, "first_bad_sequence: 2") {
		t.Fatalf("verify stdout:\n%s", r.stdout)
	}
	r = runCLI(t, env, "sel", "verify", "--json")
	wantCode(t, r, 1, "verify --json a cut ledger")
	var v ledger.Verification
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v.Valid || v.FirstBadSequence == nil || *v.FirstBadSequence != 2 {
		t.Fatalf("verify --json: %v %s", err, r.stdout)
	}

	run := []string{"run", "--no-bridge", "--port", "0", "--host", "127.0.0.1"}
	r = runCLI(t, env, run...)
	wantCode(t, r, 1, "run over a cut ledger")
	if last := lastLine(r.stderr); !strings.HasPrefix(last, "bizra run: ") || !strings.Contains(last, where) ||
		!strings.Contains(last, "--accept-ledger-loss") || strings.Count(r.stderr, "bizra run: ") != 1 {
		t.Fatalf("refusal line %q; want one line naming %q and --accept-ledger-loss", last, where)
	}

	// Accepted: it starts (and says so), then stops cleanly.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	a := newApp(env, &out, &errb)
	done := make(chan int, 1)
	go func() { done <- dispatch(ctx, a, append(run, "--accept-ledger-loss")) }()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(errb.String(), "bizra ready") {
		select {
		case code := <-done:
			t.Fatalf("run --accept-ledger-loss exited %d: %s", code, errb.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatalf("run --accept-ledger-loss not ready: %s", errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("run --accept-ledger-loss exit %d: %s", code, errb.String())
	}
	if s := errb.String(); !strings.Contains(s, "sel_loss_accepted") || !strings.Contains(s, "WARN") {
		t.Fatalf("no security event logged: %s", s)
	}
	// The witness was re-anchored: the next start is not refused again.
	r = runCLI(t, env, "sel", "verify")
	wantCode(t, r, 0, "verify after the accepted loss")

}

// TestAcceptLedgerLossFlag: `bizra run --help` documents the flag with its variable,
// and BIZRA_ACCEPT_LEDGER_LOSS sets it.
func TestAcceptLedgerLossFlag(t *testing.T) {
	tests := []struct {
		env  string
		want bool
	}{{"", false}, {"true", true}, {"1", true}, {"false", false}}
	for _, tt := range tests {
		getenv := func(k string) (string, bool) {
			if k == "BIZRA_ACCEPT_LEDGER_LOSS" && tt.env != "" {
				return tt.env, true
			}
			return "", false
		}
		env, state, err := newEnv([]string{"--state-dir", t.TempDir()}, getenv)
		if err != nil {
			t.Fatal(err)
		}
		fs := flag.NewFlagSet("run", flag.ContinueOnError)
		cfg, err := bindRuntimeFlags(fs, env, state, true)
		if err != nil {
			t.Fatal(err)
		}
		f := fs.Lookup("accept-ledger-loss")
		if f == nil || !strings.Contains(f.Usage, "BIZRA_ACCEPT_LEDGER_LOSS") || strings.Contains(f.Usage, "`") {
			t.Fatalf("flag %+v; want --accept-ledger-loss naming BIZRA_ACCEPT_LEDGER_LOSS", f)
		}
		if cfg.AcceptLedgerLoss != tt.want {
			t.Errorf("BIZRA_ACCEPT_LEDGER_LOSS=%q gives %t; want %t", tt.env, cfg.AcceptLedgerLoss, tt.want)
		}
	}
}

// TestFaultLedgerQueryHTTP: over HTTP, a query whose episode cannot be written is a
// 503 STORAGE_UNAVAILABLE JSON error, health shows checks.ledger false and the
// metric counts it; after the disk recovers the answer names its episode, which the
// ledger serves, and a cache hit names none.
func TestFaultLedgerQueryHTTP(t *testing.T) {
	var refuse atomic.Bool
	fault := func(op, path string) error {
		if refuse.Load() && op == "fsync" && strings.HasSuffix(path, ".log") {
			return syscall.EIO
		}
		return nil
	}
	n := startE2E(t, e2eOpts{core: core.Options{LedgerFault: fault}})
	q := `{"query":"how do I check bridge health?"}`
	checks := func() map[string]any {
		_, b := n.get(t, "/v1/health")
		var h struct {
			Checks map[string]any `json:"checks"`
		}
		if err := json.Unmarshal(b, &h); err != nil {
			t.Fatal(err)
		}
		return h.Checks
	}

	refuse.Store(true)
	status, b, _ := n.post(t, "/v1/query", q)
	var e struct {
		Error     string `json:"error"`
		Code      string `json:"code"`
		RequestID string `json:"request_id"`
	}
	if err := json.Unmarshal(b, &e); err != nil || status != 503 || e.Code != "STORAGE_UNAVAILABLE" || e.RequestID == "" ||
		e.Error != "The experience ledger could not be written; nothing was recorded" ||
		strings.Contains(string(b), "fsync") || strings.Contains(string(b), "episode_hash") {
		t.Fatalf("query on a failing disk: %d %s; want 503 STORAGE_UNAVAILABLE without internal text", status, b)
	}
	if c := checks(); c["ledger"] != false {
		t.Fatalf("health checks %v; want ledger false", c)
	}
	if v := metricValueOf(t, n, "sovereign_sel_write_errors_total"); v != "1" {
		t.Fatalf("sovereign_sel_write_errors_total %s; want 1", v)
	}

	refuse.Store(false)
	v := n.query(t, q)
	if v.Cached || v.Episode == nil || v.Episode.Sequence != 0 || len(v.Episode.Hash) != 64 {
		t.Fatalf("answer after recovery: cached %v episode %+v; want episode 0", v.Cached, v.Episode)
	}
	if status, b := n.get(t, "/v1/sel/episodes/"+v.Episode.Hash); status != 200 || !strings.Contains(string(b), `"sequence":0`) {
		t.Fatalf("claimed episode not served: %d %s", status, b)
	}
	if c := checks(); c["ledger"] != true {
		t.Fatalf("health checks %v after recovery; want ledger true", c)
	}
	status, b, _ = n.post(t, "/v1/query", q)
	if status != 200 || !strings.Contains(string(b), `"cached":true`) || !strings.Contains(string(b), `"episode":null`) {
		t.Fatalf("cache hit: %d %s; want cached with episode null", status, b)
	}
}

func metricValueOf(t *testing.T, n *e2eNode, name string) string {
	t.Helper()
	var b strings.Builder
	n.set.WritePrometheus(&b)
	for _, line := range strings.Split(b.String(), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	return "<missing>"
}
