package smartfiles

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

type vectors struct {
	Sizes []struct {
		Bytes int64  `json:"bytes"`
		Human string `json:"human"`
	} `json:"sizes"`
	Patterns []struct {
		Pattern string `json:"pattern"`
		Tokens  struct {
			Name, Ext, Hash, Date, Cat string
			N                          int
		} `json:"tokens"`
		Want string `json:"want"`
	} `json:"patterns"`
	SHA256 []struct {
		Content string `json:"content"`
		Hex     string `json:"hex"`
	} `json:"sha256"`
}

func loadVectors(t *testing.T) vectors {
	t.Helper()
	b, err := os.ReadFile("../../../testdata/skills/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Sizes) == 0 || len(v.Patterns) == 0 || len(v.SHA256) == 0 {
		t.Fatal("empty vectors")
	}
	return v
}

func TestExpandPattern(t *testing.T) {
	for _, p := range loadVectors(t).Patterns {
		t.Run(p.Pattern, func(t *testing.T) {
			tk := p.Tokens
			got := ExpandPattern(p.Pattern, Tokens{Name: tk.Name, Ext: tk.Ext, N: tk.N, Hash: tk.Hash, Date: tk.Date, Cat: tk.Cat})
			if got != p.Want {
				t.Fatalf("ExpandPattern(%q) = %q, want %q", p.Pattern, got, p.Want)
			}
		})
	}
}

func TestHumanSize(t *testing.T) {
	v := loadVectors(t)
	for _, s := range v.Sizes {
		if got := HumanSize(s.Bytes); got != s.Human {
			t.Errorf("HumanSize(%d) = %q, want %q", s.Bytes, got, s.Human)
		}
	}
	// The original suite's four cases, spelled out.
	for n, want := range map[int64]string{500: "500.0 B", 2048: "2.0 KB", 5 * 1024 * 1024: "5.0 MB", 0: "0.0 B"} {
		if got := HumanSize(n); got != want {
			t.Errorf("HumanSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestCategory(t *testing.T) {
	for name, want := range map[string]string{
		"a.PNG": "images", "b.mkv": "videos", "c.flac": "audio", "d.pdf": "documents", "e.go": "code",
		"f.csv": "data", "g.tar": "archives", "h.ipynb": "notebooks", "i.gguf": "models", "j.yaml": "configs",
		"k.woff2": "fonts", "l.exe": "executables", "m.log": "logs", "n.xyz": "other", ".bashrc": "other",
		"noext": "other",
	} {
		if got := Category(name); got != want {
			t.Errorf("Category(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestScan(t *testing.T) {
	t.Run("empty folder", func(t *testing.T) {
		f := newLake(t)
		r := mustRun[*ScanResult](t, f, map[string]any{"operation": "scan", "path": f.root})
		if r.TotalFiles != 0 || len(r.Categories) != 0 || r.Operation != "scan" || r.TotalSize != "0.0 B" {
			t.Fatalf("%+v", r)
		}
	})
	t.Run("categories of seven files", func(t *testing.T) {
		f := newLake(t)
		populate(t, f.path("in"))
		r := mustRun[*ScanResult](t, f, map[string]any{"operation": "scan", "path": "in"})
		if r.TotalFiles != 7 {
			t.Fatalf("total_files = %d", r.TotalFiles)
		}
		want := map[string]int{"documents": 2, "images": 1, "code": 1, "data": 1, "archives": 1, "other": 1}
		if len(r.Categories) != len(want) {
			t.Fatalf("categories = %v", r.Categories)
		}
		for c, n := range want {
			if r.Categories[c].Count != n {
				t.Errorf("%s = %d, want %d", c, r.Categories[c].Count, n)
			}
		}
		if r.Categories["documents"].SizeBytes != int64(len("pdf content")+len("some notes here")) {
			t.Errorf("documents size %+v", r.Categories["documents"])
		}
		if len(r.TopFiles) != 7 || r.TopFiles[0].Name != "archive.zip" && r.TopFiles[0].Name != "photo.jpg" && r.TopFiles[0].Name != "notes.txt" {
			t.Errorf("top files %+v", r.TopFiles)
		}
		for i := 1; i < len(r.TopFiles); i++ {
			if r.TopFiles[i].SizeBytes > r.TopFiles[i-1].SizeBytes {
				t.Fatalf("top files not largest first: %+v", r.TopFiles)
			}
		}
		if r.Path != f.path("in") {
			t.Errorf("path %q", r.Path)
		}
	})
	t.Run("category filter", func(t *testing.T) {
		f := newLake(t)
		populate(t, f.root)
		r := mustRun[*ScanResult](t, f, map[string]any{"operation": "scan", "path": f.root, "category_filter": "code"})
		if r.TotalFiles != 1 || len(r.Categories) != 1 || r.Categories["code"].Count != 1 {
			t.Fatalf("%+v", r)
		}
		if ie := inputErr(t, f, map[string]any{"operation": "scan", "path": f.root, "category_filter": "nope"}); ie.Input != "category_filter" {
			t.Fatal(ie)
		}
	})
	t.Run("recursion", func(t *testing.T) {
		f := newLake(t)
		write(t, f.path("root.py"), "root")
		write(t, f.path("subdir", "nested.py"), "nested")
		write(t, f.path("subdir", "deeper", "x.md"), "deep")
		flat := mustRun[*ScanResult](t, f, map[string]any{"operation": "scan", "path": f.root, "recursive": false})
		deep := mustRun[*ScanResult](t, f, map[string]any{"operation": "scan", "path": f.root, "recursive": "true"})
		if flat.TotalFiles != 1 || deep.TotalFiles != 3 {
			t.Fatalf("flat %d deep %d", flat.TotalFiles, deep.TotalFiles)
		}
	})
	t.Run("missing path", func(t *testing.T) {
		f := newLake(t)
		if ie := inputErr(t, f, map[string]any{"operation": "scan"}); ie.Input != "path" || ie.Public() != "Missing required input: path" {
			t.Fatal(ie.Public())
		}
	})
	t.Run("non-existent path", func(t *testing.T) {
		f := newLake(t)
		got := failText(t, f, map[string]any{"operation": "scan", "path": "nonexistent/path/xyz"})
		if got != "Path does not exist: "+f.path("nonexistent", "path", "xyz") {
			t.Fatal(got)
		}
		// Outside the lake, the refusal comes first, as in the original.
		got = failText(t, f, map[string]any{"operation": "scan", "path": "/nonexistent/path/xyz"})
		if !strings.Contains(got, "Traversal blocked.") {
			t.Fatal(got)
		}
	})
	t.Run("a file given as folder", func(t *testing.T) {
		f := newLake(t)
		write(t, f.path("file.txt"), "x")
		got := failText(t, f, map[string]any{"operation": "scan", "path": f.path("file.txt")})
		if got != "Not a directory: "+f.path("file.txt") {
			t.Fatal(got)
		}
	})
	t.Run("entry limit", func(t *testing.T) {
		f := newLake(t, func(o *Options) { o.MaxEntries = 3 })
		populate(t, f.root)
		r := mustRun[*ScanResult](t, f, map[string]any{"operation": "scan", "path": f.root})
		if !r.Truncated || r.TotalFiles != 3 || r.EntryLimit != 3 {
			t.Fatalf("%+v", r)
		}
	})
}

func TestOrganize(t *testing.T) {
	t.Run("dry run", func(t *testing.T) {
		f := newLake(t)
		populate(t, f.root)
		before := snapshot(t, f.root)
		r := mustRun[*OrganizeResult](t, f, map[string]any{"operation": "organize", "path": f.root})
		if !r.DryRun || r.Planned != 7 || r.Executed != 0 || len(r.Moves) != 7 {
			t.Fatalf("%+v", r)
		}
		if after := snapshot(t, f.root); after != before {
			t.Fatal("a dry run changed the lake")
		}
	})
	t.Run("execute", func(t *testing.T) {
		f := newLake(t)
		populate(t, f.root)
		r := mustRun[*OrganizeResult](t, f, map[string]any{"operation": "organize", "path": f.root, "dry_run": false})
		if r.DryRun || r.Executed != 7 || len(r.Errors) != 0 || r.Action != "moved" {
			t.Fatalf("%+v", r)
		}
		for _, p := range []string{"documents/report.pdf", "images/photo.jpg", "code/script.py", "other/unknown.xyz"} {
			if !exist(t, f.path(p)) {
				t.Errorf("%s missing", p)
			}
		}
		if exist(t, f.path("report.pdf")) {
			t.Error("report.pdf still at the top")
		}
		if b, _ := os.ReadFile(f.path("documents", "report.pdf")); string(b) != "pdf content" {
			t.Errorf("content %q", b)
		}
	})
	t.Run("copy mode", func(t *testing.T) {
		f := newLake(t)
		populate(t, f.root)
		r := mustRun[*OrganizeResult](t, f, map[string]any{"operation": "organize", "path": f.root, "dry_run": "false", "copy_mode": true})
		if r.Action != "copied" || r.Executed != 7 {
			t.Fatalf("%+v", r)
		}
		if !exist(t, f.path("report.pdf")) || !exist(t, f.path("documents", "report.pdf")) {
			t.Fatal("copy lost a side")
		}
	})
	t.Run("target path", func(t *testing.T) {
		f := newLake(t)
		populate(t, f.path("in"))
		r := mustRun[*OrganizeResult](t, f, map[string]any{"operation": "organize", "path": "in", "target_path": "organized_output", "dry_run": false})
		if r.Executed != 7 || !exist(t, f.path("organized_output", "documents", "report.pdf")) {
			t.Fatalf("%+v", r)
		}
	})
	t.Run("category breakdown", func(t *testing.T) {
		f := newLake(t)
		populate(t, f.root)
		r := mustRun[*OrganizeResult](t, f, map[string]any{"operation": "organize", "path": f.root})
		if r.CategoryBreakdown["documents"] != 2 || r.CategoryBreakdown["code"] != 1 {
			t.Fatalf("%v", r.CategoryBreakdown)
		}
	})
	t.Run("missing path", func(t *testing.T) {
		f := newLake(t)
		if ie := inputErr(t, f, map[string]any{"operation": "organize"}); ie.Input != "path" {
			t.Fatal(ie)
		}
	})
	t.Run("clash is reported per file", func(t *testing.T) {
		f := newLake(t)
		populate(t, f.root)
		write(t, f.path("documents", "report.pdf"), "already here")
		r := mustRun[*OrganizeResult](t, f, map[string]any{"operation": "organize", "path": f.root, "dry_run": false})
		if r.Executed != 6 || len(r.Errors) != 1 || !strings.Contains(r.Errors[0], "already exists") {
			t.Fatalf("%+v", r)
		}
		if b, _ := os.ReadFile(f.path("documents", "report.pdf")); string(b) != "already here" {
			t.Fatal("overwritten")
		}
		if !exist(t, f.path("report.pdf")) {
			t.Fatal("the clashing source was removed")
		}
	})
}

func TestRename(t *testing.T) {
	t.Run("dry run", func(t *testing.T) {
		f := newLake(t)
		populate(t, f.root)
		before := snapshot(t, f.root)
		r := mustRun[*RenameResult](t, f, map[string]any{"operation": "rename", "path": f.root, "pattern": "x_{n}{ext}"})
		if !r.DryRun || r.Planned != 7 || r.Executed != 0 {
			t.Fatalf("%+v", r)
		}
		if snapshot(t, f.root) != before {
			t.Fatal("dry run changed the lake")
		}
	})
	t.Run("pattern", func(t *testing.T) {
		f := newLake(t)
		write(t, f.path("doc.pdf"), "content")
		r := mustRun[*RenameResult](t, f, map[string]any{"operation": "rename", "path": f.root, "pattern": "{name}_{date}{ext}", "dry_run": true})
		if r.Planned != 1 || r.Renames[0].Old != "doc.pdf" || !regexp.MustCompile(`^doc_\d{4}-\d{2}-\d{2}\.pdf$`).MatchString(r.Renames[0].New) {
			t.Fatalf("%+v", r)
		}
	})
	t.Run("hash suffix", func(t *testing.T) {
		v := loadVectors(t)
		f := newLake(t)
		write(t, f.path("test.txt"), v.SHA256[0].Content)
		r := mustRun[*RenameResult](t, f, map[string]any{"operation": "rename", "path": f.root, "hash_suffix": true})
		if want := "test_" + v.SHA256[0].Hex[:16] + ".txt"; r.Renames[0].New != want {
			t.Fatalf("new = %q, want %q", r.Renames[0].New, want)
		}
	})
	t.Run("execute", func(t *testing.T) {
		f := newLake(t)
		write(t, f.path("a.txt"), "aaa")
		write(t, f.path("b.txt"), "bbb")
		r := mustRun[*RenameResult](t, f, map[string]any{"operation": "rename", "path": f.root, "pattern": "file_{n}{ext}", "dry_run": false})
		if r.Executed != 2 || len(r.Errors) != 0 {
			t.Fatalf("%+v", r)
		}
		for p, c := range map[string]string{"file_1.txt": "aaa", "file_2.txt": "bbb"} {
			if b, _ := os.ReadFile(f.path(p)); string(b) != c {
				t.Errorf("%s = %q", p, b)
			}
		}
		if exist(t, f.path("a.txt")) || exist(t, f.path("b.txt")) {
			t.Fatal("old names left")
		}
	})
	t.Run("prefix and suffix", func(t *testing.T) {
		f := newLake(t)
		write(t, f.path("doc.pdf"), "content")
		r := mustRun[*RenameResult](t, f, map[string]any{"operation": "rename", "path": f.root, "prefix": "bizra_", "suffix": "_v2"})
		if r.Renames[0].New != "bizra_doc_v2.pdf" {
			t.Fatalf("%+v", r.Renames)
		}
	})
	t.Run("missing path", func(t *testing.T) {
		f := newLake(t)
		if ie := inputErr(t, f, map[string]any{"operation": "rename"}); ie.Input != "path" {
			t.Fatal(ie)
		}
	})
	t.Run("clash and duplicates never overwrite", func(t *testing.T) {
		f := newLake(t)
		write(t, f.path("a.txt"), "aaa")
		write(t, f.path("b.txt"), "bbb")
		write(t, f.path("same.txt"), "keep")
		r := mustRun[*RenameResult](t, f, map[string]any{"operation": "rename", "path": f.root, "pattern": "same{ext}", "dry_run": false})
		if r.Executed != 0 || len(r.Errors) != 2 || r.Unchanged != 1 {
			t.Fatalf("%+v", r)
		}
		for p, c := range map[string]string{"a.txt": "aaa", "b.txt": "bbb", "same.txt": "keep"} {
			if b, _ := os.ReadFile(f.path(p)); string(b) != c {
				t.Errorf("%s = %q", p, b)
			}
		}
	})
	t.Run("generated name with ..", func(t *testing.T) {
		f := newLake(t)
		write(t, f.path("a..b.txt"), "x")
		r := mustRun[*RenameResult](t, f, map[string]any{"operation": "rename", "path": f.root, "prefix": "p_", "dry_run": false})
		if r.Executed != 0 || len(r.Errors) != 1 || !exist(t, f.path("a..b.txt")) {
			t.Fatalf("%+v", r)
		}
	})
}

func TestMerge(t *testing.T) {
	setup := func(t *testing.T) *lakeFixture {
		f := newLake(t)
		write(t, f.path("t", "part1.txt"), "First part content.")
		write(t, f.path("t", "part2.txt"), "Second part content.")
		write(t, f.path("t", "part3.txt"), "Third part content.")
		return f
	}
	read := func(t *testing.T, r *MergeResult) string {
		t.Helper()
		if !r.Written {
			t.Fatalf("not written: %+v", r)
		}
		b, err := os.ReadFile(r.OutputPath)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(b)) != r.OutputBytes {
			t.Fatalf("output_bytes %d, file %d", r.OutputBytes, len(b))
		}
		return string(b)
	}
	t.Run("three files with headers", func(t *testing.T) {
		f := setup(t)
		r := mustRun[*MergeResult](t, f, map[string]any{"operation": "merge", "dry_run": false,
			"paths": []any{f.path("t", "part1.txt"), "t/part2.txt", f.path("t", "part3.txt")}})
		want := "# === part1.txt ===\nFirst part content.\n# === part2.txt ===\nSecond part content.\n# === part3.txt ===\nThird part content."
		if got := read(t, r); got != want || r.FilesMerged != 3 {
			t.Fatalf("got %q", got)
		}
		if filepath.Dir(r.OutputPath) != f.path("t") || !regexp.MustCompile(`^merged_[0-9a-f]{8}\.txt$`).MatchString(filepath.Base(r.OutputPath)) {
			t.Fatal(r.OutputPath)
		}
	})
	t.Run("dry run by default writes nothing", func(t *testing.T) {
		f := setup(t)
		before := snapshot(t, f.root)
		r := mustRun[*MergeResult](t, f, map[string]any{"operation": "merge", "paths": []string{"t/part1.txt", "t/part2.txt"}})
		if !r.DryRun || r.Written || r.FilesMerged != 2 || snapshot(t, f.root) != before {
			t.Fatalf("%+v", r)
		}
	})
	t.Run("custom separator", func(t *testing.T) {
		f := setup(t)
		r := mustRun[*MergeResult](t, f, map[string]any{"operation": "merge", "dry_run": false, "separator": "\n---\n",
			"paths": []any{"t/part1.txt", "t/part2.txt"}})
		if got := read(t, r); got != "# === part1.txt ===\n---\nFirst part content.\n---\n# === part2.txt ===\n---\nSecond part content." {
			t.Fatalf("%q", got)
		}
	})
	t.Run("without headers", func(t *testing.T) {
		f := setup(t)
		r := mustRun[*MergeResult](t, f, map[string]any{"operation": "merge", "dry_run": false, "add_headers": false,
			"paths": []any{"t/part1.txt", "t/part2.txt"}})
		if got := read(t, r); got != "First part content.\nSecond part content." {
			t.Fatalf("%q", got)
		}
	})
	t.Run("custom output", func(t *testing.T) {
		f := setup(t)
		out := f.path("new", "custom_merged.md")
		r := mustRun[*MergeResult](t, f, map[string]any{"operation": "merge", "dry_run": false, "output_path": out,
			"paths": []any{"t/part1.txt", "t/part2.txt"}})
		if r.OutputPath != out || !exist(t, out) {
			t.Fatalf("%+v", r)
		}
		// Again: the output exists now and is never overwritten.
		got := failText(t, f, map[string]any{"operation": "merge", "dry_run": false, "output_path": out, "paths": []any{"t/part3.txt"}})
		if !strings.Contains(got, "already exists") {
			t.Fatal(got)
		}
		if b, _ := os.ReadFile(out); !strings.Contains(string(b), "First part") {
			t.Fatal("overwritten")
		}
	})
	t.Run("missing, empty and non-existent inputs", func(t *testing.T) {
		f := setup(t)
		if ie := inputErr(t, f, map[string]any{"operation": "merge"}); ie.Input != "paths" {
			t.Fatal(ie)
		}
		if ie := inputErr(t, f, map[string]any{"operation": "merge", "paths": []any{}}); ie.Input != "paths" {
			t.Fatal(ie)
		}
		if ie := inputErr(t, f, map[string]any{"operation": "merge", "paths": []any{1}}); ie.Input != "paths" {
			t.Fatal(ie)
		}
		got := failText(t, f, map[string]any{"operation": "merge", "paths": []any{"nonexistent/file.txt"}})
		if got != "Path does not exist: "+f.path("nonexistent", "file.txt") {
			t.Fatal(got)
		}
		got = failText(t, f, map[string]any{"operation": "merge", "paths": []any{"t/nope.txt"}})
		if got != "Path does not exist: "+f.path("t", "nope.txt") {
			t.Fatal(got)
		}
		got = failText(t, f, map[string]any{"operation": "merge", "paths": []any{"t"}})
		if got != "Not a file: "+f.path("t") {
			t.Fatal(got)
		}
	})
	t.Run("size limit", func(t *testing.T) {
		f := newLake(t, func(o *Options) { o.MaxMergeBytes = 30 })
		write(t, f.path("a.txt"), strings.Repeat("a", 20))
		write(t, f.path("b.txt"), strings.Repeat("b", 20))
		before := snapshot(t, f.root)
		got := failText(t, f, map[string]any{"operation": "merge", "dry_run": false, "paths": []any{"a.txt", "b.txt"}})
		if !strings.Contains(got, "size limit") || snapshot(t, f.root) != before {
			t.Fatal(got)
		}
	})
	t.Run("count limit", func(t *testing.T) {
		f := newLake(t, func(o *Options) { o.MaxMergeFiles = 2 })
		if ie := inputErr(t, f, map[string]any{"operation": "merge", "paths": []any{"a", "b", "c"}}); ie.Input != "paths" {
			t.Fatal(ie)
		}
	})
}

func TestTraversalBlocked(t *testing.T) {
	f := newLake(t)
	got := failText(t, f, map[string]any{"operation": "scan", "path": "/etc"})
	if want := "Path '/etc' is outside DATA_LAKE_ROOT '" + f.root + "'. Traversal blocked."; got != want {
		t.Fatalf("%q, want %q", got, want)
	}
	got = failText(t, f, map[string]any{"operation": "scan", "path": "sub/../../outside"})
	if want := "Path '" + f.outside + "' is outside DATA_LAKE_ROOT '" + f.root + "'. Traversal blocked."; got != want {
		t.Fatalf("%q, want %q", got, want)
	}
	// A sibling whose name extends the root's is outside too.
	os.MkdirAll(f.root+"2", 0o755)
	if got := failText(t, f, map[string]any{"operation": "scan", "path": f.root + "2"}); !strings.HasSuffix(got, "Traversal blocked.") {
		t.Fatal(got)
	}
}

func TestUnknownOperation(t *testing.T) {
	f := newLake(t)
	ie := inputErr(t, f, map[string]any{"operation": "delete_everything"})
	for _, op := range []string{"scan", "organize", "rename", "merge"} {
		if !strings.Contains(ie.Public(), op) {
			t.Fatalf("%q does not list %s", ie.Public(), op)
		}
	}
	if ie.Input != "operation" {
		t.Fatal(ie)
	}
}

func TestDryRunStrict(t *testing.T) {
	f := newLake(t)
	populate(t, f.root)
	before := snapshot(t, f.root)
	for _, v := range []any{"yes", "0", 0, 1.0, "", []any{}, map[string]any{}, "False "} {
		if ie := inputErr(t, f, map[string]any{"operation": "organize", "path": f.root, "dry_run": v}); ie.Input != "dry_run" {
			t.Fatalf("%v: %v", v, ie)
		}
	}
	for _, v := range []any{true, "true", "TRUE", nil} {
		r := mustRun[*OrganizeResult](t, f, map[string]any{"operation": "organize", "path": f.root, "dry_run": v})
		if !r.DryRun {
			t.Fatalf("%v: not a dry run", v)
		}
	}
	if snapshot(t, f.root) != before {
		t.Fatal("changed")
	}
	if ie := inputErr(t, f, map[string]any{"operation": "scan", "path": 7}); ie.Input != "path" {
		t.Fatal(ie)
	}
}
