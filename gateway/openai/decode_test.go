package openai

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bizra/bizra/actors/receipt"
	"github.com/bizra/bizra/internal/canon"
)

const okMsgs = `"messages":[{"role":"user","content":"hi"}]`

func TestDecode(t *testing.T) {
	big := strings.Repeat("x", MaxContentBytes/2+1)
	many := strings.TrimSuffix(strings.Repeat(`{"role":"user","content":"a"},`, MaxMessages+1), ",")
	cases := []struct {
		name, body string
		param      string // "" = valid
		code       string
		check      func(t *testing.T, r Request)
	}{
		{name: "minimal", body: `{"model":"m",` + okMsgs + `}`, check: func(t *testing.T, r Request) {
			if r.Model != "m" || len(r.Messages) != 1 || r.Messages[0].Content != "hi" || r.Stream || r.MaxTokens != 0 || r.Temperature != nil {
				t.Fatalf("%+v", r)
			}
		}},
		{name: "full", body: `{"model":"m",` + okMsgs + `,"max_tokens":1000000,"temperature":2,"top_p":0,"stop":["a","b","c","d"],"stream":true,"stream_options":{"include_usage":true},"user":"u","n":1,"tools":[{"x":1}]}`,
			check: func(t *testing.T, r Request) {
				if r.MaxTokens != 1000000 || *r.Temperature != 2 || *r.TopP != 0 || len(r.Stop) != 4 || !r.Stream || !r.IncludeUsage || r.User != "u" {
					t.Fatalf("%+v", r)
				}
			}},
		{name: "stop string", body: `{"model":"m",` + okMsgs + `,"stop":"END"}`, check: func(t *testing.T, r Request) {
			if len(r.Stop) != 1 || r.Stop[0] != "END" {
				t.Fatalf("%+v", r.Stop)
			}
		}},
		{name: "max_completion_tokens", body: `{"model":"m",` + okMsgs + `,"max_completion_tokens":7}`, check: func(t *testing.T, r Request) {
			if r.MaxTokens != 7 {
				t.Fatalf("%+v", r)
			}
		}},
		{name: "content parts", body: `{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"x"}},{"type":"text","text":"b"}]},{"role":"assistant","content":null,"tool_calls":[]}]}`,
			check: func(t *testing.T, r Request) {
				if r.Messages[0].Content != "a\nb" || r.Messages[1].Content != "" || r.LastUserMessage() != "a\nb" {
					t.Fatalf("%+v", r.Messages)
				}
			}},
		{name: "empty body", body: ``, code: "invalid_json"},
		{name: "array body", body: `[1]`, code: "invalid_json"},
		{name: "truncated", body: `{"model":"m",`, code: "invalid_json"},
		{name: "no model", body: `{` + okMsgs + `}`, param: "model", code: "missing_required_parameter"},
		{name: "model number", body: `{"model":5,` + okMsgs + `}`, param: "model", code: "invalid_type"},
		{name: "empty model", body: `{"model":"",` + okMsgs + `}`, param: "model", code: "invalid_value"},
		{name: "model control char", body: `{"model":"a\u0001",` + okMsgs + `}`, param: "model", code: "invalid_value"},
		{name: "no messages", body: `{"model":"m"}`, param: "messages", code: "missing_required_parameter"},
		{name: "zero messages", body: `{"model":"m","messages":[]}`, param: "messages", code: "invalid_value"},
		{name: "too many messages", body: `{"model":"m","messages":[` + many + `]}`, param: "messages", code: "invalid_value"},
		{name: "content too large", body: `{"model":"m","messages":[{"role":"user","content":"` + big + `"},{"role":"user","content":"` + big + `"}]}`, param: "messages", code: "invalid_value"},
		{name: "bad role", body: `{"model":"m","messages":[{"role":"root","content":"x"}]}`, param: "messages[0].role", code: "invalid_value"},
		{name: "no role", body: `{"model":"m","messages":[{"content":"x"}]}`, param: "messages[0].role", code: "missing_required_parameter"},
		{name: "user null content", body: `{"model":"m","messages":[{"role":"user","content":null}]}`, param: "messages[0].content", code: "missing_required_parameter"},
		{name: "content number", body: `{"model":"m","messages":[{"role":"user","content":1}]}`, param: "messages[0].content", code: "invalid_type"},
		{name: "part without type", body: `{"model":"m","messages":[{"role":"user","content":[{"text":"a"}]}]}`, param: "messages[0].content[0].type", code: "missing_required_parameter"},
		{name: "max_tokens 0", body: `{"model":"m",` + okMsgs + `,"max_tokens":0}`, param: "max_tokens", code: "invalid_value"},
		{name: "max_tokens too big", body: `{"model":"m",` + okMsgs + `,"max_tokens":1000001}`, param: "max_tokens", code: "invalid_value"},
		{name: "max_tokens float", body: `{"model":"m",` + okMsgs + `,"max_tokens":1.5}`, param: "max_tokens", code: "invalid_type"},
		{name: "max_tokens string", body: `{"model":"m",` + okMsgs + `,"max_tokens":"5"}`, param: "max_tokens", code: "invalid_type"},
		{name: "temperature negative", body: `{"model":"m",` + okMsgs + `,"temperature":-0.1}`, param: "temperature", code: "invalid_value"},
		{name: "temperature over 2", body: `{"model":"m",` + okMsgs + `,"temperature":2.01}`, param: "temperature", code: "invalid_value"},
		{name: "top_p over 1", body: `{"model":"m",` + okMsgs + `,"top_p":1.5}`, param: "top_p", code: "invalid_value"},
		{name: "stop five", body: `{"model":"m",` + okMsgs + `,"stop":["a","b","c","d","e"]}`, param: "stop", code: "invalid_value"},
		{name: "stop number", body: `{"model":"m",` + okMsgs + `,"stop":5}`, param: "stop", code: "invalid_type"},
		{name: "stop empty string", body: `{"model":"m",` + okMsgs + `,"stop":[""]}`, param: "stop", code: "invalid_value"},
		{name: "stream string", body: `{"model":"m",` + okMsgs + `,"stream":"yes"}`, param: "stream", code: "invalid_type"},
		{name: "stream_options without stream", body: `{"model":"m",` + okMsgs + `,"stream_options":{"include_usage":true}}`, param: "stream_options", code: "invalid_value"},
		{name: "n 0", body: `{"model":"m",` + okMsgs + `,"n":0}`, param: "n", code: "invalid_value"},
		{name: "n past MaxN", body: `{"model":"m",` + okMsgs + `,"n":129}`, param: "n", code: "invalid_value"},
		{name: "user too long", body: `{"model":"m",` + okMsgs + `,"user":"` + strings.Repeat("u", MaxUserBytes+1) + `"}`, param: "user", code: "invalid_value"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Decode([]byte(tc.body))
			if tc.code == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				tc.check(t, r)
				return
			}
			var re *RequestError
			if !errors.As(err, &re) || !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("want a RequestError, got %v", err)
			}
			if re.Param != tc.param || re.Code != tc.code || re.Message == "" {
				t.Fatalf("got param %q code %q (%s), want %q %q", re.Param, re.Code, re.Message, tc.param, tc.code)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/requests/*.json")
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"model":"m",` + okMsgs + `,"stop":["a"],"temperature":1,"stream":true}`))
	f.Add([]byte(`{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a"}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Decode(b)
		if err != nil {
			var re *RequestError
			if !errors.As(err, &re) || re.Code == "" || re.Message == "" {
				t.Fatalf("error %v is not a RequestError", err)
			}
			return
		}
		// every accepted request keeps the limits
		total := 0
		for _, m := range r.Messages {
			total += len(m.Content)
		}
		if r.Model == "" || len(r.Messages) == 0 || len(r.Messages) > MaxMessages || total > MaxContentBytes ||
			r.MaxTokens < 0 || r.MaxTokens > MaxTokensLimit || len(r.Stop) > MaxStop ||
			(r.Temperature != nil && (*r.Temperature < 0 || *r.Temperature > 2)) || (r.TopP != nil && (*r.TopP < 0 || *r.TopP > 1)) {
			t.Fatalf("accepted out of limits: %+v", r)
		}
	})
}

// TestGoldenReceiptDigests checks the receipt params and payload against digests
// computed by testdata/openai/gen_golden.py (python hashlib and json, not our code).
func TestGoldenReceiptDigests(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/openai/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		ResponseB64         string          `json:"response_b64"`
		Params              json.RawMessage `json:"params"`
		QueryDigest         string          `json:"query_digest"`
		Payload             receiptPayload  `json:"payload"`
		PayloadDigest       string          `json:"payload_digest"`
		StreamChunks        []string        `json:"stream_chunks"`
		StreamPayload       receiptPayload  `json:"stream_payload"`
		StreamPayloadDigest string          `json:"stream_payload_digest"`
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	// the request as a client would send it, through the decoder
	body := `{"model":"mock-small","messages":[{"role":"system","content":"be brief"},` +
		`{"role":"user","content":"Why is the sky blue? éè \"quoted\""},{"role":"assistant","content":"","name":"helper"}],` +
		`"max_tokens":64,"temperature":0.2,"stop":["\n\n","END"],"user":"u-1"}`
	req, err := Decode([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	r := &Routes{}
	if d, _ := canon.Digest(receipt.DomainQuery, r.params(&req, "key-0011aabb")); d != g.QueryDigest {
		t.Fatalf("query_digest %s, golden %s", d, g.QueryDigest)
	}
	resp, _ := base64.StdEncoding.DecodeString(g.ResponseB64)
	sum := sha256.Sum256(resp)
	p := receiptPayload{ResponseSHA256: hex.EncodeToString(sum[:]), Model: "mock-small", Backend: "llm",
		PromptTokens: 3, CompletionTokens: 2, UsageReported: true, Outcome: "ok"}
	if d, _ := canon.Digest(receipt.DomainPayload, p); d != g.PayloadDigest || p != g.Payload {
		t.Fatalf("payload_digest %s, golden %s", d, g.PayloadDigest)
	}
	h := sha256.New()
	for _, c := range g.StreamChunks {
		h.Write([]byte(c + "\n"))
	}
	sp := p
	sp.ResponseSHA256, sp.Chunks, sp.UsageReported = hex.EncodeToString(h.Sum(nil)), len(g.StreamChunks), false
	if d, _ := canon.Digest(receipt.DomainPayload, sp); d != g.StreamPayloadDigest {
		t.Fatalf("stream payload_digest %s, golden %s", d, g.StreamPayloadDigest)
	}
}

func TestSplitAnswer(t *testing.T) {
	for _, s := range []string{"", "one", "a b c d e f g h i j k l m n o p", strings.Repeat("word ", 50)} {
		parts := splitAnswer(s, 4)
		if strings.Join(parts, "") != s || len(parts) > 4 || (s != "" && len(parts) == 0) {
			t.Fatalf("%q → %q", s, parts)
		}
	}
	if n := len(splitAnswer(strings.Repeat("word ", 50), 4)); n != 4 {
		t.Fatalf("%d pieces", n)
	}
}
