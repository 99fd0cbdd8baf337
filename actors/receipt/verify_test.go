package receipt

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// mutate decodes a receipt into a generic map, applies f and re-encodes it.
func mutate(t testing.TB, raw []byte, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	f(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestVerifyRejects(t *testing.T) {
	v := loadVectors(t)
	good := []byte(v.SealedReceipts[1])
	single := []byte(v.Single.Receipt)
	if !Verify(good).Valid || !Verify(single).Valid {
		t.Fatal("baseline receipts must verify")
	}
	seal := func(f func(s map[string]any)) func(m map[string]any) {
		return func(m map[string]any) { f(m["seal"].(map[string]any)) }
	}
	tests := []struct {
		name   string
		raw    []byte
		reason string
	}{
		{"empty", nil, "malformed json"},
		{"not json", []byte("{receipt"), "malformed json"},
		{"array", []byte("[1,2]"), "not a json object"},
		{"string", []byte(`"x"`), "not a json object"},
		{"trailing data", append(bytes.Clone(good), []byte(` {}`)...), "trailing data"},
		{"invalid utf-8", append([]byte(`{"a":"`), 0xff, '"', '}'), "UTF-8"},
		{"too large", bytes.Repeat([]byte(" "), MaxReceiptBytes+1), "larger"},
		{"duplicate field", append([]byte(`{"snr":null,`), good[1:]...), "duplicate field"},
		{"tampered status", mutate(t, good, func(m map[string]any) { m["status"] = "accepted" }), "leaf_hash"},
		{"tampered reason", mutate(t, good, func(m map[string]any) { m["reason"] = "ok" }), "leaf_hash"},
		{"tampered score", mutate(t, good, func(m map[string]any) { m["snr"] = 0.99 }), "leaf_hash"},
		{"tampered origin", mutate(t, good, func(m map[string]any) { m["origin"].(map[string]any)["genesis_node"] = true }), "origin_digest"},
		{"extra body field", mutate(t, good, func(m map[string]any) { m["extra"] = 1 }), `unexpected field "extra"`},
		{"missing body field", mutate(t, good, func(m map[string]any) { delete(m, "fate_score") }), "missing field fate_score"},
		{"missing leaf_hash", mutate(t, good, func(m map[string]any) { delete(m, "leaf_hash") }), "missing field leaf_hash"},
		{"no seal", mutate(t, good, func(m map[string]any) { delete(m, "seal") }), "missing field seal"},
		{"seal and signature", mutate(t, good, func(m map[string]any) { m["signature"] = map[string]any{} }), "both"},
		{"score as string", mutate(t, good, func(m map[string]any) { m["snr"] = "0.5" }), "field snr"},
		{"gate as string", mutate(t, good, func(m map[string]any) { m["gate_passed"] = "true" }), "field gate_passed"},
		{"reason null", mutate(t, good, func(m map[string]any) { m["reason"] = nil }), "field reason"},
		{"origin array", mutate(t, good, func(m map[string]any) { m["origin"] = []any{} }), "field origin"},
		{"bad id", mutate(t, good, func(m map[string]any) { m["receipt_id"] = "../../etc/passwd" }), "receipt_id"},
		{"kind mismatch", mutate(t, good, func(m map[string]any) { m["kind"] = "query" }), "field kind"},
		{"unknown status", mutate(t, good, func(m map[string]any) { m["status"] = "maybe" }), "unknown status"},
		{"unknown version", mutate(t, good, func(m map[string]any) { m["version"] = "v2" }), "unknown version"},
		{"bad timestamp", mutate(t, good, func(m map[string]any) { m["timestamp"] = "yesterday" }), "timestamp"},
		{"upper-case hex leaf", mutate(t, good, func(m map[string]any) { m["leaf_hash"] = strings.ToUpper(m["leaf_hash"].(string)) }), "leaf_hash"},
		{"leaf not hex", mutate(t, good, func(m map[string]any) { m["leaf_hash"] = "zz" }), "leaf_hash"},
		{"bad proof", mutate(t, good, seal(func(s map[string]any) { s["proof"].([]any)[0] = strings.Repeat("ab", 32) })), "inclusion proof"},
		{"proof not hex", mutate(t, good, seal(func(s map[string]any) { s["proof"] = []any{"xyz"} })), "field proof"},
		{"proof not array", mutate(t, good, seal(func(s map[string]any) { s["proof"] = "x" })), "field proof"},
		{"proof too long", mutate(t, good, seal(func(s map[string]any) {
			p := make([]any, 65)
			for i := range p {
				p[i] = strings.Repeat("00", 32)
			}
			s["proof"] = p
		})), "longer"},
		{"index out of batch", mutate(t, good, seal(func(s map[string]any) { s["index"] = 3 })), "outside"},
		{"negative index", mutate(t, good, seal(func(s map[string]any) { s["index"] = -1 })), "field index"},
		{"fractional seq", mutate(t, good, seal(func(s map[string]any) { s["batch_seq"] = 1.5 })), "field batch_seq"},
		{"huge seq", mutate(t, good, seal(func(s map[string]any) { s["batch_seq"] = json.Number("9007199254740993") })), "field batch_seq"},
		{"other batch seq", mutate(t, good, seal(func(s map[string]any) { s["batch_seq"] = 2 })), "bad batch signature"},
		{"other prev_root", mutate(t, good, seal(func(s map[string]any) { s["prev_root"] = strings.Repeat("11", 32) })), "bad batch signature"},
		{"bad signature", mutate(t, good, seal(func(s map[string]any) { s["signature"] = strings.Repeat("00", 64) })), "bad batch signature"},
		{"short signature", mutate(t, good, seal(func(s map[string]any) { s["signature"] = "00" })), "field signature"},
		{"unknown alg", mutate(t, good, seal(func(s map[string]any) { s["alg"] = "rsa" })), "unknown alg"},
		{"key id mismatch", mutate(t, good, seal(func(s map[string]any) { s["key_id"] = "0000000000000000" })), "key_id"},
		{"other public key", mutate(t, good, seal(func(s map[string]any) {
			pub := NewEd25519Signer(testSecret(t)).PublicKeyHex()
			s["public_key"], s["key_id"] = pub, KeyID(mustHex(pub))
		})), "bad batch signature"},
		{"extra seal field", mutate(t, good, seal(func(s map[string]any) { s["x"] = 1 })), `unexpected seal field "x"`},
		{"missing seal field", mutate(t, good, seal(func(s map[string]any) { delete(s, "root") })), "missing seal field root"},
		{"seal not object", mutate(t, good, func(m map[string]any) { m["seal"] = 5 }), "seal"},
		{"single tampered", mutate(t, single, func(m map[string]any) { m["method"] = "x" }), "leaf_hash"},
		{"single bad sig", mutate(t, single, func(m map[string]any) {
			m["signature"].(map[string]any)["sig"] = strings.Repeat("00", 64)
		}), "bad signature"},
		{"single unknown alg", mutate(t, single, func(m map[string]any) { m["signature"].(map[string]any)["alg"] = "none" }), "unknown alg"},
		{"single extra field", mutate(t, single, func(m map[string]any) { m["signature"].(map[string]any)["x"] = "" }), "unexpected signature field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Verify(tt.raw)
			if res.Valid {
				t.Fatal("verified")
			}
			if !strings.Contains(res.Reason, tt.reason) {
				t.Fatalf("reason %q; want it to contain %q", res.Reason, tt.reason)
			}
		})
	}
}

func mustHex(s string) []byte {
	b := make([]byte, len(s)/2)
	if decodeHexInto(b, s) != nil {
		panic("bad hex")
	}
	return b
}

// A receipt moved to another batch: its body and leaf are intact, but the seal of
// another batch (root, proof, signature) does not include it.
func TestReceiptMovedToAnotherBatchFails(t *testing.T) {
	v := loadVectors(t)
	s, _ := ParseSecretHex(v.SecretHex, false)
	ed := NewEd25519Signer(s)
	other := testLeaves(4)
	tree := NewTree(other)
	sig := ed.Sign(BatchMessage(7, tree.Root(), [32]byte{}))
	var m map[string]any
	_ = json.Unmarshal([]byte(v.SealedReceipts[0]), &m)
	for idx := range 4 {
		moved := mutate(t, []byte(v.SealedReceipts[0]), func(m map[string]any) {
			var ph []any
			for _, p := range tree.Proof(idx) {
				ph = append(ph, hexOf(p))
			}
			seal := m["seal"].(map[string]any)
			seal["batch_seq"], seal["size"], seal["index"] = 7, 4, idx
			seal["root"], seal["proof"], seal["signature"] = hexOf(tree.Root()), ph, bytesHex(sig)
			seal["prev_root"] = strings.Repeat("00", 32)
		})
		if res := Verify(moved); res.Valid || !strings.Contains(res.Reason, "inclusion proof") {
			t.Fatalf("index %d: %+v", idx, res)
		}
	}
	// Sanity: the forged seal itself is well formed (a leaf of that batch verifies).
	if !VerifyInclusion(other[2], 2, 4, tree.Proof(2), tree.Root()) {
		t.Fatal("setup")
	}
}

func bytesHex(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}

func TestVerifierStatistics(t *testing.T) {
	v := loadVectors(t)
	ver := NewVerifier(VerifyOptions{})
	if st := ver.Stats(); st.Total != 0 || st.Rate != 0 {
		t.Fatalf("fresh stats %+v", st)
	}
	good := []byte(v.SealedReceipts[2])
	tampered := mutate(t, good, func(m map[string]any) { m["ihsan"] = 0.99 })
	if !ver.Verify(good).Valid || ver.Verify(tampered).Valid {
		t.Fatal("outcomes")
	}
	st := ver.Stats()
	if st.Total != 2 || st.Valid != 1 || st.Invalid != 1 || st.Rate != 0.5 {
		t.Fatalf("stats %+v; want rate 0.5", st)
	}
}

func TestTrustedKeys(t *testing.T) {
	v := loadVectors(t)
	raw := []byte(v.SealedReceipts[0])
	if res := VerifyWith(raw, VerifyOptions{TrustedKeyIDs: []string{v.KeyID}}); !res.Valid {
		t.Fatalf("%+v", res)
	}
	if res := VerifyWith(raw, VerifyOptions{TrustedKeyIDs: []string{"0123456789abcdef"}}); res.Valid ||
		!strings.Contains(res.Reason, "untrusted key") {
		t.Fatalf("%+v", res)
	}
}

func TestVerificationJSON(t *testing.T) {
	b, _ := json.Marshal(Verification{Valid: true, Reason: ReasonOK, KeyID: "k", Alg: "a"})
	if string(b) != `{"valid":true,"reason":"ok"}` {
		t.Fatal(string(b))
	}
}

func FuzzVerify(f *testing.F) {
	v := loadVectors(f)
	for _, r := range v.SealedReceipts {
		f.Add([]byte(r))
	}
	f.Add([]byte(v.Single.Receipt))
	f.Add([]byte(v.LegacyHMAC.Receipt))
	f.Add([]byte(`{"seal":{"proof":[1]}}`))
	f.Add([]byte(`{}`))
	s, _ := ParseSecretHex(v.SecretHex, false)
	f.Fuzz(func(t *testing.T, raw []byte) {
		a := Verify(raw)
		b := VerifyWithSecret(raw, s)
		if a.Valid && !b.Valid {
			t.Fatal("the secret made a valid receipt invalid")
		}
		if !a.Valid && a.Reason == "" || !b.Valid && b.Reason == "" {
			t.Fatal("invalid without a reason")
		}
		if b.Valid {
			// A valid receipt's leaf_hash is the leaf of its body.
			var m map[string]json.RawMessage
			if json.Unmarshal(raw, &m) != nil {
				t.Fatal("valid but not an object")
			}
		}
	})
}
