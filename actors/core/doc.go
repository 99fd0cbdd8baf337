// Package core assembles bizra's supervised actor core and is the one object both front
// doors talk to. It owns, and starts in dependency order:
//
//  1. the origin guard (node role and, for node0, the genesis chain);
//  2. the state folders;
//  3. the ledgers: the experience ledger (replayed and verified) and the two receipt
//     logs (<state>/receipts for queries and skills, <state>/bridge_receipts for the
//     bridge);
//  4. the data-lake index;
//  5. the inference service (one actor per external backend, plus the embedded engine);
//  6. the root supervisor actor "core", whose children are the result-cache actor and
//     the bounded pool of query workers, supervised with a real exponential backoff and
//     an intensity limit (package supervision);
//  7. the skill registry and the maintenance loop.
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
