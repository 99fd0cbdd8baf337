package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// repoRoot is the checkout holding this package (cmd/bizra is two levels down).
func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller information")
	}
	return filepath.Dir(filepath.Dir(filepath.Dir(file)))
}

// scriptPrereqs skips t unless bash, curl and jq are installed (.ci/run installs them).
func scriptPrereqs(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: the scripts start a real node")
	}
	for _, tool := range []string{"bash", "curl", "jq", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			missingTool(t, "%s is not installed (.ci/run installs curl and jq): %v", tool, err)
		}
	}
}

// buildBizra builds the binary into t.TempDir().
func buildBizra(t testing.TB, root string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bizra")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/bizra")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/bizra: %v\n%s", err, out)
	}
	return bin
}

// runScript runs a .ci script against the freshly built binary with a deadline.
func runScript(t *testing.T, name string, env ...string) {
	t.Helper()
	scriptPrereqs(t)
	root := repoRoot(t)
	bin := buildBizra(t, root)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, ".ci", name))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), append([]string{"BIZRA_BIN=" + bin, "TMPDIR=" + t.TempDir()}, env...)...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	t.Logf("%s output:\n%s", name, out)
	if ctx.Err() != nil {
		t.Fatalf("%s did not finish within 4 minutes", name)
	}
	if err != nil {
		t.Fatalf("%s failed: %v", name, err)
	}
}

// TestSmokeScript runs .ci/smoke.sh (make smoke): a real `bizra run` on free ports and
// the runbook's checks against it.
func TestSmokeScript(t *testing.T) { runScript(t, "smoke.sh") }

// TestRunbookScript runs .ci/runbook.sh: every unattended command of docs/RUNBOOK.md
// against a live node started as `make run` starts it.
func TestRunbookScript(t *testing.T) { runScript(t, "runbook.sh") }

// missingTool skips t because an external tool is missing, except under CI (the CI
// variable set), where .ci/run installs every tool and a skip would hide a broken
// install: there it fails.
func missingTool(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("CI: "+format, args...)
	}
	t.Skipf(format, args...)
}
