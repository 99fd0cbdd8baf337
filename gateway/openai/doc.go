// Package openai is bizra's OpenAI-compatible front: POST /v1/chat/completions,
// /v1/embeddings, /v1/completions and /v1/responses, GET /v1/models and
// /v1/models/{id} on the gateway (Routes implements gateway.OpenAIRoutes,
// gateway.OpenAIMoreRoutes and gateway.OpenAIErrorRenderer), so any OpenAI SDK can use
// bizra unchanged. Every unknown /v1/... route answers 404 in OpenAI's error shape.
//
// Two kinds of model:
//   - "bizra" runs the sovereign pipeline (Options.Query, core.Runtime.Query) and
//     answers with an assistant message plus an extension field "bizra" (Extension:
//     scores, sources and evidence, verdict, degraded, receipt). Its retrieval query
//     is the last user message preceded by the earlier user turns that fit; system and
//     developer messages and the whole earlier conversation enter the query's Context
//     as a SHA-256 ("conversation"), so they are part of the result-cache key: a
//     different system prompt never gets another conversation's cached answer.
//     max_tokens (or max_completion_tokens) cuts the answer at a sentence or word end,
//     never inside a word, with finish_reason "length"; stop cuts before the first
//     stop sequence (finish_reason "stop"). temperature is accepted and passed to an
//     external backend when the pipeline uses one; the embedded extractive engine is
//     deterministic and ignores it. tools, tool_choice (other than "none"),
//     functions and response_format other than text go to a tool-capable backend
//     (inference BackendConfig.Tools, Service.ToolModel) when one is configured
//     (bizratools.go): the pipeline runs first, then the client's request is sent to
//     that backend with one system message put first carrying the evidence the
//     pipeline found; its answer (tool calls, structured content) is returned with
//     "model": "bizra", the extension (whose receipt is the pipeline's), usage summed
//     over every upstream call, and X-Bizra-Receipt over the bytes sent. What the
//     model cannot do is refused with 400 invalid_request_error naming the field: the
//     tool parameters when no tool-capable backend is configured, n > 1, logprobs,
//     top_logprobs. When
//     external backends answered, its usage is what the pipeline's calls (decomposition
//     and answer) really sent to and received from them (query.Detail.Usage;
//     usage_estimated false when every backend reported its counts); for the embedded
//     engine, and for a cache hit, which sends nothing upstream, the counts are
//     estimates (about four bytes per token, the completion count that of the text
//     sent; usage_estimated: true). The receipt id is also in the X-Bizra-Receipt
//     header.
//   - any other model id is served by the first external backend that lists it
//     (inference.Service Forward / OpenForwardStream: in-flight limits, circuit
//     breakers, the one retry and fallback policy of actors/inference) and passed
//     through: the backend's body is forwarded unchanged. The front adds metrics and a receipt
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
// "data: {"error":{...}}" event and no [DONE]. The bizra model streams an external
// backend's answer as it arrives (bizrastream.go: query.Request.OnDelta; stop and
// max_tokens applied on the fly), the last chunk carrying finish_reason and the
// extension once the pipeline has scored the answer and issued its receipt; an error
// before the first piece keeps its HTTP status, one after it ends the stream with an
// error event and no [DONE]. An answer that exists whole (a cache hit, the embedded
// engine, or any answer while --enforce-ihsan is on, since a withheld answer must not
// leave early) is streamed as a few chunks.
//
// # Pass-through (Options.Forward)
//
// Through Options.Forward (the inference service's Forward and OpenForwardStream when
// Options.Inference is set; see forward_contract.go), chat completions of external
// models, /v1/embeddings and /v1/completions are forwarded with the client's body
// unchanged (n > 1 included) and the traceparent, tracestate and X-Request-Id headers (the gateway's own request id
// when the client sent none). A backend's error answer (UpstreamError) reaches the
// client unchanged: status, message, type, param, code and Retry-After. The body limit
// of these paths is the gateway's MaxPassBodyBytes (--max-body, 8 MiB by default); the
// query API keeps 1 MiB, and the bizra model 1 MiB of message text. Without Forward
// (no inference service), the pass-through endpoints answer 404 model_not_found.
// Receipts are issued for chat completions only.
//
// # Responses API
//
// POST /v1/responses is forwarded when the model's backend offers it; a 404 from the
// backend for that path means it does not, and then (and always for the bizra model)
// the request is translated to a chat completion, text in and out: instructions
// become a system message, input messages with input_text / output_text parts become
// chat messages, max_output_tokens becomes max_tokens and text.format json_schema or
// json_object becomes response_format. The answer is a response object (status
// "incomplete" with incomplete_details.reason "max_output_tokens" when cut); a stream
// answers the Responses API's events (event: and data: lines): response.created,
// response.in_progress, response.output_item.added, response.content_part.added,
// response.output_text.delta..., response.output_text.done, response.content_part.done,
// response.output_item.done, response.completed (or response.incomplete; a backend
// failure mid-stream ends with error and response.failed). Tools, non-text parts and
// previous_response_id are refused with 400 naming the field when translating.
//
// Errors use OpenAI's shape {"error": {"message", "type", "param", "code"}}: 400
// invalid_request_error (the decoder names the parameter), 401 invalid_api_key, 404
// model_not_found, 429 rate_limit_exceeded, 503 overloaded / backend_error (every
// backend down), 504 timeout. The gateway's own errors on these paths (401, 429, 405,
// 413) are rendered here too, through gateway.OpenAIErrorRenderer.
//
// The request decoder (Decode) checks strict types and limits: at most 1,000 messages,
// 1 MiB of content in total for the bizra model (the body limit for pass-through),
// max_tokens 1..1e6, temperature 0..2, top_p 0..1, stop a string or at most 4
// strings, n 1..128. Fields it does not read (tools, response_format, seed, ...) are
// forwarded to OpenAI-compatible backends as they are. DecodePass (model and stream
// of the other pass-through bodies) and DecodeResponses are fuzzed as well.
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
// backend call) before any other goroutine sees it. A streamed bizra-model answer
// runs the pipeline on one goroutine per request, which its handler, or the body
// writer it hands over to, always waits for; otherwise Routes owns no goroutine, and
// a stream's body writer is fasthttp's, ending when the stream ends.
package openai
