package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// registerTools registers the operator tools (genesis, receipt, sel, ping, dev, gate,
// doctor), each in its own cmd_<name>.go.
func registerTools() {
	register("genesis", "Node0 genesis ceremony: init, verify, show", cmdGenesis)
	register("receipt", "verify a receipt document (verify FILE|-) or look one up (show ID)", cmdReceipt)
	register("sel", "experience ledger: verify, export, episodes", cmdSEL)
	register("ping", "authenticated ping of the desktop bridge; prints the response line", cmdPing)
	register("dev", "developer tools: mock-llm (a mock OpenAI/Ollama backend)", cmdDev)

	// gate and doctor register here (cmd_gate.go, cmd_doctor.go):
	register("gate", "control-plane hardening gate: nine checks on throwaway nodes (--strict, --json)", cmdGate)
	register("doctor", "on-call escalation inputs: version, health, status, metrics, bridge, ledger, genesis, config (--bundle FILE)", cmdDoctor)
}

// subcommand is one verb of a command group (genesis init, sel verify, ...).
type subcommand struct {
	name, synopsis string
	run            func(ctx context.Context, a *app, args []string) int
}

// toolGroup returns a command that dispatches its first argument to one of subs.
// "--help" lists the verbs (exit 0); none or an unknown verb is one line, exit 2.
func toolGroup(name string, subs []subcommand) func(ctx context.Context, a *app, args []string) int {
	names := make([]string, len(subs))
	for i, s := range subs {
		names[i] = s.name
	}
	list := func(w io.Writer) {
		fmt.Fprintf(w, "usage: bizra %s <%s> [flags]\n\n", name, strings.Join(names, "|"))
		for _, s := range subs {
			fmt.Fprintf(w, "  %-9s %s\n", s.name, s.synopsis)
		}
		fmt.Fprintf(w, "\nRun 'bizra %s <verb> --help' for its flags.\n", name)
	}
	return func(ctx context.Context, a *app, args []string) int {
		if len(args) == 0 {
			fmt.Fprintf(a.stderr, "bizra %s: missing subcommand (one of %s; see --help)\n", name, strings.Join(names, ", "))
			return 2
		}
		switch args[0] {
		case "-h", "-help", "--help", "help":
			list(a.stdout)
			return 0
		}
		for _, s := range subs {
			if s.name == args[0] {
				return s.run(ctx, a, args[1:])
			}
		}
		fmt.Fprintf(a.stderr, "bizra %s: unknown subcommand %q (one of %s)\n", name, args[0], strings.Join(names, ", "))
		return 2
	}
}

// toolFlags parses args into fs for an operator tool, writing to the app's streams:
// --help prints the usage and flags to stdout (exit 0); a bad flag is one line on
// stderr (exit 2). Flags and positional arguments may be interleaved ("verify FILE
// --json"); everything after "--" is positional. It returns the positional arguments
// and a non-negative exit code when the caller must stop.
func toolFlags(a *app, fs *flag.FlagSet, args []string, usage string) ([]string, int) {
	fs.SetOutput(discard{})
	fs.Usage = func() {}
	var pos []string
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(a.stdout, "usage: %s\n\nflags:\n", usage)
			fs.SetOutput(a.stdout)
			fs.PrintDefaults()
			return nil, 0
		}
		if err != nil {
			fmt.Fprintf(a.stderr, "bizra %s: %v (see --help)\n", fs.Name(), err)
			return nil, 2
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, -1
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), -1
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// toolUsage prints one line for a bad invocation and returns exit code 2.
func toolUsage(a *app, cmd, format string, args ...any) int {
	fmt.Fprintf(a.stderr, "bizra %s: %s (see --help)\n", cmd, fmt.Sprintf(format, args...))
	return 2
}

// toolFail prints the reason a command failed and returns exit code 1.
func toolFail(a *app, cmd string, err error) int {
	fmt.Fprintf(a.stderr, "bizra %s: %v\n", cmd, err)
	return 1
}

// stateDirFlag binds --state-dir with the BIZRA_STATE_DIR / sovereign_state default.
func stateDirFlag(fs *flag.FlagSet, a *app) *string {
	return fs.String("state-dir", envOr(a, "BIZRA_STATE_DIR", "sovereign_state"), "state folder (BIZRA_STATE_DIR)")
}

// printJSON writes v as indented JSON and a newline.
func printJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
