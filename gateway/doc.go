// Package gateway implements bizra's HTTP API (api.md) on github.com/valyala/fasthttp:
// /v1/health, /v1/status, /v1/metrics, /v1/query and the artifact, ledger, receipt,
// genesis and skill routes.
//
// The gateway is an edge: it copies everything it needs out of fasthttp's RequestCtx,
// turns a request into plain data, calls the core with the request's deadline, and
// renders the reply. It never blocks without a deadline and never sends internal error
// text to a client: errors go through the catalog (actors/catalog) and are logged with
// the request id.
//
// Cross-cutting rules applied to every route, in this order: request id, CORS, body
// limit (413 PAYLOAD_TOO_LARGE; bodies up to twice the limit are read and refused
// cleanly, larger ones are cut off by fasthttp's MaxRequestBodySize), API key
// (every route except /v1/health), rate limit (token bucket per key or client IP).
//
// # Concurrency
//
// A Server is safe for concurrent use once started; fasthttp runs each request on its
// own goroutine. Start and Shutdown may be called from any goroutine; Shutdown is
// idempotent and waits for the serve loop.
package gateway
