package openai

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/bizra/bizra/actors/inference"
)

// PassRequest is what the front reads of a pass-through body (embeddings,
// completions, responses): the model and whether the answer streams. The body itself
// is forwarded unchanged.
type PassRequest struct {
	Model  string
	Stream bool
}

// DecodePass parses the model and stream fields of a pass-through body. Every failure
// is a *RequestError naming the parameter; it never panics on any input (fuzzed).
func DecodePass(body []byte) (PassRequest, error) {
	var w struct {
		Model  *string `json:"model"`
		Stream *bool   `json:"stream"`
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return PassRequest{}, reqErr("", "invalid_json", "The body must be a JSON object.")
	}
	if err := json.Unmarshal(trimmed, &w); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			kind := ""
			if te.Type != nil {
				kind = te.Type.Kind().String()
			}
			return PassRequest{}, reqErr(te.Field, "invalid_type", "Invalid type for '%s': expected %s.", te.Field, jsonType(kind))
		}
		return PassRequest{}, reqErr("", "invalid_json", "The body is not valid JSON.")
	}
	if w.Model == nil {
		return PassRequest{}, reqErr("model", "missing_required_parameter", "Missing required parameter: 'model'.")
	}
	if *w.Model == "" || len(*w.Model) > MaxModelBytes || !printable(*w.Model) {
		return PassRequest{}, reqErr("model", "invalid_value", "Invalid 'model': must be 1..%d printable characters.", MaxModelBytes)
	}
	r := PassRequest{Model: *w.Model}
	if w.Stream != nil {
		r.Stream = *w.Stream
	}
	return r, nil
}

// Embeddings serves POST /v1/embeddings (gateway.OpenAIMoreRoutes): pass-through.
func (r *Routes) Embeddings(ctx *fasthttp.RequestCtx, userID string) {
	r.forwardEndpoint(ctx, "/v1/embeddings", false)
}

// Completions serves POST /v1/completions (legacy text completions): pass-through,
// streamed when the body asks for it.
func (r *Routes) Completions(ctx *fasthttp.RequestCtx, userID string) {
	r.forwardEndpoint(ctx, "/v1/completions", true)
}

// errNotChatModel: the bizra model was asked for on an endpoint other than chat.
func errNotChatModel(path string) *RequestError {
	return &RequestError{Param: "model", Code: "model_not_supported",
		Message: fmt.Sprintf("The %s model only serves /v1/chat/completions and /v1/responses, not %s.", ModelID, path)}
}

var errNoForward = fmt.Errorf("openai: no pass-through configured: %w", inference.ErrModelNotFound)

// forwardEndpoint passes one call through unchanged; streams is whether the endpoint
// can stream (embeddings cannot: "stream" is the backend's to refuse).
func (r *Routes) forwardEndpoint(ctx *fasthttp.RequestCtx, path string, streams bool) {
	start := r.opts.Now()
	body := ctx.PostBody()
	pr, err := DecodePass(body)
	stream := streams && pr.Stream
	if err != nil {
		r.observe(kindPass, stream, r.writeError(ctx, err), start)
		return
	}
	if pr.Model == ModelID {
		r.observe(kindBizra, stream, r.writeError(ctx, errNotChatModel(path)), start)
		return
	}
	if r.opts.Forward == nil {
		r.observe(kindPass, stream, r.writeError(ctx, errNoForward), start)
		return
	}
	freq := ForwardRequest{Path: path, Model: pr.Model, Body: bytes.Clone(body), Stream: stream,
		Headers: forwardHeaders(ctx), Deadline: start.Add(r.opts.Timeout)}
	if stream {
		r.forwardStream(ctx, freq, start)
		return
	}
	res, err := r.opts.Forward.Forward(context.Background(), freq)
	if err != nil {
		r.observe(kindPass, false, r.writeError(ctx, err), start)
		return
	}
	r.writeForwarded(ctx, res, start)
}

// writeForwarded sends a backend's 2xx answer unchanged.
func (r *Routes) writeForwarded(ctx *fasthttp.RequestCtx, res ForwardResponse, start time.Time) {
	status := res.Status
	if status < 200 || status > 299 {
		status = fasthttp.StatusOK
	}
	ct := res.ContentType
	if ct == "" {
		ct = "application/json"
	}
	ctx.SetStatusCode(status)
	ctx.SetContentType(ct)
	ctx.Response.SetBodyRaw(res.Body)
	r.observe(kindPass, false, status, start)
}

// openStream opens a forwarded stream whose context ends after Options.Timeout; cancel
// goes with the stream (its body writer calls it). A stream that cannot be opened is
// answered here, with its status and error body, and ok is false.
func (r *Routes) openStream(ctx *fasthttp.RequestCtx, freq ForwardRequest, start time.Time) (ForwardStream, context.CancelFunc, bool) {
	if r.opts.Forward == nil {
		r.observe(kindPass, true, r.writeError(ctx, errNoForward), start)
		return nil, nil, false
	}
	cctx, cancel := context.WithTimeout(context.Background(), r.opts.Timeout)
	st, err := r.opts.Forward.OpenForwardStream(cctx, freq)
	if err != nil {
		cancel()
		r.observe(kindPass, true, r.writeError(ctx, err), start)
		return nil, nil, false
	}
	return st, cancel, true
}

// forwardStream opens the stream on the handler goroutine (a failure before the first
// byte gets its status) and forwards each event payload from fasthttp's body writer,
// flushed; the end is "data: [DONE]", a backend failure mid-stream an error event.
func (r *Routes) forwardStream(ctx *fasthttp.RequestCtx, freq ForwardRequest, start time.Time) {
	st, cancel, ok := r.openStream(ctx, freq, start)
	if !ok {
		return
	}
	reqID := requestID(ctx)
	sseHeaders(ctx)
	ctx.SetBodyStreamWriter(r.safeStream(ctx, func(w *bufio.Writer) {
		defer cancel()
		defer st.Close()
		code := fasthttp.StatusOK
		for {
			c, err := st.Next()
			if err == io.EOF {
				w.Write(doneEvent)
				_ = w.Flush()
				break
			}
			if err != nil {
				var msg apiError
				code, msg = streamError(err)
				b, _ := json.Marshal(msg)
				writeData(w, b)
				_ = w.Flush()
				r.log.Debug("pass-through stream failed", "req_id", reqID, "err", err)
				break
			}
			if !sendData(w, c) {
				code = 499
				r.mDisconn.Inc()
				break
			}
		}
		r.observe(kindPass, true, code, start)
	}))
}

// Model serves GET /v1/models/{id}: the model object, or 404 model_not_found in
// OpenAI's shape.
func (r *Routes) Model(ctx *fasthttp.RequestCtx, id string) {
	m, ok := r.findModel(id)
	if !ok {
		c := "model_not_found"
		p := "model"
		writeJSON(ctx, fasthttp.StatusNotFound, apiError{Error: apiErrorBody{
			Message: fmt.Sprintf("The model '%s' does not exist or no backend serves it.", truncate(id, MaxModelBytes)),
			Type:    "invalid_request_error", Param: &p, Code: &c}})
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, m)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
