package genesis

import "github.com/bizra/bizra/internal/catalog"

// Sentinels of the genesis package. Match them with errors.Is.
var (
	// ErrInvalidRole is returned by ParseRole for a BIZRA_NODE_ROLE other than node or node0.
	ErrInvalidRole = catalog.New(catalog.InvalidInput, "INVALID_NODE_ROLE", "Invalid node role", "genesis: invalid node role")
	// ErrEnforcement is wrapped by the error Enforce returns when a node0 chain does not validate.
	ErrEnforcement = catalog.New(catalog.Unavailable, "GENESIS_ENFORCEMENT_FAILED", "Node0 genesis enforcement failed", "genesis: node0 enforcement failed")
	// ErrExists is returned by Init when a genesis (or its hash file) already exists.
	ErrExists = catalog.New(catalog.Conflict, "GENESIS_EXISTS", "Genesis already exists", "genesis: already exists")
	// ErrInvalidInput is returned by Init for a bad name, location, time or directory.
	ErrInvalidInput = catalog.New(catalog.InvalidInput, "INVALID_GENESIS_INPUT", "Invalid genesis input", "genesis: invalid input")
	// ErrKeyInsecure is returned when the identity key file is readable by group or others,
	// is a symlink or is not a regular file.
	ErrKeyInsecure = catalog.New(catalog.Internal, "IDENTITY_KEY_INSECURE", "", "genesis: insecure identity key file")
	// ErrKeyMalformed is returned when the identity key file is not 64 hex characters.
	ErrKeyMalformed = catalog.New(catalog.Internal, "IDENTITY_KEY_MALFORMED", "", "genesis: malformed identity key file")
	// ErrNotFound is returned by Show when there is no genesis file.
	ErrNotFound = catalog.New(catalog.NotFound, "GENESIS_NOT_FOUND", "Genesis not found", "genesis: not found")
	// ErrMalformed is returned by Show and Load when the genesis file cannot be read as a genesis.
	ErrMalformed = catalog.New(catalog.InvalidJSON, "GENESIS_MALFORMED", "Malformed genesis", "genesis: malformed genesis file")
)

// Sentinels of the trust anchors (pin and trust on first use).
var (
	// ErrInvalidPublicKey is returned by ParsePublicKey for a value that is not 64 hex
	// characters (an Ed25519 public key).
	ErrInvalidPublicKey = catalog.New(catalog.InvalidInput, "INVALID_GENESIS_PUBLIC_KEY", "Invalid genesis public key", "genesis: invalid public key")
	// ErrUntrustedKey is wrapped by a *TrustError: the genesis is signed by a key other
	// than the pinned or recorded one.
	ErrUntrustedKey = catalog.New(catalog.Unavailable, "GENESIS_KEY_UNTRUSTED", "Node0 genesis key is not trusted", "genesis: untrusted genesis key")
	// ErrTrustFile is returned when the trust file cannot be read, parsed or written.
	ErrTrustFile = catalog.New(catalog.Internal, "", "", "genesis: trust file")
)
