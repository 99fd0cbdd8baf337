package genesis

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/bizra/bizra/internal/canon"
)

// TrustFile is the file in the state folder where, without a pin, the first validated
// genesis identity key is recorded (trust on first use): the lower-case hex Ed25519
// public key and a newline. Deleting it makes the next start trust the genesis key it
// finds again; passing a pin replaces it with the pinned key.
const TrustFile = "trusted_genesis_key"

// KeyID is the key id of a genesis identity key (proof.md, "Keys"): the first 16 hex of
// SHA-256 of the 32-byte public key. (The node id is "node0_" + the same 16 hex.)
func KeyID(pub ed25519.PublicKey) string { return canon.SHA256Hex(pub)[:16] }

// ParsePublicKey parses a hex Ed25519 public key (64 hex characters, either case,
// surrounding blanks ignored), e.g. BIZRA_GENESIS_PUBLIC_KEY. Anything else is an
// error wrapping ErrInvalidPublicKey that says what is wrong without echoing the value.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	s = strings.TrimSpace(s)
	if len(s) != 2*ed25519.PublicKeySize {
		return nil, fmt.Errorf("want %d hex characters, got %d: %w", 2*ed25519.PublicKeySize, len(s), ErrInvalidPublicKey)
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("not hex: %w", ErrInvalidPublicKey)
	}
	return ed25519.PublicKey(b), nil
}

// TrustError is the refusal of a genesis signed by a key other than the trusted one
// (the pin, or the key recorded on first use). Its text is one line naming both key
// ids and how to reset trust deliberately. It unwraps to ErrUntrustedKey and
// ErrEnforcement.
type TrustError struct {
	Dir      string
	Expected ed25519.PublicKey
	Found    ed25519.PublicKey
	// Pinned is set when Expected is the pin; otherwise it was read from TrustFile.
	Pinned bool
	// PinSource names the pin's origin in the message (e.g. a flag and variable name).
	PinSource string
}

func (e *TrustError) Error() string {
	gpath := filepath.Join(e.Dir, GenesisFile)
	if e.Pinned {
		src := e.PinSource
		if src == "" {
			src = "the configured genesis public key"
		}
		return fmt.Sprintf("Node0 genesis key not trusted: %s is signed by key id %s, but %s pins key id %s; "+
			"restore the genesis signed by the pinned key or change the pin", gpath, KeyID(e.Found), src, KeyID(e.Expected))
	}
	tpath := filepath.Join(e.Dir, TrustFile)
	hint := "pass the new key as the genesis public key pin"
	if e.PinSource != "" {
		hint = "pass the new key with " + e.PinSource
	}
	return fmt.Sprintf("Node0 genesis key changed: %s is signed by key id %s, but key id %s was recorded on first use in %s; "+
		"if the change is deliberate, delete %s or %s", gpath, KeyID(e.Found), KeyID(e.Expected), tpath, tpath, hint)
}

// Unwrap returns ErrUntrustedKey and ErrEnforcement.
func (e *TrustError) Unwrap() []error { return []error{ErrUntrustedKey, ErrEnforcement} }

// ReadTrustFile reads the key recorded in dir/TrustFile; (nil, nil) when there is none.
// A file that is not one hex public key (or is a symlink, or too large) is an error
// wrapping ErrTrustFile that names the file.
func ReadTrustFile(dir string) (ed25519.PublicKey, error) {
	path := filepath.Join(dir, TrustFile)
	b, _, prob := readRegular(path, maxKeyBytes)
	if prob != nil {
		if prob.missing {
			return nil, nil
		}
		return nil, fmt.Errorf("%s (delete it to trust the current genesis key again): %w", prob.reason, ErrTrustFile)
	}
	pub, err := ParsePublicKey(trimNewline(string(b)))
	if err != nil {
		return nil, fmt.Errorf("malformed %s: want one hex Ed25519 public key (delete it to trust the current genesis key again): %w", path, ErrTrustFile)
	}
	return pub, nil
}

// WriteTrustFile records pub in dir/TrustFile atomically: a temporary file in dir is
// written, synced and renamed over the old one, then dir is synced.
func WriteTrustFile(dir string, pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("public key of %d bytes: %w", len(pub), ErrInvalidPublicKey)
	}
	path := filepath.Join(dir, TrustFile)
	tmp, err := os.CreateTemp(dir, "."+TrustFile+".tmp-*")
	if err != nil {
		return fmt.Errorf("record trusted genesis key in %s: %w: %w", path, ErrTrustFile, err)
	}
	tmpName := tmp.Name()
	fail := func(err error) error {
		tmp.Close()
		os.Remove(tmpName)
		return fmt.Errorf("record trusted genesis key in %s: %w: %w", path, ErrTrustFile, err)
	}
	if err := tmp.Chmod(0o600); err != nil {
		return fail(err)
	}
	if _, err := tmp.WriteString(hex.EncodeToString(pub) + "\n"); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmpName)
		return fmt.Errorf("record trusted genesis key in %s: %w: %w", path, ErrTrustFile, err)
	}
	if err := os.Rename(tmpName, path); err != nil {
		os.Remove(tmpName)
		return fmt.Errorf("record trusted genesis key in %s: %w: %w", path, ErrTrustFile, err)
	}
	return syncDir(dir)
}
