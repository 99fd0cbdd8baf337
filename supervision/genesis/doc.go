// Package genesis implements the Node0 genesis ceremony and the fail-closed origin guard
// (proof.md, "Node0 genesis"): the node0_genesis.json format, Init (the ceremony),
// Validate (validate_genesis_chain), the BIZRA_NODE_ROLE parser, Enforce (the startup
// guard), Snapshot (the origin projection carried in status and receipts) and Guard
// (that projection cached for hot paths, refreshed by the maintenance loop).
//
// # Files in the state folder
//
//   - node0_identity.key: the Ed25519 seed of the node identity key, 64 hex characters
//     and a newline, mode 0600. A key file that group or others can access, or a
//     symlink, is refused by Init and fails Validate.
//   - node0_genesis.json: the Genesis document (pretty-printed; its bytes are not what
//     is hashed).
//   - genesis_hash.txt: the genesis hash in lower-case hex and a newline.
//   - trusted_genesis_key (TrustFile): the identity public key a node0 trusts, in hex and
//     a newline, mode 0600. A Guard with TrustOnFirstUse writes it (temp file, fsync,
//     rename) at the first start that validates, or when a pin replaces it, and refuses a
//     genesis signed by any other key with a *TrustError naming both key ids.
//
// # What is hashed
//
// Every hash is the plain lower-case hex SHA-256 of the RFC 8785 (canon.Marshal)
// encoding of a JSON object: the contract's object without its own hash field. (proof.md
// fixes these as undomained hashes; the objects have distinct member sets, so no two
// kinds of object share an encoding.) Exactly:
//
//	agent_hash        = H({agent_id, capabilities, public_key, role})
//	identity_hash     = H({created_at, location, name, node_id, public_key})
//	pat_team.team_hash = H({agents: [the 7 agent objects, each with its agent_hash, sorted by agent_id]})
//	sat_team.team_hash = H({agents: [the 5 agent objects, sorted by agent_id], governance: {quorum, upgrade_threshold, voting_period_hours}})
//	partnership_hash  = H({pat_team_hash, sat_team_hash})
//	genesis_hash      = H({identity_hash, partnership_hash, pat_team_hash, sat_team_hash, timestamp, version})
//	signature         = hex(Ed25519-Sign(identity key, ASCII bytes of the hex genesis_hash))
//	node_id           = "node0_" + first 16 hex of SHA-256(32-byte public key)
//
// Agent ids are "pat_<role>" and "sat_<role>" in lower case. Agent keys are derived from
// the identity seed: agent seed = HKDF-SHA256(ikm = identity seed, no salt, info =
// "bizra-genesis-agent-ed25519-v1:" + agent_id, 32 bytes). The golden vector in
// testdata/genesis was produced by a Python script with hashlib, hmac and the
// cryptography package, independently of this code.
//
// # What Validate proves, and what it cannot
//
// Validate recomputes every hash from the content (it never trusts a stored hash),
// compares each with the stored one and with genesis_hash.txt, checks the node id
// against the public key, verifies the signature under identity.public_key, and then
// anchors that key: node0_identity.key must exist (by default) and hold its private
// key, and every agent key must be the HKDF derivation of it. So a document that is
// self-consistent but re-signed by another key (a forgery) fails with
// IDENTITY_KEY_MISMATCH, and one whose file was replaced wholesale fails too, unless
// the attacker also replaced the key file. An attacker who can rewrite every file in
// the state folder can therefore mint a passing chain; only an out-of-band pin
// (Policy.TrustedPublicKey, e.g. the node id recorded at ceremony time) detects that.
// VerifyDocument checks a document alone and proves only self-consistency unless it is
// given a trusted key.
//
// Reasons name the missing file or the first mismatch in this order: missing or
// unreadable files, malformed document, AGENT_HASH_MISMATCH, TEAM_HASH_MISMATCH,
// IDENTITY_HASH_MISMATCH, NODE_ID_MISMATCH, PARTNERSHIP_HASH_MISMATCH,
// GENESIS_HASH_MISMATCH, SIGNATURE_INVALID, TRUSTED_KEY_MISMATCH, "genesis hash
// validation failed" (hash file), key file problems, IDENTITY_KEY_MISMATCH,
// AGENT_KEY_MISMATCH, TEST_KEY_REFUSED (the key is a well-known test value).
//
// The document is parsed strictly: one JSON object of at most 1 MiB, valid UTF-8, no
// duplicate or unknown members, nesting at most 8, every value of the right type and
// within its bounds. Files are read without following symlinks and never past the limit.
//
// # Concurrency
//
// # Trust anchors at run time
//
// NewGuardWith validates at start against GuardOptions.TrustedPublicKey (a pin from
// configuration) or, without one, the key in TrustFile (trust on first use). It then
// anchors the genesis it validated (identity key and genesis hash): Check, run by the
// maintenance loop, fails with a ReasonSwapped verdict when the files on disk hold
// another genesis, even one that validates on its own with its own key file, and with
// the validation reason when they were edited in place. IsThisNode says whether a
// posted document is the anchored one.
//
// Every function is safe for concurrent use, and so are a Guard's methods (its last
// result is swapped atomically; Refresh calls may overlap, the last to finish wins).
// Init serializes against itself through the
// file system (files are linked into place, never overwritten). Validate, Snapshot, Show
// and Enforce read the files on each call and hold no state.
package genesis
