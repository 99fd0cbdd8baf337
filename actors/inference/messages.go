package inference

import (
	"time"

	"github.com/bizra/bizra/internal/tracing"
)

// Ask asks the service actor (Service.PID) for an answer to Request. Reply: *Answered.
// ID is optional (0: the service assigns one). A Request without Deadline gets Options.DefaultTimeout.
type Ask struct {
	ID      uint64
	Request Request
}

// Answered is the reply to Ask. Err is nil on success, else the failure: errors.Is
// matches this package's sentinels (ErrNoEvidence, ErrTimeout, …), Reason(Err) is its
// short public reason. On a degraded answer Err is nil and Answer.Degraded is true.
// With ErrNoEvidence after every backend failed, Answer still carries Degraded and
// DegradedReason.
type Answered struct {
	ID     uint64
	Answer Answer
	Err    error
}

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
	Usage Usage
	// Err is nil on success (ErrNoModel when no model could do it).
	Err error
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
	Err          error // nil on success (a replyError: sentinel and public reason)
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
	Err        error  // nil on success (a replyError: sentinel and public reason)
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
	Err    error
}

// FailureReply is the reply the caller of msg gets at once when the router crashed
// while serving it (the core supervisor answers with it): an Ask is answered
// ErrBackend, a DecomposeAsk ErrNoModel (the caller then splits the query itself).
// nil for any other message.
func FailureReply(msg any) any {
	switch m := msg.(type) {
	case *Ask:
		return &Answered{ID: m.ID, Err: failWith(ErrBackend, "the inference router restarted")}
	case *DecomposeAsk:
		return &Decomposed{ID: m.ID, Err: failWith(ErrNoModel, "the inference router restarted")}
	}
	return nil
}
