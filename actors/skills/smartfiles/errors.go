package smartfiles

import (
	"fmt"

	"github.com/bizra/bizra/internal/catalog"
)

// ErrInvalidInput is the sentinel under every *InputError.
var ErrInvalidInput = catalog.New(catalog.InvalidInput, "SMART_FILES_INVALID_INPUT", "Invalid input for smart_files", "smartfiles: invalid input")

// ErrFailed is the sentinel under every *Failure: the operation ran and failed.
var ErrFailed = catalog.New(catalog.Conflict, "SMART_FILES_FAILED", "The smart_files operation failed", "smartfiles: operation failed")

// ErrRoot reports a data-lake root that is missing, relative or not a directory.
var ErrRoot = catalog.New(catalog.Unavailable, "DATA_LAKE_UNAVAILABLE", "Data lake unavailable", "smartfiles: bad data-lake root")

// InputError is a bad input, named. Public is safe to show a client.
type InputError struct {
	Input  string // the input's name, e.g. "dry_run"
	Reason string // public text, e.g. "must be a boolean or \"true\"/\"false\""
}

func (e *InputError) Error() string {
	return fmt.Sprintf("smartfiles: input %q: %s", e.Input, e.Reason)
}

// Public is the text a client sees.
func (e *InputError) Public() string {
	if e.Reason == "missing" {
		return "Missing required input: " + e.Input
	}
	return fmt.Sprintf("Invalid input '%s': %s", e.Input, e.Reason)
}

// InputName names the bad input.
func (e *InputError) InputName() string { return e.Input }

// Unwrap returns ErrInvalidInput.
func (e *InputError) Unwrap() error { return ErrInvalidInput }

// Failure is an operation that ran and failed; Text is public.
type Failure struct {
	Text string
}

func (e *Failure) Error() string { return "smartfiles: " + e.Text }

// Public is the text a client sees.
func (e *Failure) Public() string { return e.Text }

// Unwrap returns ErrFailed.
func (e *Failure) Unwrap() error { return ErrFailed }

func fail(format string, args ...any) error {
	return &Failure{Text: fmt.Sprintf(format, args...)}
}

func badInput(name, reason string) error {
	return &InputError{Input: name, Reason: reason}
}
