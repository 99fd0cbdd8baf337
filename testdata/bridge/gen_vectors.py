#!/usr/bin/env python3
"""Golden vectors for the bridge, computed independently of the Go code.

X-BIZRA-SIG = hex HMAC-SHA256(token, ts "\n" nonce "\n" method "\n" canonical(params)),
canonical(params) = RFC 8785; for the plain params below (ASCII keys, integers, plain
strings) that is json.dumps(sort_keys, compact separators, ensure_ascii=False);
absent params canonicalize to the empty string.
actuator content_hash = SHA-256("bizra-actuator-v1:" + UTF-8 code), entropy = Shannon
bits per code point. Run: python3 gen_vectors.py > vectors.json
"""
import hashlib, hmac, json, math
from collections import Counter


def canonical(v):
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sig(token, ts, nonce, method, params_raw):
    c = "" if params_raw is None else canonical(json.loads(params_raw))
    base = f"{ts}\n{nonce}\n{method}\n{c}".encode()
    return hmac.new(token.encode(), base, hashlib.sha256).hexdigest()


sig_cases = [
    ("0123456789abcdef0123", 1700000000000, "n-1", "ping", None),
    ("0123456789abcdef0123", 1700000000000, "n-2", "sovereign_query",
     '{ "query" : "what is bizra?", "max_depth": 3, "context": {"b": 2, "a": 1} }'),
    ("tökén-ünïcode-≥16-chars", 1700000123456, "ノンス", "list_skills", '{"filter":"active"}'),
    ("0123456789abcdef0123", 1700000000001, "n-3", "ping", "null"),
]
sigs = [dict(token=t, ts=ts, nonce=n, method=m, params_raw=p, sig=sig(t, ts, n, m, p))
        for t, ts, n, m, p in sig_cases]


def entropy(s):
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in Counter(s).values()) if n else 0.0


codes = [
    "print('hello world')",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "open -a Safari https://example.org/path?q=1",
    "import os; os.listdir('/tmp') # λ → ok",
    "abcabcabcabc",
    "The quick brown fox jumps over the lazy dog 0123456789",
]
act = [dict(code=c, entropy=entropy(c), length=len(c),
            content_hash=hashlib.sha256(b"bizra-actuator-v1:" + c.encode()).hexdigest())
       for c in codes]

print(json.dumps({"signatures": sigs, "actuator": act, "actuator_threshold": 3.5},
                 ensure_ascii=False, indent=1))
