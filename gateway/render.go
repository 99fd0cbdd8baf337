package gateway

import (
	"encoding/json"
	"errors"
	"math"
	"net"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/bizra/bizra/internal/catalog"
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
	if p.Kind == catalog.Internal {
		s.log.Error("request failed", "req_id", rc.id, "path", string(rc.Path()), "err", err)
	}
	s.render(rc, p)
}

// render writes the public rendering p: the api.md error shape, or the OpenAI shape on
// the OpenAI paths.
func (s *Server) render(rc *reqCtx, p catalog.Public) {
	switch p.Kind {
	case catalog.Overloaded, catalog.Unavailable:
		if len(rc.Response.Header.Peek("Retry-After")) == 0 {
			rc.Response.Header.Set("Retry-After", "1")
		}
	}
	if r, ok := s.opts.Routes.OpenAI.(OpenAIErrorRenderer); ok && s.isOpenAIPath(rc.Path()) &&
		r.RenderError(rc.RequestCtx, p.HTTP, p.Code, p.Message) {
		return
	}
	s.writeJSON(rc, p.HTTP, errorBody{Error: p.Message, Code: p.Code, RequestID: rc.id})
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
// request line, headers too large, read timeout) in the api.md error shape, counted in
// sovereign_http_rejected_total by reason. With API keys on, a request without a valid
// key learns only 401 (its headers were read before the error).
func (s *Server) handleTransportError(ctx *fasthttp.RequestCtx, err error) {
	rc := &reqCtx{RequestCtx: ctx, start: time.Now(), route: s.routes.notFound}
	rc.id = s.requestID(ctx)
	ctx.Response.Header.Set("X-Request-Id", rc.id)
	defer s.recoverTransport(rc)
	var small *fasthttp.ErrSmallBuffer
	var nerr net.Error
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		s.rejected[rejectBodyTooLarge].Inc()
		if s.keys.enabled() && string(ctx.Path()) != "/v1/health" {
			if _, ok := s.keys.check(ctx); !ok {
				s.unauthorized(rc)
				return
			}
		}
		s.fail(rc, ErrTooLarge)
	case errors.As(err, &small):
		s.rejected[rejectHeaderTooLarge].Inc()
		s.fail(rc, ErrHeaderTooLarge)
	case errors.As(err, &nerr) && nerr.Timeout():
		s.rejected[rejectTimeout].Inc()
		pub := catalog.Lookup(ErrReadTimeout)
		pub.HTTP = fasthttp.StatusRequestTimeout
		s.render(rc, pub)
	default:
		s.rejected[rejectMalformed].Inc()
		s.log.Debug("bad http request", "req_id", rc.id, "err", err)
		s.fail(rc, withDetail(ErrInvalidRequest, "malformed HTTP request"))
	}
}

// recoverTransport is deferred by handleTransportError, which fasthttp calls outside
// handle (and its recover).
func (s *Server) recoverTransport(rc *reqCtx) {
	if p := recover(); p != nil {
		s.recovered(rc, p)
	}
}

func retryAfter(d time.Duration) string {
	sec := int(math.Ceil(d.Seconds()))
	if sec < 1 {
		sec = 1
	}
	return strconv.Itoa(sec)
}
