package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/bizra/bizra/actors/receipt"
	"github.com/bizra/bizra/supervision/gate"
	"github.com/bizra/bizra/supervision/genesis"
	"github.com/bizra/bizra/supervision/node"
)

// cmdGate is `bizra gate [--strict] [--json]` (operations.md, Control-plane gate).
func cmdGate(ctx context.Context, a *app, args []string) int {
	const cmd = "gate"
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	strict := fs.Bool("strict", false, "also fail on warnings (a receipt sealed later than its batch interval allows, a p95 over 50 ms, ...)")
	asJSON := fs.Bool("json", false, "print the report as JSON and write it to <out>/gate-<timestamp>.json")
	out := fs.String("out", ".proof-forge", "folder for the JSON report")
	only := fs.String("only", "", "comma-separated checks to run (default: all nine)")
	pos, code := toolFlags(a, fs, args, "bizra gate [--strict] [--json] [--out DIR] [--only CHECK,...]")
	if code >= 0 {
		return code
	}
	if len(pos) > 0 {
		return toolUsage(a, cmd, "unexpected argument %q", pos[0])
	}
	var sel []string
	if *only != "" {
		known := map[string]bool{}
		for _, n := range gate.CheckNames {
			known[n] = true
		}
		for _, n := range splitList(*only) {
			if !known[n] {
				return toolUsage(a, cmd, "unknown check %q in --only (checks: %s)", n, strings.Join(gate.CheckNames, ", "))
			}
			sel = append(sel, n)
		}
	}
	rep, err := gate.Run(ctx, gateOptions(*strict, a.getenv), sel)
	if err != nil {
		return toolFail(a, cmd, err)
	}
	if *asJSON {
		b, _ := json.MarshalIndent(rep, "", "  ")
		b = append(b, '\n')
		a.stdout.Write(b)
		path, err := gate.WriteReport(*out, b, time.Now().UTC())
		if err != nil {
			fmt.Fprintf(a.stderr, "bizra gate: cannot write the report: %v\n", err)
			return 1
		}
		fmt.Fprintf(a.stderr, "bizra gate: report written to %s\n", path)
	} else {
		gate.PrintTable(a.stdout, &rep)
	}
	if !rep.Score.Passed {
		return 1
	}
	return 0
}

// gateOptions connect the gate harness to this command's configuration: its nodes are
// parsed and built as `bizra run` builds them, and what it judges of the operator's
// configuration is read here, the only place flags and env are read.
func gateOptions(strict bool, getenv func(string) (string, bool)) gate.Options {
	return gate.Options{Strict: strict, Node: gateNode,
		SeedLake: func(dir string) error { _, err := seedDataLake(dir); return err },
		Defaults: gateDefaults,
		Machine:  func() (gate.Machine, error) { return gateMachine(getenv) }}
}

// gateNode parses a gate node's runtime flags over its state folder's .env, with no
// operator environment, and builds the node with the API and the bridge.
func gateNode(args []string, logw io.Writer) (*node.Node, gate.NodeConfig, error) {
	a := &app{stdout: io.Discard, stderr: logw, getenv: func(string) (string, bool) { return "", false }}
	buf, _ := logw.(fmt.Stringer)
	cfg, _, code := loadRuntimeConfig(a, "gate", "bizra gate", args, true)
	if code >= 0 {
		why := ""
		if buf != nil {
			why = strings.TrimSpace(buf.String())
		}
		return nil, gate.NodeConfig{}, fmt.Errorf("configuration refused (exit %d): %s", code, why)
	}
	if _, err := genesis.ParseRole(cfg.Role); err != nil {
		return nil, gate.NodeConfig{}, err
	}
	set := metrics.NewSet()
	metrics.ExposeMetadata(true)
	n, err := buildNode(cfg, newLogger(logw, cfg), set, true, true)
	if err != nil {
		return nil, gate.NodeConfig{}, err
	}
	return n, gate.NodeConfig{ReceiptBatch: time.Duration(cfg.ReceiptBatchMs) * time.Millisecond}, nil
}

// gateDefaults reads the compiled defaults: runtime flags and client flags over an
// empty environment.
func gateDefaults() (gate.Defaults, error) {
	none := func(string) (string, bool) { return "", false }
	fs := flag.NewFlagSet("defaults", flag.ContinueOnError)
	cfg, err := bindRuntimeFlags(fs, &envSource{getenv: none, dotenv: map[string]string{}}, "sovereign_state", true)
	if err == nil {
		err = fs.Parse(nil)
	}
	if err != nil {
		return gate.Defaults{}, err
	}
	var cf clientFlags
	bindClientFlags(flag.NewFlagSet("client", flag.ContinueOnError), &app{getenv: none}, &cf)
	return gate.Defaults{APIHost: cfg.APIHost, APIPort: cfg.APIPort, BridgeHost: cfg.BridgeHost,
		BridgePort: cfg.BridgePort, ClientAPI: cf.api}, nil
}

// gateMachine reads this machine's effective configuration from the operator's
// environment over its state folder's .env.
func gateMachine(getenv func(string) (string, bool)) (gate.Machine, error) {
	env, state, err := newEnv(nil, getenv)
	if err != nil {
		return gate.Machine{}, err
	}
	m := gate.Machine{StateDir: state}
	efs := flag.NewFlagSet("effective", flag.ContinueOnError)
	if ec, err := bindRuntimeFlags(efs, env, state, true); err == nil {
		m.APIHost = ec.APIHost
	}
	for _, k := range []string{"BIZRA_BRIDGE_TOKEN", receipt.EnvKey, "BIZRA_API_KEYS", "BIZRA_LLM_API_KEY", "LM_API_TOKEN"} {
		m.Secrets = append(m.Secrets, splitList(env.str(k, ""))...)
	}
	return m, nil
}
