#!/usr/bin/env python3
"""Golden vectors for actors/skills/smartfiles, produced independently of the Go code.

Run: python3 testdata/skills/gen_vectors.py > testdata/skills/vectors.json
Sizes follow the original Python _size_human; hashes are hashlib.sha256; pattern
expansion is a single-pass (literal) substitution done with re.sub.
"""
import hashlib, json, re

def size_human(n):
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024:
            return f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} PB"

def expand(pattern, t):
    vals = {"name": t["name"], "ext": t["ext"], "n": str(t["n"]), "hash": t["hash"][:16],
            "date": t["date"], "cat": t["cat"]}
    return re.sub(r"\{(name|ext|n|hash|date|cat)\}", lambda m: vals[m.group(1)], pattern)

sizes = [0, 1, 500, 1023, 1024, 1536, 2048, 1048575, 5 * 1024 * 1024, 3 * 1024**3 + 12345,
         7 * 1024**4, 1024**5, 5 * 1024**6]
patterns = [
    ("{name}_{date}_{n}_{hash}_{cat}{ext}", {"name": "report", "ext": ".pdf", "n": 5,
     "hash": "abcdef1234567890abcdef", "date": "2026-02-13", "cat": "documents"}),
    ("fixed_name.txt", {"name": "x", "ext": ".y", "n": 1, "hash": "h", "date": "d", "cat": "c"}),
    ("{name}{ext}", {"name": "file", "ext": ".md", "n": 0, "hash": "", "date": "", "cat": ""}),
    ("{name}{ext}", {"name": "{ext}{n}", "ext": ".txt", "n": 3, "hash": "", "date": "", "cat": ""}),
    ("file_{n}{ext}{{n}}", {"name": "a", "ext": ".txt", "n": 12, "hash": "", "date": "", "cat": ""}),
]
contents = ["hello world", "", "aaa", "First part content."]
print(json.dumps({
    "sizes": [{"bytes": b, "human": size_human(b)} for b in sizes],
    "patterns": [{"pattern": p, "tokens": t, "want": expand(p, t)} for p, t in patterns],
    "sha256": [{"content": c, "hex": hashlib.sha256(c.encode()).hexdigest()} for c in contents],
}, indent=1))
