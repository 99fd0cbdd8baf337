package query

import (
	"github.com/bizra/bizra/actors/inference"
	"github.com/bizra/bizra/internal/index"
)

// Request is one query as both front doors (HTTP gateway, bridge) hand it to the core.
// It is plain data: the edges copy everything out of their transport buffers first.
type Request struct {
	Query             string         `json:"query"`
	Context           map[string]any `json:"context,omitempty"`
	RequireReasoning  bool           `json:"require_reasoning"`
	RequireValidation bool           `json:"require_validation"`
	MaxDepth          int            `json:"max_depth"`
	TimeoutMs         int            `json:"timeout_ms"`
	UserID            string         `json:"user_id"`
	// Method names the front door for receipts ("POST /v1/query", "sovereign_query").
	Method string `json:"-"`
	// OnDelta, when set, receives the answer's text piece by piece as an external
	// backend streams it (inference.Request.OnDelta), before the answer is scored.
	// Not called for a cache hit, the embedded engine, or when EnforceIhsan is on (an
	// answer may then be withheld, so none of it may leave early). Not part of the
	// cache key or the receipt.
	OnDelta func(text string) `json:"-"`
}

// Defaults of the optional request fields (api.md).
const (
	DefaultMaxDepth  = 3
	DefaultTimeoutMs = 30000
	MaxQueryChars    = 10000
	MaxContextKeys   = 50
	MaxContextBytes  = 64 << 10
	MaxUserIDChars   = 128
	MinTimeoutMs     = 1000
	MaxTimeoutMs     = 600000
	MinMaxDepth      = 1
	MaxMaxDepth      = 10
)

// NewRequest returns a Request with the api.md defaults.
func NewRequest(q string) Request {
	return Request{Query: q, RequireReasoning: true, RequireValidation: true,
		MaxDepth: DefaultMaxDepth, TimeoutMs: DefaultTimeoutMs}
}

// Evidence is one local passage an answer drew on ({source, excerpt, score}). It is
// declared in internal/index, at the bottom of the import graph, so that reasoning and
// scoring (which this package imports) can use it too.
type Evidence = index.Evidence

// Citation is the source of one "[n]" marker of an answer: {marker, source, lines,
// line_start, line_end, excerpt}, declared in internal/index beside Evidence.
type Citation = index.Citation

// Verdicts (core.md, Scoring).
const (
	VerdictApproved    = "APPROVED"
	VerdictRejected    = "REJECTED"
	VerdictQuarantined = "QUARANTINED"
)

// Result is the runtime contract of a query (core.md, Query result): exactly these JSON
// fields, which `bizra query --json` prints and ledgers and receipts digest. The HTTP
// response is a view of it built from Result and Detail.
type Result struct {
	QueryID          string     `json:"query_id"`
	Success          bool       `json:"success"`
	Response         string     `json:"response"`
	ReasoningUsed    bool       `json:"reasoning_used"`
	ReasoningDepth   int        `json:"reasoning_depth"`
	Thoughts         []string   `json:"thoughts"`
	IhsanScore       *float64   `json:"ihsan_score"` // nil when not measured
	SNRScore         *float64   `json:"snr_score"`   // nil when not measured
	SNROK            bool       `json:"snr_ok"`
	Validated        bool       `json:"validated"`
	ValidationPassed bool       `json:"validation_passed"`
	ValidationIssues []string   `json:"validation_issues"`
	ProcessingTimeMs float64    `json:"processing_time_ms"`
	ModelUsed        string     `json:"model_used"`
	GraphHash        string     `json:"graph_hash"`
	ClaimTags        []string   `json:"claim_tags"`
	UserID           string     `json:"user_id"`
	Error            *string    `json:"error"`
	Degraded         bool       `json:"degraded"`
	DegradedReason   *string    `json:"degraded_reason"`
	Cached           bool       `json:"cached"`
	Verdict          string     `json:"verdict"`
	Evidence         []Evidence `json:"evidence"`
	ReceiptID        string     `json:"receipt_id"`

	// Detail carries what the HTTP view shows beyond the contract fields.
	Detail Detail `json:"-"`

	// hit is the precomputed part of a cached result's payload digest (hitform.go);
	// nil outside the cache.
	hit *hitForm
}

// Detail is the part of a result that is not in the runtime contract.
type Detail struct {
	Components    map[string]float64 // quality.components: every scoring input and term
	Nodes, Edges  int                // graph size
	TotalMs       float64
	OverheadMs    float64 // total minus backend wait
	BackendMs     float64
	TokensUsed    int
	LeafHash      string // receipt leaf hash
	ReceiptStatus string
	ErrorCode     string // UPPER_SNAKE code of Error, "" on success
	Gate          string // the pre-flight gate that rejected the query, if any
	// Episode is the experience-ledger episode this answer committed (durably, before
	// the reply); nil when none was: rejected, not snr_ok, no ledger, or a cache hit
	// (which commits nothing new; the engine clears the original's episode).
	Episode *EpisodeRef

	// Citations are the sources of the "[n]" markers of Response (api.md: citations):
	// one per quoted unit of the embedded engine; empty for a model answer or no answer.
	Citations []Citation

	// Usage is what the pipeline's calls to external backends (decomposition and
	// answer) really sent and received, summed; zero when none was called (the
	// embedded engine answered). Reported is false when some call's count is estimated.
	Usage inference.Usage

	// AnsweredBy is the cluster member whose pipeline answered (actors/cluster); ""
	// on a standalone node.
	AnsweredBy string
}

// EpisodeRef names a committed episode: its sequence and episode_hash (the key of
// GET /v1/sel/episodes/{episode_hash}). JSON: {"sequence", "hash"}.
type EpisodeRef struct {
	Sequence uint64 `json:"sequence"`
	Hash     string `json:"hash"`
}
