// Package console is bizra's operator console: a small plain web page (HTML, one
// stylesheet, two scripts, no build step, no CDN, no network beyond the node's own API)
// built into the binary with go:embed and served by the gateway at "/" with its assets
// under "/console/".
//
// The page holds no node data. Everything it shows comes from the keyed API in the
// browser: /v1/health and /v1/status (checks and why, actors with restarts and
// mailboxes, queue and in-flight, index, cache, identity, cluster members when the
// status carries them), successive scrapes of /v1/metrics parsed in the page (query
// rate, p50/p99 latency, cache hit rate, the SNR and Ihsan distributions), POST
// /v1/query with the answer, citations, evidence, score components and receipt, the
// receipt checked through /v1/verify/receipt, the ledger (/v1/sel/episodes and
// /v1/sel/verify) and the genesis (/v1/verify/genesis/header, /v1/verify/genesis).
// With API keys on, the page asks for the key once and keeps it in sessionStorage;
// any 401 brings the login prompt back.
//
// Serving: New reads the embedded files once. The index is rewritten so that every
// asset reference carries ?v=<content hash>; an asset asked for with its current hash
// is cached for a year (immutable), anything else (the index, an old or missing v)
// is "no-cache" and revalidated through its strong ETag (304 on If-None-Match). Every
// answer carries nosniff and a Content-Security-Policy that allows only the page's
// own scripts, styles and API (no inline script, no eval).
//
// A Console is immutable after New and safe for concurrent use.
package console
