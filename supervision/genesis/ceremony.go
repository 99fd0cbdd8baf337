package genesis

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Init runs the Node0 ceremony in dir (created 0700 when absent): it loads the identity
// key from node0_identity.key, or creates one (mode 0600) when there is none, derives
// the agent keys, and writes node0_genesis.json and genesis_hash.txt. It refuses to
// overwrite an existing genesis or hash file (ErrExists), to use a key file that group
// or others can access, is a symlink, holds a known test key (IsTestKey) or is malformed
// (ErrKeyInsecure, ErrKeyMalformed),
// and a name or location that is too long or holds control characters (ErrInvalidInput).
//
// Files are written to a temporary name, synced and hard-linked into place, so a
// concurrent Init cannot overwrite either file. If the process dies between the two
// files, the folder holds a genesis without a hash file: Validate reports it missing and
// Init refuses to run again until an operator removes the partial genesis.
func Init(dir, name, location string, now time.Time) (Genesis, error) {
	if dir == "" {
		return Genesis{}, fmt.Errorf("empty state folder: %w", ErrInvalidInput)
	}
	if r := checkText("name", name, true); r != "" {
		return Genesis{}, fmt.Errorf("%s: %w", r, ErrInvalidInput)
	}
	if r := checkText("location", location, false); r != "" {
		return Genesis{}, fmt.Errorf("%s: %w", r, ErrInvalidInput)
	}
	if now.IsZero() {
		return Genesis{}, fmt.Errorf("zero ceremony time: %w", ErrInvalidInput)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Genesis{}, fmt.Errorf("create state folder %s: %w", dir, err)
	}
	gpath := filepath.Join(dir, GenesisFile)
	hpath := filepath.Join(dir, HashFile)
	for _, p := range []string{gpath, hpath} {
		if _, err := os.Lstat(p); err == nil {
			return Genesis{}, fmt.Errorf("refusing to overwrite %s: %w", p, ErrExists)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return Genesis{}, fmt.Errorf("check %s: %w", p, err)
		}
	}
	kpath := filepath.Join(dir, KeyFile)
	seed, prob, err := loadSeed(kpath)
	switch {
	case prob != nil && prob.missing:
		if seed, err = newSeed(kpath); err != nil {
			return Genesis{}, err
		}
	case err != nil:
		return Genesis{}, fmt.Errorf("identity key: %w", err)
	case IsTestKey(seed):
		return Genesis{}, fmt.Errorf("identity key %s is a known test key: %w", kpath, ErrKeyInsecure)
	}
	g, err := build(seed, name, location, now)
	if err != nil {
		return Genesis{}, fmt.Errorf("genesis ceremony: %w", err)
	}
	doc, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		return Genesis{}, fmt.Errorf("encode genesis: %w", err)
	}
	if err := writeNew(gpath, append(doc, '\n'), 0o644); err != nil {
		return Genesis{}, fmt.Errorf("write genesis: %w", err)
	}
	if err := writeNew(hpath, []byte(g.GenesisHash+"\n"), 0o644); err != nil {
		return Genesis{}, fmt.Errorf("write genesis hash: %w", err)
	}
	return g, nil
}
