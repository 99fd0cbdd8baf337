// Package core assembles bizra's supervised actor core and is the one object both front
// doors talk to. It owns, and starts in dependency order:
//
//  1. the origin guard (node role and, for node0, the genesis chain);
//  2. the state folders;
//  3. the core supervisor actor "core" (tree.go), started before any component so that
//     every actor of the node is its child, supervised with a real exponential
//     backoff and an intensity limit (package supervision);
//  4. the ledgers: the experience ledger (replayed and verified) and the two receipt
//     logs (<state>/receipts for queries and skills, <state>/bridge_receipts for the
//     bridge), whose writer and sealer actors it spawns under the tree;
//  5. the data-lake index;
//  6. the inference service (a router actor and one actor per external backend, under
//     the tree through its Spawner);
//  7. the reasoning pool and the query workers (under the tree);
//  8. the skill registry and the maintenance loop: plain code with owned goroutines.
//
// # The tree
//
//	core (backoff + intensity limit; FailureReply per message kind)
//	├── ledger       permanent   the single entry to the ledger's commit queue
//	├── sealer       permanent   the query log's batch and chain position
//	├── sealer-2     permanent   the bridge log's
//	├── inference…   transient   the router's pending asks, each backend's circuit
//	└── worker…      permanent   the stages of the queries each holds
//
// Kinds (the registry in tree.go) are the bounded labels of
// sovereign_actor_restarts_total{kind}, of /v1/status "actors" (restarts, escalations,
// mailbox, parent, policy, children) and the kinds --fault-inject accepts. A crashed
// child restarts from a fresh producer; whatever it must resume with is kept outside
// it and handed over explicitly (the sealer's seal book, the root's child specs). The
// caller of the message a crash lost is answered at once in the reply type it expects
// (query.FailureReply, ledger.FailureReply, receipt.FailureReply, inference asks); runs
// still queued at a worker that stops are answered by the engine (WorkerStopped). A
// crash loop past the intensity limit escalates: protoactor restarts "core", whose
// fresh instance spawns every recorded child again under its name, so the PIDs the
// components keep stay valid. Permanent children that stop while the node runs are
// spawned again; transient ones stay stopped.
//
// Known limit: protoactor registers a spawned actor's process before its mailbox has
// its dispatcher, so a message sent to a child's PID at the instant that child is
// spawned again under its name (after a root restart, or a permanent child's stop) is
// a data race inside protoactor. A backoff restart of one child does not respawn it
// (same process, fresh instance) and is not affected.
//
// A component that fails to start stops the start, and everything already started is
// shut down again in reverse order. Shutdown is idempotent and runs in reverse order.
//
// The core accepts no messages itself; it exposes Query (the pipeline, with the
// caller's deadline), Health (cheap), Status (the /v1/status document), WriteMetrics, and
// accessors for the components the edges serve directly (receipts, ledger, skills,
// artifacts, genesis). Nothing here knows about HTTP or JSON-RPC.
//
// # Concurrency
//
// Every exported method is safe for concurrent use once Start has returned.
package core
