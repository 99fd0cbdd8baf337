package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"testing"
	"time"

	"github.com/bizra/bizra/actors/inference"
	"github.com/bizra/bizra/actors/inference/mockllm"
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

// weatherAnswer is the text answer of clientEnv's mock (a chat without tools, or after
// the tool answered).
const weatherAnswer = "It is sunny in Paris today."

// structured is the object of every structured answer of clientEnv's mock
// (response_format, or a tool other than get_weather, which is how LangChain's
// withStructuredOutput asks).
const structured = `{"city":"Paris","temperature_c":21}`

// clientEnv is a gateway whose pass-through goes through the real inference service
// (Options.Inference; Forward defaults to it) over HTTP to a tool-capable mockllm
// (backend "llm", e.mock): chat and streaming (tool calls for get_weather, a JSON
// object for response_format and other tools), embeddings, completions; the model
// "bad-tools" answers 400 with param and code, "limited" 429 with Retry-After: 7;
// /v1/responses is 404 there, so the Responses API is translated to chat completions.
// A second mock (backend "native", returned) serves the model "native", whose
// /v1/responses it answers itself ("native answer"). The bizra model is the stand-in
// pipeline (fakeCore); tools marks backend "llm" tool-capable.
func clientEnv(t *testing.T, tools bool) (*env, *mockllm.Server) {
	native := mockllm.New(mockllm.Options{Models: []string{"native"}, Answer: "native answer", RecordLimit: 4096})
	if _, err := native.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = native.Shutdown(context.Background()) })
	e := newEnv(t, envOpts{apiKeys: []string{"k-test"}, tools: tools, extraBackends: []inference.BackendConfig{
		{Name: "native", Kind: inference.KindOpenAI, URL: native.URL()}}, mock: mockllm.Options{
		Models:        []string{"mock-small", "mock-large", "emb", "bad-tools", "limited"},
		Answer:        weatherAnswer,
		PathAnswers:   map[string]string{"/v1/completions": " sunny"},
		ToolArguments: map[string]string{"get_weather": `{"city":"Paris"}`},
		Structured:    structured,
		RecordLimit:   4096,
	}})
	e.mock.Disable("/v1/responses")
	e.mock.SetError("", mockllm.ErrorReply{Model: "bad-tools", Status: 400, Type: "invalid_request_error",
		Code: "invalid_function_parameters", Param: "tools[0].function.parameters", Message: "Invalid schema for function get_weather"})
	e.mock.SetError("", mockllm.ErrorReply{Model: "limited", Status: 429, Type: "rate_limit_error",
		Code: "rate_limit_exceeded", Message: "Rate limit reached for requests", RetryAfter: "7"})
	return e, native
}

// TestNodeClients runs the official openai client, @langchain/openai and ai +
// @ai-sdk/openai against clientEnv: the real front, the real inference service and a
// mock backend over HTTP. Under CI a missing node or package fails.
func TestNodeClients(t *testing.T) {
	node := nodeTool(t)
	e, _ := clientEnv(t, false)
	for _, s := range nodeClientScripts {
		t.Run(s.script, func(t *testing.T) {
			runNodeScript(t, node, e, s.script, s.pkg, s.checks)
			if s.pkg == "@ai-sdk/openai" {
				// the default provider asked /v1/responses, which the backend lacks, then
				// got its answers through chat completions
				asked := map[string]bool{}
				for _, r := range e.mock.Requests() {
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

// TestNodeClientsBizraTools runs bizra_tools.test.mjs (LangChain bindTools and
// withStructuredOutput, the AI SDK's generateObject, the official client) on the
// bizra model against clientEnv with backend "llm" tool-capable.
func TestNodeClientsBizraTools(t *testing.T) {
	node := nodeTool(t)
	e, _ := clientEnv(t, true)
	waitFor(t, "tool model discovered", 5*time.Second, func() bool { _, ok := e.inf.ToolModel(); return ok })
	runNodeScript(t, node, e, "bizra_tools.test.mjs", "@ai-sdk/openai", 4)
}

func nodeTool(t *testing.T) string {
	node, err := exec.LookPath("node")
	if err != nil {
		missingTool(t, "node is not installed: the client tests cannot run")
	}
	return node
}

// runNodeScript runs one client script against e, which must report all its checks.
func runNodeScript(t *testing.T, node string, e *env, script, pkg string, checks int) {
	t.Helper()
	emb, _ := json.Marshal([][]float64{mockllm.Embed("a"), mockllm.Embed("b")})
	probe := exec.Command(node, "--input-type=module", "-e", fmt.Sprintf("await import(%q)", pkg))
	probe.Dir = "testdata/node"
	if out, err := probe.CombinedOutput(); err != nil {
		missingTool(t, "the npm package %s is not installed in gateway/openai/testdata/node (run npm ci there, as .ci/run does): %s", pkg, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Dir = "testdata/node"
	cmd.Env = append(cmd.Environ(), "BIZRA_BASE_URL="+e.base+"/v1", "BIZRA_API_KEY=k-test",
		"BIZRA_EXPECT_EMBEDDINGS="+string(emb))
	out, err := cmd.CombinedOutput()
	t.Logf("node %s:\n%s", script, out)
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("%s failed (exit %d)", script, ee.ExitCode())
		}
		t.Fatal(err)
	}
	if !regexp.MustCompile(fmt.Sprintf(`(?m)^ok %d of %d$`, checks, checks)).Match(out) {
		t.Fatalf("%s did not report all %d checks", script, checks)
	}
}
