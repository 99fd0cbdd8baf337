package skills

import "time"

// List asks for the registered skills. Filter is a status ("" = all).
type List struct {
	Filter string
}

// Listed answers List.
type Listed struct {
	Skills []Info `json:"skills"`
	Count  int    `json:"count"`
}

// Invoke asks to run a skill. Inputs must be plain JSON data (maps, slices, strings,
// numbers, booleans, nil) owned by the message. A zero Deadline means
// Options.InvokeTimeout from now; a later one is capped at it.
type Invoke struct {
	Skill    string
	Inputs   map[string]any
	Deadline time.Time
}

// Invocation answers Invoke: the result of one execution (bridge.md invoke_skill).
type Invocation struct {
	Success     bool    `json:"success"`
	SkillName   string  `json:"skill_name"`
	Output      any     `json:"output"`
	Error       *string `json:"error"`
	DurationMs  float64 `json:"duration_ms"`
	ExecutionID string  `json:"execution_id"`
	StartedAt   string  `json:"started_at"`   // RFC 3339, nanoseconds, UTC
	CompletedAt string  `json:"completed_at"` // RFC 3339, nanoseconds, UTC
}

// Outcome is the metric and receipt label of an Invocation: "success" or "failure".
func (i Invocation) Outcome() string {
	if i.Success {
		return "success"
	}
	return "failure"
}

// ErrorText returns the public error text, "" when there is none.
func (i Invocation) ErrorText() string {
	if i.Error == nil {
		return ""
	}
	return *i.Error
}

// Rejected answers Invoke when the skill did not run to a result. Err is a catalog
// sentinel (or wraps one); Invocation has Success false and the public text in Error.
type Rejected struct {
	Err        error
	Invocation Invocation
}
