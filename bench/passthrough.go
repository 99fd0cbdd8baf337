package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// PassThroughClients are the concurrent clients of the pass-through comparison: the
// goal's 16, and 8.
var PassThroughClients = []int{16, 8}

// PassThroughRate is the offered rate of the constant-rate pass-through case, against
// the Stack's fast mock (StackOptions.FastMockLatency, 1 ms in Run).
const PassThroughRate = 1000

// passBody is a pass-through chat completion for model.
func passBody(model string) []byte {
	body, _ := json.Marshal(map[string]any{"model": model, "max_tokens": 256, "temperature": 0.2,
		"messages": []map[string]string{
			{"role": "system", "content": "You are a helpful assistant."},
			{"role": "user", "content": "[RUNBOOK.md] Receipts are sealed in batches with one Ed25519 signature.\nHow are receipts sealed?"}}})
	return body
}

// passThrough measures POST /v1/chat/completions passed through the gateway to a mock
// backend against the same request sent to the mock directly, interleaved in slices:
// with a fixed number of concurrent clients (closed loop: vegeta with that many
// workers and no rate limit) against the main mock, and at the constant rate
// PassThroughRate against the fast mock when the stack has one. Each case also gives
// the process CPU time per request of both sides: via − direct is what the gateway
// (front, inference service, receipt) spends on one pass-through request, the load
// generator and the mock being the same on both sides.
func passThrough(ctx context.Context, st *Stack, rounds int, total time.Duration, progress func(string)) PassThrough {
	pt := PassThrough{Measured: true, DelayMs: ms(st.mockLatency)}
	hdr := http.Header{"Content-Type": []string{"application/json"}}
	mk := func(url string, body []byte) target {
		return target{method: "POST", url: url, header: hdr, body: func(uint64) []byte { return body }, check: wantChat}
	}
	body := passBody("mock-small")
	direct, via := mk(st.Mock.URL()+"/chat/completions", body), mk(st.APIURL()+"/v1/chat/completions", body)
	var sc []scenario
	var cases []PassThroughCase
	for _, n := range PassThroughClients {
		o := loadOptions{rate: 0, maxWorkers: uint64(n), okOnly: true}
		sc = append(sc, scenario{fmt.Sprintf("mock direct, %d clients", n), direct, o},
			scenario{fmt.Sprintf("pass-through via gateway, %d clients", n), via, o})
		cases = append(cases, PassThroughCase{Clients: n, DelayMs: pt.DelayMs})
	}
	if st.FastMock != nil {
		fb := passBody(FastModel)
		o := loadOptions{rate: PassThroughRate, okOnly: true}
		sc = append(sc, scenario{fmt.Sprintf("fast mock direct, %d/s", PassThroughRate), mk(st.FastMock.URL()+"/chat/completions", fb), o},
			scenario{fmt.Sprintf("pass-through via gateway, %d/s", PassThroughRate), mk(st.APIURL()+"/v1/chat/completions", fb), o})
		cases = append(cases, PassThroughCase{Rate: PassThroughRate, DelayMs: ms(st.fastLatency)})
	}
	runs := interleave(ctx, sc, rounds, total/time.Duration(rounds*len(sc)), 0, progress)
	for i := 0; i+1 < len(runs); i += 2 {
		d, v := runs[i], runs[i+1]
		c := cases[i/2]
		c.Direct, c.Via = d, v
		c.Added = Latency{P50: v.Latency.P50 - d.Latency.P50, P90: v.Latency.P90 - d.Latency.P90,
			P99: v.Latency.P99 - d.Latency.P99, P999: v.Latency.P999 - d.Latency.P999,
			Max: v.Latency.Max - d.Latency.Max, Mean: v.Latency.Mean - d.Latency.Mean}
		if d.Throughput > 0 {
			c.ThroughputRatio = v.Throughput / d.Throughput
		}
		c.DirectCPUus, c.ViaCPUus = d.CPUPerRequest(), v.CPUPerRequest()
		c.AddedCPUus = c.ViaCPUus - c.DirectCPUus
		pt.Cases = append(pt.Cases, c)
	}
	pt.Note = "measured"
	return pt
}

// Name is how a case is named in the report: its client count or its rate.
func (c PassThroughCase) Name() string {
	if c.Rate > 0 {
		return fmt.Sprintf("%d/s", c.Rate)
	}
	return fmt.Sprintf("%d clients", c.Clients)
}

// load is the case's load column: "closed loop" or the rate.
func (c PassThroughCase) load() string {
	if c.Rate > 0 {
		return fmt.Sprintf("%d/s", c.Rate)
	}
	return "closed loop"
}
