package bridge

import (
	"context"
	"encoding/json"
	"time"

	"github.com/bizra/bizra/actors/query"
)

// Core is what the bridge needs from the runtime. Every method is safe for concurrent
// use and honours ctx's deadline. Errors carry internal/catalog sentinels; the bridge
// renders them with catalog.Lookup and never sends their text to a client.
type Core interface {
	// Query runs one query through the same pipeline and gates as POST /v1/query.
	Query(ctx context.Context, req query.Request) (query.Result, error)
	// Status reports the node's role, origin snapshot, health and inference backend.
	Status(ctx context.Context) StatusInfo
	// ListSkills lists the registered skills; filter, when not empty, selects a status.
	ListSkills(ctx context.Context, filter string) ([]SkillInfo, error)
	// InvokeSkill runs one skill with its inputs.
	InvokeSkill(ctx context.Context, name string, inputs map[string]any) (SkillResult, error)
}

// StatusInfo is the runtime part of the `status` result (bridge.md).
type StatusInfo struct {
	// Role is "node" or "node0"; empty means the bridge's own Options.Role.
	Role string
	// Origin is the origin snapshot (proof.md); nil renders as {}.
	Origin    map[string]any
	Health    HealthInfo
	Inference InferenceInfo
}

// HealthInfo is `status.health`.
type HealthInfo struct {
	Status string  `json:"status"`
	Score  float64 `json:"score"`
}

// InferenceInfo is `status.inference`.
type InferenceInfo struct {
	Available bool   `json:"available"`
	Backend   string `json:"backend"`
	Model     string `json:"model"`
	Status    string `json:"status"`
}

// SkillInfo is one entry of `list_skills`.
type SkillInfo struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Status      string   `json:"status"`
	Agent       string   `json:"agent"`
	Tags        []string `json:"tags"`
}

// SkillResult is the result of `invoke_skill`. Error is nil on success.
type SkillResult struct {
	Success     bool    `json:"success"`
	SkillName   string  `json:"skill_name"`
	Output      any     `json:"output"`
	Error       *string `json:"error"`
	DurationMs  float64 `json:"duration_ms"`
	ExecutionID string  `json:"execution_id"`
	StartedAt   string  `json:"started_at"`
	CompletedAt string  `json:"completed_at"`
}

// Receipts stores one receipt for every authenticated bridge request. It is safe for
// concurrent use.
type Receipts interface {
	// Issue builds, stores and (in its batch) seals a receipt of kind "bridge".
	Issue(in ReceiptInput) (ReceiptRef, error)
	// Get returns a copy of a stored receipt. An id not in receipt-id form returns an
	// error whose catalog kind is InvalidInput; an unknown id one of kind NotFound.
	Get(id string) (json.RawMessage, error)
}

// Receipt statuses the bridge issues.
const (
	ReceiptAccepted = "accepted"
	ReceiptRejected = "rejected"
)

// ReceiptInput is what the bridge knows about one authenticated request.
type ReceiptInput struct {
	Status string // ReceiptAccepted or ReceiptRejected
	Method string // the JSON-RPC method as sent (truncated to 256 bytes)
	// Params is the request's params exactly as sent (json.RawMessage), nil when absent.
	Params any
	// Payload is the result before the receipt was attached (json.RawMessage), nil on error.
	Payload  any
	Reason   string // public UPPER_SNAKE code of the failure, "" when accepted
	Duration time.Duration
}

// ReceiptRef is what a response carries about its receipt.
type ReceiptRef struct {
	ReceiptID string `json:"receipt_id"`
	Status    string `json:"status"`
	// LeafHash is the receipt's leaf hash when the store reports one (proof.md).
	LeafHash string `json:"leaf_hash,omitempty"`
}
