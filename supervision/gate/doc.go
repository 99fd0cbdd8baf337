// Package gate is the harness behind `bizra gate` (operations.md, Control-plane gate):
// nine checks that each start throw-away nodes on loopback over temporary state, probe
// them over HTTP and the bridge, and report {name, passed, score, details} per check.
//
// It lives under supervision/ beside the launcher and the node builder because it
// drives whole nodes: every node it starts is built by the same code `bizra run` uses
// (Options.Node, which cmd/bizra implements with its flag parsing and package node).
// The package reads no flags and no environment itself; what it needs of the operator's
// configuration (the compiled defaults, this machine's effective settings and secrets)
// comes through Options, so cmd/bizra stays the only reader of flags and env.
//
// Run executes the checks; PrintTable and WriteReport render the report.
package gate
