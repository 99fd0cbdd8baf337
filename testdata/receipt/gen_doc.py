#!/usr/bin/env python3
"""Render the worked example of docs/receipts.md from testdata/receipt/vectors.json.

Run from the repository root: python3 testdata/receipt/gen_doc.py
It replaces the text between the worked-example markers; TestDocsWorkedExample checks
that every value of vectors.json used here appears in the document.
"""
import json
import re

BEGIN, END = "<!-- worked-example:begin -->", "<!-- worked-example:end -->"


def wrap(h, n=64):
    return "\n".join(h[i:i + n] for i in range(0, len(h), n))


def main():
    v = json.load(open("testdata/receipt/vectors.json"))
    b0 = v["bodies"][0]
    t = v["tree"]
    out = []
    w = out.append
    w("All values below come from `testdata/receipt/vectors.json`, computed by")
    w("`testdata/receipt/gen_vectors.py` with python's hashlib, hmac and `cryptography` (no bizra code),")
    w("and checked by the Go tests (`TestGolden*`, `TestDocsWorkedExample`).\n")
    w("### 1. Keys\n")
    w("| value | hex |\n|---|---|")
    w("| secret (`BIZRA_RECEIPT_PRIVATE_KEY_HEX`) = SHA-256(\"bizra golden receipt secret\") | `%s` |" % v["secret_hex"])
    w("| Ed25519 seed = HKDF-SHA256(secret, salt empty, info `%s`, 32 bytes) | `%s` |" % (v["hkdf_info"], v["ed25519_seed"]))
    w("| Ed25519 public key | `%s` |" % v["ed25519_public_key"])
    w("| key id = first 16 hex of SHA-256(public key) | `%s` |" % v["key_id"])
    w("| legacy HMAC fingerprint = SHA-256(secret) | `%s` |" % v["hmac_fingerprint"])
    w("| legacy key id = first 16 hex of SHA-256(fingerprint) | `%s` |\n" % v["hmac_key_id"])
    w("### 2. Body and digests\n")
    d = v["digests"]
    w("`query_digest` = SHA-256(`bizra-receipt-query-v1:` ‖ JCS(params)) with params `%s`: `%s`.  " % (
        json.dumps(d["params"], separators=(",", ":")), d["query_digest"]))
    w("`payload_digest` = SHA-256(`bizra-receipt-payload-v1:` ‖ JCS(payload)): `%s`.  " % d["payload_digest"])
    w("`origin_digest` = SHA-256(`bizra-receipt-origin-v1:` ‖ JCS(origin)): `%s`.  " % d["origin_digest"])
    w("`policy_digest` is given by the policy owner: `%s`.\n" % d["policy_digest"])
    w("The body of receipt 0:\n\n```json\n%s\n```\n" % json.dumps(b0["body"], indent=2, ensure_ascii=False))
    w("Its canonical form (RFC 8785: members sorted, no whitespace, ECMAScript numbers), the exact bytes hashed:\n")
    w("```\n%s\n```\n" % b0["canonical"])
    w("### 3. Leaves\n")
    w("`leaf_hash` = SHA-256(`bizra-receipt-leaf-v1:` ‖ JCS(body)); the tree's leaf node = SHA-256(0x00 ‖ 32 leaf bytes).\n")
    w("| receipt | receipt_id | leaf_hash | leaf node |\n|---|---|---|---|")
    for i, b in enumerate(v["bodies"]):
        w("| %d | `%s` | `%s` | `%s` |" % (i, b["body"]["receipt_id"], b["leaf_hash"], t["leaf_nodes"][i]))
    w("\n### 4. The 3-leaf tree (RFC 6962)\n")
    w("n = 3 splits at k = 2: root = H(0x01 ‖ H(0x01 ‖ node0 ‖ node1) ‖ node2).\n")
    w("```")
    w("node01 = SHA-256(0x01 ‖ node0 ‖ node1) = %s" % t["node_01"])
    w("root   = SHA-256(0x01 ‖ node01 ‖ node2) = %s" % t["root"])
    w("```\n")
    w("Audit paths (leaf upwards):\n")
    w("| index | proof |\n|---|---|")
    for i, p in enumerate(t["proofs"]):
        w("| %d | %s |" % (i, ", ".join("`%s`" % x for x in p)))
    w("\n### 5. Batch signature\n")
    ba = v["batch"]
    w("Batch %d is the first of its chain, so prev_root is 32 zero bytes. The signed message is" % ba["batch_seq"])
    w("`bizra-receipt-batch-v1:` ‖ batch_seq (8 bytes big-endian) ‖ root ‖ prev_root, %d bytes:\n" % (len(ba["message_hex"]) // 2))
    w("```\n%s\n```\n" % wrap(ba["message_hex"]))
    w("Ed25519 signature (deterministic, RFC 8032):\n\n```\n%s\n```\n" % wrap(ba["signature"]))
    b2 = v["batch2"]
    w("The next batch (seq %d, one leaf, root `%s`) chains with prev_root = `%s` and signs\n" % (
        b2["batch_seq"], b2["root"], b2["prev_root"]))
    w("```\n%s\n```\n" % wrap(b2["message_hex"]))
    w("### 6. The sealed receipt 0 as stored and served\n")
    w("```json\n%s\n```\n" % v["sealed_receipts"][0])
    w("### 7. Single mode and legacy HMAC\n")
    s = v["single"]
    w("Single mode signs `bizra-receipt-single-v1:` ‖ leaf (56 bytes) `%s`; signature `%s`.\n" % (s["message_hex"], s["sig"]))
    w("A legacy receipt carries `signature: {alg: \"hmac-sha256\", key_id, public_key: SHA-256(secret), sig: HMAC-SHA256(secret, JCS(body))}`:\n")
    w("```json\n%s\n```" % v["legacy_hmac"]["receipt"])
    doc = open("docs/receipts.md").read()
    pat = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    if not pat.search(doc):
        raise SystemExit("markers not found in docs/receipts.md")
    doc = pat.sub(lambda _: BEGIN + "\n" + "\n".join(out) + "\n" + END, doc)
    open("docs/receipts.md", "w").write(doc)


if __name__ == "__main__":
    main()
