// Command bizra is the one binary of the bizra sovereign runtime: it starts the runtime
// (run, api, bridge), runs one query in process, talks to a running node (status,
// health, metrics, ping), and carries the operator tools (init, genesis, receipt, sel,
// gate, doctor, dev mock-llm). Flags and environment are read here and nowhere else.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// version is the release of this build (api.md: /v1/health "version").
const version = "0.1.0"

// command is one subcommand.
type command struct {
	synopsis string
	run      func(ctx context.Context, a *app, args []string) int
}

// app carries the process's standard streams and environment into subcommands, so
// tests can run them in process.
type app struct {
	stdout, stderr io.Writer
	getenv         func(string) (string, bool)
	// hup delivers SIGHUP (nil in tests that run commands in process): a running node
	// reloads on it (reload.go); every other command ignores it.
	hup <-chan os.Signal
}

var commands = map[string]command{}

func register(name, synopsis string, run func(ctx context.Context, a *app, args []string) int) {
	commands[name] = command{synopsis: synopsis, run: run}
}

func registerAll() {
	register("init", "create the state folder, .env with fresh secrets, and seed the data lake", cmdInit)
	register("run", "start the runtime, the HTTP API and the desktop bridge (the full launcher)", cmdRun)
	register("api", "start the runtime and the HTTP API", cmdAPI)
	register("bridge", "start the runtime and the desktop bridge", cmdBridge)
	register("query", "run one query in process (or against --api URL) and print the result", cmdQuery)
	register("status", "print GET /v1/status of a running node", cmdStatus)
	register("health", "print GET /v1/health of a running node; exit 1 unless it serves", cmdHealth)
	register("metrics", "print GET /v1/metrics of a running node", cmdMetrics)
	registerTools()
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "bizra %s — sovereign AI runtime\n\nusage: bizra <command> [flags]\n\ncommands:\n", version)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].synopsis)
	}
	fmt.Fprintf(w, "\nRun 'bizra <command> --help' for its flags. Quick start: make run\n")
}

func main() {
	registerAll()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	hup := make(chan os.Signal, 1) // SIGHUP must never kill the process
	signal.Notify(hup, syscall.SIGHUP)
	code := dispatch(ctx, &app{stdout: os.Stdout, stderr: os.Stderr, getenv: os.LookupEnv, hup: hup}, os.Args[1:])
	stop()
	os.Exit(code)
}

func dispatch(ctx context.Context, a *app, args []string) int {
	if len(args) == 0 {
		usage(a.stderr)
		return 2
	}
	switch args[0] {
	case "-h", "--help", "help":
		usage(a.stdout)
		return 0
	case "-v", "--version", "version":
		fmt.Fprintf(a.stdout, "bizra %s\n", version)
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(a.stderr, "bizra: unknown command %q (commands: %s)\n", args[0], strings.Join(commandNames(), ", "))
		return 2
	}
	return c.run(ctx, a, args[1:])
}

func commandNames() []string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
