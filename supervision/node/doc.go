// Package node builds one bizra node from an Options struct: the actor system, the
// runtime core, the HTTP gateway with its OpenAI-compatible front, and the desktop
// bridge, in the order the launcher starts them (runtime, api, bridge) and stops them
// (the reverse). `bizra run`, `bizra gate` and the bench all build their nodes here, so
// what the gate and the bench measure is what `bizra run` runs.
//
// It lives under supervision/ beside the launcher because it is launcher-adjacent: it
// turns a configuration into the launcher's components and owns nothing at run time
// beyond them. It reads no flags and no environment; cmd/bizra turns those into
// Options.
//
// # Order
//
// New builds the actor system, the runtime and the bridge (so a bad bridge
// configuration is refused before anything starts). The API is built when its turn
// comes, after the runtime has started, because the OpenAI front needs the running
// inference service. Components returns them in start order for launcher.Run, after
// the pprof listener (Options.Pprof) and the tracer (Runtime.Tracer) when configured:
// pprof, tracing, runtime, api, bridge, so the tracer stops after the runtime and
// flushes the last spans;
// Start and Shutdown run the same order in process (gate, bench). Close shuts the
// actor system down once the components have stopped.
package node
