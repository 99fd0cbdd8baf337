package openai

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/valyala/fasthttp"

	"github.com/bizra/bizra/actors/inference"
	"github.com/bizra/bizra/actors/query"
	"github.com/bizra/bizra/internal/tracing"
)

// Extension is the "bizra" field of a bizra-model completion: what the pipeline
// measured about the answer. When external backends answered, the bizra model's usage
// is what their calls (decomposition and answer) really sent and received; for the
// embedded engine (or a cache hit, which sends nothing) it is an estimate (about four
// characters per token). UsageEstimated says which.
type Extension struct {
	QueryID        string           `json:"query_id"`
	Success        bool             `json:"success"`
	Error          *string          `json:"error"`
	ErrorCode      *string          `json:"error_code"`
	Verdict        string           `json:"verdict"`
	Scores         Scores           `json:"scores"`
	Sources        []string         `json:"sources"`
	Evidence       []query.Evidence `json:"evidence"`
	Citations      []query.Citation `json:"citations"` // the source of each "[n]" marker of the answer
	Receipt        *ReceiptRef      `json:"receipt"`
	Degraded       bool             `json:"degraded"`
	DegradedReason *string          `json:"degraded_reason"`
	Cached         bool             `json:"cached"`
	ModelUsed      string           `json:"model_used"`
	GraphHash      string           `json:"graph_hash"`
	Reasoning      ReasoningInfo    `json:"reasoning"`
	Validation     ValidationInfo   `json:"validation"`
	Timing         Timing           `json:"timing"`
	UsageEstimated bool             `json:"usage_estimated"`
}

// Scores are the answer's quality scores (nil: not measured).
type Scores struct {
	SNR        *float64           `json:"snr"`
	Ihsan      *float64           `json:"ihsan"`
	SNROK      bool               `json:"snr_ok"`
	Components map[string]float64 `json:"components,omitempty"`
}

// ReceiptRef is the query's receipt as the response carries it at once.
type ReceiptRef struct {
	ReceiptID string `json:"receipt_id"`
	LeafHash  string `json:"leaf_hash"`
	Status    string `json:"status"`
}

// ReasoningInfo summarises the graph of thought.
type ReasoningInfo struct {
	Used  bool `json:"used"`
	Depth int  `json:"depth"`
	Nodes int  `json:"nodes"`
	Edges int  `json:"edges"`
}

// ValidationInfo is the validation outcome.
type ValidationInfo struct {
	Performed bool     `json:"performed"`
	Passed    bool     `json:"passed"`
	Issues    []string `json:"issues"`
}

// Timing is where the query's time went.
type Timing struct {
	TotalMs    float64 `json:"total_ms"`
	OverheadMs float64 `json:"overhead_ms"`
	BackendMs  float64 `json:"backend_ms"`
}

// Usage is OpenAI's usage object.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

type assistantMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type choice struct {
	Index        int              `json:"index"`
	Message      assistantMessage `json:"message"`
	FinishReason string           `json:"finish_reason"`
}

// Completion is a chat.completion object (the bizra model's answers).
type Completion struct {
	ID      string     `json:"id"`
	Object  string     `json:"object"`
	Created int64      `json:"created"`
	Model   string     `json:"model"`
	Choices []choice   `json:"choices"`
	Usage   Usage      `json:"usage"`
	Bizra   *Extension `json:"bizra,omitempty"`
}

type delta struct {
	Role    string `json:"role,omitempty"`
	Content string `json:"content,omitempty"`
}

type chunkChoice struct {
	Index        int     `json:"index"`
	Delta        delta   `json:"delta"`
	FinishReason *string `json:"finish_reason"`
}

// Chunk is a chat.completion.chunk object.
type Chunk struct {
	ID      string        `json:"id"`
	Object  string        `json:"object"`
	Created int64         `json:"created"`
	Model   string        `json:"model"`
	Choices []chunkChoice `json:"choices"`
	Usage   *Usage        `json:"usage,omitempty"`
	Bizra   *Extension    `json:"bizra,omitempty"`
}

// estimateTokens is about four characters per token.
func estimateTokens(chars int) int { return (chars + 3) / 4 }

// queryRequest is the pipeline request of a bizra-model conversation. The retrieval
// query is the last user message, preceded by the earlier user turns that fit in
// query.MaxQueryChars (most recent kept first), so a follow-up question retrieves
// with what it follows up on. Everything else that shapes the answer enters the
// request's Context, which is part of the result-cache key: "conversation" is the
// SHA-256 of every message but the last user one (system and developer instructions,
// earlier turns, assistant answers), so a different system prompt or history never
// gets another conversation's cached answer; "max_tokens" and "temperature" go to an
// external backend when the pipeline uses one (the embedded extractive engine is
// deterministic and ignores temperature).
func (r *Routes) queryRequest(req *Request, userID string) query.Request {
	q := query.NewRequest(retrievalQuery(req))
	q.UserID = userID
	if q.UserID == "" {
		q.UserID = req.User
	}
	if len(q.UserID) > 128 {
		q.UserID = q.UserID[:128]
	}
	q.Method = Method
	ms := r.opts.Timeout.Milliseconds()
	q.TimeoutMs = int(min(max(ms, 1000), 600000))
	ctx := map[string]any{}
	if d, ok := conversationDigest(req); ok {
		ctx["conversation"] = d
	}
	if req.MaxTokens > 0 {
		ctx["max_tokens"] = req.MaxTokens
	}
	if req.Temperature != nil {
		ctx["temperature"] = *req.Temperature
	}
	if len(ctx) > 0 {
		q.Context = ctx
	}
	return q
}

// lastUser is the index of the last user message (-1: none).
func lastUser(req *Request) int {
	for i := len(req.Messages) - 1; i >= 0; i-- {
		if req.Messages[i].Role == "user" {
			return i
		}
	}
	return -1
}

// retrievalQuery is the last user message, preceded by earlier user turns (oldest
// first, newline-separated) while the whole stays within query.MaxQueryChars.
func retrievalQuery(req *Request) string {
	last := lastUser(req)
	if last < 0 {
		return ""
	}
	q := req.Messages[last].Content
	if utf8.RuneCountInString(q) > query.MaxQueryChars {
		return q // the pipeline refuses it with its own error
	}
	budget := query.MaxQueryChars - utf8.RuneCountInString(q)
	var earlier []string
	for i := last - 1; i >= 0; i-- {
		m := req.Messages[i]
		if m.Role != "user" || strings.TrimSpace(m.Content) == "" {
			continue
		}
		n := utf8.RuneCountInString(m.Content) + 1
		if n > budget {
			break
		}
		budget -= n
		earlier = append(earlier, m.Content)
	}
	if len(earlier) == 0 {
		return q
	}
	slices.Reverse(earlier)
	return strings.Join(earlier, "\n") + "\n" + q
}

// conversationDigest is the SHA-256 (hex) of every message except the last user one;
// false when that is all the conversation holds.
func conversationDigest(req *Request) (string, bool) {
	last := lastUser(req)
	if len(req.Messages) <= 1 && last == 0 {
		return "", false
	}
	h := sha256.New()
	for i, m := range req.Messages {
		if i == last {
			h.Write([]byte("\x00last\x00"))
			continue
		}
		// length-prefixed, so that no two conversations share an encoding
		fmt.Fprintf(h, "%d:%s%d:%s%d:%s", len(m.Role), m.Role, len(m.Name), m.Name, len(m.Content), m.Content)
	}
	return hex.EncodeToString(h.Sum(nil)), true
}

// unitCut is the longest prefix of text of at most maxBytes that ends at a unit
// boundary: a sentence end if there is one in the second half of the budget, else a
// word end; never inside a word (an over-long first word gives "").
func unitCut(text string, maxBytes int) string {
	if len(text) <= maxBytes {
		return text
	}
	cut := text[:maxBytes]
	if !isSpace(text[maxBytes]) {
		// the byte after the cut is inside a word: back up to the last space
		i := strings.LastIndexFunc(cut, unicode.IsSpace)
		if i < 0 {
			return ""
		}
		cut = cut[:i]
	}
	cut = strings.TrimRightFunc(cut, unicode.IsSpace)
	if i := strings.LastIndexAny(cut, ".!?"); i >= len(cut)/2 && i >= 0 {
		cut = cut[:i+1]
	}
	return cut
}

func isSpace(b byte) bool { return b == ' ' || b == '\n' || b == '\t' || b == '\r' }

// shape applies stop and max_tokens to an answer: it is cut before the first stop
// sequence (finish "stop"), then at a unit boundary within max_tokens (estimated at
// four bytes per token, the estimate usage reports; finish "length").
func shape(text string, req *Request) (string, string) {
	first := -1
	for _, s := range req.Stop {
		if i := strings.Index(text, s); i >= 0 && (first < 0 || i < first) {
			first = i
		}
	}
	if first >= 0 {
		text = text[:first]
	}
	if req.MaxTokens > 0 && estimateTokens(len(text)) > req.MaxTokens {
		return unitCut(text, req.MaxTokens*4), "length"
	}
	return text, "stop"
}

// toolsServed says whether req's only unsupported parameters are tool ones that a
// tool-capable backend takes (bizraTools).
func (r *Routes) toolsServed(req *Request) bool {
	if !toolParams[req.Unsupported] {
		return false
	}
	_, ok := r.toolModel()
	return ok
}

// refuseBizra is the 400 of a parameter the bizra model cannot honour; tools says
// that tools, tool_choice, functions and response_format go to a tool-capable backend.
func refuseBizra(req *Request, tools bool) error {
	if req.Unsupported != "" && !(tools && toolParams[req.Unsupported]) {
		return &RequestError{Param: req.Unsupported, Code: "unsupported_parameter",
			Message: fmt.Sprintf("Unsupported parameter: '%s' is not supported by the %s model (it answers with text from local evidence, and no tool-capable backend is configured); use a model served by a backend.", req.Unsupported, ModelID)}
	}
	if req.N > 1 {
		return &RequestError{Param: "n", Code: "unsupported_value",
			Message: fmt.Sprintf("Unsupported value: 'n' must be 1 for the %s model.", ModelID)}
	}
	if req.ContentBytes > MaxContentBytes {
		return reqErr("messages", "invalid_value", "Invalid 'messages': the contents exceed %d bytes in total.", MaxContentBytes)
	}
	return nil
}

func extensionOf(res *query.Result) *Extension {
	ext := &Extension{QueryID: res.QueryID, Success: res.Success, Error: res.Error, Verdict: res.Verdict,
		Scores:   Scores{SNR: res.SNRScore, Ihsan: res.IhsanScore, SNROK: res.SNROK, Components: res.Detail.Components},
		Evidence: res.Evidence, Degraded: res.Degraded, DegradedReason: res.DegradedReason, Cached: res.Cached,
		ModelUsed: res.ModelUsed, GraphHash: res.GraphHash,
		Reasoning:      ReasoningInfo{Used: res.ReasoningUsed, Depth: res.ReasoningDepth, Nodes: res.Detail.Nodes, Edges: res.Detail.Edges},
		Validation:     ValidationInfo{Performed: res.Validated, Passed: res.ValidationPassed, Issues: res.ValidationIssues},
		Timing:         Timing{TotalMs: res.Detail.TotalMs, OverheadMs: res.Detail.OverheadMs, BackendMs: res.Detail.BackendMs},
		UsageEstimated: true, Sources: []string{}}
	if ext.Evidence == nil {
		ext.Evidence = []query.Evidence{}
	}
	if ext.Citations = res.Detail.Citations; ext.Citations == nil {
		ext.Citations = []query.Citation{}
	}
	if ext.Validation.Issues == nil {
		ext.Validation.Issues = []string{}
	}
	seen := map[string]bool{}
	for _, e := range ext.Evidence {
		if !seen[e.Source] {
			seen[e.Source] = true
			ext.Sources = append(ext.Sources, e.Source)
		}
	}
	if res.Detail.ErrorCode != "" {
		c := res.Detail.ErrorCode
		ext.ErrorCode = &c
	}
	if res.ReceiptID != "" {
		ext.Receipt = &ReceiptRef{ReceiptID: res.ReceiptID, LeafHash: res.Detail.LeafHash, Status: res.Detail.ReceiptStatus}
	}
	return ext
}

// answerText is the assistant message: the answer, or the public error of a query
// that ran without producing one.
func answerText(res *query.Result) string {
	if res.Response == "" && res.Error != nil {
		return *res.Error
	}
	return res.Response
}

// bizraAnswer is a finished bizra-model answer, shaped by stop and max_tokens.
type bizraAnswer struct {
	res    query.Result
	text   string
	finish string
	usage  Usage
	ext    *Extension
}

// runBizra checks the request against what the bizra model can do and runs the
// pipeline. start is the request's start (for the overhead metric); the client's
// traceparent, when valid, goes to the pipeline in the query's context.
func (r *Routes) runBizra(req *Request, userID string, start time.Time, trace tracing.Parent) (bizraAnswer, error) {
	if err := r.checkBizra(req); err != nil {
		return bizraAnswer{}, err
	}
	return r.queryBizra(tracing.WithParent(context.Background(), trace), req, userID, start, nil)
}

// checkBizra refuses what the bizra model cannot do before the pipeline runs.
func (r *Routes) checkBizra(req *Request) error {
	if r.opts.Query == nil {
		return errModelUnavailable
	}
	if err := refuseBizra(req, r.toolsServed(req)); err != nil {
		return err
	}
	if strings.TrimSpace(req.LastUserMessage()) == "" {
		return errNoUserMessage
	}
	return nil
}

// queryBizra runs the pipeline for a checked request (checkBizra); onDelta, when set,
// receives the answer's text as a backend streams it (query.Request.OnDelta).
func (r *Routes) queryBizra(ctx context.Context, req *Request, userID string, start time.Time, onDelta func(string)) (bizraAnswer, error) {
	qreq := r.queryRequest(req, userID)
	qreq.OnDelta = onDelta
	cctx, cancel := context.WithTimeout(ctx, time.Duration(qreq.TimeoutMs)*time.Millisecond)
	res, err := r.opts.Query(cctx, qreq)
	cancel()
	if err != nil {
		return bizraAnswer{}, err
	}
	backend := time.Duration(res.Detail.BackendMs * float64(time.Millisecond))
	r.overhead[kindBizra].Update(max(r.opts.Now().Sub(start)-backend, 0).Seconds())
	promptChars := 0
	for _, m := range req.Messages {
		promptChars += len(m.Content)
	}
	a := bizraAnswer{res: res, ext: extensionOf(&res)}
	a.text, a.finish = shape(answerText(&res), req)
	a.usage = Usage{PromptTokens: estimateTokens(promptChars), CompletionTokens: estimateTokens(len(a.text))}
	if u := res.Detail.Usage; !res.Cached && u != (inference.Usage{}) {
		// external backends answered: what their calls (decomposition and answer) really
		// sent and received; a cache hit sent nothing, so it keeps the estimate
		a.usage = Usage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens}
		a.ext.UsageEstimated = !u.Reported
	}
	a.usage.TotalTokens = a.usage.PromptTokens + a.usage.CompletionTokens
	return a, nil
}

// clientTrace is the request's valid traceparent header (an invalid one is ignored,
// as W3C Trace Context requires).
func clientTrace(ctx *fasthttp.RequestCtx) tracing.Parent {
	p, _ := tracing.ParseBytes(ctx.Request.Header.Peek("traceparent"))
	return p
}

func (r *Routes) bizra(ctx *fasthttp.RequestCtx, req *Request, userID string, start time.Time) {
	if req.Stream {
		r.bizraStream(ctx, req, userID, start)
		return
	}
	a, err := r.runBizra(req, userID, start, clientTrace(ctx))
	if err != nil {
		r.observe(kindBizra, req.Stream, r.writeError(ctx, err), start)
		return
	}
	if a.res.ReceiptID != "" {
		ctx.Response.Header.Set("X-Bizra-Receipt", a.res.ReceiptID)
	}
	text, u, ext := a.text, a.usage, a.ext
	id := "chatcmpl-" + a.res.QueryID
	created := r.opts.Now().Unix()
	writeJSON(ctx, fasthttp.StatusOK, Completion{ID: id, Object: "chat.completion", Created: created, Model: ModelID,
		Choices: []choice{{Message: assistantMessage{Role: "assistant", Content: text}, FinishReason: a.finish}},
		Usage:   u, Bizra: ext})
	r.observe(kindBizra, false, fasthttp.StatusOK, start)
}

// streamWhole streams an answer that exists in full (a cache hit, the embedded
// engine's, or one that could not be streamed as it came) as a few chunks, each flushed.
func (r *Routes) streamWhole(ctx *fasthttp.RequestCtx, req *Request, a bizraAnswer, start time.Time) {
	if a.res.ReceiptID != "" {
		ctx.Response.Header.Set("X-Bizra-Receipt", a.res.ReceiptID)
	}
	text, u, ext := a.text, a.usage, a.ext
	id := "chatcmpl-" + a.res.QueryID
	created := r.opts.Now().Unix()
	mk := func(d delta, finish *string) Chunk {
		return Chunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: ModelID,
			Choices: []chunkChoice{{Delta: d, FinishReason: finish}}}
	}
	var events [][]byte
	add := func(c Chunk) {
		b, err := marshal(c)
		if err == nil {
			events = append(events, b)
		}
	}
	add(mk(delta{Role: "assistant"}, nil))
	for _, piece := range splitAnswer(text, 4) {
		add(mk(delta{Content: piece}, nil))
	}
	finish := a.finish
	last := mk(delta{}, &finish)
	last.Bizra = ext
	add(last)
	if req.IncludeUsage {
		add(Chunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: ModelID, Choices: []chunkChoice{}, Usage: &u})
	}
	sseHeaders(ctx)
	ctx.SetBodyStreamWriter(r.safeStream(ctx, func(w *bufio.Writer) {
		code := fasthttp.StatusOK
		for _, e := range events {
			if !sendData(w, e) {
				code = 499
				r.mDisconn.Inc()
				break
			}
		}
		if code == fasthttp.StatusOK {
			w.Write(doneEvent)
			_ = w.Flush()
		}
		r.observe(kindBizra, true, code, start)
	}))
}

// splitAnswer cuts text into at most n pieces at word boundaries, of about equal
// length; concatenated they give text back exactly.
func splitAnswer(text string, n int) []string {
	if text == "" {
		return nil
	}
	target := len(text)/n + 1
	var out []string
	for len(text) > 0 && len(out) < n-1 {
		if len(text) <= target {
			break
		}
		cut := strings.IndexByte(text[target:], ' ')
		if cut < 0 {
			break
		}
		cut += target
		out = append(out, text[:cut])
		text = text[cut:]
	}
	return append(out, text)
}
