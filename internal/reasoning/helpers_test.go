package reasoning

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/bizra/bizra/internal/index"
)

// specLake copies the project's docs (a snapshot in testdata/scoring/lake) into a
// temporary data lake and indexes it.
func specLake(t testing.TB) *index.Index {
	t.Helper()
	src := filepath.Join("..", "..", "testdata", "scoring", "lake")
	dir := t.TempDir()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ix, err := index.Build(context.Background(), dir, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if ix.Stats().Files != len(ents) {
		t.Fatalf("indexed %+v", ix.Stats())
	}
	return ix
}
