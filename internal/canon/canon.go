// Package canon implements the canonical encoding (RFC 8785, JSON Canonicalization
// Scheme) and the domain-separated SHA-256 digests that everything hashed or signed in
// bizra goes through: cache keys, graph hashes, receipts, genesis files and bridge
// signatures.
//
// Values are first encoded with encoding/json (HTML escaping off) and then transformed
// by github.com/gowebpki/jcs, a maintained RFC 8785 implementation, which sorts object
// members by UTF-16 code units and writes numbers in ECMAScript form. Never hash the
// output of json.Marshal of a map directly: its bytes are not a contract.
//
// # Concurrency
//
// Every function is safe for concurrent use.
package canon

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/gowebpki/jcs"
)

// Marshal returns the RFC 8785 canonical encoding of v (through AppendCanonical when v
// implements Canonicaler).
func Marshal(v any) ([]byte, error) {
	if v == nil {
		return []byte("null"), nil
	}
	if c, ok := v.(Canonicaler); ok {
		return c.AppendCanonical(make([]byte, 0, 512))
	}
	return marshalGeneric(v)
}

// marshalGeneric encodes v with encoding/json and transforms the result.
func marshalGeneric(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrEncode, err)
	}
	return Transform(bytes.TrimRight(buf.Bytes(), "\n"))
}

// Transform canonicalizes an existing JSON document.
func Transform(doc []byte) ([]byte, error) {
	out, err := jcs.Transform(doc)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrEncode, err)
	}
	return out, nil
}

// Sum returns SHA-256(domain ‖ ":" ‖ b). Domains are named "bizra-<thing>-v1".
func Sum(domain string, b []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte(domain))
	h.Write([]byte{':'})
	h.Write(b)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// SumHex is Sum in lower-case hex.
func SumHex(domain string, b []byte) string {
	s := Sum(domain, b)
	return hex.EncodeToString(s[:])
}

// digestBufs recycles the buffers Digest encodes Canonicalers into: the bytes are
// hashed and dropped, so they need not be allocated per call.
var digestBufs = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// Digest returns the lower-case hex SumHex(domain, Marshal(v)).
func Digest(domain string, v any) (string, error) {
	if c, ok := v.(Canonicaler); ok {
		bp := digestBufs.Get().(*[]byte)
		b, err := c.AppendCanonical((*bp)[:0])
		if err != nil {
			return "", fmt.Errorf("digest %s: %w", domain, err)
		}
		sum := SumHex(domain, b)
		if cap(b) <= 1<<20 {
			*bp = b[:0]
			digestBufs.Put(bp)
		}
		return sum, nil
	}
	b, err := Marshal(v)
	if err != nil {
		return "", fmt.Errorf("digest %s: %w", domain, err)
	}
	return SumHex(domain, b), nil
}

// SHA256Hex returns the plain (not domain-separated) lower-case hex SHA-256 of b, for
// the places where the contract fixes an undomained hash (legacy signer fingerprint,
// genesis hashes).
func SHA256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
