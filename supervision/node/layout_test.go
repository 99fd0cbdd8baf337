package node

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestFrontDoorsImportNoRuntime: the gateway (with its OpenAI front) and the bridge
// know only the interfaces they declare; the adapters to the runtime live in this
// package. A front door importing the runtime or the origin guard fails here.
func TestFrontDoorsImportNoRuntime(t *testing.T) {
	forbidden := []string{"github.com/bizra/bizra/actors/core", "github.com/bizra/bizra/supervision/genesis",
		"github.com/bizra/bizra/supervision/node"}
	for _, dir := range []string{"../../gateway", "../../gateway/openai", "../../bridge"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no Go files (%v)", dir, err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range af.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				for _, bad := range forbidden {
					if p == bad {
						t.Errorf("%s imports %s", f, p)
					}
				}
			}
		}
	}
}
