package smartfiles

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEscapeMatrix tries every way out of the lake; the outside folder must be
// byte-for-byte and entry-for-entry the same afterwards, and every attempt must be
// refused (or, for symlinks met while listing, skipped).
func TestEscapeMatrix(t *testing.T) {
	type tc struct {
		name  string
		setup func(t *testing.T, f *lakeFixture)
		in    func(f *lakeFixture) map[string]any
		check func(t *testing.T, f *lakeFixture, out any, err error)
	}
	refused := func(want string) func(*testing.T, *lakeFixture, any, error) {
		return func(t *testing.T, f *lakeFixture, out any, err error) {
			t.Helper()
			var fl *Failure
			var ie *InputError
			switch {
			case errors.As(err, &fl):
				if !strings.Contains(fl.Public(), want) {
					t.Fatalf("failure %q does not contain %q", fl.Public(), want)
				}
			case errors.As(err, &ie):
				if !strings.Contains(ie.Public(), want) {
					t.Fatalf("input error %q does not contain %q", ie.Public(), want)
				}
			default:
				t.Fatalf("not refused: %+v, %v", out, err)
			}
		}
	}
	const blocked = "Traversal blocked."
	const symlink = "symbolic link"
	linkFile := func(t *testing.T, f *lakeFixture) {
		if err := os.Symlink(filepath.Join(f.outside, "secret.txt"), f.path("link_file.txt")); err != nil {
			t.Fatal(err)
		}
	}
	linkDir := func(t *testing.T, f *lakeFixture) {
		if err := os.Symlink(f.outside, f.path("link_dir")); err != nil {
			t.Fatal(err)
		}
	}
	none := func(*testing.T, *lakeFixture) {}
	cases := []tc{
		{"dotdot scan", none, func(f *lakeFixture) map[string]any {
			return map[string]any{"operation": "scan", "path": "../outside"}
		}, refused(blocked)},
		{"dotdot organize", none, func(f *lakeFixture) map[string]any {
			return map[string]any{"operation": "organize", "path": "a/../../outside", "dry_run": false}
		}, refused(blocked)},
		{"absolute outside rename", none, func(f *lakeFixture) map[string]any {
			return map[string]any{"operation": "rename", "path": f.outside, "pattern": "x{n}", "dry_run": false}
		}, refused(blocked)},
		{"symlink to outside file merged", linkFile, func(f *lakeFixture) map[string]any {
			return map[string]any{"operation": "merge", "paths": []any{"link_file.txt"}, "dry_run": false}
		}, refused(symlink)},
		{"symlink to outside file organized", linkFile, func(f *lakeFixture) map[string]any {
			return map[string]any{"operation": "organize", "path": ".", "dry_run": false}
		}, func(t *testing.T, f *lakeFixture, out any, err error) {
			r := out.(*OrganizeResult)
			if err != nil || r.Planned != 0 || r.SkippedSymlinks != 1 {
				t.Fatalf("%+v %v", r, err)
			}
		}},
		{"symlink to outside file renamed", linkFile, func(f *lakeFixture) map[string]any {
			return map[string]any{"operation": "rename", "path": ".", "pattern": "x{ext}", "dry_run": false}
		}, func(t *testing.T, f *lakeFixture, out any, err error) {
			r := out.(*RenameResult)
			if err != nil || r.Planned != 0 || r.SkippedSymlinks != 1 || !exist(t, f.path("link_file.txt")) {
				t.Fatalf("%+v %v", r, err)
			}
		}},
		{"symlink to outside folder scanned", linkDir, func(f *lakeFixture) map[string]any {
			return map[string]any{"operation": "scan", "path": "link_dir"}
		}, refused(symlink)},
		{"symlink to outside folder below", linkDir, func(f *lakeFixture) map[string]any {
			return map[string]any{"operation": "scan", "path": "link_dir/dir"}
		}, refused(symlink)},
		{"symlink to outside folder recursive scan", linkDir, func(f *lakeFixture) map[string]any {
			return map[string]any{"operation": "scan", "path": ".", "recursive": true}
		}, func(t *testing.T, f *lakeFixture, out any, err error) {
			r := out.(*ScanResult)
			if err != nil || r.TotalFiles != 0 || r.SkippedSymlinks != 1 {
				t.Fatalf("%+v %v", r, err)
			}
		}},
		{"symlink to outside folder organized", linkDir, func(f *lakeFixture) map[string]any {
			return map[string]any{"operation": "organize", "path": "link_dir", "dry_run": false}
		}, refused(symlink)},
		{"symlink to outside folder renamed", linkDir, func(f *lakeFixture) map[string]any {
			return map[string]any{"operation": "rename", "path": "link_dir", "prefix": "x", "dry_run": false}
		}, refused(symlink)},
		{"target_path through symlink", func(t *testing.T, f *lakeFixture) { linkDir(t, f); populate(t, f.path("src")) }, func(f *lakeFixture) map[string]any {
			return map[string]any{"operation": "organize", "path": "src", "target_path": "link_dir", "dry_run": false}
		}, refused(symlink)},
		{"target_path outside", func(t *testing.T, f *lakeFixture) { populate(t, f.path("src")) }, func(f *lakeFixture) map[string]any {
			return map[string]any{"operation": "organize", "path": "src", "target_path": f.outside, "dry_run": false, "copy_mode": true}
		}, refused(blocked)},
		{"output_path outside", func(t *testing.T, f *lakeFixture) { write(t, f.path("a.txt"), "a") }, func(f *lakeFixture) map[string]any {
			return map[string]any{"operation": "merge", "paths": []any{"a.txt"}, "output_path": "../outside/merged.txt", "dry_run": false}
		}, refused(blocked)},
		{"output_path through symlink", func(t *testing.T, f *lakeFixture) { linkDir(t, f); write(t, f.path("a.txt"), "a") }, func(f *lakeFixture) map[string]any {
			return map[string]any{"operation": "merge", "paths": []any{"a.txt"}, "output_path": "link_dir/merged.txt", "dry_run": false}
		}, refused(symlink)},
		{"output_path onto outside symlinked file", func(t *testing.T, f *lakeFixture) { linkFile(t, f); write(t, f.path("a.txt"), "a") }, func(f *lakeFixture) map[string]any {
			return map[string]any{"operation": "merge", "paths": []any{"a.txt"}, "output_path": "link_file.txt", "dry_run": false}
		}, refused("already exists")},
		{"pattern with slash", func(t *testing.T, f *lakeFixture) { write(t, f.path("a.txt"), "a") }, func(f *lakeFixture) map[string]any {
			return map[string]any{"operation": "rename", "path": ".", "pattern": "../outside/{name}{ext}", "dry_run": false}
		}, refused("pattern")},
		{"prefix with dotdot", func(t *testing.T, f *lakeFixture) { write(t, f.path("a.txt"), "a") }, func(f *lakeFixture) map[string]any {
			return map[string]any{"operation": "rename", "path": ".", "prefix": "..", "dry_run": false}
		}, refused("prefix")},
		{"suffix with slash", func(t *testing.T, f *lakeFixture) { write(t, f.path("a.txt"), "a") }, func(f *lakeFixture) map[string]any {
			return map[string]any{"operation": "rename", "path": ".", "suffix": "/x", "dry_run": false}
		}, refused("suffix")},
		{"merge input outside", func(t *testing.T, f *lakeFixture) { write(t, f.path("a.txt"), "a") }, func(f *lakeFixture) map[string]any {
			return map[string]any{"operation": "merge", "paths": []any{"a.txt", filepath.Join(f.outside, "secret.txt")}, "dry_run": false}
		}, refused(blocked)},
		{"merge input via dotdot", func(t *testing.T, f *lakeFixture) { write(t, f.path("a.txt"), "a") }, func(f *lakeFixture) map[string]any {
			return map[string]any{"operation": "merge", "paths": []any{"a.txt", "x/../../outside/secret.txt"}, "dry_run": false}
		}, refused(blocked)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newLake(t)
			c.setup(t, f)
			before := snapshot(t, f.outside)
			out, err := f.run(t, c.in(f))
			c.check(t, f, out, err)
			if b, _ := json.Marshal(out); strings.Contains(string(b), "top secret") {
				t.Fatal("outside content leaked into the output")
			}
			if after := snapshot(t, f.outside); after != before {
				t.Fatalf("outside changed:\n%s\n---\n%s", before, after)
			}
		})
	}
}

// TestSwapBetweenPlanAndExecution swaps a planned folder for a symlink to the outside
// folder after the plan is made and before anything is done.
func TestSwapBetweenPlanAndExecution(t *testing.T) {
	swap := func(t *testing.T, f *lakeFixture, dir string) func() {
		return func() {
			if err := os.Rename(f.path(dir), f.path(dir+"_orig")); err != nil {
				t.Error(err)
			}
			if err := os.Symlink(f.outside, f.path(dir)); err != nil {
				t.Error(err)
			}
		}
	}
	t.Run("organize source", func(t *testing.T) {
		f := newLake(t)
		write(t, f.path("src", "secret.txt"), "lake copy") // same names as outside
		write(t, f.path("src", "report.pdf"), "lake pdf")
		before := snapshot(t, f.outside)
		f.skill.afterPlan = swap(t, f, "src")
		out, err := f.run(t, map[string]any{"operation": "organize", "path": "src", "target_path": "dest", "dry_run": false})
		if err != nil {
			t.Fatal(err)
		}
		r := out.(*OrganizeResult)
		if r.Executed != 0 || len(r.Errors) != 2 {
			t.Fatalf("%+v", r)
		}
		if snapshot(t, f.outside) != before {
			t.Fatal("outside changed")
		}
		if !exist(t, f.path("src_orig", "secret.txt")) || exist(t, f.path("dest", "documents", "secret.txt")) {
			t.Fatal("lake state unexpected")
		}
	})
	t.Run("organize copy source", func(t *testing.T) {
		f := newLake(t)
		write(t, f.path("src", "secret.txt"), "lake copy")
		before := snapshot(t, f.outside)
		f.skill.afterPlan = swap(t, f, "src")
		out, err := f.run(t, map[string]any{"operation": "organize", "path": "src", "target_path": "dest", "dry_run": false, "copy_mode": true})
		if err != nil {
			t.Fatal(err)
		}
		// The copy reads through the folder handle opened for the plan: the lake's
		// own file, never the outside one.
		if b, _ := os.ReadFile(f.path("dest", "documents", "secret.txt")); out.(*OrganizeResult).Executed == 1 && string(b) != "lake copy" {
			t.Fatalf("copied %q", b)
		}
		if snapshot(t, f.outside) != before {
			t.Fatal("outside changed")
		}
	})
	t.Run("organize target", func(t *testing.T) {
		f := newLake(t)
		write(t, f.path("src", "notes.txt"), "n")
		os.MkdirAll(f.path("dest"), 0o755)
		before := snapshot(t, f.outside)
		f.skill.afterPlan = swap(t, f, "dest")
		out, err := f.run(t, map[string]any{"operation": "organize", "path": "src", "target_path": "dest", "dry_run": false})
		if err != nil {
			t.Fatal(err)
		}
		if r := out.(*OrganizeResult); r.Executed != 0 || !exist(t, f.path("src", "notes.txt")) {
			t.Fatalf("%+v", r)
		}
		if snapshot(t, f.outside) != before {
			t.Fatal("outside changed")
		}
	})
	t.Run("rename", func(t *testing.T) {
		f := newLake(t)
		write(t, f.path("src", "secret.txt"), "lake copy")
		before := snapshot(t, f.outside)
		f.skill.afterPlan = swap(t, f, "src")
		if _, err := f.run(t, map[string]any{"operation": "rename", "path": "src", "prefix": "x_", "dry_run": false}); err != nil {
			t.Fatal(err)
		}
		if snapshot(t, f.outside) != before {
			t.Fatal("outside changed")
		}
	})
	t.Run("merge output folder", func(t *testing.T) {
		f := newLake(t)
		write(t, f.path("a.txt"), "a")
		os.MkdirAll(f.path("out"), 0o755)
		before := snapshot(t, f.outside)
		f.skill.afterPlan = swap(t, f, "out")
		if _, err := f.run(t, map[string]any{"operation": "merge", "paths": []any{"a.txt"}, "output_path": "out/m.txt", "dry_run": false}); err != nil {
			t.Fatal(err)
		}
		if snapshot(t, f.outside) != before {
			t.Fatal("outside changed")
		}
	})
}
