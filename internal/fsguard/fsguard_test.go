package fsguard

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mkdir(t *testing.T, p string) string {
	t.Helper()
	if err := os.MkdirAll(p, 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}

func symlink(t *testing.T, target, link string) string {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	return link
}

// TestFaultStateLakeOverlap is the start-up refusal of a state folder and a data lake
// that contain one another, symlinks resolved.
func TestFaultStateLakeOverlap(t *testing.T) {
	for _, tc := range []struct {
		name string
		// setup returns (state, lake) under the temporary folder x.
		setup   func(t *testing.T, x string) (string, string)
		overlap string // "" = allowed, else a substring of the refusal
	}{
		{"sibling folders", func(t *testing.T, x string) (string, string) {
			return mkdir(t, filepath.Join(x, "state")), mkdir(t, filepath.Join(x, "lake"))
		}, ""},
		{"shared name prefix lake and lake2", func(t *testing.T, x string) (string, string) {
			return mkdir(t, filepath.Join(x, "lake2")), mkdir(t, filepath.Join(x, "lake"))
		}, ""},
		{"shared name prefix state and state2", func(t *testing.T, x string) (string, string) {
			return mkdir(t, filepath.Join(x, "state")), mkdir(t, filepath.Join(x, "state2"))
		}, ""},
		{"state inside lake", func(t *testing.T, x string) (string, string) {
			l := mkdir(t, filepath.Join(x, "lake"))
			return mkdir(t, filepath.Join(l, "sovereign_state")), l
		}, "the state folder is inside the data lake"},
		{"state deep inside lake", func(t *testing.T, x string) (string, string) {
			l := mkdir(t, filepath.Join(x, "lake"))
			return mkdir(t, filepath.Join(l, "a", "b", "state")), l
		}, "the state folder is inside the data lake"},
		{"lake inside state", func(t *testing.T, x string) (string, string) {
			s := mkdir(t, filepath.Join(x, "state"))
			return s, mkdir(t, filepath.Join(s, "data-lake"))
		}, "the data lake is inside the state folder"},
		{"same folder", func(t *testing.T, x string) (string, string) {
			d := mkdir(t, filepath.Join(x, "both"))
			return d, d
		}, "are the same folder"},
		{"same folder spelled differently", func(t *testing.T, x string) (string, string) {
			d := mkdir(t, filepath.Join(x, "both"))
			return d, filepath.Join(x, "both", "..", "both") + string(filepath.Separator)
		}, "are the same folder"},
		{"symlinked lake points into state", func(t *testing.T, x string) (string, string) {
			s := mkdir(t, filepath.Join(x, "state"))
			mkdir(t, filepath.Join(s, "docs"))
			return s, symlink(t, filepath.Join(s, "docs"), filepath.Join(x, "lake"))
		}, "the data lake is inside the state folder"},
		{"symlinked state points into lake", func(t *testing.T, x string) (string, string) {
			l := mkdir(t, filepath.Join(x, "lake"))
			mkdir(t, filepath.Join(l, "hidden"))
			return symlink(t, filepath.Join(l, "hidden"), filepath.Join(x, "state")), l
		}, "the state folder is inside the data lake"},
		{"symlink to the same folder", func(t *testing.T, x string) (string, string) {
			d := mkdir(t, filepath.Join(x, "real"))
			return symlink(t, d, filepath.Join(x, "state")), d
		}, "are the same folder"},
		{"symlinked parent puts the lake inside state", func(t *testing.T, x string) (string, string) {
			s := mkdir(t, filepath.Join(x, "state"))
			mkdir(t, filepath.Join(s, "sub", "lake"))
			return s, filepath.Join(symlink(t, filepath.Join(s, "sub"), filepath.Join(x, "elsewhere")), "lake")
		}, "the data lake is inside the state folder"},
		{"missing lake inside state", func(t *testing.T, x string) (string, string) {
			s := mkdir(t, filepath.Join(x, "state"))
			return s, filepath.Join(s, "not", "yet", "lake")
		}, "the data lake is inside the state folder"},
		{"missing lake under a symlink into state", func(t *testing.T, x string) (string, string) {
			s := mkdir(t, filepath.Join(x, "state"))
			return s, filepath.Join(symlink(t, s, filepath.Join(x, "link")), "new-lake")
		}, "the data lake is inside the state folder"},
		{"dangling lake symlink into state", func(t *testing.T, x string) (string, string) {
			s := mkdir(t, filepath.Join(x, "state"))
			return s, symlink(t, filepath.Join(s, "lake-to-be"), filepath.Join(x, "lake"))
		}, "the data lake is inside the state folder"},
		{"missing lake beside state", func(t *testing.T, x string) (string, string) {
			return mkdir(t, filepath.Join(x, "state")), filepath.Join(x, "new-lake")
		}, ""},
		{"missing state and lake, separate", func(t *testing.T, x string) (string, string) {
			return filepath.Join(x, "s", "state"), filepath.Join(x, "l", "lake")
		}, ""},
		{"missing state inside missing lake", func(t *testing.T, x string) (string, string) {
			return filepath.Join(x, "lake", "state"), filepath.Join(x, "lake")
		}, "the state folder is inside the data lake"},
		{"relative paths", func(t *testing.T, x string) (string, string) {
			mkdir(t, filepath.Join(x, "rel", "lake", "state"))
			t.Chdir(filepath.Join(x, "rel"))
			return "lake/state", "lake"
		}, "the state folder is inside the data lake"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, err := filepath.EvalSymlinks(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			state, lake := tc.setup(t, x)
			err = CheckSeparate(state, lake)
			if tc.overlap == "" {
				if err != nil {
					t.Fatalf("CheckSeparate(%s, %s) = %v, want allowed", state, lake, err)
				}
				return
			}
			if !errors.Is(err, ErrOverlap) {
				t.Fatalf("CheckSeparate(%s, %s) = %v, want ErrOverlap", state, lake, err)
			}
			msg := err.Error()
			absState, _ := filepath.Abs(state)
			if strings.Contains(msg, "\n") || !strings.Contains(msg, tc.overlap) || !strings.Contains(msg, "'"+absState) &&
				!strings.Contains(msg, "'"+state) {
				t.Fatalf("refusal %q: want one line naming %q and saying %q", msg, state, tc.overlap)
			}
			if !strings.Contains(msg, filepath.Base(filepath.Clean(lake))) {
				t.Fatalf("refusal %q does not name the lake %q", msg, lake)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	x, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	real := mkdir(t, filepath.Join(x, "real"))
	link := symlink(t, real, filepath.Join(x, "link"))
	for _, tc := range []struct{ in, want string }{
		{real, real},
		{link, real},
		{filepath.Join(link, "a", "b"), filepath.Join(real, "a", "b")},
		{filepath.Join(x, "real", "..", "link"), real},
		{filepath.Join(x, "missing"), filepath.Join(x, "missing")},
	} {
		got, err := Resolve(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Resolve(%s) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	// A dangling symlink's target does not exist: it cannot be resolved as a folder.
	dangling := symlink(t, filepath.Join(x, "nowhere"), filepath.Join(x, "dangling"))
	if got, err := Resolve(filepath.Join(dangling, "sub")); err != nil || got != filepath.Join(x, "nowhere", "sub") {
		t.Errorf("dangling: %q, %v", got, err)
	}
	loop := symlink(t, "loop", filepath.Join(x, "loop"))
	if _, err := Resolve(filepath.Join(loop, "sub")); !errors.Is(err, ErrResolve) {
		t.Errorf("symlink loop: %v", err)
	}
}

func TestWithin(t *testing.T) {
	for _, tc := range []struct {
		root, p string
		want    bool
	}{
		{"/x/lake", "/x/lake", true},
		{"/x/lake", "/x/lake/a", true},
		{"/x/lake", "/x/lake2", false},
		{"/x/lake", "/x/lak", false},
		{"/x/lake", "/x", false},
		{"/", "/x", true},
	} {
		if got := Within(tc.root, tc.p); got != tc.want {
			t.Errorf("Within(%s, %s) = %v", tc.root, tc.p, got)
		}
	}
}

func TestGuardContains(t *testing.T) {
	x, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	state := mkdir(t, filepath.Join(x, "state"))
	lake := mkdir(t, filepath.Join(x, "lake"))
	into := symlink(t, state, filepath.Join(lake, "into-state"))
	viaLink := symlink(t, x, filepath.Join(x, "viax"))
	g, err := NewGuard(state)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		p    string
		want bool
	}{
		{state, true},
		{filepath.Join(state, ".env"), true},
		{filepath.Join(state, "sel", "x"), true},
		{into, true},
		{filepath.Join(into, ".env"), true},
		{filepath.Join(viaLink, "state", ".env"), true},
		{lake, false},
		{filepath.Join(x, "state2"), false},
		{filepath.Join(lake, "doc.md"), false},
	} {
		if got := g.Contains(tc.p); got != tc.want {
			t.Errorf("Contains(%s) = %v, want %v", tc.p, got, tc.want)
		}
	}
	fi, err := os.Stat(state)
	if err != nil || !g.SameDir(fi) {
		t.Fatalf("SameDir(state) false: %v", err)
	}
	li, _ := os.Stat(lake)
	if g.SameDir(li) {
		t.Fatal("SameDir(lake) true")
	}
	var zero Guard
	if zero.Contains(state) || zero.SameDir(fi) || zero.Dir() != "" {
		t.Fatal("the zero Guard refuses something")
	}
}

// TestFaultFsguardHoldsFileHardLink: a hard link of a state-folder file met elsewhere
// is recognised by device and inode; a copy, another file and a directory are not.
func TestFaultFsguardHoldsFileHardLink(t *testing.T) {
	base := t.TempDir()
	state, lake := filepath.Join(base, "state"), filepath.Join(base, "lake")
	for _, d := range []string{state, lake} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	env := filepath.Join(state, ".env")
	if err := os.WriteFile(env, []byte("BIZRA_BRIDGE_TOKEN=x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(env, filepath.Join(lake, "link.md")); err != nil {
		t.Skipf("no hard links here: %v", err)
	}
	if err := os.WriteFile(filepath.Join(lake, "copy.md"), []byte("BIZRA_BRIDGE_TOKEN=x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g, err := NewGuard(state)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"link.md": true, "copy.md": false, ".": false} {
		fi, err := os.Lstat(filepath.Join(lake, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := g.HoldsFile(fi); got != want {
			t.Errorf("HoldsFile(%s) = %v; want %v", name, got, want)
		}
	}
	if (Guard{}).HoldsFile(nil) {
		t.Error("the zero Guard holds a nil file")
	}
}
