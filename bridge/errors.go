package bridge

import "github.com/bizra/bizra/internal/catalog"

// Start refusals. Their text names the environment variable or value an operator must fix.
var (
	// ErrNoToken: BIZRA_BRIDGE_TOKEN missing, empty or shorter than MinTokenLen.
	ErrNoToken = catalog.New(catalog.Unavailable, "BRIDGE_TOKEN_MISSING", "", "bridge: BIZRA_BRIDGE_TOKEN missing, empty or shorter than 16 characters")
	// ErrBadRole: BIZRA_NODE_ROLE is not node or node0.
	ErrBadRole = catalog.New(catalog.Unavailable, "BRIDGE_ROLE_INVALID", "", "bridge: BIZRA_NODE_ROLE must be node or node0")
	// ErrGenesis: role node0 and the genesis chain does not validate.
	ErrGenesis = catalog.New(catalog.Unavailable, "NODE0_GENESIS_FAILED", "", "bridge: node0 genesis enforcement failed")
	// ErrNoReceiptKey: BIZRA_RECEIPT_PRIVATE_KEY_HEX missing or not 64 hex characters.
	ErrNoReceiptKey = catalog.New(catalog.Unavailable, "RECEIPT_KEY_MISSING", "", "bridge: BIZRA_RECEIPT_PRIVATE_KEY_HEX missing or not 64 hex characters")
	// ErrNotLoopback: the host is not a loopback address.
	ErrNotLoopback = catalog.New(catalog.Unavailable, "BRIDGE_HOST_NOT_LOOPBACK", "", "bridge: host must be loopback (127.0.0.1)")
	// ErrConfig: another invalid Options value (nil Core or Receipts, negative limit).
	ErrConfig = catalog.New(catalog.Unavailable, "BRIDGE_CONFIG_INVALID", "", "bridge: invalid options")
	// ErrStarted: Start called twice, or after Shutdown.
	ErrStarted = catalog.New(catalog.Conflict, "BRIDGE_ALREADY_STARTED", "", "bridge: already started or shut down")
)

// Request-time failures.
var (
	// ErrTimeout: a core call did not finish within the request deadline.
	ErrTimeout = catalog.New(catalog.Timeout, "TIMEOUT", "", "bridge: request deadline exceeded")
	// ErrLowEntropy: an actuator instruction below the entropy threshold.
	ErrLowEntropy = catalog.New(catalog.InvalidInput, "ACTUATOR_LOW_ENTROPY", "Instruction refused: entropy below 3.5 bits/char", "bridge: actuator instruction entropy too low")
	// ErrReceiptNotFound: get_receipt of an unknown id.
	ErrReceiptNotFound = catalog.New(catalog.NotFound, "RECEIPT_NOT_FOUND", "Receipt not found", "bridge: receipt not found")
	// ErrPanic: a method handler panicked; the client gets -32603 Internal error.
	ErrPanic = catalog.New(catalog.Internal, "INTERNAL", "Internal error", "bridge: handler panicked (recovered)")
)

// Client-side failures (Ping, Call, Client).
var (
	// ErrResponseTooLarge: a response line longer than the client's limit.
	ErrResponseTooLarge = catalog.New(catalog.PayloadTooLarge, "", "", "bridge client: response line too large")
)
