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
	bp := viewBufs.Get().(*[]byte)
	b, err := appendHealth((*bp)[:0], &h)
	if err != nil {
		s.writeJSON(rc, status, h) // a check value encoding/json must judge
	} else {
		s.writeRaw(rc, status, b) // SetBody copies
	}
	if cap(b) <= 1<<20 {
		*bp = b[:0]
		viewBufs.Put(bp)
	}
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
