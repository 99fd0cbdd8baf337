package openai

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/bizra/bizra/internal/canon"
)

// generic is the canonical encoding through encoding/json and the JCS transform,
// bypassing the types' own AppendCanonical.
func generic(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := canon.Transform(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCanonicalMatchesGeneric(t *testing.T) {
	temp, topP := 0.2, 1e-7
	cases := []receiptParams{
		{},
		{Model: "m", Messages: []Message{{Role: "user", Content: "a\u2028b <&> \"q\" \x01 é 😀"}, {Role: "assistant", Name: "n"}},
			MaxTokens: 1000000, Temperature: &temp, TopP: &topP, Stop: []string{"\n", "</s>"}, Stream: true, User: "u", UserID: "key-1"},
		{Model: "x", Messages: []Message{}, Stop: []string{}},
	}
	for i, p := range cases {
		got, err := p.AppendCanonical(nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := generic(t, p); !bytes.Equal(got, want) {
			t.Fatalf("params %d:\n got %s\nwant %s", i, got, want)
		}
	}
	for i, p := range []receiptPayload{{}, {ResponseSHA256: "ab", Model: "m\u00e9", Backend: "llm", PromptTokens: 3,
		CompletionTokens: 9, UsageReported: true, Chunks: 12, Outcome: "client_disconnected"}} {
		got, err := p.AppendCanonical(nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := generic(t, p); !bytes.Equal(got, want) {
			t.Fatalf("payload %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

func FuzzCanonicalParams(f *testing.F) {
	f.Add("m", "user", "hello", "n", "stop", 5, 0.5, true)
	f.Fuzz(func(t *testing.T, model, role, content, name, stop string, maxTokens int, temp float64, stream bool) {
		p := receiptParams{Model: model, Messages: []Message{{Role: role, Content: content, Name: name}},
			MaxTokens: maxTokens % 1000001, Temperature: &temp, Stop: []string{stop}, Stream: stream}
		got, err := p.AppendCanonical(nil)
		if err != nil {
			return // NaN or infinity: no JSON form either way
		}
		if want := generic(t, p); !bytes.Equal(got, want) {
			t.Fatalf("\n got %s\nwant %s", got, want)
		}
	})
}
