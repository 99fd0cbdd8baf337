// Package ledger implements the Sovereign Experience Ledger (SEL, core.md): a durable,
// hash-chained, append-only log of the episodes of successful queries, its single-writer
// actor, and the reads, verification, retention, export and import around it.
//
// # Episodes and hashes
//
// An Episode carries every hashed field plus prev_hash, episode_hash and chain_hash.
// episode_hash is the hex SHA-256 of the contract's byte layout (AppendLayout);
// chain_hash = SHA-256("bizra-sel-chain-v1:" + prev + ":" + episode_hash), prev being
// "genesis" for sequence 0. Context and the response summary keep their first 500
// characters, counted in Unicode code points (not bytes); lengths inside the layout are
// UTF-8 byte counts. ResponseSummary is carried but, as the contract's layout says, not
// hashed: editing it is not detected by the chain. Golden vectors produced by
// testdata/ledger/gen_golden.py (python3, written from the contract) pin the layout.
//
// # Storage
//
// Under Options.Dir: LOCK (flock, one writer per folder), HEAD (the witness, below),
// anchor.json (after pruning), seg-<first sequence>.log (the active segment, and closed
// ones not yet sealed) and seg-<first sequence>.zst (sealed, zstd blocks with CRC-32C).
// Records carry a CRC-32C. Retention (MaxEpisodes) drops the oldest episodes from
// memory at once and deletes whole closed segments below the anchor, which is written
// first.
//
// # What was acknowledged, and tampering
//
// HEAD holds the next sequence and chain head of the last acknowledged batch, in two
// alternating CRC-checked 512-byte slots; the flusher writes and fdatasyncs it after
// the batch's segment fsync and before any reply (head.go). On open the folder is
// checked against it (integrity.go): a damaged tail past the witness was never
// acknowledged and is cut with a WARN; anything else is Damage (file, byte offset,
// sequence, reason): an acknowledged record cut or damaged, records or segments
// removed (the chain ends before the witness), a record that does not recompute or a
// sequence gap, a chain head that differs from the witness (a tail rewritten with its
// hashes recomputed), damage in the middle of a segment, or HEAD itself missing. A
// read-only open (VerifyDir, `bizra sel verify`) reports Damage through Verify
// (Valid false, FirstBadSequence, Verification.Damage); a writable Open refuses it
// with ErrLoss unless Options.AcceptLoss, which cuts a damaged tail, re-anchors HEAD on
// what is on disk, records the damage's sequence in HEAD (the same damage does not
// refuse again; the chain keeps failing Verify while a gap remains) and reports the
// ledger not verified for the life of the process.
//
// A writable open also leaves a birth record beside the folder (<dir>.created, the
// creation time, written once after HEAD): a folder found empty or missing while its
// birth record exists was emptied or removed, which is damage like any other loss.
//
// Limits: a forged record appended past the witness whose hashes all recompute is
// indistinguishable from an episode written but not acknowledged (crash between the
// segment fsync and the HEAD update) and is kept; the chain is unkeyed, so someone
// who rewrites segments and HEAD consistently is not detected, and neither is one who
// corrupts HEAD's newer slot and cuts the records it alone covered (that is what a
// crash while HEAD is written looks like: the older slot is then the witness). After
// a power loss (not a process crash) a file system may leave a hole of zeros inside
// the last unacknowledged batch with readable records after it; that is reported as
// damage at the hole instead of being cut.
//
// # Actor
//
// The ledger actor (spawned by Start, bounded mailbox of Options.QueueSize) accepts:
//
//   - *Append (or Append): validated in Receive and queued to the flusher; answered with
//     *Appended only after the fsync that covers it, or *AppendFailed (catalog code:
//     SEL_INVALID_EPISODE, OVERLOADED when the queue is full, SEL_DISK_FULL,
//     SEL_READ_ONLY, SEL_STORAGE, SEL_CLOSED).
//
// Receive never touches the disk. The flusher goroutine is the single writer: it takes
// every queued episode (group commit, up to MaxBatch), assigns sequences and hashes,
// writes them with one write and one fsync, updates HEAD (one write and one
// fdatasync), then sends each reply. Replies are in sequence order. A failed write,
// fsync or HEAD update fails the whole batch (nothing of it is acknowledged): the
// segment is cut back to its last acknowledged size and synced, and HEAD restored, so
// the next batch can succeed once the disk accepts writes again; when the cut itself
// fails, every later batch retries it first. Stats.Writable is false (WriteError the
// code) from a failed batch until one succeeds, and sovereign_sel_write_errors_total
// counts the failures. A maintenance goroutine seals closed segments and prunes.
//
// # Concurrency
//
// Reads (Episodes, ByHash, BySequence, Retrieve, Verify, Stats, Export, Len, Head) are
// safe for concurrent use with each other and with appends, and never go through the
// actor; they see only fsynced episodes. Commit is safe for concurrent use. Import must
// run before Start. Shutdown is idempotent and safe to call from several goroutines.
package ledger
