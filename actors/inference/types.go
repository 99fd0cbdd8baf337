package inference

import (
	"time"

	"github.com/bizra/bizra/internal/tracing"
)

// Evidence is one local passage an answer may draw on. It has exactly the fields of
// query.Evidence (actors/query), so the pipeline converts with inference.Evidence(e):
// this package does not import actors/query, whose workers import this package.
type Evidence struct {
	Source  string  `json:"source"`
	Excerpt string  `json:"excerpt"`
	Score   float64 `json:"score"`
}

// Request is what the pipeline hands to inference: the query, the reasoning's
// sub-questions and conclusion, and the evidence (with sources) the answer must rest on.
// It is plain data but for OnDelta.
type Request struct {
	QueryID      string
	Query        string
	SubQuestions []string
	Conclusion   string
	Evidence     []Evidence
	// TermWeights optionally gives the rarity (the index's idf) of the query's content
	// terms; the embedded engine weighs its coverage of the question by it. Terms
	// missing from it weigh as the rarest. nil: every term weighs the same.
	TermWeights map[string]float64
	// MaxTokens bounds the answer (0: the backend's default). Forwarded as max_tokens
	// (OpenAI-compatible) or options.num_predict (Ollama).
	MaxTokens int
	// Temperature is forwarded when set (nil: the backend's default).
	Temperature *float64
	// Deadline bounds the whole call, retries and fallback included. Zero: the
	// service's DefaultTimeout from the moment the request is accepted.
	Deadline time.Time
	// TraceParent is sent to HTTP backends as the W3C traceparent header (the query's
	// inference span, or the client's traceparent when tracing is off); the zero value
	// sends none.
	TraceParent tracing.Parent
	// OnDelta, when set, asks an external backend for a streamed answer and receives
	// each visible piece of its text as it arrives (<think> blocks left out), called
	// from the call's goroutine (never from inside an actor's Receive); it must not
	// block for long. Once a piece was handed over, a failure of that backend is
	// final (Answered.Code BACKEND_ERROR): the router does not fall back, since the
	// pieces cannot be taken back. The embedded engine never calls it (its answer
	// exists at once). nil: the answer comes whole.
	OnDelta func(text string)
}

// Sentence is one sentence of an answer and the source it came from ("" when the model
// gave no citation).
type Sentence struct {
	Text   string
	Source string
}

// Answer is the result of one inference call.
type Answer struct {
	// Text is the answer (for model answers: with <think> blocks stripped; for the
	// embedded engine: the chosen evidence sentences joined by spaces).
	Text string
	// Sentences: for the embedded engine, each chosen evidence sentence verbatim with its
	// source; for model answers, the answer split into sentences with the bracketed
	// citation ([source]) removed and recorded in Source when it names an evidence source.
	Sentences []Sentence
	// Citations: for the embedded engine, one per "[n]" marker of Text (source, lines
	// and the quoted unit); nil for model answers.
	Citations []Citation
	Model     string
	Backend   string
	// TokensUsed is prompt+completion tokens as reported by the backend, or an estimate
	// (TokensEstimated=true) when it reports none (always for the embedded engine).
	TokensUsed      int
	TokensEstimated bool
	// Usage is what this call really sent to and received from its backend (prompt and
	// completion tokens, as reported, else estimated); zero for the embedded engine.
	// It is also counted in sovereign_tokens_total.
	Usage Usage
	// Degraded is true when every configured external backend failed and the embedded
	// engine answered instead; DegradedReason says why ("all backends failed: ...").
	Degraded        bool
	DegradedReason  string
	BackendDuration time.Duration
}

// BackendStatus is one external backend as /v1/status shows it.
type BackendStatus struct {
	Name    string `json:"name"`
	URL     string `json:"url"`
	Model   string `json:"model"`
	Status  string `json:"status"`  // StatusReady, StatusDegraded, StatusOffline
	Circuit string `json:"circuit"` // "closed", "half-open", "open"
}

// Backend statuses.
const (
	StatusReady    = "ready"
	StatusDegraded = "degraded"
	StatusOffline  = "offline"
)

// EmbeddedBackend and EmbeddedModel name the embedded engine in Answer and Primary.
const (
	EmbeddedBackend = "embedded"
	EmbeddedModel   = "embedded-extractive"
)

// Limits on a Request (checked before any work).
const (
	MaxQueryBytes        = 64 << 10
	MaxSubQuestions      = 32
	MaxEvidence          = 256
	MaxEvidenceBytes     = 1 << 20 // sum of excerpts
	MaxDecomposeQuestion = 16
)
