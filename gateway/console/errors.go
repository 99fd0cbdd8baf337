package console

import "github.com/bizra/bizra/internal/catalog"

// Console sentinels. ErrAssets is a build defect (an index referencing a missing
// asset, a file type without a content type) and never reaches a client: New fails,
// and with it the gateway's construction. ErrNoAsset is the 404 of an unknown name
// under /console/.
var (
	ErrAssets  = catalog.New(catalog.Internal, "", "", "console: embedded assets are inconsistent")
	ErrNoAsset = catalog.New(catalog.NotFound, "NOT_FOUND", "Not found: no such console asset", "console: no such asset")
)
