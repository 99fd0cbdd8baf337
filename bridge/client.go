package bridge

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"time"
)

// DefaultClientTimeout bounds a client call whose ctx has no deadline.
const DefaultClientTimeout = 10 * time.Second

// maxResponseBytes bounds one response line read by the client.
const maxResponseBytes = 16 << 20

// Response is one decoded response line.
type Response struct {
	JSONRPC string          `json:"jsonrpc"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *RPCError       `json:"error,omitempty"`
	ID      json.RawMessage `json:"id"`
}

// RPCError is a response's error member.
type RPCError struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

func (e *RPCError) Error() string { return fmt.Sprintf("bridge rpc error %d: %s", e.Code, e.Message) }

// Client is one authenticated bridge connection (for `bizra ping`, the gate and
// benchmarks). A Client is not safe for concurrent use: requests are sequential.
type Client struct {
	nc    net.Conn
	br    *bufio.Reader
	token string
	// Sign adds X-BIZRA-SIG to every request.
	Sign bool
	// Now is the clock for X-BIZRA-TS; nil means time.Now.
	Now func() time.Time

	seq atomic.Int64
	buf []byte
}

// Dial connects to a bridge at addr ("127.0.0.1:9742").
func Dial(ctx context.Context, addr, token string) (*Client, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("bridge client: dial %s: %w", addr, err)
	}
	return &Client{nc: nc, br: bufio.NewReaderSize(nc, 64<<10), token: token}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.nc.Close() }

// NewNonce returns a random 32-hex-character nonce.
func NewNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Request builds one authenticated request line (with its newline). params nil
// sends no params member.
func Request(token, method string, params any, id int64, ts int64, nonce string, sign bool) ([]byte, error) {
	var rawParams json.RawMessage
	if params != nil {
		p, err := json.Marshal(params)
		if err != nil {
			return nil, fmt.Errorf("bridge client: encode params: %w", err)
		}
		rawParams = p
	}
	h := map[string]any{HeaderToken: token, HeaderTS: ts, HeaderNonce: nonce}
	if sign {
		s, err := Sign(token, ts, nonce, method, rawParams)
		if err != nil {
			return nil, fmt.Errorf("bridge client: sign: %w", err)
		}
		h[HeaderSig] = s
	}
	req := struct {
		JSONRPC string          `json:"jsonrpc"`
		Method  string          `json:"method"`
		Params  json.RawMessage `json:"params,omitempty"`
		ID      int64           `json:"id"`
		Headers map[string]any  `json:"headers"`
	}{"2.0", method, rawParams, id, h}
	b, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("bridge client: encode request: %w", err)
	}
	return append(b, '\n'), nil
}

// Call sends one request and returns the response line (without its newline).
// A JSON-RPC error is not a Go error here: decode the line with ParseResponse.
func (c *Client) Call(ctx context.Context, method string, params any) ([]byte, error) {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	line, err := Request(c.token, method, params, c.seq.Add(1), now().UnixMilli(), NewNonce(), c.Sign)
	if err != nil {
		return nil, err
	}
	return c.RoundTrip(ctx, line)
}

// RoundTrip writes one raw request line (which must end in a newline) and reads one
// response line.
func (c *Client) RoundTrip(ctx context.Context, line []byte) ([]byte, error) {
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(DefaultClientTimeout)
	}
	_ = c.nc.SetDeadline(dl)
	if _, err := c.nc.Write(line); err != nil {
		return nil, fmt.Errorf("bridge client: write: %w", err)
	}
	c.buf = c.buf[:0]
	for {
		chunk, err := c.br.ReadSlice('\n')
		if len(c.buf)+len(chunk) > maxResponseBytes {
			return nil, ErrResponseTooLarge
		}
		c.buf = append(c.buf, chunk...)
		if err == nil {
			out := make([]byte, len(c.buf)-1)
			copy(out, c.buf)
			return out, nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return nil, fmt.Errorf("bridge client: read: %w", err)
		}
	}
}

// ParseResponse decodes a response line.
func ParseResponse(line []byte) (Response, error) {
	var r Response
	if err := json.Unmarshal(line, &r); err != nil {
		return r, fmt.Errorf("bridge client: decode response: %w", err)
	}
	return r, nil
}

// Call dials addr, sends one authenticated request and returns the response line.
func Call(ctx context.Context, addr, token, method string, params any) ([]byte, error) {
	c, err := Dial(ctx, addr, token)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.Call(ctx, method, params)
}

// Ping is `bizra ping`: one authenticated ping; it returns the response line.
func Ping(ctx context.Context, addr, token string) ([]byte, error) {
	return Call(ctx, addr, token, "ping", nil)
}

// Addr joins a host and port ("127.0.0.1", 9742 → "127.0.0.1:9742").
func Addr(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }
