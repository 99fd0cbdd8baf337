//go:build !linux

package receipt

import (
	"errors"
	"os"
)

// datasync is fsync where fdatasync(2) is not available.
func datasync(f *os.File) error { return f.Sync() }

// reserve is not available here: the caller writes zeros.
func reserve(*os.File, int64) error { return errors.ErrUnsupported }
