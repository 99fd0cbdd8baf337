package bridge

import (
	"fmt"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// makeSlowClient connects a client that sends requests with large responses and
// never reads, and waits until the bridge has disconnected it (the want-th time).
func makeSlowClient(t *testing.T, e *env, want uint64) {
	t.Helper()
	c := e.dial(t)
	_ = c.nc.(*net.TCPConn).SetReadBuffer(4096)
	line := []byte(req("list_skills", map[string]any{"filter": "big"}, nil) + "\n")
	var wg sync.WaitGroup
	wg.Go(func() {
		for range 2000 {
			_ = c.nc.SetWriteDeadline(time.Now().Add(3 * time.Second))
			if _, err := c.nc.Write(line); err != nil {
				return
			}
		}
	})
	checkFor(t, 10*time.Second, func() error {
		if n := counterValue(t, e.opts.Metrics, `sovereign_bridge_disconnects_total{reason="slow_client"}`); n != want {
			return fmt.Errorf("slow-client disconnects = %d; want %d", n, want)
		}
		return nil
	})
	c.nc.Close()
	wg.Wait()
}

// TestFaultBridgeSlowClientLogLimited: many clients that do not read produce one
// "client not reading" warning per 10 s per listener, and the next warning says how
// many were suppressed; every disconnect is still counted.
func TestFaultBridgeSlowClientLogLimited(t *testing.T) {
	rec := newLogRecorder()
	clk := newFakeClock()
	e := startEnv(t, func(o *Options) {
		o.Logger = slog.New(rec)
		o.Metrics = metrics.NewSet()
		o.Now = clk.Now
		o.OutboundQueue = 2
		o.WriteTimeout = 300 * time.Millisecond
	})
	const msg = "bridge client not reading its responses; disconnected"
	steps := []struct {
		advance        time.Duration
		clients        int
		wantRecords    int
		wantSuppressed string // of the last record
	}{
		{0, 3, 1, "0"},
		{slowLogEvery - time.Millisecond, 1, 1, "0"}, // still inside the interval
		{time.Millisecond, 2, 2, "3"},                // the interval is over: one line, 3 suppressed
	}
	var total uint64
	for i, st := range steps {
		clk.Advance(st.advance)
		for range st.clients {
			total++
			makeSlowClient(t, e, total)
		}
		recs := rec.messages(msg)
		if len(recs) != st.wantRecords {
			t.Fatalf("step %d: %d warnings; want %d", i, len(recs), st.wantRecords)
		}
		if got := attr(recs[len(recs)-1], "suppressed"); got != st.wantSuppressed {
			t.Fatalf("step %d: suppressed = %s; want %s", i, got, st.wantSuppressed)
		}
	}
}

func TestLogLimiter(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	l := logLimiter{every: 10 * time.Second}
	tests := []struct {
		at             time.Duration
		ok             bool
		wantSuppressed int64
	}{
		{0, true, 0},
		{time.Second, false, 0},
		{9999 * time.Millisecond, false, 0},
		{10 * time.Second, true, 2},
		{11 * time.Second, false, 0},
		{time.Hour, true, 1},
	}
	for _, tt := range tests {
		ok, s := l.allow(t0.Add(tt.at))
		if ok != tt.ok || s != tt.wantSuppressed {
			t.Errorf("at %v: allow = %v, %d; want %v, %d", tt.at, ok, s, tt.ok, tt.wantSuppressed)
		}
	}
	var d logLimiter // zero value: one a second
	if ok, _ := d.allow(t0); !ok {
		t.Fatal("first line refused")
	}
	if ok, _ := d.allow(t0.Add(999 * time.Millisecond)); ok {
		t.Fatal("second line within a second let through")
	}
	if ok, s := d.allow(t0.Add(time.Second)); !ok || s != 1 {
		t.Fatalf("after a second: %v, %d", ok, s)
	}
}
