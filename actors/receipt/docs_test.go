package receipt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocsWorkedExample checks that docs/receipts.md shows the golden values
// (regenerate it with testdata/receipt/gen_doc.py).
func TestDocsWorkedExample(t *testing.T) {
	v := loadVectors(t)
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "receipts.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.ReplaceAll(string(raw), "\n", "")
	want := []string{v.SecretHex, v.Ed25519Seed, v.Ed25519PublicKey, v.KeyID, v.HMACFingerprint, v.HMACKeyID,
		v.Digests.QueryDigest, v.Digests.PayloadDigest, v.Digests.OriginDigest, v.Bodies[0].Canonical,
		v.Tree.Node01, v.Tree.Root, v.Batch.MessageHex, v.Batch.Signature, v.Batch2.MessageHex,
		v.SealedReceipts[0], v.Single.MessageHex, v.Single.Sig, v.LegacyHMAC.Receipt}
	for i, b := range v.Bodies {
		want = append(want, b.LeafHash, v.Tree.LeafNodes[i])
		want = append(want, v.Tree.Proofs[i]...)
	}
	for _, w := range want {
		if !strings.Contains(doc, w) {
			t.Errorf("docs/receipts.md lacks %.60s…", w)
		}
	}
}
