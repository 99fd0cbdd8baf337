// Package skills implements the skill registry: the catalogue of invocable
// skills (name, description, status, agent, tags, version, required inputs) and their
// execution, reached through the bridge methods list_skills and invoke_skill and the
// routes GET /v1/skills and POST /v1/skills/{name}/invoke.
//
// The registry owns its skills (fixed at New) and a pool of at most MaxConcurrent
// running invocations. With a DataLakeRoot it registers the Smart Files skill
// (package smartfiles).
//
// # Messages
//
// Accepts:
//   - List{Filter}: answers Listed (sorted by name; Filter "" lists all, otherwise the
//     skills whose status equals it).
//   - Invoke{Skill, Inputs, Deadline}: answers Invocation once the skill has run, or
//     Rejected{Err, Invocation} when it did not run to a result: unknown skill
//     (ErrNotFound, SKILL_NOT_FOUND), disabled (ErrDisabled), a missing or mistyped
//     required input or an input the skill refused (*InputError, ErrInvalidInput),
//     the pool full (ErrOverloaded, answered at once), the deadline passed
//     (ErrTimeout), the registry shut down (ErrClosed) or the skill's code panicked
//     in Run, Info or its output's encoding (ErrPanicked, 500 INTERNAL at the edges;
//     the stack is logged once and sovereign_panics_total{component="skills"} counts
//     it).
//
// A skill's own failure is an Invocation with Success false and a public Error text;
// it is never reported as a success, and internal error chains never reach it (they
// are logged).
//
// The Registry is plain code, not an actor: validation runs on the caller's goroutine,
// and an accepted Invoke runs on a goroutine the Registry owns (and Shutdown waits
// for), under a context with the invocation's deadline; the caller waits for its
// answer at most until that deadline plus a grace period. Receipts are issued by the caller, from
// the Invocation (see Invocation.Outcome).
//
// # Concurrency
//
// List, Invoke, Start and Shutdown are safe for concurrent use. Running invocations
// are bounded by Options.MaxConcurrent; past it an Invoke is answered ErrOverloaded at
// once. Skills must be safe for concurrent Run calls.
package skills
