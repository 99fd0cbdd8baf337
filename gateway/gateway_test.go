package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/bizra/bizra/actors/query"
	"github.com/bizra/bizra/internal/catalog"
)

// fasthttp's worker-pool cleaner sleeps MaxIdleWorkerDuration (10 s) between checks
// of its stop channel, so it outlives Shutdown by up to that long; it is fasthttp's
// goroutine, stopped by Shutdown, not ours. updateServerDate is fasthttp's one
// process-wide Date-header ticker, started with the first server.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"))
}

// stubCore answers queries from a function; it stands in for the runtime where a test
// is about HTTP behaviour only (the end-to-end tests in cmd/bizra use the real one).
type stubCore struct {
	query  func(ctx context.Context, req query.Request) (query.Result, error)
	health Health
	last   atomic.Pointer[query.Request]
}

func (c *stubCore) Query(ctx context.Context, req query.Request) (query.Result, error) {
	c.last.Store(&req)
	if c.query != nil {
		return c.query(ctx, req)
	}
	snr := 0.9
	return query.Result{QueryID: "q-1", Success: true, Response: "ok", SNRScore: &snr, Verdict: query.VerdictApproved,
		Detail: query.Detail{BackendMs: 2}}, nil
}
func (c *stubCore) Health() Health { return c.health }
func (c *stubCore) Status(context.Context) any {
	return map[string]any{"state": map[string]any{"running": true}}
}
func (c *stubCore) WriteMetrics(w io.Writer) {
	io.WriteString(w, "# HELP x X.\n# TYPE x counter\nx 1\n")
}

func startServer(t *testing.T, opts Options) (*Server, string) {
	t.Helper()
	if opts.Core == nil {
		opts.Core = &stubCore{health: Health{Status: "healthy"}}
	}
	opts.Addr = "127.0.0.1:0"
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return s, "http://" + s.Addr()
}

var client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

func do(t *testing.T, method, url, body string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func errCode(t *testing.T, b []byte) string {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("error body %q is not JSON: %v", b, err)
	}
	if e.RequestID == "" || e.Error == "" {
		t.Fatalf("error body %s lacks error or request_id", b)
	}
	return e.Code
}

func TestQueryValidation(t *testing.T) {
	_, base := startServer(t, Options{})
	long := strings.Repeat("a", query.MaxQueryChars+1)
	manyKeys := map[string]int{}
	for i := range query.MaxContextKeys + 1 {
		manyKeys[fmt.Sprint("k", i)] = i
	}
	mk, _ := json.Marshal(map[string]any{"query": "q", "context": manyKeys})
	bigCtx, _ := json.Marshal(map[string]any{"query": "q", "context": map[string]string{"k": strings.Repeat("x", query.MaxContextBytes)}})
	tests := []struct {
		name, body, wantCode, wantField string
		wantStatus                      int
	}{
		{"valid", `{"query":"how do I check bridge health?"}`, "", "", 200},
		{"malformed json", `{"query":`, "INVALID_JSON", "", 400},
		{"empty body", ``, "INVALID_JSON", "", 400},
		{"array body", `[1,2]`, "INVALID_QUERY", "object", 400},
		{"missing query", `{}`, "INVALID_QUERY", "query", 400},
		{"blank query", `{"query":"   "}`, "INVALID_QUERY", "query", 400},
		{"query wrong type", `{"query":5}`, "INVALID_QUERY", "query", 400},
		{"query too long", `{"query":"` + long + `"}`, "INVALID_QUERY", "query", 400},
		{"context not object", `{"query":"q","context":[1]}`, "INVALID_QUERY", "context", 400},
		{"context too many keys", string(mk), "INVALID_QUERY", "context", 400},
		{"context too large", string(bigCtx), "INVALID_QUERY", "context", 400},
		{"reasoning not bool", `{"query":"q","require_reasoning":"yes"}`, "INVALID_QUERY", "require_reasoning", 400},
		{"validation not bool", `{"query":"q","require_validation":1}`, "INVALID_QUERY", "require_validation", 400},
		{"max_depth 0", `{"query":"q","max_depth":0}`, "INVALID_QUERY", "max_depth", 400},
		{"max_depth 11", `{"query":"q","max_depth":11}`, "INVALID_QUERY", "max_depth", 400},
		{"max_depth float", `{"query":"q","max_depth":2.5}`, "INVALID_QUERY", "max_depth", 400},
		{"max_depth huge", `{"query":"q","max_depth":1e300}`, "INVALID_QUERY", "max_depth", 400},
		{"timeout low", `{"query":"q","timeout_ms":999}`, "INVALID_QUERY", "timeout_ms", 400},
		{"timeout high", `{"query":"q","timeout_ms":600001}`, "INVALID_QUERY", "timeout_ms", 400},
		{"user_id long", `{"query":"q","user_id":"` + strings.Repeat("u", 129) + `"}`, "INVALID_QUERY", "user_id", 400},
		{"invalid utf8", "{\"query\":\"\xff\"}", "INVALID_JSON", "", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := do(t, "POST", base+"/v1/query", tt.body, nil)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d; want %d (%s)", resp.StatusCode, tt.wantStatus, b)
			}
			if resp.Header.Get("X-Request-Id") == "" {
				t.Fatal("no X-Request-Id")
			}
			if tt.wantCode == "" {
				if resp.Header.Get("X-Overhead-Ms") == "" {
					t.Fatal("no X-Overhead-Ms on a query response")
				}
				return
			}
			if got := errCode(t, b); got != tt.wantCode {
				t.Fatalf("code %s; want %s (%s)", got, tt.wantCode, b)
			}
			if tt.wantField != "" && !strings.Contains(string(b), tt.wantField) {
				t.Fatalf("error %s does not name %q", b, tt.wantField)
			}
		})
	}
}

func TestQueryDefaultsReachCore(t *testing.T) {
	c := &stubCore{health: Health{Status: "healthy"}}
	_, base := startServer(t, Options{Core: c})
	resp, _ := do(t, "POST", base+"/v1/query", `{"query":"  q  ","max_depth":5,"require_reasoning":false}`, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	got := c.last.Load()
	if got.Query != "q" || got.MaxDepth != 5 || got.RequireReasoning || !got.RequireValidation || got.TimeoutMs != 30000 {
		t.Fatalf("core saw %+v", *got)
	}
}

func TestStatusCodes(t *testing.T) {
	c := &stubCore{health: Health{Status: "healthy"}}
	_, base := startServer(t, Options{Core: c, MaxBodyBytes: 1 << 20})
	tests := []struct {
		name, method, path, body string
		wantStatus               int
		wantCode                 string
	}{
		{"unknown path", "GET", "/v1/nope", "", 404, "NOT_FOUND"},
		{"wrong method", "GET", "/v1/query", "", 405, "METHOD_NOT_ALLOWED"},
		{"too large", "POST", "/v1/query", `{"query":"` + strings.Repeat("x", 1<<20) + `"}`, 413, "PAYLOAD_TOO_LARGE"},
		{"optional route off", "GET", "/v1/sel/verify", "", 503, "UNAVAILABLE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := do(t, tt.method, base+tt.path, tt.body, nil)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d; want %d (%s)", resp.StatusCode, tt.wantStatus, b)
			}
			if got := errCode(t, b); got != tt.wantCode {
				t.Fatalf("code %s; want %s", got, tt.wantCode)
			}
			if tt.wantStatus == 405 && resp.Header.Get("Allow") != "POST" {
				t.Fatalf("Allow %q; want POST", resp.Header.Get("Allow"))
			}
		})
	}
}

func TestCoreErrorsMapThroughCatalog(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantCode   string
		retry      bool
	}{
		{"overloaded", query.ErrOverloaded, 503, "OVERLOADED", true},
		{"timeout", query.ErrTimeout, 504, "TIMEOUT", false},
		{"internal text hidden", errors.New("open /etc/shadow: permission denied"), 500, "INTERNAL", false},
		{"detail kept", catalog.WithDetail(query.ErrInvalidQuery, "max_depth: must be 1..10"), 400, "INVALID_QUERY", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &stubCore{health: Health{Status: "healthy"}, query: func(context.Context, query.Request) (query.Result, error) {
				return query.Result{}, tt.err
			}}
			_, base := startServer(t, Options{Core: c})
			resp, b := do(t, "POST", base+"/v1/query", `{"query":"q"}`, nil)
			if resp.StatusCode != tt.wantStatus || errCode(t, b) != tt.wantCode {
				t.Fatalf("got %d %s; want %d %s", resp.StatusCode, b, tt.wantStatus, tt.wantCode)
			}
			if strings.Contains(string(b), "shadow") {
				t.Fatalf("internal error text leaked: %s", b)
			}
			if tt.retry && resp.Header.Get("Retry-After") == "" {
				t.Fatal("503 without Retry-After")
			}
		})
	}
}

func TestHealthStatusCodes(t *testing.T) {
	for _, tt := range []struct {
		status string
		want   int
	}{{"healthy", 200}, {"degraded", 200}, {"unhealthy", 503}, {"starting", 503}, {"stopping", 503}} {
		t.Run(tt.status, func(t *testing.T) {
			_, base := startServer(t, Options{Core: &stubCore{health: Health{Status: tt.status}}})
			resp, b := do(t, "GET", base+"/v1/health", "", nil)
			if resp.StatusCode != tt.want || !bytes.Contains(b, []byte(tt.status)) {
				t.Fatalf("got %d %s; want %d", resp.StatusCode, b, tt.want)
			}
		})
	}
}

func TestAPIKeys(t *testing.T) {
	c := &stubCore{health: Health{Status: "healthy"}}
	_, base := startServer(t, Options{Core: c, APIKeys: []string{"k-one", "k-two"}})
	tests := []struct {
		name   string
		path   string
		hdr    map[string]string
		status int
	}{
		{"health open", "/v1/health", nil, 200},
		{"status needs key", "/v1/status", nil, 401},
		{"wrong key", "/v1/status", map[string]string{"X-API-Key": "nope"}, 401},
		{"x-api-key", "/v1/status", map[string]string{"X-API-Key": "k-two"}, 200},
		{"bearer", "/v1/status", map[string]string{"Authorization": "Bearer k-one"}, 200},
		{"bearer wrong", "/v1/status", map[string]string{"Authorization": "Bearer k-three"}, 401},
		{"basic is not bearer", "/v1/status", map[string]string{"Authorization": "Basic k-one"}, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := do(t, "GET", base+tt.path, "", tt.hdr)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d; want %d (%s)", resp.StatusCode, tt.status, b)
			}
			if tt.status == 401 && errCode(t, b) != "UNAUTHORIZED" {
				t.Fatalf("code in %s; want UNAUTHORIZED", b)
			}
		})
	}
	// user_id defaults to the key's id.
	do(t, "POST", base+"/v1/query", `{"query":"q"}`, map[string]string{"X-API-Key": "k-one"})
	if got := c.last.Load().UserID; !strings.HasPrefix(got, "key-") {
		t.Fatalf("user_id %q; want the key's id", got)
	}
}

func TestRateLimit(t *testing.T) {
	_, base := startServer(t, Options{RatePerSec: 1, Burst: 3})
	var codes []int
	for range 5 {
		resp, b := do(t, "GET", base+"/v1/status", "", nil)
		codes = append(codes, resp.StatusCode)
		if resp.StatusCode == 429 {
			if resp.Header.Get("Retry-After") == "" || errCode(t, b) != "RATE_LIMITED" {
				t.Fatalf("429 without Retry-After or code: %s", b)
			}
		}
	}
	if fmt.Sprint(codes) != "[200 200 200 429 429]" {
		t.Fatalf("codes %v; want 3 allowed then 429s", codes)
	}
}

func TestCORS(t *testing.T) {
	_, base := startServer(t, Options{CORSOrigins: []string{"https://app.example"}})
	resp, _ := do(t, "GET", base+"/v1/health", "", map[string]string{"Origin": "https://app.example"})
	if resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Fatal("allowed origin not echoed")
	}
	resp, _ = do(t, "GET", base+"/v1/health", "", map[string]string{"Origin": "https://evil.example"})
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("disallowed origin got CORS headers")
	}
	resp, _ = do(t, "OPTIONS", base+"/v1/query", "", map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "POST"})
	if resp.StatusCode != 204 || !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST") {
		t.Fatalf("preflight %d %v", resp.StatusCode, resp.Header)
	}
}

func TestRequestID(t *testing.T) {
	_, base := startServer(t, Options{})
	resp, _ := do(t, "GET", base+"/v1/health", "", map[string]string{"X-Request-Id": "abc-123"})
	if resp.Header.Get("X-Request-Id") != "abc-123" {
		t.Fatal("sane request id not kept")
	}
	resp, _ = do(t, "GET", base+"/v1/health", "", map[string]string{"X-Request-Id": "bad id with spaces"})
	if got := resp.Header.Get("X-Request-Id"); got == "" || strings.Contains(got, " ") {
		t.Fatalf("insane request id kept or missing: %q", got)
	}
}

func TestMetricsContentType(t *testing.T) {
	_, base := startServer(t, Options{})
	resp, b := do(t, "GET", base+"/v1/metrics", "", nil)
	if resp.Header.Get("Content-Type") != "text/plain; version=0.0.4; charset=utf-8" || !bytes.HasSuffix(b, []byte("\n")) {
		t.Fatalf("content type %q body %q", resp.Header.Get("Content-Type"), b)
	}
}

func TestShutdownIdempotentAndConcurrentQueries(t *testing.T) {
	s, base := startServer(t, Options{})
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			resp, err := client.Post(base+"/v1/query", "application/json", strings.NewReader(`{"query":"q"}`))
			if err == nil {
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("second shutdown: %v", err)
	}
}

func TestPortInUse(t *testing.T) {
	s, _ := startServer(t, Options{})
	s2, err := New(Options{Core: &stubCore{}, Addr: s.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	err = s2.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), s.Addr()) {
		t.Fatalf("err = %v; want a listen error naming %s", err, s.Addr())
	}
}

func FuzzDecodeQuery(f *testing.F) {
	for _, s := range []string{`{"query":"q"}`, `{"query":"q","context":{"a":[1,{"b":null}]},"max_depth":3}`,
		`{"query":5}`, `[]`, `{`, `{"query":"q","timeout_ms":1e309}`, "{\"query\":\"\xff\"}", `{"query":"\u0000"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := DecodeQuery(b)
		if err != nil {
			if p := catalog.Lookup(err); p.HTTP != 400 {
				t.Fatalf("decode error %v maps to %d; want 400", err, p.HTTP)
			}
			return
		}
		if verr := query.Validate(&req); verr != nil {
			t.Fatalf("decoded request fails core validation: %v (%+v)", verr, req)
		}
	})
}
