// Package inference implements the inference backends of the query pipeline: the
// embedded extractive engine (always present) and the external model backends
// (OpenAI-compatible chat completions, Ollama native, LM Studio through the
// OpenAI-compatible client), with per-backend actors that own a bounded number of
// requests in flight, a circuit breaker, retries and a health probe, and a router that
// applies the configured fallback order and degrades to the embedded engine.
//
// # Actors
//
// The router (Service.PID) accepts:
//   - *Ask → replies *Answered (answer, or a catalog code: TIMEOUT, OVERLOADED,
//     NO_EVIDENCE, INVALID_INFERENCE_REQUEST, CANCELED, UNAVAILABLE);
//   - *DecomposeAsk → replies *Decomposed (sub-questions, or NO_MODEL, TIMEOUT, ...).
//
// Answer.Usage and Decomposed.Usage are what each call really sent to and received
// from its backend (reported, else estimated); a query's total is their sum.
//
// It tries the external backends in order; a backend failure (connection, 5xx, 429,
// unusable response, open circuit, overload) moves on to the next one; when all failed
// the embedded engine answers with Answer.Degraded=true and DegradedReason "all backends
// failed: <backend>: <reason>; ...". This is the pass-through's policy (fallback.go):
// connection errors and 5xx are retried on the same backend first, a 4xx never is and
// never counts against a circuit, and a 400, 413 or 422 (the request itself is
// invalid) is final for the external backends: no other one is asked, and the
// embedded engine answers, degraded. Two differences, because the pipeline sends each
// backend its own configured model and key and must always answer: a 401, 403 or 404
// (this backend's key or model is wrong) moves on to the next backend, where the
// pass-through, whose client names the model, stops; and the embedded engine stays
// the last resort. A passed deadline answers TIMEOUT at once (no time is left for a
// fallback). With no external backend configured the embedded engine is the backend
// and nothing is degraded. A crash of the router (a panic in Receive) restarts it
// with no pending ask: its Restarting handler first answers every pending ask with
// BACKEND_ERROR, as its Stopping handler does with the stop, so no caller waits for
// its deadline.
//
// Each backend actor (spawned with prefix "inference-<name>") accepts only the router's
// internal messages. It refuses a call at once with OVERLOADED when MaxInFlight calls are
// in flight, or with BACKEND_UNAVAILABLE when its circuit is open; otherwise it starts
// the HTTP call on a goroutine owned by the service, under a context with the request's
// deadline, and the goroutine Sends the result back to the actor, which replies. A call
// whose deadline passes is cancelled (its HTTP request aborted), never left running.
// An Ask whose Request has OnDelta is a streamed backend call (answerstream.go): each
// visible piece of the answer goes to OnDelta as it arrives, and once one did, a
// failure is final (no fallback: the pieces cannot be taken back).
// The MaxInFlight slot a call takes is owned by the call (slot), not by the actor: the
// call's goroutine releases it exactly once when the exchange ends, so a restart of the
// backend actor (whose Restarting handler cancels and answers every call in flight, so
// the router falls back) or a cancelled call cannot leak one. Retries (retry.go: one
// request-with-retries for every backend call) are for connection errors and 5xx, with
// jittered exponential backoff while the remaining deadline leaves room; a 429 or
// another 4xx is not retried. A probe (GET /models or /api/tags) runs every
// ProbeInterval: it discovers the model when none is configured, and closes a half-open
// circuit (or re-opens it).
//
// Mailboxes are protoactor's default (unbounded) because no Receive ever does slow work:
// the work in flight is bounded by counters (MaxInFlight per backend, a pending-ask limit
// in the router) that answer OVERLOADED at once instead of queueing.
//
// # Pass-through (chat.go, stream.go, forward.go; the policy in fallback.go)
//
// Chat, OpenChatStream / ChatStream and Models serve OpenAI chat completions, and
// Forward / OpenForwardStream pass /v1/embeddings, /v1/completions, /v1/responses and
// /v1/chat/completions bodies through unchanged ("n" included), for models the external
// backends list (the OpenAI-compatible front, gateway/openai). They run on the caller's
// goroutine, not through the actors, with the same backends: the backends that list the
// model (from the probes, refreshed on demand at most once a second per backend) are
// tried in fallback order; each takes one of its MaxInFlight slots (shared with the
// actor calls: a full backend refuses at once, OVERLOADED) and a circuit breaker
// permission. One policy (fallback.failed): connection errors and 5xx are retried
// against the same backend and then fall back to the next one; a 429 is never retried
// against the same backend but falls back; another 4xx (400, 401, 404, 422, ...) is
// final. A backend's error answer reaches the caller as a wrapped *UpstreamError
// (status, message, type, param, code and Retry-After unchanged, secrets redacted); when
// every backend failed, the last 5xx or 429 is returned. No embedded fallback: the
// client asked for that model. The traceparent, tracestate and X-Request-Id headers are
// forwarded (ChatRequest.Headers, ForwardRequest.Headers); no other. OpenAI-compatible
// backends get the client's body verbatim and their answer goes back unchanged; Ollama
// chat is translated both ways (Forward uses Ollama's OpenAI-compatible /v1 paths). A
// stream is forwarded event by event (no buffering), retried and failed over only until
// a backend answers 2xx; Close cancels the backend request. Shutdown waits for
// pass-through calls and streams like for actor calls.
//
// # HTTP clients
//
// Non-streamed exchanges (pipeline chat, model listings, probes, Forward, Chat) go
// through a pooled fasthttp client per backend (fastclient.go) that runs on the
// caller's goroutine and aborts on context cancel (context.AfterFunc moves the
// connection's deadline into the past; the connection is closed, so the backend sees
// the cancel); a request that fails on a reused connection before any byte came back
// is sent once more on a fresh one. Streams use net/http, whose body a stream reads as
// it arrives and abandons on Close. Every outgoing header besides the content ones is
// set in one place, httpClient.eachHeader.
//
// # Logs
//
// Every failed backend exchange is logged once at WARN, "inference backend failed",
// with backend, status (0 when none came back), reason, decision ("retried", "fell
// back" with next, or "final") and duration_ms; a caller that went away or a stopping
// service logs at DEBUG. A failing probe warns once, when the backend turns failing.
//
// # Tools
//
// A backend takes tools and response_format when configured so (BackendConfig.Tools)
// or when its model listing marks the model so ("capabilities" with "tool_use",
// "tools" or "function_calling", or "supported_parameters" with "tools"):
// Service.ToolModel names the first such backend's model (circuit not open), to which
// the OpenAI front hands the bizra model's tool parameters.
//
// # Metrics
//
// sovereign_inference_requests_total{backend,outcome} (outcome: success, error,
// bad_response, timeout, canceled, overloaded, circuit_open, rejected, rate_limited;
// backend "embedded":
// success, no_evidence), sovereign_inference_duration_seconds{backend} (Prometheus
// histogram, GenAI buckets), sovereign_inference_time_to_first_token_seconds{backend} and
// sovereign_inference_inter_token_seconds{backend} (pass-through streams, Prometheus
// histograms), sovereign_inference_circuit_state{backend} (0 closed,
// 1 half-open, 2 open), sovereign_degraded_answers_total,
// sovereign_tokens_total{model,direction="in"|"out"} (tokens sent to and received from
// the backends by every upstream call, pipeline and pass-through; at most 64 model
// labels, then "other").
//
// # Concurrency
//
// Embedded is a pure function. A Service's methods (Chat, OpenChatStream, ChatStream,
// Forward, OpenForwardStream, Models, Status, Primary, Available, PID, Shutdown) are
// safe for concurrent use once Start returned; a ChatStream or ForwardStream is used by
// one goroutine at a time. The pass-through methods block the calling goroutine, so
// call them from edges (gateway handlers), never from inside Receive: actors use PID
// with RequestFuture + ReenterAfter. ConfigFromEnv is pure.
package inference
