package inference

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/bizra/bizra/actors/inference/mockllm"
)

func quantile(d []time.Duration, q float64) float64 {
	s := slices.Clone(d)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	i := int(q * float64(len(s)-1))
	return float64(s[i].Nanoseconds()) / 1e3
}

// BenchmarkAnswerOverhead measures what the service adds to one backend call: each
// iteration makes one direct HTTP call to the mock (same body, keep-alive client) and one
// Service.Answer through the router and backend actors, against a mock with a fixed 2ms
// latency. Reported: p50/p99 of each (µs) and their difference (added-*).
func BenchmarkAnswerOverhead(b *testing.B) {
	m := mockllm.New(mockllm.Options{Latency: 2 * time.Millisecond, RecordLimit: 1})
	if _, err := m.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer m.Shutdown(context.Background())
	sys := newSystem(b)
	opts := testOptions(sys, metrics.NewSet(), BackendConfig{Name: "be", Kind: KindOpenAI, URL: m.URL(), Model: "mock-small"})
	opts.ProbeInterval = time.Minute
	s, err := New(opts)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer s.Shutdown(context.Background())

	req := sampleRequest()
	body, _ := json.Marshal(map[string]any{"model": "mock-small", "messages": answerMessages(req), "stream": false,
		"max_tokens": req.MaxTokens, "temperature": *req.Temperature})
	tr := &http.Transport{MaxIdleConnsPerHost: 4}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	direct := func() {
		resp, err := hc.Post(m.URL()+"/chat/completions", "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if _, err := decodeOpenAIChat(out); err != nil {
			b.Fatal(err)
		}
	}
	viaService := func() {
		ans, err := askAnswer(s, context.Background(), req)
		if err != nil || ans.Degraded {
			b.Fatalf("%+v %v", ans, err)
		}
	}
	direct() // warm both connections
	viaService()

	var dd, sd []time.Duration
	b.ReportAllocs()
	for b.Loop() {
		t0 := time.Now()
		direct()
		t1 := time.Now()
		viaService()
		t2 := time.Now()
		dd, sd = append(dd, t1.Sub(t0)), append(sd, t2.Sub(t1))
	}
	for _, q := range []struct {
		name string
		q    float64
	}{{"p50", 0.50}, {"p99", 0.99}} {
		dq, sq := quantile(dd, q.q), quantile(sd, q.q)
		b.ReportMetric(dq, "direct-"+q.name+"-µs")
		b.ReportMetric(sq, "service-"+q.name+"-µs")
		b.ReportMetric(sq-dq, "added-"+q.name+"-µs")
	}
}

func BenchmarkEmbedded(b *testing.B) {
	corpus := func(n int) []Evidence {
		var ev []Evidence
		for i := range n {
			ev = append(ev, Evidence{Source: fmt.Sprintf("doc%02d.md", i),
				Excerpt: fmt.Sprintf("Receipts are sealed in batch %d by the sealer actor. The ledger stores episode %d on disk with group commit. Unrelated filler sentence number %d about cooking?", i, i, i),
				Score:   float64(i) / float64(n)})
		}
		return ev
	}
	for _, n := range []int{2, 10, 50} {
		b.Run(fmt.Sprintf("passages=%d", n), func(b *testing.B) {
			req := Request{Query: "How are receipts sealed and stored in the ledger?",
				SubQuestions: []string{"Where are episodes stored?"}, Evidence: corpus(n)}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Embedded(req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
