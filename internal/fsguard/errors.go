package fsguard

import "github.com/bizra/bizra/internal/catalog"

// Sentinels of the fsguard package. Match them with errors.Is.
var (
	// ErrOverlap is wrapped by CheckSeparate's refusal: the state folder and the data
	// lake contain one another.
	ErrOverlap = catalog.New(catalog.InvalidInput, "STATE_LAKE_OVERLAP", "The state folder and the data lake overlap", "fsguard: state folder and data lake overlap")
	// ErrResolve is wrapped when a path cannot be made absolute or its symlinks
	// cannot be resolved.
	ErrResolve = catalog.New(catalog.Internal, "", "", "fsguard: cannot resolve path")
)
