package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// PassThroughClients are the concurrent clients of the pass-through comparison: the
// goal's 16, and 8 (the inference service's default in-flight calls per backend).
var PassThroughClients = []int{16, 8}

// passThrough measures POST /v1/chat/completions passed through the gateway to the
// mock backend against the same request sent to the mock directly, with a fixed
// number of concurrent clients (closed loop: vegeta with that many workers and no
// rate limit), interleaved in slices.
func passThrough(ctx context.Context, st *Stack, rounds int, total time.Duration, progress func(string)) PassThrough {
	pt := PassThrough{Measured: true, DelayMs: ms(st.mockLatency)}
	body, _ := json.Marshal(map[string]any{"model": "mock-small", "max_tokens": 256, "temperature": 0.2,
		"messages": []map[string]string{
			{"role": "system", "content": "You are a helpful assistant."},
			{"role": "user", "content": "[RUNBOOK.md] Receipts are sealed in batches with one Ed25519 signature.\nHow are receipts sealed?"}}})
	hdr := http.Header{"Content-Type": []string{"application/json"}}
	mk := func(url string) target {
		return target{method: "POST", url: url, header: hdr, body: func(uint64) []byte { return body }, check: wantChat}
	}
	direct, via := mk(st.Mock.URL()+"/chat/completions"), mk(st.APIURL()+"/v1/chat/completions")
	var sc []scenario
	for _, n := range PassThroughClients {
		o := loadOptions{rate: 0, maxWorkers: uint64(n), okOnly: true}
		sc = append(sc, scenario{fmt.Sprintf("mock direct, %d clients", n), direct, o},
			scenario{fmt.Sprintf("pass-through via gateway, %d clients", n), via, o})
	}
	runs := interleave(ctx, sc, rounds, total/time.Duration(rounds*len(sc)), 0, progress)
	for i := 0; i+1 < len(runs); i += 2 {
		d, v := runs[i], runs[i+1]
		c := PassThroughCase{Clients: PassThroughClients[i/2], Direct: d, Via: v,
			Added: Latency{P50: v.Latency.P50 - d.Latency.P50, P90: v.Latency.P90 - d.Latency.P90,
				P99: v.Latency.P99 - d.Latency.P99, P999: v.Latency.P999 - d.Latency.P999,
				Max: v.Latency.Max - d.Latency.Max, Mean: v.Latency.Mean - d.Latency.Mean}}
		if d.Throughput > 0 {
			c.ThroughputRatio = v.Throughput / d.Throughput
		}
		pt.Cases = append(pt.Cases, c)
	}
	pt.Note = "measured"
	return pt
}
