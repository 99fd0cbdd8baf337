package eval

import "errors"

// Errors of the harness. None reaches a client: the harness is a command, and these
// say why a run could not measure anything (exit 1), not how bizra did.
var (
	// ErrCorpusList: a corpus list file is unreadable, empty or malformed.
	ErrCorpusList = errors.New("eval: corpus list")
	// ErrMissingTool: go, man, col or sqlite3 is not installed.
	ErrMissingTool = errors.New("eval: missing tool")
	// ErrCorpusMissing: a listed document could not be rendered (with RequireAll).
	ErrCorpusMissing = errors.New("eval: corpus document missing")
	// ErrQuestions: a question file is unreadable or malformed, or names a document
	// outside its corpus list.
	ErrQuestions = errors.New("eval: questions")
	// ErrBroken: the run measured nothing meaningful (no questions, an empty index,
	// every answer or every score identical): the harness, not bizra, is broken.
	ErrBroken = errors.New("eval: harness broken")
	// ErrFTS: the SQLite FTS5 baseline failed.
	ErrFTS = errors.New("eval: sqlite fts5 baseline")
)
