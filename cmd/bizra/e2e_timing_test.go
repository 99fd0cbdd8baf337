package main

import (
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/bizra/bizra/actors/core"
)

// BenchmarkQueryCacheHit measures POST /v1/query on a cache hit through a real gateway
// and runtime over loopback (client and server in this process, sharing the cores).
//
//	go test -run '^$' -bench QueryCacheHit -benchmem ./cmd/bizra
func BenchmarkQueryCacheHit(b *testing.B) {
	n := startE2EB(b, e2eOpts{core: core.Options{}})
	body := []byte(`{"query":"how do I check bridge health?"}`)
	c := &fasthttp.Client{MaxConnsPerHost: 256}
	do := func() int {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		req.SetRequestURI(n.base + "/v1/query")
		req.Header.SetMethod("POST")
		req.SetBodyRaw(body)
		if err := c.Do(req, resp); err != nil {
			b.Fatal(err)
		}
		return resp.StatusCode()
	}
	if do() != 200 { // warm the cache
		b.Fatal("warm-up query failed")
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if do() != 200 {
				b.Error("non-200")
				return
			}
		}
	})
}
