package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Bounds of --max-body (BIZRA_MAX_BODY).
const (
	DefaultMaxBody = 8 << 20
	MinMaxBody     = 1 << 20
	MaxMaxBody     = 256 << 20
)

// config is everything a runtime subcommand (run, api, bridge, query) reads from flags,
// the environment and <state>/.env.
type config struct {
	env    *envSource
	server bool // the API and bridge flags were bound

	StateDir, DataLake, Role string
	GenesisPublicKey         string
	APIHost                  string
	APIPort                  int
	APIKeys                  []string
	CORSOrigins              []string
	APIRate                  float64
	APIBurst                 int
	NoAPI, NoBridge          bool
	MaxBody                  int // body limit of the OpenAI pass-through paths, bytes

	BridgeHost              string
	BridgePort              int
	BridgeToken             string
	ReceiptKeyHex           string
	BridgeRate, BridgeGRate float64
	BridgeBurst, BridgeGB   int
	BridgeRequireSig        bool
	BridgeMaxSkew           time.Duration
	BridgeMaxConns          int
	BridgeMaxConnsPerIP     int
	BridgeAuthTimeout       time.Duration

	CacheEntries int
	CacheTTL     time.Duration
	LLMInFlight  int
	Workers      int
	Queue        int

	MaintenanceInterval time.Duration
	ReceiptMode         string
	ReceiptBatchMs      int
	ReceiptBatchMax     int
	InsecureTestKeys    bool
	EnforceIhsan        bool
	SELMaxEpisodes      int
	AcceptLedgerLoss    bool
	DenyPatterns        []string
	FaultInject         string

	ShutdownTimeout time.Duration
	LogLevel        string
	LogFormat       string
}

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error {
	*s = append(*s, v)
	return nil
}

// apiKeyList is the repeatable --api-key flag. An empty value (--api-key "$UNSET") is
// refused: it would leave API keys off and the API open without a word.
type apiKeyList []string

func (s *apiKeyList) String() string { return strings.Join(*s, ",") }
func (s *apiKeyList) Set(v string) error {
	v = strings.TrimSpace(v)
	if v == "" {
		return errors.New("empty API key (an unset variable?); give the key, or leave --api-key out to run without API keys")
	}
	*s = append(*s, v)
	return nil
}

// preScanStateDir finds --state-dir in args before the flag set exists, because the
// .env that supplies the other defaults lives there.
func preScanStateDir(args []string, getenv func(string) (string, bool)) string {
	for i, a := range args {
		for _, p := range []string{"--state-dir", "-state-dir"} {
			if a == p && i+1 < len(args) {
				return args[i+1]
			}
			if v, ok := strings.CutPrefix(a, p+"="); ok {
				return v
			}
		}
	}
	if v, ok := getenv("BIZRA_STATE_DIR"); ok && v != "" {
		return v
	}
	return "sovereign_state"
}

// newEnv loads the environment layers for a subcommand.
func newEnv(args []string, getenv func(string) (string, bool)) (*envSource, string, error) {
	state := preScanStateDir(args, getenv)
	dot, path, err := loadDotEnv(state)
	if err != nil {
		return nil, state, err
	}
	return &envSource{getenv: getenv, dotenv: dot, dotPath: path}, state, nil
}

// bindRuntimeFlags registers the runtime flags on fs with defaults taken from the
// environment layers, and returns the config they fill. Environment values that do not
// parse are reported at once, naming the variable.
func bindRuntimeFlags(fs *flag.FlagSet, env *envSource, state string, server bool) (*config, error) {
	c := &config{env: env, server: server}
	var err error
	must := func(e error) {
		if err == nil && e != nil {
			err = e
		}
	}
	fs.StringVar(&c.StateDir, "state-dir", state, "state folder (BIZRA_STATE_DIR)")
	fs.StringVar(&c.DataLake, "data-lake", env.str("BIZRA_DATA_LAKE_ROOT", "data-lake"), "data-lake root indexed for evidence (BIZRA_DATA_LAKE_ROOT)")
	fs.StringVar(&c.Role, "role", env.str("BIZRA_NODE_ROLE", "node"), "node role: node or node0 (BIZRA_NODE_ROLE)")
	fs.StringVar(&c.GenesisPublicKey, "genesis-public-key", env.str("BIZRA_GENESIS_PUBLIC_KEY", ""),
		"hex Ed25519 public key Node0's genesis must be signed with (role node0); unset, the first validated key is recorded in <state>/trusted_genesis_key and a later change refuses start (BIZRA_GENESIS_PUBLIC_KEY)")
	fs.StringVar(&c.LogLevel, "log-level", env.str("BIZRA_LOG_LEVEL", "info"), "log level: debug, info, warn, error")
	fs.StringVar(&c.LogFormat, "log-format", env.str("BIZRA_LOG_FORMAT", "auto"), "log format: auto (text on a TTY, JSON otherwise), text, json")
	entries, e := env.integer("BIZRA_CACHE_ENTRIES", 10000, -1, 10_000_000)
	must(e)
	fs.IntVar(&c.CacheEntries, "cache-entries", entries, "result-cache capacity in entries; -1 disables the cache (BIZRA_CACHE_ENTRIES)")
	ttl, e := env.duration("BIZRA_CACHE_TTL", 10*time.Minute)
	must(e)
	fs.DurationVar(&c.CacheTTL, "cache-ttl", ttl, "result-cache entry lifetime (BIZRA_CACHE_TTL)")
	inflight, e := env.integer("BIZRA_LLM_MAX_IN_FLIGHT", 32, 1, 100000)
	must(e)
	fs.IntVar(&c.LLMInFlight, "llm-max-in-flight", inflight, "requests in flight per external backend (pipeline and OpenAI pass-through share them); more get 503 (BIZRA_LLM_MAX_IN_FLIGHT)")
	fs.IntVar(&c.Workers, "workers", runtime.GOMAXPROCS(0), "query workers (CPU-bound reasoning runs on them)")
	q, e := env.integer("BIZRA_QUERY_QUEUE", 256, 1, 1_000_000)
	must(e)
	fs.IntVar(&c.Queue, "queue", q, "queries admitted at once (running plus waiting); more get 503 OVERLOADED (BIZRA_QUERY_QUEUE)")
	fs.StringVar(&c.ReceiptMode, "receipt-mode", env.str("BIZRA_RECEIPT_MODE", "batch"), "receipt signing: batch (Merkle batches) or single")
	fs.IntVar(&c.ReceiptBatchMs, "receipt-batch-ms", 5, "seal a receipt batch at least this often, in milliseconds")
	fs.IntVar(&c.ReceiptBatchMax, "receipt-batch-max", 1024, "seal a receipt batch at this many leaves")
	fs.BoolVar(&c.InsecureTestKeys, "insecure-test-keys", false, "accept well-known test receipt keys (tests only)")
	enforce, e := env.boolean("BIZRA_ENFORCE_IHSAN", false)
	must(e)
	fs.BoolVar(&c.EnforceIhsan, "enforce-ihsan", enforce, "withhold answers whose verdict is REJECTED (success:false)")
	fs.IntVar(&c.SELMaxEpisodes, "sel-max-episodes", 1_000_000, "experience-ledger retention in episodes (older ones pruned to an anchor)")
	accept, e := env.boolean("BIZRA_ACCEPT_LEDGER_LOSS", false)
	must(e)
	fs.BoolVar(&c.AcceptLedgerLoss, "accept-ledger-loss", accept, "start even though the experience ledger lost or altered acknowledged episodes (cut, rewritten or removed records, as bizra sel verify names them): logs a security event, re-anchors the ledger's witness on what is on disk and reports the ledger unverified (BIZRA_ACCEPT_LEDGER_LOSS)")
	fs.Var((*stringList)(&c.DenyPatterns), "deny-pattern", "safety-policy deny pattern, RE2 syntax (repeatable; replaces the built-in list)")
	fs.StringVar(&c.FaultInject, "fault-inject", "", "tests and drills only: KIND:N[:repeat] makes actors of KIND ("+faultKinds()+") panic on their N-th message")
	mi, e := env.duration("BIZRA_MAINTENANCE_INTERVAL", 10*time.Second)
	must(e)
	fs.DurationVar(&c.MaintenanceInterval, "maintenance-interval", mi, "maintenance loop period")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "time allowed for a clean shutdown on SIGINT/SIGTERM")
	c.BridgeToken = env.str("BIZRA_BRIDGE_TOKEN", "")
	c.ReceiptKeyHex = env.str("BIZRA_RECEIPT_PRIVATE_KEY_HEX", "")
	if server {
		port, e := env.integer("BIZRA_API_PORT", 8080, 0, 65535)
		must(e)
		fs.StringVar(&c.APIHost, "host", env.str("BIZRA_API_HOST", "127.0.0.1"), "API bind host (BIZRA_API_HOST)")
		fs.IntVar(&c.APIPort, "port", port, "API port, 0 picks a free one (BIZRA_API_PORT)")
		raw := env.str("BIZRA_API_KEYS", "")
		c.APIKeys = splitList(raw)
		if strings.TrimSpace(raw) != "" && len(c.APIKeys) == 0 {
			// Only commas and blanks: keys were meant to be on; starting with the API
			// open would fail open.
			must(&configError{"invalid BIZRA_API_KEYS: it holds no key (only commas or blanks); list the keys, or unset it to run without API keys"})
		}
		fs.Var((*apiKeyList)(&c.APIKeys), "api-key", "API key required on every route but /v1/health and the console's static page and assets (/, /console/…; its data comes through the keyed API) (repeatable; BIZRA_API_KEYS, comma-separated)")
		c.CORSOrigins = splitList(env.str("BIZRA_CORS_ORIGINS", ""))
		rate, e := env.float("BIZRA_API_RATE_PER_S", 0, 0, 1e7)
		must(e)
		fs.Float64Var(&c.APIRate, "api-rate", rate, "API token-bucket rate per key or IP per second, 0 = off (BIZRA_API_RATE_PER_S)")
		burst, e := env.integer("BIZRA_API_BURST", 0, 0, 1e7)
		must(e)
		fs.IntVar(&c.APIBurst, "api-burst", burst, "API token-bucket burst (BIZRA_API_BURST)")
		mb, e := env.integer("BIZRA_MAX_BODY", DefaultMaxBody, MinMaxBody, MaxMaxBody)
		must(e)
		fs.IntVar(&c.MaxBody, "max-body", mb, "request body limit in bytes of the OpenAI pass-through paths (/v1/chat/completions, /v1/embeddings, /v1/completions, /v1/responses: images, long contexts); the query API keeps 1 MiB (BIZRA_MAX_BODY)")
		fs.BoolVar(&c.NoAPI, "no-api", false, "do not start the HTTP API")
		fs.BoolVar(&c.NoBridge, "no-bridge", false, "do not start the desktop bridge")
		bport, e := env.integer("BIZRA_BRIDGE_PORT", 9742, 0, 65535)
		must(e)
		fs.StringVar(&c.BridgeHost, "bridge-host", "127.0.0.1", "bridge bind host (loopback only)")
		fs.IntVar(&c.BridgePort, "bridge-port", bport, "bridge port (BIZRA_BRIDGE_PORT)")
		br, e := env.float("BIZRA_BRIDGE_RATE_PER_S", 20, 0, 1e7)
		must(e)
		fs.Float64Var(&c.BridgeRate, "bridge-rate", br, "bridge per-connection rate per second, 0 = off (BIZRA_BRIDGE_RATE_PER_S)")
		bb, e := env.integer("BIZRA_BRIDGE_BURST", 30, 0, 1e7)
		must(e)
		fs.IntVar(&c.BridgeBurst, "bridge-burst", bb, "bridge per-connection burst (BIZRA_BRIDGE_BURST)")
		fs.Float64Var(&c.BridgeGRate, "bridge-global-rate", 0, "bridge global rate per second across connections, 0 = off")
		fs.IntVar(&c.BridgeGB, "bridge-global-burst", 0, "bridge global burst")
		fs.BoolVar(&c.BridgeRequireSig, "bridge-require-sig", false, "require X-BIZRA-SIG on every bridge request")
		fs.DurationVar(&c.BridgeMaxSkew, "bridge-max-skew", 120*time.Second, "largest accepted |now - X-BIZRA-TS|")
		fs.IntVar(&c.BridgeMaxConns, "bridge-max-conns", 1024, "bridge connection cap")
		bpip, e := env.integer("BIZRA_BRIDGE_MAX_CONNS_PER_IP", 256, 1, 1_000_000)
		must(e)
		fs.IntVar(&c.BridgeMaxConnsPerIP, "bridge-max-conns-per-ip", bpip, "bridge connections from one remote address; more get one TOO_MANY_CONNECTIONS line and are closed (loopback clients share 127.0.0.1) (BIZRA_BRIDGE_MAX_CONNS_PER_IP)")
		bat, e := env.duration("BIZRA_BRIDGE_AUTH_TIMEOUT", 10*time.Second)
		must(e)
		fs.DurationVar(&c.BridgeAuthTimeout, "bridge-auth-timeout", bat, "close a bridge connection that has sent no authenticated request this long after connecting (BIZRA_BRIDGE_AUTH_TIMEOUT)")
	}
	return c, err
}

// parseFlags parses args into fs, handling --help (full usage, exit 0) and errors
// (one line, exit 2). It returns a non-negative exit code when the caller must stop.
func parseFlags(fs *flag.FlagSet, args []string, synopsis string) int {
	fs.SetOutput(discard{})
	fs.Usage = func() {}
	err := fs.Parse(args)
	if err == flag.ErrHelp {
		fmt.Fprintf(os.Stdout, "usage: %s\n\nflags:\n", synopsis)
		fs.SetOutput(os.Stdout)
		fs.PrintDefaults()
		return 0
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bizra %s: %v (see --help)\n", fs.Name(), err)
		return 2
	}
	return -1
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// validate checks the values flags can carry that the flag package does not.
func (c *config) validate() error {
	switch c.ReceiptMode {
	case "batch", "single":
	default:
		return &configError{fmt.Sprintf("invalid --receipt-mode %q: want batch or single", c.ReceiptMode)}
	}
	if c.ReceiptBatchMs < 1 || c.ReceiptBatchMs > 60000 {
		return &configError{"invalid --receipt-batch-ms " + strconv.Itoa(c.ReceiptBatchMs) + ": want 1..60000"}
	}
	if c.ReceiptBatchMax < 1 || c.ReceiptBatchMax > 1<<20 {
		return &configError{"invalid --receipt-batch-max " + strconv.Itoa(c.ReceiptBatchMax) + ": want 1..1048576"}
	}
	if c.Workers < 1 || c.Workers > 1024 {
		return &configError{"invalid --workers " + strconv.Itoa(c.Workers) + ": want 1..1024"}
	}
	if c.MaintenanceInterval < 100*time.Millisecond {
		return &configError{"invalid --maintenance-interval: want at least 100ms"}
	}
	if c.ShutdownTimeout <= 0 {
		return &configError{"invalid --shutdown-timeout: want a positive duration"}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return &configError{fmt.Sprintf("invalid --log-level %q: want debug, info, warn or error", c.LogLevel)}
	}
	switch c.LogFormat {
	case "auto", "text", "json":
	default:
		return &configError{fmt.Sprintf("invalid --log-format %q: want auto, text or json", c.LogFormat)}
	}
	if c.server && c.BridgeAuthTimeout <= 0 {
		return &configError{"invalid --bridge-auth-timeout " + c.BridgeAuthTimeout.String() + ": want a positive duration"}
	}
	if c.server && c.BridgeMaxConnsPerIP < 1 {
		return &configError{"invalid --bridge-max-conns-per-ip " + strconv.Itoa(c.BridgeMaxConnsPerIP) + ": want at least 1"}
	}
	if c.server && (c.MaxBody < MinMaxBody || c.MaxBody > MaxMaxBody) {
		return &configError{fmt.Sprintf("invalid --max-body %d: want %d..%d bytes", c.MaxBody, MinMaxBody, MaxMaxBody)}
	}
	if c.APIPort < 0 || c.APIPort > 65535 || c.BridgePort < 0 || c.BridgePort > 65535 {
		return &configError{"invalid port: want 0..65535"}
	}
	return nil
}
