package gateway

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/bizra/bizra/actors/catalog"
)

// errorBody is the api.md error shape.
type errorBody struct {
	Error     string `json:"error"`
	Code      string `json:"code"`
	RequestID string `json:"request_id"`
}

// withDetail returns err carrying a public detail appended to its public message.
func withDetail(err error, detail string) error { return catalog.WithDetail(err, detail) }

// fail renders err through the catalog. Internal text is logged, never sent.
func (s *Server) fail(rc *reqCtx, err error) {
	p := catalog.Lookup(err)
	msg := p.Message
	switch p.Kind {
	case catalog.Overloaded, catalog.Unavailable:
		if len(rc.Response.Header.Peek("Retry-After")) == 0 {
			rc.Response.Header.Set("Retry-After", "1")
		}
	case catalog.Internal:
		s.log.Error("request failed", "req_id", rc.id, "path", string(rc.Path()), "err", err)
	}
	if r, ok := s.opts.Routes.OpenAI.(OpenAIErrorRenderer); ok && isOpenAIPath(rc.Path()) &&
		r.RenderError(rc.RequestCtx, p.HTTP, p.Code, msg) {
		return
	}
	s.writeJSON(rc, p.HTTP, errorBody{Error: msg, Code: p.Code, RequestID: rc.id})
}

func (s *Server) writeJSON(rc *reqCtx, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.log.Error("encode response", "req_id", rc.id, "err", err)
		status = fasthttp.StatusInternalServerError
		b = []byte(`{"error":"Internal error","code":"INTERNAL","request_id":"` + rc.id + `"}`)
	}
	rc.SetStatusCode(status)
	rc.SetContentType("application/json")
	rc.SetBody(b)
}

func (s *Server) writeRaw(rc *reqCtx, status int, b []byte) {
	rc.SetStatusCode(status)
	rc.SetContentType("application/json")
	rc.SetBody(b)
}

// handleTransportError renders fasthttp's own request errors (body too large, bad
// request line, timeouts) in the api.md error shape.
func (s *Server) handleTransportError(ctx *fasthttp.RequestCtx, err error) {
	rc := &reqCtx{RequestCtx: ctx, start: time.Now()}
	rc.id = s.requestID(ctx)
	ctx.Response.Header.Set("X-Request-Id", rc.id)
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		s.fail(rc, ErrTooLarge)
		return
	}
	s.log.Debug("bad http request", "req_id", rc.id, "err", err)
	s.fail(rc, withDetail(ErrInvalidRequest, "malformed HTTP request"))
}

func retryAfter(d time.Duration) string {
	sec := int(math.Ceil(d.Seconds()))
	if sec < 1 {
		sec = 1
	}
	return strconv.Itoa(sec)
}
