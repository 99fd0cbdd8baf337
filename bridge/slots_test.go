package bridge

import (
	"bufio"
	"fmt"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// dialFrom dials the bridge from local address ip (any port).
func (e *env) dialFrom(t *testing.T, ip string) *tconn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	nc, err := d.Dial("tcp", e.b.Addr())
	if err != nil {
		t.Fatalf("dial from %s: %v", ip, err)
	}
	t.Cleanup(func() { nc.Close() })
	return &tconn{t: t, nc: nc, br: bufio.NewReaderSize(nc, 1<<16)}
}

// secondLoopback is another loopback source address; Linux routes all of 127/8 to
// lo, other systems configure only 127.0.0.1 by default.
func secondLoopback(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("needs 127.0.0.2 as a source address (Linux)")
	}
	return "127.0.0.2"
}

func waitConns(t *testing.T, e *env, want int) {
	t.Helper()
	checkFor(t, 10*time.Second, func() error {
		if n := e.b.Stats().Connections; n != want {
			return fmt.Errorf("connections = %d; want %d", n, want)
		}
		return nil
	})
}

// TestFaultBridgeSilentConnsClosed: a connection that sends nothing, or only
// unauthenticated or replayed lines, is answered AUTH_TIMEOUT and closed after
// AuthTimeout, long before IdleTimeout; one that authenticated keeps IdleTimeout.
func TestFaultBridgeSilentConnsClosed(t *testing.T) {
	set := metrics.NewSet()
	e := startEnv(t, func(o *Options) {
		o.Metrics = set
		o.AuthTimeout = time.Second // the authenticated client must get its ping in by then, even on a loaded machine
		o.IdleTimeout = time.Minute
	})
	// Accepted first, so its auth deadline passes before the others'.
	authed := e.dial(t)
	if r := authed.call(req("ping", nil, nil)); r.Error != nil {
		t.Fatal(r.raw)
	}
	used := req("ping", nil, nil)
	if r := authed.call(used); r.Error != nil {
		t.Fatal(r.raw)
	}
	silent := e.dial(t)
	chatty := e.dial(t)   // bad tokens: answered, never authenticated
	replayer := e.dial(t) // a captured line: passes the auth table, fails the nonce

	// Both keep sending until the AUTH_TIMEOUT line ends them: traffic that never
	// authenticates does not extend the deadline.
	talkers := []struct {
		c        *tconn
		line     string
		code     int
		data     string
		answered int
		timedOut bool
	}{
		{chatty, reqTok("wrong-token-0123456789", time.Now(), "ping", nil, nil), CodeAuthInvalid, "AUTH_INVALID_TOKEN", 0, false},
		{replayer, used, CodeNonceReplay, "AUTH_NONCE_REPLAY", 0, false},
	}
	for i := 0; !talkers[0].timedOut || !talkers[1].timedOut; i++ {
		if i == 500 {
			t.Fatal("an unauthenticated connection was never closed")
		}
		for j := range talkers {
			tk := &talkers[j]
			if tk.timedOut {
				continue
			}
			tk.c.send(tk.line)
			r := tk.c.recv()
			if r.Error != nil && r.Error.Data["code"] == "AUTH_TIMEOUT" {
				tk.timedOut = true
				expectClosed(t, tk.c, 3*time.Second)
				continue
			}
			wantErr(t, r, tk.code, tk.data)
			tk.answered++
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, tk := range talkers {
		if tk.answered == 0 {
			t.Fatalf("%s: no line answered before the timeout", tk.data)
		}
	}
	wantErr(t, silent.recv(), CodeAuthMissing, "AUTH_TIMEOUT")
	expectClosed(t, silent, 3*time.Second)
	// The authenticated connection, accepted before all of them, is still served.
	if r := authed.call(req("ping", nil, nil)); r.Error != nil {
		t.Fatalf("an authenticated connection was closed by the auth timeout: %s", r.raw)
	}
	waitConns(t, e, 1)
	if got := counterValue(t, set, `sovereign_bridge_disconnects_total{reason="auth_timeout"}`); got != 3 {
		t.Fatalf(`disconnects{reason="auth_timeout"} = %d; want 3`, got)
	}
}

// TestFaultBridgeSilentConnsPerIPCap: the MaxConnsPerIP+1-th connection from one
// address gets one TOO_MANY_CONNECTIONS line and is closed, and is counted; other
// addresses are still admitted, and a slot freed is usable again.
func TestFaultBridgeSilentConnsPerIPCap(t *testing.T) {
	const perIP = 3
	set := metrics.NewSet()
	e := startEnv(t, func(o *Options) {
		o.Metrics = set
		o.MaxConns = 10
		o.MaxConnsPerIP = perIP
		o.AuthTimeout = time.Minute
	})
	held := make([]*tconn, perIP)
	for i := range held {
		held[i] = e.dial(t)
	}
	waitConns(t, e, perIP)
	for i := range 2 {
		extra := e.dial(t)
		r := extra.recv()
		wantErr(t, r, CodeBusy, "TOO_MANY_CONNECTIONS")
		if receiptOf(r) != nil {
			t.Fatal("a refused connection got a receipt")
		}
		expectClosed(t, extra, 2*time.Second)
		if got := counterValue(t, set, `sovereign_bridge_disconnects_total{reason="max_conns_per_ip"}`); got != uint64(i+1) {
			t.Fatalf(`disconnects{reason="max_conns_per_ip"} = %d; want %d`, got, i+1)
		}
	}
	if got := counterValue(t, set, `sovereign_bridge_disconnects_total{reason="max_conns"}`); got != 0 {
		t.Fatalf("per-address refusals counted as max_conns: %d", got)
	}
	// Admitted ones are served.
	if r := held[0].call(req("ping", nil, nil)); r.Error != nil {
		t.Fatal(r.raw)
	}
	// Another address is not affected.
	if r := e.dialFrom(t, secondLoopback(t)).call(req("ping", nil, nil)); r.Error != nil {
		t.Fatalf("another address refused: %s", r.raw)
	}
	// A slot freed is usable again.
	held[1].nc.Close()
	waitConns(t, e, perIP) // perIP-1 from 127.0.0.1, one from 127.0.0.2
	if r := e.dial(t).call(req("ping", nil, nil)); r.Error != nil {
		t.Fatal(r.raw)
	}
}

// TestFaultBridgeSilentConnsHoldSlots: silent connections filling the bridge do not
// stop a legit client that finds a slot, and once their auth timeout passes every
// slot is free again (instead of after IdleTimeout, 5 minutes by default).
func TestFaultBridgeSilentConnsHoldSlots(t *testing.T) {
	const max = 8
	e := startEnv(t, func(o *Options) {
		o.MaxConns = max
		o.MaxConnsPerIP = max
		o.AuthTimeout = time.Second
	})
	silent := make([]*tconn, max-1)
	for i := range silent {
		silent[i] = e.dial(t)
	}
	waitConns(t, e, max-1)
	legit := e.dial(t)
	if r := legit.call(req("ping", nil, nil)); r.Error != nil {
		t.Fatalf("a legit client was not served: %s", r.raw)
	}
	wantErr(t, e.dial(t).recv(), CodeBusy, "SERVER_BUSY")
	for _, c := range silent {
		wantErr(t, c.recv(), CodeAuthMissing, "AUTH_TIMEOUT")
		expectClosed(t, c, 3*time.Second)
	}
	waitConns(t, e, 1)
	for range max - 1 {
		if r := e.dial(t).call(req("ping", nil, nil)); r.Error != nil {
			t.Fatalf("a slot freed by the auth timeout is not usable: %s", r.raw)
		}
	}
	if r := legit.call(req("ping", nil, nil)); r.Error != nil {
		t.Fatal(r.raw)
	}
}

// TestFaultBridgeSilentConns1100: the reported attack with the default limits: 1,100
// connections from 127.0.0.1 that never send a byte. No more than MaxConnsPerIP of
// them are ever admitted (the rest are refused at once), a client from another
// loopback address is served meanwhile, each admitted one is closed by the auth
// timeout, and then 127.0.0.1 is served again.
func TestFaultBridgeSilentConns1100(t *testing.T) {
	set := metrics.NewSet()
	e := startEnv(t, func(o *Options) {
		o.Metrics = set
		o.AuthTimeout = 2 * time.Second
	})
	other := secondLoopback(t)
	const n = 1100
	conns := make([]net.Conn, 0, n)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	maxSeen := 0
	for range n {
		nc, err := net.Dial("tcp", e.b.Addr())
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		conns = append(conns, nc)
		maxSeen = max(maxSeen, e.b.Stats().Connections)
	}
	if maxSeen > DefaultMaxConnsPerIP {
		t.Fatalf("%d connections from one address admitted; the cap is %d", maxSeen, DefaultMaxConnsPerIP)
	}
	if r := e.dialFrom(t, other).call(req("ping", nil, nil)); r.Error != nil {
		t.Fatalf("another address not served: %s", r.raw)
	}
	// Every silent connection ends refused at accept or closed by the auth timeout.
	var refused, timedOut uint64
	checkFor(t, 20*time.Second, func() error {
		refused = counterValue(t, set, `sovereign_bridge_disconnects_total{reason="max_conns_per_ip"}`)
		timedOut = counterValue(t, set, `sovereign_bridge_disconnects_total{reason="auth_timeout"}`)
		if refused+timedOut != n {
			return fmt.Errorf("refused %d + auth timeouts %d; want %d", refused, timedOut, n)
		}
		return nil
	})
	if refused == 0 || timedOut == 0 {
		t.Fatalf("refused %d, auth timeouts %d: want both", refused, timedOut)
	}
	waitConns(t, e, 1) // the other address's client
	if r := e.dial(t).call(req("ping", nil, nil)); r.Error != nil {
		t.Fatal(r.raw)
	}
}

// TestSlotOptions: the zero values are the documented defaults; negative is refused.
func TestSlotOptions(t *testing.T) {
	b, err := New(baseOptions(newFakeCore(), newFakeReceipts()))
	if err != nil {
		t.Fatal(err)
	}
	if b.opts.AuthTimeout != DefaultAuthTimeout || b.opts.MaxConnsPerIP != DefaultMaxConnsPerIP {
		t.Fatalf("defaults %v, %d", b.opts.AuthTimeout, b.opts.MaxConnsPerIP)
	}
	for _, mut := range []func(*Options){
		func(o *Options) { o.AuthTimeout = -time.Second },
		func(o *Options) { o.MaxConnsPerIP = -1 },
	} {
		o := baseOptions(newFakeCore(), newFakeReceipts())
		mut(&o)
		if _, err := New(o); err == nil {
			t.Error("negative limit accepted")
		}
	}
}
