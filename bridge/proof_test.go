package bridge

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

type vectors struct {
	Signatures []struct {
		Token     string  `json:"token"`
		TS        int64   `json:"ts"`
		Nonce     string  `json:"nonce"`
		Method    string  `json:"method"`
		ParamsRaw *string `json:"params_raw"`
		Sig       string  `json:"sig"`
	} `json:"signatures"`
	Actuator []struct {
		Code        string  `json:"code"`
		Entropy     float64 `json:"entropy"`
		Length      int     `json:"length"`
		ContentHash string  `json:"content_hash"`
	} `json:"actuator"`
	Threshold float64 `json:"actuator_threshold"`
}

// loadVectors reads testdata/bridge/vectors.json, produced by gen_vectors.py (Python
// hashlib/hmac), independently of this package.
func loadVectors(t *testing.T) vectors {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "bridge", "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Signatures) == 0 || len(v.Actuator) == 0 {
		t.Fatal("empty vectors")
	}
	return v
}

func TestSignGolden(t *testing.T) {
	for _, v := range loadVectors(t).Signatures {
		var p json.RawMessage
		if v.ParamsRaw != nil {
			p = json.RawMessage(*v.ParamsRaw)
		}
		got, err := Sign(v.Token, v.TS, v.Nonce, v.Method, p)
		if err != nil {
			t.Fatal(err)
		}
		if got != v.Sig {
			t.Errorf("Sign(%s, %s) = %s; want %s", v.Method, v.Nonce, got, v.Sig)
		}
	}
}

func TestSignatureOverTCP(t *testing.T) {
	e := startEnv(t, nil)
	c := e.dial(t)
	line := func(method string, params any, sign bool, mut func(string) string) string {
		l, err := Request(testToken, method, params, 1, time.Now().UnixMilli(), NewNonce(), sign)
		if err != nil {
			t.Fatal(err)
		}
		s := strings.TrimSuffix(string(l), "\n")
		if mut != nil {
			s = mut(s)
		}
		return s
	}
	if r := c.call(line("sovereign_query", map[string]any{"query": "signed", "max_depth": 2}, true, nil)); r.Error != nil {
		t.Fatalf("valid signature refused: %s", r.raw)
	}
	if r := c.call(line("ping", nil, true, nil)); r.Error != nil {
		t.Fatalf("valid signature without params refused: %s", r.raw)
	}
	// Params changed after signing.
	r := c.call(line("sovereign_query", map[string]any{"query": "signed"}, true, func(s string) string {
		return strings.Replace(s, `"signed"`, `"tampered"`, 1)
	}))
	wantErr(t, r, CodeAuthInvalid, "AUTH_INVALID_SIGNATURE")
	// Method changed after signing.
	wantErr(t, c.call(line("ping", nil, true, func(s string) string {
		return strings.Replace(s, `"ping"`, `"status"`, 1)
	})), CodeAuthInvalid, "AUTH_INVALID_SIGNATURE")
	// Whitespace and key order of params do not matter (canonical form).
	ts := time.Now().UnixMilli()
	sig, _ := Sign(testToken, ts, "n-canon", "sovereign_query", json.RawMessage(`{"max_depth":2,"query":"x"}`))
	r = c.call(`{"jsonrpc":"2.0","method":"sovereign_query","id":1,"params":{ "query" : "x", "max_depth" : 2 },` +
		`"headers":{"X-BIZRA-TOKEN":"` + testToken + `","X-BIZRA-TS":"` + strconv.FormatInt(ts, 10) + `","X-BIZRA-NONCE":"n-canon","X-BIZRA-SIG":"` + strings.ToUpper(sig) + `"}}`)
	if r.Error != nil {
		t.Fatalf("canonical params / string ts / upper-case hex: %s", r.raw)
	}

	t.Run("required", func(t *testing.T) {
		e := startEnv(t, func(o *Options) { o.RequireSig = true })
		c := e.dial(t)
		wantErr(t, c.call(line("ping", nil, false, nil)), CodeAuthInvalid, "AUTH_INVALID_SIGNATURE")
		if r := c.call(line("ping", nil, true, nil)); r.Error != nil {
			t.Fatal(r.raw)
		}
	})
}

func TestActuator(t *testing.T) {
	v := loadVectors(t)
	e := startEnv(t, nil)
	c := e.dial(t)
	high, low := 0, 0
	for _, a := range v.Actuator {
		if got := ShannonEntropy(a.Code); math.Abs(got-a.Entropy) > 1e-12 {
			t.Errorf("ShannonEntropy(%q) = %v; want %v", a.Code, got, a.Entropy)
		}
		r := c.call(req("actuator_execute", map[string]any{"code": a.Code, "target_app": "Terminal"}, nil))
		if a.Entropy < v.Threshold {
			low++
			wantErr(t, r, CodeInvalidParams, "ACTUATOR_LOW_ENTROPY")
			if receiptOf(r)["status"] != ReceiptRejected || e.receipts.last().Reason != "ACTUATOR_LOW_ENTROPY" {
				t.Errorf("low entropy receipt: %s", r.raw)
			}
			if got, _ := r.Error.Data["entropy"].(float64); math.Abs(got-a.Entropy) > 1e-12 {
				t.Errorf("data.entropy = %v", r.Error.Data["entropy"])
			}
			continue
		}
		high++
		if r.Error != nil {
			t.Fatalf("%q: %s", a.Code, r.raw)
		}
		res := r.Result
		if res["status"] != "SEALED" || res["intent"] != "execute" || res["target_app"] != "Terminal" ||
			res["content_hash"] != a.ContentHash || res["instruction_length"] != float64(a.Length) ||
			math.Abs(res["entropy"].(float64)-a.Entropy) > 1e-12 || receiptOf(r)["status"] != ReceiptAccepted {
			t.Errorf("%q: %s", a.Code, r.raw)
		}
	}
	if high == 0 || low == 0 {
		t.Fatalf("vectors must cover both sides of the threshold (%d high, %d low)", high, low)
	}
	r := c.call(req("actuator_execute", map[string]any{"code": v.Actuator[0].Code, "intent": "preview"}, nil))
	if r.Error != nil || r.Result["intent"] != "preview" || r.Result["target_app"] != nil {
		t.Fatal(r.raw)
	}
	for _, p := range []map[string]any{{}, {"code": ""}, {"code": 5}, {"code": "x", "intent": 1}} {
		wantErr(t, c.call(req("actuator_execute", p, nil)), CodeInvalidParams, "INVALID_PARAMS")
	}
}

func TestShutdownLetsInFlightFinish(t *testing.T) {
	e := startEnv(t, nil)
	idle := []*tconn{e.dial(t), e.dial(t), e.dial(t)}
	busy := e.dial(t)
	busy.send(req("sovereign_query", map[string]any{"query": "block"}, nil))
	checkFor(t, 5*time.Second, func() error {
		if e.core.queries.Load() != 1 {
			return context.DeadlineExceeded
		}
		return nil
	})
	errc := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		errc <- e.b.Shutdown(ctx)
	}()
	checkFor(t, 5*time.Second, func() error {
		if e.b.Stats().Listening {
			return context.DeadlineExceeded
		}
		return nil
	})
	close(e.core.release)
	r := busy.recv()
	if r.Error != nil || !strings.HasPrefix(str0(r.Result["response"]), "answer to block") {
		t.Fatalf("in-flight request: %s", r.raw)
	}
	if err := <-errc; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	for _, c := range append(idle, busy) {
		expectClosed(t, c, 2*time.Second)
	}
	goleak.VerifyNone(t)
}

func TestShutdownDeadline(t *testing.T) {
	e := startEnv(t, nil)
	c := e.dial(t)
	c.send(req("sovereign_query", map[string]any{"query": "block", "timeout_ms": 600000}, nil))
	checkFor(t, 5*time.Second, func() error {
		if e.core.queries.Load() != 1 {
			return context.DeadlineExceeded
		}
		return nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := e.b.Shutdown(ctx); err != context.DeadlineExceeded {
		t.Fatalf("Shutdown = %v; want deadline exceeded", err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Fatalf("Shutdown took %v", el)
	}
	expectClosed(t, c, 2*time.Second)
	goleak.VerifyNone(t)
}

func TestClientHelpers(t *testing.T) {
	e := startEnv(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	line, err := Ping(ctx, e.b.Addr(), testToken)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseResponse(line)
	if err != nil || r.Error != nil || !strings.Contains(string(r.Result), `"status":"alive"`) {
		t.Fatalf("Ping = %s (%v)", line, err)
	}
	line, err = Call(ctx, e.b.Addr(), testToken, "list_skills", map[string]any{"filter": "active"})
	if err != nil || !strings.Contains(string(line), "smart_files") {
		t.Fatalf("Call = %s (%v)", line, err)
	}
	line, _ = Ping(ctx, e.b.Addr(), "wrong-token-0123456789")
	if r, _ := ParseResponse(line); r.Error == nil || r.Error.Code != CodeAuthInvalid {
		t.Fatalf("wrong token: %s", line)
	}
	if _, err := Ping(ctx, "127.0.0.1:1", testToken); err == nil {
		t.Fatal("ping of a closed port succeeded")
	}
}

// TestRunbookPingSnippet runs the operations runbook's section 3.3 block verbatim
// (testdata/bridge/runbook_3_3_block.txt, checked against the runbook when it is
// readable) through bash and python3. The only change is textual: the hard-coded port
// 9742 becomes the test bridge's port.
func TestRunbookPingSnippet(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		missingTool(t, "python3 not on PATH")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		missingTool(t, "bash not on PATH")
	}
	blockBytes, err := os.ReadFile(filepath.Join("..", "testdata", "bridge", "runbook_3_3_block.txt"))
	if err != nil {
		t.Fatal(err)
	}
	block := string(blockBytes)
	if rb, err := os.ReadFile("/work/shared/seed/operations-runbook.md"); err == nil {
		if !strings.Contains(string(rb), "### 3.3 Desktop Bridge Health\n\n```bash\n"+block+"```") {
			t.Fatal("testdata/bridge/runbook_3_3_block.txt differs from the runbook's section 3.3")
		}
	}
	if strings.Count(block, "9742") != 1 {
		t.Fatalf("expected the port 9742 exactly once in the snippet")
	}
	e := startEnv(t, func(o *Options) { o.RatePerSec, o.Burst = DefaultRatePerSec, DefaultBurst })
	_, port, _ := strings.Cut(e.b.Addr(), ":")
	script := strings.Replace(block, "9742", port, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.Env = append(os.Environ(), "BIZRA_BRIDGE_TOKEN="+testToken)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("snippet failed: %v\n%s", err, out)
	}
	line := strings.TrimSpace(string(out))
	// Expected: {"jsonrpc":"2.0","result":{"status":"alive","uptime_s":...},"id":1}
	if !strings.HasPrefix(line, `{"jsonrpc":"2.0","result":{"status":"alive","uptime_s":`) || !strings.HasSuffix(line, `,"id":1}`) {
		t.Fatalf("snippet printed %s", line)
	}
	var r struct {
		Result struct {
			Status  string     `json:"status"`
			UptimeS *float64   `json:"uptime_s"`
			Receipt ReceiptRef `json:"receipt"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(line), &r); err != nil || r.Result.UptimeS == nil || !ValidReceiptID(r.Result.Receipt.ReceiptID) {
		t.Fatalf("snippet response %s (%v)", line, err)
	}
}
