// Package openai is bizra's OpenAI-compatible front: POST /v1/chat/completions and
// GET /v1/models on the gateway (Routes implements gateway.OpenAIRoutes and
// gateway.OpenAIErrorRenderer), so any OpenAI SDK can use bizra unchanged.
//
// Two kinds of model:
//   - "bizra" runs the sovereign pipeline (Options.Query, core.Runtime.Query) on the
//     conversation's last user message and answers with an assistant message plus an
//     extension field "bizra" (Extension: scores, sources and evidence, verdict,
//     degraded, receipt). Its usage counts are estimates (usage_estimated: true). The
//     receipt id is also in the X-Bizra-Receipt header.
//   - any other model id is served by the first external backend that lists it
//     (inference.Service.Chat / OpenChatStream: in-flight limits, circuit breakers,
//     retries and fallback order of core.md) and passed through: the backend's body is
//     forwarded unchanged (translated for Ollama). The front adds metrics and a receipt
//     (kind query, method "POST /v1/chat/completions"; query_digest over the decoded
//     parameters, payload_digest over the SHA-256 of the response bytes, the backend
//     and the usage), issued on the request path and sealed asynchronously by the
//     receipt service; its id is in the X-Bizra-Receipt header. X-Overhead-Ms is the
//     time spent outside the backend call.
//
// Streaming (stream: true) answers Server-Sent Events in OpenAI's chunk format, ending
// with "data: [DONE]". A pass-through stream is opened on the handler goroutine (a
// failure before the first byte gets its proper status and error body), then fasthttp's
// body-writer goroutine forwards each backend chunk as it arrives and flushes it; a
// flush that fails (the client went away) closes the backend stream, which cancels the
// backend request. Its receipt is issued when the stream ends and announced in an SSE
// comment line ": bizra {"receipt":{...}}" just before "data: [DONE]" (comments are
// ignored by SSE clients). A backend that breaks off mid-stream yields a final
// "data: {"error":{...}}" event and no [DONE]. The bizra model streams its finished
// answer as a few chunks, the last carrying the extension.
//
// Errors use OpenAI's shape {"error": {"message", "type", "param", "code"}}: 400
// invalid_request_error (the decoder names the parameter), 401 invalid_api_key, 404
// model_not_found, 429 rate_limit_exceeded, 503 overloaded / backend_error (every
// backend down), 504 timeout. The gateway's own errors on these paths (401, 429, 405,
// 413) are rendered here too, through gateway.OpenAIErrorRenderer.
//
// The request decoder (Decode) checks strict types and limits: at most 1,000 messages,
// 1 MiB of content in total, max_tokens 1..1e6, temperature 0..2, top_p 0..1, stop a
// string or at most 4 strings, n = 1. Fields it does not read (tools, response_format,
// seed, ...) are forwarded to OpenAI-compatible backends as they are.
//
// # Metrics
//
// sovereign_openai_requests_total{model_kind,stream,code},
// sovereign_openai_request_duration_seconds{model_kind,stream} and
// sovereign_openai_overhead_seconds{model_kind} (Prometheus le histograms; overhead =
// time outside the backend call), sovereign_openai_stream_disconnects_total,
// sovereign_openai_receipt_failures_total. Time to first token and inter-token latency
// are the inference service's sovereign_inference_time_to_first_token_seconds and
// sovereign_inference_inter_token_seconds{backend}.
//
// # Concurrency
//
// Routes is safe for concurrent use: the handlers run on the gateway's goroutines and
// copy everything they need out of fasthttp's RequestCtx (the body is cloned for the
// backend call) before any other goroutine sees it. Routes owns no goroutine; a
// stream's body writer is fasthttp's, and it ends when the stream ends.
package openai
