// Package mockllm implements a mock LLM backend over real HTTP for tests, benchmarks and
// `bizra dev mock-llm`: it speaks the OpenAI chat-completions wire format (GET
// /v1/models, POST /v1/chat/completions, non-streaming and SSE streaming ending in
// "data: [DONE]") and the Ollama wire format (GET /api/tags, POST /api/chat,
// non-streaming and NDJSON streaming; like Ollama, a request without "stream" streams),
// and POST /v1/embeddings (deterministic 8-dimensional vectors, Embed), /v1/completions
// (SSE when streamed, ending in [DONE]) and /v1/responses (SSE events
// response.created, response.output_text.delta, response.output_text.done,
// response.completed). Chat and completions answer "n" choices.
//
// Answers are deterministic and echo facts from the prompt: for every evidence line of
// the last user message written "[source] text", the first sentence of text followed by
// " [source]" (up to three), so a test can check that its evidence reached the model.
// A system prompt that asks for sub-questions gets one numbered sub-question per clause
// of the user message. Token usage is the number of white-space separated words.
// Message content may be a string, null or an array of text parts.
//
// Like a tool-capable model, a chat request with "tools" gets a tool call (finish_reason
// "tool_calls", streamed as one tool_calls delta): of the function tool_choice names,
// else of the first tool, unless tool_choice is "none" or the last message is a tool's
// answer (then the text answer). Its arguments are Options.ToolArguments[name], else
// Options.Structured, else an object generated from the function's parameter schema.
// response_format json_schema or json_object gets Options.Structured (else an object
// generated from the schema) as the content, which is how LangChain's
// withStructuredOutput and the AI SDK's generateObject ask. Options.PathAnswers fixes
// the answer of one path (leading spaces kept).
//
// Faults for tests, all settable while running: fixed latency and a pause between
// streamed tokens (a slow stream; both cancelled when the client
// goes away), a random HTTP 500 rate, bursts ("the next N requests get status S"),
// hard-down modes (connection refused: the listener is closed and re-opened on the same
// address on recovery; or 503 for everything), and 200 responses that are not answers
// (malformed JSON, empty choices, an error body). SetError makes a path (or every POST
// path) answer an OpenAI error body with message, type, param, code and a Retry-After
// header, for the next Count requests or until cleared, for every model or only for
// ErrorReply.Model; Disable makes a path 404 (the refused request is recorded).
// Every request is recorded (format, path, model, max_tokens or num_predict,
// temperature, stream, n, messages, headers, raw body), the last
// RecordLimit kept. Active counts handlers running now, so a test can check that a
// cancelled call left no request running.
//
// # Concurrency
//
// All methods are safe for concurrent use; settings are guarded by a mutex and take
// effect for the next request.
package mockllm
