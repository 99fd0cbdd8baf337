package smartfiles

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"syscall"
)

// entry is a regular file found when a plan was made, with its Lstat.
type entry struct {
	name string
	info fs.FileInfo
}

// listFiles returns the regular files directly in d, sorted by name, at most max of
// them (truncated says more entries were there), and how many symlinks were skipped.
func listFiles(ctx context.Context, d *os.Root, max int) (files []entry, symlinks int, truncated bool, err error) {
	f, err := d.Open(".")
	if err != nil {
		return nil, 0, false, err
	}
	defer f.Close()
	visited := 0
	for {
		if err := ctx.Err(); err != nil {
			return nil, 0, false, err
		}
		ents, rerr := f.ReadDir(256)
		for _, e := range ents {
			if visited >= max {
				truncated = true
				break
			}
			visited++
			if e.Type()&fs.ModeSymlink != 0 {
				symlinks++
				continue
			}
			if !e.Type().IsRegular() {
				continue
			}
			info, err := e.Info()
			if err != nil || !info.Mode().IsRegular() {
				continue
			}
			files = append(files, entry{name: e.Name(), info: info})
		}
		if truncated || rerr == io.EOF || len(ents) == 0 {
			break
		}
		if rerr != nil {
			return nil, 0, false, rerr
		}
	}
	slices.SortFunc(files, func(a, b entry) int { return strings.Compare(a.name, b.name) })
	return files, symlinks, truncated, nil
}

// ctxReader stops a copy or a hash when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// hashFile returns the hex SHA-256 of the file name in d, checked against want.
func hashFile(ctx context.Context, d *os.Root, name string, want fs.FileInfo) (string, error) {
	f, err := openFile(d, name, want)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, ctxReader{ctx, f}); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// copyFile copies name from src to dst (never overwriting) and returns the error of
// the first step that failed; a partial copy is removed.
func copyFile(ctx context.Context, src *os.Root, name string, want fs.FileInfo, dst *os.Root, dstName string) error {
	in, err := openFile(src, name, want)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := dst.OpenFile(dstName, os.O_WRONLY|os.O_CREATE|os.O_EXCL, want.Mode().Perm())
	if err != nil {
		return err
	}
	_, err = io.Copy(out, ctxReader{ctx, in})
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = dst.Remove(dstName)
		return err
	}
	_ = dst.Chtimes(dstName, want.ModTime(), want.ModTime())
	return nil
}

// linkUnsupported reports a hard-link failure that a copy can stand in for.
func linkUnsupported(err error) bool {
	return errors.Is(err, syscall.EXDEV) || errors.Is(err, syscall.EPERM) ||
		errors.Is(err, syscall.ENOTSUP) || errors.Is(err, syscall.EOPNOTSUPP) ||
		errors.Is(err, syscall.EMLINK) || errors.Is(err, errors.ErrUnsupported)
}

// errText is the public text of a per-file error.
func (l *lake) errText(rel string, err error) string {
	var f *Failure
	if errors.As(l.pathErr(rel, err), &f) {
		return f.Text
	}
	return "Cannot access " + l.abs(rel)
}
