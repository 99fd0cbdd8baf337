package gateway

import (
	"net"
	"testing"

	"github.com/valyala/fasthttp"
)

// BenchmarkHandleQuery runs the whole handler chain in process (no network) for a
// POST /v1/query answered by the stub core: the cost the gateway adds per query,
// recover and UTF-8 check included.
func BenchmarkHandleQuery(b *testing.B) {
	s := newTestServer(b, Options{})
	body := []byte(`{"query":"how do I check bridge health?"}`)
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}
	var req fasthttp.Request
	req.Header.SetMethod("POST")
	req.SetRequestURI("/v1/query")
	req.SetBody(body)
	var ctx fasthttp.RequestCtx
	b.ReportAllocs()
	for b.Loop() {
		ctx.Init(&req, addr, nil)
		s.handle(&ctx)
		if ctx.Response.StatusCode() != 200 {
			b.Fatalf("status %d", ctx.Response.StatusCode())
		}
	}
}
