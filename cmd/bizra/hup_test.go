package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestFaultSIGHUPMidRequest builds bizra and runs `bizra run` with a slow model
// backend; a SIGHUP sent while a query is in flight lets the query complete, keeps the
// process up, applies a log level changed in <state>/.env, and rescans the data lake.
// A configuration that no longer loads is reported and the node keeps running; a
// changed API rate limit applies at once.
func TestFaultSIGHUPMidRequest(t *testing.T) {
	leakCheck(t)
	root := repoRoot(t)
	bin := buildBizra(t, root)
	work := t.TempDir()
	mock := startMock(t, 800*time.Millisecond)
	env := append(nodeEnv(work), "BIZRA_LLM_URL="+mock.URL(), "BIZRA_LLM_MODEL=mock-small",
		"BIZRA_INDEX_RESCAN_INTERVAL=0")
	init := exec.Command(bin, "init")
	init.Env = env
	if out, err := init.CombinedOutput(); err != nil {
		t.Fatalf("bizra init: %v\n%s", err, out)
	}
	n := startKillNode(t, bin, env, work, 0)
	logPath := filepath.Join(work, "node-0.log")
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	type answer struct {
		code int
		body []byte
		err  error
	}
	ask := func(q string) answer {
		b, _ := json.Marshal(map[string]string{"query": q})
		resp, err := c.Post(n.base+"/v1/query", "application/json", bytes.NewReader(b))
		if err != nil {
			return answer{err: err}
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return answer{resp.StatusCode, body, err}
	}
	envFile := filepath.Join(work, "state", ".env")
	dot, err := os.ReadFile(envFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(envFile, append(dot, []byte("BIZRA_LOG_LEVEL=debug\n")...), 0o600); err != nil {
		t.Fatal(err)
	}

	got := make(chan answer, 1)
	start := time.Now()
	go func() { got <- ask("how do I check bridge health?") }() // two model calls: ≥ 1.6 s
	time.Sleep(300 * time.Millisecond)
	if err := n.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	a := <-got
	if a.err != nil || a.code != 200 {
		t.Fatalf("query in flight during SIGHUP: %d %v %s\n%s", a.code, a.err, a.body, tail(logPath))
	}
	if el := time.Since(start); el < time.Second {
		t.Fatalf("the query took %v: the SIGHUP was not sent mid-request", el)
	}
	select {
	case <-n.exited:
		t.Fatalf("the node exited after SIGHUP:\n%s", tail(logPath))
	case <-time.After(200 * time.Millisecond):
	}
	waitLog := func(what string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			if b, _ := os.ReadFile(logPath); bytes.Contains(b, []byte(what)) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("log lacks %q:\n%s", what, tail(logPath))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitLog(`"msg":"SIGHUP: log level changed","from":"info","to":"debug"`)
	waitLog(`"level":"DEBUG"`)

	// A rescan on SIGHUP (the lake's log names it; the watcher may find the file first).
	p := filepath.Join(work, "lake", "hup", "quokka.md")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("# Quokka\n\nThe quokka is a small wallaby of Rottnest Island.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := n.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLog(`"msg":"index: rescanning the data lake on request"`)
	deadline := time.Now().Add(15 * time.Second)
	for {
		a := ask("where does the quokka wallaby live?")
		if a.code == 200 && bytes.Contains(a.body, []byte("hup/quokka.md")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("file added before a SIGHUP not answerable: %d %s", a.code, a.body)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// A broken configuration: reported, the node keeps running.
	if err := os.WriteFile(envFile, append(dot, []byte("BIZRA_LOG_LEVEL=loud\n")...), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := n.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLog(`SIGHUP: the configuration does not load; keeping the current one`)
	resp, err := c.Get(n.base + "/v1/health")
	if err != nil {
		t.Fatalf("health after SIGHUPs: %v\n%s", err, tail(logPath))
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("health after SIGHUPs: %d", resp.StatusCode)
	}

	// The API rate limit changes at run time: burst 2, then 429.
	if err := os.WriteFile(envFile, append(dot, []byte("BIZRA_API_RATE_PER_S=0.001\nBIZRA_API_BURST=2\n")...), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := n.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLog(`"msg":"SIGHUP: API rate limit changed","rate_per_s":0.001,"burst":2`)
	var codes []int
	for range 3 {
		resp, err := c.Get(n.base + "/v1/status")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
	}
	if codes[0] != 200 || codes[1] != 200 || codes[2] != 429 {
		t.Fatalf("after the rate limit change: %v, want 200 200 429", codes)
	}
	select {
	case <-n.exited:
		t.Fatalf("the node exited:\n%s", tail(logPath))
	default:
	}
}
