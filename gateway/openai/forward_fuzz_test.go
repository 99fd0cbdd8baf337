package openai

import (
	"errors"
	"testing"
)

// FuzzDecodePass: the pass-through decoder never panics, every refusal is a
// RequestError, and an accepted body has a sane model.
func FuzzDecodePass(f *testing.F) {
	for _, s := range []string{`{"model":"m","input":"a"}`, `{"model":"m","stream":true}`, `{"model":5}`, `[]`, `{"model":"m","stream":"x"}`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodePass(b)
		if err != nil {
			var re *RequestError
			if !errors.As(err, &re) || re.Code == "" || re.Message == "" {
				t.Fatalf("error %v is not a RequestError", err)
			}
			return
		}
		if r.Model == "" || len(r.Model) > MaxModelBytes || !printable(r.Model) {
			t.Fatalf("accepted model %q", r.Model)
		}
	})
}

// FuzzDecodeResponses: the Responses translation never panics, every refusal is a
// RequestError, an accepted request has messages within the limits, and its chat
// body encodes.
func FuzzDecodeResponses(f *testing.F) {
	for _, s := range []string{
		`{"model":"m","input":"a"}`,
		`{"model":"m","instructions":"x","input":[{"role":"user","content":[{"type":"input_text","text":"a"}]},{"type":"message","role":"assistant","content":"b"}],"max_output_tokens":5,"stream":true}`,
		`{"model":"m","input":"a","text":{"format":{"type":"json_schema","name":"n","schema":{"type":"object"}}}}`,
		`{"model":"m","input":[{"type":"function_call"}]}`, `{"model":"m","input":[{"role":"user","content":[{"type":"input_image"}]}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeResponses(b)
		if err != nil {
			var re *RequestError
			if !errors.As(err, &re) || re.Code == "" || re.Message == "" {
				t.Fatalf("error %v is not a RequestError", err)
			}
			return
		}
		if r.Chat.Model == "" || len(r.Chat.Messages) == 0 || len(r.Chat.Messages) > MaxMessages || r.Chat.N != 1 {
			t.Fatalf("accepted %+v", r.Chat)
		}
		if _, err := r.chatBody(); err != nil {
			t.Fatalf("chat body: %v", err)
		}
	})
}
