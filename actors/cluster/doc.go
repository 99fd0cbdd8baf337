// Package cluster runs bizra members as one protoactor-go cluster: membership from
// protoactor's etcd or automanaged provider, placement by its disthash identity
// lookup, and grains over its gRPC remote. Nothing here is a membership of its own.
//
// A query's cache key names a grain of kind "bizra-query". The member that took the
// request resolves the key's owner (rendezvous hashing over the live members, as
// disthash places it), sends the query to that grain and waits, at most until the
// query's deadline, for the answer. The grain hands the work to the owner's own
// pipeline (its index, cache, ledger and receipt key) on a goroutine the Member owns
// and replies from there, so its Receive never blocks; identical queries that arrive
// while one is computing wait at the grain for that one computation (coalescing).
//
// Members authenticate each other: every gRPC call carries an HMAC of the cluster
// secret, and the server refuses calls without it (Unauthenticated). The remote binds
// 127.0.0.1 unless Options.Addr says otherwise. See docs/cluster.md.
package cluster
