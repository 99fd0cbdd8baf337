package docs

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// missingTool skips t because an external tool is missing, except under CI (the CI
// environment variable set), where the test fails: CI installs every tool it needs.
func missingTool(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("CI: "+format, args...)
	}
	t.Skipf(format, args...)
}

// unitDirectives parses a unit file into key → values (repeated keys keep all).
func unitDirectives(t *testing.T, text string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("bad unit line %q", line)
		}
		out[k] = append(out[k], v)
	}
	return out
}

// TestSystemdUnit: docs/bizra.service carries what an operator expects (the .env as
// EnvironmentFile, Restart=on-failure, LimitNOFILE, the state directory, a stop
// timeout above --shutdown-timeout, the hardening options) and passes
// `systemd-analyze verify` (with ExecStart pointed at an executable that exists here).
func TestSystemdUnit(t *testing.T) {
	raw, err := os.ReadFile("bizra.service")
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	d := unitDirectives(t, text)
	want := []struct{ key, value string }{
		{"ExecStart", "/usr/local/bin/bizra run"},
		{"ExecStartPre", "/usr/local/bin/bizra init"},
		{"EnvironmentFile", "-/var/lib/bizra/sovereign_state/.env"},
		{"Environment", "BIZRA_STATE_DIR=/var/lib/bizra/sovereign_state"},
		{"StateDirectory", "bizra"},
		{"StateDirectoryMode", "0700"},
		{"Restart", "on-failure"},
		{"LimitNOFILE", "65536"},
		{"User", "bizra"},
		{"NoNewPrivileges", "yes"},
		{"ProtectSystem", "strict"},
		{"ProtectHome", "yes"},
		{"PrivateTmp", "yes"},
		{"CapabilityBoundingSet", ""},
		{"RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"},
		{"SystemCallFilter", "@system-service"},
		{"KillSignal", "SIGTERM"},
		{"UMask", "0077"},
	}
	for _, w := range want {
		found := false
		for _, v := range d[w.key] {
			found = found || v == w.value
		}
		if !found {
			t.Errorf("%s=%s missing (have %q)", w.key, w.value, d[w.key])
		}
	}
	if stop, err := time.ParseDuration(strings.Join(d["TimeoutStopSec"], "")); err != nil || stop <= 10*time.Second {
		t.Errorf("TimeoutStopSec %q must exceed the 10 s --shutdown-timeout", d["TimeoutStopSec"])
	}

	tool, err := exec.LookPath("systemd-analyze")
	if err != nil {
		missingTool(t, "systemd-analyze not installed (Debian systemd; .ci/run installs it)")
		return
	}
	// verify checks that ExecStart's binary exists and is executable: point it at this
	// test's own binary.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	unit := filepath.Join(dir, "bizra.service")
	if err := os.WriteFile(unit, []byte(strings.ReplaceAll(text, "/usr/local/bin/bizra", self)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "verify", unit).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	// A broken unit is refused (the check can fail).
	bad := filepath.Join(dir, "bad.service")
	if err := os.WriteFile(bad, []byte(strings.ReplaceAll(text, "Restart=on-failure", "Restart=sometimes")), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(tool, "verify", bad).CombinedOutput(); err == nil && !strings.Contains(string(out), "sometimes") {
		t.Errorf("systemd-analyze verify said nothing of Restart=sometimes: %q", out)
	}
}
