package eval

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// smallSet writes a question folder with two man pages and one Go package.
func smallSet(t *testing.T, manQuestions string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"go-packages.txt": "strings\n",
		"man-pages.txt":   "ls.1\ntar.1\n",
		"go.json": `{"corpus":"go","role":"tuning","questions":[
			{"id":"g1","question":"how do I remove leading and trailing white space from a string?","doc":"strings","facts":["re:\\bTrimSpace\\b"]},
			{"id":"gu","question":"how do I train a neural network on a GPU cluster?","unanswerable":true}]}`,
		"man.json": manQuestions,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const manOK = `{"corpus":"man","role":"held-out","questions":[
	{"id":"m1","question":"which tar option extracts files from an archive?","doc":"tar.1","facts":["-x, --extract, --get"]},
	{"id":"m2","question":"how do I list directory contents sorted by modification time?","doc":"ls.1","facts":["sort by time, newest first"]},
	{"id":"mu","question":"how do I configure nginx as a reverse proxy?","unanswerable":true}]}`

func needTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"go", "man", "col", "sqlite3"} {
		if _, err := exec.LookPath(tool); err != nil {
			missingTool(t, "%s not installed", tool)
		}
	}
}

// TestRunSmall runs the whole harness (rendering, a real node, the FTS5 baseline,
// the latency lake) over a three-document corpus and checks what it measured, not how
// well bizra did.
func TestRunSmall(t *testing.T) {
	needTools(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	rep, err := Run(ctx, Options{Dir: smallSet(t, manOK), Work: t.TempDir(), BigPassages: 300, BigRounds: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Corpora) != 2 || rep.Corpora[0].Kind != KindGo || rep.Corpora[1].Kind != KindMan || rep.Corpora[1].Role != RoleHeldOut {
		t.Fatalf("corpora %+v", rep.Corpora)
	}
	if rep.Passages == 0 || rep.Files != 3 || rep.FTSParas == 0 {
		t.Fatalf("lake: %d passages, %d files, %d paragraphs", rep.Passages, rep.Files, rep.FTSParas)
	}
	man := rep.Corpora[1]
	if s := man.Summary; s.Answerable != 2 || s.Unanswerable != 1 || s.Questions != 3 || s.P50 <= 0 {
		t.Fatalf("man summary %+v", s)
	}
	for _, g := range man.Graded {
		if g.Question.Answerable() && len(g.Answer.Sources) == 0 {
			t.Errorf("%s: no evidence", g.ID)
		}
		if g.Answer.Verdict == "" {
			t.Errorf("%s: no verdict", g.ID)
		}
	}
	// The baseline is deterministic: "extract … archive" ranks tar(1) first.
	if g := man.Graded[0]; g.FTSRank != 1 || !strings.Contains(g.FTS.Top, "tar") && !strings.Contains(g.FTS.Top, "extract") {
		t.Errorf("fts5 for m1: rank %d, top %q", g.FTSRank, g.FTS.Top)
	}
	if rep.Big == nil || rep.Big.Passages < 300 || rep.Big.Copies < 1 || rep.Big.Rounds != 2 || rep.Big.Queries != 2*5 || rep.Big.P50 <= 0 {
		t.Fatalf("latency lake %+v", rep.Big)
	}
	md := rep.Markdown("test")
	if !strings.Contains(md, "man corpus (held-out)") || !strings.Contains(md, "Latency lake") {
		t.Fatalf("report:\n%s", md)
	}
}

func TestRunRefuses(t *testing.T) {
	needTools(t)
	tests := []struct {
		name string
		man  string
		want error
	}{
		{"fact not in its document", strings.Replace(manOK, "sort by time, newest first", "sort by phase of the moon", 1), ErrQuestions},
		{"document not listed", strings.Replace(manOK, `"doc":"ls.1"`, `"doc":"zsh.1"`, 1), ErrQuestions},
		{"unparsable questions", `{"corpus":"man"`, ErrQuestions},
		{"wrong corpus in man.json", strings.Replace(manOK, `"corpus":"man"`, `"corpus":"go"`, 1), ErrQuestions},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			_, err := Run(ctx, Options{Dir: smallSet(t, tc.man), Work: t.TempDir(), BigPassages: -1})
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
		})
	}
}

// TestRunAbsentPage: a listed page this machine lacks is reported absent and its
// questions skipped (named), or fails the run under RequireAll (CI).
func TestRunAbsentPage(t *testing.T) {
	needTools(t)
	extra := `,{"id":"m3","question":"what does the bizra-nope page say?","doc":"bizra-nope.1","facts":["x"]}`
	i := strings.LastIndex(manOK, "]}")
	dir := smallSet(t, manOK[:i]+extra+manOK[i:])
	if err := os.WriteFile(filepath.Join(dir, "man-pages.txt"), []byte("ls.1\ntar.1\nbizra-nope.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rep, err := Run(ctx, Options{Dir: dir, Work: t.TempDir(), BigPassages: -1})
	if err != nil {
		t.Fatal(err)
	}
	man := rep.Corpora[1]
	if len(man.Absent) != 1 || !strings.HasPrefix(man.Absent[0], "bizra-nope.1") || len(man.Skipped) != 1 || man.Skipped[0] != "m3" || man.Summary.Answerable != 2 {
		t.Fatalf("absent %v skipped %v answerable %d", man.Absent, man.Skipped, man.Summary.Answerable)
	}
	if md := rep.Markdown("t"); !strings.Contains(md, "Absent on this machine (1)") {
		t.Fatalf("the report does not name the absent page:\n%s", md)
	}
	if _, err := Run(ctx, Options{Dir: dir, Work: t.TempDir(), BigPassages: -1, Renderer: Renderer{RequireAll: true}}); !errors.Is(err, ErrCorpusMissing) {
		t.Fatalf("RequireAll: %v", err)
	}
}
