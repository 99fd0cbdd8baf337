package openai

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/valyala/fasthttp"

	"github.com/bizra/bizra/actors/inference"
	"github.com/bizra/bizra/actors/query"
	"github.com/bizra/bizra/actors/receipt"
	"github.com/bizra/bizra/gateway"
	"github.com/bizra/bizra/internal/catalog"
)

// ModelID is the model that runs the sovereign pipeline.
const ModelID = "bizra"

// Method names this front in receipts and query requests.
const Method = "POST /v1/chat/completions"

// DefaultTimeout bounds one chat completion (a stream: until its end).
const DefaultTimeout = 600 * time.Second

// Receipts issues receipts (actors/receipt.Service satisfies it).
type Receipts interface {
	Issue(in receipt.Input) (receipt.Ref, error)
}

// Options configures Routes. Zero values are documented per field.
type Options struct {
	// Logger: nil discards.
	Logger *slog.Logger
	// Metrics: nil → metrics.NewSet().
	Metrics *metrics.Set
	// Inference serves every model id other than "bizra" (pass-through). nil: only
	// the bizra model exists.
	Inference *inference.Service
	// Forward passes OpenAI calls through unchanged (embeddings, completions,
	// responses and chat completions, forwarding traceparent, tracestate and
	// X-Request-Id). nil: Inference's Forward when Inference is set; with neither,
	// chat completions use Inference.Chat and the other pass-through endpoints answer
	// 404 model_not_found.
	Forward Forwarder
	// Query runs the sovereign pipeline (core.Runtime.Query). nil: no bizra model.
	Query func(ctx context.Context, req query.Request) (query.Result, error)
	// Receipts issues the receipts of pass-through completions. nil: none are issued
	// (the bizra model's receipt comes from the pipeline).
	Receipts Receipts
	// Timeout bounds one completion; 0 → DefaultTimeout (600 s). The bizra model's
	// query timeout is this value clamped to 1..600 s.
	Timeout time.Duration
	// Now is the clock of "created" fields and durations; nil → time.Now.
	Now func() time.Time
}

// Routes implements gateway.OpenAIRoutes (and gateway.OpenAIErrorRenderer).
type Routes struct {
	opts    Options
	log     *slog.Logger
	set     *metrics.Set
	started int64 // unix seconds: "created" of the bizra model

	// kinds × stream: counters by status, duration histograms
	reqs      [2][2][600]atomic.Pointer[metrics.Counter]
	duration  [2][2]*metrics.PrometheusHistogram
	overhead  [2]*metrics.PrometheusHistogram
	mDisconn  *metrics.Counter
	mPanics   *metrics.Counter // sovereign_panics_total{component="gateway"}
	mRcptFail *metrics.Counter
}

var _ gateway.OpenAIRoutes = (*Routes)(nil)
var _ gateway.OpenAIErrorRenderer = (*Routes)(nil)
var _ gateway.OpenAIMoreRoutes = (*Routes)(nil)

const (
	kindBizra = iota
	kindPass
)

var kindNames = [2]string{"bizra", "passthrough"}

// overheadBuckets resolve the sub-millisecond range the front is meant to stay in.
var overheadBuckets = []float64{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1}

var durationBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600}

// New builds the routes. It starts nothing: the handlers run on the gateway's
// goroutines (a stream on fasthttp's body-writer goroutine).
func New(opts Options) (*Routes, error) {
	if opts.Inference == nil && opts.Query == nil && opts.Forward == nil {
		return nil, errors.New("openai: Options needs Inference, Forward or Query")
	}
	if opts.Forward == nil && opts.Inference != nil {
		opts.Forward = serviceForwarder{opts.Inference}
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	set := opts.Metrics
	if set == nil {
		set = metrics.NewSet()
	}
	r := &Routes{opts: opts, log: log.With("component", "openai"), set: set, started: opts.Now().Unix()}
	for k := range 2 {
		for s, sn := range []string{"false", "true"} {
			r.duration[k][s] = set.GetOrCreatePrometheusHistogramExt(
				`sovereign_openai_request_duration_seconds{model_kind="`+kindNames[k]+`",stream="`+sn+`"}`, durationBuckets)
		}
		r.overhead[k] = set.GetOrCreatePrometheusHistogramExt(
			`sovereign_openai_overhead_seconds{model_kind="`+kindNames[k]+`"}`, overheadBuckets)
	}
	r.mDisconn = set.GetOrCreateCounter("sovereign_openai_stream_disconnects_total")
	r.mPanics = set.GetOrCreateCounter(`sovereign_panics_total{component="gateway"}`)
	r.mRcptFail = set.GetOrCreateCounter("sovereign_openai_receipt_failures_total")
	return r, nil
}

// observe counts one finished request.
func (r *Routes) observe(kind int, stream bool, status int, start time.Time) {
	s := 0
	if stream {
		s = 1
	}
	if status >= 100 && status < 600 {
		c := r.reqs[kind][s][status].Load()
		if c == nil {
			c = r.set.GetOrCreateCounter(`sovereign_openai_requests_total{model_kind="` + kindNames[kind] +
				`",stream="` + strconv.FormatBool(stream) + `",code="` + strconv.Itoa(status) + `"}`)
			r.reqs[kind][s][status].Store(c)
		}
		c.Inc()
	}
	r.duration[kind][s].Update(r.opts.Now().Sub(start).Seconds())
}

// ChatCompletions serves POST /v1/chat/completions. userID is the API key's id when
// keys are on.
func (r *Routes) ChatCompletions(ctx *fasthttp.RequestCtx, userID string) {
	start := r.opts.Now()
	body := ctx.PostBody()
	// pass-through texts are bounded by the gateway's body limit; the bizra model's by
	// MaxContentBytes (refuseBizra)
	req, err := decode(body, max(len(body), MaxContentBytes))
	if err != nil {
		kind := kindPass
		if req.Model == ModelID {
			kind = kindBizra
		}
		r.observe(kind, req.Stream, r.writeError(ctx, err), start)
		return
	}
	if req.Model == ModelID {
		if req.Tools && toolParams[req.Unsupported] {
			if m, ok := r.toolModel(); ok {
				r.bizraTools(ctx, &req, body, m, userID, start)
				return
			}
		}
		r.bizra(ctx, &req, userID, start)
		return
	}
	r.passThrough(ctx, &req, body, userID, start)
}

// model is one entry of /v1/models.
type model struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

// models lists "bizra" (when the pipeline is wired) and the external backends' models.
func (r *Routes) models() []model {
	out := []model{}
	if r.opts.Query != nil {
		out = append(out, model{ID: ModelID, Object: "model", Created: r.started, OwnedBy: "bizra"})
	}
	if r.opts.Inference != nil {
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, m := range r.opts.Inference.Models(c) {
			if m.ID == ModelID {
				continue // the pipeline owns that name
			}
			out = append(out, model{ID: m.ID, Object: "model", Created: r.started, OwnedBy: m.Backend})
		}
	}
	return out
}

func (r *Routes) findModel(id string) (model, bool) {
	for _, m := range r.models() {
		if m.ID == id {
			return m, true
		}
	}
	return model{}, false
}

// Models serves GET /v1/models: "bizra" (when the pipeline is wired) and the models
// of the external backends.
func (r *Routes) Models(ctx *fasthttp.RequestCtx) {
	writeJSON(ctx, fasthttp.StatusOK, struct {
		Object string  `json:"object"`
		Data   []model `json:"data"`
	}{Object: "list", Data: r.models()})
}

// apiError is the OpenAI error shape.
type apiError struct {
	Error apiErrorBody `json:"error"`
}

type apiErrorBody struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

// RenderError renders the gateway's own errors on the OpenAI paths in OpenAI's shape
// (gateway.OpenAIErrorRenderer).
func (r *Routes) RenderError(ctx *fasthttp.RequestCtx, status int, code, message string) bool {
	c := openAICode(status, code)
	writeJSON(ctx, status, apiError{Error: apiErrorBody{Message: message, Type: errorType(status), Code: &c}})
	return true
}

// openAICode maps a catalog code to OpenAI's vocabulary where one exists.
func openAICode(status int, code string) string {
	switch code {
	case "UNAUTHORIZED":
		return "invalid_api_key"
	case "RATE_LIMITED":
		return "rate_limit_exceeded"
	case "MODEL_NOT_FOUND":
		return "model_not_found"
	case "":
		return strconv.Itoa(status)
	}
	b := []byte(code)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func errorType(status int) string {
	switch {
	case status == fasthttp.StatusTooManyRequests:
		return "rate_limit_error"
	case status == fasthttp.StatusUnauthorized:
		return "invalid_request_error"
	case status == fasthttp.StatusGatewayTimeout:
		return "timeout_error"
	case status >= 500:
		return "server_error"
	}
	return "invalid_request_error"
}

// upstreamBody is an upstream error as the client gets it.
func upstreamBody(ue *UpstreamError) apiErrorBody {
	b := apiErrorBody{Message: ue.Message, Type: ue.Type}
	if b.Message == "" {
		b.Message = http.StatusText(ue.Status)
	}
	if b.Type == "" {
		b.Type = errorType(ue.Status)
	}
	if ue.Param != "" {
		b.Param = &ue.Param
	}
	if ue.Code != "" {
		b.Code = &ue.Code
	}
	return b
}

// writeError renders err in OpenAI's shape and returns the status. A backend's own
// error answer (UpstreamError) is rendered unchanged: status, message, type, param,
// code and Retry-After.
func (r *Routes) writeError(ctx *fasthttp.RequestCtx, err error) int {
	var ue *UpstreamError
	if errors.As(err, &ue) && ue.Status >= 400 && ue.Status < 600 {
		if ue.RetryAfter != "" {
			ctx.Response.Header.Set("Retry-After", ue.RetryAfter)
		}
		r.log.Debug("backend error answer", "req_id", requestID(ctx), "backend", ue.Backend, "status", ue.Status)
		writeJSON(ctx, ue.Status, apiError{Error: upstreamBody(ue)})
		return ue.Status
	}
	var re *RequestError
	if errors.As(err, &re) {
		body := apiErrorBody{Message: re.Message, Type: "invalid_request_error", Code: &re.Code}
		if re.Param != "" {
			body.Param = &re.Param
		}
		writeJSON(ctx, fasthttp.StatusBadRequest, apiError{Error: body})
		return fasthttp.StatusBadRequest
	}
	p := catalog.Lookup(err)
	switch p.Kind {
	case catalog.Internal:
		r.log.Error("chat completion failed", "req_id", requestID(ctx), "err", err)
	case catalog.Overloaded, catalog.Unavailable:
		ctx.Response.Header.Set("Retry-After", "1")
		r.log.Debug("chat completion unavailable", "req_id", requestID(ctx), "err", err)
	}
	code := openAICode(p.HTTP, p.Code)
	body := apiErrorBody{Message: p.Message, Type: errorType(p.HTTP), Code: &code}
	if p.Kind == catalog.NotFound && errors.Is(err, inference.ErrModelNotFound) {
		m := "model"
		body.Param = &m
	}
	writeJSON(ctx, p.HTTP, apiError{Error: body})
	return p.HTTP
}

// streamPanicEvent ends a stream whose writer panicked: the status line is sent, so
// the error goes in the stream, in OpenAI's error shape.
var streamPanicEvent = []byte(`data: {"error":{"message":"Internal error","type":"server_error","param":null,"code":"internal"}}` + "\n\n")

// safeStream wraps a body stream writer: fasthttp runs it on a goroutine of its own,
// after the handler (and the gateway's recover) returned, so a panic there would end
// the process. It is logged once with the stack, counted, and ends the stream.
func (r *Routes) safeStream(ctx *fasthttp.RequestCtx, fn func(w *bufio.Writer)) func(w *bufio.Writer) {
	id := requestID(ctx)
	return func(w *bufio.Writer) {
		defer func() {
			if p := recover(); p != nil {
				r.mPanics.Inc()
				r.log.Error("panic in completion stream", "req_id", id, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				_, _ = w.Write(streamPanicEvent)
				_ = w.Flush()
			}
		}()
		fn(w)
	}
}

func requestID(ctx *fasthttp.RequestCtx) string {
	return string(ctx.Response.Header.Peek("X-Request-Id"))
}

func writeJSON(ctx *fasthttp.RequestCtx, status int, v any) {
	b, err := marshal(v)
	if err != nil {
		status = fasthttp.StatusInternalServerError
		b = []byte(`{"error":{"message":"Internal error","type":"server_error","param":null,"code":"internal"}}`)
	}
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.Response.SetBodyRaw(b)
}

// errModelUnavailable: the bizra model was asked for but no pipeline is wired.
var errModelUnavailable = fmt.Errorf("model %q is not served here: %w", ModelID, inference.ErrModelNotFound)
