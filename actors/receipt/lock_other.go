//go:build !unix

package receipt

import "os"

// lockDir opens dir/LOCK; advisory locking is only implemented on unix.
func lockDir(dir string) (*os.File, error) {
	return os.OpenFile(dir+string(os.PathSeparator)+"LOCK", os.O_RDWR|os.O_CREATE, 0o600)
}
