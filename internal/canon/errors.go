package canon

import "errors"

// ErrEncode reports a value that has no canonical JSON encoding (NaN, infinities,
// channels, functions, invalid UTF-8 in the input document).
var ErrEncode = errors.New("canon: cannot encode canonically")
