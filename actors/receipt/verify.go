package receipt

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/bizra/bizra/internal/canon"
)

// MaxReceiptBytes bounds a receipt given to Verify.
const MaxReceiptBytes = 256 << 10

// maxSafeInt is the largest integer an RFC 8785 number holds exactly (2^53 − 1).
const maxSafeInt = 1<<53 - 1

// Verification is the answer to a verification: {valid, reason}. KeyID and Alg name
// the key and algorithm that signed a valid receipt (not serialised), so a caller can
// decide whether it trusts that key.
type Verification struct {
	Valid  bool   `json:"valid"`
	Reason string `json:"reason"`
	KeyID  string `json:"-"`
	Alg    string `json:"-"`
}

// ReasonOK is the reason of a valid receipt.
const ReasonOK = "ok"

// VerifyOptions configure a verification. The zero value checks a receipt against the
// key it carries and cannot verify legacy HMAC receipts.
type VerifyOptions struct {
	// Secret, when set, verifies legacy hmac-sha256 receipts (HMAC over JCS(body), and
	// public_key == hex SHA-256(secret)).
	Secret Secret
	// TrustedKeyIDs, when not empty, is the set of key ids a receipt may be signed by;
	// any other key fails with "untrusted key".
	TrustedKeyIDs []string
}

// Verify checks a receipt against the key it carries: it recomputes the leaf from the
// body (exactly the contract's fields, typed), then checks the inclusion proof against
// the root and the batch signature, or the single signature. A legacy HMAC receipt
// needs the secret: use VerifyWithSecret. Valid means "signed by KeyID"; compare KeyID
// with the node's key (Service.KeyID) or use VerifyOptions.TrustedKeyIDs. It never
// panics.
func Verify(raw []byte) Verification { return VerifyWith(raw, VerifyOptions{}) }

// VerifyWithSecret is Verify that can also check legacy hmac-sha256 receipts.
func VerifyWithSecret(raw []byte, s Secret) Verification {
	return VerifyWith(raw, VerifyOptions{Secret: s})
}

// VerifyWith verifies raw with opts.
func VerifyWith(raw []byte, opts VerifyOptions) (v Verification) {
	defer func() {
		if r := recover(); r != nil { // defence in depth: a verifier never takes the process down
			v = Verification{Reason: "malformed receipt"}
		}
	}()
	keyID, alg, err := verify(raw, &opts)
	if err != nil {
		return Verification{Reason: err.Error()}
	}
	if len(opts.TrustedKeyIDs) > 0 && !slices.Contains(opts.TrustedKeyIDs, keyID) {
		return Verification{Reason: "untrusted key " + keyID, KeyID: keyID, Alg: alg}
	}
	return Verification{Valid: true, Reason: ReasonOK, KeyID: keyID, Alg: alg}
}

type reason string

func (r reason) Error() string { return string(r) }

func fail(format string, a ...any) error { return reason(fmt.Sprintf(format, a...)) }

// parseObject decodes one JSON object into its members, refusing duplicates and
// trailing data.
func parseObject(raw []byte) (map[string]json.RawMessage, []string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return nil, nil, errors.New("malformed json")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, nil, errors.New("not a json object")
	}
	m := make(map[string]json.RawMessage, 24)
	var order []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, errors.New("malformed json")
		}
		k, ok := tok.(string)
		if !ok {
			return nil, nil, errors.New("malformed json")
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, errors.New("malformed json")
		}
		if _, dup := m[k]; dup {
			return nil, nil, fmt.Errorf("duplicate field %q", trunc(k))
		}
		m[k] = v
		order = append(order, k)
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, errors.New("malformed json")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, errors.New("trailing data after the receipt")
	}
	return m, order, nil
}

func trunc(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	if !utf8.ValidString(s) {
		return "?"
	}
	return s
}

func asString(m map[string]json.RawMessage, k string) (string, error) {
	raw := m[k]
	if len(raw) == 0 || raw[0] != '"' {
		return "", fail("field %s: want a string", k)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fail("field %s: want a string", k)
	}
	return s, nil
}

func asHex32(m map[string]json.RawMessage, k string) ([32]byte, error) {
	var out [32]byte
	s, err := asString(m, k)
	if err != nil {
		return out, err
	}
	if err := decodeHexInto(out[:], s); err != nil {
		return out, fail("field %s: want 64 lower-case hex", k)
	}
	return out, nil
}

func decodeHexInto(dst []byte, s string) error {
	if len(s) != 2*len(dst) {
		return errors.New("length")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return errors.New("not lower hex")
		}
	}
	_, err := hex.Decode(dst, []byte(s))
	return err
}

func asNullableNumber(m map[string]json.RawMessage, k string) error {
	raw := m[k]
	if string(raw) == "null" {
		return nil
	}
	return asNumber(m, k)
}

func asNumber(m map[string]json.RawMessage, k string) error {
	raw := m[k]
	var f float64
	if len(raw) == 0 || !(raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9')) || json.Unmarshal(raw, &f) != nil {
		return fail("field %s: want a number", k)
	}
	return nil
}

func asUint(m map[string]json.RawMessage, k string) (uint64, error) {
	raw := m[k]
	var u uint64
	if len(raw) == 0 || raw[0] < '0' || raw[0] > '9' || json.Unmarshal(raw, &u) != nil || u > maxSafeInt {
		return 0, fail("field %s: want a non-negative integer", k)
	}
	return u, nil
}

func exactFields(m map[string]json.RawMessage, order []string, want []string, where string) error {
	for _, k := range want {
		if _, ok := m[k]; !ok {
			return fail("missing %sfield %s", where, k)
		}
	}
	for _, k := range order {
		if !slices.Contains(want, k) {
			return fail("unexpected %sfield %q", where, trunc(k))
		}
	}
	return nil
}

var (
	receiptFieldsSeal = append(append([]string{}, bodyFields[:]...), "leaf_hash", "seal")
	receiptFieldsSig  = append(append([]string{}, bodyFields[:]...), "leaf_hash", "signature")
	sealFields        = []string{"batch_seq", "size", "index", "root", "prev_root", "proof", "alg", "key_id", "public_key", "signature"}
	signatureFields   = []string{"alg", "key_id", "public_key", "sig"}
)

// verify returns the signing key id and alg of a valid receipt, or the reason it fails.
func verify(raw []byte, opts *VerifyOptions) (string, string, error) {
	if len(raw) > MaxReceiptBytes {
		return "", "", fail("receipt larger than %d bytes", MaxReceiptBytes)
	}
	if !utf8.Valid(raw) {
		return "", "", fail("receipt is not valid UTF-8")
	}
	m, order, err := parseObject(raw)
	if err != nil {
		return "", "", err
	}
	_, hasSeal := m["seal"]
	_, hasSig := m["signature"]
	switch {
	case hasSeal && hasSig:
		return "", "", fail("receipt has both seal and signature")
	case hasSeal:
		err = exactFields(m, order, receiptFieldsSeal, "")
	case hasSig:
		err = exactFields(m, order, receiptFieldsSig, "")
	default:
		return "", "", fail("missing field seal or signature")
	}
	if err != nil {
		return "", "", err
	}
	body, err := checkBody(m)
	if err != nil {
		return "", "", err
	}
	leaf := LeafHash(body)
	claimed, err := asHex32(m, "leaf_hash")
	if err != nil {
		return "", "", err
	}
	if leaf != claimed {
		return "", "", fail("leaf_hash does not match the body")
	}
	if hasSeal {
		return verifySeal(m["seal"], leaf)
	}
	return verifySignature(m["signature"], leaf, body, opts)
}

// checkBody type-checks the body members and returns JCS(body).
func checkBody(m map[string]json.RawMessage) ([]byte, error) {
	id, err := asString(m, "receipt_id")
	if err != nil {
		return nil, err
	}
	if !ValidID(id) {
		return nil, fail("field receipt_id: not a receipt id")
	}
	kind, err := asString(m, "kind")
	if err != nil {
		return nil, err
	}
	if k, _ := KindOfID(id); k != kind {
		return nil, fail("field kind: %q does not match the receipt id", trunc(kind))
	}
	if v, err := asString(m, "version"); err != nil {
		return nil, err
	} else if v != Version {
		return nil, fail("field version: unknown version %q", trunc(v))
	}
	if st, err := asString(m, "status"); err != nil {
		return nil, err
	} else if !validStatus(st) {
		return nil, fail("field status: unknown status %q", trunc(st))
	}
	for _, k := range []string{"method", "node_id", "policy_digest", "reason"} {
		if _, err := asString(m, k); err != nil {
			return nil, err
		}
	}
	for _, k := range []string{"query_digest", "payload_digest"} {
		if _, err := asHex32(m, k); err != nil {
			return nil, err
		}
	}
	ts, err := asString(m, "timestamp")
	if err != nil {
		return nil, err
	}
	if t, err := time.Parse(time.RFC3339Nano, ts); err != nil || t.Location() != time.UTC || ts[len(ts)-1] != 'Z' {
		return nil, fail("field timestamp: want RFC 3339 UTC")
	}
	for _, k := range []string{"snr", "ihsan", "fate_score"} {
		if err := asNullableNumber(m, k); err != nil {
			return nil, err
		}
	}
	if err := asNumber(m, "duration_ms"); err != nil {
		return nil, err
	}
	if gp := string(m["gate_passed"]); gp != "true" && gp != "false" {
		return nil, fail("field gate_passed: want a boolean")
	}
	origin := m["origin"]
	if len(origin) == 0 || origin[0] != '{' {
		return nil, fail("field origin: want an object")
	}
	oc, err := canon.Transform(origin)
	if err != nil {
		return nil, fail("field origin: no canonical form")
	}
	od, err := asHex32(m, "origin_digest")
	if err != nil {
		return nil, err
	}
	if canon.Sum(DomainOrigin, oc) != od {
		return nil, fail("origin_digest does not match origin")
	}
	bm := make(map[string]json.RawMessage, len(bodyFields))
	for _, k := range bodyFields {
		bm[k] = m[k]
	}
	body, err := canon.Marshal(bm)
	if err != nil {
		return nil, fail("body has no canonical form")
	}
	return body, nil
}

func verifySeal(raw json.RawMessage, leaf [32]byte) (string, string, error) {
	m, order, err := parseObject(raw)
	if err != nil {
		return "", "", fail("seal: %v", err)
	}
	if err := exactFields(m, order, sealFields, "seal "); err != nil {
		return "", "", err
	}
	alg, err := asString(m, "alg")
	if err != nil {
		return "", "", err
	}
	if alg != AlgEd25519 {
		return "", "", fail("seal: unknown alg %q", trunc(alg))
	}
	seq, err := asUint(m, "batch_seq")
	if err != nil {
		return "", "", err
	}
	size, err := asUint(m, "size")
	if err != nil {
		return "", "", err
	}
	index, err := asUint(m, "index")
	if err != nil {
		return "", "", err
	}
	if size == 0 || index >= size {
		return "", "", fail("seal: index %d outside a batch of %d", index, size)
	}
	root, err := asHex32(m, "root")
	if err != nil {
		return "", "", err
	}
	prev, err := asHex32(m, "prev_root")
	if err != nil {
		return "", "", err
	}
	var proofHex []json.RawMessage
	if pr := m["proof"]; len(pr) == 0 || pr[0] != '[' || json.Unmarshal(pr, &proofHex) != nil {
		return "", "", fail("field proof: want an array of hex strings")
	}
	if len(proofHex) > MaxProofLen {
		return "", "", fail("field proof: longer than %d", MaxProofLen)
	}
	proof := make([][32]byte, len(proofHex))
	for i, p := range proofHex {
		h, err := asHex32(map[string]json.RawMessage{"proof": p}, "proof")
		if err != nil {
			return "", "", err
		}
		proof[i] = h
	}
	pub, keyID, err := checkEdKey(m)
	if err != nil {
		return "", "", err
	}
	sig, err := asSig(m, "signature", ed25519.SignatureSize)
	if err != nil {
		return "", "", err
	}
	if !VerifyInclusion(leaf, index, size, proof, root) {
		return "", "", fail("inclusion proof does not match root")
	}
	if !ed25519.Verify(pub, BatchMessage(seq, root, prev), sig) {
		return "", "", fail("bad batch signature")
	}
	return keyID, AlgEd25519, nil
}

func checkEdKey(m map[string]json.RawMessage) (ed25519.PublicKey, string, error) {
	pk, err := asHex32(m, "public_key")
	if err != nil {
		return nil, "", err
	}
	keyID, err := asString(m, "key_id")
	if err != nil {
		return nil, "", err
	}
	if KeyID(pk[:]) != keyID {
		return nil, "", fail("key_id does not match public_key")
	}
	return ed25519.PublicKey(pk[:]), keyID, nil
}

func asSig(m map[string]json.RawMessage, k string, n int) ([]byte, error) {
	s, err := asString(m, k)
	if err != nil {
		return nil, err
	}
	out := make([]byte, n)
	if decodeHexInto(out, s) != nil {
		return nil, fail("field %s: want %d lower-case hex", k, 2*n)
	}
	return out, nil
}

func verifySignature(raw json.RawMessage, leaf [32]byte, body []byte, opts *VerifyOptions) (string, string, error) {
	m, order, err := parseObject(raw)
	if err != nil {
		return "", "", fail("signature: %v", err)
	}
	if err := exactFields(m, order, signatureFields, "signature "); err != nil {
		return "", "", err
	}
	alg, err := asString(m, "alg")
	if err != nil {
		return "", "", err
	}
	switch alg {
	case AlgEd25519:
		pub, keyID, err := checkEdKey(m)
		if err != nil {
			return "", "", err
		}
		sig, err := asSig(m, "sig", ed25519.SignatureSize)
		if err != nil {
			return "", "", err
		}
		if !ed25519.Verify(pub, SingleMessage(leaf), sig) {
			return "", "", fail("bad signature")
		}
		return keyID, AlgEd25519, nil
	case AlgHMAC:
		fp, err := asHex32(m, "public_key")
		if err != nil {
			return "", "", err
		}
		keyID, err := asString(m, "key_id")
		if err != nil {
			return "", "", err
		}
		if KeyID(fp[:]) != keyID {
			return "", "", fail("key_id does not match public_key")
		}
		sig, err := asSig(m, "sig", sha256.Size)
		if err != nil {
			return "", "", err
		}
		if opts.Secret.IsZero() {
			return "", "", fail("hmac-sha256 receipt: verification needs the node secret")
		}
		want := opts.Secret.Fingerprint()
		if subtle.ConstantTimeCompare(want[:], fp[:]) != 1 {
			return "", "", fail("hmac-sha256 receipt: public_key is not SHA-256 of this secret")
		}
		if !NewSimpleSigner(opts.Secret).Verify(body, sig) {
			return "", "", fail("bad signature")
		}
		return keyID, AlgHMAC, nil
	default:
		return "", "", fail("signature: unknown alg %q", trunc(alg))
	}
}

// Verifier verifies receipts with fixed options and keeps statistics. Safe for
// concurrent use.
type Verifier struct {
	opts  VerifyOptions
	total atomic.Uint64
	valid atomic.Uint64
}

// VerifierStats are a Verifier's counters. Rate is Valid/Total (0 before any call).
type VerifierStats struct {
	Total, Valid, Invalid uint64
	Rate                  float64
}

// NewVerifier returns a Verifier with opts.
func NewVerifier(opts VerifyOptions) *Verifier {
	opts.TrustedKeyIDs = slices.Clone(opts.TrustedKeyIDs)
	return &Verifier{opts: opts}
}

// Verify verifies raw and counts the outcome.
func (v *Verifier) Verify(raw []byte) Verification {
	res := VerifyWith(raw, v.opts)
	v.total.Add(1)
	if res.Valid {
		v.valid.Add(1)
	}
	return res
}

// Stats returns the counters.
func (v *Verifier) Stats() VerifierStats {
	valid := v.valid.Load()
	total := v.total.Load()
	if valid > total { // counters read at slightly different instants
		total = valid
	}
	st := VerifierStats{Total: total, Valid: valid, Invalid: total - valid}
	if total > 0 {
		st.Rate = float64(valid) / float64(total)
	}
	return st
}
