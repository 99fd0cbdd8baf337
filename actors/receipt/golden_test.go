package receipt

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bizra/bizra/internal/canon"
)

// vectors is testdata/receipt/vectors.json, produced by gen_vectors.py with python's
// hashlib, hmac and cryptography (HKDF, Ed25519), independently of this package.
type vectors struct {
	SecretHex        string `json:"secret_hex"`
	HKDFInfo         string `json:"hkdf_info"`
	Ed25519Seed      string `json:"ed25519_seed"`
	Ed25519PublicKey string `json:"ed25519_public_key"`
	KeyID            string `json:"key_id"`
	HMACFingerprint  string `json:"hmac_fingerprint"`
	HMACKeyID        string `json:"hmac_key_id"`
	HMACMessages     []struct {
		MsgHex string `json:"msg_hex"`
		Sig    string `json:"sig"`
	} `json:"hmac_messages"`
	Digests struct {
		Params        map[string]any `json:"params"`
		Payload       map[string]any `json:"payload"`
		Origin        map[string]any `json:"origin"`
		PolicyDigest  string         `json:"policy_digest"`
		QueryDigest   string         `json:"query_digest"`
		PayloadDigest string         `json:"payload_digest"`
		OriginDigest  string         `json:"origin_digest"`
		NullDigest    string         `json:"null_digest"`
	} `json:"digests"`
	Bodies []struct {
		Body      json.RawMessage `json:"body"`
		Canonical string          `json:"canonical"`
		LeafHash  string          `json:"leaf_hash"`
	} `json:"bodies"`
	Tree struct {
		LeafNodes []string   `json:"leaf_nodes"`
		Node01    string     `json:"node_01"`
		Root      string     `json:"root"`
		Proofs    [][]string `json:"proofs"`
	} `json:"tree"`
	Batch struct {
		BatchSeq   uint64 `json:"batch_seq"`
		PrevRoot   string `json:"prev_root"`
		MessageHex string `json:"message_hex"`
		Signature  string `json:"signature"`
	} `json:"batch"`
	Batch2 struct {
		BatchSeq   uint64 `json:"batch_seq"`
		Root       string `json:"root"`
		PrevRoot   string `json:"prev_root"`
		MessageHex string `json:"message_hex"`
		Signature  string `json:"signature"`
	} `json:"batch2"`
	SealedReceipts []string `json:"sealed_receipts"`
	Single         struct {
		MessageHex string `json:"message_hex"`
		Sig        string `json:"sig"`
		Receipt    string `json:"receipt"`
	} `json:"single"`
	LegacyHMAC struct {
		Receipt string `json:"receipt"`
	} `json:"legacy_hmac"`
	Merkle []struct {
		N      int    `json:"n"`
		Root   string `json:"root"`
		Proofs []struct {
			Index int      `json:"index"`
			Path  []string `json:"path"`
		} `json:"proofs"`
	} `json:"merkle"`
}

func loadVectors(t testing.TB) *vectors {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "receipt", "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Bodies) != 3 || len(v.Merkle) == 0 || len(v.SealedReceipts) != 3 {
		t.Fatal("vectors incomplete")
	}
	return &v
}

func h32(t testing.TB, s string) [32]byte {
	t.Helper()
	var out [32]byte
	if err := decodeHexInto(out[:], s); err != nil {
		t.Fatalf("bad hex %q", s)
	}
	return out
}

func TestGoldenKeys(t *testing.T) {
	v := loadVectors(t)
	s, err := ParseSecretHex(v.SecretHex, false)
	if err != nil {
		t.Fatal(err)
	}
	if v.HKDFInfo != HKDFInfo {
		t.Fatalf("info %q", v.HKDFInfo)
	}
	if got := hex.EncodeToString(s.Ed25519().Seed()); got != v.Ed25519Seed {
		t.Fatalf("hkdf seed %s; want %s", got, v.Ed25519Seed)
	}
	ed := NewEd25519Signer(s)
	if ed.PublicKeyHex() != v.Ed25519PublicKey || ed.KeyID() != v.KeyID {
		t.Fatalf("ed25519 public key %s id %s", ed.PublicKeyHex(), ed.KeyID())
	}
	sg := NewSimpleSigner(s)
	if hex.EncodeToString(sg.PublicKeyBytes()) != v.HMACFingerprint || sg.KeyID() != v.HMACKeyID {
		t.Fatal("hmac fingerprint")
	}
	for _, m := range v.HMACMessages {
		msg, _ := hex.DecodeString(m.MsgHex)
		if got := hex.EncodeToString(sg.Sign(msg)); got != m.Sig {
			t.Fatalf("hmac(%s) = %s; want %s", m.MsgHex, got, m.Sig)
		}
	}
}

func TestGoldenBodiesTreeAndSeal(t *testing.T) {
	v := loadVectors(t)
	s, _ := ParseSecretHex(v.SecretHex, false)
	ed := NewEd25519Signer(s)
	var leaves [][32]byte
	var items []*leafMsg
	for i, b := range v.Bodies {
		var body Body
		if err := json.Unmarshal(b.Body, &body); err != nil {
			t.Fatal(err)
		}
		c, err := body.Canonical()
		if err != nil {
			t.Fatal(err)
		}
		if string(c) != b.Canonical {
			t.Fatalf("body %d canonical\n got %s\nwant %s", i, c, b.Canonical)
		}
		leaf := LeafHash(c)
		if hexOf(leaf) != b.LeafHash {
			t.Fatalf("body %d leaf %x; want %s", i, leaf, b.LeafHash)
		}
		leaves = append(leaves, leaf)
		key, _ := parseIDKey(body.ReceiptID)
		items = append(items, &leafMsg{id: body.ReceiptID, key: key, leaf: leaf, body: c})
	}
	tree := NewTree(leaves)
	for i, l := range leaves {
		if got := LeafNode(l); hexOf(got) != v.Tree.LeafNodes[i] {
			t.Fatalf("leaf node %d", i)
		}
	}
	if hexOf(InnerNode(LeafNode(leaves[0]), LeafNode(leaves[1]))) != v.Tree.Node01 {
		t.Fatal("inner node")
	}
	if hexOf(tree.Root()) != v.Tree.Root {
		t.Fatalf("root %x; want %s", tree.Root(), v.Tree.Root)
	}
	for i := range leaves {
		var got []string
		for _, p := range tree.Proof(i) {
			got = append(got, hexOf(p))
		}
		if strings.Join(got, ",") != strings.Join(v.Tree.Proofs[i], ",") {
			t.Fatalf("proof %d: %v; want %v", i, got, v.Tree.Proofs[i])
		}
	}
	msg := BatchMessage(v.Batch.BatchSeq, tree.Root(), h32(t, v.Batch.PrevRoot))
	if hex.EncodeToString(msg) != v.Batch.MessageHex {
		t.Fatalf("batch message %x", msg)
	}
	sig := ed.Sign(msg)
	if hex.EncodeToString(sig) != v.Batch.Signature {
		t.Fatal("batch signature differs from python's")
	}
	m2 := BatchMessage(v.Batch2.BatchSeq, h32(t, v.Batch2.Root), h32(t, v.Batch2.PrevRoot))
	if hex.EncodeToString(m2) != v.Batch2.MessageHex || hex.EncodeToString(ed.Sign(m2)) != v.Batch2.Signature {
		t.Fatal("second batch of the chain")
	}
	// The receipts in the writer's log records (framing and MAC stripped) are
	// byte-identical to python's canonical sealed receipts.
	w := &writer{alg: ed.Alg(), keyID: ed.KeyID(), pubHex: ed.PublicKeyHex(), mac: newMacer(s.logMACKey())}
	buf, _, err := w.lines(&job{seq: v.Batch.BatchSeq, tree: tree, root: tree.Root(), sig: sig, items: items}, 1, 0, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := unframe(t, w.mac, buf, items)
	for i, want := range v.SealedReceipts {
		if got[i] != want {
			t.Fatalf("sealed receipt %d\n got %s\nwant %s", i, got[i], want)
		}
		if res := Verify([]byte(want)); !res.Valid || res.KeyID != v.KeyID {
			t.Fatalf("python receipt %d does not verify: %+v", i, res)
		}
	}
	// Single mode.
	sm := SingleMessage(leaves[0])
	if hex.EncodeToString(sm) != v.Single.MessageHex || hex.EncodeToString(ed.Sign(sm)) != v.Single.Sig {
		t.Fatal("single signature")
	}
	buf, _, err = w.lines(&job{single: true, sigs: [][]byte{ed.Sign(sm)}, items: items[:1]}, 1, 0, nil, nil)
	if err != nil || unframe(t, w.mac, buf, items[:1])[0] != v.Single.Receipt {
		t.Fatalf("single receipt\n got %s\nwant %s", buf, v.Single.Receipt)
	}
	if res := Verify([]byte(v.Single.Receipt)); !res.Valid {
		t.Fatalf("single: %+v", res)
	}
	// Legacy HMAC: needs the secret.
	if res := Verify([]byte(v.LegacyHMAC.Receipt)); res.Valid || !strings.Contains(res.Reason, "secret") {
		t.Fatalf("hmac without secret: %+v", res)
	}
	if res := VerifyWithSecret([]byte(v.LegacyHMAC.Receipt), s); !res.Valid || res.Alg != AlgHMAC {
		t.Fatalf("hmac with secret: %+v", res)
	}
	other, _ := GenerateSecret()
	if res := VerifyWithSecret([]byte(v.LegacyHMAC.Receipt), other); res.Valid {
		t.Fatal("hmac verified with another secret")
	}
}

func TestGoldenMerkle(t *testing.T) {
	v := loadVectors(t)
	all := make([][32]byte, 1025)
	for i := range all {
		var b [8]byte
		for k := range 8 {
			b[7-k] = byte(uint64(i) >> (8 * k))
		}
		all[i] = sha256Sum(append([]byte("bizra-test-leaf"), b[:]...))
	}
	for _, m := range v.Merkle {
		tree := NewTree(all[:m.N])
		if hexOf(tree.Root()) != m.Root {
			t.Fatalf("n=%d root %x; want %s", m.N, tree.Root(), m.Root)
		}
		for _, p := range m.Proofs {
			proof := tree.Proof(p.Index)
			var got []string
			for _, x := range proof {
				got = append(got, hexOf(x))
			}
			if strings.Join(got, ",") != strings.Join(p.Path, ",") {
				t.Fatalf("n=%d proof %d differs", m.N, p.Index)
			}
			if !VerifyInclusion(all[p.Index], uint64(p.Index), uint64(m.N), proof, tree.Root()) {
				t.Fatalf("n=%d index %d does not verify", m.N, p.Index)
			}
		}
	}
}

// TestGoldenServiceDigests checks that Issue digests params, payload and origin as
// python does, and that the stored receipt verifies.
func TestGoldenServiceDigests(t *testing.T) {
	v := loadVectors(t)
	s, _ := ParseSecretHex(v.SecretHex, false)
	svc := startService(t, Options{
		Secret: s, NodeID: "node0_3f2a9c1d0b7e4a61",
		Origin:       func() map[string]any { return v.Digests.Origin },
		PolicyDigest: func() string { return v.Digests.PolicyDigest },
		Now:          func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC) },
	})
	ref, err := svc.Issue(Input{Kind: KindQuery, Status: StatusAccepted, Method: "POST /v1/query",
		Params: v.Digests.Params, Payload: v.Digests.Payload, GatePassed: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	raw, err := svc.Get(ref.ReceiptID)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"query_digest": v.Digests.QueryDigest, "payload_digest": v.Digests.PayloadDigest,
		"origin_digest": v.Digests.OriginDigest, "policy_digest": v.Digests.PolicyDigest,
		"timestamp": "2026-03-01T12:00:00.123456789Z", "leaf_hash": ref.LeafHash,
	} {
		if got[k] != want {
			t.Errorf("%s = %v; want %s", k, got[k], want)
		}
	}
	if got["snr"] != nil || got["fate_score"] != nil {
		t.Error("unmeasured scores must be null")
	}
	if c, _ := canon.Transform(raw); !bytes.Equal(c, raw) {
		t.Error("stored receipt is not canonical")
	}
	if res := Verify(raw); !res.Valid || res.KeyID != v.KeyID {
		t.Fatalf("%+v", res)
	}
	if d, _ := canon.Digest(DomainQuery, nil); d != v.Digests.NullDigest {
		t.Fatal("null params digest")
	}
}

// unframe checks the MAC of every record in buf (written at offset 0 of segment 1) and
// returns the receipts they carry.
// The records are compact sealed records, joined with the issued bodies of items as
// Get joins them.
func unframe(t *testing.T, m *macer, buf []byte, items []*leafMsg) []string {
	t.Helper()
	var out []string
	off := 0
	for i, line := range strings.SplitAfter(string(buf), "\n") {
		if line == "" {
			continue
		}
		typ, raw, reason := m.checkFrame([]byte(strings.TrimSuffix(line, "\n")), 1, int64(off))
		if reason != "" || typ != recSeal {
			t.Fatalf("record at %d: %q type %c", off, reason, typ)
		}
		full, err := joinCompact(items[i].body, raw)
		if err != nil {
			t.Fatalf("record at %d: %v", off, err)
		}
		out = append(out, string(full))
		off += len(line)
	}
	return out
}
