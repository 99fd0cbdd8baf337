package scoring

import "github.com/bizra/bizra/internal/catalog"

// ErrPolicy is returned by Policy.Validate for weights or thresholds out of range.
var ErrPolicy = catalog.New(catalog.Internal, "", "", "scoring: invalid policy")
