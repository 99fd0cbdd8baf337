package inference

import (
	"fmt"
	"time"

	"github.com/bizra/bizra/internal/tracing"
)

// Ask asks the service actor (Service.PID) for an answer to Request. Reply: *Answered.
// ID is optional (0: the service assigns one). A Request without Deadline gets Options.DefaultTimeout.
type Ask struct {
	ID      uint64
	Request Request
}

// Answered is the reply to Ask. Code is "" on success, else the public catalog code of
// the failure (use Err); Reason is a short public reason. On a degraded answer Code is
// "" and Answer.Degraded is true. With Code NO_EVIDENCE after every backend failed,
// Answer still carries Degraded and DegradedReason.
type Answered struct {
	ID     uint64
	Answer Answer
	Code   string
	Reason string
}

// Err returns the reply's error as a catalog error (nil on success).
func (a *Answered) Err() error { return replyErr(a.Code, a.Reason) }

// DecomposeAsk asks the service actor to split Query into at most Max sub-questions with
// the first external model that answers. Reply: *Decomposed.
type DecomposeAsk struct {
	ID       uint64
	Query    string
	Max      int
	Deadline time.Time
	// TraceParent is sent to the backend as traceparent (Request.TraceParent).
	TraceParent tracing.Parent
}

// Decomposed is the reply to DecomposeAsk (Code NO_MODEL when no model could do it).
type Decomposed struct {
	ID           uint64
	SubQuestions []string
	Backend      string
	Model        string
	// Usage is what the decomposition call sent and received upstream (add it to the
	// answer's Answer.Usage for a query's total).
	Usage  Usage
	Code   string
	Reason string
}

// Err returns the reply's error as a catalog error (nil on success).
func (d *Decomposed) Err() error { return replyErr(d.Code, d.Reason) }

func replyErr(code, reason string) error {
	s := sentinelFor(code)
	if s == nil {
		return nil
	}
	if reason == "" {
		return s
	}
	return fmt.Errorf("%s: %w", reason, s)
}

// --- between the service (router) actor and the backend actors ---

// call asks one backend actor for an answer (or a decomposition). Reply: *callResult.
type call struct {
	ID        uint64
	Decompose bool
	Request   Request // Decompose: Query, Deadline and MaxTokens (= max sub-questions) only
}

// callResult is a backend actor's reply to call.
type callResult struct {
	ID           uint64
	Answer       Answer
	SubQuestions []string
	Code         string // "" on success
	Reason       string // public
	// Rejected: the backend answered 400, 413 or 422, so the request itself is
	// invalid and no other external backend is asked (the fallback policy).
	Rejected bool
	// Failure details for the router's log: the HTTP status (0 when none), the
	// internal error text and how long the call took.
	Status   int
	Detail   string
	Duration time.Duration
	// Streamed: pieces of this answer already went to Request.OnDelta, so a failure
	// is final (no fallback).
	Streamed bool
}

// callDone is sent by a call's goroutine to its backend actor.
type callDone struct {
	ID         uint64
	Result     chatResult
	Model      string // the model used (discovered when none was configured)
	Duration   time.Duration
	Code       string // "" on success
	Reason     string // public
	Detail     string // internal, for the log
	Excluded   bool   // not the backend's fault: does not count against the circuit
	ReachedNet bool   // an HTTP exchange happened (observe its duration)
	Rejected   bool   // 400, 413 or 422: the request itself is invalid (callResult.Rejected)
	Status     int    // the HTTP status of a failed call (0 when none)
	Streamed   bool   // pieces went to Request.OnDelta (callResult.Streamed)
}

// probeTick starts a health probe (ignored while one runs).
type probeTick struct{}

// probeDone is sent by a probe goroutine to its backend actor.
type probeDone struct {
	OK     bool
	Model  string   // first listed model
	Models []string // every listed model
	// ToolModels are the listed models that take tools.
	ToolModels []string
	Reason     string
	Detail     string
	Excluded   bool
	Status     int // the HTTP status of a failed listing (0 when none)
	Duration   time.Duration
}

// embeddedDone is sent by an embedded-engine goroutine to the router.
type embeddedDone struct {
	ID     uint64
	Answer Answer
	Code   string
	Reason string
}
