package gateway

import "github.com/bizra/bizra/internal/catalog"

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
	// ErrInternal answers a request whose handler panicked (the stack is logged).
	ErrInternal = catalog.New(catalog.Internal, "INTERNAL", "Internal error", "gateway: handler panicked")
	// ErrBusy answers a connection refused because MaxConns connections are open.
	ErrBusy = catalog.New(catalog.Overloaded, "OVERLOADED", "Too many open connections, retry later", "gateway: connection limit reached")
	// ErrHeaderTooLarge and ErrReadTimeout render fasthttp's transport errors. A request
	// line or headers past the read buffer is a 400 like any request it cannot parse
	// (a 10,000-character receipt id is refused 400, api.md); a read timeout is sent
	// with status 408 (the catalog has no kind of its own for it).
	ErrHeaderTooLarge = catalog.New(catalog.InvalidInput, "INVALID_REQUEST", "Invalid request: request line or headers too large", "gateway: request headers exceed the read buffer")
	ErrReadTimeout    = catalog.New(catalog.InvalidInput, "REQUEST_TIMEOUT", "The request was not received in time", "gateway: request read timed out")
	// ErrInvalidUTF8 refuses a request body that is not valid UTF-8.
	ErrInvalidUTF8 = catalog.WithDetail(ErrInvalidJSON, "body is not valid UTF-8")
)
