package bridge

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/bizra/bizra/internal/catalog"
)

func TestStartStop(t *testing.T) {
	e := startEnv(t, nil)
	addr := e.b.Addr()
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("Addr = %q; want 127.0.0.1:port", addr)
	}
	if st := e.b.Stats(); !st.Listening || st.Address != addr {
		t.Fatalf("Stats = %+v", st)
	}
	if err := e.b.Start(context.Background()); !errors.Is(err, ErrStarted) {
		t.Fatalf("second Start = %v; want ErrStarted", err)
	}
	ctx := context.Background()
	if err := e.b.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := e.b.Shutdown(ctx); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
	if st := e.b.Stats(); st.Listening {
		t.Fatalf("Stats after Shutdown = %+v", st)
	}
	if nc, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		nc.Close()
		t.Fatalf("dial after Shutdown succeeded")
	}
	// Shutdown of a never-started bridge is fine too.
	b, _ := New(baseOptions(newFakeCore(), newFakeReceipts()))
	if err := b.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown unstarted: %v", err)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestStartRefusals checks each refusal and, by breaking several things at once,
// that they come in bridge.md's order. Nothing may be bound after a refusal.
func TestStartRefusals(t *testing.T) {
	failGenesis := func() (bool, string) { return false, "missing /st/node0_genesis.json" }
	okGenesis := func() (bool, string) { return true, "" }
	tests := []struct {
		name string
		mut  func(*Options)
		want []string // substrings of the error; empty = start succeeds
		is   error
	}{
		{"everything wrong: token first", func(o *Options) {
			o.Token, o.Role, o.SecretHex, o.Host, o.GenesisCheck = "", "admin", "", "0.0.0.0", failGenesis
		}, []string{"BIZRA_BRIDGE_TOKEN"}, ErrNoToken},
		{"short token", func(o *Options) { o.Token = "short-token-15ch"[:15] }, []string{"BIZRA_BRIDGE_TOKEN", "15"}, ErrNoToken},
		{"role before genesis and key", func(o *Options) {
			o.Role, o.SecretHex, o.Host = "admin", "", "0.0.0.0"
		}, []string{"BIZRA_NODE_ROLE", `"admin"`}, ErrBadRole},
		{"empty role", func(o *Options) { o.Role = "" }, []string{"BIZRA_NODE_ROLE"}, ErrBadRole},
		{"node0 genesis before key", func(o *Options) {
			o.Role, o.GenesisCheck, o.StateDir, o.SecretHex = "node0", failGenesis, "/st", ""
		}, []string{"Node0 genesis enforcement failed: missing /st/node0_genesis.json. Required authority files: /st/node0_genesis.json and /st/genesis_hash.txt"}, ErrGenesis},
		{"node0 without a check", func(o *Options) { o.Role = "node0" }, []string{"Node0 genesis enforcement failed", "sovereign_state/genesis_hash.txt"}, ErrGenesis},
		{"key before host", func(o *Options) { o.SecretHex, o.Host = "", "0.0.0.0" }, []string{"BIZRA_RECEIPT_PRIVATE_KEY_HEX"}, ErrNoReceiptKey},
		{"key not hex", func(o *Options) { o.SecretHex = strings.Repeat("zz", 32) }, []string{"BIZRA_RECEIPT_PRIVATE_KEY_HEX"}, ErrNoReceiptKey},
		{"key too short", func(o *Options) { o.SecretHex = testSecret[:62] }, []string{"BIZRA_RECEIPT_PRIVATE_KEY_HEX"}, ErrNoReceiptKey},
		{"non-loopback host", func(o *Options) { o.Host = "0.0.0.0" }, []string{"127.0.0.1", "0.0.0.0"}, ErrNotLoopback},
		{"lan host", func(o *Options) { o.Host = "192.168.1.10" }, []string{"127.0.0.1"}, ErrNotLoopback},
		{"no core", func(o *Options) { o.Core = nil }, []string{"Core"}, ErrConfig},
		{"node0 with a valid chain", func(o *Options) { o.Role, o.GenesisCheck = "node0", okGenesis }, nil, nil},
		{"localhost", func(o *Options) { o.Host = "localhost" }, nil, nil},
		{"ipv6 loopback", func(o *Options) { o.Host = "::1" }, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := baseOptions(newFakeCore(), newFakeReceipts())
			tt.mut(&o)
			port := freePort(t)
			o.Port = port
			b, err := New(o)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			err = b.Start(context.Background())
			defer b.Shutdown(context.Background())
			if len(tt.want) == 0 {
				if err != nil && !(o.Host == "::1" && strings.Contains(err.Error(), "listen")) {
					t.Fatalf("Start: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Start succeeded; want refusal naming %q", tt.want)
			}
			if !errors.Is(err, tt.is) {
				t.Fatalf("err = %v; want errors.Is %v", err, tt.is)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("err = %q; want it to contain %q", err, w)
				}
			}
			if b.Addr() != "" {
				t.Fatalf("Addr = %q after refusal", b.Addr())
			}
			if nc, derr := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 200*time.Millisecond); derr == nil {
				nc.Close()
				t.Fatalf("port %d bound after refusal", port)
			}
		})
	}
}

func TestNewRejectsNegativeLimits(t *testing.T) {
	for _, mut := range []func(*Options){
		func(o *Options) { o.MaxConns = -1 },
		func(o *Options) { o.IdleTimeout = -time.Second },
		func(o *Options) { o.RatePerSec = -1 },
		func(o *Options) { o.Port = 70000 },
	} {
		o := baseOptions(nil, nil)
		mut(&o)
		if _, err := New(o); !errors.Is(err, ErrConfig) {
			t.Errorf("New(%+v) = %v; want ErrConfig", o, err)
		}
	}
}

func TestPing(t *testing.T) {
	e := startEnv(t, nil)
	c := e.dial(t)
	r := c.call(req("ping", nil, nil))
	if r.Error != nil || r.Result["status"] != "alive" {
		t.Fatalf("ping = %s", r.raw)
	}
	if _, ok := r.Result["uptime_s"].(float64); !ok {
		t.Fatalf("uptime_s missing: %s", r.raw)
	}
	if r.Result["request_count"] != float64(1) {
		t.Fatalf("request_count = %v; want 1", r.Result["request_count"])
	}
	if string(r.ID) != "7" {
		t.Fatalf("id = %s; want 7", r.ID)
	}
	rc := receiptOf(r)
	if rc["status"] != ReceiptAccepted {
		t.Fatalf("receipt = %v", rc)
	}
	if n := e.receipts.count(); n != 1 {
		t.Fatalf("stored receipts = %d; want 1", n)
	}
	if in := e.receipts.last(); in.Method != "ping" || in.Status != ReceiptAccepted || in.Params != nil || in.Payload == nil {
		t.Fatalf("receipt input = %+v", in)
	}
	// The response starts the way the runbook shows it.
	if !strings.HasPrefix(r.raw, `{"jsonrpc":"2.0","result":{"status":"alive","uptime_s":`) || !strings.HasSuffix(r.raw, `,"id":7}`) {
		t.Fatalf("shape = %s", r.raw)
	}
}

func TestRequestCountOnlyAuthenticated(t *testing.T) {
	e := startEnv(t, nil)
	c := e.dial(t)
	for i := 1; i <= 3; i++ {
		if r := c.call(req("ping", nil, nil)); r.Result["request_count"] != float64(i) {
			t.Fatalf("request_count = %v; want %d", r.Result["request_count"], i)
		}
	}
	// Unauthenticated traffic: no count, no receipt.
	c.call(`{"jsonrpc":"2.0","method":"ping","id":1}`)
	c.call(reqTok("wrong-token-0123456789", time.Now(), "ping", nil, nil))
	c.call(`not json`)
	c.call(req("ping", nil, func(h map[string]any) { h[HeaderTS] = time.Now().Add(-time.Hour).UnixMilli() }))
	// Unknown methods count (authenticated).
	wantErr(t, c.call(req("nope", nil, nil)), CodeMethodNotFound, "METHOD_NOT_FOUND")
	if got := e.b.Stats().RequestCount; got != 4 {
		t.Fatalf("RequestCount = %d; want 4", got)
	}
	if n := e.receipts.count(); n != 4 {
		t.Fatalf("receipts = %d; want 4", n)
	}
}

func TestStatus(t *testing.T) {
	e := startEnv(t, nil)
	r := e.dial(t).call(req("status", nil, nil))
	if r.Error != nil {
		t.Fatalf("status: %s", r.raw)
	}
	for _, k := range []string{"node", "origin", "bridge_uptime_s", "request_count", "health", "inference", "receipt"} {
		if _, ok := r.Result[k]; !ok {
			t.Errorf("status lacks %q: %s", k, r.raw)
		}
	}
	if r.Result["node"] != "node" {
		t.Errorf("node = %v", r.Result["node"])
	}
	h := r.Result["health"].(map[string]any)
	if h["status"] != "healthy" || h["score"] != 0.97 {
		t.Errorf("health = %v", h)
	}
	inf := r.Result["inference"].(map[string]any)
	for _, k := range []string{"available", "backend", "model", "status"} {
		if _, ok := inf[k]; !ok {
			t.Errorf("inference lacks %q", k)
		}
	}
	if r.Result["origin"].(map[string]any)["designation"] != "ephemeral_node" {
		t.Errorf("origin = %v", r.Result["origin"])
	}
}

func TestSovereignQuery(t *testing.T) {
	e := startEnv(t, nil)
	c := e.dial(t)
	tests := []struct {
		name   string
		params any
		member string
	}{
		{"no params", nil, "query"},
		{"no query", map[string]any{"context": map[string]any{}}, "query"},
		{"blank query", map[string]any{"query": " \t\n "}, "query"},
		{"query not a string", map[string]any{"query": 42}, "query"},
		{"query too long", map[string]any{"query": strings.Repeat("q", 10001)}, "query"},
		{"params array", []any{"q"}, "params"},
		{"context not object", map[string]any{"query": "q", "context": "x"}, "context"},
		{"context too many keys", map[string]any{"query": "q", "context": manyKeys(51)}, "context"},
		{"max_depth high", map[string]any{"query": "q", "max_depth": 11}, "max_depth"},
		{"max_depth float", map[string]any{"query": "q", "max_depth": 2.5}, "max_depth"},
		{"max_depth huge", map[string]any{"query": "q", "max_depth": 1e300}, "max_depth"},
		{"timeout low", map[string]any{"query": "q", "timeout_ms": 999}, "timeout_ms"},
		{"reasoning not bool", map[string]any{"query": "q", "require_reasoning": "yes"}, "require_reasoning"},
		{"user_id long", map[string]any{"query": "q", "user_id": strings.Repeat("u", 129)}, "user_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.call(req("sovereign_query", tt.params, nil))
			wantErr(t, r, CodeInvalidParams, "INVALID_PARAMS")
			if r.Error.Data["member"] != tt.member {
				t.Fatalf("member = %v; want %s", r.Error.Data["member"], tt.member)
			}
			if rc := receiptOf(r); rc["status"] != ReceiptRejected {
				t.Fatalf("receipt = %v; want rejected", rc)
			}
		})
	}
	t.Run("valid", func(t *testing.T) {
		r := c.call(req("sovereign_query", map[string]any{"query": "what is bizra?", "max_depth": 5,
			"timeout_ms": 2000, "require_validation": false, "user_id": "u1", "context": map[string]any{"a": 1}}, nil))
		if r.Error != nil || r.Result["response"] != "answer to what is bizra?" || r.Result["verdict"] != "APPROVED" {
			t.Fatalf("query = %s", r.raw)
		}
		got := e.core.lastReq.Load()
		if got.MaxDepth != 5 || got.TimeoutMs != 2000 || got.RequireValidation || !got.RequireReasoning ||
			got.UserID != "u1" || got.Method != "sovereign_query" || got.Context["a"] != float64(1) {
			t.Fatalf("request = %+v", got)
		}
	})
	t.Run("internal error hides text", func(t *testing.T) {
		r := c.call(req("sovereign_query", map[string]any{"query": "boom"}, nil))
		wantErr(t, r, CodeInternal, "INTERNAL")
		if strings.Contains(r.raw, "secret") || r.Error.Message != "Internal error" {
			t.Fatalf("leak: %s", r.raw)
		}
		if receiptOf(r)["status"] != ReceiptRejected || e.receipts.last().Reason != "INTERNAL" {
			t.Fatalf("receipt: %s %+v", r.raw, e.receipts.last())
		}
	})
	t.Run("episode", func(t *testing.T) {
		r := c.call(req("sovereign_query", map[string]any{"query": "committed"}, nil))
		ep, _ := r.Result["episode"].(map[string]any)
		if r.Error != nil || ep["sequence"] != float64(7) || ep["hash"] != strings.Repeat("ab", 32) {
			t.Fatalf("query = %s; want episode {7, ab…}", r.raw)
		}
		cites, _ := r.Result["citations"].([]any)
		if len(cites) != 1 || !strings.Contains(string(r.raw), `"citations":[{"marker":1,"source":"RUNBOOK.md#x:L3","lines":[3,4],"line_start":3,"line_end":4,"excerpt":"recorded"}]`) {
			t.Fatalf("query = %s; want its citation", r.raw)
		}
		r = c.call(req("sovereign_query", map[string]any{"query": "what is bizra?"}, nil))
		if v, ok := r.Result["episode"]; !ok || v != nil {
			t.Fatalf("query without an episode = %s; want \"episode\":null", r.raw)
		}
		if v, ok := r.Result["citations"].([]any); !ok || len(v) != 0 {
			t.Fatalf("query without citations = %s; want \"citations\":[]", r.raw)
		}
	})
	t.Run("storage unavailable", func(t *testing.T) {
		r := c.call(req("sovereign_query", map[string]any{"query": "disk refuses"}, nil))
		wantErr(t, r, CodeInternal, "STORAGE_UNAVAILABLE")
		if r.Error.Message != "The experience ledger could not be written; nothing was recorded" || r.Result != nil {
			t.Fatalf("storage failure = %s", r.raw)
		}
		if receiptOf(r)["status"] != ReceiptRejected {
			t.Fatalf("receipt: %s", r.raw)
		}
	})
	t.Run("catalog error", func(t *testing.T) {
		r := c.call(req("sovereign_query", map[string]any{"query": "busy"}, nil))
		wantErr(t, r, CodeBusy, "OVERLOADED")
		if strings.Contains(r.raw, "secret") {
			t.Fatalf("leak: %s", r.raw)
		}
	})
}

func manyKeys(n int) map[string]any {
	m := map[string]any{}
	for i := range n {
		m["k"+strconv.Itoa(i)] = i
	}
	return m
}

func TestTokenBucket(t *testing.T) {
	now := time.Unix(1000, 0)
	f := func(rate float64, burst, wantAllowed int) {
		t.Helper()
		b := newBucket(rate, burst, now)
		n := 0
		for range 100 {
			if ok, _ := b.take(now); ok {
				n++
			}
		}
		if n != wantAllowed {
			t.Fatalf("rate %v burst %d: %d allowed at once; want %d", rate, burst, n, wantAllowed)
		}
		ok, retry := b.take(now)
		if ok || retry <= 0 || retry > time.Duration(float64(time.Second)/rate)+time.Millisecond {
			t.Fatalf("after burst: ok=%v retry=%v", ok, retry)
		}
		if ok, _ := b.take(now.Add(retry)); !ok {
			t.Fatalf("no token after retry_after %v", retry)
		}
	}
	f(20, 30, 30)
	f(20, 20, 20)
	f(2, 3, 3)
	// Off.
	b := newBucket(0, 0, now)
	for range 1000 {
		if ok, _ := b.take(now); !ok {
			t.Fatal("a zero-rate bucket refused")
		}
	}
	// Refill is capped at burst.
	b = newBucket(20, 30, now)
	for range 30 {
		b.take(now)
	}
	n := 0
	for range 100 {
		if ok, _ := b.take(now.Add(time.Hour)); ok {
			n++
		}
	}
	if n != 30 {
		t.Fatalf("after an hour %d allowed; want 30", n)
	}
}

func TestRateLimitOverTCP(t *testing.T) {
	clk := newFakeClock()
	e := startEnv(t, func(o *Options) { o.RatePerSec, o.Burst, o.Now = 2, 3, clk.Now })
	c := e.dial(t)
	var limited []string
	ok := 0
	for range 5 {
		line := reqTok(testToken, clk.Now(), "ping", nil, nil)
		r := c.call(line)
		if r.Error == nil {
			ok++
			continue
		}
		wantErr(t, r, CodeBusy, "RATE_LIMIT_EXCEEDED")
		if ms, _ := r.Error.Data["retry_after_ms"].(float64); ms < 1 || ms > 500 {
			t.Fatalf("retry_after_ms = %v", r.Error.Data["retry_after_ms"])
		}
		if rc := receiptOf(r); rc["status"] != ReceiptRejected {
			t.Fatalf("rate-limited receipt = %v; want rejected", rc)
		}
		limited = append(limited, line)
	}
	if ok != 3 || len(limited) != 2 {
		t.Fatalf("%d allowed, %d limited; want 3 and 2", ok, len(limited))
	}
	// Retrying the same line while still limited gets no second receipt.
	n := e.receipts.count()
	r := c.call(limited[0])
	wantErr(t, r, CodeBusy, "RATE_LIMIT_EXCEEDED")
	if receiptOf(r) != nil || e.receipts.count() != n {
		t.Fatalf("retry while limited issued a receipt: %s", r.raw)
	}
	// After a refill the very same line (same nonce) succeeds, once.
	clk.Advance(time.Second)
	if r := c.call(limited[0]); r.Error != nil {
		t.Fatalf("retry of a rate-limited request: %s", r.raw)
	}
	clk.Advance(time.Second)
	wantErr(t, c.call(limited[0]), CodeNonceReplay, "AUTH_NONCE_REPLAY")
	// Another connection has its own bucket.
	if r := e.dial(t).call(reqTok(testToken, clk.Now(), "ping", nil, nil)); r.Error != nil {
		t.Fatalf("second connection: %s", r.raw)
	}
	if got := counterValue(t, e.opts.Metrics, "sovereign_bridge_rate_limited_total"); got < 3 {
		t.Fatalf("rate_limited_total = %d", got)
	}
}

func TestGlobalRateLimit(t *testing.T) {
	clk := newFakeClock()
	e := startEnv(t, func(o *Options) { o.GlobalRatePerSec, o.GlobalBurst, o.Now = 1, 2, clk.Now })
	a, b := e.dial(t), e.dial(t)
	if r := a.call(reqTok(testToken, clk.Now(), "ping", nil, nil)); r.Error != nil {
		t.Fatal(r.raw)
	}
	if r := b.call(reqTok(testToken, clk.Now(), "ping", nil, nil)); r.Error != nil {
		t.Fatal(r.raw)
	}
	wantErr(t, a.call(reqTok(testToken, clk.Now(), "ping", nil, nil)), CodeBusy, "RATE_LIMIT_EXCEEDED")
}

func counterValue(t *testing.T, set *metrics.Set, name string) uint64 {
	t.Helper()
	var sb strings.Builder
	set.WritePrometheus(&sb)
	for _, l := range strings.Split(sb.String(), "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			n, _ := strconv.ParseFloat(v, 64)
			return uint64(n)
		}
	}
	return 0
}

func TestFrameAndAuthErrors(t *testing.T) {
	e := startEnv(t, func(o *Options) { o.Metrics = metrics.NewSet() })
	c := e.dial(t)
	now := time.Now()
	tests := []struct {
		name     string
		line     string
		code     int
		dataCode string
		id       string
	}{
		{"malformed json", `{"jsonrpc":"2.0","method":"ping","id":1`, CodeParseError, "PARSE_ERROR", "null"},
		{"garbage", `hello`, CodeParseError, "PARSE_ERROR", "null"},
		{"blank line", `   `, CodeParseError, "PARSE_ERROR", "null"},
		{"invalid utf-8", "{\"jsonrpc\":\"2.0\",\"method\":\"p\xffing\",\"id\":1}", CodeParseError, "PARSE_ERROR", "null"},
		{"batch", `[{"jsonrpc":"2.0","method":"ping","id":1}]`, CodeInvalidRequest, "INVALID_REQUEST", "null"},
		{"scalar", `42`, CodeInvalidRequest, "INVALID_REQUEST", "null"},
		{"no jsonrpc", `{"method":"ping","id":3}`, CodeInvalidRequest, "INVALID_REQUEST", "3"},
		{"jsonrpc 1.0", `{"jsonrpc":"1.0","method":"ping","id":"x"}`, CodeInvalidRequest, "INVALID_REQUEST", `"x"`},
		{"missing method", `{"jsonrpc":"2.0","id":{"a":[1,2]}}`, CodeInvalidRequest, "INVALID_METHOD", `{"a":[1,2]}`},
		{"method number", `{"jsonrpc":"2.0","method":5,"id":1}`, CodeInvalidRequest, "INVALID_METHOD", "1"},
		{"missing headers", `{"jsonrpc":"2.0","method":"ping","id":1}`, CodeAuthMissing, "AUTH_MISSING_HEADERS", "1"},
		{"headers not object", `{"jsonrpc":"2.0","method":"ping","id":1,"headers":"x"}`, CodeAuthMissing, "AUTH_MISSING_HEADERS", "1"},
		{"missing token", req("ping", nil, func(h map[string]any) { delete(h, HeaderToken) }), CodeAuthMissing, "AUTH_MISSING_TOKEN", "7"},
		{"empty token", req("ping", nil, func(h map[string]any) { h[HeaderToken] = "" }), CodeAuthMissing, "AUTH_MISSING_TOKEN", "7"},
		{"token not string", req("ping", nil, func(h map[string]any) { h[HeaderToken] = 123 }), CodeAuthMissing, "AUTH_MISSING_TOKEN", "7"},
		{"missing ts", req("ping", nil, func(h map[string]any) { delete(h, HeaderTS) }), CodeAuthMissing, "AUTH_MISSING_TIMESTAMP", "7"},
		{"float ts", req("ping", nil, func(h map[string]any) { h[HeaderTS] = float64(now.UnixMilli()) + 0.5 }), CodeAuthMissing, "AUTH_MISSING_TIMESTAMP", "7"},
		{"huge ts", strings.Replace(req("ping", nil, nil), `"X-BIZRA-TS":`, `"X-BIZRA-TS":123456789012345678901234567890,"x":`, 1), CodeAuthMissing, "AUTH_MISSING_TIMESTAMP", "7"},
		{"exponent ts", strings.Replace(req("ping", nil, nil), `"X-BIZRA-TS":`, `"X-BIZRA-TS":1.7e12,"x":`, 1), CodeAuthMissing, "AUTH_MISSING_TIMESTAMP", "7"},
		{"ts float string", req("ping", nil, func(h map[string]any) { h[HeaderTS] = "1700000000000.5" }), CodeAuthMissing, "AUTH_MISSING_TIMESTAMP", "7"},
		{"ts bool", req("ping", nil, func(h map[string]any) { h[HeaderTS] = true }), CodeAuthMissing, "AUTH_MISSING_TIMESTAMP", "7"},
		{"missing nonce", req("ping", nil, func(h map[string]any) { delete(h, HeaderNonce) }), CodeAuthMissing, "AUTH_MISSING_NONCE", "7"},
		{"long nonce", req("ping", nil, func(h map[string]any) { h[HeaderNonce] = strings.Repeat("n", 129) }), CodeAuthMissing, "AUTH_MISSING_NONCE", "7"},
		{"wrong token", reqTok("wrong-token-0123456789", now, "ping", nil, nil), CodeAuthInvalid, "AUTH_INVALID_TOKEN", "7"},
		{"token prefix", reqTok(testToken[:20], now, "ping", nil, nil), CodeAuthInvalid, "AUTH_INVALID_TOKEN", "7"},
		{"bad signature", req("ping", nil, func(h map[string]any) { h[HeaderSig] = strings.Repeat("ab", 32) }), CodeAuthInvalid, "AUTH_INVALID_SIGNATURE", "7"},
		{"signature not hex", req("ping", nil, func(h map[string]any) { h[HeaderSig] = "zz" }), CodeAuthInvalid, "AUTH_INVALID_SIGNATURE", "7"},
		{"stale past", reqTok(testToken, now.Add(-121*time.Second), "ping", nil, nil), CodeAuthStale, "AUTH_STALE_TIMESTAMP", "7"},
		{"stale future", reqTok(testToken, now.Add(121*time.Second), "ping", nil, nil), CodeAuthStale, "AUTH_STALE_TIMESTAMP", "7"},
		{"negative ts", req("ping", nil, func(h map[string]any) { h[HeaderTS] = -5 }), CodeAuthStale, "AUTH_STALE_TIMESTAMP", "7"},
		// Order: a wrong token is reported before a stale timestamp.
		{"wrong token and stale", reqTok("wrong-token-0123456789", now.Add(-time.Hour), "ping", nil, nil), CodeAuthInvalid, "AUTH_INVALID_TOKEN", "7"},
		{"huge id echoed", strings.Replace(req("ping", nil, func(h map[string]any) { delete(h, HeaderToken) }), `"id":7`, `"id":1e999999`, 1), CodeAuthMissing, "AUTH_MISSING_TOKEN", "1e999999"},
	}
	before := e.receipts.count()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.call(tt.line)
			wantErr(t, r, tt.code, tt.dataCode)
			if string(r.ID) != tt.id {
				t.Fatalf("id = %s; want %s", r.ID, tt.id)
			}
			if rc := receiptOf(r); rc != nil {
				t.Fatalf("unauthenticated request got a receipt: %s", r.raw)
			}
		})
	}
	if e.receipts.count() != before || e.b.Stats().RequestCount != 0 {
		t.Fatalf("unauthenticated traffic stored %d receipts, count %d", e.receipts.count()-before, e.b.Stats().RequestCount)
	}
	t.Run("ts as decimal string", func(t *testing.T) {
		r := c.call(req("ping", nil, func(h map[string]any) { h[HeaderTS] = strconv.FormatInt(time.Now().UnixMilli(), 10) }))
		if r.Error != nil {
			t.Fatal(r.raw)
		}
	})
	t.Run("unknown method", func(t *testing.T) {
		r := c.call(req("rm_rf", nil, nil))
		wantErr(t, r, CodeMethodNotFound, "METHOD_NOT_FOUND")
		if r.Error.Message != "Method not found: rm_rf" || receiptOf(r)["status"] != ReceiptRejected {
			t.Fatalf("%s", r.raw)
		}
	})
	t.Run("metrics", func(t *testing.T) {
		var sb strings.Builder
		e.opts.Metrics.WritePrometheus(&sb)
		out := sb.String()
		for _, w := range []string{
			`sovereign_bridge_auth_failures_total{reason="invalid_token"} 3`,
			`sovereign_bridge_auth_failures_total{reason="missing_headers"} 2`,
			`sovereign_bridge_requests_total{method="ping",outcome="ok"} 1`,
			`sovereign_bridge_requests_total{method="unknown",outcome="parse_error"} 4`,
			`sovereign_bridge_requests_total{method="unknown",outcome="method_not_found"} 1`,
			`sovereign_bridge_connections 1`,
			`sovereign_bridge_request_duration_seconds_bucket{le="+Inf"}`,
		} {
			if !strings.Contains(out, w) {
				t.Errorf("metrics lack %q", w)
			}
		}
		if strings.Contains(out, "rm_rf") {
			t.Error("a user-chosen method name became a label")
		}
	})
}

func TestWrongTokenEveryMethod(t *testing.T) {
	e := startEnv(t, nil)
	c := e.dial(t)
	for _, m := range append(Methods(), "unknown_method") {
		r := c.call(reqTok("wrong-token-0123456789", time.Now(), m, map[string]any{"query": "q"}, nil))
		wantErr(t, r, CodeAuthInvalid, "AUTH_INVALID_TOKEN")
	}
	if e.receipts.count() != 0 || e.core.queries.Load() != 0 {
		t.Fatal("a request with a wrong token reached the core or the receipt store")
	}
}

func TestReplay(t *testing.T) {
	e := startEnv(t, nil)
	c1, c2 := e.dial(t), e.dial(t)
	line := req("ping", nil, nil)
	if r := c1.call(line); r.Error != nil {
		t.Fatal(r.raw)
	}
	wantErr(t, c1.call(line), CodeNonceReplay, "AUTH_NONCE_REPLAY")
	r := c2.call(line) // across connections
	wantErr(t, r, CodeNonceReplay, "AUTH_NONCE_REPLAY")
	if receiptOf(r) != nil {
		t.Fatal("a replay got a receipt")
	}
	// Same nonce, different method: still a replay.
	var nonce string
	line2 := req("status", nil, func(h map[string]any) { nonce = h[HeaderNonce].(string) })
	c1.call(line2)
	wantErr(t, c2.call(req("ping", nil, func(h map[string]any) { h[HeaderNonce] = nonce })), CodeNonceReplay, "AUTH_NONCE_REPLAY")
	if e.receipts.count() != 2 || e.b.Stats().RequestCount != 2 {
		t.Fatalf("receipts %d, count %d; want 2, 2", e.receipts.count(), e.b.Stats().RequestCount)
	}
}

func TestNonceStore(t *testing.T) {
	now := time.Unix(10_000, 0)
	s := newNonceStore(240*time.Second, 3)
	if s.use("a", now) != nonceOK || s.use("a", now) != nonceReplay {
		t.Fatal("replay not detected")
	}
	if !s.markRateLimited("b", now) || s.markRateLimited("b", now) {
		t.Fatal("rate-limited mark")
	}
	if s.use("b", now) != nonceOK || s.use("b", now) != nonceReplay {
		t.Fatal("a rate-limited nonce must be usable once")
	}
	s.use("c", now)
	if s.use("d", now) != nonceFull || s.markRateLimited("d", now) {
		t.Fatal("full store accepted a nonce")
	}
	// Still remembered just inside the window, forgotten after it.
	if s.use("a", now.Add(239*time.Second)) != nonceReplay {
		t.Fatal("forgot a nonce inside the window")
	}
	later := now.Add(240*time.Second + 61*time.Second)
	if s.size(later) != 0 {
		t.Fatalf("size after the window = %d", s.size(later))
	}
	if s.use("a", later) != nonceOK {
		t.Fatal("an expired nonce is refused")
	}
}

func TestNonceStoreFullOverTCP(t *testing.T) {
	e := startEnv(t, func(o *Options) { o.NonceStoreMax = 2 })
	c := e.dial(t)
	c.call(req("ping", nil, nil))
	c.call(req("ping", nil, nil))
	r := c.call(req("ping", nil, nil))
	wantErr(t, r, CodeBusy, "NONCE_STORE_FULL")
	if e.b.Stats().RequestCount != 2 {
		t.Fatalf("count = %d", e.b.Stats().RequestCount)
	}
}

func TestGetReceipt(t *testing.T) {
	e := startEnv(t, nil)
	c := e.dial(t)
	id := str0(receiptOf(c.call(req("ping", nil, nil)))["receipt_id"])
	r := c.call(req("get_receipt", map[string]any{"receipt_id": id}, nil))
	if r.Error != nil || r.Result["receipt_id"] != id || r.Result["method"] != "ping" || r.Result["kind"] != "bridge" {
		t.Fatalf("get_receipt = %s", r.raw)
	}
	if own := receiptOf(r); own["receipt_id"] == id {
		t.Fatal("the get_receipt request's own receipt is the looked-up one")
	}
	wantErr(t, c.call(req("get_receipt", map[string]any{"receipt_id": "br-0000000000001-00000000000000ff"}, nil)),
		CodeInvalidParams, "RECEIPT_NOT_FOUND")
	for _, bad := range []any{"../../etc/passwd", "br-1-2", 5, "", "xx-0000000000001-00000000000000ff", "br-0000000000001-00000000000000FF"} {
		r := c.call(req("get_receipt", map[string]any{"receipt_id": bad}, nil))
		wantErr(t, r, CodeInvalidParams, "INVALID_PARAMS")
		if r.Error.Data["member"] != "receipt_id" {
			t.Fatalf("%v: %s", bad, r.raw)
		}
	}
	wantErr(t, c.call(req("get_receipt", nil, nil)), CodeInvalidParams, "INVALID_PARAMS")
}

func TestSkillsAndContext(t *testing.T) {
	e := startEnv(t, nil)
	c := e.dial(t)
	r := c.call(req("list_skills", nil, nil))
	if r.Error != nil || r.Result["count"] != float64(2) {
		t.Fatalf("list_skills = %s", r.raw)
	}
	r = c.call(req("list_skills", map[string]any{"filter": "active"}, nil))
	sk := r.Result["skills"].([]any)
	if len(sk) != 1 || sk[0].(map[string]any)["name"] != "smart_files" || r.Result["count"] != float64(1) {
		t.Fatalf("filtered = %s", r.raw)
	}
	for _, k := range []string{"name", "description", "status", "agent", "tags"} {
		if _, ok := sk[0].(map[string]any)[k]; !ok {
			t.Fatalf("skill lacks %s", k)
		}
	}
	wantErr(t, c.call(req("list_skills", map[string]any{"filter": 3}, nil)), CodeInvalidParams, "INVALID_PARAMS")

	r = c.call(req("invoke_skill", map[string]any{"skill": "smart_files", "inputs": map[string]any{"op": "scan"}}, nil))
	if r.Error != nil || r.Result["success"] != true || r.Result["skill_name"] != "smart_files" {
		t.Fatalf("invoke = %s", r.raw)
	}
	for _, k := range []string{"success", "skill_name", "output", "error", "duration_ms", "execution_id", "started_at", "completed_at"} {
		if _, ok := r.Result[k]; !ok {
			t.Fatalf("invoke lacks %s: %s", k, r.raw)
		}
	}
	r = c.call(req("invoke_skill", map[string]any{"skill": "failing"}, nil))
	if r.Error != nil || r.Result["success"] != false || receiptOf(r)["status"] != ReceiptRejected {
		t.Fatalf("failing skill = %s", r.raw)
	}
	wantErr(t, c.call(req("invoke_skill", map[string]any{"skill": "missing"}, nil)), CodeInvalidParams, "SKILL_NOT_FOUND")
	r = c.call(req("invoke_skill", map[string]any{"inputs": map[string]any{}}, nil))
	wantErr(t, r, CodeInvalidParams, "INVALID_PARAMS")
	if r.Error.Data["member"] != "skill" {
		t.Fatal(r.raw)
	}
	r = c.call(req("invoke_skill", map[string]any{"skill": "x", "inputs": []any{}}, nil))
	if r.Error == nil || r.Error.Data["member"] != "inputs" {
		t.Fatal(r.raw)
	}

	r = c.call(req("get_context", nil, nil))
	if r.Error != nil || r.Result["schema_version"] != "1.0" ||
		fmt.Sprint(r.Result["expected_fields"]) != "[title class process structure hash]" {
		t.Fatalf("get_context = %s", r.raw)
	}
	wantErr(t, c.call(req("ping", "not-structured", nil)), CodeInvalidParams, "INVALID_PARAMS")
}

func TestReceiptStoreFailure(t *testing.T) {
	e := startEnv(t, nil)
	e.receipts.fail.Store(true)
	r := e.dial(t).call(req("ping", nil, nil))
	wantErr(t, r, CodeInternal, "RECEIPT_UNAVAILABLE")
	if strings.Contains(r.raw, "secret") {
		t.Fatal(r.raw)
	}
}

// TestFaultBridgeReceiptStorage: a receipt log that cannot be written fails the request
// with the catalog's STORAGE_UNAVAILABLE (-32603) and no result, and the connection
// keeps serving once the log works again.
func TestFaultBridgeReceiptStorage(t *testing.T) {
	e := startEnv(t, nil)
	c := e.dial(t)
	e.receipts.storage.Store(true)
	r := c.call(req("ping", nil, nil))
	wantErr(t, r, CodeInternal, "STORAGE_UNAVAILABLE")
	if r.Result != nil || strings.Contains(r.raw, "secret") {
		t.Fatal(r.raw)
	}
	e.receipts.storage.Store(false)
	if r := c.call(req("ping", nil, nil)); r.Error != nil || receiptOf(r)["receipt_id"] == nil {
		t.Fatalf("after recovery: %s", r.raw)
	}
}

func TestCatalogRendering(t *testing.T) {
	// The bridge's own sentinels render through the one catalog.
	if p := catalog.Lookup(fmt.Errorf("x: %w", ErrReceiptNotFound)); p.RPC != CodeInvalidParams || p.Code != "RECEIPT_NOT_FOUND" {
		t.Fatalf("%+v", p)
	}
	if p := catalog.Lookup(&lowEntropyError{1}); p.Code != "ACTUATOR_LOW_ENTROPY" || p.RPC != CodeInvalidParams {
		t.Fatalf("%+v", p)
	}
}
