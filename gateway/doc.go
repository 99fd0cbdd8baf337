// Package gateway implements bizra's HTTP API (api.md) on github.com/valyala/fasthttp:
// /v1/health, /v1/status, /v1/metrics, /v1/query and the artifact, ledger, receipt,
// genesis and skill routes, and the OpenAI-compatible paths of Extra.OpenAI
// (/v1/chat/completions, /v1/models, /v1/models/{id}, /v1/embeddings,
// /v1/completions, /v1/responses), whose errors, and those of every unknown /v1/...
// path, are rendered in the OpenAI front's shape when it implements
// OpenAIErrorRenderer.
//
// The gateway is an edge: it copies everything it needs out of fasthttp's RequestCtx,
// turns a request into plain data, calls the core with the request's deadline, and
// renders the reply. It never blocks without a deadline and never sends internal error
// text to a client: errors go through the catalog (internal/catalog) and are logged with
// the request id.
//
// The operator console (gateway/console) is served at "/" with its assets under
// /console/: static files built in with go:embed, open with API keys on (they hold no
// node data; the page sends the key it asks for on every API call).
//
// Cross-cutting rules applied to every route, in this order: request id, CORS
// preflight, API key when keys are on (every route except /v1/health and the
// console's static files, checked before
// 404, 405 or 413 tell anything about the path, method or body), body limit (413
// PAYLOAD_TOO_LARGE; MaxBodyBytes, 1 MiB, and MaxPassBodyBytes, 8 MiB, on the OpenAI
// paths; bodies up to the sum of both are read and refused cleanly, larger ones are
// refused by fasthttp's MaxRequestBodySize in the same JSON shape), route
// (404), method (405 with Allow; HEAD runs the GET handler without the body), UTF-8
// body (400 INVALID_JSON), rate limit (token bucket per key or client IP).
//
// # Faults
//
// A panic in a handler, in fasthttp's transport-error hook or in a gateway goroutine
// is answered 500 INTERNAL with the request id, its stack logged once, and counted in
// sovereign_panics_total{component="gateway"}; the process keeps serving. Past
// Options.MaxConns open connections, a new one is answered 503 OVERLOADED in the JSON
// shape with X-Request-Id and Retry-After by the gateway itself (fasthttp's own
// refusal is plain text), and counted in sovereign_http_rejected_total{reason}, with
// fasthttp's transport errors (malformed request, headers too large, read timeout).
//
// # Concurrency
//
// A Server is safe for concurrent use once started; fasthttp runs each request on its
// own goroutine. Start and Shutdown may be called from any goroutine; Shutdown is
// idempotent and waits for the serve loop.
package gateway
