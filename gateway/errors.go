package gateway

import "github.com/bizra/bizra/actors/catalog"

// Gateway sentinels. Their public codes are part of api.md.
var (
	ErrInvalidJSON    = catalog.New(catalog.InvalidJSON, "INVALID_JSON", "Malformed JSON body", "gateway: malformed json")
	ErrInvalidQuery   = catalog.New(catalog.InvalidInput, "INVALID_QUERY", "Invalid query", "gateway: invalid query")
	ErrInvalidRequest = catalog.New(catalog.InvalidInput, "INVALID_REQUEST", "Invalid request", "gateway: invalid request")
	ErrTooLarge       = catalog.New(catalog.PayloadTooLarge, "PAYLOAD_TOO_LARGE", "Request body exceeds 1 MiB", "gateway: body too large")
	ErrNotFound       = catalog.New(catalog.NotFound, "NOT_FOUND", "Not found", "gateway: no such route")
	ErrMethod         = catalog.New(catalog.MethodNotAllowed, "METHOD_NOT_ALLOWED", "Method not allowed", "gateway: method not allowed")
	ErrUnauthorized   = catalog.New(catalog.Unauthorized, "UNAUTHORIZED", "Missing or invalid API key", "gateway: unauthorized")
	ErrRateLimited    = catalog.New(catalog.RateLimited, "RATE_LIMITED", "Rate limit exceeded", "gateway: rate limited")
	ErrNotStarted     = catalog.New(catalog.Internal, "", "", "gateway: not started")
	ErrAlreadyStarted = catalog.New(catalog.Internal, "", "", "gateway: already started")
	ErrUnavailable    = catalog.New(catalog.Unavailable, "UNAVAILABLE", "This feature is not enabled on this node", "gateway: route has no backing component")
)
