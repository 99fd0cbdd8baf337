package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/bizra/bizra/docs"
	"github.com/bizra/bizra/internal/fsguard"
)

func cmdInit(_ context.Context, a *app, args []string) int {
	fsf := flag.NewFlagSet("init", flag.ContinueOnError)
	state := fsf.String("state-dir", envOr(a, "BIZRA_STATE_DIR", "sovereign_state"), "state folder to create (BIZRA_STATE_DIR)")
	lake := fsf.String("data-lake", envOr(a, "BIZRA_DATA_LAKE_ROOT", "data-lake"), "data-lake root to seed when empty (BIZRA_DATA_LAKE_ROOT)")
	if code := parseFlags(fsf, args, "bizra init [--state-dir DIR] [--data-lake DIR]"); code >= 0 {
		return code
	}
	if fsf.NArg() > 0 {
		fmt.Fprintf(a.stderr, "bizra init: unexpected argument %q\n", fsf.Arg(0))
		return 2
	}
	// The node would refuse to start over these folders: say so before creating them.
	if err := fsguard.CheckSeparate(*state, *lake); err != nil {
		fmt.Fprintf(a.stderr, "bizra init: %v\n", err)
		return 1
	}
	lines, err := initState(*state, *lake)
	for _, l := range lines {
		fmt.Fprintln(a.stdout, l)
	}
	if err != nil {
		fmt.Fprintf(a.stderr, "bizra init: %v\n", err)
		return 1
	}
	return 0
}

func envOr(a *app, name, def string) string {
	if v, ok := a.getenv(name); ok && v != "" {
		return v
	}
	return def
}

// initState creates the state folder (0700), <state>/.env (0600) with fresh secrets
// when it is missing, and seeds an empty data lake with the embedded docs. It is
// idempotent and reports each thing it did or found.
func initState(state, lake string) ([]string, error) {
	var out []string
	if fi, err := os.Stat(state); err == nil {
		if !fi.IsDir() {
			return out, fmt.Errorf("%s exists and is not a folder", state)
		}
		if fi.Mode().Perm() != 0o700 {
			if err := os.Chmod(state, 0o700); err != nil {
				return out, fmt.Errorf("chmod %s: %w", state, err)
			}
			out = append(out, fmt.Sprintf("state folder %s: tightened mode to 0700", state))
		} else {
			out = append(out, fmt.Sprintf("state folder %s: exists", state))
		}
	} else {
		if err := os.MkdirAll(state, 0o700); err != nil {
			return out, fmt.Errorf("create %s: %w", state, err)
		}
		out = append(out, fmt.Sprintf("state folder %s: created (0700)", state))
	}
	envPath := filepath.Join(state, ".env")
	if _, err := os.Stat(envPath); errors.Is(err, os.ErrNotExist) {
		token, key := make([]byte, 24), make([]byte, 32)
		if _, err := rand.Read(token); err != nil {
			return out, err
		}
		if _, err := rand.Read(key); err != nil {
			return out, err
		}
		body := "# bizra secrets, written by `bizra init`. Keep this file 0600 and out of git.\n" +
			"BIZRA_BRIDGE_TOKEN=" + hex.EncodeToString(token) + "\n" +
			"BIZRA_RECEIPT_PRIVATE_KEY_HEX=" + hex.EncodeToString(key) + "\n"
		f, err := os.OpenFile(envPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return out, fmt.Errorf("create %s: %w", envPath, err)
		}
		if _, err := f.WriteString(body); err != nil {
			f.Close()
			return out, fmt.Errorf("write %s: %w", envPath, err)
		}
		if err := f.Close(); err != nil {
			return out, fmt.Errorf("write %s: %w", envPath, err)
		}
		out = append(out, fmt.Sprintf("secrets %s: created (0600) with a random bridge token and receipt key", envPath))
	} else if err != nil {
		return out, fmt.Errorf("stat %s: %w", envPath, err)
	} else {
		out = append(out, fmt.Sprintf("secrets %s: exists, left unchanged", envPath))
	}
	seeded, err := seedDataLake(lake)
	if err != nil {
		return out, err
	}
	switch {
	case seeded > 0:
		out = append(out, fmt.Sprintf("data lake %s: seeded with %d documents of bizra's own docs", lake, seeded))
	default:
		out = append(out, fmt.Sprintf("data lake %s: not empty, left unchanged", lake))
	}
	return out, nil
}

// seedDataLake copies the embedded docs into lake/bizra-docs when lake is empty or
// missing, and returns how many files it wrote.
func seedDataLake(lake string) (int, error) {
	entries, err := os.ReadDir(lake)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("read data lake %s: %w", lake, err)
	}
	if len(entries) > 0 {
		return 0, nil
	}
	dst := filepath.Join(lake, "bizra-docs")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return 0, fmt.Errorf("create %s: %w", dst, err)
	}
	n := 0
	err = fs.WalkDir(docs.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := docs.FS.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, filepath.Base(p)), b, 0o644); err != nil {
			return fmt.Errorf("seed %s: %w", p, err)
		}
		n++
		return nil
	})
	return n, err
}
