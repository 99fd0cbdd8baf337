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
//   - *DecomposeAsk → replies *Decomposed (sub-questions, or NO_MODEL, TIMEOUT, ...);
//   - *CancelAsk → no reply; the cancelled ask's sender gets CANCELED.
//
// It tries the external backends in order; a backend failure (connection, HTTP status,
// unusable response, open circuit, overload) moves on to the next one; when all failed
// the embedded engine answers with Answer.Degraded=true and DegradedReason "all backends
// failed: <backend>: <reason>; ...". A passed deadline answers TIMEOUT at once (no time
// is left for a fallback). With no external backend configured the embedded engine is
// the backend and nothing is degraded.
//
// Each backend actor (spawned with prefix "inference-<name>") accepts only the router's
// internal messages. It refuses a call at once with OVERLOADED when MaxInFlight calls are
// in flight, or with BACKEND_UNAVAILABLE when its circuit is open; otherwise it starts
// the HTTP call on a goroutine owned by the service, under a context with the request's
// deadline, and the goroutine Sends the result back to the actor, which replies. A call
// whose deadline passes is cancelled (its HTTP request aborted), never left running.
// Retries (429, 503, connection errors) use jittered exponential backoff while the
// remaining deadline leaves room. A probe (GET /models or /api/tags) runs every
// ProbeInterval: it discovers the model when none is configured, and closes a half-open
// circuit (or re-opens it).
//
// Mailboxes are protoactor's default (unbounded) because no Receive ever does slow work:
// the work in flight is bounded by counters (MaxInFlight per backend, a pending-ask limit
// in the router) that answer OVERLOADED at once instead of queueing.
//
// # Pass-through (passthrough.go)
//
// Chat, OpenChatStream / ChatStream and Models serve OpenAI chat completions for models
// the external backends list (the OpenAI-compatible front, gateway/openai). They run on
// the caller's goroutine, not through the actors, with the same rules: the backends that
// list the model (from the probes, refreshed on demand at most once a second per
// backend) are tried in fallback order; each takes one of its MaxInFlight slots (shared
// with the actor calls: a full backend refuses at once, OVERLOADED) and a circuit
// breaker permission; 429, 503 and connection errors are retried with jittered backoff
// within the deadline; a backend's 400/413/422 ends the call (BACKEND_REJECTED, no
// circuit count); other failures count against the circuit and move on to the next
// backend. No embedded fallback: the client asked for that model. OpenAI-compatible
// backends get the client's body verbatim and their answer goes back unchanged; Ollama
// is translated both ways. A stream is forwarded chunk by chunk (no buffering), retried
// and failed over only until a backend answers 200; Close cancels the backend request.
// Shutdown waits for pass-through calls and streams like for actor calls.
//
// # Metrics
//
// sovereign_inference_requests_total{backend,outcome} (outcome: success, error,
// bad_response, timeout, canceled, overloaded, circuit_open, rejected; backend "embedded":
// success, no_evidence), sovereign_inference_duration_seconds{backend} (Prometheus
// histogram, GenAI buckets), sovereign_inference_time_to_first_token_seconds{backend} and
// sovereign_inference_inter_token_seconds{backend} (pass-through streams, Prometheus
// histograms), sovereign_inference_circuit_state{backend} (0 closed,
// 1 half-open, 2 open), sovereign_degraded_answers_total.
//
// # Concurrency
//
// Embedded is a pure function. A Service's methods (Answer, Decompose, Chat,
// OpenChatStream, ChatStream, Models, Status, Primary, Available, PID, NextID, Shutdown)
// are safe for concurrent use once Start returned; a ChatStream is used by one goroutine
// at a time;
// Answer and Decompose block the calling goroutine until the reply or the deadline, so
// call them from edges (gateway handlers, bridge dispatch), never from inside Receive:
// actors use PID with RequestFuture + ReenterAfter. ConfigFromEnv is pure.
package inference
