package scoring

import "github.com/bizra/bizra/actors/catalog"

// ErrPolicy is returned by Policy.Validate for weights or thresholds out of range.
var ErrPolicy = catalog.New(catalog.Internal, "", "", "scoring: invalid policy")
