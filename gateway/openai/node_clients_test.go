package openai

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"testing"
	"time"
)

// nodeClientScripts are the client tests in testdata/node, each with the npm package
// it needs and its number of checks.
var nodeClientScripts = []struct {
	script, pkg string
	checks      int
}{
	{"openai_more.test.mjs", "openai", 12},
	{"langchain.test.mjs", "@langchain/openai", 5},
	{"aisdk.test.mjs", "@ai-sdk/openai", 5},
}

// TestNodeClients runs the official openai client, @langchain/openai and ai +
// @ai-sdk/openai against a gateway whose pass-through backend is the tool-capable
// fakeBackend (chat, streaming, tool calls, structured output, embeddings,
// completions, errors with params, 429 with Retry-After; no /v1/responses, so the AI
// SDK's default provider goes through the translation). Under CI a missing node or
// package fails.
func TestNodeClients(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		missingTool(t, "node is not installed: the client tests cannot run")
	}
	e, fb := frontEnv(t)
	for _, s := range nodeClientScripts {
		t.Run(s.script, func(t *testing.T) {
			probe := exec.Command(node, "--input-type=module", "-e", fmt.Sprintf("await import(%q)", s.pkg))
			probe.Dir = "testdata/node"
			if out, err := probe.CombinedOutput(); err != nil {
				missingTool(t, "the npm package %s is not installed in gateway/openai/testdata/node (run npm ci there, as .ci/run does): %s", s.pkg, out)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, s.script)
			cmd.Dir = "testdata/node"
			cmd.Env = append(cmd.Environ(), "BIZRA_BASE_URL="+e.base+"/v1", "BIZRA_API_KEY=k-test")
			out, err := cmd.CombinedOutput()
			t.Logf("node %s:\n%s", s.script, out)
			if err != nil {
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					t.Fatalf("%s failed (exit %d)", s.script, ee.ExitCode())
				}
				t.Fatal(err)
			}
			if !regexp.MustCompile(fmt.Sprintf(`(?m)^ok %d of %d$`, s.checks, s.checks)).Match(out) {
				t.Fatalf("%s did not report all %d checks", s.script, s.checks)
			}
			if s.pkg == "@ai-sdk/openai" {
				// the default provider asked /v1/responses, which the backend lacks, then
				// got its answers through chat completions
				asked := map[string]bool{}
				for _, r := range fb.requests() {
					if r.Model == "mock-small" {
						asked[r.Path] = true
					}
				}
				if !asked["/v1/responses"] || !asked["/v1/chat/completions"] {
					t.Fatalf("the backend was asked %v", asked)
				}
			}
		})
	}
}
