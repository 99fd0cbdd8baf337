package gate

import (
	"io"
	"time"

	"github.com/bizra/bizra/supervision/node"
)

// Options configures Run. Node, SeedLake, Defaults and Machine are required; a check
// whose hook is missing fails, naming it.
type Options struct {
	// Strict also fails a check on warnings.
	Strict bool
	// Node builds (does not start) a node from runtime flags exactly as `bizra run`
	// would, seeing no operator environment, only the state folder's .env and args; it
	// logs to log. A configuration it refuses is an error saying why.
	Node func(args []string, log io.Writer) (*node.Node, NodeConfig, error)
	// SeedLake seeds an empty data lake with bizra's own docs, as `bizra init` does.
	SeedLake func(dir string) error
	// Defaults reads the compiled configuration defaults (no environment, no .env).
	Defaults func() (Defaults, error)
	// Machine reads this machine's effective configuration (the operator's environment
	// over its state folder's .env).
	Machine func() (Machine, error)
}

// NodeConfig is what the checks need to know of a built node's configuration.
type NodeConfig struct {
	// ReceiptBatch is the receipt sealer's batch interval.
	ReceiptBatch time.Duration
}

// Defaults are the compiled defaults localhost_defaults judges.
type Defaults struct {
	APIHost    string
	APIPort    int
	BridgeHost string
	BridgePort int
	// ClientAPI is the default --api URL of the client subcommands.
	ClientAPI string
}

// Machine is this machine's effective configuration.
type Machine struct {
	// APIHost is the API host the operator's configuration sets; "" when its flags
	// could not be read.
	APIHost string
	// StateDir is the operator's state folder.
	StateDir string
	// Secrets are the live secrets of the configuration (bridge token, receipt key,
	// API keys, LLM keys), to look for in logs and tracked files.
	Secrets []string
}
