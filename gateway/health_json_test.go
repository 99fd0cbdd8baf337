package gateway

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/valyala/fasthttp"
)

func healthSamples() []Health {
	return []Health{
		{},
		{Status: "starting", Version: "0.1.0", UptimeS: 0.001, Checks: map[string]any{}},
		{Status: "healthy", Version: "1.2.3+dev \"x\" <&>", UptimeS: 123456.789, Checks: map[string]any{
			"runtime": true, "ledger": false, "inference": "ready", "bridge": nil, "genesis": true, "receipts": true}},
		{Status: "degraded", Version: "v", UptimeS: 1e-9, Checks: map[string]any{"é": "\u2028", "n": 1.5, "list": []string{"a"}}},
	}
}

// TestAppendHealthMatchesEncodingJSON pins the hand-written health encoder against
// encoding/json: same bytes once both are decoded.
func TestAppendHealthMatchesEncodingJSON(t *testing.T) {
	for i, h := range healthSamples() {
		fast, err := appendHealth(nil, &h)
		if err != nil {
			t.Fatalf("sample %d: %v", i, err)
		}
		want, err := json.Marshal(h)
		if err != nil {
			t.Fatal(err)
		}
		var a, b any
		if err := json.Unmarshal(fast, &a); err != nil {
			t.Fatalf("sample %d: fast encoding is not JSON: %v\n%s", i, err, fast)
		}
		if err := json.Unmarshal(want, &b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("sample %d:\n fast %s\n json %s", i, fast, want)
		}
	}
}

// TestAppendHealthAllocBudget: the health document is written without allocating
// (booleans, strings and null checks, as the runtime reports); a change that
// allocates fails here (make test runs it).
func TestAppendHealthAllocBudget(t *testing.T) {
	skipAllocBudgetUnderRace(t)
	h := healthSamples()[2]
	buf := make([]byte, 0, 4096)
	got := testing.AllocsPerRun(200, func() {
		var err error
		if buf, err = appendHealth(buf[:0], &h); err != nil {
			t.Fatal(err)
		}
	})
	if got > 0 {
		t.Errorf("appendHealth allocates %.1f per call; budget 0", got)
	}
}

// budgetHandleHealth is what GET /v1/health allocates in the gateway per request
// (request context, request id), the Core's own Health excluded (the stub's is
// prebuilt). A change that allocates more fails here.
const budgetHandleHealth = 3

// TestHandleHealthAllocBudget: the whole gateway path of GET /v1/health (routing, CORS,
// request id, handler, metrics) within its allocation budget.
func TestHandleHealthAllocBudget(t *testing.T) {
	skipAllocBudgetUnderRace(t)
	h := healthSamples()[2]
	s := newTestServer(t, Options{Core: &stubCore{health: h}})
	var ctx fasthttp.RequestCtx
	got := testing.AllocsPerRun(200, func() {
		ctx.Request.Reset()
		ctx.Response.Reset()
		ctx.Request.SetRequestURI("/v1/health")
		ctx.Request.Header.SetMethod("GET")
		s.handle(&ctx)
		if ctx.Response.StatusCode() != 200 {
			t.Fatalf("status %d", ctx.Response.StatusCode())
		}
	})
	t.Logf("GET /v1/health: %.1f allocations", got)
	if got > budgetHandleHealth {
		t.Errorf("GET /v1/health allocates %.1f per request in the gateway; budget %d", got, budgetHandleHealth)
	}
}
