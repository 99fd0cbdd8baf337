package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/bizra/bizra/actors/inference"
	"github.com/bizra/bizra/internal/tracing"
)

// Bounds of the evidence a tool-capable backend is handed (groundingMessage).
const (
	maxGroundingExcerpt = 2 << 10
	maxGroundingBytes   = 32 << 10
)

// toolParams are the parameters a tool-capable backend takes for the bizra model.
var toolParams = map[string]bool{"tools": true, "tool_choice": true, "functions": true, "response_format": true}

// toolModel is the model the bizra model hands tools and response_format to (the
// inference service's first tool-capable backend, BackendConfig.Tools); false when
// there is none, and the bizra model refuses them.
func (r *Routes) toolModel() (string, bool) {
	if r.opts.Inference == nil || r.opts.Forward == nil {
		return "", false
	}
	return r.opts.Inference.ToolModel()
}

// bizraTools serves a bizra-model completion with tools, tool_choice, functions or
// response_format through a tool-capable backend (model): the pipeline runs first
// (retrieval over the data lake, its own answer, scores and receipt, all in the
// "bizra" extension), then the client's request goes to that backend unchanged but
// for the model and one system message put first, which carries the evidence the
// pipeline found (sources and excerpts) and asks for citations. The backend's answer
// (tool calls, structured content) reaches the client with "model": "bizra", the
// extension, and usage summed over every upstream call (the pipeline's and this
// one). X-Bizra-Receipt is a receipt over the bytes sent (as for a pass-through); the
// extension's receipt is the pipeline's. A stream is forwarded event by event.
func (r *Routes) bizraTools(ctx *fasthttp.RequestCtx, req *Request, body []byte, model, userID string, start time.Time) {
	if err := r.checkBizra(req); err != nil {
		r.observe(kindBizra, req.Stream, r.writeError(ctx, err), start)
		return
	}
	a, err := r.queryBizra(tracing.WithParent(context.Background(), clientTrace(ctx)), req, userID, start, nil)
	if err != nil {
		r.observe(kindBizra, req.Stream, r.writeError(ctx, err), start)
		return
	}
	nb, err := groundedBody(body, model, a.ext)
	if err != nil {
		r.observe(kindBizra, req.Stream, r.writeError(ctx, err), start)
		return
	}
	freq := ForwardRequest{Path: "/v1/chat/completions", Model: model, Body: nb, Stream: req.Stream,
		Headers: forwardHeaders(ctx), Deadline: start.Add(r.opts.Timeout)}
	if req.Stream {
		if st, cancel, ok := r.openStream(ctx, freq, start); ok {
			r.streamChat(ctx, req, st, cancel, userID, start)
		}
		return
	}
	t0 := r.opts.Now()
	res, err := r.opts.Forward.Forward(context.Background(), freq)
	if err != nil {
		r.observe(kindBizra, false, r.writeError(ctx, err), start)
		return
	}
	u := res.Usage
	if pu := a.res.Detail.Usage; !a.res.Cached {
		u.PromptTokens += pu.PromptTokens
		u.CompletionTokens += pu.CompletionTokens
		u.Reported = u.Reported && pu.Reported
	}
	out, err := bizraToolAnswer(res.Body, a.ext, u)
	if err != nil {
		r.observe(kindBizra, false, r.writeError(ctx, fmt.Errorf("tool backend answer: %v: %w", err, inference.ErrBadResponse)), start)
		return
	}
	r.finishPass(ctx, req, userID, start, res.Status, res.ContentType, out, model, res.Backend, u, r.opts.Now().Sub(t0))
}

// groundedBody is the client's body for the tool-capable backend: "model" set to
// model and a system message with the pipeline's evidence put before the client's
// messages; every other member unchanged.
func groundedBody(body []byte, model string, ext *Extension) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, reqErr("", "invalid_json", "The body is not valid JSON.")
	}
	var msgs []json.RawMessage
	if err := json.Unmarshal(m["messages"], &msgs); err != nil {
		return nil, reqErr("messages", "invalid_type", "Invalid type for 'messages': expected an array.")
	}
	sys, _ := json.Marshal(map[string]string{"role": "system", "content": groundingMessage(ext)})
	all, _ := json.Marshal(append([]json.RawMessage{sys}, msgs...))
	mb, _ := json.Marshal(model)
	m["messages"], m["model"] = all, mb
	return json.Marshal(m)
}

// groundingMessage asks the backend to rest its answer on the pipeline's evidence
// (each excerpt and the whole bounded).
func groundingMessage(ext *Extension) string {
	var b strings.Builder
	b.WriteString("Answer from the local evidence below. After each claim it supports, cite its source in brackets, e.g. [docs/x.md]. ")
	b.WriteString("If the evidence does not answer the question, say so.\n\nEvidence:\n")
	if len(ext.Evidence) == 0 {
		b.WriteString("(none found)\n")
	}
	for _, e := range ext.Evidence {
		ex := e.Excerpt
		if len(ex) > maxGroundingExcerpt {
			ex = unitCut(ex, maxGroundingExcerpt)
		}
		line := "[" + e.Source + "] " + strings.Join(strings.Fields(ex), " ") + "\n"
		if b.Len()+len(line) > maxGroundingBytes {
			break
		}
		b.WriteString(line)
	}
	return b.String()
}

// bizraToolAnswer is the backend's chat completion as the client gets it: "model"
// "bizra", the extension, the summed usage; every other member as the backend sent it.
func bizraToolAnswer(body []byte, ext *Extension, u inference.Usage) ([]byte, error) {
	var m map[string]json.RawMessage
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	eb, err := marshal(ext)
	if err != nil {
		return nil, err
	}
	ub, _ := json.Marshal(Usage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens,
		TotalTokens: u.PromptTokens + u.CompletionTokens})
	m["model"], m["bizra"], m["usage"] = json.RawMessage(`"`+ModelID+`"`), eb, ub
	return json.Marshal(m)
}
