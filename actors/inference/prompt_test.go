package inference

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bizra/bizra/internal/catalog"
)

func TestStripThink(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain answer", "plain answer"},
		{"<think>hidden</think>answer", "answer"},
		{"<THINK>\nmulti\nline\n</Think>\n\nanswer", "answer"},
		{"a <think>x</think> b <think>y</think> c", "a  b  c"},
		{"reasoning before a lone close</think>answer", "answer"},
		{"answer <think>truncated reasoning", "answer"},
		{"<think>only thoughts</think>", ""},
		{"<think>nested <think>inner</think> tail</think>end", "end"},
	} {
		if got := stripThink(tc.in); got != tc.want {
			t.Errorf("stripThink(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseCitations(t *testing.T) {
	ev := []Evidence{{Source: "docs/a.md"}, {Source: "notes/b.txt"}, {Source: "weird [name]"}}
	got := parseCitations("Alpha is first [docs/a.md]. Beta follows [2]. Gamma has none. Delta [weird name] [unknown]! Eps.[DOCS/A.MD]", ev)
	want := []Sentence{
		{"Alpha is first.", "docs/a.md"},
		{"Beta follows.", "notes/b.txt"},
		{"Gamma has none.", ""},
		{"Delta [unknown]!", "weird [name]"},
		{"Eps.", "docs/a.md"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("sentence %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	// A citation standing alone after the full stop attaches to the sentence before.
	got = parseCitations("The sky is blue. [notes/b.txt]", ev)
	if len(got) != 1 || got[0].Source != "notes/b.txt" {
		t.Fatalf("trailing citation: %+v", got)
	}
}

func TestAnswerPrompt(t *testing.T) {
	req := sampleRequest()
	req.Evidence = append(req.Evidence, Evidence{Source: "multi\nline [src]", Excerpt: "first line\nsecond line"})
	msgs := answerMessages(req)
	if len(msgs) != 2 || msgs[0].Role != "system" || !strings.Contains(msgs[0].Content, "square brackets") {
		t.Fatalf("system prompt %+v", msgs)
	}
	u := msgs[1].Content
	for _, want := range []string{
		"Question: Why is the sky blue during the day?\n",
		"- What scatters sunlight in the atmosphere?\n",
		"Draft conclusion: Rayleigh scattering makes the sky blue.\n",
		"[physics/rayleigh.md] Rayleigh scattering affects",
		"[notes/sky.txt] The sky looks blue",
		"[multiline src] first line second line\n",
	} {
		if !strings.Contains(u, want) {
			t.Errorf("prompt lacks %q:\n%s", want, u)
		}
	}
	// The evidence budget bounds the prompt.
	big := Request{Query: "q"}
	for range 100 {
		big.Evidence = append(big.Evidence, Evidence{Source: "s", Excerpt: strings.Repeat("word ", 400)})
	}
	if n := len(answerMessages(big)[1].Content); n > maxPromptEvidenceBytes+1000 {
		t.Fatalf("prompt of %d bytes", n)
	}
}

func TestParseSubQuestions(t *testing.T) {
	in := "<think>plan</think>1. What is A?\n2) What is B?\n- What is C?\n\n* what is c?\nQ4: What is D?\nok"
	got := parseSubQuestions(in, 3)
	want := []string{"What is A?", "What is B?", "What is C?"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q", got)
	}
	if got := parseSubQuestions(in, 10); len(got) != 4 || got[3] != "What is D?" {
		t.Fatalf("got %q", got)
	}
}

func TestDecodeGoldenResponses(t *testing.T) {
	dir := filepath.Join(testdataDir, "responses")
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var man struct {
		Cases []struct {
			File, Kind, Text, Error string
			PromptTokens            int      `json:"prompt_tokens"`
			CompletionTokens        int      `json:"completion_tokens"`
			Usage                   bool     `json:"usage"`
			Models                  []string `json:"models"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &man); err != nil {
		t.Fatal(err)
	}
	for _, tc := range man.Cases {
		t.Run(tc.File, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, tc.File))
			if err != nil {
				t.Fatal(err)
			}
			switch tc.Kind {
			case "chat_openai", "chat_ollama":
				dec := decodeOpenAIChat
				if tc.Kind == "chat_ollama" {
					dec = decodeOllamaChat
				}
				res, err := dec(b)
				if tc.Error != "" {
					if catalog.Lookup(err).Code != tc.Error {
						t.Fatalf("err %v, want %s", err, tc.Error)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if res.Text != tc.Text || res.UsageReported != tc.Usage ||
					(tc.Usage && (res.PromptTokens != tc.PromptTokens || res.CompletionTokens != tc.CompletionTokens)) {
					t.Fatalf("got %+v, want %+v", res, tc)
				}
			case "models_openai", "models_ollama":
				dec := decodeOpenAIModels
				if tc.Kind == "models_ollama" {
					dec = decodeOllamaTags
				}
				ms, err := dec(b)
				if err != nil || strings.Join(ms, ",") != strings.Join(tc.Models, ",") {
					t.Fatalf("models %q %v, want %q", ms, err, tc.Models)
				}
			default:
				t.Fatalf("unknown kind %s", tc.Kind)
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		ollama     bool
		reason     string
	}{
		{"truncated", `{"choices":[{"message":{"content":"x`, false, "malformed response"},
		{"trailing garbage", `{"choices":[{"message":{"content":"x"}}]} {}`, false, "malformed response"},
		{"not an object", `[1,2]`, false, "malformed response"},
		{"empty choices", `{"choices":[]}`, false, "empty response"},
		{"null content", `{"choices":[{"message":{"content":null}}]}`, false, "empty response"},
		{"whitespace content", `{"choices":[{"message":{"content":"  \n"}}]}`, false, "empty response"},
		{"error string", `{"error":"boom","choices":[{"message":{"content":"x"}}]}`, false, "error response"},
		{"ollama error", `{"error":"model not loaded"}`, true, "error response"},
		{"ollama no message", `{"model":"m","done":true}`, true, "empty response"},
		{"ollama not done", `{"model":"m","message":{"content":"par"},"done":false}`, true, "malformed response"},
		{"ollama empty", ``, true, "malformed response"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dec := decodeOpenAIChat
			if tc.ollama {
				dec = decodeOllamaChat
			}
			_, err := dec([]byte(tc.body))
			var be *backendError
			if !asBackendError(err, &be) || be.reason != tc.reason || catalog.Lookup(err).Code != "BACKEND_BAD_RESPONSE" {
				t.Fatalf("err %v, want %q", err, tc.reason)
			}
		})
	}
}

func asBackendError(err error, be **backendError) bool {
	e, ok := err.(*backendError)
	if ok {
		*be = e
	}
	return ok
}
