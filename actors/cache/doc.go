// Package cache implements the result cache of the query pipeline: a sharded LRU with
// a TTL, keyed by the SHA-256 of the canonical encoding of a query's identity
// (core.md, step 2).
//
// # Design
//
// The store is split into shards, each a map plus an intrusive LRU list under its own
// mutex, so Get and Put from many query workers and gateway handlers do not contend on
// one lock. A cache hit costs no actor hop at all: the hit path is the hottest path of
// the gateway (api.md, cache-hit throughput goal), and a RequestFuture round trip costs
// about 7 µs and 10 allocations on our class of machine (anchors.md §2). Upkeep is
// plain calls too: the maintenance loop calls Sweep (drop expired entries) and Trim
// (evict down to a number of entries, for the memory budget) directly. There is no
// cache actor: the shards' mutexes already serialise every change, so a mailbox in
// front of them would own nothing.
//
// Store is generic over its value; the pipeline stores query results. Get returns a
// copy of the stored value; slices and maps inside it are shared and must be treated
// as read-only by callers. Keys are computed by the query package (query.CacheKey).
//
// # Concurrency
//
// Store methods are safe for concurrent use.
package cache
