package smartfiles

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// lakeFixture is a data-lake root with a sibling folder "outside" that nothing may
// touch.
type lakeFixture struct {
	base, root, outside string
	skill               *Skill
}

func newLake(t testing.TB, opts ...func(*Options)) *lakeFixture {
	t.Helper()
	base := t.TempDir()
	base, err := filepath.EvalSymlinks(base)
	if err != nil {
		t.Fatal(err)
	}
	f := &lakeFixture{base: base, root: filepath.Join(base, "lake"), outside: filepath.Join(base, "outside")}
	for _, d := range []string{f.root, f.outside, filepath.Join(f.outside, "dir")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write(t, filepath.Join(f.outside, "secret.txt"), "top secret")
	write(t, filepath.Join(f.outside, "report.pdf"), "outside pdf")
	write(t, filepath.Join(f.outside, "dir", "inner.py"), "print('outside')")
	o := Options{Root: f.root}
	for _, fn := range opts {
		fn(&o)
	}
	if f.skill, err = New(o); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *lakeFixture) path(elem ...string) string {
	return filepath.Join(append([]string{f.root}, elem...)...)
}

func write(t testing.TB, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// populate writes the seven files of the original suite into dir.
func populate(t testing.TB, dir string) {
	t.Helper()
	for name, c := range map[string]string{
		"report.pdf": "pdf content", "photo.jpg": "\xff\xd8sample image", "script.py": "print('hello')",
		"data.csv": "a,b,c\n1,2,3", "notes.txt": "some notes here", "archive.zip": "PK\x03\x04fake zip",
		"unknown.xyz": "mystery file",
	} {
		write(t, filepath.Join(dir, name), c)
	}
}

func (f *lakeFixture) run(t *testing.T, in map[string]any) (any, error) {
	t.Helper()
	return f.skill.Run(context.Background(), in)
}

// mustRun runs and fails the test on any error.
func mustRun[T any](t *testing.T, f *lakeFixture, in map[string]any) T {
	t.Helper()
	out, err := f.run(t, in)
	if err != nil {
		t.Fatalf("Run(%v): %v", in, err)
	}
	r, ok := out.(T)
	if !ok {
		t.Fatalf("Run(%v) = %T", in, out)
	}
	return r
}

// failText runs and returns the public text of the *Failure it must return.
func failText(t *testing.T, f *lakeFixture, in map[string]any) string {
	t.Helper()
	out, err := f.run(t, in)
	var fl *Failure
	if !errors.As(err, &fl) {
		t.Fatalf("Run(%v) = %v, %v; want a *Failure", in, out, err)
	}
	return fl.Public()
}

// inputErr runs and returns the *InputError it must return.
func inputErr(t *testing.T, f *lakeFixture, in map[string]any) *InputError {
	t.Helper()
	out, err := f.run(t, in)
	var ie *InputError
	if !errors.As(err, &ie) || !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("Run(%v) = %v, %v; want an *InputError", in, out, err)
	}
	return ie
}

func exist(t *testing.T, p string) bool {
	t.Helper()
	_, err := os.Lstat(p)
	return err == nil
}

// snapshot lists every entry under dir with its mode, size, mtime and content hash
// (symlinks by target), so any read-only check can compare before and after.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		line := p + " " + fi.Mode().String() + " " + fi.ModTime().String()
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			line += " -> " + target
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			line += " " + hex.EncodeToString(sum[:])
		}
		lines = append(lines, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
