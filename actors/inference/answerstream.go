package inference

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// errStreamBroken: a streamed answer ended before its end marker.
var errStreamBroken = errors.New("inference: answer stream ended early")

// chatStreamed asks for one completion as a stream and hands each visible piece of the
// answer's text to onDelta as it arrives (<think> blocks are left out, as chat's
// answer strips them). Retries (withRetries) happen only until the backend answers
// 2xx. streamed reports whether onDelta was called: after that, a failure is final
// (the pieces cannot be taken back), so the router does not fall back. The result's
// text is the whole answer, stripped as chat's.
func (c *httpClient) chatStreamed(ctx context.Context, model string, msgs []chatMessage, maxTokens int, temp *float64,
	onDelta func(string)) (res chatResult, streamed bool, err error) {
	path, body, err := c.chatBody(model, msgs, maxTokens, temp, true)
	if err != nil {
		return chatResult{}, false, err
	}
	var rc io.ReadCloser
	var cancel context.CancelFunc
	err = c.withRetries(ctx, func() error {
		resp, cl, err := c.open(ctx, path, body, nil)
		if err == nil {
			rc, cancel = resp.Body, cl
		}
		return err
	})
	if err != nil {
		return chatResult{}, false, err
	}
	defer cancel()
	defer rc.Close()
	var acc strings.Builder
	var f thinkFilter
	emit := func(piece string) {
		if acc.Len()+len(piece) > maxResponseBytes {
			return // bounded like a whole answer; the rest is dropped
		}
		acc.WriteString(piece)
		if v := f.feed(piece); v != "" {
			streamed = true
			onDelta(v)
		}
	}
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 0, 16<<10), maxSSELineBytes)
	done := false
	for !done && sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if c.cfg.Kind == KindOllama {
			done, err = ollamaStreamLine(line, &res, emit)
		} else {
			done, err = openAIStreamLine(line, &res, emit)
		}
		if err != nil {
			return chatResult{}, streamed, err
		}
	}
	if !done {
		if ctx.Err() != nil {
			return chatResult{}, streamed, ctxFailure(ctx)
		}
		serr := sc.Err()
		if serr == nil {
			serr = errStreamBroken
		}
		return chatResult{}, streamed, failure(ErrBackend, "stream broken", serr)
	}
	res.Text = stripThink(acc.String())
	if res.Text == "" {
		return chatResult{}, streamed, badResponse("empty response", errors.New("no content"))
	}
	return res, streamed, nil
}

// openAIStreamLine reads one SSE line of an OpenAI chat stream: content to emit, the
// usage (stream_options.include_usage), the model; done at "data: [DONE]".
func openAIStreamLine(line []byte, res *chatResult, emit func(string)) (bool, error) {
	p, ok := sseData(line)
	if !ok {
		return false, nil
	}
	if bytes.Equal(p, []byte("[DONE]")) {
		return true, nil
	}
	var ev struct {
		Model   string `json:"model"`
		Choices []struct {
			Delta struct {
				Content string `json:"content"`
			} `json:"delta"`
		} `json:"choices"`
		Usage *struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
		} `json:"usage"`
		Error json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(p, &ev); err != nil {
		return false, badResponse("malformed stream event", err)
	}
	if hasErrorField(ev.Error) {
		return false, badResponse("error in stream", fmt.Errorf("error event: %.200s", ev.Error))
	}
	if ev.Model != "" {
		res.Model = ev.Model
	}
	if u := ev.Usage; u != nil && u.PromptTokens >= 0 && u.CompletionTokens >= 0 && u.PromptTokens+u.CompletionTokens > 0 {
		res.PromptTokens, res.CompletionTokens, res.UsageReported = u.PromptTokens, u.CompletionTokens, true
	}
	for _, ch := range ev.Choices {
		if ch.Delta.Content != "" {
			emit(ch.Delta.Content)
		}
	}
	return false, nil
}

// ollamaStreamLine reads one line of Ollama's native NDJSON chat stream; done at the
// line with "done": true (which carries the counts).
func ollamaStreamLine(line []byte, res *chatResult, emit func(string)) (bool, error) {
	var ev struct {
		Model   string `json:"model"`
		Message *struct {
			Content string `json:"content"`
		} `json:"message"`
		Done            bool            `json:"done"`
		Error           json.RawMessage `json:"error"`
		PromptEvalCount int             `json:"prompt_eval_count"`
		EvalCount       int             `json:"eval_count"`
	}
	if err := json.Unmarshal(line, &ev); err != nil {
		return false, badResponse("malformed stream line", err)
	}
	if hasErrorField(ev.Error) {
		return false, badResponse("error in stream", fmt.Errorf("error line: %.200s", ev.Error))
	}
	if ev.Model != "" {
		res.Model = ev.Model
	}
	if ev.Message != nil && ev.Message.Content != "" {
		emit(ev.Message.Content)
	}
	if ev.Done && ev.PromptEvalCount >= 0 && ev.EvalCount >= 0 && ev.PromptEvalCount+ev.EvalCount > 0 {
		res.PromptTokens, res.CompletionTokens, res.UsageReported = ev.PromptEvalCount, ev.EvalCount, true
	}
	return ev.Done, nil
}

// thinkFilter passes streamed text on without its <think>…</think> blocks (ASCII case
// insensitive, as stripThink) and without leading white space: feed returns what may
// be shown of the pieces so far. A possible partial tag at a piece's end is held back
// until the next piece decides it.
type thinkFilter struct {
	pending string // held back: a possible partial tag
	inThink bool
	started bool // something visible was returned
}

const (
	thinkOpen  = "<think>"
	thinkClose = "</think>"
)

func (f *thinkFilter) feed(piece string) string {
	buf := f.pending + piece
	f.pending = ""
	var out strings.Builder
	for buf != "" {
		lower := asciiLower(buf)
		if f.inThink {
			i := strings.Index(lower, thinkClose)
			if i < 0 {
				f.pending = buf[len(buf)-partialSuffix(lower, thinkClose):]
				break
			}
			buf, f.inThink = buf[i+len(thinkClose):], false
			continue
		}
		i := strings.Index(lower, thinkOpen)
		if i < 0 {
			n := partialSuffix(lower, thinkOpen)
			out.WriteString(buf[:len(buf)-n])
			f.pending = buf[len(buf)-n:]
			break
		}
		out.WriteString(buf[:i])
		buf, f.inThink = buf[i+len(thinkOpen):], true
	}
	s := out.String()
	if !f.started {
		s = strings.TrimLeft(s, " \t\r\n")
		f.started = s != ""
	}
	return s
}

// partialSuffix is the length of the longest proper prefix of tag that s ends with.
func partialSuffix(s, tag string) int {
	for n := min(len(tag)-1, len(s)); n > 0; n-- {
		if strings.HasSuffix(s, tag[:n]) {
			return n
		}
	}
	return 0
}
