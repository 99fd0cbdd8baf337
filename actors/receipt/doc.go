// Package receipt issues, seals, stores and verifies bizra receipts (proof.md).
//
// A receipt is one flat JSON object: the body (receipt_id, version, kind, status,
// method, node_id, query_digest, policy_digest, payload_digest, origin, origin_digest,
// snr, ihsan, fate_score, gate_passed, reason, duration_ms, timestamp), its
// leaf_hash = SHA-256("bizra-receipt-leaf-v1:" ‖ JCS(body)), and either a batch seal
// (RFC 6962 inclusion proof plus an Ed25519 signature over the chained batch root) or,
// in single mode, one Ed25519 signature over the leaf. Legacy hmac-sha256 receipts
// (SimpleSigner) are verifiable by holders of the secret. docs/receipts.md has a worked
// example with every intermediate value.
//
// # Keys
//
// ParseSecretHex reads BIZRA_RECEIPT_PRIVATE_KEY_HEX (64 hex characters) and refuses
// well-known test values unless told otherwise. The Ed25519 key is derived with
// HKDF-SHA256 (info "bizra-receipt-ed25519-v1"); the secret keys HMAC directly only in
// the legacy SimpleSigner, whose "public key" is SHA-256(secret).
//
// # Service
//
// Service owns one log folder. Issue validates an Input, digests params, payload and
// origin, builds the body and its leaf on the caller's goroutine, hands an issued
// record (the canonical body, unsealed) to the writer goroutine and waits until it is
// durable: the writer group-commits, one write and one fsync for every issued record
// handed over while the previous fsync ran, then wakes all their callers. So a receipt
// id is returned only once its record is on disk. Issue waits at most IssueTimeout
// (default 5 s); a failed write or fsync, or no fsync in time, answers ErrStorage
// (STORAGE_UNAVAILABLE, 503 / -32603) and the caller must fail its request: nothing was
// recorded. Issue blocks, so it is called from edges (gateway handlers, bridge
// dispatch, the query engine's finish on the caller's goroutine), never from an actor's
// Receive.
//
// After the issued record is durable the writer hands the leaf to the sealer actor,
// which seals a batch BatchInterval after its first leaf or at BatchMax leaves and hands
// the sealed job back to the writer, which appends the sealed lines (proofs, seal) in a
// later group commit. Get answers ErrPending (409 RECEIPT_PENDING) for a receipt whose
// issued record is durable but whose sealed record is not yet, and the sealed receipt
// within about BatchInterval plus one fsync. A receipt is never returned unsealed.
//
// A failed write cuts the segment back to its last good offset (if even the truncate
// fails, the next write truncates first), so the log is neither wedged nor left with a
// partial record; sovereign_receipt_write_errors_total counts failed writes, and LogOK
// (checks.receipts in /v1/health) is false from a failed write until a write succeeds.
// Leaves whose sealed records failed to write are sealed again after the next good
// write.
//
// Use one Service per folder: the runtime opens <state>/receipts (kinds query and
// skill) and <state>/bridge_receipts (kind bridge), and routes a lookup with KindOfID.
// Each Service has its own batch chain (batch_seq, prev_root) and takes an advisory
// lock on its folder.
//
// # Durable log
//
// Segments seg-NNNNNNNN.jsonl start with the header line {"bizra_receipt_log":2}; each
// further line is one record {"m":"<hex MAC>","t":"i"|"c"|"s","r":<raw>}: "i" an issued
// record (raw = JCS(body)), "c" a compact sealed record (raw =
// {"leaf_hash":…,"receipt_id":…,"seal"|"signature":…}, what sealing adds; Get joins it
// with the issued record's body, checking the leaf, into exactly the bytes proof.md
// defines), "s" a full sealed record (raw = the sealed receipt; written by earlier
// versions, still read). The body is written once: a damaged issued record loses its
// receipt (counted and reported like any refused record; Get answers not found).
// Integrity is a MAC per record, not a chain: HMAC-SHA256 with a key derived from the
// receipt secret by HKDF-SHA256 (info "bizra-receipt-log-mac-v1", LogMACInfo) over the
// record type, the segment number, the line's offset and raw, so each record is
// checkable on its own and a record cannot be forged, edited or copied elsewhere
// without the secret.
//
// The group commit syncs with fdatasync. Once the active segment is half full, the
// background goroutine prepares the next one (seg-NNNNNNNN.jsonl.tmp: the header, then
// SegmentBytes plus an eighth reserved with fallocate(2), or written as zeros where
// that is not supported; fsynced; renamed into place, and the folder fsynced, at
// rotation), so appends neither grow the file nor allocate blocks
// (Options.NoPreallocate turns this off). Zeros after the last record are that
// reserved space, never a torn record; a torn record in it is zeroed again at open,
// and a zero inside a record fails its MAC like any damage.
//
// A segment that reaches SegmentBytes (or MaxReceipts/4 sealed receipts) is closed and
// a new one started; a background goroutine compresses the closed one to
// seg-NNNNNNNN.jsonl.zst (zstd, temp file, fsync, rename) once the commits pause (no
// append for 50 ms) or more than 8 closed segments wait, so a burst of commits does
// not share the cores with compression; it also applies retention, which
// drops whole segments, oldest first, while the log holds more than MaxReceipts
// receipts or more than MaxSegments segments.
//
// Open rebuilds the index (id → segment, offset, length, sealed) by scanning every
// segment. A last line without its newline in the active segment is a torn write (never
// acknowledged) and is cut. A record that fails its MAC or framing is refused: logged
// with segment file and offset, counted (sovereign_receipt_log_rejected_total,
// Stats.RejectedRecords), never indexed, and left on disk as evidence; LogOK then stays
// false for the life of the Service, so the node reports degraded until an operator
// has looked (remove the named line and restart to clear it). A record whose receipt
// id is already indexed never replaces the first one (Stats.DuplicateRecords), except
// that a sealed record completes its issued record. A receipt whose issued record is
// present but whose sealed record is missing or refused (a crash between the two, a
// damaged seal) is queued for sealing again at Start, so it becomes sealed after the
// restart; until then Get answers ErrPending, never ErrNotFound. The batch chain
// continues after the newest seal found.
//
// Migration: a segment without the header was written before record MACs (one bare
// sealed receipt per line). It is read as legacy (first record per id wins, no
// integrity check, Stats.LegacySegments, a warning naming the file), never appended to
// again: an active legacy segment is compressed at Start and new records go to a new
// segment.
//
// # Actor messages
//
// The sealer accepts *leavesMsg (from the writer after each group commit, and from
// Start for receipts to seal again), tickMsg (its own timer), flushMsg (from Flush,
// answered with flushedMsg) and seals what it holds on *actor.Stopping. It never
// blocks: it signs (one Ed25519 signature per batch, or per leaf in single mode) and
// enqueues to the writer, whose queue is bounded by MaxPending through Issue's
// admission check (ErrOverloaded) rather than by a blocking bounded mailbox.
//
// # Concurrency
//
// Issue, Get, Flush, Stats, LogOK, Verify, PublicKeyHex and KeyID are safe for
// concurrent use. Issue and Flush wait for the writer by design; the others never block
// on the disk. Start and
// Shutdown are serialised; Shutdown is idempotent. The package-level Verify functions,
// signers and Verifier are safe for concurrent use.
package receipt
