package fsguard

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// maxMissing bounds the components Resolve walks up while looking for an existing
// ancestor (a path of more than this many missing components is refused).
const maxMissing = 255

// Resolve returns the canonical form of p: absolute, cleaned, with every symlink
// resolved (filepath.EvalSymlinks). For a path that does not exist yet, its nearest
// existing ancestor is resolved and the missing components are appended, so a data
// lake that start-up will create is compared by where it will be. An error wraps
// ErrResolve and names the path.
func Resolve(p string) (string, error) { return resolve(p, 0) }

// maxHops bounds the dangling symlinks resolve follows by hand.
const maxHops = 40

func resolve(p string, hops int) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("fsguard: %s: %w: %w", p, ErrResolve, err)
	}
	var rest []string
	cur := abs
	for range maxMissing {
		r, err := filepath.EvalSymlinks(cur)
		if err == nil {
			return filepath.Join(append([]string{r}, rest...)...), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("fsguard: resolve %s: %w: %w", abs, ErrResolve, err)
		}
		if li, lerr := os.Lstat(cur); lerr == nil && li.Mode()&fs.ModeSymlink != 0 {
			// A dangling symlink: whatever is created through it lands at its target.
			if hops >= maxHops {
				return "", fmt.Errorf("fsguard: resolve %s: too many symlinks: %w", abs, ErrResolve)
			}
			target, err := os.Readlink(cur)
			if err != nil {
				return "", fmt.Errorf("fsguard: resolve %s: %w: %w", abs, ErrResolve, err)
			}
			if !filepath.IsAbs(target) {
				target = filepath.Join(filepath.Dir(cur), target)
			}
			return resolve(filepath.Join(append([]string{target}, rest...)...), hops+1)
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			break
		}
		rest = append([]string{filepath.Base(cur)}, rest...)
		cur = parent
	}
	return "", fmt.Errorf("fsguard: resolve %s: no existing ancestor: %w", abs, ErrResolve)
}

// Within reports whether p is root or lies below it. Both must be clean absolute
// paths (as Resolve returns); the test is by whole components, so /x/lake2 is not
// within /x/lake.
func Within(root, p string) bool {
	if p == root {
		return true
	}
	if root == string(filepath.Separator) {
		return strings.HasPrefix(p, root)
	}
	return strings.HasPrefix(p, root+string(filepath.Separator))
}

// CheckSeparate refuses a state folder and a data lake that contain one another
// (either way, or the same folder) once symlinks are resolved. The error is one line
// naming both paths as given and, when they differ, as resolved: an *OverlapError
// (or an error wrapping ErrResolve when a path cannot be resolved).
func CheckSeparate(state, lake string) error {
	rs, err := Resolve(state)
	if err != nil {
		return err
	}
	rl, err := Resolve(lake)
	if err != nil {
		return err
	}
	var how string
	switch {
	case rs == rl:
		how = "are the same folder"
	case Within(rl, rs):
		how = "overlap: the state folder is inside the data lake"
	case Within(rs, rl):
		how = "overlap: the data lake is inside the state folder"
	default:
		return nil
	}
	return &OverlapError{State: show(state, rs), Lake: show(lake, rl), How: how}
}

// OverlapError is CheckSeparate's refusal; its text is one line naming both paths.
// It unwraps to ErrOverlap.
type OverlapError struct {
	State, Lake string // as given and, when it differs, as resolved
	How         string // "are the same folder", "overlap: …"
}

func (e *OverlapError) Error() string {
	return fmt.Sprintf("state folder %s and data lake %s %s; the index and smart_files would expose the keys in the state folder, so move one of them",
		e.State, e.Lake, e.How)
}

// Unwrap returns ErrOverlap.
func (e *OverlapError) Unwrap() error { return ErrOverlap }

// show renders a path as given and, when it differs, as resolved.
func show(given, resolved string) string {
	if abs, err := filepath.Abs(given); err == nil && abs == resolved {
		return quote(resolved)
	}
	return quote(given) + " (resolved " + quote(resolved) + ")"
}

func quote(p string) string { return "'" + p + "'" }

// Guard answers "is this path inside the state folder?" for the index and
// smart_files. The zero value (no state folder) refuses nothing.
type Guard struct {
	forms []string      // the state folder as configured (absolute) and resolved
	info  os.FileInfo   // the state folder's Stat at NewGuard (nil when it did not exist)
	files []os.FileInfo // its top-level regular files at NewGuard (for HoldsFile)
}

// NewGuard builds a Guard over the state folder dir ("" refuses nothing).
func NewGuard(dir string) (Guard, error) {
	if dir == "" {
		return Guard{}, nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Guard{}, fmt.Errorf("fsguard: %s: %w: %w", dir, ErrResolve, err)
	}
	r, err := Resolve(abs)
	if err != nil {
		return Guard{}, err
	}
	g := Guard{forms: []string{abs}}
	if r != abs {
		g.forms = append(g.forms, r)
	}
	if fi, err := os.Stat(r); err == nil {
		g.info = fi
		g.files = topFiles(r)
	}
	return g, nil
}

// maxStateFiles bounds the top-level files of the state folder NewGuard records.
const maxStateFiles = 256

// topFiles returns the Lstat of the regular files directly in dir (the secrets: .env,
// the identity key, the trust file), at most maxStateFiles of them.
func topFiles(dir string) []os.FileInfo {
	f, err := os.Open(dir)
	if err != nil {
		return nil
	}
	defer f.Close()
	ents, _ := f.ReadDir(maxStateFiles)
	var out []os.FileInfo
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() {
			out = append(out, fi)
		}
	}
	return out
}

// HoldsFile reports whether fi, a regular file met outside the state folder (in the
// data lake), is one of the state folder's own top-level files under another name: a
// hard link (same device and inode), which no path check can see.
func (g Guard) HoldsFile(fi os.FileInfo) bool {
	if fi == nil || !fi.Mode().IsRegular() {
		return false
	}
	for _, f := range g.files {
		if os.SameFile(f, fi) {
			return true
		}
	}
	return false
}

// Dir returns the state folder as configured ("" for the zero Guard).
func (g Guard) Dir() string {
	if len(g.forms) == 0 {
		return ""
	}
	return g.forms[0]
}

// Contains reports whether p (absolute) is the state folder or inside it, as given
// or once its symlinks are resolved. A path that cannot be resolved is reported as
// contained when its given form is, and otherwise not (the caller's own open fails).
func (g Guard) Contains(p string) bool {
	if len(g.forms) == 0 {
		return false
	}
	c := filepath.Clean(p)
	for _, f := range g.forms {
		if Within(f, c) {
			return true
		}
	}
	r, err := Resolve(c)
	if err != nil {
		return false
	}
	for _, f := range g.forms {
		if Within(f, r) {
			return true
		}
	}
	return false
}

// ContainsLexically is Contains without touching the file system: p (clean,
// absolute, with no symlinks left to resolve, as met in a walk that follows none) is
// compared with the state folder's forms only.
func (g Guard) ContainsLexically(p string) bool {
	for _, f := range g.forms {
		if Within(f, p) {
			return true
		}
	}
	return false
}

// SameDir reports whether fi is the state folder itself (by device and inode), for a
// walk that meets it under another name (a bind mount or hard-linked path).
func (g Guard) SameDir(fi os.FileInfo) bool {
	return g.info != nil && fi != nil && os.SameFile(g.info, fi)
}
