package core

import "github.com/bizra/bizra/internal/catalog"

// Core sentinels.
var (
	// ErrStart wraps the first component that failed to start.
	ErrStart = catalog.New(catalog.Unavailable, "", "", "core: start failed")
	// ErrNotRunning is returned by calls made before Start or after Shutdown.
	ErrNotRunning = catalog.New(catalog.Unavailable, "NOT_RUNNING", "The runtime is not running", "core: not running")
	// ErrOptions reports invalid Options.
	ErrOptions = catalog.New(catalog.Internal, "", "", "core: invalid options")
)
