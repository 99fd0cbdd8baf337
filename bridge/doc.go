// Package bridge implements the desktop bridge (spec/bridge.md): a loopback TCP
// listener speaking newline-delimited JSON-RPC 2.0, one request object per line and one
// response object per line, authenticated by the X-BIZRA-* members of each request's
// "headers" object.
//
// # Messages
//
// Methods: ping, status, sovereign_query, list_skills, invoke_skill, get_receipt,
// get_context and actuator_execute. The runtime is reached through the narrow Core and
// Receipts interfaces (core.go); core errors carry internal/catalog sentinels, rendered
// with catalog.Lookup, and their internal text never reaches a client.
//
// Every line runs the pipeline of bridge.md in order: parse (JSON and UTF-8) → envelope
// → method → auth table → rate limit (per connection, then the optional global bucket)
// → nonce (recorded only here) → request_count → method lookup → params → handler.
// Every error response carries data.code and data.receipt; every result carries
// receipt {receipt_id, status}.
//
// Receipts: a request that passed the auth table gets one stored receipt (accepted,
// or rejected with the failure's code), with these deliberate exceptions so that no
// one can turn captured or forged lines into disk writes: a replayed nonce
// (AUTH_NONCE_REPLAY) and a full nonce store (NONCE_STORE_FULL) get none, and a
// rate-limited request gets a rejected receipt only the first time its nonce is seen
// (the nonce is noted, not spent, so the request can still be retried). Parse errors,
// bad envelopes and auth failures get none; they are counted and logged at most once
// a second.
//
// # Replay across restarts
//
// The nonce window lives in memory and starts empty at Start, so on its own it would
// accept a line captured before a restart. Start therefore records the listener's
// start, and the auth table refuses any timestamp older than it (less StartSkew, 0 by
// default) with -32003 AUTH_STALE_TIMESTAMP, counted as
// sovereign_bridge_auth_failures_total{reason="before_start"}: such a line may have
// been seen by an earlier process, and this window cannot know. This was chosen over
// persisting the window, which would put a disk write (and its failure modes) in
// front of every request. The price is paid by a client whose clock lags the node's
// by d: it is refused during the first d after Start (it gets AUTH_STALE_TIMESTAMP
// and may retry with a fresh stamp), and served from then on; clocks kept by NTP lag
// by milliseconds. StartSkew trades that back, at the cost of replays of lines
// captured in the last StartSkew before a restart (a kill -9 and restart of bizra
// takes well under a second). What is left even at 0: a line from a client whose
// clock runs ahead of the node's by d, captured in the last d before the restart, is
// accepted once by the new window.
//
// X-BIZRA-SIG, when present (or required), is lower-case hex
// HMAC-SHA256(token, SignatureBase(ts, nonce, method, params)), where ts is the
// timestamp's decimal integer form and canonical(params) is the RFC 8785 encoding of
// the params member, or the empty string when the request has no params member.
//
// get_receipt's result is the stored receipt with one member added, "receipt", the
// reference of the get_receipt request's own receipt; drop it before verifying.
//
// # Limits
//
// MaxConns connections (more are answered "server busy" and closed at accept),
// MaxConnsPerIP from one remote address (more are answered -32000
// TOO_MANY_CONNECTIONS and closed at accept), AuthTimeout for a connection's first
// authenticated request (else one -32001 AUTH_TIMEOUT line and the connection closes,
// so silent connections cannot hold slots for IdleTimeout),
// MaxLineBytes per line (-32600 "Message too large", then the connection closes
// without buffering the rest), PartialLineTimeout for a started line, IdleTimeout
// between requests, WriteTimeout per flush, OutboundQueue responses per connection
// (a client that does not read is disconnected), a bounded time-bucketed nonce store.
//
// # Concurrency
//
// Every exported method of Bridge is safe for concurrent use. Each connection has
// exactly one reader goroutine, which decodes a line, runs the pipeline and the
// handler synchronously (so responses keep request order), and one writer goroutine,
// the only one writing to the socket, fed by a bounded queue the reader never blocks
// on. The accept loop and both goroutines of every connection are owned by the
// Bridge's WaitGroup; Shutdown stops the accept loop, lets each reader finish its
// current request, flushes, closes, and waits for all of them. Core and Receipts are
// called from many readers at once and must be safe for concurrent use. Client is
// not safe for concurrent use; Ping and Call are.
package bridge
