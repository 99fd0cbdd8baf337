package openai

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/bizra/bizra/actors/inference"
	"github.com/bizra/bizra/actors/receipt"
	"github.com/bizra/bizra/internal/catalog"
)

// receiptParams is what a pass-through receipt's query_digest digests: the request's
// parameters as the front decoded them (canonical, so key order and whitespace of the
// client's body do not matter).
type receiptParams struct {
	Model       string    `json:"model"`
	Messages    []Message `json:"messages"`
	MaxTokens   int       `json:"max_tokens"`
	Temperature *float64  `json:"temperature"`
	TopP        *float64  `json:"top_p"`
	Stop        []string  `json:"stop"`
	Stream      bool      `json:"stream"`
	User        string    `json:"user"`
	UserID      string    `json:"user_id"`
}

// receiptPayload is what its payload_digest digests: the SHA-256 of the response bytes
// (for a stream: of every forwarded chunk payload, each followed by "\n"), the backend
// and the usage.
type receiptPayload struct {
	ResponseSHA256   string `json:"response_sha256"`
	Model            string `json:"model"`
	Backend          string `json:"backend"`
	PromptTokens     int    `json:"prompt_tokens"`
	CompletionTokens int    `json:"completion_tokens"`
	UsageReported    bool   `json:"usage_reported"`
	Chunks           int    `json:"chunks,omitempty"`
	Outcome          string `json:"outcome"`
}

func (r *Routes) params(req *Request, userID string) receiptParams {
	return receiptParams{Model: req.Model, Messages: req.Messages, MaxTokens: req.MaxTokens,
		Temperature: req.Temperature, TopP: req.TopP, Stop: req.Stop, Stream: req.Stream,
		User: req.User, UserID: userID}
}

// issue issues a pass-through receipt and returns it once it is durable. ok is false
// without a receipt service (no receipt, not an error); err is a receipt that could not
// be issued (counted), which fails the request: an answer is never sent as done
// without its receipt.
func (r *Routes) issue(params receiptParams, payload receiptPayload, status, reason string, d time.Duration) (ref receipt.Ref, ok bool, err error) {
	if r.opts.Receipts == nil {
		return receipt.Ref{}, false, nil
	}
	ref, err = r.opts.Receipts.Issue(receipt.Input{Kind: receipt.KindQuery, Status: status, Method: Method,
		Params: params, Payload: payload, GatePassed: status == receipt.StatusAccepted, Reason: reason, Duration: d})
	if err != nil {
		r.mRcptFail.Inc()
		r.log.Debug("pass-through receipt not issued", "err", err)
		return receipt.Ref{}, false, err
	}
	return ref, true, nil
}

func (r *Routes) passThrough(ctx *fasthttp.RequestCtx, req *Request, body []byte, userID string, start time.Time) {
	if r.opts.Forward == nil {
		r.observe(kindPass, req.Stream, r.writeError(ctx, inference.ErrModelNotFound), start)
		return
	}
	r.passForward(ctx, req, body, userID, start)
}

// passForward serves a pass-through chat completion through Options.Forward: the
// body unchanged, traceparent and X-Request-Id forwarded.
func (r *Routes) passForward(ctx *fasthttp.RequestCtx, req *Request, body []byte, userID string, start time.Time) {
	freq := ForwardRequest{Path: "/v1/chat/completions", Model: req.Model, Body: bytes.Clone(body), Stream: req.Stream,
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
		r.observe(kindPass, false, r.writeError(ctx, err), start)
		return
	}
	r.finishPass(ctx, req, userID, start, res.Status, res.ContentType, res.Body, req.Model, res.Backend, res.Usage, r.opts.Now().Sub(t0))
}

// finishPass issues the receipt of a pass-through answer (it fails the request when
// it cannot be issued) and sends the backend's body unchanged.
func (r *Routes) finishPass(ctx *fasthttp.RequestCtx, req *Request, userID string, start time.Time, status int, contentType string,
	body []byte, model, backend string, u inference.Usage, backendTime time.Duration) {
	sum := sha256.Sum256(body)
	ref, ok, err := r.issue(r.params(req, userID), receiptPayload{ResponseSHA256: hex.EncodeToString(sum[:]),
		Model: model, Backend: backend, PromptTokens: u.PromptTokens,
		CompletionTokens: u.CompletionTokens, UsageReported: u.Reported, Outcome: "ok"},
		receipt.StatusAccepted, receipt.ReasonOK, r.opts.Now().Sub(start))
	if err != nil {
		r.observe(kindPass, false, r.writeError(ctx, err), start)
		return
	}
	if ok {
		ctx.Response.Header.Set("X-Bizra-Receipt", ref.ReceiptID)
	}
	overhead := r.opts.Now().Sub(start) - backendTime
	r.overhead[kindPass].Update(max(overhead, 0).Seconds())
	ctx.Response.Header.Set("X-Overhead-Ms", strconv.FormatFloat(float64(max(overhead, 0).Microseconds())/1000, 'f', 3, 64))
	if status < 200 || status > 299 {
		status = fasthttp.StatusOK
	}
	if contentType == "" {
		contentType = "application/json"
	}
	ctx.SetStatusCode(status)
	ctx.SetContentType(contentType)
	ctx.Response.SetBodyRaw(body)
	r.observe(kindPass, false, status, start)
}

// writeData writes one SSE data event ("data: <payload>\n\n") to w.
func writeData(w *bufio.Writer, payload []byte) {
	w.Write(dataPrefix)
	w.Write(payload)
	w.Write(eventEnd)
}

// sendData writes one SSE data event and flushes it; false means the client went away.
func sendData(w *bufio.Writer, payload []byte) bool {
	writeData(w, payload)
	return w.Flush() == nil
}

// sseHeaders sets the response headers of an event stream.
func sseHeaders(ctx *fasthttp.RequestCtx) {
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType("text/event-stream; charset=utf-8")
	ctx.Response.Header.Set("Cache-Control", "no-cache")
	ctx.Response.Header.Set("X-Accel-Buffering", "no")
}

var (
	dataPrefix = []byte("data: ")
	eventEnd   = []byte("\n\n")
	doneEvent  = []byte("data: [DONE]\n\n")
)

// streamChat forwards an opened chat stream from fasthttp's body-writer goroutine and
// issues its receipt at the end; cancel ends the stream's context.
func (r *Routes) streamChat(ctx *fasthttp.RequestCtx, req *Request, st ForwardStream, cancel context.CancelFunc, userID string, start time.Time) {
	params := r.params(req, userID)
	model, reqID := req.Model, requestID(ctx)
	sseHeaders(ctx)
	ctx.SetBodyStreamWriter(r.safeStream(ctx, func(w *bufio.Writer) {
		defer cancel()
		h := sha256.New()
		chunks, outcome, status := 0, "ok", receipt.StatusAccepted
		var streamErr error
		for {
			c, err := st.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				streamErr, outcome, status = err, "backend_failed", receipt.StatusRejected
				break
			}
			chunks++
			h.Write(c)
			h.Write([]byte{'\n'})
			if !sendData(w, c) {
				outcome, status = "client_disconnected", receipt.StatusRejected
				r.mDisconn.Inc()
				break
			}
		}
		u := st.Usage()
		backend := st.Backend()
		_ = st.Close() // ends the backend request now if it still runs
		reason := receipt.ReasonOK
		if outcome != "ok" {
			reason = outcome
		}
		ref, ok, rerr := r.issue(params, receiptPayload{ResponseSHA256: hex.EncodeToString(h.Sum(nil)), Model: model,
			Backend: backend, PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens,
			UsageReported: u.Reported, Chunks: chunks, Outcome: outcome}, status, reason, r.opts.Now().Sub(start))
		code := fasthttp.StatusOK
		if rerr != nil && outcome == "ok" {
			// The answer was streamed but its receipt is not durable: end the stream with
			// an error event instead of [DONE], so the client does not take it as done.
			outcome, streamErr = "receipt_failed", rerr
		}
		switch outcome {
		case "client_disconnected":
			code = 499 // nginx's "client closed request", for the metrics only
		case "backend_failed", "receipt_failed":
			var msg apiError
			code, msg = streamError(streamErr)
			b, _ := json.Marshal(msg)
			writeData(w, b)
			r.log.Debug("pass-through stream failed", "req_id", reqID, "err", streamErr)
		default:
			if ok {
				w.WriteString(": bizra ")
				b, _ := json.Marshal(map[string]any{"receipt": ref})
				w.Write(b)
				w.Write(eventEnd)
			}
			w.Write(doneEvent)
		}
		_ = w.Flush()
		r.observe(kindPass, true, code, start)
	}))
}

func ptr[T any](v T) *T { return &v }

// streamError is the status (for the metrics) and the error event of a stream that
// failed after its first byte: an upstream error unchanged, else the catalog's.
func streamError(err error) (int, apiError) {
	var ue *UpstreamError
	if errors.As(err, &ue) {
		return ue.Status, apiError{Error: upstreamBody(ue)}
	}
	p := catalog.Lookup(err)
	return p.HTTP, apiError{Error: apiErrorBody{Message: p.Message, Type: errorType(p.HTTP), Code: ptr(openAICode(p.HTTP, p.Code))}}
}

// forwardHeaders are the request headers passed upstream: the trace context and the
// request id (the client's, or the gateway's own when it sent none or an unusable one).
func forwardHeaders(ctx *fasthttp.RequestCtx) map[string]string {
	h := make(map[string]string, 3)
	for _, name := range [...]string{"traceparent", "tracestate"} {
		if v := ctx.Request.Header.Peek(name); len(v) > 0 && len(v) <= 512 && printable(string(v)) {
			h[name] = string(v)
		}
	}
	if id := requestID(ctx); id != "" {
		h["X-Request-Id"] = id
	}
	return h
}

var errNoUserMessage = &RequestError{Param: "messages", Code: "invalid_value",
	Message: "Invalid 'messages': the bizra model needs a user message with text."}
