#!/usr/bin/env python3
"""Golden vectors for actors/receipt, computed independently of the Go code.

Uses only hashlib/hmac (SHA-256, HMAC, RFC 6962 Merkle trees straight from the RFC's
recursive definition) and the `cryptography` package (HKDF-SHA256, Ed25519).
Run: python3 testdata/receipt/gen_vectors.py > testdata/receipt/vectors.json
"""
import hashlib
import hmac
import json
import math
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def jcs(v):
    """RFC 8785 for the subset used here (ASCII keys, finite numbers)."""
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        assert math.isfinite(v)
        if v == int(v) and abs(v) < 1e21:
            return str(int(v))
        r = repr(v)
        assert "e" not in r, r  # keep to values whose repr is the ECMAScript form
        return r
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ",".join(jcs(x) for x in v) + "]"
    if isinstance(v, dict):
        keys = sorted(v.keys(), key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + jcs(v[k]) for k in keys) + "}"
    raise TypeError(type(v))


def sha(b):
    return hashlib.sha256(b).digest()


def dsum(domain, b):
    return sha(domain.encode() + b":" + b).hex()


def mth(d):
    n = len(d)
    if n == 0:
        return sha(b"")
    if n == 1:
        return sha(b"\x00" + d[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return sha(b"\x01" + mth(d[:k]) + mth(d[k:]))


def path(m, d):
    n = len(d)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]


def main():
    secret = sha(b"bizra golden receipt secret")
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"bizra-receipt-ed25519-v1").derive(secret)
    priv = Ed25519PrivateKey.from_private_bytes(seed)
    pub = priv.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    key_id = sha(pub).hex()[:16]
    fp = sha(secret)
    hmac_key_id = sha(fp).hex()[:16]

    out = {
        "secret_hex": secret.hex(),
        "hkdf_info": "bizra-receipt-ed25519-v1",
        "ed25519_seed": seed.hex(),
        "ed25519_public_key": pub.hex(),
        "key_id": key_id,
        "hmac_fingerprint": fp.hex(),
        "hmac_key_id": hmac_key_id,
        "hmac_messages": [],
    }
    for m in [b"", b"hello", b"bizra-receipt-single-v1:" + bytes(32)]:
        out["hmac_messages"].append({"msg_hex": m.hex(), "sig": hmac.new(secret, m, hashlib.sha256).hexdigest()})

    params = {"query": "how do I check bridge health?", "max_depth": 3, "require_reasoning": True}
    payload = {"answer": "run `bizra doctor` <&>", "snr": 0.873, "evidence": ["a", "b"]}
    origin = {"designation": "ephemeral_node", "genesis_node": False, "genesis_block": False,
              "home_base_device": False, "authority_source": "genesis_files", "hash_validated": False}
    policy = dsum("bizra-policy-v1", jcs({"snr_min": 0.7, "ihsan_min": 0.95, "version": 1}).encode())
    qd = dsum("bizra-receipt-query-v1", jcs(params).encode())
    pd = dsum("bizra-receipt-payload-v1", jcs(payload).encode())
    od = dsum("bizra-receipt-origin-v1", jcs(origin).encode())
    out["digests"] = {"params": params, "payload": payload, "origin": origin, "policy_digest": policy,
                      "query_digest": qd, "payload_digest": pd, "origin_digest": od,
                      "null_digest": dsum("bizra-receipt-query-v1", b"null")}

    def body(i, kind, prefix, status, snr, ihsan, fate, gate, reason, dur):
        return {
            "receipt_id": "%s-17723664001%02d-%016x" % (prefix, i, 0xa1 + i),
            "version": "bizra-receipt-v1", "kind": kind, "status": status,
            "method": "POST /v1/query" if kind == "query" else "sovereign_query",
            "node_id": "node0_3f2a9c1d0b7e4a61", "query_digest": qd, "policy_digest": policy,
            "payload_digest": pd, "origin": origin, "origin_digest": od,
            "snr": snr, "ihsan": ihsan, "fate_score": fate, "gate_passed": gate,
            "reason": reason, "duration_ms": dur,
            "timestamp": "2026-03-01T12:00:00.%09dZ" % (123456789 + i),
        }

    bodies = [
        body(0, "query", "qr", "accepted", 0.873, 0.95, None, True, "", 12.345),
        body(1, "bridge", "br", "rejected", None, None, None, False, "snr below 0.7 <&> é \u0001 \"q\"", 0.5),
        body(2, "skill", "sk", "amber_restricted", 1.0, 0.5, 0.25, True, "amber: review", 3.0),
    ]
    out["bodies"] = []
    leaves = []
    for b in bodies:
        c = jcs(b).encode()
        leaf = sha(b"bizra-receipt-leaf-v1:" + c)
        leaves.append(leaf)
        out["bodies"].append({"body": b, "canonical": c.decode(), "leaf_hash": leaf.hex()})

    root = mth(leaves)
    seq = 1
    prev = bytes(32)
    msg = b"bizra-receipt-batch-v1:" + seq.to_bytes(8, "big") + root + prev
    sig = priv.sign(msg)
    out["tree"] = {
        "leaf_nodes": [sha(b"\x00" + l).hex() for l in leaves],
        "node_01": sha(b"\x01" + sha(b"\x00" + leaves[0]) + sha(b"\x00" + leaves[1])).hex(),
        "root": root.hex(),
        "proofs": [[p.hex() for p in path(i, leaves)] for i in range(3)],
    }
    out["batch"] = {"batch_seq": seq, "prev_root": prev.hex(), "message_hex": msg.hex(), "signature": sig.hex()}
    out["sealed_receipts"] = []
    for i, b in enumerate(bodies):
        r = dict(b)
        r["leaf_hash"] = leaves[i].hex()
        r["seal"] = {"batch_seq": seq, "size": 3, "index": i, "root": root.hex(), "prev_root": prev.hex(),
                     "proof": [p.hex() for p in path(i, leaves)], "alg": "ed25519", "key_id": key_id,
                     "public_key": pub.hex(), "signature": sig.hex()}
        out["sealed_receipts"].append(jcs(r))
    # the next batch of the chain: one leaf (body 0 re-used), prev_root = root of batch 1
    root2 = mth([leaves[0]])
    msg2 = b"bizra-receipt-batch-v1:" + (2).to_bytes(8, "big") + root2 + root
    out["batch2"] = {"batch_seq": 2, "root": root2.hex(), "prev_root": root.hex(), "message_hex": msg2.hex(),
                     "signature": priv.sign(msg2).hex()}

    smsg = b"bizra-receipt-single-v1:" + leaves[0]
    ssig = priv.sign(smsg)
    r = dict(bodies[0])
    r["leaf_hash"] = leaves[0].hex()
    r["signature"] = {"alg": "ed25519", "key_id": key_id, "public_key": pub.hex(), "sig": ssig.hex()}
    out["single"] = {"message_hex": smsg.hex(), "sig": ssig.hex(), "receipt": jcs(r)}

    c1 = out["bodies"][1]["canonical"].encode()
    r = dict(bodies[1])
    r["leaf_hash"] = leaves[1].hex()
    r["signature"] = {"alg": "hmac-sha256", "key_id": hmac_key_id, "public_key": fp.hex(),
                      "sig": hmac.new(secret, c1, hashlib.sha256).hexdigest()}
    out["legacy_hmac"] = {"receipt": jcs(r)}

    # RFC 6962 roots and audit paths over synthetic leaves.
    all_leaves = [sha(b"bizra-test-leaf" + i.to_bytes(8, "big")) for i in range(1025)]
    out["merkle"] = []
    for n in [1, 2, 3, 4, 5, 6, 7, 8, 9, 31, 1024, 1025]:
        d = all_leaves[:n]
        idxs = sorted({0, n // 2, n - 1, max(0, n - 2)})
        out["merkle"].append({"n": n, "root": mth(d).hex(),
                              "proofs": [{"index": i, "path": [p.hex() for p in path(i, d)]} for i in idxs]})
    out["merkle_leaf_rule"] = "leaf i = SHA-256('bizra-test-leaf' || i as 8-byte big-endian)"
    json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
