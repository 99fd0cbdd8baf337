package catalog

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// declared is one catalog.New call found in the repository's source.
type declared struct {
	where         string
	kind          Kind
	code, message string // effective: "" replaced by the kind's default
}

// meaning is what a client can rely on from a code alone: its kind, hence its HTTP
// status and JSON-RPC code. Messages may be more specific per declaration ("Invalid
// query" and "query is too long" are both INVALID_QUERY, 400).
type meaning struct {
	Kind      Kind
	HTTP, RPC int
}

var kindByName = map[string]Kind{"Internal": Internal, "InvalidInput": InvalidInput, "InvalidJSON": InvalidJSON,
	"PayloadTooLarge": PayloadTooLarge, "NotFound": NotFound, "MethodNotAllowed": MethodNotAllowed,
	"Unauthorized": Unauthorized, "RateLimited": RateLimited, "Overloaded": Overloaded, "Timeout": Timeout,
	"Unavailable": Unavailable, "Conflict": Conflict}

// scanDeclarations parses every non-test Go file of the module and returns its
// catalog.New calls whose kind, code and message are literals.
func scanDeclarations(t *testing.T) []declared {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found from internal/catalog: %v", err)
	}
	var out []declared
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); p != root && (strings.HasPrefix(n, ".") || n == "testdata" || n == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			return err
		}
		inCatalog := f.Name.Name == "catalog"
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 4 || !isNew(call.Fun, inCatalog) {
				return true
			}
			k, ok1 := kindOf(call.Args[0])
			code, ok2 := stringLit(call.Args[1])
			msg, ok3 := stringLit(call.Args[2])
			if !ok1 || !ok2 || !ok3 {
				t.Errorf("%s: catalog.New with a non-literal kind, code or message", fset.Position(call.Pos()))
				return true
			}
			e := Of(k)
			if code == "" {
				code = e.Code
			}
			if msg == "" {
				msg = e.Message
			}
			rel, _ := filepath.Rel(root, p)
			out = append(out, declared{where: rel + ":" + strconv.Itoa(fset.Position(call.Pos()).Line), kind: k, code: code, message: msg})
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func isNew(fun ast.Expr, inCatalog bool) bool {
	switch f := fun.(type) {
	case *ast.SelectorExpr:
		x, ok := f.X.(*ast.Ident)
		return ok && x.Name == "catalog" && f.Sel.Name == "New"
	case *ast.Ident:
		return inCatalog && f.Name == "New"
	}
	return false
}

func kindOf(e ast.Expr) (Kind, bool) {
	var name string
	switch x := e.(type) {
	case *ast.SelectorExpr:
		name = x.Sel.Name
	case *ast.Ident:
		name = x.Name
	}
	k, ok := kindByName[name]
	return k, ok
}

func stringLit(e ast.Expr) (string, bool) {
	b, ok := e.(*ast.BasicLit)
	if !ok || b.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(b.Value)
	return s, err == nil
}

// TestEveryPublicCodeHasOneMeaning: across the whole module, a public code always has
// the same kind (so the same HTTP status and JSON-RPC code), so a client and a runbook
// can rely on the code alone; and every declaration is literal, so this scan sees them
// all (a code rebuilt at run time from a string could mean anything). Declaring one
// code in two packages is allowed only with the same kind.
func TestEveryPublicCodeHasOneMeaning(t *testing.T) {
	decls := scanDeclarations(t)
	if len(decls) < 20 {
		t.Fatalf("found only %d catalog.New declarations; the scan is broken", len(decls))
	}
	byCode := map[string]map[meaning][]string{}
	for _, d := range decls {
		e := Of(d.kind)
		m := meaning{Kind: d.kind, HTTP: e.HTTP, RPC: e.RPC}
		if byCode[d.code] == nil {
			byCode[d.code] = map[meaning][]string{}
		}
		byCode[d.code][m] = append(byCode[d.code][m], d.where)
	}
	codes := make([]string, 0, len(byCode))
	for c := range byCode {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for _, c := range codes {
		if ms := byCode[c]; len(ms) > 1 {
			var lines []string
			for m, where := range ms {
				lines = append(lines, "kind "+Of(m.Kind).Code+" ("+strconv.Itoa(m.HTTP)+", JSON-RPC "+strconv.Itoa(m.RPC)+") at "+strings.Join(where, ", "))
			}
			sort.Strings(lines)
			t.Errorf("code %s has %d meanings:\n\t%s", c, len(ms), strings.Join(lines, "\n\t"))
		}
	}
}
