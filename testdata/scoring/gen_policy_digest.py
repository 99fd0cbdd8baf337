#!/usr/bin/env python3
"""Independent policy_digest vector for internal/scoring Default():
hex SHA-256("bizra-policy-v1" ":" JCS(policy)). JCS numbers: integral values without
a fraction, others in shortest round-trip form (python repr agrees for these)."""
import hashlib, json

policy = {
    "version": "bizra-scoring-2026.2",
    "prov_depth": 0.3, "prov_corroboration": 0.3, "prov_trust": 0.4,
    "sig_provenance": 0.3, "sig_retrieval": 0.4, "retrieval_relevance_share": 0.5, "sig_grounding": 0.3,
    "noise_ungrounded": 0.5, "noise_unattributed": 0.2, "noise_dilution": 0.2, "noise_redundancy": 0.1,
    "noise_off_topic": 0.3,
    "ihsan_correctness": 0.3, "ihsan_safety": 0.35, "ihsan_efficiency": 0.15, "ihsan_user_benefit": 0.2,
    "policy_hit_cap": 2, "expected_local_ms": 250, "expected_model_ms": 10000,
    "snr_threshold": 0.85, "ihsan_threshold": 0.95,
    "trust_local": 1, "trust_model_with_evidence": 0.8, "trust_model_without_evidence": 0.3,
    "min_relevance": 0.3, "min_coverage": 0.5, "min_grounding": 0.8, "min_attribution": 0.8,
    "min_corroboration": 0.3, "max_dilution": 0.8, "max_redundancy": 0.25, "min_efficiency": 0.1,
    "max_off_topic": 0,
}
canonical = json.dumps(policy, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
print(json.dumps({"canonical": canonical,
                  "digest": hashlib.sha256(b"bizra-policy-v1:" + canonical.encode()).hexdigest()}, indent=1))
