#!/usr/bin/env python3
"""Independent graph_hash vector for internal/reasoning.
graph_hash = hex SHA-256("bizra-graph-v1" ":" JCS({"nodes": [...], "edges": [...]}))
nodes sorted by id: {id, type, content_sha256, depth, confidence, snr, source, pruned}
with scores as integers round(x * 1e6); edges sorted by (from, to, type, weight):
{from, to, type, weight}. All strings here are ASCII and all numbers integers, so
json.dumps(sort_keys, compact) is the RFC 8785 encoding."""
import hashlib, json

graph = {
  "nodes": [
    {"id": "n002", "type": "evidence", "content": "Check bridge health with bizra doctor.", "confidence": 0.6666666667, "snr": 0.8123456789, "depth": 1, "source": "ops.md#bridge:L4", "pruned": False},
    {"id": "n000", "type": "question", "content": "how do I check bridge health?", "confidence": 1.0, "snr": 0.5, "depth": 0, "source": "", "pruned": False},
    {"id": "n001", "type": "question", "content": "check bridge health", "confidence": 1.0, "snr": 0.0, "depth": 1, "source": "", "pruned": False},
    {"id": "n003", "type": "evidence", "content": "Unrelated passage \u00e9t\u00e9.", "confidence": 0.0, "snr": 0.1234564, "depth": 1, "source": "x.txt:L1", "pruned": True},
  ],
  "edges": [
    {"from": "n002", "to": "n001", "type": "supports", "weight": 0.8123456789},
    {"from": "n000", "to": "n001", "type": "derives", "weight": 1.0},
    {"from": "n003", "to": "n001", "type": "supports", "weight": 0.1234564},
  ],
}

def q(x):
    return int(round(x * 1_000_000))

nodes = sorted(({"id": n["id"], "type": n["type"],
                 "content_sha256": hashlib.sha256(n["content"].encode()).hexdigest(),
                 "depth": n["depth"], "confidence": q(n["confidence"]), "snr": q(n["snr"]),
                 "source": n["source"], "pruned": n["pruned"]} for n in graph["nodes"]), key=lambda n: n["id"])
edges = sorted(({"from": e["from"], "to": e["to"], "type": e["type"], "weight": q(e["weight"])}
                for e in graph["edges"]), key=lambda e: (e["from"], e["to"], e["type"], e["weight"]))
canonical = json.dumps({"nodes": nodes, "edges": edges}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
graph["graph_hash"] = hashlib.sha256(b"bizra-graph-v1:" + canonical.encode()).hexdigest()
graph["canonical"] = canonical
print(json.dumps(graph, indent=1, ensure_ascii=False))
