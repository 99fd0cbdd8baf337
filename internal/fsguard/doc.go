// Package fsguard keeps the state folder and the data lake apart (operations.md,
// "Trust anchors, separation and cluster"): the state folder holds the bridge token,
// the receipt key and the genesis identity key, and the data lake is what the index
// serves as evidence and what the smart_files skill reads and writes, so neither may
// contain the other. Resolve canonicalises a path (symlinks resolved, also for a path
// that does not exist yet), Within tests containment on canonical paths, and
// CheckSeparate is the start-up check.
//
// # Concurrency
//
// Every function is safe for concurrent use; they read the file system and hold no
// state. A path that changes between the check and its use is the caller's concern:
// the index and smart_files re-check every path they are given.
package fsguard
