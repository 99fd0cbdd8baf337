package bench

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// The query path over real HTTP, for `make bench-profile`:
//
//	go test -run '^$' -bench 'BenchmarkQuery' -benchmem -cpuprofile cpu.prof -memprofile mem.prof ./bench/
//
// The client (fasthttp) runs in the same process, so it is in the profile too.

func benchStack(b *testing.B, latency time.Duration) (*Stack, *fasthttp.HostClient) {
	ctx := context.Background()
	st, err := StartStack(ctx, StackOptions{MockLatency: latency})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		_ = st.Shutdown(sctx)
	})
	c := &fasthttp.HostClient{Addr: st.Gateway.Addr(), MaxConns: 256}
	b.Cleanup(c.CloseIdleConnections)
	return st, c
}

func postQuery(c *fasthttp.HostClient, url string, body []byte, check func([]byte) error) error {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(url)
	req.Header.SetMethod("POST")
	req.Header.SetContentType("application/json")
	req.SetBody(body)
	if err := c.DoTimeout(req, resp, 30*time.Second); err != nil {
		return err
	}
	if resp.StatusCode() != 200 {
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode(), clip(resp.Body(), 200))
	}
	return check(resp.Body())
}

// BenchmarkQueryCacheHit: POST /v1/query for an answer in the result cache, from
// 2×GOMAXPROCS concurrent clients.
func BenchmarkQueryCacheHit(b *testing.B) {
	st, c := benchStack(b, 0)
	body := []byte(`{"query":"How are receipts sealed and verified?"}`)
	if _, err := warmCache(context.Background(), st.APIURL(), body); err != nil {
		b.Fatal(err)
	}
	url := st.APIURL() + "/v1/query"
	b.SetParallelism(2)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := postQuery(c, url, body, wantCached); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkQueryMiss: POST /v1/query with a unique query each time (graph of thought,
// two calls to the mock OpenAI backend with no delay, scoring, receipt and ledger
// commit), from 4 concurrent clients (under the backend's 8 calls in flight).
func BenchmarkQueryMiss(b *testing.B) {
	st, c := benchStack(b, 0)
	url := st.APIURL() + "/v1/query"
	var seq atomic.Uint64
	run := time.Now().UnixNano() % 1e6
	b.SetParallelism(2)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := fmt.Appendf(nil, `{"query":"How are receipts sealed and verified? bench %d case %d"}`, run, seq.Add(1))
			if err := postQuery(c, url, body, wantMiss); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
