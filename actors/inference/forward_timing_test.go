package inference

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/valyala/fasthttp"

	"github.com/bizra/bizra/actors/inference/mockllm"
)

// cpuTime is this process's user+system CPU time.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU runs the loop in parallel (8 goroutines per core, a closed loop like the
// bench clients) and reports process CPU µs per operation (client, server and service
// together: compare sub-benchmarks, the difference is what one adds).
func reportCPU(b *testing.B, op func() error) {
	b.ReportAllocs()
	b.SetParallelism(8)
	c0 := cpuTime(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := op(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64((cpuTime(b)-c0).Microseconds())/float64(b.N), "cpu-us/op")
}

func benchMock(b *testing.B, latency time.Duration) *mockllm.Server {
	m := mockllm.New(mockllm.Options{Latency: latency, RecordLimit: 1, Models: []string{"m"}})
	if _, err := m.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = m.Shutdown(context.Background()) })
	return m
}

// BenchmarkForward measures the CPU cost of one pass-through request against a mock
// with a 1 ms latency: "direct" is a keep-alive net/http client calling the mock,
// "forward" is Service.Forward (slot, breaker, retries, fallback, usage, metrics) doing
// the same call; forward's cpu-us/op minus direct's is what the pass-through adds.
func BenchmarkForward(b *testing.B) {
	m := benchMock(b, time.Millisecond)
	body := forwardBody("/v1/chat/completions", "m", false, "")
	b.Run("direct", func(b *testing.B) {
		tr := &http.Transport{MaxIdleConnsPerHost: 64}
		defer tr.CloseIdleConnections()
		hc := &http.Client{Transport: tr}
		reportCPU(b, func() error {
			resp, err := hc.Post(m.URL()+"/chat/completions", "application/json", bytes.NewReader(body))
			if err != nil {
				return err
			}
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			return err
		})
	})
	b.Run("forward", func(b *testing.B) {
		opts := testOptions(newSystem(b), metrics.NewSet(), BackendConfig{Name: "be", Kind: KindOpenAI, URL: m.URL(), Model: "m"})
		opts.ProbeInterval, opts.MaxInFlight = time.Minute, 64
		s := startService(b, opts)
		req := ForwardRequest{Path: "/v1/chat/completions", Model: "m", Body: body,
			Headers: map[string]string{"X-Request-Id": "bench"}}
		reportCPU(b, func() error {
			_, err := s.Forward(context.Background(), req)
			return err
		})
	})
}

// BenchmarkBackendClient compares net/http (the backends' client) with a pooled
// fasthttp client for the same backend call (mock without latency: the clients' own
// cost shows), in ns/op, allocations and process cpu-us/op.
func BenchmarkBackendClient(b *testing.B) {
	m := benchMock(b, 0)
	body := forwardBody("/v1/embeddings", "m", false, "")
	url := m.URL() + "/embeddings"
	b.Run("net-http", func(b *testing.B) {
		c := newHTTPClient(BackendConfig{Name: "be", Kind: KindOpenAI, URL: m.URL()}, 64, Retry{}.withDefaults(), time.Minute)
		defer c.close()
		reportCPU(b, func() error {
			_, err := c.exchange(context.Background(), http.MethodPost, "/embeddings", body, nil)
			return err
		})
	})
	b.Run("fasthttp", func(b *testing.B) {
		// A HostClient with its own dialer: fasthttp.Client and the default dialer start
		// process-wide cleaner goroutines that never end (goleak).
		d := &net.Dialer{Timeout: 5 * time.Second}
		fc := &fasthttp.HostClient{Addr: m.Addr(), MaxConns: 66, ReadTimeout: time.Minute, WriteTimeout: time.Minute,
			MaxIdleConnDuration: 20 * time.Millisecond, // its conns cleaner ends soon after
			Dial:                func(addr string) (net.Conn, error) { return d.Dial("tcp", addr) }}
		defer fc.CloseIdleConnections()
		reportCPU(b, func() error {
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			req.SetRequestURI(url)
			req.Header.SetMethod(http.MethodPost)
			req.Header.SetContentType("application/json")
			req.Header.Set("Accept", "application/json")
			req.SetBodyRaw(body)
			if err := fc.DoDeadline(req, resp, time.Now().Add(time.Minute)); err != nil {
				return err
			}
			_ = bytes.Clone(resp.Body()) // the caller keeps the body, as exchange's does
			return nil
		})
	})
}
