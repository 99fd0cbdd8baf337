package index

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFaultStateLakeOverlapIndex builds the index over a data lake that holds the state
// folder (start-up refuses that layout; the index must not serve the keys even so).
func TestFaultStateLakeOverlapIndex(t *testing.T) {
	const secret = "zanzibartoken" // a word that appears only in the state folder
	for _, tc := range []struct {
		name string
		// setup returns the lake root and the state folder under x.
		setup      func(t *testing.T, x string) (root, state string)
		wantErr    error
		wantSkips  int
		wantPublic int // passages from the public document
	}{
		{"state folder inside the lake", func(t *testing.T, x string) (string, string) {
			lake := filepath.Join(x, "lake")
			write(t, lake, "public.md", []byte("# Public\n\nthe public guide\n"))
			write(t, lake, "sovereign_state/keys.md", []byte("# Keys\n\n"+secret+"\n"))
			write(t, lake, "sovereign_state/sel/seg.jsonl", []byte(`{"token":"`+secret+`"}`))
			return lake, filepath.Join(lake, "sovereign_state")
		}, nil, 1, 1},
		{"symlink in the lake to a file in the state folder", func(t *testing.T, x string) (string, string) {
			lake, state := filepath.Join(x, "lake"), filepath.Join(x, "lake", "st")
			write(t, lake, "public.md", []byte("# Public\n\nthe public guide\n"))
			write(t, state, "keys.md", []byte("# Keys\n\n"+secret+"\n"))
			if err := os.Symlink(filepath.Join(state, "keys.md"), filepath.Join(lake, "leak.md")); err != nil {
				t.Fatal(err)
			}
			return lake, state
		}, nil, 2, 1},
		{"state folder named through a symlink", func(t *testing.T, x string) (string, string) {
			lake := filepath.Join(x, "lake")
			write(t, lake, "public.md", []byte("# Public\n\nthe public guide\n"))
			write(t, lake, "hidden/keys.md", []byte("# Keys\n\n"+secret+"\n"))
			link := filepath.Join(x, "state-link")
			if err := os.Symlink(filepath.Join(lake, "hidden"), link); err != nil {
				t.Fatal(err)
			}
			return lake, link
		}, nil, 1, 1},
		{"sibling with a shared prefix is indexed", func(t *testing.T, x string) (string, string) {
			lake := filepath.Join(x, "lake")
			write(t, lake, "public.md", []byte("# Public\n\nthe public guide\n"))
			write(t, lake, "state2/notes.md", []byte("# Notes\n\n"+secret+"\n"))
			return lake, filepath.Join(lake, "state")
		}, nil, 0, 1},
		{"lake inside the state folder", func(t *testing.T, x string) (string, string) {
			state := filepath.Join(x, "state")
			write(t, state, "lake/public.md", []byte("# Public\n\nthe public guide\n"))
			return filepath.Join(state, "lake"), state
		}, ErrStateDir, 0, 0},
		{"lake is the state folder", func(t *testing.T, x string) (string, string) {
			state := filepath.Join(x, "state")
			write(t, state, "public.md", []byte("# Public\n\nthe public guide\n"))
			return state, state
		}, ErrStateDir, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, err := filepath.EvalSymlinks(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			root, state := tc.setup(t, x)
			ix, err := Build(context.Background(), root, Options{StateDir: state})
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), root) {
					t.Fatalf("Build = %v, want %v naming %s", err, tc.wantErr, root)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			st := ix.Stats()
			if st.SkippedState != tc.wantSkips {
				t.Fatalf("SkippedState = %d, want %d (%+v)", st.SkippedState, tc.wantSkips, st)
			}
			hits := ix.Search(secret, 10)
			if tc.wantSkips > 0 && len(hits) != 0 {
				t.Fatalf("the state folder's content is served: %+v", hits)
			}
			if tc.wantSkips == 0 && len(hits) == 0 {
				t.Fatal("a folder outside the state folder was not indexed")
			}
			if got := len(ix.Search("public guide", 10)); got != tc.wantPublic {
				t.Fatalf("public hits %d, want %d", got, tc.wantPublic)
			}
		})
	}
}
