package smartfiles

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/bizra/bizra/internal/fsguard"
)

// Internal reasons a path walk stops; rendered by (*lake).pathErr.
var (
	errSymlink = errors.New("smartfiles: symbolic link")
	errNotDir  = errors.New("smartfiles: not a directory")
	errNotFile = errors.New("smartfiles: not a regular file")
	errChanged = errors.New("smartfiles: changed during the operation")
)

// lake is one invocation's handle on the data-lake root.
type lake struct {
	root  string        // cleaned absolute root, as configured (shown in messages)
	alt   string        // the root with symlinks resolved, when it differs
	r     *os.Root      // every file operation goes through it
	state fsguard.Guard // the node's state folder: never read or written
}

func openLake(root, alt string, state fsguard.Guard) (*lake, error) {
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, fail("The data lake root '%s' cannot be opened.", root)
	}
	return &lake{root: root, alt: alt, r: r, state: state}, nil
}

// inState reports whether the root-relative path rel is the state folder or inside
// it, as spelled under the root or under its resolved form, or once symlinks are
// resolved.
func (l *lake) inState(rel string) bool {
	if l.state.Dir() == "" {
		return false
	}
	if l.state.ContainsLexically(filepath.Join(l.root, rel)) ||
		l.alt != "" && l.state.ContainsLexically(filepath.Join(l.alt, rel)) {
		return true
	}
	return l.state.Contains(filepath.Join(l.root, rel))
}

// checkState refuses a path of input inside the state folder.
func (l *lake) checkState(input, rel string) error {
	if l.inState(rel) {
		return badInput(input, fmt.Sprintf("Path '%s' is inside the node's state folder; smart_files never reads or writes it.", l.abs(rel)))
	}
	return nil
}

// stateLink refuses the lake file rel of input that is a hard link of a state-folder
// file (its device and inode are those of .env or the identity key).
func (l *lake) stateLink(input, rel string) error {
	return badInput(input, fmt.Sprintf("Path '%s' is a hard link of a file in the node's state folder; smart_files never reads or writes it.", l.abs(rel)))
}

// notState drops the planned files that are hard links of state-folder files.
func (l *lake) notState(files []entry) []entry {
	return slices.DeleteFunc(files, func(e entry) bool { return l.state.HoldsFile(e.info) })
}

func (l *lake) close() { _ = l.r.Close() }

// traversal is the public refusal of a path outside the root.
func (l *lake) traversal(p string) error {
	return fail("Path '%s' is outside DATA_LAKE_ROOT '%s'. Traversal blocked.", p, l.root)
}

// rel maps the user path p of input (absolute, or relative to the root) to a clean
// path relative to the root ("." for the root itself), refusing anything outside it
// and anything inside the state folder.
func (l *lake) rel(input, p string) (string, error) {
	r, err := l.relRoot(p)
	if err != nil {
		return "", err
	}
	if err := l.checkState(input, r); err != nil {
		return "", err
	}
	return r, nil
}

func (l *lake) relRoot(p string) (string, error) {
	if !filepath.IsAbs(p) {
		p = filepath.Join(l.root, p)
	}
	c := filepath.Clean(p)
	for _, base := range []string{l.root, l.alt} {
		if base == "" {
			continue
		}
		if c == base {
			return ".", nil
		}
		if r, ok := strings.CutPrefix(c, base+string(filepath.Separator)); ok {
			return r, nil
		}
		if base == string(filepath.Separator) {
			return c[1:], nil
		}
	}
	return "", l.traversal(c)
}

// abs renders a root-relative path for users.
func (l *lake) abs(rel string) string { return filepath.Join(l.root, rel) }

// pathErr renders a walk or open error on rel as a public failure.
func (l *lake) pathErr(rel string, err error) error {
	p := l.abs(rel)
	var f *Failure
	switch {
	case errors.As(err, &f):
		return err
	case errors.Is(err, errSymlink):
		return fail("Path '%s' is a symbolic link; symbolic links are not followed.", p)
	case errors.Is(err, errNotDir) || errors.Is(err, syscall.ENOTDIR):
		return fail("Not a directory: %s", p)
	case errors.Is(err, errNotFile):
		return fail("Not a file: %s", p)
	case errors.Is(err, errChanged):
		return fail("Path '%s' changed during the operation; it was left alone.", p)
	case errors.Is(err, fs.ErrNotExist):
		return fail("Path does not exist: %s", p)
	case errors.Is(err, fs.ErrPermission):
		return fail("Permission denied: %s", p)
	case strings.Contains(err.Error(), "escapes"):
		return l.traversal(p)
	}
	return fail("Cannot access %s", p)
}

// walkMode says what dir does with a missing component.
type walkMode uint8

const (
	mustExist walkMode = iota // a missing component is an error
	create                    // a missing component is made (0o755)
	probe                     // a missing component ends the walk with (nil, nil)
)

// dir opens the directory rel one component at a time: each component is Lstat-ed
// (a symlink is refused), opened as a sub-root and checked to be the same directory,
// so no symlink is followed even if one is swapped in meanwhile. The caller closes
// the returned root (nil only in probe mode when a component is missing).
func (l *lake) dir(rel string, mode walkMode) (*os.Root, error) {
	cur, err := l.r.OpenRoot(".")
	if err != nil {
		return nil, err
	}
	if rel == "." {
		return cur, nil
	}
	for _, c := range strings.Split(rel, string(filepath.Separator)) {
		next, err := child(cur, c, mode)
		_ = cur.Close()
		if next == nil {
			return nil, err
		}
		cur = next
	}
	return cur, nil
}

// child opens the sub-directory name of d without following a symlink.
func child(d *os.Root, name string, mode walkMode) (*os.Root, error) {
	if name == "" || name == "." || name == ".." {
		return nil, errChanged
	}
	li, err := d.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) && mode != mustExist {
		if mode == probe {
			return nil, nil
		}
		if err := d.Mkdir(name, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		li, err = d.Lstat(name)
	}
	if err != nil {
		return nil, err
	}
	if li.Mode()&fs.ModeSymlink != 0 {
		return nil, errSymlink
	}
	if !li.IsDir() {
		return nil, errNotDir
	}
	next, err := d.OpenRoot(name)
	if err != nil {
		return nil, err
	}
	si, err := next.Stat(".")
	if err != nil || !os.SameFile(li, si) {
		_ = next.Close()
		return nil, errChanged
	}
	return next, nil
}

// openFile opens the regular file name of d for reading, checking it is still the
// file described by want (an Lstat taken when the plan was made). O_NONBLOCK keeps a
// FIFO swapped in from blocking the open.
func openFile(d *os.Root, name string, want fs.FileInfo) (*os.File, error) {
	f, err := d.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || !os.SameFile(fi, want) {
		_ = f.Close()
		return nil, errChanged
	}
	return f, nil
}

// lstatFile returns the Lstat of name in d, refusing symlinks and non-regular files.
func lstatFile(d *os.Root, name string) (fs.FileInfo, error) {
	li, err := d.Lstat(name)
	if err != nil {
		return nil, err
	}
	if li.Mode()&fs.ModeSymlink != 0 {
		return nil, errSymlink
	}
	if !li.Mode().IsRegular() {
		return nil, errNotFile
	}
	return li, nil
}

// split returns the parent and the last element of a root-relative path.
func split(rel string) (dir, base string) {
	dir, base = filepath.Split(rel)
	dir = filepath.Clean(dir)
	if dir == "" {
		dir = "."
	}
	return dir, base
}

// join joins root-relative elements.
func join(elem ...string) string { return filepath.Join(elem...) }

// exists reports an Lstat hit (a dangling symlink counts).
func exists(d *os.Root, name string) bool {
	_, err := d.Lstat(name)
	return err == nil
}

func clash(dest string) string {
	return fmt.Sprintf("'%s' already exists; nothing was overwritten", dest)
}
