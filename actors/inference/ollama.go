package inference

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// translateOllama turns one Ollama NDJSON line into an OpenAI chunk (nil when the line
// carries nothing to forward); end is true on the final line.
func (st *ChatStream) translateOllama(line []byte) ([]byte, bool, error) {
	var r struct {
		Message *struct {
			Content string `json:"content"`
		} `json:"message"`
		Done            bool            `json:"done"`
		Error           json.RawMessage `json:"error"`
		PromptEvalCount int             `json:"prompt_eval_count"`
		EvalCount       int             `json:"eval_count"`
	}
	if err := json.Unmarshal(line, &r); err != nil {
		return nil, false, badResponse("malformed stream line", err)
	}
	if hasErrorField(r.Error) {
		return nil, false, badResponse("error in stream", fmt.Errorf("error: %.200s", r.Error))
	}
	type delta struct {
		Role    string `json:"role,omitempty"`
		Content string `json:"content,omitempty"`
	}
	type choice struct {
		Index        int     `json:"index"`
		Delta        delta   `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	}
	type chunk struct {
		ID      string       `json:"id"`
		Object  string       `json:"object"`
		Created int64        `json:"created"`
		Model   string       `json:"model"`
		Choices []choice     `json:"choices"`
		Usage   *openAIUsage `json:"usage,omitempty"`
	}
	mk := func(d delta, finish *string) chunk {
		return chunk{ID: st.id, Object: "chat.completion.chunk", Created: st.created, Model: st.model,
			Choices: []choice{{Delta: d, FinishReason: finish}}}
	}
	if r.Done {
		if r.PromptEvalCount > 0 || r.EvalCount > 0 {
			st.usage = Usage{PromptTokens: r.PromptEvalCount, CompletionTokens: r.EvalCount, Reported: true}
		}
		stop := "stop"
		fin, _ := json.Marshal(mk(delta{}, &stop))
		st.queued = append(st.queued, fin)
		if st.include {
			u := st.Usage()
			c := chunk{ID: st.id, Object: "chat.completion.chunk", Created: st.created, Model: st.model,
				Choices: []choice{}, Usage: &openAIUsage{u.PromptTokens, u.CompletionTokens, u.PromptTokens + u.CompletionTokens}}
			b, _ := json.Marshal(c)
			st.queued = append(st.queued, b)
		}
		return nil, true, nil
	}
	if r.Message == nil || r.Message.Content == "" {
		return nil, false, nil
	}
	d := delta{Content: r.Message.Content}
	if st.chunks == 0 {
		d.Role = "assistant"
	}
	b, err := json.Marshal(mk(d, nil))
	if err != nil {
		return nil, false, badResponse("unencodable chunk", err)
	}
	st.out = b
	return b, false, nil
}

// ollamaKeepAlive keeps the Ollama model loaded between queries (anchors.md 1.6).
const ollamaKeepAlive = "30m"

func decodeOllamaChat(b []byte) (chatResult, error) {
	var r struct {
		Model   string `json:"model"`
		Message *struct {
			Content string `json:"content"`
		} `json:"message"`
		Done            *bool           `json:"done"`
		Error           json.RawMessage `json:"error"`
		PromptEvalCount int             `json:"prompt_eval_count"`
		EvalCount       int             `json:"eval_count"`
	}
	if err := decodeReply(b, &r, &r.Error); err != nil {
		return chatResult{}, err
	}
	if r.Message == nil {
		return chatResult{}, badResponse("empty response", errors.New("no message"))
	}
	if r.Done != nil && !*r.Done {
		return chatResult{}, badResponse("malformed response", errors.New("incomplete (done:false)"))
	}
	text := stripThink(r.Message.Content)
	if text == "" {
		return chatResult{}, badResponse("empty response", errors.New("no content"))
	}
	res := chatResult{Text: text, Model: r.Model}
	if r.PromptEvalCount >= 0 && r.EvalCount >= 0 && r.PromptEvalCount+r.EvalCount > 0 {
		res.PromptTokens, res.CompletionTokens, res.UsageReported = r.PromptEvalCount, r.EvalCount, true
	}
	return res, nil
}

func decodeOllamaTags(b []byte) ([]string, error) {
	var r struct {
		Models []struct {
			Name  string `json:"name"`
			Model string `json:"model"`
		} `json:"models"`
		Error json.RawMessage `json:"error"`
	}
	if err := decodeReply(b, &r, &r.Error); err != nil {
		return nil, err
	}
	var out []string
	for _, m := range r.Models {
		id := strings.TrimSpace(m.Name)
		if id == "" {
			id = strings.TrimSpace(m.Model)
		}
		if id != "" && len(out) < maxModels {
			out = append(out, id)
		}
	}
	return out, nil
}
