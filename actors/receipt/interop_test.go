package receipt

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestIndependentPythonVerifier checks receipts issued by the Service with
// testdata/receipt/verify_receipt.py, a verifier written from proof.md with python's
// hashlib and cryptography only. Skipped when python3 or cryptography is missing.
func TestIndependentPythonVerifier(t *testing.T) {
	if testing.Short() {
		t.Skip("runs python3")
	}
	py, err := exec.LookPath("python3")
	if err != nil {
		missingTool(t, "python3 not installed")
	}
	if exec.Command(py, "-c", "import cryptography").Run() != nil {
		missingTool(t, "python3 cryptography not installed (Debian python3-cryptography; .ci/run installs it)")
	}
	script := filepath.Join("..", "..", "testdata", "receipt", "verify_receipt.py")
	run := func(raw []byte) (bool, string) {
		cmd := exec.Command(py, script)
		cmd.Stdin = bytes.NewReader(raw)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("python verifier: %v", err)
		}
		var res Verification
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatalf("python verifier output %q", out)
		}
		return res.Valid, res.Reason
	}
	for _, mode := range []string{ModeBatch, ModeSingle} {
		s := startService(t, Options{Mode: mode, BatchMax: 5,
			Origin: func() map[string]any { return map[string]any{"designation": "node0", "hash_validated": true} }})
		var refs []Ref
		for i := range 7 {
			in := input(i)
			in.Reason = "reason with \"quotes\", \x01 and é"
			in.Duration = 0
			if i == 3 {
				in.FateScore = f64(1e-7)
			}
			refs = append(refs, mustIssue(t, s, in))
		}
		flush(t, s)
		for _, r := range refs {
			raw, err := s.Get(r.ReceiptID)
			if err != nil {
				t.Fatal(err)
			}
			if ok, reason := run(raw); !ok {
				t.Fatalf("%s: python says %s for %s", mode, reason, raw)
			}
			bad := mutate(t, raw, func(m map[string]any) { m["gate_passed"] = false })
			if ok, _ := run(bad); ok {
				t.Fatalf("%s: python accepted a tampered receipt", mode)
			}
		}
	}
}
