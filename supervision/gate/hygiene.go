package gate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/bizra/bizra/actors/receipt"
	"github.com/bizra/bizra/bridge"
	"github.com/bizra/bizra/supervision/genesis"
)

var (
	// keyAssignRE finds a receipt key written out in a file; the value is a finding unless
	// it is one of the well-known test values ParseSecretHex refuses.
	keyAssignRE = regexp.MustCompile(`BIZRA_RECEIPT_PRIVATE_KEY_HEX["']?\s*[:=]\s*["']?([0-9a-fA-F]{64})\b`)
	// tokenAssignRE finds a bridge token that looks generated (32+ hex characters, as
	// `bizra init` writes) written out in a file.
	tokenAssignRE = regexp.MustCompile(`BIZRA_BRIDGE_TOKEN["']?\s*[:=]\s*["']?([0-9a-fA-F]{32,})\b`)
)

// secretFindings scans content (named name) for the given secrets and for secret-looking
// assignments, and returns one line per finding (never the secret itself).
func secretFindings(name string, content []byte, secrets []string) []string {
	var out []string
	lower := bytes.ToLower(content)
	for _, s := range secrets {
		if len(s) < 16 {
			continue
		}
		if bytes.Contains(lower, bytes.ToLower([]byte(s))) {
			out = append(out, fmt.Sprintf("%s: holds a live secret (%d chars, ending …%s)", name, len(s), s[len(s)-2:]))
		}
	}
	for _, m := range keyAssignRE.FindAllSubmatch(content, -1) {
		if _, err := receipt.ParseSecretHex(string(m[1]), false); err == nil {
			out = append(out, fmt.Sprintf("%s: writes out a receipt key (BIZRA_RECEIPT_PRIVATE_KEY_HEX=<64 hex>) that is not a known test value", name))
		}
	}
	if tokenAssignRE.Match(content) {
		out = append(out, fmt.Sprintf("%s: writes out a generated-looking BIZRA_BRIDGE_TOKEN", name))
	}
	return out
}

// trackedFiles lists the files git tracks in the checkout holding the working
// directory; ok is false (with the reason) when there is none.
func trackedFiles(ctx context.Context) (root string, files []string, why string) {
	git, err := exec.LookPath("git")
	if err != nil {
		return "", nil, "git is not installed"
	}
	out, err := exec.CommandContext(ctx, git, "rev-parse", "--show-toplevel").Output()
	if err != nil {
		return "", nil, "the working directory is not a git checkout"
	}
	root = strings.TrimSpace(string(out))
	out, err = exec.CommandContext(ctx, git, "-C", root, "ls-files", "-z").Output()
	if err != nil {
		return "", nil, "git ls-files failed: " + err.Error()
	}
	for _, f := range strings.Split(string(out), "\x00") {
		if f != "" {
			files = append(files, f)
		}
	}
	return root, files, ""
}

// secretFileRisk says why a tracked path should not be tracked, or "".
func secretFileRisk(path string) string {
	base := filepath.Base(path)
	switch {
	case base == ".env":
		return "a .env file is tracked"
	case base == genesis.KeyFile:
		return "an identity key file is tracked"
	case strings.HasPrefix(path, "sovereign_state/") || strings.HasPrefix(path, "tmp_state/"):
		return "state is tracked"
	}
	return ""
}

// insecureMode reports a secret file that group or others can access.
func insecureMode(path string) (string, bool) {
	fi, err := os.Lstat(path)
	if err != nil {
		return "", false
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Sprintf("%s has mode %04o, want 0600", path, fi.Mode().Perm()), true
	}
	return "", false
}

// checkSecretHygiene: no key or token in tracked files or in the logs of the gate's own
// runs; key files 0600. It runs after every other check so that their logs are in.
func checkSecretHygiene(ctx context.Context, g *harness, p *probe) {
	// A node of its own, poked where a careless implementation would log secrets:
	// refused auth carrying the real token, a parse error holding it, a query.
	n, err := g.startNode(ctx, "hygiene", nodeOpts{genesis: true})
	if p.check("node started", err == nil, "%s", errText(err)) {
		tok := n.sec.token
		now := time.Now().UnixMilli()
		_, _ = n.roundTrip(ctx, authLine("ping", 1, map[string]any{bridge.HeaderToken: tok, bridge.HeaderTS: now - 3_600_000, bridge.HeaderNonce: bridge.NewNonce()}))
		_, _ = n.roundTrip(ctx, authLine("ping", 2, map[string]any{bridge.HeaderToken: tok + "x", bridge.HeaderTS: now, bridge.HeaderNonce: bridge.NewNonce()}))
		_, _ = n.roundTrip(ctx, []byte(`{"jsonrpc":"2.0","method":"ping","headers":{"X-BIZRA-TOKEN":"`+tok+`"`+"\n"))
		if c, err := n.dial(ctx); err == nil {
			_, _ = call(ctx, c, "ping", nil)
			_, _ = call(ctx, c, "invoke_skill", map[string]any{"skill": "no-such-skill"})
			c.Close()
		}
		_, _, _, _ = n.httpDo(ctx, "POST", "/v1/query", map[string]any{"query": queries[1], "timeout_ms": 10000})
	}
	n.close()

	// Key files of every state folder the gate made: 0600, folders 0700.
	var bad []string
	files := 0
	_ = filepath.WalkDir(g.tmp, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && d.Name() == "state" {
			if fi, err := d.Info(); err == nil && fi.Mode().Perm() != 0o700 {
				bad = append(bad, fmt.Sprintf("%s has mode %04o, want 0700", path, fi.Mode().Perm()))
			}
		}
		if !d.IsDir() && (d.Name() == ".env" || d.Name() == genesis.KeyFile) {
			files++
			if msg, insecure := insecureMode(path); insecure {
				bad = append(bad, msg)
			}
		}
		return nil
	})
	p.check("the gate's key files (.env, node0_identity.key) are 0600 and state folders 0700", len(bad) == 0 && files > 0,
		"%d key files checked%s", files, prefixed("; ", strings.Join(bad, "; ")))

	// This machine's own state folder, when there is one.
	var live []string
	m, envErr := g.machine()
	if envErr != nil {
		p.check("this machine's state folder secrets are private", false, "%s", errText(envErr))
	} else {
		state := m.StateDir
		live = append(live, m.Secrets...)
		if fi, err := os.Stat(state); err == nil && fi.IsDir() {
			var mb []string
			for _, f := range []string{".env", genesis.KeyFile} {
				if msg, insecure := insecureMode(filepath.Join(state, f)); insecure {
					mb = append(mb, msg)
				}
			}
			p.check("this machine's key files in "+state+" are 0600", len(mb) == 0, "%s", strings.Join(mb, "; "))
		} else {
			p.note("no state folder %s on this machine: its key files were not checked", state)
		}
	}

	// The logs of every node the gate ran.
	g.mu.Lock()
	secrets := append([]string(nil), g.secrets...)
	logs := append([]*logBuffer(nil), g.logs...)
	g.mu.Unlock()
	var logFindings []string
	logBytes := 0
	for i, l := range logs {
		s := l.String()
		logBytes += len(s)
		logFindings = append(logFindings, secretFindings(fmt.Sprintf("log of node %d", i+1), []byte(s), append(secrets, live...))...)
	}
	p.check(fmt.Sprintf("no generated key or token in the logs of the gate's %d nodes (%d bytes)", len(logs), logBytes),
		len(logFindings) == 0 && logBytes > 0, "%s", strings.Join(logFindings, "; "))

	// Tracked files.
	root, tracked, why := trackedFiles(ctx)
	if why != "" {
		p.note("tracked files not scanned: %s", why)
		p.figure("summary", "tracked files skipped ("+why+")")
		return
	}
	var findings []string
	scanned := 0
	for _, f := range tracked {
		if risk := secretFileRisk(f); risk != "" {
			findings = append(findings, f+": "+risk)
		}
		path := filepath.Join(root, f)
		fi, err := os.Lstat(path)
		if err != nil || !fi.Mode().IsRegular() || fi.Size() > 8<<20 {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				findings = append(findings, f+": unreadable: "+err.Error())
			}
			continue
		}
		scanned++
		findings = append(findings, secretFindings(f, b, append(secrets, live...))...)
	}
	p.check(fmt.Sprintf("no key or token in the %d tracked files of %s", scanned, root), len(findings) == 0, "%s", strings.Join(findings, "; "))
	p.figure("summary", fmt.Sprintf("%d tracked files, %d log bytes scanned", scanned, logBytes))
}

// prefixed is sep+s, or "" when s is empty.
func prefixed(sep, s string) string {
	if s == "" {
		return ""
	}
	return sep + s
}
