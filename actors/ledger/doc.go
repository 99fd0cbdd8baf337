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
// Under Options.Dir: LOCK (flock, one writer per folder), anchor.json (after pruning),
// seg-<first sequence>.log (the active segment, and closed ones not yet sealed) and
// seg-<first sequence>.zst (sealed, zstd blocks with CRC-32C). Records carry a CRC-32C.
// On open a torn tail of the active segment (a damaged record with nothing readable
// after it) is cut; damage followed by readable records is corruption, kept on disk and
// reported by Verify as the first sequence that cannot be read. A broken chain never
// prevents opening. Retention (MaxEpisodes) drops the oldest episodes from memory at
// once and deletes whole closed segments below the anchor, which is written first.
//
// Limitation: after a power loss (not a process crash) a file system may leave a hole
// of zeros inside the last unacknowledged batch with readable records after it; that
// is reported as corruption at the hole instead of being cut.
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
// writes them with one write and one fsync, then sends each reply. Replies are in
// sequence order. A failed write is cut back and its batch fails (nothing of it is
// acknowledged); a failed fsync fails the batch and every later append with
// SEL_STORAGE until the ledger is reopened. A maintenance goroutine seals closed
// segments and prunes.
//
// # Concurrency
//
// Reads (Episodes, ByHash, BySequence, Retrieve, Verify, Stats, Export, Len, Head) are
// safe for concurrent use with each other and with appends, and never go through the
// actor; they see only fsynced episodes. Commit is safe for concurrent use. Import must
// run before Start. Shutdown is idempotent and safe to call from several goroutines.
package ledger
