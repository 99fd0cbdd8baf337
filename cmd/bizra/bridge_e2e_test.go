package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/bizra/bizra/bridge"
)

// TestFaultBridgeE2ESlotsAndReplay wires the bridge the way `bizra run` does (flags →
// config → newBridge) on a real runtime: --bridge-auth-timeout closes a silent
// connection, --bridge-max-conns-per-ip refuses the next one, and a ping line accepted
// before a bridge restart is refused after it.
func TestFaultBridgeE2ESlotsAndReplay(t *testing.T) {
	n := startE2E(t, e2eOpts{})
	const token = "e2e-bridge-token-0123456789"
	env := &envSource{getenv: func(k string) (string, bool) {
		v, ok := map[string]string{"BIZRA_BRIDGE_TOKEN": token,
			"BIZRA_RECEIPT_PRIVATE_KEY_HEX": strings.Repeat("ab", 32)}[k]
		return v, ok
	}, dotenv: map[string]string{}}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	cfg, err := bindRuntimeFlags(fs, env, n.dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := fs.Parse([]string{"--bridge-port", "0", "--bridge-auth-timeout", "1s", "--bridge-max-conns-per-ip", "2"}); err != nil {
		t.Fatal(err)
	}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	start := func() *bridge.Bridge {
		b, err := newBridge(cfg, n.rt, slog.New(slog.DiscardHandler), n.set)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = b.Shutdown(context.Background()) })
		return b
	}
	roundTrip := func(nc net.Conn, br *bufio.Reader, line []byte) bridge.Response {
		t.Helper()
		_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
		if line != nil {
			if _, err := nc.Write(line); err != nil {
				t.Fatal(err)
			}
		}
		s, err := br.ReadBytes('\n')
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		r, err := bridge.ParseResponse(s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	dataCode := func(r bridge.Response) string {
		if r.Error == nil {
			return ""
		}
		var d struct {
			Code string `json:"code"`
		}
		_ = json.Unmarshal(r.Error.Data, &d)
		return d.Code
	}
	dial := func(addr string) (net.Conn, *bufio.Reader) {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		return nc, bufio.NewReader(nc)
	}

	b := start()
	captured := time.Now()
	pingLine, err := bridge.Request(token, "ping", nil, 1, captured.UnixMilli(), bridge.NewNonce(), false)
	if err != nil {
		t.Fatal(err)
	}
	authed, authedR := dial(b.Addr())
	if r := roundTrip(authed, authedR, pingLine); r.Error != nil {
		t.Fatalf("ping: %+v", r.Error)
	}
	silent, silentR := dial(b.Addr())
	third, thirdR := dial(b.Addr())
	if r := roundTrip(third, thirdR, nil); dataCode(r) != "TOO_MANY_CONNECTIONS" {
		t.Fatalf("third connection from one address: %+v; want TOO_MANY_CONNECTIONS", r.Error)
	}
	if r := roundTrip(silent, silentR, nil); dataCode(r) != "AUTH_TIMEOUT" {
		t.Fatalf("silent connection: %+v; want AUTH_TIMEOUT", r.Error)
	}

	// Restart the bridge on the same runtime and token and replay the captured line
	// (the auth timeout above has put a second between the line and the restart).
	if err := b.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if time.Since(captured) < 2*time.Millisecond {
		t.Fatal("the restart must come after the line's millisecond")
	}
	b2 := start()
	nc, br := dial(b2.Addr())
	r := roundTrip(nc, br, pingLine)
	if r.Error == nil || r.Error.Code != bridge.CodeAuthStale || dataCode(r) != "AUTH_STALE_TIMESTAMP" {
		t.Fatalf("replay after restart: %+v; want -32003 AUTH_STALE_TIMESTAMP", r)
	}
	if v := n.set.GetOrCreateCounter(`sovereign_bridge_auth_failures_total{reason="before_start"}`).Get(); v != 1 {
		t.Fatalf(`auth_failures_total{reason="before_start"} = %d; want 1`, v)
	}
}
