package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/bizra/bizra/bridge"
)

// closedLoop drives conns bridge clients, each sending "ping" and waiting for its
// response, for the duration (closed loop: the bridge is a per-connection sequential
// protocol, so the offered load is the number of connections). Every client is the
// same bridge.Client code, whatever the server.
func closedLoop(ctx context.Context, name, addr, token string, conns int, d time.Duration, check func([]byte) error) LoadRun {
	run := LoadRun{Name: name, Seconds: d.Seconds()}
	clients := make([]*bridge.Client, 0, conns)
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	for range conns {
		c, err := bridge.Dial(ctx, addr, token)
		if err != nil {
			run.FirstError = err.Error()
			return run
		}
		clients = append(clients, c)
	}
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	start := time.Now()
	stop := start.Add(d)
	for _, c := range clients {
		wg.Go(func() {
			local := make([]time.Duration, 0, 4096)
			var ok, bad int
			var firstErr string
			for time.Now().Before(stop) && ctx.Err() == nil {
				t0 := time.Now()
				cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				line, err := c.Call(cctx, "ping", nil)
				cancel()
				local = append(local, time.Since(t0))
				if err == nil && check != nil {
					err = check(line)
				}
				if err != nil {
					bad++
					if firstErr == "" {
						firstErr = err.Error()
					}
					if bad > 100 {
						break
					}
					continue
				}
				ok++
			}
			mu.Lock()
			lat = append(lat, local...)
			run.OK += ok
			run.Errors += bad
			if run.FirstError == "" {
				run.FirstError = firstErr
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	el := time.Since(start).Seconds()
	run.Requests = len(lat)
	run.Throughput = float64(run.OK) / el
	run.Rate = int(run.Throughput)
	run.Latency = percentiles(lat)
	return run
}

// checkBridgePing accepts a bridge ping result that carries a receipt. It is a byte
// scan, as cheap as checkEcho, so the client costs the same against both servers.
func checkBridgePing(line []byte) error {
	if !bytes.Contains(line, []byte(`"result"`)) || !bytes.Contains(line, []byte(`"receipt_id":"br`)) {
		return fmt.Errorf("ping without result or receipt: %s", clip(line, 200))
	}
	return nil
}

// checkEcho accepts the echo server's answer.
func checkEcho(line []byte) error {
	if !bytes.Contains(line, []byte(`"alive"`)) {
		return fmt.Errorf("bad echo: %s", clip(line, 200))
	}
	return nil
}

// echoServer is the ceiling of the bridge comparison: a bare newline-delimited
// JSON-RPC echo (encoding/json decode of the envelope, encode of a {status} result,
// one goroutine per connection, flush when the read buffer is empty).
type echoServer struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func startEcho() (*echoServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	e := &echoServer{ln: ln, conns: map[net.Conn]struct{}{}}
	e.wg.Go(func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			e.mu.Lock()
			e.conns[nc] = struct{}{}
			e.mu.Unlock()
			e.wg.Go(func() {
				echoServe(nc)
				e.mu.Lock()
				delete(e.conns, nc)
				e.mu.Unlock()
			})
		}
	})
	return e, nil
}

func (e *echoServer) Addr() string { return e.ln.Addr().String() }

func (e *echoServer) Close() {
	e.ln.Close()
	e.mu.Lock()
	for c := range e.conns {
		c.Close()
	}
	e.mu.Unlock()
	e.wg.Wait()
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
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return
		}
		var r reqT
		if json.Unmarshal(line, &r) != nil {
			return
		}
		out, _ := json.Marshal(respT{JSONRPC: "2.0", Result: map[string]any{"status": "alive", "method": r.Method}, ID: r.ID})
		bw.Write(out)
		bw.WriteByte('\n')
		if br.Buffered() == 0 && bw.Flush() != nil {
			return
		}
	}
}
