package gateway

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/valyala/fasthttp"

	"github.com/bizra/bizra/actors/query"
)

// documentedRoutes are the route patterns of api.md and the console's two (the page
// and its assets, gateway/console). TestFaultRoutesDocumented checks the router serves
// exactly these, so the matrices below cover every route.
var documentedRoutes = []struct {
	pattern, sample string // sample: the pattern with its parameter filled in
	methods         []string
}{
	{"/", "/", []string{"GET", "HEAD"}},
	{"/console/{file}", "/console/app.js", []string{"GET", "HEAD"}},
	{"/v1/health", "/v1/health", []string{"GET", "HEAD"}},
	{"/v1/status", "/v1/status", []string{"GET", "HEAD"}},
	{"/v1/metrics", "/v1/metrics", []string{"GET", "HEAD"}},
	{"/metrics", "/metrics", []string{"GET", "HEAD"}},
	{"/v1/query", "/v1/query", []string{"POST"}},
	{"/v1/artifacts/graph/{id}", "/v1/artifacts/graph/q-1", []string{"GET", "HEAD"}},
	{"/v1/sel/episodes", "/v1/sel/episodes", []string{"GET", "HEAD"}},
	{"/v1/sel/episodes/{hash}", "/v1/sel/episodes/abc", []string{"GET", "HEAD"}},
	{"/v1/sel/retrieve", "/v1/sel/retrieve", []string{"POST"}},
	{"/v1/sel/verify", "/v1/sel/verify", []string{"GET", "HEAD"}},
	{"/v1/receipts/{id}", "/v1/receipts/r-1", []string{"GET", "HEAD"}},
	{"/v1/verify/receipt", "/v1/verify/receipt", []string{"POST"}},
	{"/v1/verify/genesis", "/v1/verify/genesis", []string{"POST"}},
	{"/v1/verify/genesis/header", "/v1/verify/genesis/header", []string{"GET", "HEAD"}},
	{"/v1/skills", "/v1/skills", []string{"GET", "HEAD"}},
	{"/v1/skills/{name}/invoke", "/v1/skills/echo/invoke", []string{"POST"}},
	{"/v1/chat/completions", "/v1/chat/completions", []string{"POST"}},
	{"/v1/models", "/v1/models", []string{"GET", "HEAD"}},
	{"/v1/models/{id}", "/v1/models/m-1", []string{"GET", "HEAD"}},
	{"/v1/embeddings", "/v1/embeddings", []string{"POST"}},
	{"/v1/completions", "/v1/completions", []string{"POST"}},
	{"/v1/responses", "/v1/responses", []string{"POST"}},
}

// routerOddities are paths that once panicked router.match or that a client may send
// to confuse it: overlapping prefix and suffix, empty and dotted segments, percent
// encoding, NUL, traversal, a trailing slash and a very long path.
var routerOddities = []string{
	"/v1/skills/invoke", "/v1/skills//invoke", "/v1/./skills/invoke", "/v1/skills/%69nvoke",
	"/v1/skills/%2Finvoke", "/v1/skills/a/b/invoke", "/v1/skills/", "/v1/skills/invoke/",
	"/v1/skills/.invoke", "/v1/skills/ainvoke", "/v1//skills/x/invoke", "/v1/receipts/", "/v1/receipts//",
	"/v1/receipts/%00", "/v1/receipts/a%00b", "/v1/artifacts/graph/", "/v1/artifacts/graph/../../health",
	"/v1/sel/episodes/", "/v1/sel/episodes/../verify", "/v1/../v1/health", "/v1/health/", "//v1/health",
	"/v1/%68ealth", "/", "", "*", "/v1", "/v1/", "/v1/query/", "/v1/query?x=%zz",
	"/" + strings.Repeat("a", 3000), "/v1/receipts/" + strings.Repeat("r", 3000),
	"/v1/receipts/" + strings.Repeat("r", 5000), // past the header buffer
	"/v1/receipts/a\x00b",                       // a raw NUL in the request line
}

func newTestServer(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Core == nil {
		opts.Core = &stubCore{health: Health{Status: "healthy"}}
	}
	opts.Addr = "127.0.0.1:0"
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFaultRoutesDocumented(t *testing.T) {
	s := newTestServer(t, Options{})
	var got []string
	for p := range s.routes.exact {
		got = append(got, p)
	}
	for _, p := range s.routes.prefixes {
		got = append(got, p.r.name)
	}
	var want []string
	for _, r := range documentedRoutes {
		want = append(want, r.pattern)
		m, _ := s.routes.match(r.sample)
		if m == nil || m.name != r.pattern {
			t.Errorf("%s does not match %s", r.sample, r.pattern)
			continue
		}
		var methods []string
		for k := range m.methods {
			methods = append(methods, k)
		}
		slices.Sort(methods)
		if !slices.Equal(methods, r.methods) {
			t.Errorf("%s serves %v; want %v", r.pattern, methods, r.methods)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("router serves %v;\napi.md documents %v", got, want)
	}
}

func TestFaultRouterMatch(t *testing.T) {
	s := newTestServer(t, Options{})
	tests := []struct {
		path, route, param string // route "" means no match
	}{
		{"/v1/skills/invoke", "", ""},
		{"/v1/skills//invoke", "", ""},
		{"/v1/./skills/invoke", "", ""},
		{"/v1/skills/%69nvoke", "", ""},
		{"/v1/skills/a/b/invoke", "", ""},
		{"/v1/skills/x/invoke", "/v1/skills/{name}/invoke", "x"},
		{"/v1/skills/invoke/invoke", "/v1/skills/{name}/invoke", "invoke"},
		{"/v1/skills/%69nvoke/invoke", "/v1/skills/{name}/invoke", "%69nvoke"},
		{"/v1/skills", "/v1/skills", ""},
		{"/v1/skills/", "", ""},
		{"/v1/receipts/", "", ""},
		{"/v1/receipts/r-1", "/v1/receipts/{id}", "r-1"},
		{"/v1/receipts/a/b", "", ""},
		{"/v1/sel/episodes/h", "/v1/sel/episodes/{hash}", "h"},
		{"/v1/sel/episodes", "/v1/sel/episodes", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r, param := s.routes.match(tt.path)
			name := ""
			if r != nil {
				name = r.name
			}
			if name != tt.route || param != tt.param {
				t.Fatalf("match(%q) = %q, %q; want %q, %q", tt.path, name, param, tt.route, tt.param)
			}
		})
	}
}

// FuzzRouterMatch drives router.match with every route pattern and arbitrary paths:
// it never panics, an exact route matches only its own path, and a parameter is
// non-empty, slash-free, and rebuilds the path with its route's prefix and suffix.
func FuzzRouterMatch(f *testing.F) {
	s := newTestServer(f, Options{})
	rt := s.routes
	for _, r := range documentedRoutes {
		f.Add(r.pattern)
		f.Add(r.sample)
	}
	for _, p := range routerOddities {
		f.Add(p)
	}
	for _, p := range rt.prefixes {
		// Overlapping prefix and suffix, and each one alone.
		f.Add(p.prefix + strings.TrimPrefix(p.suffix, "/"))
		f.Add(strings.TrimSuffix(p.prefix, "/") + p.suffix)
		f.Add(p.prefix)
		f.Add(p.suffix)
		f.Add(p.prefix + p.suffix)
		f.Add(p.prefix[:len(p.prefix)-1])
	}
	prefixOf := map[*route]prefixRoute{}
	for _, p := range rt.prefixes {
		prefixOf[p.r] = p
	}
	f.Fuzz(func(t *testing.T, path string) {
		r, param := rt.match(path)
		if r == nil {
			if param != "" {
				t.Fatalf("no route but param %q", param)
			}
			return
		}
		p, isPrefix := prefixOf[r]
		if !isPrefix {
			if r.name != path || param != "" {
				t.Fatalf("exact route %s matched %q (param %q)", r.name, path, param)
			}
			return
		}
		if param == "" || strings.Contains(param, "/") {
			t.Fatalf("route %s: bad param %q for %q", r.name, param, path)
		}
		if p.prefix+param+p.suffix != path {
			t.Fatalf("route %s: %q + %q + %q != %q", r.name, p.prefix, param, p.suffix, path)
		}
	})
}

// routeFakes back every optional route; each answers a small constant document.
type routeFakes struct {
	panicOn string // a route name whose backing method panics
}

func (f *routeFakes) maybePanic(name string) {
	if f.panicOn == name {
		panic("injected panic in " + name + " /secret/path")
	}
}

func (f *routeFakes) Episodes(limit, offset int) (any, error) {
	f.maybePanic("episodes")
	return map[string]any{"total": 0, "count": 0, "episodes": []any{}}, nil
}
func (f *routeFakes) Episode(hash string) (any, error) {
	f.maybePanic("episode")
	return nil, withDetail(ErrNotFound, "no such episode")
}
func (f *routeFakes) Retrieve(q string, k int) (any, error) {
	f.maybePanic("retrieve")
	return map[string]any{"query": q, "top_k": k, "count": 0, "results": []any{}}, nil
}
func (f *routeFakes) Verify() any { f.maybePanic("verify"); return map[string]any{"valid": true} }
func (f *routeFakes) Receipt(id string) (json.RawMessage, error) {
	f.maybePanic("receipt")
	return json.RawMessage(`{"receipt_id":"r-1"}`), nil
}
func (f *routeFakes) VerifyReceipt(body []byte) any {
	f.maybePanic("verify_receipt")
	return map[string]any{"valid": false, "reason": "fake"}
}
func (f *routeFakes) VerifyGenesis(body []byte) (any, error) {
	f.maybePanic("verify_genesis")
	return map[string]any{"valid": false}, nil
}
func (f *routeFakes) GenesisHeader() (any, bool) {
	f.maybePanic("genesis_header")
	return map[string]any{"valid": true}, true
}
func (f *routeFakes) ListSkills(ctx context.Context, filter string) (any, error) {
	f.maybePanic("skills")
	return map[string]any{"skills": []any{}, "count": 0}, nil
}
func (f *routeFakes) InvokeSkill(ctx context.Context, name string, inputs map[string]any) (any, error) {
	f.maybePanic("invoke")
	return map[string]any{"success": true, "skill_name": name}, nil
}

// fakeOpenAI stands in for gateway/openai (which imports this package): it answers
// and renders errors in OpenAI's {"error":{"message","type","code"}} shape.
type fakeOpenAI struct{ f *routeFakes }

func (o fakeOpenAI) ChatCompletions(ctx *fasthttp.RequestCtx, userID string) {
	o.f.maybePanic("chat")
	ctx.SetContentType("application/json")
	ctx.SetBodyString(`{"id":"c-1","object":"chat.completion"}`)
}
func (o fakeOpenAI) Models(ctx *fasthttp.RequestCtx) {
	o.f.maybePanic("models")
	ctx.SetContentType("application/json")
	ctx.SetBodyString(`{"object":"list","data":[]}`)
}
func (o fakeOpenAI) Embeddings(ctx *fasthttp.RequestCtx, userID string) {
	o.f.maybePanic("embeddings")
	ctx.SetContentType("application/json")
	ctx.SetBodyString(`{"object":"list","data":[]}`)
}
func (o fakeOpenAI) Completions(ctx *fasthttp.RequestCtx, userID string) {
	o.f.maybePanic("completions")
	ctx.SetContentType("application/json")
	ctx.SetBodyString(`{"id":"c-1","object":"text_completion"}`)
}
func (o fakeOpenAI) Responses(ctx *fasthttp.RequestCtx, userID string) {
	o.f.maybePanic("responses")
	ctx.SetContentType("application/json")
	ctx.SetBodyString(`{"id":"resp-1","object":"response"}`)
}
func (o fakeOpenAI) Model(ctx *fasthttp.RequestCtx, id string) {
	o.f.maybePanic("model")
	ctx.SetContentType("application/json")
	ctx.SetBodyString(`{"id":"m-1","object":"model"}`)
}
func (o fakeOpenAI) RenderError(ctx *fasthttp.RequestCtx, status int, code, message string) bool {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": message, "type": "fake_error", "code": strings.ToLower(code)}})
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.SetBody(b)
	return true
}

func allRoutes(f *routeFakes) Extra {
	return Extra{
		Artifacts: func(id string) ([]byte, bool) {
			f.maybePanic("artifact")
			return []byte(`{"graph_hash":"x"}`), id == "q-1"
		},
		Ledger: f, Receipts: f, Genesis: f, Skills: f, OpenAI: fakeOpenAI{f},
	}
}

// rawResponse is one answer read off a raw connection.
type rawResponse struct {
	status int
	header http.Header
	body   []byte
}

// rawDo sends one request exactly as given (any method, any path bytes) on a fresh
// connection and reads the answer.
func rawDo(t testing.TB, addr, method, path string, hdr map[string]string, body []byte) rawResponse {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n", method, path)
	for k, v := range hdr {
		fmt.Fprintf(&b, "%s: %s\r\n", k, v)
	}
	if body != nil {
		fmt.Fprintf(&b, "Content-Type: application/json\r\nContent-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.Write(body)
	if _, err := c.Write(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("%s %q: reading the answer: %v", method, path, err)
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %q: reading the body: %v", method, path, err)
	}
	return rawResponse{status: resp.StatusCode, header: resp.Header, body: rb}
}

// checkShape asserts a well-formed answer: a status, X-Request-Id, and for an error
// with a body the api.md error shape naming the same request id (OpenAI's shape on
// the OpenAI paths).
func checkShape(t *testing.T, what string, r rawResponse, openAI bool) {
	t.Helper()
	id := r.header.Get("X-Request-Id")
	if r.status < 200 || r.status > 599 || id == "" {
		t.Fatalf("%s: status %d, X-Request-Id %q", what, r.status, id)
	}
	if r.status < 400 || len(r.body) == 0 {
		return
	}
	if openAI {
		var e struct {
			Error struct{ Message, Code string } `json:"error"`
		}
		if err := json.Unmarshal(r.body, &e); err != nil || e.Error.Message == "" || e.Error.Code == "" {
			t.Fatalf("%s: %d body %q is not the OpenAI error shape", what, r.status, r.body)
		}
		return
	}
	var e errorBody
	if err := json.Unmarshal(r.body, &e); err != nil || e.Error == "" || e.Code == "" || e.RequestID != id {
		t.Fatalf("%s: %d body %q is not the error shape with request id %s", what, r.status, r.body, id)
	}
}

// normalised is the path the server routes: fasthttp removes "." and empty segments
// and decodes percent escapes.
func normalised(path string) []byte {
	var u fasthttp.URI
	if err := u.Parse(nil, []byte(path)); err != nil {
		return nil
	}
	return u.Path()
}

var matrixMethods = []string{"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "BREW"}

// matrixPaths is every documented route (pattern and sample) and every oddity.
func matrixPaths() []string {
	var paths []string
	for _, r := range documentedRoutes {
		if !strings.HasPrefix(r.sample, "/v1/") {
			// the console's page and assets: the same variants at the root
			paths = append(paths, r.pattern, r.sample, r.sample+"/", "/."+r.sample, "/"+r.sample)
			if len(r.sample) > 1 {
				paths = append(paths, "/%"+fmt.Sprintf("%02x", r.sample[1])+r.sample[2:])
			}
			continue
		}
		paths = append(paths, r.pattern, r.sample, r.sample+"/", "/v1/."+strings.TrimPrefix(r.sample, "/v1"),
			strings.Replace(r.sample, "/v1/", "/v1//", 1), "/v1/%"+fmt.Sprintf("%02x", r.sample[4])+r.sample[5:])
	}
	return append(paths, routerOddities...)
}

// TestFaultRoutesMatrix sends every documented route and oddity with every method to
// a real Server (every optional route backed) and asserts each answer is well formed
// and that the server still answers /v1/health after it.
func TestFaultRoutesMatrix(t *testing.T) {
	set := metrics.NewSet()
	s, _ := startServer(t, Options{Metrics: set, Routes: allRoutes(&routeFakes{})})
	addr := s.Addr()
	n := 0
	for _, path := range matrixPaths() {
		for _, m := range matrixMethods {
			var body []byte
			if m == "POST" || m == "PUT" || m == "PATCH" {
				body = []byte(`{"query":"q","inputs":{}}`)
			}
			what := m + " " + path
			wire := path
			if wire == "" {
				wire = "/"
			}
			r := rawDo(t, addr, m, wire, nil, body)
			if r.status >= 500 {
				t.Fatalf("%s: status %d (%s)", what, r.status, r.body)
			}
			checkShape(t, what, r, s.isOpenAIPath(normalised(path)))
			if h := rawDo(t, addr, "GET", "/v1/health", nil, nil); h.status != 200 {
				t.Fatalf("after %s: health %d", what, h.status)
			}
			n++
		}
	}
	if got := set.GetOrCreateCounter(`sovereign_panics_total{component="gateway"}`).Get(); got != 0 {
		t.Fatalf("%d panics recovered over the matrix", got)
	}
	t.Logf("%d requests, server alive after each", n)
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestFaultHandlerPanics injects a panic into each kind of handler: the client gets
// 500 INTERNAL with its request id (OpenAI's shape on the OpenAI paths), the stack is
// logged once, the counter counts it, and the next request is served.
func TestFaultHandlerPanics(t *testing.T) {
	tests := []struct {
		name, panicOn, method, path, body string
		openAI                            bool
	}{
		{"core status", "", "GET", "/v1/status", "", false},
		{"core query", "", "POST", "/v1/query", `{"query":"q"}`, false},
		{"ledger", "episodes", "GET", "/v1/sel/episodes", "", false},
		{"ledger head", "verify", "HEAD", "/v1/sel/verify", "", false},
		{"receipts", "receipt", "GET", "/v1/receipts/r-1", "", false},
		{"skill invoke", "invoke", "POST", "/v1/skills/echo/invoke", `{"inputs":{}}`, false},
		{"artifact", "artifact", "GET", "/v1/artifacts/graph/q-1", "", false},
		{"openai chat", "chat", "POST", "/v1/chat/completions", `{"model":"bizra"}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := metrics.NewSet()
			logs := &syncBuffer{}
			core := &stubCore{health: Health{Status: "healthy"}}
			if tt.panicOn == "" {
				core.query = func(context.Context, query.Request) (query.Result, error) { panic("injected /secret/path") }
			}
			opts := Options{Metrics: set, Logger: slog.New(slog.NewJSONHandler(logs, nil)),
				Routes: allRoutes(&routeFakes{panicOn: tt.panicOn}), CORSOrigins: []string{"https://app.example"}}
			if tt.panicOn == "" && tt.path == "/v1/status" {
				opts.Core = panicStatusCore{core}
			} else {
				opts.Core = core
			}
			s, _ := startServer(t, opts)
			var body []byte
			if tt.body != "" {
				body = []byte(tt.body)
			}
			r := rawDo(t, s.Addr(), tt.method, tt.path, map[string]string{"X-Request-Id": "panic-req-1", "Origin": "https://app.example"}, body)
			if r.status != 500 || r.header.Get("X-Request-Id") != "panic-req-1" {
				t.Fatalf("status %d, request id %q; want 500, panic-req-1", r.status, r.header.Get("X-Request-Id"))
			}
			if r.header.Get("Access-Control-Allow-Origin") != "https://app.example" {
				t.Fatalf("the 500 lost its CORS headers: %v", r.header)
			}
			if tt.method == "HEAD" {
				if len(r.body) != 0 {
					t.Fatalf("HEAD answered a body %q", r.body)
				}
			} else {
				checkShape(t, tt.name, r, tt.openAI)
				if !tt.openAI && errCode(t, r.body) != "INTERNAL" {
					t.Fatalf("code in %s; want INTERNAL", r.body)
				}
				if !tt.openAI && !bytes.Contains(r.body, []byte(`"request_id":"panic-req-1"`)) {
					t.Fatalf("body %s lacks the request id", r.body)
				}
				if bytes.Contains(r.body, []byte("secret")) {
					t.Fatalf("panic text leaked: %s", r.body)
				}
			}
			if got := set.GetOrCreateCounter(`sovereign_panics_total{component="gateway"}`).Get(); got != 1 {
				t.Fatalf("sovereign_panics_total = %d; want 1", got)
			}
			if n := strings.Count(logs.String(), `"msg":"panic in http handler"`); n != 1 {
				t.Fatalf("%d panic log lines; want 1:\n%s", n, logs)
			}
			if !strings.Contains(logs.String(), "runtime/debug.Stack") && !strings.Contains(logs.String(), "goroutine ") {
				t.Fatalf("the panic log has no stack:\n%s", logs)
			}
			if h := rawDo(t, s.Addr(), "GET", "/v1/health", nil, nil); h.status != 200 {
				t.Fatalf("next request: health %d", h.status)
			}
			var buf bytes.Buffer
			set.WritePrometheus(&buf)
			if !strings.Contains(buf.String(), `code="500"`) {
				t.Fatalf("the 500 is not in sovereign_http_requests_total:\n%s", buf.String())
			}
		})
	}
}

type panicStatusCore struct{ *stubCore }

func (panicStatusCore) Status(context.Context) any { panic("injected status panic") }

// TestFaultHeadOnGetRoutes: HEAD on every GET route answers the GET's status, headers
// and Content-Length without a body; Allow lists HEAD where GET exists.
func TestFaultHeadOnGetRoutes(t *testing.T) {
	_, base := startServer(t, Options{Routes: allRoutes(&routeFakes{})})
	for _, r := range documentedRoutes {
		if !slices.Contains(r.methods, "GET") {
			continue
		}
		t.Run(r.pattern, func(t *testing.T) {
			id := map[string]string{"X-Request-Id": "head-1"} // same body length for both
			get, gb := do(t, "GET", base+r.sample, "", id)
			head, hb := do(t, "HEAD", base+r.sample, "", id)
			if head.StatusCode != get.StatusCode || len(hb) != 0 {
				t.Fatalf("HEAD %d with %d body bytes; GET %d", head.StatusCode, len(hb), get.StatusCode)
			}
			if cl := head.Header.Get("Content-Length"); cl != fmt.Sprint(len(gb)) {
				t.Fatalf("HEAD Content-Length %q; GET body is %d bytes", cl, len(gb))
			}
			if head.Header.Get("Content-Type") != get.Header.Get("Content-Type") || head.Header.Get("X-Request-Id") == "" {
				t.Fatalf("HEAD headers %v; GET %v", head.Header, get.Header)
			}
			resp, b := do(t, "PUT", base+r.sample, "", nil)
			if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, HEAD" {
				t.Fatalf("PUT: %d Allow %q (%s); want 405 GET, HEAD", resp.StatusCode, resp.Header.Get("Allow"), b)
			}
		})
	}
}

// TestFaultInvalidUTF8Refused: every POST route with a JSON body refuses a body that
// is not UTF-8 with 400 INVALID_JSON naming the problem (OpenAI's shape on its path).
func TestFaultInvalidUTF8Refused(t *testing.T) {
	s, _ := startServer(t, Options{Routes: allRoutes(&routeFakes{})})
	bad := []byte("{\"query\":\"\xff\xfe\",\"inputs\":{\"x\":\"\xc3\x28\"}}")
	for _, r := range documentedRoutes {
		if !slices.Contains(r.methods, "POST") {
			// A GET's body is ignored, whatever its bytes.
			if resp := rawDo(t, s.Addr(), "GET", r.sample, nil, bad); resp.status == 400 {
				t.Errorf("GET %s with a non-UTF-8 body: 400 %s", r.sample, resp.body)
			}
			continue
		}
		t.Run(r.pattern, func(t *testing.T) {
			resp := rawDo(t, s.Addr(), "POST", r.sample, nil, bad)
			openAI := s.isOpenAIPath([]byte(r.sample))
			checkShape(t, r.pattern, resp, openAI)
			if resp.status != 400 || !bytes.Contains(resp.body, []byte("UTF-8")) {
				t.Fatalf("status %d body %s; want 400 naming UTF-8", resp.status, resp.body)
			}
			if !openAI && errCode(t, resp.body) != "INVALID_JSON" {
				t.Fatalf("body %s; want INVALID_JSON", resp.body)
			}
			if openAI && !bytes.Contains(resp.body, []byte(`"invalid_json"`)) {
				t.Fatalf("body %s; want code invalid_json", resp.body)
			}
		})
	}
}

// TestFaultAuthBeforeReveal: with API keys on, a request without a key learns 401
// whatever its path, method or body size; with a key (or keys off) it gets the 404,
// 405 or 413 it earned. Health and CORS preflights stay open.
func TestFaultAuthBeforeReveal(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 1<<20+1)
	key := map[string]string{"X-API-Key": "k-one"}
	huge := map[string]string{"Content-Length": fmt.Sprint(16<<20 + 1)} // past fasthttp's own limit (1 MiB + the 8 MiB pass-through limit)
	hugeKey := map[string]string{"Content-Length": fmt.Sprint(16<<20 + 1), "X-API-Key": "k-one"}
	tests := []struct {
		name         string
		method, path string
		hdr          map[string]string
		body         []byte
		keysOn       int // status with keys on
		keysOff      int // status with keys off
	}{
		{"unknown path", "GET", "/v1/nope", nil, nil, 401, 404},
		{"unknown path with key", "GET", "/v1/nope", key, nil, 404, 404},
		{"wrong method", "DELETE", "/v1/query", nil, nil, 401, 405},
		{"wrong method with key", "DELETE", "/v1/query", key, nil, 405, 405},
		{"oversized body", "POST", "/v1/query", nil, big, 401, 413},
		{"oversized body with key", "POST", "/v1/query", key, big, 413, 413},
		// Announced only: fasthttp refuses it on the header, before reading a body.
		{"body past fasthttp limit", "POST", "/v1/query", huge, nil, 401, 413},
		{"body past fasthttp limit with key", "POST", "/v1/query", hugeKey, nil, 413, 413},
		{"router oddity", "GET", "/v1/skills/invoke", nil, nil, 401, 404},
		{"health open", "GET", "/v1/health", nil, nil, 200, 200},
		{"health wrong method", "POST", "/v1/health", nil, []byte(`{}`), 405, 405},
		// The console's static page and assets are open; its data comes through the
		// keyed routes.
		{"console page open", "GET", "/", nil, nil, 200, 200},
		{"console asset open", "GET", "/console/app.js", nil, nil, 200, 200},
		{"console unknown asset", "GET", "/console/nope.js", nil, nil, 404, 404},
		{"console wrong method", "POST", "/", nil, []byte(`{}`), 405, 405},
		{"not the console", "GET", "/favicon.ico", nil, nil, 401, 404},
		{"console folder itself", "GET", "/console/", nil, nil, 401, 404},
		{"preflight", "OPTIONS", "/v1/query", map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}, nil, 204, 204},
		{"preflight unknown path", "OPTIONS", "/v1/nope", map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "GET"}, nil, 204, 204},
	}
	on, _ := startServer(t, Options{APIKeys: []string{"k-one"}, CORSOrigins: []string{"https://app.example"}})
	off, _ := startServer(t, Options{CORSOrigins: []string{"https://app.example"}})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range []struct {
				s    *Server
				want int
			}{{on, tt.keysOn}, {off, tt.keysOff}} {
				r := rawDo(t, c.s.Addr(), tt.method, tt.path, tt.hdr, tt.body)
				if r.status != c.want {
					t.Fatalf("keys %v: status %d (%s); want %d", c.s == on, r.status, r.body, c.want)
				}
				checkShape(t, tt.name, r, false)
				if r.status == 401 && errCode(t, r.body) != "UNAUTHORIZED" {
					t.Fatalf("401 body %s", r.body)
				}
			}
		})
	}
}

// TestFaultConnectionExhaustion holds every connection slot open (one idle keep-alive,
// one that never sends a byte): the next connection
// gets the JSON 503 OVERLOADED with X-Request-Id and Retry-After, counted; once the
// held connections go, requests are served again.
func TestFaultConnectionExhaustion(t *testing.T) {
	set := metrics.NewSet()
	s, _ := startServer(t, Options{Metrics: set, MaxConns: 2})
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		held = append(held, c)
	}
	// The first held connection is served a request; the second never sends a byte
	// (it holds its slot all the same: the kernel hands connections over in order).
	for _, c := range held[:1] {
		fmt.Fprintf(c, "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("held connection: %d", resp.StatusCode)
		}
	}
	r := rawDo(t, s.Addr(), "GET", "/v1/health", nil, nil)
	if r.status != 503 || r.header.Get("Retry-After") == "" {
		t.Fatalf("status %d Retry-After %q (%s); want 503 with Retry-After", r.status, r.header.Get("Retry-After"), r.body)
	}
	checkShape(t, "refused", r, false)
	if errCode(t, r.body) != "OVERLOADED" || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("refusal %v %s", r.header, r.body)
	}
	if got := set.GetOrCreateCounter(`sovereign_http_rejected_total{reason="concurrency"}`).Get(); got != 1 {
		t.Fatalf("sovereign_http_rejected_total{reason=concurrency} = %d; want 1", got)
	}
	for _, c := range held {
		c.Close()
	}
	// fasthttp notices the closes asynchronously; each refusal is immediate, so a
	// bounded number of attempts, not a sleep, waits for it.
	for i := 0; ; i++ {
		if r := rawDo(t, s.Addr(), "GET", "/v1/health", nil, nil); r.status == 200 {
			break
		}
		if i == 1000 {
			t.Fatal("still refused after the held connections closed")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestFaultTransportErrors: fasthttp's own request errors are answered in the JSON
// error shape with a request id, and counted by reason.
func TestFaultTransportErrors(t *testing.T) {
	set := metrics.NewSet()
	s, _ := startServer(t, Options{Metrics: set})
	slowSet := metrics.NewSet()
	slow, _ := startServer(t, Options{Metrics: slowSet, ReadTimeout: 200 * time.Millisecond})
	tests := []struct {
		name, raw, reason, code string
		status                  int
		names                   string // the problem, named in the message
	}{
		{"malformed request line", "GARBAGE\r\n\r\n", "malformed", "INVALID_REQUEST", 400, "malformed HTTP request"},
		{"bad content length", "POST /v1/query HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", "malformed", "INVALID_REQUEST", 400, "malformed HTTP request"},
		{"headers too large", "GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 8192) + "\r\n\r\n", "header_too_large", "INVALID_REQUEST", 400, "headers too large"},
		// The headers never end: the server's ReadTimeout (200 ms) ends the request.
		{"read timeout", "GET /v1/health HTTP/1.1\r\nHost: x\r\n", "timeout", "REQUEST_TIMEOUT", 408, "not received in time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, set := s, set
			if tt.reason == "timeout" {
				srv, set = slow, slowSet
			}
			before := set.GetOrCreateCounter(`sovereign_http_rejected_total{reason="` + tt.reason + `"}`).Get()
			c, err := net.Dial("tcp", srv.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			io.WriteString(c, tt.raw)
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			r := rawResponse{status: resp.StatusCode, header: resp.Header, body: b}
			checkShape(t, tt.name, r, false)
			if r.status != tt.status || errCode(t, b) != tt.code || !strings.Contains(string(b), tt.names) {
				t.Fatalf("%d %s; want %d %s", r.status, b, tt.status, tt.code)
			}
			if got := set.GetOrCreateCounter(`sovereign_http_rejected_total{reason="` + tt.reason + `"}`).Get(); got != before+1 {
				t.Fatalf("rejected{%s} %d -> %d", tt.reason, before, got)
			}
		})
	}
}

// panicRenderer is an OpenAI front whose error renderer panics.
type panicRenderer struct{ fakeOpenAI }

func (panicRenderer) RenderError(*fasthttp.RequestCtx, int, string, string) bool {
	panic("renderer boom /secret")
}

// TestFaultRendererPanics: a panic while rendering an error, in a handler and in
// fasthttp's transport-error hook (outside handle), still answers 500 INTERNAL with
// the request id, from the fixed body when rendering panics again.
func TestFaultRendererPanics(t *testing.T) {
	tests := []struct {
		name, method, path string
		hdr                map[string]string
	}{
		{"in a handler", "DELETE", "/v1/chat/completions", nil},
		{"in the transport hook", "POST", "/v1/chat/completions", map[string]string{"Content-Length": fmt.Sprint(16 << 20)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := metrics.NewSet()
			f := &routeFakes{}
			routes := allRoutes(f)
			routes.OpenAI = panicRenderer{fakeOpenAI{f}}
			s, _ := startServer(t, Options{Metrics: set, Routes: routes})
			hdr := map[string]string{"X-Request-Id": "render-1"}
			for k, v := range tt.hdr {
				hdr[k] = v
			}
			r := rawDo(t, s.Addr(), tt.method, tt.path, hdr, nil)
			if r.status != 500 || string(r.body) != string(internalBody("render-1")) || r.header.Get("X-Request-Id") != "render-1" {
				t.Fatalf("%d %v %s; want 500 with the fixed INTERNAL body", r.status, r.header, r.body)
			}
			if got := set.GetOrCreateCounter(`sovereign_panics_total{component="gateway"}`).Get(); got != 1 {
				t.Fatalf("sovereign_panics_total = %d; want 1", got)
			}
			if h := rawDo(t, s.Addr(), "GET", "/v1/health", nil, nil); h.status != 200 {
				t.Fatalf("next request: %d", h.status)
			}
		})
	}
}

// FuzzHandleRequest drives the whole handler chain in process (no network) with an
// arbitrary method, path and body: it never answers 500 or panics, always sets
// X-Request-Id, and an error body is the api.md shape (OpenAI's on its paths).
func FuzzHandleRequest(f *testing.F) {
	set := metrics.NewSet()
	s := newTestServer(f, Options{Metrics: set, Routes: allRoutes(&routeFakes{})})
	for _, p := range append(matrixPaths(), "/v1/query") {
		for _, m := range matrixMethods {
			f.Add(m, p, []byte(`{"query":"q","inputs":{"x":"1"}}`))
		}
	}
	f.Add("POST", "/v1/sel/retrieve", []byte("{\"query\":\"\xff\"}"))
	f.Add("POST", "/v1/skills/echo/invoke", []byte(`{"inputs":[1]}`))
	f.Fuzz(func(t *testing.T, method, path string, body []byte) {
		var req fasthttp.Request
		req.Header.SetMethod(method)
		req.SetRequestURI(path)
		req.SetBody(body)
		var ctx fasthttp.RequestCtx
		ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}, nil)
		s.handle(&ctx)
		status := ctx.Response.StatusCode()
		id := string(ctx.Response.Header.Peek("X-Request-Id"))
		if status < 200 || status >= 500 || id == "" {
			t.Fatalf("%q %q: status %d id %q body %q", method, path, status, id, ctx.Response.Body())
		}
		if got := set.GetOrCreateCounter(`sovereign_panics_total{component="gateway"}`).Get(); got != 0 {
			t.Fatalf("%q %q: a panic was recovered", method, path)
		}
		b := ctx.Response.Body()
		if status < 400 || len(b) == 0 {
			return
		}
		if s.isOpenAIPath(ctx.Path()) {
			var e struct {
				Error struct{ Message, Code string } `json:"error"`
			}
			if err := json.Unmarshal(b, &e); err != nil || e.Error.Message == "" {
				t.Fatalf("%q %q: %d %q is not the OpenAI error shape", method, path, status, b)
			}
			return
		}
		var e errorBody
		if err := json.Unmarshal(b, &e); err != nil || e.Error == "" || e.Code == "" || e.RequestID != id {
			t.Fatalf("%q %q: %d %q is not the error shape", method, path, status, b)
		}
	})
}

// TestFaultVerifyRoutesRefuseMalformedJSON: the verify routes answer 400 INVALID_JSON
// for a body that is not JSON (they used to answer 200 valid:false with the decoder's
// text); a JSON document is still judged, and an empty genesis body still checks the
// node's own files.
func TestFaultVerifyRoutesRefuseMalformedJSON(t *testing.T) {
	s, _ := startServer(t, Options{Routes: allRoutes(&routeFakes{})})
	tests := []struct {
		name, path, body string
		status           int
	}{
		{"receipt: truncated", "/v1/verify/receipt", `{"receipt_id":`, 400},
		{"receipt: not json", "/v1/verify/receipt", `receipt please`, 400},
		{"receipt: empty", "/v1/verify/receipt", ``, 400},
		{"receipt: a json object", "/v1/verify/receipt", `{"receipt_id":"x"}`, 200},
		{"genesis: truncated", "/v1/verify/genesis", `{"node_id":"n`, 400},
		{"genesis: trailing garbage", "/v1/verify/genesis", `{} x`, 400},
		{"genesis: a json object", "/v1/verify/genesis", `{"node_id":"n"}`, 200},
		{"genesis: empty checks the state folder", "/v1/verify/genesis", ``, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := rawDo(t, s.Addr(), "POST", tt.path, nil, []byte(tt.body))
			if resp.status != tt.status {
				t.Fatalf("status %d body %s; want %d", resp.status, resp.body, tt.status)
			}
			if tt.status == 400 {
				checkShape(t, tt.path, resp, false)
				if errCode(t, resp.body) != "INVALID_JSON" {
					t.Fatalf("body %s; want INVALID_JSON", resp.body)
				}
			}
		})
	}
}
