package docs

import (
	"io/fs"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestSeededDocsDoNotContainTheDemoQuery: the README's demo query must be answered
// from docs written for people, not from a sentence planted to match it (issue 16).
// No test asserts which seeded file ranks first for it.
func TestSeededDocsDoNotContainTheDemoQuery(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`/v1/query -d '\{"query":"([^"]+)"\}'`).FindSubmatch(readme)
	if m == nil {
		t.Fatal("README has no demo query (curl … /v1/query -d '{\"query\":\"…\"}')")
	}
	demo := strings.ToLower(strings.TrimRight(string(m[1]), "?!. "))
	norm := func(s string) string { return strings.Join(strings.Fields(strings.ToLower(s)), " ") }
	err = fs.WalkDir(FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := FS.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.Contains(norm(string(b)), norm(demo)) {
			t.Errorf("seeded doc %s contains the README's demo query %q", p, demo)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
