package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/bizra/bizra/actors/core"
	"github.com/bizra/bizra/actors/receipt"
	"github.com/bizra/bizra/gateway"
	"github.com/bizra/bizra/gateway/console"
	"github.com/bizra/bizra/supervision/node"
)

// The ignored goroutines are fasthttp's process-wide date ticker and a stopped
// server's worker-pool cleaner (it notices the stop after its 10 s idle sleep), and
// protoactor's dead-letter throttle, as in supervision/node.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"),
		goleak.IgnoreAnyFunction("github.com/asynkron/protoactor-go/actor.NewDeadLetter.NewThrottle.func4.1"))
}

const apiKey = "console-test-key-0123456789"

// missingTool skips t because an external tool is missing, except under CI (the CI
// variable set), where .ci/run installs every tool and a skip would hide a broken
// install: there it fails.
func missingTool(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("CI: "+format, args...)
	}
	t.Skipf(format, args...)
}

// repoRoot is the folder of go.mod above the test's folder.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Fatal("no go.mod above the test folder")
		}
		dir = up
	}
}

// startNode starts a real node (supervision/node: runtime, API with the OpenAI front)
// on 127.0.0.1:0 with keys (none: keys off), over a data lake holding the project's
// runbook and receipt docs. It returns the API base URL and the node.
func startNode(t *testing.T, keys ...string) (string, *node.Node) {
	t.Helper()
	secret, err := receipt.GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	lake := filepath.Join(dir, "lake")
	if err := os.MkdirAll(lake, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, doc := range []string{"RUNBOOK.md", "receipts.md"} {
		b, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", doc))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(lake, doc), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	n, err := node.New(node.Options{
		Runtime: core.Options{Version: "test", StateDir: filepath.Join(dir, "state"), DataLake: lake, ReceiptSecret: secret},
		API:     &node.APIOptions{Gateway: gateway.Options{Addr: "127.0.0.1:0", APIKeys: keys}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		n.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := n.Shutdown(ctx); err != nil {
			t.Errorf("node shutdown: %v", err)
		}
	})
	return "http://" + n.API.Addr(), n
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func call(t *testing.T, method, url string, hdr map[string]string, body []byte) response {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

// TestConsoleServedWithKeys: on a real node with API keys on, "/" and every embedded
// asset answer without a key, with their content type, cache policy and security
// headers (HEAD the same without the body); the page is exactly the embedded index
// (no node data in it); the data routes it calls still answer 401 without the key; a
// path beside the console is not opened by it.
func TestConsoleServedWithKeys(t *testing.T) {
	base, n := startNode(t, apiKey)
	c, err := console.New()
	if err != nil {
		t.Fatal(err)
	}
	type asset struct {
		path  string
		want  console.Asset
		cache string
	}
	assets := []asset{{"/", c.Index(), "no-cache"}}
	for _, name := range c.Names() {
		a, _ := c.Lookup(name)
		assets = append(assets, asset{console.Prefix + name + "?v=" + a.Version, a, "public, max-age=31536000, immutable"},
			asset{console.Prefix + name, a, "no-cache"})
	}
	for _, a := range assets {
		t.Run(a.path, func(t *testing.T) {
			get := call(t, "GET", base+a.path, nil, nil)
			if get.status != 200 {
				t.Fatalf("GET without a key: %d %s", get.status, get.body)
			}
			if ct := get.header.Get("Content-Type"); ct != a.want.ContentType {
				t.Errorf("Content-Type %q; want %q", ct, a.want.ContentType)
			}
			if !bytes.Equal(get.body, a.want.Body) {
				t.Errorf("body differs from the embedded %s", a.want.Name)
			}
			for k, v := range map[string]string{"Cache-Control": a.cache, "ETag": a.want.ETag, "X-Content-Type-Options": "nosniff",
				"Content-Security-Policy": console.CSP} {
				if got := get.header.Get(k); got != v {
					t.Errorf("%s %q; want %q", k, got, v)
				}
			}
			if get.header.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id")
			}
			head := call(t, "HEAD", base+a.path, nil, nil)
			if head.status != 200 || len(head.body) != 0 || head.header.Get("Content-Length") != fmt.Sprint(len(a.want.Body)) ||
				head.header.Get("Content-Type") != a.want.ContentType || head.header.Get("ETag") != a.want.ETag {
				t.Errorf("HEAD: %d, %d body bytes, headers %v", head.status, len(head.body), head.header)
			}
			again := call(t, "GET", base+a.path, map[string]string{"If-None-Match": a.want.ETag}, nil)
			if again.status != 304 || len(again.body) != 0 {
				t.Errorf("revalidation: %d with %d bytes; want 304, empty", again.status, len(again.body))
			}
		})
	}

	// The page holds nothing of the node: the status a key would show is not in it.
	status := call(t, "GET", base+"/v1/status", map[string]string{"X-API-Key": apiKey}, nil)
	var st struct {
		Identity struct {
			NodeID          string `json:"node_id"`
			SignerPublicKey string `json:"signer_public_key"`
		} `json:"identity"`
	}
	if err := json.Unmarshal(status.body, &st); err != nil || status.status != 200 || st.Identity.NodeID == "" {
		t.Fatalf("status with the key: %d %s", status.status, status.body)
	}
	page := call(t, "GET", base+"/", nil, nil)
	for _, secret := range []string{st.Identity.NodeID, st.Identity.SignerPublicKey, n.Runtime.Receipts().KeyID(), apiKey, n.Runtime.StateDir()} {
		if bytes.Contains(page.body, []byte(secret)) {
			t.Errorf("the page served without a key contains %q", secret)
		}
	}
	for _, p := range []struct{ method, path string }{
		{"GET", "/v1/status"}, {"GET", "/v1/metrics"}, {"POST", "/v1/query"}, {"GET", "/v1/sel/episodes"},
		{"GET", "/v1/sel/verify"}, {"POST", "/v1/verify/receipt"}, {"GET", "/v1/verify/genesis/header"},
		{"GET", "/favicon.ico"}, {"GET", "/console"}, {"GET", "/console/"}, {"GET", "/index.html"},
	} {
		r := call(t, p.method, base+p.path, nil, []byte(`{"query":"q"}`))
		var e struct{ Code string }
		if r.status != 401 || json.Unmarshal(r.body, &e) != nil || e.Code != "UNAUTHORIZED" {
			t.Errorf("%s %s without a key: %d %s; want 401 UNAUTHORIZED", p.method, p.path, r.status, r.body)
		}
	}
	if r := call(t, "GET", base+"/console/nope.js", nil, nil); r.status != 404 || !bytes.Contains(r.body, []byte(`"code":"NOT_FOUND"`)) ||
		r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("unknown asset: %d %s %v", r.status, r.body, r.header)
	}
	if r := call(t, "POST", base+"/", nil, nil); r.status != 405 || r.header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /: %d Allow %q", r.status, r.header.Get("Allow"))
	}
}

// browserTools returns node and chromium, or skips (fails under CI) when either, or
// playwright-core in testdata/browser, is missing.
func browserTools(t *testing.T) (nodeBin, chromium string) {
	t.Helper()
	chromium = "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		missingTool(t, "chromium is not installed at %s (Debian package chromium; .ci/run installs it)", chromium)
	}
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		missingTool(t, "node is not installed: the browser test cannot run")
	}
	if _, err := os.Stat("testdata/browser/node_modules/playwright-core/package.json"); err != nil {
		missingTool(t, "playwright-core is not installed in gateway/console/testdata/browser (run npm ci there, as .ci/run does)")
	}
	return nodeBin, chromium
}

// runScript runs a browser script of testdata/browser with env and returns its
// output once it reported all its checks.
func runScript(t *testing.T, nodeBin, script string, env ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, nodeBin, script)
	cmd.Dir = "testdata/browser"
	cmd.Env = append(cmd.Environ(), env...)
	out, err := cmd.CombinedOutput()
	t.Logf("node %s:\n%s", script, out)
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("%s failed (exit %d)", script, ee.ExitCode())
		}
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^ok (\d+) of (\d+)$`).FindSubmatch(out)
	if m == nil || string(m[1]) != string(m[2]) {
		t.Fatalf("%s did not report all its checks", script)
	}
	return out
}

// TestBrowserConsoleKeysOff: on a node without API keys the console shows its data at
// once, with no login prompt.
func TestBrowserConsoleKeysOff(t *testing.T) {
	nodeBin, chromium := browserTools(t)
	base, _ := startNode(t)
	runScript(t, nodeBin, "console_open.test.mjs", "BIZRA_URL="+base, "CHROMIUM="+chromium)
}

// TestBrowserConsole drives Debian's chromium (headless, through playwright-core from
// testdata/browser) through the console of a real node with API keys on: the login
// prompt without a key, a refused key, the key kept in sessionStorage, the health
// checks and actors, a query with its receipt id and a cited (or evidence) source, the
// receipt verified through /v1/verify/receipt, the charts filled from successive
// scrapes, the ledger with the chain verified, the genesis, and no request leaving the
// node's origin. Screenshots go to .proof-forge/console/. Under CI a missing chromium,
// node or playwright-core fails the test.
func TestBrowserConsole(t *testing.T) {
	nodeBin, chromium := browserTools(t)
	base, _ := startNode(t, apiKey)
	shots := filepath.Join(repoRoot(t), ".proof-forge", "console")
	queries := []string{"how do I check bridge health?", "how are receipts sealed and verified?",
		"what does the experience ledger store?", "how do I check bridge health?"}
	qs, _ := json.Marshal(queries)
	out := runScript(t, nodeBin, "console.test.mjs", "BIZRA_URL="+base, "BIZRA_API_KEY="+apiKey, "BIZRA_SHOTS="+shots,
		"BIZRA_QUERIES="+string(qs), "CHROMIUM="+chromium)
	// What the page showed is what the node holds: the receipt id it displayed is a
	// stored receipt of this node, and the source it cited is one the node answered
	// with.
	var res struct {
		ReceiptID string   `json:"receipt_id"`
		Sources   []string `json:"sources"`
	}
	line := regexp.MustCompile(`(?m)^result (.*)$`).FindSubmatch(out)
	if line == nil || json.Unmarshal(line[1], &res) != nil || res.ReceiptID == "" || len(res.Sources) == 0 {
		t.Fatalf("no result line with a receipt id and a source")
	}
	r := call(t, "GET", base+"/v1/receipts/"+res.ReceiptID, map[string]string{"X-API-Key": apiKey}, nil)
	if r.status != 200 {
		t.Fatalf("the receipt the page showed, %s: %d %s", res.ReceiptID, r.status, r.body)
	}
	q, _ := json.Marshal(map[string]any{"query": queries[0]})
	again := call(t, "POST", base+"/v1/query", map[string]string{"X-API-Key": apiKey}, q)
	if !bytes.Contains(again.body, []byte(`"source":`+string(mustJSON(t, strings.SplitN(res.Sources[0], " L", 2)[0])))) {
		t.Errorf("the page cited %q; the node's answer to the same query does not: %s", res.Sources[0], again.body)
	}
	for _, s := range []string{"1-login.png", "2-query.png", "3-overview.png", "4-ledger.png", "5-node.png"} {
		if fi, err := os.Stat(filepath.Join(shots, s)); err != nil || fi.Size() < 5000 {
			t.Errorf("screenshot %s: %v", s, err)
		}
	}
	t.Logf("screenshots in %s", shots)
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPromParser runs the console's Prometheus parser and histogram arithmetic
// (assets/prom.js) in Node over hand-computed vectors and a real node's exposition
// (testdata/prom). It needs node only (no browser, no npm package).
func TestPromParser(t *testing.T) {
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		missingTool(t, "node is not installed: the parser test cannot run")
	}
	runScript(t, nodeBin, "prom.test.mjs")
}
