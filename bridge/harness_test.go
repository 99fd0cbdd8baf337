package bridge

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testToken  = "test-token-0123456789"
	testSecret = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
)

type env struct {
	b        *Bridge
	core     *fakeCore
	receipts *fakeReceipts
	opts     Options
}

// baseOptions is a valid configuration on an ephemeral port with rate limits off.
func baseOptions(core *fakeCore, rec *fakeReceipts) Options {
	return Options{Port: 0, Token: testToken, SecretHex: testSecret, Role: "node",
		Core: core, Receipts: rec}
}

func startEnv(t *testing.T, mut func(*Options)) *env {
	t.Helper()
	core, rec := newFakeCore(), newFakeReceipts()
	o := baseOptions(core, rec)
	if mut != nil {
		mut(&o)
	}
	b, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := b.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := b.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return &env{b: b, core: core, receipts: rec, opts: b.opts}
}

// tconn is a raw test connection.
type tconn struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

func (e *env) dial(t *testing.T) *tconn {
	t.Helper()
	nc, err := net.Dial("tcp", e.b.Addr())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { nc.Close() })
	return &tconn{t: t, nc: nc, br: bufio.NewReaderSize(nc, 1<<16)}
}

func (c *tconn) send(line string) {
	c.t.Helper()
	_ = c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.nc.Write([]byte(line + "\n")); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *tconn) recvLine() string {
	c.t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	s, err := c.br.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read: %v (partial %q)", err, s)
	}
	return strings.TrimSuffix(s, "\n")
}

// resp is a decoded response for assertions.
type resp struct {
	raw     string
	JSONRPC string          `json:"jsonrpc"`
	Result  map[string]any  `json:"result"`
	Error   *respErr        `json:"error"`
	ID      json.RawMessage `json:"id"`
}

type respErr struct {
	Code    int            `json:"code"`
	Message string         `json:"message"`
	Data    map[string]any `json:"data"`
}

func (c *tconn) recv() resp {
	c.t.Helper()
	line := c.recvLine()
	var r resp
	if err := json.Unmarshal([]byte(line), &r); err != nil {
		c.t.Fatalf("response is not JSON: %v: %q", err, line)
	}
	r.raw = line
	if r.JSONRPC != "2.0" {
		c.t.Fatalf("jsonrpc = %q in %s", r.JSONRPC, line)
	}
	if (r.Result == nil) == (r.Error == nil) {
		c.t.Fatalf("want exactly one of result and error: %s", line)
	}
	if r.Error != nil {
		if _, ok := r.Error.Data["code"].(string); !ok {
			c.t.Fatalf("error without data.code: %s", line)
		}
		if _, ok := r.Error.Data["receipt"]; !ok {
			c.t.Fatalf("error without data.receipt: %s", line)
		}
	} else if rc, ok := r.Result["receipt"].(map[string]any); !ok || !ValidReceiptID(str0(rc["receipt_id"])) {
		c.t.Fatalf("result without a receipt: %s", line)
	}
	return r
}

func (c *tconn) call(line string) resp {
	c.t.Helper()
	c.send(line)
	return c.recv()
}

func str0(v any) string { s, _ := v.(string); return s }

// req builds a request line. params nil omits the member; mut edits the headers.
func req(method string, params any, mut func(h map[string]any)) string {
	return reqTok(testToken, time.Now(), method, params, mut)
}

func reqTok(token string, now time.Time, method string, params any, mut func(h map[string]any)) string {
	h := map[string]any{HeaderToken: token, HeaderTS: now.UnixMilli(), HeaderNonce: NewNonce()}
	if mut != nil {
		mut(h)
	}
	m := map[string]any{"jsonrpc": "2.0", "method": method, "id": 7, "headers": h}
	if params != nil {
		m["params"] = params
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// wantErr checks an error response's code and data.code.
func wantErr(t *testing.T, r resp, code int, dataCode string) {
	t.Helper()
	if r.Error == nil {
		t.Fatalf("want error %d %s, got result %s", code, dataCode, r.raw)
	}
	if r.Error.Code != code || r.Error.Data["code"] != dataCode {
		t.Fatalf("got error %d %v; want %d %s (%s)", r.Error.Code, r.Error.Data["code"], code, dataCode, r.raw)
	}
}

// receiptOf returns data.receipt / result.receipt as a map, nil when null.
func receiptOf(r resp) map[string]any {
	var v any
	if r.Error != nil {
		v = r.Error.Data["receipt"]
	} else {
		v = r.Result["receipt"]
	}
	m, _ := v.(map[string]any)
	return m
}

// checkFor polls f until it returns nil or total passes.
func checkFor(t *testing.T, total time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(total)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// logRecorder is a slog.Handler that keeps every record, for tests that count log lines.
type logRecorder struct {
	mu   *sync.Mutex
	recs *[]slog.Record
}

func newLogRecorder() *logRecorder {
	return &logRecorder{mu: &sync.Mutex{}, recs: &[]slog.Record{}}
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	*h.recs = append(*h.recs, r.Clone())
	h.mu.Unlock()
	return nil
}
func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logRecorder) WithGroup(string) slog.Handler      { return h }

// messages returns the records whose message is msg.
func (h *logRecorder) messages(msg string) []slog.Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []slog.Record
	for _, r := range *h.recs {
		if r.Message == msg {
			out = append(out, r)
		}
	}
	return out
}

// attr returns the value of key in r ("" when absent).
func attr(r slog.Record, key string) string {
	v := ""
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			v = a.Value.String()
			return false
		}
		return true
	})
	return v
}
