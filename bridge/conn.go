package bridge

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"
)

const (
	readBufferBytes  = 64 << 10
	writeBufferBytes = 64 << 10
	// lingerTimeout bounds how long a connection closed for a protocol violation is
	// drained after its last response, so the client reads the error instead of a reset.
	lingerTimeout = 500 * time.Millisecond
	lingerBytes   = 4 << 20
)

var (
	errLineTooLong    = errors.New("bridge: line too long")
	errPartialTimeout = errors.New("bridge: partial line timed out")
	errAuthTimeout    = errors.New("bridge: no authenticated request in time")
	errStopping       = errors.New("bridge: shutting down")
)

// conn is one client connection: readLoop decodes and answers requests in order,
// writeLoop alone writes to nc. They share only the bounded out queue.
type conn struct {
	b      *Bridge
	nc     net.Conn
	remote string
	ip     netip.Addr // remote address, the MaxConnsPerIP key

	out        chan []byte   // responses, closed by readLoop when it ends
	writerDone chan struct{} // closed by writeLoop when it ends
	linger     bool          // set by readLoop before closing out: drain before close

	// Owned by readLoop.
	br      *bufio.Reader
	lineBuf []byte
	bucket  bucket
	// authed is set once a request passed the auth table and the nonce check; until
	// then every read deadline is capped at authBy (AuthTimeout after accept).
	authed bool
	authBy time.Time

	mu sync.Mutex
	// mu guards the following field and the read deadline.
	stopping bool
}

func newConn(b *Bridge, nc net.Conn) *conn {
	return &conn{
		b:          b,
		nc:         nc,
		remote:     nc.RemoteAddr().String(),
		ip:         remoteIP(nc),
		authBy:     time.Now().Add(b.opts.AuthTimeout),
		out:        make(chan []byte, b.opts.OutboundQueue),
		writerDone: make(chan struct{}),
		br:         bufio.NewReaderSize(nc, readBufferBytes),
		bucket:     newBucket(b.opts.RatePerSec, b.opts.Burst, b.opts.Now()),
	}
}

// remoteIP is nc's remote address without port (IPv4-mapped addresses unmapped); the
// zero Addr when it is not TCP.
func remoteIP(nc net.Conn) netip.Addr {
	if ta, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		return ta.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}

// stop makes the reader finish after its current request (Shutdown).
func (c *conn) stop() {
	c.mu.Lock()
	c.stopping = true
	_ = c.nc.SetReadDeadline(time.Unix(1, 0))
	c.mu.Unlock()
}

func (c *conn) setReadDeadline(t time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopping {
		return false
	}
	_ = c.nc.SetReadDeadline(t)
	return true
}

func (c *conn) isStopping() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopping
}

func (c *conn) readLoop() {
	defer func() {
		close(c.out)
		<-c.writerDone
		c.b.removeConn(c)
	}()
	defer c.b.guard("reader") // runs first: a panic here still closes out and frees the slot
	for {
		line, err := c.readLine()
		if err != nil {
			switch {
			case errors.Is(err, errLineTooLong):
				c.linger = true
				c.enqueue(appendError(nil, nil, errTooLarge, nil))
				c.b.countUnauth(outcomeInvalidRequest, "line_too_long", c.remote)
			case errors.Is(err, errPartialTimeout) && !c.isStopping():
				c.linger = true
				c.enqueue(appendError(nil, nil, errLineTimeout, nil))
				c.b.countUnauth(outcomeInvalidRequest, "line_timeout", c.remote)
			case errors.Is(err, errAuthTimeout) && !c.isStopping():
				c.linger = true
				c.enqueue(appendError(nil, nil, c.b.errAuthTimeout, nil))
				c.b.m.authTimeouts.Inc()
				c.b.logRefusal("bridge closed a connection that did not authenticate in time", "AUTH_TIMEOUT", c.remote)
			}
			return
		}
		resp := c.b.serveLine(c, line, time.Now())
		if !c.enqueue(resp) {
			c.b.m.slowClients.Inc()
			if ok, suppressed := c.b.slowLog.allow(c.b.opts.Now()); ok {
				c.b.log.Warn("bridge client not reading its responses; disconnected", "remote_addr", c.remote, "suppressed", suppressed)
			}
			_ = c.nc.Close()
			return
		}
	}
}

// enqueue hands a response to the writer without ever blocking the reader.
func (c *conn) enqueue(b []byte) bool {
	select {
	case c.out <- b:
		return true
	default:
		return false
	}
}

// readLine returns the next line without its newline. The slice is valid until the
// next call. It waits IdleTimeout for a line to start and PartialLineTimeout for a
// started line to end, and never holds more than MaxLineBytes of one line.
func (c *conn) readLine() ([]byte, error) {
	o := &c.b.opts
	if c.br.Buffered() == 0 {
		if !c.setReadDeadline(c.deadline(o.IdleTimeout)) {
			return nil, errStopping
		}
		if _, err := c.br.Peek(1); err != nil {
			if c.authExpired(err) {
				return nil, errAuthTimeout
			}
			return nil, err // idle timeout, EOF, reset or shutdown
		}
	}
	if !c.setReadDeadline(c.deadline(o.PartialLineTimeout)) {
		return nil, errStopping
	}
	c.lineBuf = c.lineBuf[:0]
	for {
		chunk, err := c.br.ReadSlice('\n')
		n := len(c.lineBuf) + len(chunk)
		if err == nil {
			n-- // the newline does not count
		}
		if n > o.MaxLineBytes {
			return nil, errLineTooLong
		}
		if err == nil {
			if len(c.lineBuf) == 0 {
				return chunk[:len(chunk)-1], nil // zero copy: the whole line was buffered
			}
			c.lineBuf = append(c.lineBuf, chunk...)
			return c.lineBuf[:len(c.lineBuf)-1], nil
		}
		c.lineBuf = append(c.lineBuf, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if c.authExpired(err) {
			return nil, errAuthTimeout
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, errPartialTimeout
		}
		return nil, err // EOF in the middle of a line: the line is dropped
	}
}

// deadline is now+d, capped at authBy while the connection has not authenticated.
func (c *conn) deadline(d time.Duration) time.Time {
	t := time.Now().Add(d)
	if !c.authed && c.authBy.Before(t) {
		return c.authBy
	}
	return t
}

// authExpired reports whether err is a read timeout caused by AuthTimeout.
func (c *conn) authExpired(err error) bool {
	if c.authed || time.Now().Before(c.authBy) {
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (c *conn) writeLoop() {
	defer close(c.writerDone)
	defer func() {
		if v := recover(); v != nil {
			c.b.panicked("writer", v)
			_ = c.nc.Close() // unblocks the reader
			for range c.out {
			}
		}
	}()
	bw := bufio.NewWriterSize(c.nc, writeBufferBytes)
	wt := c.b.opts.WriteTimeout
	for msg := range c.out {
		_, _ = bw.Write(msg)
		// Batch whatever else is already queued into the same flush.
	batch:
		for bw.Buffered() < writeBufferBytes {
			select {
			case m, ok := <-c.out:
				if !ok {
					break batch
				}
				_, _ = bw.Write(m)
			default:
				break batch
			}
		}
		_ = c.nc.SetWriteDeadline(time.Now().Add(wt))
		if err := bw.Flush(); err != nil {
			_ = c.nc.Close() // unblocks the reader
			for range c.out {
			}
			return
		}
	}
	if c.linger {
		c.lingerClose()
		return
	}
	_ = c.nc.Close()
}

// lingerClose half-closes, then drains what the client still sends (bounded in time
// and bytes) so the kernel does not reset the connection before the client has read
// the last response.
func (c *conn) lingerClose() {
	if tc, ok := c.nc.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
	_ = c.nc.SetReadDeadline(time.Now().Add(lingerTimeout))
	_, _ = io.Copy(io.Discard, io.LimitReader(c.nc, lingerBytes))
	_ = c.nc.Close()
}
