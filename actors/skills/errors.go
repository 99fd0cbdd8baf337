package skills

import (
	"errors"
	"fmt"

	"github.com/bizra/bizra/internal/catalog"
)

// ErrNotFound reports an unknown skill name.
var ErrNotFound = catalog.New(catalog.NotFound, "SKILL_NOT_FOUND", "Skill not found", "skills: not found")

// ErrDisabled reports a skill whose status is not available.
var ErrDisabled = catalog.New(catalog.Conflict, "SKILL_DISABLED", "Skill is disabled", "skills: disabled")

// ErrInvalidInput is the sentinel under every *InputError.
var ErrInvalidInput = catalog.New(catalog.InvalidInput, "SKILL_INVALID_INPUT", "Invalid skill input", "skills: invalid input")

// ErrOverloaded reports that MaxConcurrent invocations are already running.
var ErrOverloaded = catalog.New(catalog.Overloaded, "SKILL_OVERLOADED", "Too many skill invocations running, retry later", "skills: overloaded")

// ErrTimeout reports an invocation that did not finish within its deadline.
var ErrTimeout = catalog.New(catalog.Timeout, "SKILL_TIMEOUT", "The skill did not finish within its deadline", "skills: deadline exceeded")

// ErrClosed reports a registry that is not started or already shut down.
var ErrClosed = catalog.New(catalog.Unavailable, "SKILLS_UNAVAILABLE", "Skill registry unavailable", "skills: registry closed")

// ErrPanicked reports a skill whose code panicked (in Run, Info or its output's JSON
// encoding). The edges answer it 500 INTERNAL (api.md: a panic anywhere); the stack is
// logged and sovereign_panics_total{component="skills"} counts it.
var ErrPanicked = catalog.New(catalog.Internal, "INTERNAL", "Internal error", "skills: skill panicked")

// ErrOptions reports invalid Options.
var ErrOptions = catalog.New(catalog.Internal, "SKILLS_MISCONFIGURED", "", "skills: invalid options")

// InputError is a missing or invalid input of a skill. Text is public and names the
// input; edges may show it (Invocation.Error carries it too).
type InputError struct {
	Skill string
	Input string
	Text  string
}

func (e *InputError) Error() string {
	return fmt.Sprintf("skills: %s: input %q: %s", e.Skill, e.Input, e.Text)
}

// Public is the text a client sees, e.g. "Missing required input: operation".
func (e *InputError) Public() string { return e.Text }

// Unwrap returns ErrInvalidInput.
func (e *InputError) Unwrap() error { return ErrInvalidInput }

// WithPublicDetail returns err with the public text of the *InputError it holds
// attached as the catalog detail, so that an edge rendering it with catalog.Lookup
// names the input and what is wrong ("Invalid skill input: Missing required input:
// operation") instead of the bare sentinel message. Any other error is returned as is.
func WithPublicDetail(err error) error {
	var ie *InputError
	if errors.As(err, &ie) && ie.Text != "" && catalog.Detail(err) == "" {
		return catalog.WithDetail(err, ie.Text)
	}
	return err
}
