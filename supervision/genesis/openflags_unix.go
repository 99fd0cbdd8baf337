//go:build unix

package genesis

import "syscall"

// noFollow makes open fail on a symlink and not block on a FIFO swapped in after Lstat.
const noFollow = syscall.O_NOFOLLOW | syscall.O_NONBLOCK
