package skills

import (
	"context"
	"slices"
)

// Skill statuses.
const (
	StatusAvailable = "available"
	StatusDisabled  = "disabled"
)

// InputType is the JSON type a required input must have.
type InputType string

// Input types.
const (
	TypeString InputType = "string" // a non-empty string
	TypeBool   InputType = "boolean"
	TypeNumber InputType = "number"
	TypeObject InputType = "object"
	TypeArray  InputType = "array"
	TypeAny    InputType = "any" // anything but null
)

// InputSpec is one required input.
type InputSpec struct {
	Name string    `json:"name"`
	Type InputType `json:"type"`
}

// Info describes a skill. The bridge's list_skills shows name, description, status,
// agent and tags; version and required_inputs are extra.
type Info struct {
	Name           string      `json:"name"`
	Description    string      `json:"description"`
	Status         string      `json:"status"`
	Agent          string      `json:"agent"`
	Tags           []string    `json:"tags"`
	Version        string      `json:"version"`
	RequiredInputs []InputSpec `json:"required_inputs"`
}

func (i Info) clone() Info {
	i.Tags = slices.Clone(i.Tags)
	i.RequiredInputs = slices.Clone(i.RequiredInputs)
	return i
}

// Skill is something the registry can run. Info must be constant. Run may do I/O,
// must honour ctx and be safe for concurrent use; its output must be JSON-encodable.
//
// Errors from Run: one that carries `Public() string` and a catalog InvalidInput kind
// (optionally `InputName() string`) becomes an *InputError; any other with
// `Public() string` is the skill's failure with that public text; anything else is
// logged and reported as "The skill failed unexpectedly.". A panic is rejected with
// ErrPanicked (see the package doc). Run may return an output
// alongside a failure (a partial result); it is kept in the Invocation.
type Skill interface {
	Info() Info
	Run(ctx context.Context, inputs map[string]any) (any, error)
}

// PublicError is an error whose text may be shown to a client.
type PublicError interface {
	error
	Public() string
}
