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
// clock lags the node's by d is served once the node has been up for d (at once
// within a configured StartSkew).
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

	// The restart: a new process is up one millisecond later (kill -9 and restart of
	// bizra take well under a second).
	clk.Advance(time.Millisecond)
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

	// Clients stamping with their own clock right after a restart.
	tests := []struct {
		name      string
		startSkew time.Duration
		lag       time.Duration // client clock behind the node's
		advance   time.Duration // node uptime before the request
		ok        bool
	}{
		{"in sync", 0, 0, 0, true},
		{"ahead 5s", 0, -5 * time.Second, 0, true},
		{"lags 50ms, at start", 0, 50 * time.Millisecond, 0, false},
		{"lags 50ms, node up 50ms", 0, 50 * time.Millisecond, 50 * time.Millisecond, true},
		{"lags 3s, node up 1s", 0, 3 * time.Second, time.Second, false},
		{"lags 3s, node up 3s", 0, 3 * time.Second, 3 * time.Second, true},
		{"StartSkew 2s, lags 1.9s, at start", 2 * time.Second, 1900 * time.Millisecond, 0, true},
		{"StartSkew 2s, lags 2s, at start", 2 * time.Second, 2 * time.Second, 0, true},
		{"StartSkew 2s, lags 3s, at start", 2 * time.Second, 3 * time.Second, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			e := startClocked(t, clk, metrics.NewSet(), tt.startSkew)
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

// TestStartSkewOptions: 0 (exact) and up to MaxSkew are accepted, others refused.
func TestStartSkewOptions(t *testing.T) {
	tests := []struct {
		in  time.Duration
		err bool
	}{
		{0, false},
		{2 * time.Second, false},
		{DefaultMaxSkew, false},
		{-time.Millisecond, true},
		{DefaultMaxSkew + time.Second, true},
	}
	for _, tt := range tests {
		o := baseOptions(newFakeCore(), newFakeReceipts())
		o.StartSkew = tt.in
		b, err := New(o)
		if (err != nil) != tt.err {
			t.Fatalf("StartSkew %v: err = %v; want error %v", tt.in, err, tt.err)
		}
		if err == nil && b.opts.StartSkew != tt.in {
			t.Errorf("StartSkew %v -> %v", tt.in, b.opts.StartSkew)
		}
	}
}
