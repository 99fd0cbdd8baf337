#!/usr/bin/env python3
"""Verify a bizra receipt without bizra's code (proof.md, docs/receipts.md).

Usage: python3 verify_receipt.py < receipt.json   -> prints {"valid": bool, "reason": str}
Needs python3 and the `cryptography` package (Ed25519). Legacy hmac-sha256 receipts need
the secret: BIZRA_RECEIPT_PRIVATE_KEY_HEX=<hex> python3 verify_receipt.py < receipt.json
"""
import hashlib
import hmac
import json
import os
import sys
from decimal import Decimal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

BODY = ["receipt_id", "version", "kind", "status", "method", "node_id", "query_digest", "policy_digest",
        "payload_digest", "origin", "origin_digest", "snr", "ihsan", "fate_score", "gate_passed", "reason",
        "duration_ms", "timestamp"]
SEAL = ["batch_seq", "size", "index", "root", "prev_root", "proof", "alg", "key_id", "public_key", "signature"]
SIG = ["alg", "key_id", "public_key", "sig"]


def es6(v):
    """ECMAScript Number::toString, as RFC 8785 requires."""
    if v == 0:
        return "0"
    sign = "-" if v < 0 else ""
    t = Decimal(repr(abs(v))).as_tuple()
    digits = "".join(map(str, t.digits)).rstrip("0")
    exp = t.exponent + (len(t.digits) - len(digits))
    k = len(digits)
    n = k + exp
    if k <= n <= 21:
        s = digits + "0" * (n - k)
    elif 0 < n <= 21:
        s = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        s = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        s = digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + ("+" if e >= 0 else "-") + str(abs(e))
    return sign + s


def jcs(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        return es6(float(v)) if isinstance(v, float) or abs(v) >= 2**53 else str(v)
    if isinstance(v, str):
        out = ['"']
        for ch in v:
            c = ord(ch)
            if ch == '"' or ch == "\\":
                out.append("\\" + ch)
            elif ch in "\b\f\n\r\t":
                out.append({"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
            elif c < 0x20:
                out.append("\\u%04x" % c)
            else:
                out.append(ch)
        out.append('"')
        return "".join(out)
    if isinstance(v, list):
        return "[" + ",".join(jcs(x) for x in v) + "]"
    if isinstance(v, dict):
        keys = sorted(v, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(jcs(k) + ":" + jcs(v[k]) for k in keys) + "}"
    raise ValueError("not JSON")


def sha(b):
    return hashlib.sha256(b).digest()


def h32(s):
    if not isinstance(s, str) or len(s) != 64 or s != s.lower():
        raise ValueError("not 64 lower-case hex")
    return bytes.fromhex(s)


def inclusion(leaf, index, size, proof, root):
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        return False
    fn, sn = index, size - 1
    r = sha(b"\x00" + leaf)
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = sha(b"\x01" + p + r)
            while fn & 1 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = sha(b"\x01" + r + p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def ed_ok(pub, msg, sig):
    try:
        Ed25519PublicKey.from_public_bytes(pub).verify(sig, msg)
        return True
    except InvalidSignature:
        return False


def verify(raw, secret=None):
    def no_dups(pairs):
        d = {}
        for k, v in pairs:
            if k in d:
                raise ValueError("duplicate field " + k)
            d[k] = v
        return d
    r = json.loads(raw, object_pairs_hook=no_dups)
    if not isinstance(r, dict):
        return False, "not a json object"
    tail = "seal" if "seal" in r else "signature"
    if set(r) != set(BODY) | {"leaf_hash", tail}:
        return False, "fields differ from the contract"
    body = {k: r[k] for k in BODY}
    canonical = jcs(body).encode()
    leaf = sha(b"bizra-receipt-leaf-v1:" + canonical)
    if leaf != h32(r["leaf_hash"]):
        return False, "leaf_hash does not match the body"
    if hashlib.sha256(b"bizra-receipt-origin-v1:" + jcs(r["origin"]).encode()).hexdigest() != r["origin_digest"]:
        return False, "origin_digest does not match origin"
    s = r[tail]
    if tail == "seal":
        if set(s) != set(SEAL) or s["alg"] != "ed25519":
            return False, "bad seal"
        pub = h32(s["public_key"])
        if sha(pub).hex()[:16] != s["key_id"]:
            return False, "key_id does not match public_key"
        if not inclusion(leaf, s["index"], s["size"], [h32(p) for p in s["proof"]], h32(s["root"])):
            return False, "inclusion proof does not match root"
        msg = b"bizra-receipt-batch-v1:" + s["batch_seq"].to_bytes(8, "big") + h32(s["root"]) + h32(s["prev_root"])
        if not ed_ok(pub, msg, bytes.fromhex(s["signature"])):
            return False, "bad batch signature"
        return True, "ok"
    if set(s) != set(SIG):
        return False, "bad signature object"
    if s["alg"] == "ed25519":
        pub = h32(s["public_key"])
        if sha(pub).hex()[:16] != s["key_id"]:
            return False, "key_id does not match public_key"
        if not ed_ok(pub, b"bizra-receipt-single-v1:" + leaf, bytes.fromhex(s["sig"])):
            return False, "bad signature"
        return True, "ok"
    if s["alg"] == "hmac-sha256":
        if secret is None:
            return False, "hmac-sha256 receipt: verification needs the node secret"
        if sha(secret).hex() != s["public_key"]:
            return False, "public_key is not SHA-256 of this secret"
        if not hmac.compare_digest(hmac.new(secret, canonical, hashlib.sha256).hexdigest(), s["sig"]):
            return False, "bad signature"
        return True, "ok"
    return False, "unknown alg"


def main():
    raw = sys.stdin.buffer.read()
    key = os.environ.get("BIZRA_RECEIPT_PRIVATE_KEY_HEX")
    try:
        ok, reason = verify(raw, bytes.fromhex(key) if key else None)
    except (ValueError, KeyError, TypeError, AttributeError, OverflowError) as e:
        ok, reason = False, "malformed receipt: %s" % e
    print(json.dumps({"valid": ok, "reason": reason}))


if __name__ == "__main__":
    main()
