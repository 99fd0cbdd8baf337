package reasoning

import "github.com/bizra/bizra/internal/catalog"

// ErrEmptyQuery is returned by Run for a query that is empty after trimming.
var ErrEmptyQuery = catalog.New(catalog.InvalidInput, "INVALID_QUERY", "query must not be empty",
	"reasoning: empty query")

// ErrNoContentTerms is returned by Run for a query made only of punctuation, stop words
// or one-letter tokens: there is nothing to search for, and an empty graph must not be
// presented as reasoning.
var ErrNoContentTerms = catalog.New(catalog.InvalidInput, "INVALID_QUERY", "query has no searchable terms",
	"reasoning: query has no content terms")

// ErrQueryTooLong is returned by Run for a query over MaxQueryBytes.
var ErrQueryTooLong = catalog.New(catalog.InvalidInput, "INVALID_QUERY", "query is too long",
	"reasoning: query too long")

// ErrOptions is returned by Run for RunOptions out of range (max_depth outside 1..10,
// negative branching or top-k).
var ErrOptions = catalog.New(catalog.InvalidInput, "INVALID_QUERY", "max_depth must be between 1 and 10",
	"reasoning: invalid options")

// ErrNoSearcher is returned by Run when no index is given (a wiring bug).
var ErrNoSearcher = catalog.New(catalog.Internal, "", "", "reasoning: nil searcher")
