package ledger

import "github.com/bizra/bizra/internal/catalog"

// The sentinels of the experience ledger. Wrap them with context; edges render them
// through catalog.Lookup.
var (
	// ErrNotFound: no episode with that hash or sequence.
	ErrNotFound = catalog.New(catalog.NotFound, "SEL_EPISODE_NOT_FOUND", "Episode not found", "sel: episode not found")
	// ErrInvalidEpisode: an episode breaks a field rule (range, size, encoding).
	ErrInvalidEpisode = catalog.New(catalog.InvalidInput, "SEL_INVALID_EPISODE", "Invalid episode", "sel: invalid episode")
	// ErrOverloaded: the commit queue is full; retry later.
	ErrOverloaded = catalog.New(catalog.Overloaded, "", "", "sel: commit queue full")
	// ErrTimeout: the commit was not acknowledged within the caller's deadline. The
	// episode may still be committed later.
	ErrTimeout = catalog.New(catalog.Timeout, "", "", "sel: commit not acknowledged before the deadline")
	// ErrDiskFull: the disk (or a file-size limit) refused the write; nothing of the
	// failed batch was acknowledged.
	ErrDiskFull = catalog.New(catalog.Unavailable, "SEL_DISK_FULL", "Experience ledger storage is full", "sel: no space left for the ledger")
	// ErrReadOnly: the ledger folder cannot be written (read-only file system or permissions).
	ErrReadOnly = catalog.New(catalog.Unavailable, "SEL_READ_ONLY", "Experience ledger storage is read-only", "sel: ledger folder is read-only")
	// ErrStorage: any other I/O failure. After a failed fsync the ledger refuses further
	// appends until it is reopened (the file state is unknown).
	ErrStorage = catalog.New(catalog.Unavailable, "SEL_STORAGE", "Experience ledger storage error", "sel: storage error")
	// ErrClosed: the ledger is not running (not started, shutting down, or opened read-only).
	ErrClosed = catalog.New(catalog.Unavailable, "SEL_CLOSED", "Experience ledger unavailable", "sel: ledger not running")
	// ErrLocked: another process holds the ledger folder.
	ErrLocked = catalog.New(catalog.Unavailable, "SEL_LOCKED", "Experience ledger is in use", "sel: ledger folder locked by another process")
	// ErrNotEmpty: Import needs an empty, not yet started ledger.
	ErrNotEmpty = catalog.New(catalog.Conflict, "SEL_NOT_EMPTY", "Experience ledger is not empty", "sel: import needs an empty ledger")
	// ErrTampered: an imported stream does not recompute (hash or chain mismatch).
	ErrTampered = catalog.New(catalog.InvalidInput, "SEL_CHAIN_BROKEN", "Experience ledger chain does not verify", "sel: chain does not verify")
	// ErrCorrupt: a stored record or block fails its checksum or cannot be decoded.
	ErrCorrupt = catalog.New(catalog.Internal, "SEL_CORRUPT", "", "sel: corrupt record")
	// ErrLoss: the folder does not hold every acknowledged episode unaltered (an
	// acknowledged record cut or rewritten, a segment removed, a chain that does not
	// recompute, or the witness HEAD missing): a writable Open refuses it unless
	// Options.AcceptLoss. The wrapped text names the file, byte offset and sequence.
	ErrLoss = catalog.New(catalog.Unavailable, "SEL_LOSS", "Experience ledger lost or altered acknowledged episodes", "sel: acknowledged episodes lost or altered")
	// ErrStorageUnavailable is what a query answers when its episode could not be
	// written (any storage failure of an append): 503, nothing cached, committed or
	// claimed.
	ErrStorageUnavailable = catalog.New(catalog.Unavailable, "STORAGE_UNAVAILABLE",
		"The experience ledger could not be written; nothing was recorded", "sel: episode not written")
)

// sentinelOf maps the public code carried by an AppendFailed reply back to its sentinel.
func sentinelOf(code string) error {
	for _, e := range []*catalog.Error{ErrInvalidEpisode, ErrOverloaded, ErrTimeout, ErrDiskFull, ErrReadOnly, ErrStorage, ErrClosed} {
		if e.Code() == code {
			return e
		}
	}
	return ErrStorage
}

// codeOf returns the public code of the first catalog sentinel in err's chain.
func codeOf(err error) string { return catalog.Lookup(err).Code }
