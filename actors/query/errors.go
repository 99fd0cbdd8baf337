package query

import "github.com/bizra/bizra/internal/catalog"

// Pipeline sentinels.
var (
	// ErrInvalidQuery is a request that breaks a schema rule; a detail names the field.
	ErrInvalidQuery = catalog.New(catalog.InvalidInput, "INVALID_QUERY", "Invalid query", "query: invalid request")
	// ErrOverloaded is returned at once when the bounded query queue is full.
	ErrOverloaded = catalog.New(catalog.Overloaded, "OVERLOADED", "Query queue is full, retry later", "query: queue full")
	// ErrTimeout is a query that did not finish within timeout_ms; nothing was cached or committed.
	ErrTimeout = catalog.New(catalog.Timeout, "TIMEOUT", "The query did not finish within timeout_ms", "query: deadline exceeded")
	// ErrWorkerRestarted is answered to the queries a crashed worker was holding.
	ErrWorkerRestarted = catalog.New(catalog.Unavailable, "WORKER_RESTARTED", "The query worker restarted; retry", "query: worker restarted")
	// ErrStopped is answered while the runtime is stopping.
	ErrStopped = catalog.New(catalog.Unavailable, "STOPPING", "The runtime is stopping", "query: runtime stopped")
	// ErrBadPattern is a safety deny pattern that does not compile.
	ErrBadPattern = catalog.New(catalog.Internal, "", "", "query: invalid safety deny pattern")
)
