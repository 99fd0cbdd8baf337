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
