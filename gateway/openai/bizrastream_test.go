package openai

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bizra/bizra/actors/inference"
)

// TestBizraStreamsAsItArrives: a streamed bizra-model completion sends the backend's
// pieces as they come (the first content event long before the last chunk), shaped by
// stop and max_tokens on the fly; the last chunk carries finish_reason and the
// extension with the receipt; a failure after the first piece ends the stream with an
// error event and no [DONE].
func TestBizraStreamsAsItArrives(t *testing.T) {
	const delay = 40 * time.Millisecond
	cases := []struct {
		name       string
		body       string
		pieces     []string
		fail       error
		wantText   string
		wantFinish string
	}{
		{"pieces as they arrive", `"messages":[{"role":"user","content":"why is the sky blue?"}]`,
			[]string{"Rayleigh ", "scattering ", "makes the sky ", "blue [docs/sky.md]."}, nil,
			"Rayleigh scattering makes the sky blue [docs/sky.md].", "stop"},
		{"stop across pieces", `"messages":[{"role":"user","content":"why is the sky blue?"}],"stop":["STOP"]`,
			[]string{"The sky is bl", "ue. ST", "OP and more", " text"}, nil, "The sky is blue. ", "stop"},
		{"max_tokens at a word end", `"messages":[{"role":"user","content":"why is the sky blue?"}],"max_tokens":3`,
			[]string{"Rayleigh ", "scattering ", "makes"}, nil, "Rayleigh", "length"},
		{"failure after pieces", `"messages":[{"role":"user","content":"why is the sky blue?"}]`,
			[]string{"Rayleigh ", "scattering "}, inference.ErrBackend, "Rayleigh scattering", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOpts{})
			e.core.pieceDelay = delay
			e.core.pieces.Store(&tc.pieces)
			if tc.fail != nil {
				e.core.failAfter.Store(&tc.fail)
			}
			req, _ := http.NewRequest(http.MethodPost, e.base+"/v1/chat/completions",
				strings.NewReader(`{"model":"bizra","stream":true,`+tc.body+`}`))
			resp, err := client(t).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			var firstContent, end time.Time
			data, _ := sseEvents(t, resp.Body, func(d string) {
				if firstContent.IsZero() && strings.Contains(d, `"content"`) {
					firstContent = time.Now()
				}
				end = time.Now()
			})
			if lead := end.Sub(firstContent); lead < time.Duration(len(tc.pieces)-2)*delay {
				t.Fatalf("first content only %v before the end: not streamed as it arrived", lead)
			}
			if got := chunkText(t, data); got != tc.wantText {
				t.Fatalf("text %q, want %q", got, tc.wantText)
			}
			last := data[len(data)-1]
			if tc.fail != nil {
				if last == "[DONE]" || openAIError(t, []byte(last)).Message == "" {
					t.Fatalf("last event %s, want an error event", last)
				}
				return
			}
			if last != "[DONE]" {
				t.Fatalf("last event %s", last)
			}
			var fin Chunk
			if err := json.Unmarshal([]byte(data[len(data)-2]), &fin); err != nil {
				t.Fatal(err)
			}
			if len(fin.Choices) != 1 || fin.Choices[0].FinishReason == nil || *fin.Choices[0].FinishReason != tc.wantFinish {
				t.Fatalf("final chunk %s", data[len(data)-2])
			}
			if fin.Bizra == nil || fin.Bizra.Receipt == nil || fin.Bizra.Receipt.ReceiptID == "" {
				t.Fatalf("final chunk without the extension's receipt: %s", data[len(data)-2])
			}
		})
	}
}

// FuzzStreamShaper: whatever the pieces, stop sequence and max_tokens, the shaped text
// never contains the stop sequence, never exceeds the max_tokens budget (four bytes a
// token), and the shaper never panics.
func FuzzStreamShaper(f *testing.F) {
	f.Add("The sky is bl", "ue. STOP more", "STOP", 3)
	f.Add("Rayleigh ", "scattering", "", 2)
	f.Fuzz(func(t *testing.T, a, b, stop string, maxTokens int) {
		req := &Request{MaxTokens: min(max(maxTokens, 0), 64)}
		if stop != "" && len(stop) <= MaxStopBytes {
			req.Stop = []string{stop}
		}
		sh := streamShaper{req: req}
		out := sh.feed(a) + sh.feed(b) + sh.flush()
		if len(req.Stop) > 0 && strings.Contains(out, stop) {
			t.Fatalf("%q contains the stop sequence %q", out, stop)
		}
		if req.MaxTokens > 0 && len(out) > req.MaxTokens*4 {
			t.Fatalf("%d bytes for max_tokens %d", len(out), req.MaxTokens)
		}
		if f := sh.finish(); f != "stop" && f != "length" {
			t.Fatalf("finish %q", f)
		}
	})
}
