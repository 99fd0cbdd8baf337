package bridge

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bizra/bizra/internal/canon"
)

// BenchmarkAuthCheck measures step 4 (auth table) on a decoded ping: token digest
// compare and timestamp/nonce checks.
func BenchmarkAuthCheck(b *testing.B) {
	now := time.Now()
	fr, perr := decodeFrame([]byte(reqTok(testToken, now, "ping", nil, nil)))
	if perr != nil {
		b.Fatal(perr)
	}
	a := newAuthenticator(testToken, DefaultMaxSkew, false)
	ms := now.UnixMilli()
	a.notBeforeMs = ms // as Start sets it (StartSkew 0)
	b.ReportAllocs()
	for b.Loop() {
		if _, fail := a.authenticate(&fr, ms); fail != nil {
			b.Fatal(fail.reason)
		}
	}
}

// BenchmarkAuthCheckSigned adds X-BIZRA-SIG over small params (JCS + HMAC).
func BenchmarkAuthCheckSigned(b *testing.B) {
	now := time.Now()
	line, _ := Request(testToken, "sovereign_query", map[string]any{"query": "what is bizra?", "max_depth": 3}, 1, now.UnixMilli(), "n-bench", true)
	fr, perr := decodeFrame(line[:len(line)-1])
	if perr != nil {
		b.Fatal(perr)
	}
	a := newAuthenticator(testToken, DefaultMaxSkew, false)
	ms := now.UnixMilli()
	b.ReportAllocs()
	for b.Loop() {
		if _, fail := a.authenticate(&fr, ms); fail != nil {
			b.Fatal(fail.reason)
		}
	}
}

// BenchmarkPipelinePing runs a whole ping line through serveLine (the panic edge,
// then decode, auth, bucket, nonce, handler, receipt, encode) without sockets.
func BenchmarkPipelinePing(b *testing.B) {
	br, c := benchBridge(b)
	now := time.Now()
	lines := make([][]byte, 1<<14)
	for i := range lines {
		lines[i] = []byte(reqTok(testToken, now, "ping", nil, nil))
	}
	br.opts.Now = func() time.Time { return now }
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i == len(lines) {
			b.StopTimer()
			br.nonces = newNonceStore(2*DefaultMaxSkew, 1<<30)
			i = 0
			b.StartTimer()
		}
		out := br.serveLine(c, lines[i], now)
		if out[len(out)-1] != '\n' {
			b.Fatal("bad line")
		}
		i++
	}
}

func benchBridge(b *testing.B) (*Bridge, *conn) {
	o := baseOptions(newFakeCore(), nil)
	o.Receipts = &leafReceipts{}
	o.NonceStoreMax = 1 << 30
	br, err := New(o)
	if err != nil {
		b.Fatal(err)
	}
	br.auth = newAuthenticator(o.Token, br.opts.MaxSkew, false)
	br.started = time.Now()
	br.auth.notBeforeMs = br.started.Add(-br.opts.StartSkew).UnixMilli() // as Start sets it
	return br, &conn{b: br, remote: "bench", bucket: newBucket(0, 0, time.Now())}
}

// leafReceipts approximates a real receipt store's per-request cost: the canonical
// body and its domain-separated leaf hash (proof.md), without disk or sealing.
type leafReceipts struct{ seq atomic.Uint64 }

func (l *leafReceipts) Issue(in ReceiptInput) (ReceiptRef, error) {
	n := l.seq.Add(1)
	id := fmt.Sprintf("br-%013d-%016x", time.Now().UnixMilli(), n)
	body := struct {
		ReceiptID  string  `json:"receipt_id"`
		Version    string  `json:"version"`
		Kind       string  `json:"kind"`
		Status     string  `json:"status"`
		Method     string  `json:"method"`
		Reason     string  `json:"reason"`
		DurationMs float64 `json:"duration_ms"`
		Payload    any     `json:"payload"`
		Timestamp  string  `json:"timestamp"`
	}{id, "bizra-receipt-v1", "bridge", in.Status, in.Method, in.Reason,
		float64(in.Duration.Microseconds()) / 1000, in.Payload, time.Now().UTC().Format(time.RFC3339Nano)}
	c, err := canon.Marshal(body)
	if err != nil {
		return ReceiptRef{}, err
	}
	return ReceiptRef{ReceiptID: id, Status: in.Status, LeafHash: canon.SumHex("bizra-receipt-leaf-v1", c)}, nil
}

func (l *leafReceipts) Get(string) (json.RawMessage, error) { return nil, errFakeNotFound }

const benchConns = 64

// runConns drives benchConns connections in parallel, each sending one request line
// and waiting for its response, and reports throughput and the p99 round trip.
func runConns(b *testing.B, addr string) {
	clients := make(chan *Client, benchConns)
	for range benchConns {
		c, err := Dial(context.Background(), addr, testToken)
		if err != nil {
			b.Fatal(err)
		}
		clients <- c
	}
	b.Cleanup(func() {
		close(clients)
		for c := range clients {
			c.Close()
		}
	})
	var mu sync.Mutex
	var lat []time.Duration
	b.SetParallelism((benchConns + 1) / 2) // with GOMAXPROCS=2: 64 goroutines
	b.ReportAllocs()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var c *Client
		select {
		case c = <-clients:
		default:
			d, err := Dial(context.Background(), addr, testToken)
			if err != nil {
				b.Error(err)
				return
			}
			c = d
		}
		defer func() { clients <- c }()
		local := make([]time.Duration, 0, 1024)
		ctx := context.Background()
		for pb.Next() {
			t0 := time.Now()
			line, err := c.Call(ctx, "ping", nil)
			if err != nil {
				b.Error(err)
				return
			}
			local = append(local, time.Since(t0))
			if len(line) < 20 || line[len(line)-1] != '}' {
				b.Errorf("bad response %q", line)
				return
			}
		}
		mu.Lock()
		lat = append(lat, local...)
		mu.Unlock()
	})
	el := time.Since(start)
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(len(lat))/el.Seconds(), "req/s")
}

// nopReceipts issues ids without any hashing: it isolates the bridge's own cost.
type nopReceipts struct{ seq atomic.Uint64 }

func (n *nopReceipts) Issue(in ReceiptInput) (ReceiptRef, error) {
	return ReceiptRef{ReceiptID: "br-0000000000001-" + fmt.Sprintf("%016x", n.seq.Add(1)), Status: in.Status}, nil
}
func (n *nopReceipts) Get(string) (json.RawMessage, error) { return nil, errFakeNotFound }

// BenchmarkBridgePing64: authenticated pings with receipts (leafReceipts: canonical
// body and leaf hash per request) over 64 connections, rate limit off.
func BenchmarkBridgePing64(b *testing.B) { benchBridgePing(b, &leafReceipts{}) }

// BenchmarkBridgePing64NopReceipts: the same with a receipt store that does no work.
func BenchmarkBridgePing64NopReceipts(b *testing.B) { benchBridgePing(b, &nopReceipts{}) }

func benchBridgePing(b *testing.B, rec Receipts) {
	o := baseOptions(newFakeCore(), nil)
	o.Receipts = rec
	o.NonceStoreMax = 1 << 30
	o.MaxConnsPerIP = DefaultMaxConns // RunParallel may dial more than benchConns on many cores
	br, err := New(o)
	if err != nil {
		b.Fatal(err)
	}
	if err := br.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = br.Shutdown(context.Background()) })
	runConns(b, br.Addr())
	// Check the requests were really served, and authenticated.
	if br.Stats().RequestCount == 0 {
		b.Fatal("no authenticated request")
	}
}

// BenchmarkEchoNDJSON64 is the ceiling: a bare newline-delimited JSON-RPC echo server
// (encoding/json decode of the envelope, encode of a {status} result, one reader
// goroutine per connection, flush when the read buffer is empty) with the same
// client and request lines.
func BenchmarkEchoNDJSON64(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Go(func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, nc)
			mu.Unlock()
			wg.Go(func() { echoServe(nc) })
		}
	})
	b.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	runConns(b, ln.Addr().String())
}

func echoServe(nc net.Conn) {
	defer nc.Close()
	br := bufio.NewReaderSize(nc, 64<<10)
	bw := bufio.NewWriterSize(nc, 64<<10)
	type reqT struct {
		JSONRPC string          `json:"jsonrpc"`
		Method  string          `json:"method"`
		Params  json.RawMessage `json:"params"`
		ID      json.RawMessage `json:"id"`
		Headers json.RawMessage `json:"headers"`
	}
	type respT struct {
		JSONRPC string          `json:"jsonrpc"`
		Result  any             `json:"result"`
		ID      json.RawMessage `json:"id"`
	}
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			if !errors.Is(err, bufio.ErrBufferFull) {
				return
			}
		}
		var r reqT
		if json.Unmarshal(line, &r) != nil {
			return
		}
		out, _ := json.Marshal(respT{JSONRPC: "2.0", Result: map[string]any{"status": "alive", "method": r.Method}, ID: r.ID})
		bw.Write(out)
		bw.WriteByte('\n')
		if br.Buffered() == 0 {
			if bw.Flush() != nil {
				return
			}
		}
	}
}
