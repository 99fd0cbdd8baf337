#!/usr/bin/env python3
"""Independent generator of the Node0 genesis golden vector (supervision/genesis).

Uses only hashlib, hmac, json and the `cryptography` package's Ed25519; shares no code
with the Go implementation. Run from this folder: python3 make_vectors.py

The canonical encoding (RFC 8785) of these objects equals
json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False): every key is
ASCII, every number an integer or 0.67, every string plain.
"""
import hashlib
import hmac
import json

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

SEED = bytes(range(32))  # TEST ONLY: never use as a real identity key
NAME = "Node0 Golden"
LOCATION = "Test Bench, Lab 1"
TS = "2026-01-02T03:04:05Z"
AGENT_INFO = "bizra-genesis-agent-ed25519-v1"

PAT = [
    ("Strategist", ["planning", "goal_decomposition", "prioritization"]),
    ("Researcher", ["retrieval", "source_evaluation", "synthesis"]),
    ("Developer", ["code_generation", "implementation", "testing"]),
    ("Analyst", ["data_analysis", "metrics", "pattern_detection"]),
    ("Reviewer", ["quality_review", "consistency_check", "critique"]),
    ("Executor", ["task_execution", "tool_invocation", "scheduling"]),
    ("Guardian", ["policy_enforcement", "safety_check", "ethics_review"]),
]
SAT = [
    ("Validator", ["receipt_verification", "proof_checking", "hash_validation"]),
    ("Oracle", ["external_attestation", "time_source", "fact_checking"]),
    ("Mediator", ["dispute_resolution", "consensus_facilitation"]),
    ("Archivist", ["ledger_custody", "state_snapshot", "retention"]),
    ("Sentinel", ["anomaly_detection", "tamper_detection", "security_events"]),
]
GOVERNANCE = {"quorum": 3, "voting_period_hours": 72, "upgrade_threshold": 0.67}

vectors = []
agent_seeds = {}


def jcs(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def h(name, obj):
    c = jcs(obj)
    d = hashlib.sha256(c).hexdigest()
    vectors.append({"name": name, "canonical": c.decode(), "sha256": d})
    return d


def hkdf(ikm, info, length=32):
    # RFC 5869: PRK = HMAC(salt, IKM), T(i) = HMAC(PRK, T(i-1) | info | i)
    prk = hmac.new(b"\x00" * 32, ikm, hashlib.sha256).digest()
    out, t, i = b"", b"", 1
    while len(out) < length:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:length]


def pub_hex(seed):
    k = Ed25519PrivateKey.from_private_bytes(seed)
    return k.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def agents(team, roles):
    out = []
    for role, caps in roles:
        aid = f"{team}_{role.lower()}"
        aseed = hkdf(SEED, f"{AGENT_INFO}:{aid}".encode())
        agent_seeds[aid] = aseed.hex()
        a = {"agent_id": aid, "role": role, "public_key": pub_hex(aseed), "capabilities": caps}
        a["agent_hash"] = h(f"agent {aid}", a)
        out.append(a)
    return sorted(out, key=lambda a: a["agent_id"])


identity_key = Ed25519PrivateKey.from_private_bytes(SEED)
pub = pub_hex(SEED)
identity = {
    "node_id": "node0_" + hashlib.sha256(bytes.fromhex(pub)).hexdigest()[:16],
    "public_key": pub,
    "name": NAME,
    "location": LOCATION,
    "created_at": TS,
}
identity["identity_hash"] = h("identity", identity)
pat_agents = agents("pat", PAT)
sat_agents = agents("sat", SAT)
pat_hash = h("pat_team", {"agents": pat_agents})
sat_hash = h("sat_team", {"agents": sat_agents, "governance": GOVERNANCE})
partnership = h("partnership", {"pat_team_hash": pat_hash, "sat_team_hash": sat_hash})
genesis_hash = h("genesis", {
    "version": "bizra-genesis-v1",
    "timestamp": TS,
    "identity_hash": identity["identity_hash"],
    "pat_team_hash": pat_hash,
    "sat_team_hash": sat_hash,
    "partnership_hash": partnership,
})
signature = identity_key.sign(genesis_hash.encode()).hex()

doc = {
    "version": "bizra-genesis-v1",
    "timestamp": TS,
    "identity": identity,
    "pat_team": {"agents": pat_agents, "team_hash": pat_hash},
    "sat_team": {"agents": sat_agents, "governance": GOVERNANCE, "team_hash": sat_hash},
    "partnership_hash": partnership,
    "genesis_hash": genesis_hash,
    "signature": signature,
}
with open("node0_genesis.json", "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
with open("genesis_hash.txt", "w") as f:
    f.write(genesis_hash + "\n")
with open("identity_seed.test.hex", "w") as f:
    f.write(SEED.hex() + "\n")
with open("vectors.json", "w") as f:
    json.dump({"seed_hex": SEED.hex(), "name": NAME, "location": LOCATION, "timestamp": TS,
               "public_key": pub, "node_id": identity["node_id"], "signature": signature,
               "agent_seeds": agent_seeds, "hashes": vectors}, f, indent=2)
    f.write("\n")
print(genesis_hash)
