package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bizra/bizra/actors/ledger"
)

var cmdSEL = toolGroup("sel", []subcommand{
	{"verify", "recompute the experience ledger's chain; exit 1 when it does not verify", cmdSELVerify},
	{"export", "write every retained episode as JSON lines, oldest first (stdout or --out FILE)", cmdSELExport},
	{"episodes", "list episodes, newest first", cmdSELEpisodes},
})

// selDir returns <state>/sel, or an error when there is no ledger folder there.
// The ledger is opened read-only: nothing is locked, cut or repaired, so these
// commands are safe against the folder of a running node.
func selDir(state string) (string, error) {
	dir := filepath.Join(state, "sel")
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("no experience ledger at %s (wrong --state-dir, or no query has committed an episode yet)", dir)
	}
	if err != nil {
		return "", err
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("%s is not a folder", dir)
	}
	return dir, nil
}

func cmdSELVerify(_ context.Context, a *app, args []string) int {
	const cmd = "sel verify"
	fset := flag.NewFlagSet(cmd, flag.ContinueOnError)
	state := stateDirFlag(fset, a)
	asJSON := fset.Bool("json", false, "print the verification as JSON")
	pos, code := toolFlags(a, fset, args, "bizra sel verify [--state-dir DIR] [--json]")
	if code >= 0 {
		return code
	}
	if len(pos) > 0 {
		return toolUsage(a, cmd, "unexpected argument %q", pos[0])
	}
	dir, err := selDir(*state)
	if err != nil {
		return toolFail(a, cmd, err)
	}
	v, err := ledger.VerifyDir(dir)
	if err != nil {
		return toolFail(a, cmd, err)
	}
	if *asJSON {
		if err := printJSON(a.stdout, v); err != nil {
			return toolFail(a, cmd, err)
		}
	} else {
		bad := "none"
		if v.FirstBadSequence != nil {
			bad = fmt.Sprint(*v.FirstBadSequence)
		}
		fmt.Fprintf(a.stdout, "valid:              %t\nepisodes:           %d\nchain_head:         %s\nfirst_bad_sequence: %s\n",
			v.Valid, v.Episodes, v.ChainHead, bad)
	}
	if !v.Valid {
		if d := v.Damage; d != nil {
			fmt.Fprintf(a.stderr, "bizra %s: the chain of %s does not verify: acknowledged episodes lost or altered: %s\n", cmd, dir, d)
		} else if !*asJSON {
			fmt.Fprintf(a.stderr, "bizra %s: the chain of %s does not verify\n", cmd, dir)
		}
		return 1
	}
	return 0
}

func cmdSELExport(_ context.Context, a *app, args []string) int {
	const cmd = "sel export"
	fset := flag.NewFlagSet(cmd, flag.ContinueOnError)
	state := stateDirFlag(fset, a)
	out := fset.String("out", "", "write to FILE instead of stdout (refuses an existing file unless --force)")
	force := fset.Bool("force", false, "replace an existing --out FILE")
	pos, code := toolFlags(a, fset, args, "bizra sel export [--state-dir DIR] [--out FILE [--force]]")
	if code >= 0 {
		return code
	}
	if len(pos) > 0 {
		return toolUsage(a, cmd, "unexpected argument %q", pos[0])
	}
	dir, err := selDir(*state)
	if err != nil {
		return toolFail(a, cmd, err)
	}
	if *out == "" || *out == "-" {
		w := bufio.NewWriterSize(a.stdout, 64<<10)
		if err := ledger.ExportDir(dir, w); err != nil {
			return toolFail(a, cmd, err)
		}
		if err := w.Flush(); err != nil {
			return toolFail(a, cmd, err)
		}
		return 0
	}
	if err := exportToFile(dir, *out, *force); err != nil {
		return toolFail(a, cmd, err)
	}
	fmt.Fprintf(a.stderr, "exported %s to %s\n", dir, *out)
	return 0
}

// exportToFile writes the export to a temporary file beside path, syncs it and puts
// it in place: with a hard link (which refuses an existing path) unless force, then a
// rename. A failed export leaves nothing behind.
func exportToFile(dir, path string, force bool) error {
	if !force {
		if _, err := os.Lstat(path); err == nil {
			return fmt.Errorf("%s exists; pass --force to replace it", path)
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	name := tmp.Name()
	defer os.Remove(name) // after a link or rename it names nothing, or the spare link
	defer func() {
		if tmp != nil {
			tmp.Close()
		}
	}()
	w := bufio.NewWriterSize(tmp, 64<<10)
	if err := ledger.ExportDir(dir, w); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("export to %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("export to %s: %w", path, err)
	}
	f := tmp
	tmp = nil
	if err := f.Close(); err != nil {
		return fmt.Errorf("export to %s: %w", path, err)
	}
	if force {
		if err := os.Rename(name, path); err != nil {
			return fmt.Errorf("export to %s: %w", path, err)
		}
		return nil
	}
	if err := os.Link(name, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s exists; pass --force to replace it", path)
		}
		return fmt.Errorf("export to %s: %w", path, err)
	}
	return nil
}

func cmdSELEpisodes(_ context.Context, a *app, args []string) int {
	const cmd = "sel episodes"
	fset := flag.NewFlagSet(cmd, flag.ContinueOnError)
	state := stateDirFlag(fset, a)
	limit := fset.Int("limit", ledger.DefaultPageLimit, fmt.Sprintf("episodes per page, 1..%d", ledger.MaxPageLimit))
	offset := fset.Int("offset", 0, "episodes to skip, newest first")
	asJSON := fset.Bool("json", false, "print the page as JSON (every hashed field, prev_hash, episode_hash, chain_hash)")
	pos, code := toolFlags(a, fset, args, "bizra sel episodes [--state-dir DIR] [--limit N] [--offset N] [--json]")
	if code >= 0 {
		return code
	}
	if len(pos) > 0 {
		return toolUsage(a, cmd, "unexpected argument %q", pos[0])
	}
	if *limit < 1 || *limit > ledger.MaxPageLimit {
		return toolUsage(a, cmd, "invalid --limit %d: want 1..%d", *limit, ledger.MaxPageLimit)
	}
	if *offset < 0 {
		return toolUsage(a, cmd, "invalid --offset %d: want 0 or more", *offset)
	}
	dir, err := selDir(*state)
	if err != nil {
		return toolFail(a, cmd, err)
	}
	l, err := ledger.OpenReadOnly(dir)
	if err != nil {
		return toolFail(a, cmd, err)
	}
	defer l.Close()
	page := l.Episodes(*limit, *offset)
	if *asJSON {
		if err := printJSON(a.stdout, page); err != nil {
			return toolFail(a, cmd, err)
		}
		return 0
	}
	fmt.Fprintf(a.stdout, "total %d, showing %d from offset %d, chain_head %s\n", page.Total, page.Count, *offset, page.ChainHead)
	if page.Count == 0 {
		return 0
	}
	fmt.Fprintf(a.stdout, "%-8s %-20s %-6s %-6s %-7s %-16s %s\n", "SEQ", "TIME (UTC)", "SNR", "IHSAN", "TOKENS", "CHAIN", "CONTEXT")
	for _, e := range page.Episodes {
		fmt.Fprintf(a.stdout, "%-8d %-20s %-6.3f %-6.3f %-7d %-16s %s\n", e.Sequence,
			time.Unix(int64(e.Timestamp), 0).UTC().Format("2006-01-02 15:04:05"), e.SNR, e.Ihsan, e.TokensUsed,
			shortHash(e.ChainHash), oneLine(e.Context, 60))
	}
	return 0
}

func shortHash(h string) string {
	if len(h) > 16 {
		return h[:16]
	}
	return h
}

// oneLine flattens s to one line of at most n characters.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
