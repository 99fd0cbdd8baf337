package receipt

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// Algorithm names as they appear in receipts.
const (
	AlgEd25519 = "ed25519"
	AlgHMAC    = "hmac-sha256"
)

// Signer signs messages for receipts. Both implementations are safe for concurrent use.
type Signer interface {
	// Alg is the algorithm name written into receipts.
	Alg() string
	// Sign returns the signature of msg.
	Sign(msg []byte) []byte
	// Verify reports whether sig is a valid signature of msg (constant-time for HMAC).
	Verify(msg, sig []byte) bool
	// PublicKeyBytes is the public key (Ed25519) or the fingerprint (HMAC).
	PublicKeyBytes() []byte
	// KeyID is the first 16 hex of SHA-256(PublicKeyBytes()).
	KeyID() string
}

// Ed25519Signer signs with the Ed25519 key derived from a Secret.
type Ed25519Signer struct {
	priv  ed25519.PrivateKey
	pub   ed25519.PublicKey
	keyID string
}

// NewEd25519Signer derives the Ed25519 key from s (see Secret.Ed25519).
func NewEd25519Signer(s Secret) *Ed25519Signer {
	priv := s.Ed25519()
	pub := priv.Public().(ed25519.PublicKey)
	return &Ed25519Signer{priv: priv, pub: pub, keyID: KeyID(pub)}
}

// Alg returns "ed25519".
func (e *Ed25519Signer) Alg() string { return AlgEd25519 }

// Sign returns the 64-byte Ed25519 signature of msg.
func (e *Ed25519Signer) Sign(msg []byte) []byte { return ed25519.Sign(e.priv, msg) }

// Verify checks an Ed25519 signature.
func (e *Ed25519Signer) Verify(msg, sig []byte) bool {
	return len(sig) == ed25519.SignatureSize && ed25519.Verify(e.pub, msg, sig)
}

// PublicKeyBytes returns a copy of the 32-byte public key.
func (e *Ed25519Signer) PublicKeyBytes() []byte { return append([]byte(nil), e.pub...) }

// PublicKeyHex returns the public key in lower-case hex.
func (e *Ed25519Signer) PublicKeyHex() string { return hex.EncodeToString(e.pub) }

// KeyID returns the key id of the public key.
func (e *Ed25519Signer) KeyID() string { return e.keyID }

// String never shows the private key.
func (e *Ed25519Signer) String() string { return "Ed25519Signer(" + e.keyID + ")" }

// SimpleSigner is the legacy signer: HMAC-SHA256 keyed with the raw 32-byte secret. Its
// "public key" is SHA-256(secret), a compatibility contract that operators rely on
// (runbook scenario C); only holders of the secret can verify. New receipts use
// Ed25519; SimpleSigner exists to verify receipts issued by older nodes.
type SimpleSigner struct {
	key   [32]byte
	fp    [32]byte
	keyID string
}

// NewSimpleSigner returns the legacy HMAC signer for s.
func NewSimpleSigner(s Secret) *SimpleSigner {
	fp := s.Fingerprint()
	return &SimpleSigner{key: s.b, fp: fp, keyID: KeyID(fp[:])}
}

// Alg returns "hmac-sha256".
func (h *SimpleSigner) Alg() string { return AlgHMAC }

// Sign returns the 32-byte HMAC-SHA256(secret, msg); deterministic.
func (h *SimpleSigner) Sign(msg []byte) []byte {
	m := hmac.New(sha256.New, h.key[:])
	m.Write(msg)
	return m.Sum(nil)
}

// Verify compares the HMAC in constant time.
func (h *SimpleSigner) Verify(msg, sig []byte) bool { return hmac.Equal(h.Sign(msg), sig) }

// PublicKeyBytes returns SHA-256(secret) (a copy).
func (h *SimpleSigner) PublicKeyBytes() []byte { return append([]byte(nil), h.fp[:]...) }

// KeyID returns the first 16 hex of SHA-256(fingerprint).
func (h *SimpleSigner) KeyID() string { return h.keyID }

// String never shows the secret.
func (h *SimpleSigner) String() string { return "SimpleSigner(" + h.keyID + ")" }
