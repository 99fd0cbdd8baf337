package bridge

import (
	"context"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// startClocked starts a bridge on clk with the given receipts and metrics; it is shut
// down by t.Cleanup (a second Shutdown is a no-op, so tests may restart earlier).
func startClocked(t *testing.T, clk *fakeClock, set *metrics.Set, startSkew time.Duration) *env {
	t.Helper()
	return startEnv(t, func(o *Options) {
		o.Now = clk.Now
		o.Metrics = set
		o.StartSkew = startSkew
	})
}

// TestFaultBridgeReplayAfterRestart: a line captured and accepted by one listener is
// refused by the next one (same token) after a restart, although its nonce is unknown
// to the new window: its timestamp predates the new listener's start. A client whose
// clock lags the node by less than StartSkew is served right after the restart.
func TestFaultBridgeReplayAfterRestart(t *testing.T) {
	clk := newFakeClock()
	first := startClocked(t, clk, metrics.NewSet(), 0)
	captured := reqTok(testToken, clk.Now(), "ping", nil, nil)
	signed, err := Request(testToken, "status", nil, 3, clk.Now().UnixMilli(), "captured-signed", true)
	if err != nil {
		t.Fatal(err)
	}
	c := first.dial(t)
	if r := c.call(captured); r.Error != nil {
		t.Fatalf("first listener refused a fresh line: %s", r.raw)
	}
	if r := c.call(string(signed[:len(signed)-1])); r.Error != nil {
		t.Fatalf("first listener refused a fresh signed line: %s", r.raw)
	}
	wantErr(t, c.call(captured), CodeNonceReplay, "AUTH_NONCE_REPLAY") // the window works in-process
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := first.b.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	// The restart: a new process is up 3 s later (more than DefaultStartSkew).
	clk.Advance(3 * time.Second)
	set := metrics.NewSet()
	second := startClocked(t, clk, set, 0)
	c2 := second.dial(t)
	for _, line := range []string{captured, string(signed[:len(signed)-1])} {
		r := c2.call(line)
		wantErr(t, r, CodeAuthStale, "AUTH_STALE_TIMESTAMP")
		if receiptOf(r) != nil {
			t.Fatalf("a replay got a receipt: %s", r.raw)
		}
	}
	if got := counterValue(t, set, `sovereign_bridge_auth_failures_total{reason="before_start"}`); got != 2 {
		t.Fatalf(`auth_failures_total{reason="before_start"} = %d; want 2`, got)
	}
	if second.receipts.count() != 0 || second.b.Stats().RequestCount != 0 {
		t.Fatal("a replayed line reached the receipt store or request_count")
	}

	// Clients stamping with their own clock right after the restart.
	tests := []struct {
		name    string
		lag     time.Duration // client clock behind the node's
		advance time.Duration // node uptime before the request
		ok      bool
	}{
		{"in sync", 0, 0, true},
		{"lags 1.9s", 1900 * time.Millisecond, 0, true},
		{"lags exactly StartSkew", DefaultStartSkew, 0, true},
		{"lags 3s, at start", 3 * time.Second, 0, false},
		{"lags 3s, node up 1s", 3 * time.Second, time.Second, true},
		{"ahead 5s", -5 * time.Second, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			e := startClocked(t, clk, metrics.NewSet(), 0)
			clk.Advance(tt.advance)
			r := e.dial(t).call(reqTok(testToken, clk.Now().Add(-tt.lag), "ping", nil, nil))
			if tt.ok && r.Error != nil {
				t.Fatalf("refused: %s", r.raw)
			}
			if !tt.ok {
				wantErr(t, r, CodeAuthStale, "AUTH_STALE_TIMESTAMP")
			}
		})
	}
}

// TestStartSkewOptions: zero is the default, negative is no allowance, more than
// MaxSkew is refused.
func TestStartSkewOptions(t *testing.T) {
	tests := []struct {
		in, want time.Duration
		err      bool
	}{
		{0, DefaultStartSkew, false},
		{-1, 0, false},
		{10 * time.Second, 10 * time.Second, false},
		{DefaultMaxSkew + time.Second, 0, true},
	}
	for _, tt := range tests {
		o := baseOptions(newFakeCore(), newFakeReceipts())
		o.StartSkew = tt.in
		b, err := New(o)
		if tt.err {
			if err == nil {
				t.Errorf("StartSkew %v: no error", tt.in)
			}
			continue
		}
		if err != nil {
			t.Fatalf("StartSkew %v: %v", tt.in, err)
		}
		if b.opts.StartSkew != tt.want {
			t.Errorf("StartSkew %v -> %v; want %v", tt.in, b.opts.StartSkew, tt.want)
		}
	}
}
