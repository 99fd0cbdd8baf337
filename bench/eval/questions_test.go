package eval

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const testdataDir = "../../testdata/eval"

// missingTool fails under CI and skips elsewhere (the tree's missing-tool rule).
func missingTool(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("CI: "+format, args...)
	}
	t.Skipf(format, args...)
}

// TestCommittedQuestionSets: every committed question file parses, is the corpus its
// name says, names only listed documents, and has a realistic size; one corpus is for
// tuning and the other held out.
func TestCommittedQuestionSets(t *testing.T) {
	roles := map[string]bool{}
	for _, set := range Sets {
		t.Run(set.Kind, func(t *testing.T) {
			ids, err := ReadList(filepath.Join(testdataDir, set.List))
			if err != nil {
				t.Fatal(err)
			}
			if len(ids) < 30 {
				t.Fatalf("%s lists %d documents", set.List, len(ids))
			}
			qs, err := LoadQuestions(filepath.Join(testdataDir, set.Questions), ids)
			if err != nil {
				t.Fatal(err)
			}
			if qs.Corpus != set.Kind {
				t.Fatalf("corpus %q", qs.Corpus)
			}
			roles[qs.Role] = true
			ans, unans := 0, 0
			seenQ := map[string]bool{}
			for _, q := range qs.Questions {
				if !q.Unanswerable {
					ans++
					if !slices.Contains(ids, q.Doc) {
						t.Errorf("%s: document %q not listed", q.ID, q.Doc)
					}
				} else {
					unans++
				}
				if seenQ[strings.ToLower(q.Question)] {
					t.Errorf("%s: question asked twice", q.ID)
				}
				seenQ[strings.ToLower(q.Question)] = true
			}
			if ans < 40 || unans < 8 {
				t.Fatalf("%d answerable and %d unanswerable questions; want ≥ 40 and ≥ 8", ans, unans)
			}
		})
	}
	if !roles[RoleTuning] || !roles[RoleHeldOut] {
		t.Fatalf("roles %v: want one tuning and one held-out corpus", roles)
	}
}

func TestParseQuestionsRejects(t *testing.T) {
	docs := []string{"tar.1", "ls.1"}
	ok := `{"id":"u","question":"q?","unanswerable":true}`
	tests := []struct{ name, body string }{
		{"not json", `{`},
		{"unknown field", `{"corpus":"man","role":"tuning","questions":[],"extra":1}`},
		{"bad corpus", `{"corpus":"pdf","role":"tuning","questions":[]}`},
		{"bad role", `{"corpus":"man","role":"both","questions":[]}`},
		{"empty", `{"corpus":"man","role":"tuning","questions":[]}`},
		{"no unanswerable", `{"corpus":"man","role":"tuning","questions":[{"id":"a","question":"q","doc":"tar.1","facts":["x"]}]}`},
		{"no answerable", `{"corpus":"man","role":"tuning","questions":[` + ok + `]}`},
		{"unlisted doc", `{"corpus":"man","role":"tuning","questions":[{"id":"a","question":"q","doc":"zsh.1","facts":["x"]},` + ok + `]}`},
		{"no fact", `{"corpus":"man","role":"tuning","questions":[{"id":"a","question":"q","doc":"tar.1"},` + ok + `]}`},
		{"blank fact", `{"corpus":"man","role":"tuning","questions":[{"id":"a","question":"q","doc":"tar.1","facts":["  "]},` + ok + `]}`},
		{"bad regexp", `{"corpus":"man","role":"tuning","questions":[{"id":"a","question":"q","doc":"tar.1","facts":["re:("]},` + ok + `]}`},
		{"duplicate id", `{"corpus":"man","role":"tuning","questions":[{"id":"u","question":"q","doc":"tar.1","facts":["x"]},` + ok + `]}`},
		{"no id", `{"corpus":"man","role":"tuning","questions":[{"question":"q","doc":"tar.1","facts":["x"]},` + ok + `]}`},
		{"no text", `{"corpus":"man","role":"tuning","questions":[{"id":"a","question":" ","doc":"tar.1","facts":["x"]},` + ok + `]}`},
		{"unanswerable with doc", `{"corpus":"man","role":"tuning","questions":[{"id":"a","question":"q","doc":"tar.1","facts":["x"]},{"id":"u","question":"q","doc":"ls.1","unanswerable":true}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseQuestions([]byte(tc.body), docs); !errors.Is(err, ErrQuestions) {
				t.Fatalf("err %v, want ErrQuestions", err)
			}
		})
	}
	good := `{"corpus":"man","role":"held-out","questions":[{"id":"a","question":"q","doc":"tar.1","facts":["x"]},` + ok + `]}`
	if _, err := ParseQuestions([]byte(good), docs); err != nil {
		t.Fatalf("good file: %v", err)
	}
}

func TestContains(t *testing.T) {
	tests := []struct {
		facts []string
		text  string
		want  bool
	}{
		{[]string{"-x, --extract"}, "   -x,\n      --extract, --get", true},
		{[]string{"-x, --extract"}, "-X, --EXTRACT", true}, // plain facts ignore case
		{[]string{"-i, --ignore-case"}, "--no-ignore-case", false},
		{[]string{`re:\bOnce\b`}, "runs exactly once", false}, // regexps keep case
		{[]string{`re:\bOnce\b`}, "type Once struct", true},
		{[]string{`re:Fields\(s string\)`}, "func Fields(s\n   string) []string", true},
		{[]string{"absent", `re:\bWaitGroup\b`}, "a sync.WaitGroup waits", true},
		{[]string{"absent"}, "", false},
	}
	for _, tc := range tests {
		q := mustQ(t, "a", "d", tc.facts...)
		if got := q.Contains(tc.text); got != tc.want {
			t.Errorf("%v in %q: %v, want %v", tc.facts, tc.text, got, tc.want)
		}
	}
	if u := mustQ(t, "u", ""); u.Contains("anything") {
		t.Error("an unanswerable question contains a fact")
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"  A\tB\n\n C  ": "a b c",
		"":               "",
		"Ünïcode  Ok":    "ünïcode ok",
	} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
	if got := Collapse(" Keep\n Case "); got != "Keep Case" {
		t.Errorf("Collapse: %q", got)
	}
}

func TestReadList(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "list.txt")
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ids, err := ReadList(write("# c\n\ntar.1\n  ls.1  \n"))
	if err != nil || !slices.Equal(ids, []string{"tar.1", "ls.1"}) {
		t.Fatalf("%v %v", ids, err)
	}
	var many strings.Builder
	for i := range maxListEntries + 1 {
		fmt.Fprintf(&many, "p%d.1\n", i)
	}
	for _, bad := range []string{"", "# only\n", "a\na\n", "two words\n", "../etc\n", "/abs\n", many.String()} {
		if _, err := ReadList(write(bad)); !errors.Is(err, ErrCorpusList) {
			t.Errorf("%q: err %v", bad, err)
		}
	}
	if _, err := ReadList(filepath.Join(dir, "missing")); !errors.Is(err, ErrCorpusList) {
		t.Errorf("missing file: %v", err)
	}
}

func TestMatchExpr(t *testing.T) {
	tests := map[string]string{
		"how do I make grep ignore case?":    `"make" OR "grep" OR "ignore" OR "case"`,
		"which tar option, which TAR option": `"tar" OR "option"`,
		`what's "x" O'Brien`:                 `"brien"`,
		"how do I?":                          "",
	}
	for in, want := range tests {
		if got := MatchExpr(in); got != want {
			t.Errorf("MatchExpr(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestParagraphs(t *testing.T) {
	got := Paragraphs("d", "a\n  b\n\n \t\n\nc\n")
	if len(got) != 2 || got[0].Text != "a\n  b" || got[1].Text != "c" || got[0].Doc != "d" {
		t.Fatalf("%+v", got)
	}
	if len(Paragraphs("d", "\n\n")) != 0 {
		t.Fatal("blank text has paragraphs")
	}
}

// TestFTSRank runs the baseline over hand-made paragraphs: the paragraph with the rare
// term ranks first, a question without words ranks nothing.
func TestFTSRank(t *testing.T) {
	if _, err := exec.LookPath("sqlite3"); err != nil {
		missingTool(t, "sqlite3 not installed (apt-get install sqlite3)")
	}
	paras := []Paragraph{
		{"man/tar.1", "-x, --extract, --get\n  Extract files from an archive."},
		{"man/tar.1", "-c, --create\n  Create a new archive. It's 'quoted'."},
		{"man/grep.1", "-i, --ignore-case\n  Ignore case distinctions in patterns."},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := FTS{}.Rank(ctx, paras, []string{"how do I extract files?", "ignore case in grep", "how do I?", "zebra"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 4 {
		t.Fatalf("%d results", len(res))
	}
	if len(res[0].Docs) == 0 || res[0].Docs[0] != "man/tar.1" || !strings.Contains(res[0].Top, "--extract") {
		t.Errorf("extract: %+v", res[0])
	}
	if len(res[1].Docs) != 1 || res[1].Docs[0] != "man/grep.1" {
		t.Errorf("ignore case: %+v", res[1])
	}
	if len(res[2].Docs) != 0 || len(res[3].Docs) != 0 {
		t.Errorf("no-word and no-match questions ranked something: %+v %+v", res[2], res[3])
	}
	if _, err := (FTS{SQLite: filepath.Join(t.TempDir(), "nope")}).Rank(ctx, paras, []string{"x"}); !errors.Is(err, ErrFTS) {
		t.Errorf("a missing binary: %v", err)
	}
}

// TestFactsInRenderedDocuments renders every document a question names, as the harness
// does, and checks that its facts are in it: a question the corpus cannot answer
// would make the evaluation unpassable.
func TestFactsInRenderedDocuments(t *testing.T) {
	if testing.Short() {
		t.Skip("renders about 90 documents")
	}
	for _, tool := range []string{"go", "man", "col"} {
		if _, err := exec.LookPath(tool); err != nil {
			missingTool(t, "%s not installed", tool)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, set := range Sets {
		ids, err := ReadList(filepath.Join(testdataDir, set.List))
		if err != nil {
			t.Fatal(err)
		}
		qs, err := LoadQuestions(filepath.Join(testdataDir, set.Questions), ids)
		if err != nil {
			t.Fatal(err)
		}
		var need []string
		for _, q := range qs.Questions {
			if !q.Unanswerable && !slices.Contains(need, q.Doc) {
				need = append(need, q.Doc)
			}
		}
		c, err := Renderer{RequireAll: true}.Render(ctx, set.Kind, need)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range qs.Questions {
			if q.Unanswerable {
				continue
			}
			d, ok := c.ByID(q.Doc)
			if !ok {
				t.Errorf("%s: %s not rendered", q.ID, q.Doc)
				continue
			}
			if !q.Contains(d.Text) {
				t.Errorf("%s: no fact of %v in %s", q.ID, q.Facts, q.Doc)
			}
		}
	}
}

func TestRenderMissing(t *testing.T) {
	if _, err := exec.LookPath("man"); err != nil {
		missingTool(t, "man not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ids := []string{"ls.1", "no-such-page-bizra.1"}
	c, err := Renderer{}.Render(ctx, KindMan, ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Docs) != 1 || len(c.Absent) != 1 || !strings.HasPrefix(c.Absent[0], "no-such-page-bizra.1") {
		t.Fatalf("docs %d absent %v", len(c.Docs), c.Absent)
	}
	if !strings.Contains(c.Docs[0].Text, "list directory contents") || c.Docs[0].Path != "man/ls.1.txt" {
		t.Fatalf("ls.1: %q…", c.Docs[0].Text[:min(80, len(c.Docs[0].Text))])
	}
	if _, err := (Renderer{RequireAll: true}).Render(ctx, KindMan, ids); !errors.Is(err, ErrCorpusMissing) {
		t.Fatalf("RequireAll: %v", err)
	}
	if _, err := (Renderer{}).Render(ctx, KindMan, []string{"nosection"}); err != nil {
		t.Fatalf("a malformed id is absent, not fatal: %v", err)
	}
	if _, err := (Renderer{}).Render(ctx, "pdf", ids); !errors.Is(err, ErrCorpusList) {
		t.Fatalf("unknown kind: %v", err)
	}
}
