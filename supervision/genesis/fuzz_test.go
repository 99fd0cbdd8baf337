package genesis

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzValidate writes the fuzz input as the genesis file of a valid ceremony and
// checks that validation never panics and that only the original bytes pass.
func FuzzValidate(f *testing.F) {
	dir := filepath.Join(f.TempDir(), "state")
	if _, err := Init(dir, "Fuzz Base", "Lab", ceremonyTime); err != nil {
		f.Fatal(err)
	}
	gpath := filepath.Join(dir, GenesisFile)
	valid, err := os.ReadFile(gpath)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add([]byte{})
	f.Add([]byte("[]"))
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`{"version":"bizra-genesis-v1","version":"x"}`))
	f.Add([]byte(`{"identity":{"name":"\u0000"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(gpath, data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, reason := validate(dir, Policy{})
		if reason == "" {
			t.Fatal("empty reason")
		}
		if reason == ReasonOK && string(data) != string(valid) {
			// Only re-encodings of the same content (whitespace, member order) may pass.
			g, _ := parse(data)
			w, _ := parse(valid)
			if g == nil || w == nil || g.GenesisHash != w.GenesisHash || g.Signature != w.Signature {
				t.Fatal("a different document passed")
			}
		}
	})
}

// FuzzIsThisNode posts arbitrary documents to a node0 guard: nothing panics, and only
// a document carrying the anchored genesis hash and key is this node's.
func FuzzIsThisNode(f *testing.F) {
	dir := filepath.Join(f.TempDir(), "state")
	if _, err := Init(dir, "Fuzz Base", "Lab", ceremonyTime); err != nil {
		f.Fatal(err)
	}
	own, err := os.ReadFile(filepath.Join(dir, GenesisFile))
	if err != nil {
		f.Fatal(err)
	}
	guard, err := NewGuardWith(GuardOptions{Role: RoleNode0, Dir: dir})
	if err != nil {
		f.Fatal(err)
	}
	w, _ := parse(own)
	f.Add(own)
	f.Add([]byte{})
	f.Add([]byte(`{"version":"bizra-genesis-v1"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if !guard.IsThisNode(data) {
			return
		}
		g, _ := parse(data)
		if g == nil || g.GenesisHash != w.GenesisHash || g.Identity.PublicKey != w.Identity.PublicKey || g.Signature != w.Signature {
			t.Fatal("a different document was taken for this node's")
		}
	})
}
