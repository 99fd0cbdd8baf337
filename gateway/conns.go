package gateway

import (
	"fmt"
	"net"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/bizra/bizra/internal/catalog"
)

// Reasons of sovereign_http_rejected_total: requests and connections refused before
// any route saw them.
const (
	rejectConcurrency    = iota // MaxConns connections already open
	rejectBodyTooLarge          // fasthttp refused a body over twice the API limit
	rejectHeaderTooLarge        // request headers larger than the read buffer
	rejectTimeout               // the request did not arrive within ReadTimeout
	rejectMalformed             // not parseable as HTTP
	rejectReasons
)

var rejectNames = [rejectReasons]string{"concurrency", "body_too_large", "header_too_large", "timeout", "malformed"}

const (
	// maxRefusing bounds the goroutines writing the 503 of refused connections; past
	// it a refused connection is closed without an answer (still counted).
	maxRefusing = 64
	// refuseTimeout bounds one refusal: write the 503, then wait for the client to
	// close (so that unread request bytes do not turn the close into a reset that
	// destroys the answer).
	refuseTimeout = time.Second
)

// connGate counts the connections fasthttp serves (through Server.ConnState) and
// refuses those past max itself, with the api.md JSON error, X-Request-Id and
// Retry-After: fasthttp's own refusal at Server.Concurrency is a plain-text 503
// written inside its accept loop, with no hook.
type connGate struct {
	s      *Server
	max    int64
	open   atomic.Int64
	slots  chan struct{} // refusals in flight
	wg     sync.WaitGroup
	warned atomic.Int64 // unix seconds of the last "connection limit" warning
}

// state is fasthttp's ConnState hook: every connection handed to fasthttp is StateNew
// once and StateClosed or StateHijacked once.
func (g *connGate) state(_ net.Conn, st fasthttp.ConnState) {
	switch st {
	case fasthttp.StateNew:
		g.open.Add(1)
	case fasthttp.StateClosed, fasthttp.StateHijacked:
		g.open.Add(-1)
	}
}

// gatedListener is the listener fasthttp serves: Accept hands over a connection only
// while fewer than max are open. fasthttp calls Accept from one goroutine and marks
// each accepted connection StateNew before the next Accept, so the count is exact.
type gatedListener struct {
	net.Listener
	g *connGate
}

func (l *gatedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.g.open.Load() < l.g.max {
			return c, nil
		}
		l.g.refuse(c)
	}
}

// refuse answers c 503 OVERLOADED on an owned goroutine (bounded by maxRefusing and
// refuseTimeout), or closes it at once when too many refusals are in flight.
func (g *connGate) refuse(c net.Conn) {
	s := g.s
	s.rejected[rejectConcurrency].Inc()
	if now := time.Now().Unix(); g.warned.Load() < now-60 {
		g.warned.Store(now)
		s.log.Warn("connection refused: connection limit reached", "max_conns", g.max)
	}
	select {
	case g.slots <- struct{}{}:
	default:
		_ = c.Close()
		return
	}
	id := s.reqPrefix + strconv.FormatUint(s.reqSeq.Add(1), 16)
	g.wg.Go(func() {
		defer func() { <-g.slots }()
		defer c.Close()
		defer func() {
			if p := recover(); p != nil {
				s.panics.Inc()
				s.log.Error("panic refusing a connection", "req_id", id, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			}
		}()
		_ = c.SetDeadline(time.Now().Add(refuseTimeout))
		if _, err := c.Write(overloadedResponse(id)); err != nil {
			return
		}
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		var buf [4096]byte
		for read := 0; read < 64<<10; {
			n, err := c.Read(buf[:])
			if err != nil {
				return
			}
			read += n
		}
	})
}

// overloadedResponse is the whole HTTP/1.1 answer to a refused connection.
func overloadedResponse(id string) []byte {
	p := catalog.Lookup(ErrBusy)
	body := `{"error":"` + p.Message + `","code":"` + p.Code + `","request_id":"` + id + `"}`
	return []byte("HTTP/1.1 503 Service Unavailable\r\nServer: bizra\r\nContent-Type: application/json\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\nRetry-After: 1\r\nX-Request-Id: " + id +
		"\r\nConnection: close\r\n\r\n" + body)
}
