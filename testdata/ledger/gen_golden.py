#!/usr/bin/env python3
"""Independent golden vectors for the Sovereign Experience Ledger (core.md, SEL).

Written from the contract alone (no Go code): the episode byte layout, the chain hash,
q(x), integer log2 and efficiency. Run from this folder:

    python3 gen_golden.py

It writes golden.json (inputs, layout hex, hashes) and golden_export.jsonl (the same
chain as an export stream). Characters are Unicode code points (Python str slicing);
lengths in the layout are UTF-8 byte counts.
"""
import hashlib
import json
import math
import struct

GENESIS = "genesis"


def q(x):
    x = max(0.0, min(1.0, x))
    return math.floor(x * 1000000)


def ilog2(n):
    return n.bit_length() - 1 if n > 0 else 0


def efficiency(snr, ihsan, tokens):
    if tokens <= 0:
        return 0.0
    return (q(snr) * q(ihsan) // max(1, ilog2(tokens + 2))) / 10**12


def lp(s):
    b = s.encode("utf-8")
    return struct.pack("<I", len(b)) + b


def layout(ep):
    out = b"bizra-sel-v1:"
    out += struct.pack("<QQ", ep["sequence"], ep["timestamp"])
    out += lp(ep["context"]) + lp(ep["graph_hash"])
    out += struct.pack("<II", ep["graph_node_count"], len(ep["actions"]))
    for a in ep["actions"]:
        out += lp(a["type"]) + lp(a["description"])
        out += struct.pack("<BQ", 1 if a["success"] else 0, a["duration_us"])
    out += struct.pack("<IIB", q(ep["snr"]), q(ep["ihsan"]), 1 if ep["snr_ok"] else 0)
    if ep.get("feedback") is not None:
        out += struct.pack("<BI", 1, q((ep["feedback"] + 1) / 2))
    else:
        out += struct.pack("<B", 0)
    out += struct.pack("<Q", ep["tokens_used"])
    out += struct.pack("<I", q(efficiency(ep["snr"], ep["ihsan"], ep["tokens_used"])))
    return out


LONG = ("Sovereign ëxperience ledger — 測試 🚀 " * 40)  # > 500 code points, multi-byte
INPUTS = [
    dict(query="What is the capital of France?", response="Paris is the capital of France.",
         timestamp=1700000000, graph_hash="ab" * 32, graph_node_count=7,
         actions=[dict(type="gate", description="schema", success=True, duration_us=12),
                  dict(type="inference", description="embedded", success=True, duration_us=48211)],
         snr=0.95, ihsan=0.98, snr_ok=True, feedback=None, tokens_used=1000),
    dict(query=LONG, response=LONG[::-1],
         timestamp=1700000060, graph_hash="", graph_node_count=0, actions=[],
         snr=0.86, ihsan=0.951, snr_ok=True, feedback=0.5, tokens_used=0),
    dict(query="rust vs go for actor runtimes", response="Both work.",
         timestamp=1700000123, graph_hash="0123456789abcdef" * 4, graph_node_count=4294967295,
         actions=[dict(type="gate", description="safety", success=False, duration_us=0),
                  dict(type="gate", description="slot", success=True, duration_us=3),
                  dict(type="inference", description="ollama: llama3 ✓", success=True, duration_us=2**40)],
         snr=1.0, ihsan=0.999999, snr_ok=True, feedback=-1.0, tokens_used=2**62),
    dict(query="x", response="", timestamp=0, graph_hash="ff", graph_node_count=1,
         actions=[dict(type="inference", description="", success=True, duration_us=1)],
         snr=0.123456789, ihsan=0.0, snr_ok=False, feedback=1.0, tokens_used=1),
]


def main():
    prev = GENESIS
    vectors, lines = [], []
    for seq, inp in enumerate(INPUTS):
        ep = dict(sequence=seq, timestamp=inp["timestamp"], context=inp["query"][:500],
                  graph_hash=inp["graph_hash"], graph_node_count=inp["graph_node_count"],
                  actions=inp["actions"], snr=inp["snr"], ihsan=inp["ihsan"], snr_ok=inp["snr_ok"])
        if inp["feedback"] is not None:
            ep["feedback"] = inp["feedback"]
        ep["tokens_used"] = inp["tokens_used"]
        ep["efficiency"] = efficiency(inp["snr"], inp["ihsan"], inp["tokens_used"])
        ep["response_summary"] = inp["response"][:500]
        lay = layout(ep)
        eh = hashlib.sha256(lay).hexdigest()
        ch = hashlib.sha256(("bizra-sel-chain-v1:" + prev + ":" + eh).encode("ascii")).hexdigest()
        ep["prev_hash"], ep["episode_hash"], ep["chain_hash"] = prev, eh, ch
        vectors.append(dict(query=inp["query"], response=inp["response"], layout_hex=lay.hex(),
                            context_chars=len(ep["context"]), context_bytes=len(ep["context"].encode()),
                            episode=ep))
        lines.append(json.dumps(ep, ensure_ascii=False))
        prev = ch
    checks = dict(ilog2={str(n): ilog2(n) for n in [0, 1, 2, 3, 1023, 1024, 10**6, 10**9]},
                  efficiency_095_098_1000=efficiency(0.95, 0.98, 1000),
                  efficiency_095_098_1000_exact=(950000 * 980000 // 9) / 10**12)
    with open("golden.json", "w", encoding="utf-8") as f:
        json.dump(dict(chain_head=prev, checks=checks, vectors=vectors), f, ensure_ascii=False, indent=1)
        f.write("\n")
    with open("golden_export.jsonl", "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
