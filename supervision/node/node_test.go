package node

import (
	"context"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bizra/bizra/actors/core"
	"github.com/bizra/bizra/actors/receipt"
	"github.com/bizra/bizra/bridge"
	"github.com/bizra/bizra/gateway"
)

// options are a node over fresh temporary state, with the API and the bridge on
// 127.0.0.1:0 when asked.
func options(t *testing.T, api, withBridge bool) Options {
	t.Helper()
	secret, err := receipt.GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	o := Options{Runtime: core.Options{Version: "test", StateDir: filepath.Join(dir, "state"),
		DataLake: filepath.Join(dir, "lake"), ReceiptSecret: secret}}
	if api {
		o.API = &APIOptions{Gateway: gateway.Options{Addr: "127.0.0.1:0"}}
	}
	if withBridge {
		o.Bridge = &bridge.Options{Host: "127.0.0.1", Port: 0, Token: strings.Repeat("t", 32),
			SecretHex: secret.RevealHex(), Role: "node"}
	}
	return o
}

func stop(t *testing.T, n *Node) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := n.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
}

// TestComponentsOrder: the launcher gets runtime, api, bridge in that order, and only
// the parts asked for.
func TestComponentsOrder(t *testing.T) {
	for _, tc := range []struct {
		name            string
		api, withBridge bool
		want            string
	}{
		{"runtime only", false, false, "runtime"},
		{"api", true, false, "runtime,api"},
		{"bridge", false, true, "runtime,bridge"},
		{"all", true, true, "runtime,api,bridge"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := New(options(t, tc.api, tc.withBridge))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(n.Close)
			var names []string
			for _, c := range n.Components() {
				names = append(names, c.Name)
			}
			if got := strings.Join(names, ","); got != tc.want {
				t.Errorf("components %s, want %s", got, tc.want)
			}
			if (n.Bridge != nil) != tc.withBridge || n.API != nil {
				t.Errorf("before start: bridge %v api %v", n.Bridge != nil, n.API != nil)
			}
		})
	}
}

// TestStartServesAndShutdownStops: a started node answers on its API, its bridge
// listens and the status reports it; Shutdown releases both addresses.
func TestStartServesAndShutdownStops(t *testing.T) {
	n, err := New(options(t, true, true))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		n.Close()
		t.Fatal(err)
	}
	apiAddr, brAddr := n.API.Addr(), n.Bridge.Addr()
	tr := &http.Transport{}
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get("http://" + apiAddr + "/v1/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	tr.CloseIdleConnections()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("GET /v1/health: HTTP %d", resp.StatusCode)
	}
	if !n.Runtime.Ready() {
		t.Error("runtime not ready after Start")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{apiAddr, brAddr} {
		if c, err := net.DialTimeout("tcp", a, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts after Shutdown", a)
		}
	}
	if n.Runtime.Ready() {
		t.Error("runtime still ready after Shutdown")
	}
}

// TestFaultNodeStartFails: when a later component cannot start, the error names it and
// what already started is stopped again.
func TestFaultNodeStartFails(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { busy.Close() })
	port := busy.Addr().(*net.TCPAddr).Port
	for _, tc := range []struct {
		name   string
		mutate func(*Options)
		prefix string
	}{
		{"api port taken", func(o *Options) { o.API.Gateway.Addr = busy.Addr().String() }, "api: "},
		{"bridge port taken", func(o *Options) { o.Bridge.Port = port }, "bridge: "},
		{"bridge without token", func(o *Options) { o.Bridge.Token = "" }, "bridge: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := options(t, true, true)
			tc.mutate(&o)
			n, err := New(o)
			if err != nil {
				t.Fatal(err)
			}
			stop(t, n)
			err = n.Start(context.Background())
			if err == nil || !strings.HasPrefix(err.Error(), tc.prefix) {
				t.Fatalf("Start = %v, want an error starting %q", err, tc.prefix)
			}
			if n.Runtime.Ready() {
				t.Error("runtime left running after a failed start")
			}
		})
	}
}

// TestFaultNodeNewRefuses: a configuration a part refuses is an error from New, and
// nothing is left running (goleak in TestMain).
func TestFaultNodeNewRefuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Options)
		want   error
	}{
		{"no receipt secret", func(o *Options) { o.Runtime.ReceiptSecret = receipt.Secret{} }, core.ErrOptions},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := options(t, true, true)
			tc.mutate(&o)
			n, err := New(o)
			if err == nil {
				n.Close()
				t.Fatal("New accepted the configuration")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("New = %v, want %v", err, tc.want)
			}
		})
	}
}
