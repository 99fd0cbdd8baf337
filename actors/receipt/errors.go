package receipt

import "github.com/bizra/bizra/internal/catalog"

// Sentinel errors of the receipt package. Edges render them through catalog.Lookup;
// wrap them with %w and match with errors.Is.
var (
	// ErrInvalidID reports a receipt id that is not of the form <br|qr|sk>-<13 digits>-<16 hex>.
	ErrInvalidID = catalog.New(catalog.InvalidInput, "INVALID_RECEIPT_ID",
		"Receipt id must look like qr-<13 digits>-<16 hex>", "receipt: invalid receipt id")
	// ErrNotFound reports a well-formed id that this log does not hold.
	ErrNotFound = catalog.New(catalog.NotFound, "RECEIPT_NOT_FOUND", "Receipt not found", "receipt: not found")
	// ErrPending reports a receipt that was issued but whose batch is not sealed and
	// durable yet; retry after the batch interval.
	ErrPending = catalog.New(catalog.Conflict, "RECEIPT_PENDING",
		"Receipt not sealed yet, retry after the batch interval", "receipt: not sealed yet")
	// ErrInvalidInput reports an Input that cannot become a receipt (unknown kind or
	// status, oversized text, a non-finite score, a value with no canonical encoding).
	ErrInvalidInput = catalog.New(catalog.InvalidInput, "INVALID_RECEIPT_INPUT", "", "receipt: invalid input")
	// ErrOverloaded reports that MaxPending receipts wait for their seal; the caller may retry.
	ErrOverloaded = catalog.New(catalog.Overloaded, "RECEIPT_BACKLOG_FULL", "", "receipt: too many pending receipts")
	// ErrClosed reports a call on a Service that is not started or already shut down.
	ErrClosed = catalog.New(catalog.Unavailable, "RECEIPTS_UNAVAILABLE", "", "receipt: service not running")
	// ErrKey reports a missing or malformed BIZRA_RECEIPT_PRIVATE_KEY_HEX.
	ErrKey = catalog.New(catalog.Internal, "", "", "receipt: BIZRA_RECEIPT_PRIVATE_KEY_HEX must be 64 hex characters (32 bytes)")
	// ErrInsecureKey reports a well-known or trivially weak secret refused without allowInsecure.
	ErrInsecureKey = catalog.New(catalog.Internal, "", "",
		"receipt: BIZRA_RECEIPT_PRIVATE_KEY_HEX is a well-known test value; generate one with `bizra init` or pass --insecure-test-keys")
	// ErrOptions reports invalid Options given to New.
	ErrOptions = catalog.New(catalog.Internal, "", "", "receipt: invalid options")
	// ErrStorage reports that a receipt record could not be made durable (a failed write
	// or fsync, or no fsync within IssueTimeout): Issue returned no receipt and nothing
	// was recorded. Edges answer 503 STORAGE_UNAVAILABLE.
	ErrStorage = catalog.New(catalog.Unavailable, "STORAGE_UNAVAILABLE",
		"The receipt log could not be written; nothing was recorded", "receipt: log write failed")
	// ErrStore reports a failure of the durable log (open, write, fsync, read).
	ErrStore = catalog.New(catalog.Internal, "", "", "receipt: log store failure")
)
