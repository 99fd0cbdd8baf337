package genesis

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Size limits of the files this package reads.
const (
	MaxGenesisBytes = 1 << 20 // node0_genesis.json
	maxHashBytes    = 1 << 10 // genesis_hash.txt
	maxKeyBytes     = 1 << 10 // node0_identity.key
)

// fileProblem is a reason why a file could not be read; missing is set when it does not exist.
type fileProblem struct {
	reason  string
	missing bool
}

// readRegular reads a regular, non-symlinked file of at most limit bytes. It never
// follows a symlink, never blocks on a FIFO and never reads more than limit+1 bytes.
func readRegular(path string, limit int64) ([]byte, os.FileInfo, *fileProblem) {
	fi, err := os.Lstat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, &fileProblem{reason: "missing " + path, missing: true}
		}
		return nil, nil, &fileProblem{reason: "cannot read " + path}
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return nil, nil, &fileProblem{reason: "refusing symlinked " + path}
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, &fileProblem{reason: path + " is not a regular file"}
	}
	if fi.Size() > limit {
		return nil, nil, &fileProblem{reason: fmt.Sprintf("%s too large (%d bytes, limit %d)", path, fi.Size(), limit)}
	}
	f, err := os.OpenFile(path, os.O_RDONLY|noFollow, 0)
	if err != nil {
		return nil, nil, &fileProblem{reason: "cannot open " + path}
	}
	defer f.Close()
	fi, err = f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return nil, nil, &fileProblem{reason: path + " is not a regular file"}
	}
	if fi.Size() > limit {
		return nil, nil, &fileProblem{reason: fmt.Sprintf("%s too large (%d bytes, limit %d)", path, fi.Size(), limit)}
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, nil, &fileProblem{reason: "cannot read " + path}
	}
	if int64(len(b)) > limit {
		return nil, nil, &fileProblem{reason: fmt.Sprintf("%s too large (limit %d bytes)", path, limit)}
	}
	if len(b) == 0 {
		return nil, nil, &fileProblem{reason: "empty " + path}
	}
	return b, fi, nil
}

// trimNewline removes one trailing "\n" or "\r\n".
func trimNewline(s string) string {
	s = strings.TrimSuffix(s, "\n")
	return strings.TrimSuffix(s, "\r")
}

// loadSeed reads the identity key file: 64 lower- or upper-case hex characters (the
// Ed25519 seed) and an optional trailing newline, mode 0600 or stricter, not a symlink.
func loadSeed(path string) ([]byte, *fileProblem, error) {
	b, fi, p := readRegular(path, maxKeyBytes)
	if p != nil {
		var err error
		if !p.missing {
			err = fmt.Errorf("%s: %w", p.reason, ErrKeyInsecure)
		}
		return nil, p, err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		reason := fmt.Sprintf("insecure permissions %04o on %s: must not be accessible by group or others (chmod 600)", perm, path)
		return nil, &fileProblem{reason: reason}, fmt.Errorf("%s: %w", reason, ErrKeyInsecure)
	}
	s := trimNewline(string(b))
	seed, err := hex.DecodeString(s)
	if err != nil || len(seed) != ed25519.SeedSize {
		reason := "malformed " + path + ": want 64 hex characters"
		return nil, &fileProblem{reason: reason}, fmt.Errorf("%s: %w", reason, ErrKeyMalformed)
	}
	return seed, nil, nil
}

// IsTestKey reports whether seed is a well-known test value: one byte repeated (all
// zeros, 0x11×32, …) or the counting sequence 00 01 … 1f of the golden vector. Init
// refuses such a key, and Validate fails on it unless Policy.AllowTestKeys.
func IsTestKey(seed []byte) bool {
	if len(seed) == 0 {
		return false
	}
	same, counting := true, true
	for i, c := range seed {
		same = same && c == seed[0]
		counting = counting && int(c) == i
	}
	return same || counting
}

// newSeed creates a fresh identity seed and writes it to path with mode 0600; it
// fails if the file exists.
func newSeed(path string) ([]byte, error) {
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return nil, fmt.Errorf("generate identity key: %w", err)
	}
	if err := writeNew(path, []byte(hex.EncodeToString(seed)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write identity key: %w", err)
	}
	return seed, nil
}

// writeNew writes data to a new file at path, atomically and never over an existing
// file: a temporary file in the same folder is written, synced and hard-linked to path.
func writeNew(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Link(tmpName, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s: %w", path, ErrExists)
		}
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	_ = d.Sync() // best effort: some file systems cannot sync a directory; the file itself is synced
	return nil
}
