package inference

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// connPool is the pooled HTTP/1.1 client of one backend's non-streamed exchanges
// (chat, model listings, Forward): fasthttp's request and response types over
// connections this pool owns. The exchange runs on the caller's goroutine (net/http
// hands every request to two more goroutines per connection), and it is cancellable:
// fasthttp's own clients honour a deadline but cannot abort a request whose context is
// cancelled, so each exchange arms context.AfterFunc to move its connection's deadline
// into the past, which aborts a blocked write or read at once; the connection is then
// closed (the backend sees the cancel), never reused. Streams stay on net/http
// (stream.go), whose Body.Close abandons them.
//
// Connections: at most maxIdle idle ones are kept (LIFO), each for at most
// idleTimeout; open ones are bounded by the concurrent exchanges (the backend's
// MaxInFlight slots, one probe, one model listing). close closes every connection,
// idle or in use (an exchange in flight fails), and refuses new ones.
type connPool struct {
	addr        string      // host:port dialled
	tlsConf     *tls.Config // nil: plain TCP
	dialer      net.Dialer
	maxIdle     int
	idleTimeout time.Duration

	mu     sync.Mutex
	idle   []*poolConn
	open   map[*poolConn]struct{}
	closed bool
}

// poolConn is one connection with its buffers.
type poolConn struct {
	c    net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer
	used time.Time // when it went idle
}

// errPoolClosed: the backend's client was closed (Shutdown).
var errPoolClosed = errors.New("inference: backend client closed")

// newConnPool is the pool for base (an http or https URL).
func newConnPool(base string, maxIdle int) (*connPool, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	p := &connPool{dialer: net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second},
		maxIdle: max(maxIdle, 1), idleTimeout: 30 * time.Second, open: map[*poolConn]struct{}{}}
	host, port := u.Hostname(), u.Port()
	switch u.Scheme {
	case "http":
		if port == "" {
			port = "80"
		}
	case "https":
		if port == "" {
			port = "443"
		}
		p.tlsConf = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
	default:
		return nil, fmt.Errorf("scheme %q: not http or https", u.Scheme)
	}
	if host == "" {
		return nil, errors.New("no host")
	}
	p.addr = net.JoinHostPort(host, port)
	return p, nil
}

// aLongTimeAgo is a deadline in the past: it aborts any blocked I/O on a connection.
var aLongTimeAgo = time.Unix(1, 0)

// do sends req and reads the whole answer into resp (at most limit body bytes), under
// ctx and the deadline dl (zero: none). A request that fails on a reused connection
// before any byte of the answer arrived (the backend closed it while idle) is sent once
// more on a fresh one. It returns the context's error when ctx ended the exchange.
func (p *connPool) do(ctx context.Context, req *fasthttp.Request, resp *fasthttp.Response, dl time.Time, limit int) error {
	for fresh := false; ; fresh = true {
		pc, reused, err := p.get(ctx, fresh)
		if err != nil {
			return err
		}
		err = p.roundTrip(ctx, pc, req, resp, dl, limit)
		if err == nil || !reused || ctx.Err() != nil || !staleConn(err) {
			return err
		}
		resp.Reset()
	}
}

// staleConn says whether err is what a request on a connection the backend had
// already closed gets: a write refused or nothing at all read back.
func staleConn(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.ErrUnexpectedEOF)
}

func (p *connPool) roundTrip(ctx context.Context, pc *poolConn, req *fasthttp.Request, resp *fasthttp.Response, dl time.Time, limit int) error {
	if err := pc.c.SetDeadline(dl); err != nil {
		p.discard(pc)
		return err
	}
	stop := context.AfterFunc(ctx, func() { _ = pc.c.SetDeadline(aLongTimeAgo) })
	err := req.Write(pc.bw)
	if err == nil {
		err = pc.bw.Flush()
	}
	if err == nil {
		err = resp.ReadLimitBody(pc.br, limit)
	}
	if !stop() {
		// ctx ended: the connection's deadline may be in the past now.
		p.discard(pc)
		if err != nil {
			return ctx.Err()
		}
		return nil
	}
	if err != nil || resp.ConnectionClose() {
		p.discard(pc)
		return err
	}
	p.put(pc)
	return nil
}

// get returns an idle connection (reused) or dials a new one; fresh skips the idle ones.
func (p *connPool) get(ctx context.Context, fresh bool) (*poolConn, bool, error) {
	now := time.Now()
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, false, errPoolClosed
	}
	var stale []*poolConn
	var pc *poolConn
	for !fresh && len(p.idle) > 0 {
		c := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if now.Sub(c.used) < p.idleTimeout {
			pc = c
			break
		}
		delete(p.open, c)
		stale = append(stale, c)
	}
	p.mu.Unlock()
	for _, c := range stale {
		_ = c.c.Close()
	}
	if pc != nil {
		return pc, true, nil
	}
	var c net.Conn
	var err error
	if p.tlsConf != nil {
		c, err = (&tls.Dialer{NetDialer: &p.dialer, Config: p.tlsConf}).DialContext(ctx, "tcp", p.addr)
	} else {
		c, err = p.dialer.DialContext(ctx, "tcp", p.addr)
	}
	if err != nil {
		return nil, false, err
	}
	pc = &poolConn{c: c, br: bufio.NewReaderSize(c, 8<<10), bw: bufio.NewWriterSize(c, 8<<10)}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		_ = c.Close()
		return nil, false, errPoolClosed
	}
	p.open[pc] = struct{}{}
	p.mu.Unlock()
	return pc, false, nil
}

// put returns pc to the idle list (closed when the list is full or the pool closed).
func (p *connPool) put(pc *poolConn) {
	pc.used = time.Now()
	p.mu.Lock()
	if !p.closed && len(p.idle) < p.maxIdle {
		p.idle = append(p.idle, pc)
		p.mu.Unlock()
		return
	}
	delete(p.open, pc)
	p.mu.Unlock()
	_ = pc.c.Close()
}

// discard closes pc for good.
func (p *connPool) discard(pc *poolConn) {
	p.mu.Lock()
	delete(p.open, pc)
	p.mu.Unlock()
	_ = pc.c.Close()
}

// close closes every connection (an exchange in flight fails) and refuses new ones.
// Idempotent.
func (p *connPool) close() {
	p.mu.Lock()
	p.closed = true
	conns := make([]*poolConn, 0, len(p.open))
	for pc := range p.open {
		conns = append(conns, pc)
	}
	clear(p.open)
	p.idle = nil
	p.mu.Unlock()
	for _, pc := range conns {
		_ = pc.c.Close()
	}
}

// openConns is the number of open connections (tests).
func (p *connPool) openConns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.open)
}
