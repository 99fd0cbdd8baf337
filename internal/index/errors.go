package index

import "github.com/bizra/bizra/internal/catalog"

// ErrRoot is returned by Build when the data-lake root is empty, missing or not a
// readable directory.
var ErrRoot = catalog.New(catalog.Unavailable, "DATA_LAKE_UNAVAILABLE",
	"Data lake is not available", "index: data-lake root is not a readable directory")

// ErrOptions is returned by Build for negative or inconsistent Options.
var ErrOptions = catalog.New(catalog.Internal, "", "", "index: invalid options")

// ErrStateDir is returned by Build when the data-lake root is the state folder or
// inside it (the index would serve the node's keys as evidence).
var ErrStateDir = catalog.New(catalog.Unavailable, "DATA_LAKE_IN_STATE_DIR",
	"Data lake is inside the state folder", "index: data-lake root inside the state folder")

// ErrSavedIndex wraps a failure to read or write the saved index (<state>/index/). A
// saved index that cannot be used is discarded and rebuilt; it never fails a start.
var ErrSavedIndex = catalog.New(catalog.Internal, "", "", "index: saved index")

// ErrNotReady is returned while the data lake's first index is being built (the
// node answers health and status meanwhile; queries get 503 and may retry).
var ErrNotReady = catalog.New(catalog.Unavailable, "INDEX_NOT_READY",
	"The data-lake index is still being built; retry shortly", "index: not ready")

// ErrLakeOptions is returned by NewLake for invalid LakeOptions.
var ErrLakeOptions = catalog.New(catalog.Internal, "", "", "index: invalid lake options")
