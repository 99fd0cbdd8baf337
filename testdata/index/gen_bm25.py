#!/usr/bin/env python3
"""Independent BM25 golden vector for internal/index (Lucene idf, k1=1.2, b=0.75,
norm = sum over query terms of idf*min(1, tf part) / sum of idf over the query's terms).
Terms are given already tokenised (lower case, stop words removed, plural stemmed)
so this script does not depend on the Go tokenizer."""
import json, math

docs = {
    "a.txt": "The bridge health check reports the listener port and the token status.",
    "b.txt": "Cache hits and cache misses are counted; the cache has a TTL.",
    "c.txt": "Receipts are sealed in batches. Each receipt carries a leaf hash.",
    "d.txt": "Check the ledger chain after a crash; the chain is verified on boot.",
}
# content terms per doc, by hand (stop words: the, and, are, a, has, in, each, is, on, after;
# stems: plural s, Porter 1b -ed/-ing, Porter 5a final e: bridge→bridg, cache→cach,
# misses→miss, counted→count, sealed→seal, batches→batch, verified→verifi)
terms = {
    "a.txt": "bridg health check report listener port token status".split(),
    "b.txt": "cach hit cach miss count cach ttl".split(),
    "c.txt": "receipt seal batch receipt carry leaf hash".split(),
    "d.txt": "check ledger chain crash chain verifi boot".split(),
}
queries = {"how do I check bridge health?": ["check", "bridg", "health"],
           "cache ttl banana": ["cach", "ttl", "banana"]}
k1, b = 1.2, 0.75
N = len(docs)
avg = sum(len(t) for t in terms.values()) / N
def idf(t):
    df = sum(1 for d in terms.values() if t in d)
    return math.log(1 + (N - df + 0.5) / (df + 0.5))
out = {"docs": [{"path": p, "text": docs[p]} for p in docs], "queries": []}
for q, qt in queries.items():
    ideal = sum(idf(t) for t in set(qt))
    hits = []
    for p, dt in terms.items():
        s = 0.0
        cov = 0.0
        for t in set(qt):
            tf = dt.count(t)
            if tf:
                part = tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(dt) / avg))
                s += idf(t) * part
                cov += idf(t) * min(1.0, part)
        if s > 0:
            hits.append({"doc": p, "score": s, "norm": cov / ideal})
    hits.sort(key=lambda h: -h["score"])
    out["queries"].append({"query": q, "ideal": ideal, "hits": hits})
print(json.dumps(out, indent=1))
