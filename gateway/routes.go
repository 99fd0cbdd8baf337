package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/VictoriaMetrics/metrics"
	"github.com/valyala/fasthttp"

	"github.com/bizra/bizra/internal/catalog"
	"github.com/bizra/bizra/internal/tracing"
)

// Extra holds the optional components behind the non-core routes. A nil field makes
// its routes answer 503 UNAVAILABLE (the feature is off on this node), never 404.
type Extra struct {
	// Artifacts returns the graph-of-thought artifact of a recent query as JSON.
	Artifacts func(queryID string) ([]byte, bool)
	Ledger    LedgerRoutes
	Receipts  ReceiptRoutes
	Genesis   GenesisRoutes
	Skills    SkillRoutes
	// OpenAI serves /v1/chat/completions and /v1/models when set.
	OpenAI OpenAIRoutes
}

// LedgerRoutes backs the /v1/sel routes. Errors carry catalog sentinels.
type LedgerRoutes interface {
	Episodes(limit, offset int) (any, error)
	Episode(hash string) (any, error)
	Retrieve(query string, topK int) (any, error)
	Verify() any
}

// ReceiptRoutes backs GET /v1/receipts/{id} and POST /v1/verify/receipt.
type ReceiptRoutes interface {
	Receipt(id string) (json.RawMessage, error)
	VerifyReceipt(body []byte) any
}

// GenesisRoutes backs POST /v1/verify/genesis and GET /v1/verify/genesis/header.
type GenesisRoutes interface {
	VerifyGenesis(body []byte) (any, error)
	GenesisHeader() (doc any, valid bool)
}

// SkillRoutes backs GET /v1/skills and POST /v1/skills/{name}/invoke.
type SkillRoutes interface {
	ListSkills(ctx context.Context, filter string) (any, error)
	InvokeSkill(ctx context.Context, name string, inputs map[string]any) (any, error)
}

// OpenAIRoutes backs the OpenAI-compatible front. The handlers render their own
// OpenAI-shaped errors; the gateway applies auth and rate limits first.
type OpenAIRoutes interface {
	ChatCompletions(ctx *fasthttp.RequestCtx, userID string)
	Models(ctx *fasthttp.RequestCtx)
}

// OpenAIMoreRoutes is implemented by OpenAIRoutes that also serve the pass-through
// endpoints and one model: POST /v1/embeddings, /v1/completions, /v1/responses and
// GET /v1/models/{id}. Without it those paths answer 404 in the renderer's shape.
type OpenAIMoreRoutes interface {
	Embeddings(ctx *fasthttp.RequestCtx, userID string)
	Completions(ctx *fasthttp.RequestCtx, userID string)
	Responses(ctx *fasthttp.RequestCtx, userID string)
	Model(ctx *fasthttp.RequestCtx, id string)
}

// OpenAIErrorRenderer is implemented by OpenAIRoutes that render the gateway's own
// errors on their paths (401, 429, 405, 413, ...) in their own shape. RenderError gets
// the HTTP status, the public code and message, and must write the whole response
// (headers already set, such as Retry-After, stay); false leaves it to the gateway.
type OpenAIErrorRenderer interface {
	RenderError(ctx *fasthttp.RequestCtx, status int, code, message string) bool
}

// isOpenAIPath reports whether an error on path is rendered in the OpenAI front's
// shape (when one is set): the paths Extra.OpenAI serves, and every /v1/... path the
// gateway has no route for (OpenAI clients probe such paths and parse the error).
func (s *Server) isOpenAIPath(path []byte) bool {
	if s.routes == nil {
		return strings.HasPrefix(string(path), "/v1/")
	}
	if r, _ := s.routes.match(string(path)); r != nil {
		return r.openAI
	}
	return strings.HasPrefix(string(path), "/v1/")
}

// routeDef is one entry of the route table.
type routeDef struct {
	pattern string
	noAuth  bool
	// openAI: served by Extra.OpenAI; its errors are in the OpenAI shape and its body
	// limit is Options.MaxPassBodyBytes (pass-through bodies: images, long contexts).
	openAI  bool
	methods map[string]handlerFunc
}

var routeTable = []routeDef{
	// The operator console (gateway/console): static, open with keys on; its data
	// comes through the keyed routes below.
	{"/", true, false, map[string]handlerFunc{"GET": (*Server).handleConsole}},
	{"/console/{file}", true, false, map[string]handlerFunc{"GET": (*Server).handleConsoleAsset}},
	{"/v1/health", true, false, map[string]handlerFunc{"GET": (*Server).handleHealth}},
	{"/v1/status", false, false, map[string]handlerFunc{"GET": (*Server).handleStatus}},
	{"/v1/metrics", false, false, map[string]handlerFunc{"GET": (*Server).handleMetrics}},
	// Prometheus' default scrape path: the same exposition, the same auth rules.
	{"/metrics", false, false, map[string]handlerFunc{"GET": (*Server).handleMetrics}},
	{"/v1/query", false, false, map[string]handlerFunc{"POST": (*Server).handleQuery}},
	{"/v1/artifacts/graph/{id}", false, false, map[string]handlerFunc{"GET": (*Server).handleArtifact}},
	{"/v1/sel/episodes", false, false, map[string]handlerFunc{"GET": (*Server).handleEpisodes}},
	{"/v1/sel/episodes/{hash}", false, false, map[string]handlerFunc{"GET": (*Server).handleEpisode}},
	{"/v1/sel/retrieve", false, false, map[string]handlerFunc{"POST": (*Server).handleRetrieve}},
	{"/v1/sel/verify", false, false, map[string]handlerFunc{"GET": (*Server).handleSELVerify}},
	{"/v1/receipts/{id}", false, false, map[string]handlerFunc{"GET": (*Server).handleReceipt}},
	{"/v1/verify/receipt", false, false, map[string]handlerFunc{"POST": (*Server).handleVerifyReceipt}},
	{"/v1/verify/genesis", false, false, map[string]handlerFunc{"POST": (*Server).handleVerifyGenesis}},
	{"/v1/verify/genesis/header", false, false, map[string]handlerFunc{"GET": (*Server).handleGenesisHeader}},
	{"/v1/skills", false, false, map[string]handlerFunc{"GET": (*Server).handleSkills}},
	{"/v1/skills/{name}/invoke", false, false, map[string]handlerFunc{"POST": (*Server).handleInvokeSkill}},
	{"/v1/chat/completions", false, true, map[string]handlerFunc{"POST": (*Server).handleChatCompletions}},
	{"/v1/models", false, true, map[string]handlerFunc{"GET": (*Server).handleModels}},
	{"/v1/models/{id}", false, true, map[string]handlerFunc{"GET": (*Server).handleModel}},
	{"/v1/embeddings", false, true, map[string]handlerFunc{"POST": (*Server).handleEmbeddings}},
	{"/v1/completions", false, true, map[string]handlerFunc{"POST": (*Server).handleCompletions}},
	{"/v1/responses", false, true, map[string]handlerFunc{"POST": (*Server).handleResponses}},
}

type handlerFunc func(s *Server, rc *reqCtx)

// route is one path pattern with its methods.
type route struct {
	name    string // bounded metric label: the pattern
	methods map[string]handlerFunc
	allow   string
	noAuth  bool
	openAI  bool
	// codes counts responses by status for this route.
	codes    [600]atomic.Pointer[metrics.Counter]
	duration *metrics.PrometheusHistogram
}

type router struct {
	exact    map[string]*route
	prefixes []prefixRoute
	notFound *route
}

type prefixRoute struct {
	prefix string
	suffix string // required suffix after the parameter ("" for none)
	r      *route
}

var httpBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600}

func (s *Server) newRoute(pattern string, noAuth bool, methods map[string]handlerFunc) *route {
	r := &route{name: pattern, methods: methods, noAuth: noAuth}
	if h := methods[fasthttp.MethodGet]; h != nil && methods[fasthttp.MethodHead] == nil {
		// HEAD runs the GET handler; fasthttp sends its headers and Content-Length
		// without the body (Response.SkipBody for HEAD requests).
		methods[fasthttp.MethodHead] = h
	}
	var allow []string
	for _, m := range []string{"GET", "HEAD", "POST"} {
		if methods[m] != nil {
			allow = append(allow, m)
		}
	}
	r.allow = strings.Join(allow, ", ")
	r.duration = s.set.GetOrCreatePrometheusHistogramExt(`sovereign_http_request_duration_seconds{route="`+pattern+`"}`, httpBuckets)
	return r
}

func (s *Server) buildRoutes() *router {
	rt := &router{exact: map[string]*route{}}
	for _, d := range routeTable {
		methods := make(map[string]handlerFunc, len(d.methods)+1)
		for m, h := range d.methods {
			methods[m] = h
		}
		r := s.newRoute(d.pattern, d.noAuth, methods)
		r.openAI = d.openAI
		rt.add(r)
	}
	rt.notFound = s.newRoute("other", true, nil)
	return rt
}

// add puts r under its pattern: exact, or a prefix and suffix around one {param}.
func (rt *router) add(r *route) {
	pattern := r.name
	if i := strings.Index(pattern, "{"); i >= 0 {
		j := strings.Index(pattern, "}")
		rt.prefixes = append(rt.prefixes, prefixRoute{prefix: pattern[:i], suffix: pattern[j+1:], r: r})
		return
	}
	rt.exact[pattern] = r
}

// match returns the route of path and its single path parameter.
func (rt *router) match(path string) (*route, string) {
	if r, ok := rt.exact[path]; ok {
		return r, ""
	}
	for _, p := range rt.prefixes {
		// The prefix and the suffix must not overlap: "/v1/skills/invoke" has both
		// "/v1/skills/" and "/invoke" but no parameter between them.
		if len(path) <= len(p.prefix)+len(p.suffix) ||
			!strings.HasPrefix(path, p.prefix) || !strings.HasSuffix(path, p.suffix) {
			continue
		}
		param := path[len(p.prefix) : len(path)-len(p.suffix)]
		if strings.IndexByte(param, '/') >= 0 {
			continue
		}
		return p.r, param
	}
	return nil, ""
}

// reqCtx is what a handler gets: fasthttp's context plus the per-request values the
// middleware established.
type reqCtx struct {
	*fasthttp.RequestCtx
	id     string
	param  string
	userID string // the API key's id when keys are on
	route  *route // the matched route (notFound until matched), for the metrics
	start  time.Time
	// trace is the client's traceparent, parsed on first use (traceParsed).
	trace       tracing.Parent
	traceParsed bool
}

// handle is the fasthttp handler. Order: CORS preflight; with API keys on, auth
// before anything about the path, method or body is revealed (health stays open);
// then 413, 404, 405, UTF-8, rate limit and the route's handler. A panic anywhere in
// it is answered 500 INTERNAL by finish.
func (s *Server) handle(ctx *fasthttp.RequestCtx) {
	rc := &reqCtx{RequestCtx: ctx, start: time.Now(), route: s.routes.notFound}
	rc.id = s.requestID(ctx)
	ctx.Response.Header.Set("X-Request-Id", rc.id)
	defer s.finish(rc)
	r, param := s.routes.match(string(ctx.Path()))
	if r != nil {
		rc.route = r
	}
	if !s.applyCORS(rc) {
		return
	}
	if s.keys.enabled() && (r == nil || !r.noAuth) {
		id, ok := s.keys.check(ctx)
		if !ok {
			s.unauthorized(rc)
			return
		}
		rc.userID = id
	}
	body := ctx.Request.Body()
	limit := s.opts.MaxBodyBytes
	if r != nil && r.openAI {
		limit = s.opts.MaxPassBodyBytes
	}
	if len(body) > limit {
		ctx.SetConnectionClose()
		s.fail(rc, ErrTooLarge)
		return
	}
	if r == nil {
		s.fail(rc, ErrNotFound)
		return
	}
	h := r.methods[string(ctx.Method())]
	if h == nil {
		ctx.Response.Header.Set("Allow", r.allow)
		s.fail(rc, ErrMethod)
		return
	}
	// Every POST route takes a JSON body, which is UTF-8 (api.md); a GET's body is
	// ignored.
	if len(body) > 0 && ctx.IsPost() && !utf8.Valid(body) {
		s.fail(rc, ErrInvalidUTF8)
		return
	}
	if lim := s.limiter.Load(); lim != nil {
		k := rc.userID
		if k == "" {
			k = ctx.RemoteIP().String()
		}
		if wait, ok := lim.allow(k, time.Now()); !ok {
			ctx.Response.Header.Set("Retry-After", retryAfter(wait))
			s.fail(rc, ErrRateLimited)
			return
		}
	}
	rc.param = param
	h(s, rc)
}

func (s *Server) unauthorized(rc *reqCtx) {
	rc.Response.Header.Set("WWW-Authenticate", `Bearer realm="bizra"`)
	s.fail(rc, ErrUnauthorized)
}

// finish is deferred by handle: it turns a panic into 500 INTERNAL (the stack logged
// once, sovereign_panics_total{component="gateway"} counted) and records the metrics.
// recover must be called here, directly in the deferred function.
func (s *Server) finish(rc *reqCtx) {
	if p := recover(); p != nil {
		s.recovered(rc, p)
	}
	s.observe(rc.route, rc)
	s.accessLog(rc)
}

func (s *Server) recovered(rc *reqCtx, p any) {
	s.panics.Inc()
	s.log.Error("panic in http handler", "req_id", rc.id, "route", rc.route.name,
		"method", string(rc.Method()), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
	rc.Response.Reset()
	rc.Response.Header.Set("X-Request-Id", rc.id)
	rc.SetConnectionClose()
	if !rc.IsOptions() {
		s.applyCORS(rc) // so that a browser may read the 500 (sets headers only)
	}
	defer func() {
		// The renderer itself panicked: answer with the fixed body.
		if p2 := recover(); p2 != nil {
			s.log.Error("panic rendering the internal error", "req_id", rc.id, "panic", fmt.Sprint(p2))
			rc.Response.Reset()
			rc.Response.Header.Set("X-Request-Id", rc.id)
			rc.SetConnectionClose()
			s.writeRaw(rc, fasthttp.StatusInternalServerError, internalBody(rc.id))
		}
	}()
	s.render(rc, catalog.Lookup(ErrInternal))
}

func internalBody(id string) []byte {
	return []byte(`{"error":"Internal error","code":"INTERNAL","request_id":"` + id + `"}`)
}

func (s *Server) observe(r *route, rc *reqCtx) {
	code := rc.Response.StatusCode()
	if code >= 100 && code < 600 {
		c := r.codes[code].Load()
		if c == nil {
			c = s.set.GetOrCreateCounter(`sovereign_http_requests_total{route="` + r.name + `",code="` + itoa3(code) + `"}`)
			r.codes[code].Store(c)
		}
		c.Inc()
	}
	r.duration.UpdateDuration(rc.start)
}

func itoa3(c int) string {
	return string([]byte{byte('0' + c/100), byte('0' + c/10%10), byte('0' + c%10)})
}

// applyCORS sets the CORS headers for an allowed origin and answers preflights. It
// returns false when the request was fully answered.
func (s *Server) applyCORS(rc *reqCtx) bool {
	origin := rc.Request.Header.Peek("Origin")
	allowed := len(origin) > 0 && (s.corsAny || s.cors[string(origin)])
	if allowed {
		h := &rc.Response.Header
		if s.corsAny {
			h.Set("Access-Control-Allow-Origin", "*")
		} else {
			h.SetBytesV("Access-Control-Allow-Origin", origin)
			h.Add("Vary", "Origin")
		}
		h.Set("Access-Control-Expose-Headers", "X-Request-Id, X-Overhead-Ms, Retry-After, X-Bizra-Receipt")
	}
	if string(rc.Method()) == fasthttp.MethodOptions && len(rc.Request.Header.Peek("Access-Control-Request-Method")) > 0 {
		if allowed {
			h := &rc.Response.Header
			h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Content-Type, Authorization, X-API-Key, X-Request-Id")
			h.Set("Access-Control-Max-Age", "600")
		}
		rc.SetStatusCode(fasthttp.StatusNoContent)
		return false
	}
	return true
}
