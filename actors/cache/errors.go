package cache

import "github.com/bizra/bizra/internal/catalog"

// ErrBadOptions reports a negative capacity or TTL.
var ErrBadOptions = catalog.New(catalog.Internal, "", "", "cache: invalid options")
