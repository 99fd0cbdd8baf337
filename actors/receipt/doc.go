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
// origin, builds the body and its leaf on the caller's goroutine and Sends the leaf to
// the sealer actor; it returns a Ref (receipt_id, leaf_hash, status) at once. The
// sealer seals a batch BatchInterval after its first leaf or at BatchMax leaves and
// hands the sealed job to the writer goroutine, which builds the lines (proofs, seal),
// appends them to the active segment, fsyncs once per drained queue, and only then
// publishes them to the id index. So Get answers ErrPending for a receipt issued but
// not yet durable, and the sealed receipt within about BatchInterval plus one fsync.
// A receipt is never returned unsealed.
//
// Use one Service per folder: the runtime opens <state>/receipts (kinds query and
// skill) and <state>/bridge_receipts (kind bridge), and routes a lookup with KindOfID.
// Each Service has its own batch chain (batch_seq, prev_root) and takes an advisory
// lock on its folder.
//
// # Durable log
//
// Segments seg-NNNNNNNN.jsonl hold one canonical receipt per line. A segment that
// reaches SegmentBytes (or MaxReceipts/4 receipts) is closed, compressed to
// seg-NNNNNNNN.jsonl.zst (zstd, temp file, fsync, rename) and a new one started.
// Retention drops whole segments, oldest first, while the log holds more than
// MaxReceipts receipts or more than MaxSegments segments. Open rebuilds the index
// (id → segment, offset, length) by scanning every segment, cuts a torn tail (a last
// line without its newline or that is not a receipt) from the active segment, and
// continues the batch chain after the newest seal found. A crash loses only receipts
// whose batch was not yet fsynced.
//
// # Actor messages
//
// The sealer accepts *leafMsg (from Issue), tickMsg (its own timer), flushMsg (from
// Flush, answered with flushedMsg) and seals what it holds on *actor.Stopping. It
// never blocks: it signs (one Ed25519 signature per batch, or per leaf in single
// mode) and enqueues to the writer, whose queue is bounded by MaxPending through
// Issue's admission check (ErrOverloaded) rather than by a blocking bounded mailbox.
//
// # Concurrency
//
// Issue, Get, Flush, Stats, Verify, PublicKeyHex and KeyID are safe for concurrent use
// and never block on the disk (Flush waits for the writer by design). Start and
// Shutdown are serialised; Shutdown is idempotent. The package-level Verify functions,
// signers and Verifier are safe for concurrent use.
package receipt
