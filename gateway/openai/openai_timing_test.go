package openai

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/bizra/bizra/actors/inference/mockllm"
)

// benchBody is a small pass-through request (a non-bizra model).
const benchBody = `{"model":"mock-small","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"[doc.md] Rayleigh scattering makes the sky blue. More."}],"max_tokens":64}`

// phase runs n requests from `clients` closed-loop clients against url and returns
// the sorted latencies and the wall time.
func phase(b *testing.B, hc *fasthttp.HostClient, url string, clients, n int) ([]time.Duration, time.Duration) {
	b.Helper()
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Go(func() {
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				req.Reset()
				req.SetRequestURI(url)
				req.Header.SetMethod(fasthttp.MethodPost)
				req.Header.SetContentType("application/json")
				req.SetBodyString(benchBody)
				t0 := time.Now()
				err := hc.Do(req, resp)
				lat[i] = time.Since(t0)
				if err != nil || resp.StatusCode() != 200 {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	wall := time.Since(start)
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d requests to %s failed", f, n, url)
	}
	slices.Sort(lat)
	return lat, wall
}

func pct(s []time.Duration, p float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

// BenchmarkPassThrough measures what the OpenAI front adds to a pass-through
// completion (anchors.md §7: calibrate, then subtract). Each iteration count runs the
// same n requests twice with the same closed-loop client count: straight to the mock
// backend (1 ms latency), then through the gateway (API route, decoder, inference
// pass-through with breaker and in-flight slot, receipt issued on the path) to the
// same mock. Reported: p50/p99 of both, the added latency at p50/p99 and the
// throughput of the gateway path over the direct one. Client, gateway and mock share
// the machine's cores.
//
// The receipts=off variants leave the receipt out (Options.Receipts nil), to show what
// issuing and sealing it (Ed25519 per batch, fsync, zstd segments) costs on shared cores.
func BenchmarkPassThrough(b *testing.B) {
	for _, bc := range []struct {
		clients  int
		receipts bool
	}{{1, true}, {16, true}, {1, false}, {16, false}} {
		clients := bc.clients
		name := fmt.Sprintf("clients=%d", clients)
		if !bc.receipts {
			name += "/receipts=off"
		}
		b.Run(name, func(b *testing.B) {
			e := newEnv(b, envOpts{maxInFlight: 64, noReceipts: !bc.receipts, mock: mockllm.Options{Latency: time.Millisecond, RecordLimit: 1}})
			direct := &fasthttp.HostClient{Addr: e.mock.Addr(), MaxConns: 64, ReadTimeout: 10 * time.Second, MaxIdleConnDuration: 200 * time.Millisecond}
			via := &fasthttp.HostClient{Addr: e.gw.Addr(), MaxConns: 64, ReadTimeout: 10 * time.Second, MaxIdleConnDuration: 200 * time.Millisecond}
			b.Cleanup(direct.CloseIdleConnections)
			b.Cleanup(via.CloseIdleConnections)
			directURL := "http://" + e.mock.Addr() + "/v1/chat/completions"
			viaURL := e.base + "/v1/chat/completions"
			// warm up both paths (connections, model list, pools)
			phase(b, direct, directURL, clients, 200)
			phase(b, via, viaURL, clients, 200)
			runtime.GC()
			n := max(b.N, 50)
			b.ReportAllocs()
			b.ResetTimer()
			dl, dw := phase(b, direct, directURL, clients, n)
			vl, vw := phase(b, via, viaURL, clients, n)
			b.StopTimer()
			b.ReportMetric(ms(pct(dl, 0.50)), "direct_p50_ms")
			b.ReportMetric(ms(pct(dl, 0.99)), "direct_p99_ms")
			b.ReportMetric(ms(pct(vl, 0.50)), "via_p50_ms")
			b.ReportMetric(ms(pct(vl, 0.99)), "via_p99_ms")
			b.ReportMetric(ms(pct(vl, 0.50)-pct(dl, 0.50)), "added_p50_ms")
			b.ReportMetric(ms(pct(vl, 0.99)-pct(dl, 0.99)), "added_p99_ms")
			b.ReportMetric(float64(n)/vw.Seconds(), "via_req/s")
			b.ReportMetric(dw.Seconds()/vw.Seconds(), "throughput_ratio")
		})
	}
}

// BenchmarkDecode is the request decoder alone.
func BenchmarkDecode(b *testing.B) {
	body := []byte(benchBody)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(body); err != nil {
			b.Fatal(err)
		}
	}
}
