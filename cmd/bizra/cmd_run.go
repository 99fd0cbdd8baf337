package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/bizra/bizra/actors/core"
	"github.com/bizra/bizra/actors/inference"
	"github.com/bizra/bizra/actors/ledger"
	"github.com/bizra/bizra/actors/query"
	"github.com/bizra/bizra/actors/receipt"
	"github.com/bizra/bizra/bridge"
	"github.com/bizra/bizra/gateway"
	"github.com/bizra/bizra/internal/catalog"
	"github.com/bizra/bizra/internal/pprofserver"
	"github.com/bizra/bizra/internal/tracing"
	"github.com/bizra/bizra/supervision"
	"github.com/bizra/bizra/supervision/genesis"
	"github.com/bizra/bizra/supervision/launcher"
	"github.com/bizra/bizra/supervision/node"
)

// serveMode selects what a runtime subcommand starts beside the core.
type serveMode struct {
	name   string
	api    bool
	bridge bool
}

func cmdRun(ctx context.Context, a *app, args []string) int {
	return serve(ctx, a, args, serveMode{name: "run", api: true, bridge: true})
}

func cmdAPI(ctx context.Context, a *app, args []string) int {
	return serve(ctx, a, args, serveMode{name: "api", api: true})
}

func cmdBridge(ctx context.Context, a *app, args []string) int {
	return serve(ctx, a, args, serveMode{name: "bridge", bridge: true})
}

// loadRuntimeConfig parses a runtime subcommand's flags over its environment layers.
// code ≥ 0 means stop with that exit code.
func loadRuntimeConfig(a *app, name, synopsis string, args []string, server bool) (*config, *flag.FlagSet, int) {
	env, state, err := newEnv(args, a.getenv)
	if err != nil {
		fmt.Fprintf(a.stderr, "bizra %s: %v\n", name, err)
		return nil, nil, 1
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	cfg, err := bindRuntimeFlags(fs, env, state, server)
	if err != nil {
		fmt.Fprintf(a.stderr, "bizra %s: %v\n", name, err)
		return nil, nil, 2
	}
	if code := parseFlags(fs, args, synopsis); code >= 0 {
		return nil, nil, code
	}
	if err := cfg.validate(); err != nil {
		fmt.Fprintf(a.stderr, "bizra %s: %v\n", name, err)
		return nil, nil, 2
	}
	return cfg, fs, -1
}

func newLogger(w io.Writer, cfg *config) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	cfg.logLevel = new(slog.LevelVar) // SIGHUP sets it (reloadOnHUP)
	cfg.logLevel.Set(lvl)
	hopts := &slog.HandlerOptions{Level: cfg.logLevel, ReplaceAttr: durationsInMs}
	format := cfg.LogFormat
	if format == "auto" {
		format = "json"
		if f, ok := w.(*os.File); ok {
			if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
				format = "text"
			}
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, hopts))
	}
	return slog.New(slog.NewJSONHandler(w, hopts))
}

// durationsInMs writes every time.Duration attribute as float milliseconds under its
// key with "_ms" appended (operations: durations are in ms everywhere in logs), so a
// package that logs a Duration cannot bring nanoseconds or "1.5s" text back.
func durationsInMs(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() != slog.KindDuration {
		return a
	}
	key := a.Key
	if !strings.HasSuffix(key, "_ms") {
		key += "_ms"
	}
	return slog.Float64(key, float64(a.Value.Duration().Nanoseconds())/1e6)
}

// runtimeOptions turns cfg into the core's options (the node builder sets the actor
// system, logger and metrics).
func runtimeOptions(cfg *config, log *slog.Logger) (core.Options, error) {
	if cfg.ReceiptKeyHex == "" {
		return core.Options{}, errors.New("BIZRA_RECEIPT_PRIVATE_KEY_HEX is not set (run `bizra init` to create " + cfg.StateDir + "/.env, or export it)")
	}
	secret, err := receipt.ParseSecretHex(cfg.ReceiptKeyHex, cfg.InsecureTestKeys)
	if err != nil {
		return core.Options{}, err
	}
	infCfg, err := inference.ConfigFromEnv(func(k string) string { v, _ := cfg.env.lookup(k); return v })
	if err != nil {
		return core.Options{}, err
	}
	var genesisPin ed25519.PublicKey
	if cfg.GenesisPublicKey != "" {
		if genesisPin, err = genesis.ParsePublicKey(cfg.GenesisPublicKey); err != nil {
			got := fmt.Sprintf("got %d characters", len(strings.TrimSpace(cfg.GenesisPublicKey)))
			if len(strings.TrimSpace(cfg.GenesisPublicKey)) == 64 {
				got = "got a value that is not hex"
			}
			return core.Options{}, &configError{"invalid --genesis-public-key / BIZRA_GENESIS_PUBLIC_KEY: want 64 hex characters (Node0's identity.public_key), " + got}
		}
		if cfg.Role != string(genesis.RoleNode0) {
			log.Warn("--genesis-public-key / BIZRA_GENESIS_PUBLIC_KEY is ignored: only role node0 has a genesis", "role", cfg.Role)
		}
	}
	fault, err := supervision.ParseFaultInjection(cfg.FaultInject)
	if err != nil {
		return core.Options{}, &configError{fmt.Sprintf("invalid --fault-inject %q: %v", cfg.FaultInject, err)}
	}
	if fault.Kind != "" && !slices.Contains(core.KindNames(), fault.Kind) {
		return core.Options{}, &configError{fmt.Sprintf("invalid --fault-inject %q: kind %q is not one of (%s)", cfg.FaultInject, fault.Kind, faultKinds())}
	}
	var deny []string
	if len(cfg.DenyPatterns) > 0 {
		deny = cfg.DenyPatterns
	}
	return core.Options{Version: version,
		StateDir: cfg.StateDir, DataLake: cfg.DataLake, Role: cfg.Role, Inference: infCfg,
		GenesisPublicKey: genesisPin, GenesisPinSource: "--genesis-public-key / BIZRA_GENESIS_PUBLIC_KEY",
		InferenceOptions: inference.Options{MaxInFlight: cfg.LLMInFlight},
		CacheEntries:     cfg.CacheEntries, CacheTTL: cfg.CacheTTL, Workers: cfg.Workers, Queue: cfg.Queue,
		ReceiptSecret: secret, ReceiptMode: cfg.ReceiptMode,
		ReceiptBatch: time.Duration(cfg.ReceiptBatchMs) * time.Millisecond, ReceiptBatchMax: cfg.ReceiptBatchMax,
		SELMaxEpisodes: cfg.SELMaxEpisodes, AcceptLedgerLoss: cfg.AcceptLedgerLoss, DenyPatterns: deny, EnforceIhsan: cfg.EnforceIhsan,
		MaintenanceInterval: cfg.MaintenanceInterval, FaultInjection: fault, Index: indexOptions(cfg)}, nil
}

// indexOptions are the data-lake index's options from cfg. A one-shot query reuses
// the saved index and watches nothing; it may save what changed because it holds the
// state folder alone (the experience ledger's lock refuses it beside a running node),
// and every save is a temporary file renamed into place, so no reader sees a mix.
func indexOptions(cfg *config) core.IndexOptions {
	o := core.IndexOptions{NoCache: cfg.NoIndexCache, RescanInterval: cfg.IndexRescan}
	if cfg.IndexRescan == 0 {
		o.RescanInterval = -1
	}
	if cfg.oneShot {
		o.NoWatch = true
	}
	return o
}

// buildNode builds the node `bizra run` runs from cfg, with the API and the bridge
// when asked. The caller starts it (launcher.Run over Components, or Start).
func buildNode(cfg *config, log *slog.Logger, set *metrics.Set, api, withBridge bool) (*node.Node, error) {
	ro, err := runtimeOptions(cfg, log)
	if err != nil {
		return nil, err
	}
	o := node.Options{Logger: log, Metrics: set, Runtime: ro, Cluster: cfg.Cluster.options()}
	if o.Runtime.Tracer, err = tracing.New(tracing.Options{Endpoint: cfg.OTLPEndpoint, ServiceVersion: version, Logger: log}); err != nil {
		return nil, &configError{"invalid --otlp-endpoint: " + err.Error()}
	}
	if cfg.Pprof != "" {
		o.Pprof = &pprofserver.Options{Addr: cfg.Pprof, AllowNonLoopback: cfg.PprofAllowRemote}
	}
	if api {
		o.API = &node.APIOptions{Gateway: gatewayOptions(cfg), Built: func() { warnOpenAPI(cfg, log) }}
	}
	if withBridge {
		bo := bridgeOptions(cfg)
		o.Bridge = &bo
	}
	return node.New(o)
}

func serve(ctx context.Context, a *app, args []string, mode serveMode) int {
	synopsis := "bizra " + mode.name + " [flags]"
	cfg, fs, code := loadRuntimeConfig(a, mode.name, synopsis, args, true)
	if code >= 0 {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(a.stderr, "bizra %s: unexpected argument %q\n", mode.name, fs.Arg(0))
		return 2
	}
	if mode.name == "run" {
		mode.api, mode.bridge = !cfg.NoAPI, !cfg.NoBridge
	}
	log := newLogger(a.stderr, cfg)
	if _, err := genesis.ParseRole(cfg.Role); err != nil {
		fmt.Fprintf(a.stderr, "bizra %s: %v\n", mode.name, err)
		return 1
	}
	set := metrics.NewSet()
	metrics.ExposeMetadata(true)
	skip := ""
	if mode.bridge && mode.name == "run" {
		skip = bridgeSkipReason(cfg)
	}
	n, err := buildNode(cfg, log, set, mode.api, mode.bridge && skip == "")
	if err != nil {
		fmt.Fprintf(a.stderr, "bizra %s: %v\n", mode.name, err)
		var ce *configError
		if errors.As(err, &ce) {
			return 2
		}
		return 1
	}
	defer n.Close()
	var setRate func(float64, int) error
	if mode.api {
		setRate = n.SetAPIRateLimit
	}
	defer reloadOnHUP(a, mode.name, args, cfg, log, n.Runtime, setRate)()
	if skip != "" {
		log.Warn("desktop bridge not started: "+skip, "hint", "run `bizra init` or export the variables; `bizra run --no-bridge` silences this")
		n.Runtime.SetBridgeStats(func() core.BridgeStats { return core.BridgeStats{} })
	}
	err = launcher.Run(ctx, launcher.Options{Logger: log, ShutdownTimeout: cfg.ShutdownTimeout, Ready: func() {
		log.Info("bizra ready", "version", version, "role", cfg.Role, "api", mode.api, "bridge", mode.bridge)
	}}, n.Components()...)
	if err != nil {
		msg := flatErr(err)
		if errors.Is(err, ledger.ErrLoss) {
			msg += " (`bizra sel verify` shows it; start with --accept-ledger-loss to accept the loss)"
		}
		fmt.Fprintf(a.stderr, "bizra %s: %s\n", mode.name, msg)
		return 1
	}
	return 0
}

func flatErr(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }

// bridgeSkipReason says why `bizra run` will not start the bridge, or "".
func bridgeSkipReason(cfg *config) string {
	switch {
	case cfg.BridgeToken == "":
		return "BIZRA_BRIDGE_TOKEN is not set"
	case cfg.ReceiptKeyHex == "":
		return "BIZRA_RECEIPT_PRIVATE_KEY_HEX is not set"
	}
	return ""
}

// gatewayOptions are the HTTP gateway's options from cfg (the node builder adds the
// logger, metrics, core and routes).
func gatewayOptions(cfg *config) gateway.Options {
	return gateway.Options{Addr: net.JoinHostPort(cfg.APIHost, strconv.Itoa(cfg.APIPort)), AccessLog: cfg.AccessLog,
		APIKeys: cfg.APIKeys, RatePerSec: cfg.APIRate, Burst: cfg.APIBurst, CORSOrigins: cfg.CORSOrigins,
		MaxPassBodyBytes: cfg.MaxBody}
}

// isLoopback reports whether host names the loopback interface.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// warnOpenAPI logs a security line when the API binds a non-loopback host with no API
// key: every route (queries, receipts, the ledger, smart_files over the data lake) is
// then open to whoever reaches the address.
func warnOpenAPI(cfg *config, log *slog.Logger) {
	if len(cfg.APIKeys) == 0 && !isLoopback(cfg.APIHost) {
		log.Warn("security: the API binds a non-loopback host without API keys; every route is open to the network (set --api-key / BIZRA_API_KEYS, or bind 127.0.0.1)",
			"security_event", "api_open_without_keys", "host", cfg.APIHost)
	}
}

// bridgeOptions are the bridge's options from cfg (the node builder adds the logger,
// metrics, the runtime's core and receipts, and its genesis guard).
func bridgeOptions(cfg *config) bridge.Options {
	return bridge.Options{Host: cfg.BridgeHost, Port: cfg.BridgePort,
		Token: cfg.BridgeToken, SecretHex: cfg.ReceiptKeyHex, Role: cfg.Role, StateDir: cfg.StateDir,
		MaxConns: cfg.BridgeMaxConns, MaxSkew: cfg.BridgeMaxSkew, RatePerSec: cfg.BridgeRate, Burst: cfg.BridgeBurst,
		GlobalRatePerSec: cfg.BridgeGRate, GlobalBurst: cfg.BridgeGB, RequireSig: cfg.BridgeRequireSig,
		MaxConnsPerIP: cfg.BridgeMaxConnsPerIP, AuthTimeout: cfg.BridgeAuthTimeout, AccessLog: cfg.AccessLog}
}

// newBridge builds a bridge from cfg over a runtime, as the node builder does.
func newBridge(cfg *config, rt *core.Runtime, log *slog.Logger, set *metrics.Set) (*bridge.Bridge, error) {
	o := bridgeOptions(cfg)
	o.Logger, o.Metrics = log, set
	return node.NewBridge(o, rt)
}

// cmdQuery runs one query in process (or against --api URL) and prints it.
func cmdQuery(ctx context.Context, a *app, args []string) int {
	const synopsis = `bizra query "QUESTION" [--json] [--api URL] [--max-depth N] [--no-reasoning]`
	env, state, err := newEnv(args, a.getenv)
	if err != nil {
		fmt.Fprintf(a.stderr, "bizra query: %v\n", err)
		return 1
	}
	fs := flag.NewFlagSet("query", flag.ContinueOnError)
	cfg, err := bindRuntimeFlags(fs, env, state, false)
	if err != nil {
		fmt.Fprintf(a.stderr, "bizra query: %v\n", err)
		return 2
	}
	asJSON := fs.Bool("json", false, "print the query result (core.md contract fields) as JSON")
	api := fs.String("api", "", "send the query to a running node's API instead of running it in process")
	apiKey := fs.String("api-key", firstKey(env.str("BIZRA_API_KEYS", "")), "API key for --api")
	maxDepth := fs.Int("max-depth", query.DefaultMaxDepth, "graph-of-thought depth bound, 1..10")
	noReason := fs.Bool("no-reasoning", false, "skip the graph of thought (plain retrieval)")
	timeout := fs.Duration("timeout", 30*time.Second, "query deadline")
	// Interleaved flags: pull the question out wherever it sits.
	var question []string
	rest := args
	for {
		if code := parseFlags(fs, rest, synopsis); code >= 0 {
			return code
		}
		if fs.NArg() == 0 {
			break
		}
		question = append(question, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if err := cfg.validate(); err != nil {
		fmt.Fprintf(a.stderr, "bizra query: %v\n", err)
		return 2
	}
	q := strings.TrimSpace(strings.Join(question, " "))
	if q == "" {
		fmt.Fprintf(a.stderr, "bizra query: a question is required: %s\n", synopsis)
		return 2
	}
	req := query.NewRequest(q)
	req.MaxDepth, req.RequireReasoning, req.TimeoutMs = *maxDepth, !*noReason, int(timeout.Milliseconds())
	req.Method = "cli query"
	if err := query.Validate(&req); err != nil {
		fmt.Fprintf(a.stderr, "bizra query: %s\n", publicText(err))
		return 2
	}
	if *api != "" {
		return queryRemote(ctx, a, *api, *apiKey, req, *timeout, *asJSON)
	}
	log := newLogger(io.Discard, cfg)
	if cfg.LogLevel == "debug" {
		log = newLogger(a.stderr, cfg)
	}
	set := metrics.NewSet()
	cfg.oneShot = true
	n, err := buildNode(cfg, log, set, false, false)
	if err != nil {
		fmt.Fprintf(a.stderr, "bizra query: %v\n", err)
		return 1
	}
	defer n.Close()
	if err := n.Start(ctx); err != nil {
		fmt.Fprintf(a.stderr, "bizra query: %v\n", flatErr(err))
		return 1
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		_ = n.Shutdown(sctx)
	}()
	rt := n.Runtime
	qctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	// The saved index (if any) is loaded; the scan that follows reads only what changed.
	if err := rt.WaitIndex(qctx); err != nil {
		fmt.Fprintf(a.stderr, "bizra query: %s\n", publicText(err))
		return 1
	}
	res, err := rt.Query(qctx, req)
	if err != nil {
		fmt.Fprintf(a.stderr, "bizra query: %s\n", publicText(err))
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(res)
	} else {
		printResult(a.stdout, &res)
	}
	if !res.Success {
		return 1
	}
	return 0
}

// publicText renders an error's public code and message (never internal text).
func publicText(err error) string {
	p := catalog.Lookup(err)
	return p.Code + ": " + p.Message
}

func queryRemote(ctx context.Context, a *app, api, key string, req query.Request, timeout time.Duration, asJSON bool) int {
	cf := clientFlags{api: api, apiKey: key, timeout: timeout + 5*time.Second}
	body, _ := json.Marshal(map[string]any{"query": req.Query, "max_depth": req.MaxDepth,
		"require_reasoning": req.RequireReasoning, "timeout_ms": req.TimeoutMs})
	status, out, err := cf.do(ctx, "POST", "/v1/query", strings.NewReader(string(body)))
	if err != nil {
		fmt.Fprintf(a.stderr, "bizra query: %v\n", err)
		return 1
	}
	if asJSON || status != 200 {
		a.stdout.Write(out)
		fmt.Fprintln(a.stdout)
		if status != 200 {
			return 1
		}
		return 0
	}
	var v gateway.QueryView
	if err := json.Unmarshal(out, &v); err != nil {
		a.stdout.Write(out)
		return 0
	}
	fmt.Fprintln(a.stdout, v.Answer)
	for _, e := range v.Evidence {
		fmt.Fprintf(a.stdout, "  [%s] score %.2f\n", e.Source, e.Score)
	}
	if !v.Success {
		return 1
	}
	return 0
}

func printResult(w io.Writer, r *query.Result) {
	if r.Success {
		fmt.Fprintln(w, r.Response)
	} else if r.Error != nil {
		fmt.Fprintln(w, *r.Error)
	}
	fmt.Fprintln(w)
	for _, e := range r.Evidence {
		fmt.Fprintf(w, "  source: %s (score %.2f)\n", e.Source, e.Score)
	}
	f := func(p *float64) string {
		if p == nil {
			return "n/a"
		}
		return strconv.FormatFloat(*p, 'f', 3, 64)
	}
	fmt.Fprintf(w, "\nverdict %s · snr %s · ihsan %s · depth %d · model %s · %.1f ms · receipt %s\n",
		r.Verdict, f(r.SNRScore), f(r.IhsanScore), r.ReasoningDepth, r.ModelUsed, r.ProcessingTimeMs, r.ReceiptID)
}

// faultKinds lists the actor kinds --fault-inject accepts, from the core's registry,
// so "(worker, ledger, …)" in the help stays true as kinds come and go.
func faultKinds() string { return strings.Join(core.KindNames(), ", ") }
