package gateway

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/bizra/bizra/actors/query"
	"github.com/bizra/bizra/internal/tracing"
)

// lines returns the JSON records whose msg is msg.
func (s *syncBuffer) lines(t *testing.T, msg string) []map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(s.b.Bytes()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", sc.Text(), err)
		}
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

const clientTrace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

// TestAccessLog: one JSON line per request with the route pattern (not the raw
// path), status, duration in ms, sizes, key id and remote address; none when off.
func TestAccessLog(t *testing.T) {
	var sink syncBuffer
	log := slog.New(slog.NewJSONHandler(&sink, nil))
	_, base := startServer(t, Options{Logger: log, AccessLog: true, APIKeys: []string{"k-one"}})
	tests := []struct {
		name, method, path, body string
		hdr                      map[string]string
		route                    string
		status                   int
		keyID                    bool
		trace                    string
	}{
		{"query", "POST", "/v1/query", `{"query":"q"}`, map[string]string{"X-API-Key": "k-one", "traceparent": clientTrace, "X-Request-Id": "req-query"}, "/v1/query", 200, true, "4bf92f3577b34da6a3ce929d0e0e4736"},
		{"pattern not path", "GET", "/v1/sel/episodes/abc123", "", map[string]string{"X-API-Key": "k-one", "X-Request-Id": "req-pattern"}, "/v1/sel/episodes/{hash}", 503, true, ""},
		{"unauthorized", "GET", "/v1/status", "", map[string]string{"X-Request-Id": "req-401"}, "/v1/status", 401, false, ""},
		{"not found", "GET", "/nope/secret-id", "", map[string]string{"X-API-Key": "k-one", "X-Request-Id": "req-404"}, "other", 404, true, ""},
		{"health", "GET", "/v1/health", "", map[string]string{"X-Request-Id": "req-health", "traceparent": "00-bad"}, "/v1/health", 200, false, ""},
		{"metrics alias", "GET", "/metrics", "", map[string]string{"X-API-Key": "k-one", "X-Request-Id": "req-metrics"}, "/metrics", 200, true, ""},
	}
	for _, tt := range tests {
		resp, b := do(t, tt.method, base+tt.path, tt.body, tt.hdr)
		if resp.StatusCode != tt.status {
			t.Fatalf("%s: status %d, want %d (%s)", tt.name, resp.StatusCode, tt.status, b)
		}
	}
	lines := sink.lines(t, "access")
	byID := map[string]map[string]any{}
	for _, l := range lines {
		byID[l["req_id"].(string)] = l
	}
	if len(lines) != len(tests) {
		t.Fatalf("%d access lines for %d requests: %v", len(lines), len(tests), lines)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := byID[tt.hdr["X-Request-Id"]]
			if l == nil {
				t.Fatalf("no access line for %s", tt.hdr["X-Request-Id"])
			}
			if l["level"] != "INFO" || l["component"] != "access" || l["method"] != tt.method || l["route"] != tt.route ||
				l["status"] != float64(tt.status) {
				t.Errorf("line %v", l)
			}
			if d, ok := l["duration_ms"].(float64); !ok || d <= 0 || d > 10_000 {
				t.Errorf("duration_ms %v: want a float of milliseconds", l["duration_ms"])
			}
			if l["bytes_in"] != float64(len(tt.body)) {
				t.Errorf("bytes_in %v, want %d", l["bytes_in"], len(tt.body))
			}
			if n, ok := l["bytes_out"].(float64); !ok || n <= 0 {
				t.Errorf("bytes_out %v", l["bytes_out"])
			}
			if _, has := l["key_id"]; has != tt.keyID {
				t.Errorf("key_id %v, want present=%v", l["key_id"], tt.keyID)
			} else if has && !strings.HasPrefix(l["key_id"].(string), "key-") {
				t.Errorf("key_id %v is not the key's public id", l["key_id"])
			}
			if r, _ := l["remote"].(string); !strings.HasPrefix(r, "127.0.0.1:") {
				t.Errorf("remote %v", l["remote"])
			}
			if got, _ := l["trace_id"].(string); got != tt.trace {
				t.Errorf("trace_id %q, want %q", got, tt.trace)
			}
			if strings.Contains(l["route"].(string), "secret-id") || strings.Contains(l["route"].(string), "abc123") {
				t.Errorf("raw path logged: %v", l["route"])
			}
		})
	}
	for _, l := range sink.lines(t, "access") {
		for k := range l {
			if k == "k-one" || strings.Contains(toJSON(l), "k-one") {
				t.Fatalf("the API key itself was logged: %v", l)
			}
		}
	}

	var off syncBuffer
	_, base2 := startServer(t, Options{Logger: slog.New(slog.NewJSONHandler(&off, nil))})
	do(t, "GET", base2+"/v1/health", "", nil)
	if n := len(off.lines(t, "access")); n != 0 {
		t.Errorf("AccessLog off wrote %d access lines", n)
	}
}

func toJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestMetricsAlias: /metrics serves what /v1/metrics serves, behind the same key.
func TestMetricsAlias(t *testing.T) {
	_, base := startServer(t, Options{APIKeys: []string{"k-one"}})
	for _, path := range []string{"/v1/metrics", "/metrics"} {
		resp, _ := do(t, "GET", base+path, "", nil)
		if resp.StatusCode != 401 {
			t.Errorf("%s without a key: %d, want 401", path, resp.StatusCode)
		}
	}
	_, a := do(t, "GET", base+"/v1/metrics", "", map[string]string{"X-API-Key": "k-one"})
	resp, b := do(t, "GET", base+"/metrics", "", map[string]string{"Authorization": "Bearer k-one"})
	if resp.StatusCode != 200 || !bytes.Equal(a, b) || len(b) == 0 {
		t.Fatalf("/metrics %d %q; /v1/metrics %q", resp.StatusCode, b, a)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("content type %q", ct)
	}
}

// TestQueryCarriesTraceparent: a valid traceparent reaches the core in the query's
// context; an invalid one is ignored (W3C: restart the trace), not refused.
func TestQueryCarriesTraceparent(t *testing.T) {
	var got sync.Map
	c := &stubCore{health: Health{Status: "healthy"}}
	c.query = func(ctx context.Context, req query.Request) (query.Result, error) {
		p, ok := tracing.FromContext(ctx)
		got.Store(req.Query, p.String()+"|"+map[bool]string{true: "yes", false: "no"}[ok])
		return query.Result{QueryID: "q-1", Success: true, Response: "ok"}, nil
	}
	_, base := startServer(t, Options{Core: c})
	tests := []struct{ name, header, want string }{
		{"valid", clientTrace, clientTrace + "|yes"},
		{"absent", "", "|no"},
		{"uppercase is invalid", strings.ToUpper(clientTrace), "|no"},
		{"all-zero trace id", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "|no"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := map[string]string{}
			if tt.header != "" {
				hdr["traceparent"] = tt.header
			}
			resp, b := do(t, "POST", base+"/v1/query", `{"query":"`+tt.name+`"}`, hdr)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d %s", resp.StatusCode, b)
			}
			v, _ := got.Load(tt.name)
			if v != tt.want {
				t.Errorf("core saw %v, want %q", v, tt.want)
			}
		})
	}
}

// accessBudget is the allocation budget of one access-log line into a JSON handler:
// slog's record keeps 5 attributes inline and the rest in one slice, the remote
// address's text, and one inside slog's JSON handler.
const accessBudget = 3

// TestAccessLogAllocBudget: writing the access line stays within its budget, and the
// off path allocates nothing.
func TestAccessLogAllocBudget(t *testing.T) {
	skipAllocBudgetUnderRace(t)
	for _, tt := range []struct {
		name   string
		on     bool
		budget float64
	}{{"off", false, 0}, {"on", true, accessBudget}} {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t, Options{AccessLog: tt.on, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
			var ctx fasthttp.RequestCtx
			var req fasthttp.Request
			req.Header.SetMethod("POST")
			req.SetRequestURI("/v1/query")
			req.SetBody([]byte(`{"query":"q"}`))
			ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}, nil)
			rc := &reqCtx{RequestCtx: &ctx, id: "req-1", route: s.routes.notFound}
			ctx.Response.SetBodyString(`{"ok":true}`)
			got := testing.AllocsPerRun(200, func() { s.accessLog(rc) })
			t.Logf("access log %s: %.1f allocations", tt.name, got)
			if got > tt.budget {
				t.Errorf("access log %s allocates %.1f per request; budget %.0f", tt.name, got, tt.budget)
			}
		})
	}
}

// BenchmarkHandleQueryAccessLog: the in-process handler chain of BenchmarkHandleQuery
// with the access log off and on (JSON handler into io.Discard: the line's encoding,
// not the write to stderr). The difference is the access log's cost per request.
func BenchmarkHandleQueryAccessLog(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := map[bool]string{false: "off", true: "on"}[on]
		b.Run(name, func(b *testing.B) {
			s := newTestServer(b, Options{AccessLog: on, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
			body := []byte(`{"query":"how do I check bridge health?"}`)
			addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
			var req fasthttp.Request
			req.Header.SetMethod("POST")
			req.SetRequestURI("/v1/query")
			req.SetBody(body)
			var ctx fasthttp.RequestCtx
			b.ReportAllocs()
			for b.Loop() {
				ctx.Init(&req, addr, nil)
				s.handle(&ctx)
				if ctx.Response.StatusCode() != 200 {
					b.Fatalf("status %d", ctx.Response.StatusCode())
				}
			}
		})
	}
}

// BenchmarkAccessLine: one access line alone (JSON handler into io.Discard), "off"
// being the disabled branch.
func BenchmarkAccessLine(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := map[bool]string{false: "off", true: "on"}[on]
		b.Run(name, func(b *testing.B) {
			s := newTestServer(b, Options{AccessLog: on, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
			var ctx fasthttp.RequestCtx
			var req fasthttp.Request
			req.Header.SetMethod("POST")
			req.SetRequestURI("/v1/query")
			req.SetBody([]byte(`{"query":"q"}`))
			ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}, nil)
			ctx.Response.SetBodyString(`{"ok":true}`)
			rc := &reqCtx{RequestCtx: &ctx, id: "req-1", route: s.routes.notFound}
			b.ReportAllocs()
			for b.Loop() {
				s.accessLog(rc)
			}
		})
	}
}
