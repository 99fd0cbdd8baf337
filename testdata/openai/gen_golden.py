#!/usr/bin/env python3
"""Golden receipt digests of gateway/openai, computed without bizra's code.

JCS (RFC 8785) for these documents (strings, integers, booleans, null, 0.2) is
json.dumps with sorted keys, no whitespace and no ASCII escaping. Digests are
SHA-256("<domain>:" || JCS(doc)) in hex (proof.md). Run: python3 gen_golden.py > golden.json
"""
import hashlib
import json


def jcs(v):
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest(domain, v):
    return hashlib.sha256(domain.encode() + b":" + jcs(v)).hexdigest()


response = (b'{"id":"chatcmpl-mock","object":"chat.completion","created":1700000000,"model":"mock-small",'
            b'"choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"Blue \xc3\xa9t\xc3\xa9."}}],'
            b'"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}')
params = {
    "model": "mock-small",
    "messages": [{"role": "system", "content": "be brief"},
                 {"role": "user", "content": "Why is the sky blue? \u00e9\u00e8 \"quoted\""},
                 {"role": "assistant", "content": "", "name": "helper"}],
    "max_tokens": 64, "temperature": 0.2, "top_p": None, "stop": ["\n\n", "END"],
    "stream": False, "user": "u-1", "user_id": "key-0011aabb",
}
payload = {
    "response_sha256": hashlib.sha256(response).hexdigest(),
    "model": "mock-small", "backend": "llm", "prompt_tokens": 3, "completion_tokens": 2,
    "usage_reported": True, "outcome": "ok",
}
# a stream: the digest covers each forwarded chunk payload followed by "\n"
chunks = ['{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}',
          '{"choices":[{"index":0,"delta":{"content":"Blue"}}]}',
          '{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}']
stream_sha = hashlib.sha256("".join(c + "\n" for c in chunks).encode()).hexdigest()
stream_payload = dict(payload, response_sha256=stream_sha, chunks=len(chunks), usage_reported=False)

print(json.dumps({
    "response_b64": __import__("base64").b64encode(response).decode(),
    "params": params,
    "query_digest": digest("bizra-receipt-query-v1", params),
    "payload": payload,
    "payload_digest": digest("bizra-receipt-payload-v1", payload),
    "stream_chunks": chunks,
    "stream_payload": stream_payload,
    "stream_payload_digest": digest("bizra-receipt-payload-v1", stream_payload),
}, indent=2, ensure_ascii=False))
