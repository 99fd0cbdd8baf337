package inference

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"

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

// BenchmarkBackendClient compares, for the same backend call (a mock without latency,
// so the clients' own cost shows), the backends' client (exchange: the pooled fasthttp
// client of fastclient.go, with its cancellation) against net/http as the backends
// used it before (a request with a context, the body read whole), in ns/op,
// allocations and process cpu-us/op.
func BenchmarkBackendClient(b *testing.B) {
	m := benchMock(b, 0)
	body := forwardBody("/v1/embeddings", "m", false, "")
	url := m.URL() + "/embeddings"
	b.Run("net-http", func(b *testing.B) {
		tr := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 66, MaxConnsPerHost: 66}
		defer tr.CloseIdleConnections()
		hc := &http.Client{Transport: tr}
		reportCPU(b, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
			if err != nil {
				return err
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json")
			resp, err := hc.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			_, err = io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
			return err
		})
	})
	b.Run("pool", func(b *testing.B) {
		c, err := newHTTPClient(BackendConfig{Name: "be", Kind: KindOpenAI, URL: m.URL()}, 64, Retry{}.withDefaults(), time.Minute, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer c.close()
		reportCPU(b, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, err := c.exchange(ctx, http.MethodPost, "/embeddings", body, nil)
			return err
		})
	})
}
