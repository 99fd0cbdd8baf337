package openai

import (
	"bufio"
	"context"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/bizra/bizra/actors/query"
)

// Extension is the "bizra" field of a bizra-model completion: what the pipeline
// measured about the answer. Usage counts of the bizra model are estimates (about four
// characters per token), which UsageEstimated says.
type Extension struct {
	QueryID        string           `json:"query_id"`
	Success        bool             `json:"success"`
	Error          *string          `json:"error"`
	ErrorCode      *string          `json:"error_code"`
	Verdict        string           `json:"verdict"`
	Scores         Scores           `json:"scores"`
	Sources        []string         `json:"sources"`
	Evidence       []query.Evidence `json:"evidence"`
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

func (r *Routes) queryRequest(req *Request, userID string) query.Request {
	q := query.NewRequest(req.LastUserMessage())
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
	return q
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

func (r *Routes) bizra(ctx *fasthttp.RequestCtx, req *Request, userID string, start time.Time) {
	if r.opts.Query == nil {
		r.observe(kindBizra, req.Stream, r.writeError(ctx, errModelUnavailable), start)
		return
	}
	if strings.TrimSpace(req.LastUserMessage()) == "" {
		r.observe(kindBizra, req.Stream, r.writeError(ctx, errNoUserMessage), start)
		return
	}
	qreq := r.queryRequest(req, userID)
	cctx, cancel := context.WithTimeout(context.Background(), time.Duration(qreq.TimeoutMs)*time.Millisecond)
	res, err := r.opts.Query(cctx, qreq)
	cancel()
	if err != nil {
		r.observe(kindBizra, req.Stream, r.writeError(ctx, err), start)
		return
	}
	backend := time.Duration(res.Detail.BackendMs * float64(time.Millisecond))
	r.overhead[kindBizra].Update(max(r.opts.Now().Sub(start)-backend, 0).Seconds())
	if res.ReceiptID != "" {
		ctx.Response.Header.Set("X-Bizra-Receipt", res.ReceiptID)
	}
	promptChars := 0
	for _, m := range req.Messages {
		promptChars += len(m.Content)
	}
	text := answerText(&res)
	u := Usage{PromptTokens: estimateTokens(promptChars), CompletionTokens: estimateTokens(len(text))}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	id := "chatcmpl-" + res.QueryID
	created := r.opts.Now().Unix()
	ext := extensionOf(&res)
	if !req.Stream {
		writeJSON(ctx, fasthttp.StatusOK, Completion{ID: id, Object: "chat.completion", Created: created, Model: ModelID,
			Choices: []choice{{Message: assistantMessage{Role: "assistant", Content: text}, FinishReason: "stop"}},
			Usage:   u, Bizra: ext})
		r.observe(kindBizra, false, fasthttp.StatusOK, start)
		return
	}
	// The answer exists in full: stream it as a few chunks, each flushed.
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
	stop := "stop"
	last := mk(delta{}, &stop)
	last.Bizra = ext
	add(last)
	if req.IncludeUsage {
		add(Chunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: ModelID, Choices: []chunkChoice{}, Usage: &u})
	}
	sseHeaders(ctx)
	ctx.SetBodyStreamWriter(r.safeStream(ctx, func(w *bufio.Writer) {
		code := fasthttp.StatusOK
		for _, e := range events {
			w.Write(dataPrefix)
			w.Write(e)
			w.Write(eventEnd)
			if w.Flush() != nil {
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
