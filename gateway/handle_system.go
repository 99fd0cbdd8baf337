package gateway

import (
	"bytes"
	"context"
	"time"

	"github.com/valyala/fasthttp"
)

func (s *Server) handleHealth(rc *reqCtx) {
	h := s.opts.Core.Health()
	status := fasthttp.StatusOK
	if !h.Serving() {
		status = fasthttp.StatusServiceUnavailable
	}
	s.writeJSON(rc, status, h)
}

func (s *Server) handleStatus(rc *reqCtx) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.writeJSON(rc, fasthttp.StatusOK, s.opts.Core.Status(ctx))
}

func (s *Server) handleMetrics(rc *reqCtx) {
	var buf bytes.Buffer
	s.opts.Core.WriteMetrics(&buf)
	rc.SetStatusCode(fasthttp.StatusOK)
	rc.SetContentType("text/plain; version=0.0.4; charset=utf-8")
	rc.SetBody(buf.Bytes())
}
