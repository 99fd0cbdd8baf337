package receipt

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"

	"golang.org/x/crypto/hkdf"
)

// EnvKey is the name of the environment variable that carries the receipt secret. The
// package never reads the environment; the name appears in errors so an operator knows
// what to fix.
const EnvKey = "BIZRA_RECEIPT_PRIVATE_KEY_HEX"

// HKDFInfo is the HKDF-SHA256 info string that derives the Ed25519 seed from the secret
// (salt empty, 32 bytes of output).
const HKDFInfo = "bizra-receipt-ed25519-v1"

// incomparable makes a struct type incomparable with == (tailscale types/key style).
type incomparable [0]func()

// Secret is the 32-byte receipt secret (BIZRA_RECEIPT_PRIVATE_KEY_HEX). It keys the
// legacy HMAC signer directly and, through HKDF, the Ed25519 key. It cannot be compared
// with == (use Equal, which is constant-time) and never prints itself: %v, %s, %#v,
// slog and encoding/json all show "Secret(redacted)" or fail.
type Secret struct {
	_ incomparable
	b [32]byte
	// set is false for the zero Secret.
	set bool
}

const redacted = "Secret(redacted)"

// ParseSecretHex parses exactly 64 hex characters. It refuses well-known test values
// and trivially weak secrets (all one byte, such as 11×32 or all zeros; fewer than
// 12 distinct byte values; a constant byte step such as 00 01 02 …) unless
// allowInsecure is true (--insecure-test-keys).
func ParseSecretHex(s string, allowInsecure bool) (Secret, error) {
	if len(s) != 64 {
		return Secret{}, fmt.Errorf("%w: got %d characters", ErrKey, len(s))
	}
	var out Secret
	if _, err := hex.Decode(out.b[:], []byte(s)); err != nil {
		return Secret{}, fmt.Errorf("%w: not hex", ErrKey)
	}
	out.set = true
	if !allowInsecure && weakSecret(out.b[:]) {
		return Secret{}, ErrInsecureKey
	}
	return out, nil
}

// SecretFromBytes copies a 32-byte secret, applying the same weak-key policy as
// ParseSecretHex.
func SecretFromBytes(b []byte, allowInsecure bool) (Secret, error) {
	if len(b) != 32 {
		return Secret{}, fmt.Errorf("%w: got %d bytes", ErrKey, len(b))
	}
	var out Secret
	copy(out.b[:], b)
	out.set = true
	if !allowInsecure && weakSecret(out.b[:]) {
		return Secret{}, ErrInsecureKey
	}
	return out, nil
}

// GenerateSecret returns a fresh random secret (for `bizra init`).
func GenerateSecret() (Secret, error) {
	for {
		var out Secret
		if _, err := io.ReadFull(rand.Reader, out.b[:]); err != nil {
			return Secret{}, fmt.Errorf("generate receipt secret: %w", err)
		}
		out.set = true
		if !weakSecret(out.b[:]) {
			return out, nil
		}
	}
}

// weakSecret reports well-known or trivially weak values: fewer than 12 distinct bytes
// (covers all-same-byte, 11×32, zeros and short repeating patterns such as deadbeef×8)
// or a constant step between consecutive bytes (00 01 02 …, ff fe fd …). A uniformly
// random secret hits either with probability far below 2^-60.
func weakSecret(b []byte) bool {
	var seen [256]bool
	distinct := 0
	for _, c := range b {
		if !seen[c] {
			seen[c] = true
			distinct++
		}
	}
	if distinct < 12 {
		return true
	}
	step := b[1] - b[0]
	for i := 2; i < len(b); i++ {
		if b[i]-b[i-1] != step {
			return false
		}
	}
	return true
}

// IsZero reports whether s is the zero Secret (not set).
func (s Secret) IsZero() bool { return !s.set }

// Equal reports whether s and o hold the same bytes, in constant time.
func (s Secret) Equal(o Secret) bool {
	return subtle.ConstantTimeCompare(s.b[:], o.b[:])&subtle.ConstantTimeByteEq(b2u(s.set), b2u(o.set)) == 1
}

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// RevealHex returns the secret in hex. Only `bizra init` (writing the .env file) has a
// reason to call it.
func (s Secret) RevealHex() string { return hex.EncodeToString(s.b[:]) }

// String redacts the secret.
func (s Secret) String() string { return redacted }

// GoString redacts the secret.
func (s Secret) GoString() string { return redacted }

// Format redacts the secret for every verb.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }

// LogValue redacts the secret in slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText refuses: a secret is never serialised by accident.
func (s Secret) MarshalText() ([]byte, error) {
	return nil, fmt.Errorf("%w: a secret is not serialisable", ErrKey)
}

// Fingerprint is the legacy signer's "public key": SHA-256 of the raw secret (a
// compatibility contract, runbook scenario C).
func (s Secret) Fingerprint() [32]byte { return sha256.Sum256(s.b[:]) }

// Ed25519 derives the receipt signing key: seed = HKDF-SHA256(secret, salt empty,
// info HKDFInfo, 32 bytes).
func (s Secret) Ed25519() ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	r := hkdf.New(sha256.New, s.b[:], nil, []byte(HKDFInfo))
	if _, err := io.ReadFull(r, seed); err != nil {
		panic("BUG: hkdf read 32 bytes: " + err.Error())
	}
	return ed25519.NewKeyFromSeed(seed)
}

// LogMACInfo is the HKDF-SHA256 info string that derives the key of the log records'
// HMAC-SHA256 (log framing, not part of a receipt).
const LogMACInfo = "bizra-receipt-log-mac-v1"

// logMACKey derives the log MAC key: HKDF-SHA256(secret, salt empty, info LogMACInfo, 32 bytes).
func (s Secret) logMACKey() []byte {
	k := make([]byte, 32)
	r := hkdf.New(sha256.New, s.b[:], nil, []byte(LogMACInfo))
	if _, err := io.ReadFull(r, k); err != nil {
		panic("BUG: hkdf read 32 bytes: " + err.Error())
	}
	return k
}

// KeyID returns the first 16 hex characters of SHA-256(pub): the key id for an Ed25519
// public key or for a legacy fingerprint.
func KeyID(pub []byte) string {
	h := sha256.Sum256(pub)
	return hex.EncodeToString(h[:8])
}
