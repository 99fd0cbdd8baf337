package bridge

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// expectClosed reads until EOF or an error other than a timeout.
func expectClosed(t *testing.T, c *tconn, within time.Duration) {
	t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(within))
	buf := make([]byte, 4096)
	for {
		_, err := c.br.Read(buf)
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("connection still open after %v", within)
		}
		return // EOF or reset
	}
}

func padLine(line string, n int) string {
	// Insert JSON whitespace before the final '}' so the line is exactly n bytes.
	return line[:len(line)-1] + strings.Repeat(" ", n-len(line)) + "}"
}

func TestLineLimit(t *testing.T) {
	e := startEnv(t, nil) // default MaxLineBytes: 1 MiB
	t.Run("exactly 1 MiB", func(t *testing.T) {
		c := e.dial(t)
		line := padLine(req("ping", nil, nil), DefaultMaxLineBytes)
		if r := c.call(line); r.Error != nil {
			t.Fatalf("1 MiB line refused: %.200s", r.raw)
		}
	})
	t.Run("over 1 MiB", func(t *testing.T) {
		c := e.dial(t)
		line := padLine(req("ping", nil, nil), DefaultMaxLineBytes+1)
		var wg sync.WaitGroup
		wg.Go(func() {
			_ = c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
			_, _ = c.nc.Write([]byte(line + "\n"))
		})
		r := c.recv()
		wantErr(t, r, CodeInvalidRequest, "MESSAGE_TOO_LARGE")
		if string(r.ID) != "null" {
			t.Fatalf("id = %s", r.ID)
		}
		expectClosed(t, c, 3*time.Second)
		wg.Wait()
	})
	t.Run("endless line without newline", func(t *testing.T) {
		c := e.dial(t)
		done := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() { // keeps writing; must be cut off, not buffered
			chunk := []byte(strings.Repeat("x", 64<<10))
			for {
				select {
				case <-done:
					return
				default:
				}
				_ = c.nc.SetWriteDeadline(time.Now().Add(2 * time.Second))
				if _, err := c.nc.Write(chunk); err != nil {
					return
				}
			}
		})
		wantErr(t, c.recv(), CodeInvalidRequest, "MESSAGE_TOO_LARGE")
		close(done)
		wg.Wait()
	})
}

func TestPartialLineTimeout(t *testing.T) {
	e := startEnv(t, func(o *Options) { o.PartialLineTimeout = 150 * time.Millisecond })
	t.Run("never ends", func(t *testing.T) {
		c := e.dial(t)
		if _, err := c.nc.Write([]byte(`{"jsonrpc":"2.0","method":`)); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		wantErr(t, c.recv(), CodeInvalidRequest, "LINE_TIMEOUT")
		if el := time.Since(start); el > 2*time.Second {
			t.Fatalf("timed out after %v", el)
		}
		expectClosed(t, c, 2*time.Second)
	})
	t.Run("slow but in time", func(t *testing.T) {
		c := e.dial(t)
		line := req("ping", nil, nil)
		_, _ = c.nc.Write([]byte(line[:10]))
		time.Sleep(50 * time.Millisecond)
		if r := c.call(line[10:]); r.Error != nil {
			t.Fatal(r.raw)
		}
	})
}

func TestIdleTimeout(t *testing.T) {
	e := startEnv(t, func(o *Options) { o.IdleTimeout = 150 * time.Millisecond })
	c := e.dial(t)
	if r := c.call(req("ping", nil, nil)); r.Error != nil {
		t.Fatal(r.raw)
	}
	expectClosed(t, c, 3*time.Second)
	checkFor(t, 2*time.Second, func() error {
		if n := e.b.Stats().Connections; n != 0 {
			return fmt.Errorf("connections = %d", n)
		}
		return nil
	})
}

func testMaxConns(t *testing.T, max int) {
	e := startEnv(t, func(o *Options) { // all from 127.0.0.1, silent for the whole test
		o.MaxConns, o.MaxConnsPerIP, o.AuthTimeout = max, max, time.Minute
	})
	conns := make([]*tconn, max)
	for i := range conns {
		conns[i] = e.dial(t)
	}
	checkFor(t, 10*time.Second, func() error {
		if n := e.b.Stats().Connections; n != max {
			return fmt.Errorf("connections = %d; want %d", n, max)
		}
		return nil
	})
	extra := e.dial(t)
	wantErr(t, extra.recv(), CodeBusy, "SERVER_BUSY")
	expectClosed(t, extra, 2*time.Second)
	if r := conns[max-1].call(req("ping", nil, nil)); r.Error != nil {
		t.Fatalf("an admitted connection fails: %s", r.raw)
	}
	// A slot frees when a client leaves.
	conns[0].nc.Close()
	checkFor(t, 5*time.Second, func() error {
		if n := e.b.Stats().Connections; n != max-1 {
			return fmt.Errorf("connections = %d", n)
		}
		return nil
	})
	if r := e.dial(t).call(req("ping", nil, nil)); r.Error != nil {
		t.Fatal(r.raw)
	}
}

func TestMaxConns(t *testing.T) { testMaxConns(t, 3) }

func TestMaxConnsDefault(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 1025 connections")
	}
	testMaxConns(t, DefaultMaxConns)
}

func TestSlowClientDisconnected(t *testing.T) {
	e := startEnv(t, func(o *Options) { o.OutboundQueue = 2; o.WriteTimeout = 300 * time.Millisecond })
	c := e.dial(t)
	_ = c.nc.(*net.TCPConn).SetReadBuffer(4096)
	var wg sync.WaitGroup
	wg.Go(func() { // writes requests and never reads a response
		for range 2000 {
			_ = c.nc.SetWriteDeadline(time.Now().Add(3 * time.Second))
			if _, err := c.nc.Write([]byte(req("list_skills", map[string]any{"filter": "big"}, nil) + "\n")); err != nil {
				return
			}
		}
	})
	checkFor(t, 10*time.Second, func() error {
		if n := e.b.Stats().Connections; n != 0 {
			return fmt.Errorf("slow client still connected (%d)", n)
		}
		return nil
	})
	wg.Wait()
	if n := counterValue(t, e.opts.Metrics, `sovereign_bridge_disconnects_total{reason="slow_client"}`); n != 1 {
		t.Fatalf("slow-client disconnects = %d; want 1", n)
	}
	// The server was never blocked: a well-behaved client is served.
	if r := e.dial(t).call(req("ping", nil, nil)); r.Error != nil {
		t.Fatal(r.raw)
	}
	// The client sees the connection end once it drains what was sent.
	_ = c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.Copy(io.Discard, c.nc); err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("client connection not closed")
		}
	}
}

func TestRobustInputs(t *testing.T) {
	const unicodeToken = "ключ-токен-≥16-символов"
	e := startEnv(t, func(o *Options) { o.Token = unicodeToken })
	c := e.dial(t)
	now := time.Now()
	ok := func(line string) {
		t.Helper()
		if r := c.call(line); r.Error != nil {
			t.Fatalf("%.200s", r.raw)
		}
	}
	ok(reqTok(unicodeToken, now, "ping", nil, nil))
	for _, tok := range []string{"ключ-токен-≥16-символоВ", "\x00" + unicodeToken, "\xed\xa0\x80", strings.Repeat("€", 5000)} {
		wantErr(t, c.call(reqTok(tok, now, "ping", nil, nil)), CodeAuthInvalid, "AUTH_INVALID_TOKEN")
	}
	// Raw escapes in the token: a lone surrogate and an escaped NUL.
	line := strings.Replace(reqTok("X", now, "ping", nil, nil), `"X"`, `"\ud800\u0000ab"`, 1)
	wantErr(t, c.call(line), CodeAuthInvalid, "AUTH_INVALID_TOKEN")

	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	line = strings.Replace(reqTok(unicodeToken, now, "ping", nil, nil), `"id":7`, `"id":7,"params":`+deep(100000), 1)
	wantErr(t, c.call(line), CodeParseError, "PARSE_ERROR")
	// Deep but within encoding/json's limit, signed (so it is canonicalized too).
	params := []byte(deep(5000))
	ts := now.UnixMilli()
	sig, err := Sign(unicodeToken, ts, "deep-1", "ping", params)
	if err != nil {
		t.Fatal(err)
	}
	line = fmt.Sprintf(`{"jsonrpc":"2.0","method":"ping","id":1,"params":%s,"headers":{"X-BIZRA-TOKEN":%q,"X-BIZRA-TS":%d,"X-BIZRA-NONCE":"deep-1","X-BIZRA-SIG":%q}}`,
		params, unicodeToken, ts, sig)
	ok(line)

	r := c.call(reqTok(unicodeToken, now, "sovereign_query", map[string]any{"query": "q"}, nil))
	if r.Error != nil {
		t.Fatal(r.raw)
	}
	line = strings.Replace(reqTok(unicodeToken, now, "sovereign_query", map[string]any{"query": "q", "max_depth": 1}, nil), `"max_depth":1`, `"max_depth":1e400`, 1)
	r = c.call(line)
	wantErr(t, r, CodeInvalidParams, "INVALID_PARAMS")
	line = strings.Replace(reqTok(unicodeToken, now, "sovereign_query", map[string]any{"query": "q", "max_depth": 1}, nil), `"max_depth":1`, `"max_depth":123456789012345678901234567890`, 1)
	wantErr(t, c.call(line), CodeInvalidParams, "INVALID_PARAMS")
	// A signed request with a number JCS cannot encode fails the signature, cleanly.
	p := []byte(`{"x":1e400}`)
	sig, _ = Sign(unicodeToken, ts, "n-big", "ping", []byte(`{"x":1}`))
	line = fmt.Sprintf(`{"jsonrpc":"2.0","method":"ping","id":1,"params":%s,"headers":{"X-BIZRA-TOKEN":%q,"X-BIZRA-TS":%d,"X-BIZRA-NONCE":"n-big","X-BIZRA-SIG":%q}}`, p, unicodeToken, ts, sig)
	wantErr(t, c.call(line), CodeAuthInvalid, "AUTH_INVALID_SIGNATURE")
	// Invalid UTF-8 deep inside params.
	line = strings.Replace(reqTok(unicodeToken, now, "sovereign_query", map[string]any{"query": "Q"}, nil), `"Q"`, "\"q\xc3\x28\"", 1)
	wantErr(t, c.call(line), CodeParseError, "PARSE_ERROR")
	// A non-ASCII method name is reported, not mangled.
	r = c.call(reqTok(unicodeToken, now, "методы", nil, nil))
	wantErr(t, r, CodeMethodNotFound, "METHOD_NOT_FOUND")
	if r.Error.Message != "Method not found: методы" {
		t.Fatal(r.Error.Message)
	}
	// CRLF line endings are fine.
	c.send(reqTok(unicodeToken, now, "ping", nil, nil) + "\r")
	if r := c.recv(); r.Error != nil {
		t.Fatal(r.raw)
	}
	// Pipelined requests are answered in order.
	var sb strings.Builder
	for i := range 50 {
		sb.WriteString(strings.Replace(reqTok(unicodeToken, now, "ping", nil, nil), `"id":7`, fmt.Sprintf(`"id":%d`, i), 1) + "\n")
	}
	if _, err := c.nc.Write([]byte(sb.String())); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if r := c.recv(); string(r.ID) != fmt.Sprint(i) {
			t.Fatalf("response %d has id %s", i, r.ID)
		}
	}
}
