package smartfiles

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFaultStateLakeOverlapSmartFiles points every path input of every operation at a
// state folder inside the data lake (start-up refuses that layout; the skill refuses
// the paths even so) and checks nothing in it was read or changed.
func TestFaultStateLakeOverlapSmartFiles(t *testing.T) {
	const envBody = "BIZRA_BRIDGE_TOKEN=zanzibartoken\n"
	for _, tc := range []struct {
		name   string
		inputs func(f *lakeFixture, state string) map[string]any
		input  string // the input named in the refusal; "" means the call succeeds
		check  func(t *testing.T, out any)
	}{
		{name: "scan the state folder", input: "path",
			inputs: func(f *lakeFixture, state string) map[string]any {
				return map[string]any{"operation": "scan", "path": state}
			}},
		{name: "scan the state folder by a relative path", input: "path",
			inputs: func(f *lakeFixture, state string) map[string]any {
				return map[string]any{"operation": "scan", "path": "sovereign_state/sel"}
			}},
		{name: "organize from the state folder", input: "path",
			inputs: func(f *lakeFixture, state string) map[string]any {
				return map[string]any{"operation": "organize", "path": state, "dry_run": false, "copy_mode": true}
			}},
		{name: "organize into the state folder", input: "target_path",
			inputs: func(f *lakeFixture, state string) map[string]any {
				return map[string]any{"operation": "organize", "path": ".", "target_path": filepath.Join(state, "x"), "dry_run": false}
			}},
		{name: "rename in the state folder", input: "path",
			inputs: func(f *lakeFixture, state string) map[string]any {
				return map[string]any{"operation": "rename", "path": state, "prefix": "x_", "dry_run": false}
			}},
		{name: "merge the .env into the lake", input: "paths",
			inputs: func(f *lakeFixture, state string) map[string]any {
				return map[string]any{"operation": "merge", "paths": []any{"notes.txt", filepath.Join(state, ".env")},
					"output_path": "leak.txt", "dry_run": false}
			}},
		{name: "merge into the state folder", input: "output_path",
			inputs: func(f *lakeFixture, state string) map[string]any {
				return map[string]any{"operation": "merge", "paths": []any{"notes.txt"},
					"output_path": filepath.Join(state, "planted.txt"), "dry_run": false}
			}},
		{name: "path spelled with dot-dot into the state folder", input: "path",
			inputs: func(f *lakeFixture, state string) map[string]any {
				return map[string]any{"operation": "scan", "path": "docs/../sovereign_state"}
			}},
		{name: "recursive scan of the lake skips the state folder",
			inputs: func(f *lakeFixture, state string) map[string]any {
				return map[string]any{"operation": "scan", "path": ".", "recursive": true}
			},
			check: func(t *testing.T, out any) {
				r := out.(*ScanResult)
				if r.SkippedState != 1 {
					t.Fatalf("SkippedState %d", r.SkippedState)
				}
				b, _ := json.Marshal(r)
				if strings.Contains(string(b), "identity") || r.TotalFiles != 2 {
					t.Fatalf("the scan saw the state folder: %s", b)
				}
			}},
		{name: "a sibling with a shared prefix is allowed",
			inputs: func(f *lakeFixture, state string) map[string]any {
				return map[string]any{"operation": "scan", "path": "sovereign_state2"}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var state string
			f := newLake(t, func(o *Options) {
				state = filepath.Join(o.Root, "sovereign_state")
				o.StateDir = state
			})
			write(t, f.path("notes.txt"), "public notes")
			write(t, f.path("docs", "a.md"), "# a")
			write(t, filepath.Join(state, ".env"), envBody)
			write(t, filepath.Join(state, "node0_identity.key"), "identity")
			write(t, filepath.Join(state, "sel", "seg.jsonl"), "{}")
			if err := os.MkdirAll(f.path("sovereign_state2"), 0o755); err != nil {
				t.Fatal(err)
			}
			before := snapshot(t, f.base)
			out, err := f.skill.Run(context.Background(), tc.inputs(f, state))
			if tc.input == "" {
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				if tc.check != nil {
					tc.check(t, out)
				}
				return
			}
			var ie *InputError
			if !errors.As(err, &ie) || ie.Input != tc.input || !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("Run = %v, %v; want an InputError on %q", out, err, tc.input)
			}
			if msg := ie.Public(); !strings.Contains(msg, "inside the node's state folder") || !strings.Contains(msg, "'"+f.root) {
				t.Fatalf("refusal %q does not name the path", msg)
			}
			if after := snapshot(t, f.base); before != after {
				t.Fatalf("files changed by a refused call:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
}

func TestStateDirRefusesRootInside(t *testing.T) {
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(base, "state", "lake")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, st := range []string{filepath.Join(base, "state"), root} {
		if _, err := New(Options{Root: root, StateDir: st}); !errors.Is(err, ErrRoot) {
			t.Fatalf("root %s in state %s: %v", root, st, err)
		}
	}
	if _, err := New(Options{Root: root, StateDir: filepath.Join(base, "state", "lak")}); err != nil {
		t.Fatalf("sibling state folder: %v", err)
	}
}

// FuzzStatePaths drives scan with arbitrary paths over a lake that holds the state
// folder: no path that lands inside the state folder is ever scanned, and nothing
// panics.
func FuzzStatePaths(f *testing.F) {
	for _, s := range []string{"sovereign_state", "./sovereign_state/sel", "docs/../sovereign_state", "sovereign_state2",
		"/sovereign_state", "sovereign_state/", "a/../../lake/sovereign_state", ".", "docs", "sovereign_state\x00", "link"} {
		f.Add(s)
	}
	var state string
	lk := newLake(f, func(o *Options) {
		state = filepath.Join(o.Root, "sovereign_state")
		o.StateDir = state
	})
	write(f, filepath.Join(state, ".env"), "BIZRA_BRIDGE_TOKEN=x\n")
	write(f, lk.path("docs", "a.md"), "# a")
	if err := os.Symlink(state, lk.path("link")); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, p string) {
		out, err := lk.skill.Run(context.Background(), map[string]any{"operation": "scan", "path": p, "recursive": true})
		if err != nil {
			return
		}
		r := out.(*ScanResult)
		if rp, rerr := filepath.EvalSymlinks(r.Path); rerr == nil && (rp == state || strings.HasPrefix(rp, state+string(filepath.Separator))) {
			t.Fatalf("scanned %q (path %q) inside the state folder", r.Path, p)
		}
		for _, tf := range r.TopFiles {
			if strings.Contains(tf.Path, "sovereign_state"+string(filepath.Separator)) || strings.HasSuffix(tf.Path, ".env") {
				t.Fatalf("the scan listed %q from the state folder", tf.Path)
			}
		}
	})
}
