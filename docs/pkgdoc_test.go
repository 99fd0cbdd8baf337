package docs

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestPackageDocs requires every package of the module to have exactly one package
// doc comment (tailscale's pkgdoc_test): a package says what it owns.
func TestPackageDocs(t *testing.T) {
	root := ".."
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
			return filepath.SkipDir
		}
		fset := token.NewFileSet()
		pkgs, err := parser.ParseDir(fset, path, func(fi fs.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") },
			parser.ParseComments|parser.PackageClauseOnly)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			return nil
		}
		for pname, p := range pkgs {
			docs := 0
			for _, f := range p.Files {
				if f.Doc != nil && strings.TrimSpace(f.Doc.Text()) != "" {
					docs++
				}
			}
			if docs != 1 {
				t.Errorf("package %s (%s) has %d package doc comments; want exactly 1", pname, path, docs)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
