package main

import (
	"runtime"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/bizra/bizra/actors/core"
)

// BenchmarkQueryCacheHit64 is BenchmarkQueryCacheHit with 64 concurrent clients (32 per
// CPU with GOMAXPROCS 2): the concurrency at which durable receipts share their group
// commit (one fsync for every receipt issued while the previous fsync ran). Reports the
// mean group-commit batch of the query receipt log.
//
//	go test -run '^$' -bench QueryCacheHit -benchmem ./cmd/bizra
func BenchmarkQueryCacheHit64(b *testing.B) {
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
	before := receiptCommits(n)
	b.ReportAllocs()
	b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if do() != 200 {
				b.Error("non-200")
				return
			}
		}
	})
	b.StopTimer()
	if after := receiptCommits(n); after[0] > before[0] {
		b.ReportMetric(float64(after[1]-before[1])/float64(after[0]-before[0]), "receipts/fsync")
	}
}

// receiptCommits returns the group commits and the issued records they wrote.
func receiptCommits(n *e2eNode) [2]uint64 {
	st := n.rt.Receipts().Stats()
	return [2]uint64{st.Commits, st.CommitRecords}
}
