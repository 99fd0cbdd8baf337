//go:build linux

package receipt

import (
	"os"
	"syscall"
)

// datasync flushes f's data and the metadata needed to read it back (its size), not
// its timestamps: fdatasync(2). In a preallocated segment an append changes no
// metadata at all, so this is one data flush.
func datasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			return err
		}
	}
}

// reserve allocates [0, size) of f with fallocate(2) (mode 0: the size grows to size,
// the new blocks read as zeros until written). It costs no data writes; an error
// (a file system without fallocate) leaves the caller to write zeros instead.
func reserve(f *os.File, size int64) error {
	for {
		err := syscall.Fallocate(int(f.Fd()), 0, 0, size)
		if err != syscall.EINTR {
			return err
		}
	}
}
