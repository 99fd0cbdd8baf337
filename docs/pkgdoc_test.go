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
		files, err := filepath.Glob(filepath.Join(path, "*.go"))
		if err != nil {
			return err
		}
		docs := map[string]int{} // package name → files carrying a package doc comment
		fset := token.NewFileSet()
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, file, nil, parser.ParseComments|parser.PackageClauseOnly)
			if err != nil {
				t.Errorf("%s: %v", file, err)
				continue
			}
			n := docs[f.Name.Name]
			if f.Doc != nil && strings.TrimSpace(f.Doc.Text()) != "" {
				n++
			}
			docs[f.Name.Name] = n
		}
		for pname, n := range docs {
			if n != 1 {
				t.Errorf("package %s (%s) has %d package doc comments; want exactly 1", pname, path, n)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
