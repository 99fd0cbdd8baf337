package genesis

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkValidate: a full validate_genesis_chain over real files (the maintenance
// loop runs it every cycle).
func BenchmarkValidate(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "state")
	if _, err := Init(dir, "Bench", "Lab", ceremonyTime); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, reason := Validate(dir); !ok {
			b.Fatal(reason)
		}
	}
}

func BenchmarkVerifyDocument(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "state")
	if _, err := Init(dir, "Bench", "Lab", ceremonyTime); err != nil {
		b.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(dir, GenesisFile))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, reason := VerifyDocument(doc, nil); !ok {
			b.Fatal(reason)
		}
	}
}
