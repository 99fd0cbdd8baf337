package pprofserver

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestNewRefuses(t *testing.T) {
	tests := []struct {
		addr  string
		allow bool
		want  error
	}{
		{"127.0.0.1:0", false, nil},
		{"localhost:6060", false, nil},
		{"[::1]:6060", false, nil},
		{"127.0.0.2:6060", false, nil},
		{"0.0.0.0:6060", false, ErrNotLoopback},
		{":6060", false, ErrNotLoopback},
		{"192.168.1.10:6060", false, ErrNotLoopback},
		{"example.com:6060", false, ErrNotLoopback},
		{"0.0.0.0:6060", true, nil},
		{":6060", true, nil},
		{"127.0.0.1", false, ErrAddr},
		{"127.0.0.1:99999", false, ErrAddr},
		{"127.0.0.1:http", false, ErrAddr},
		{"", false, ErrAddr},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			_, err := New(Options{Addr: tt.addr, AllowNonLoopback: tt.allow})
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("New(%q, allow %v) = %v; want %v", tt.addr, tt.allow, err, tt.want)
			}
		})
	}
}

// TestServesPprofAndStops: the index, a heap profile and the command line are served
// on the separate listener; Shutdown (twice) stops it and its goroutine (goleak).
func TestServesPprofAndStops(t *testing.T) {
	s, err := New(Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); !errors.Is(err, ErrAlreadyStarted) {
		t.Fatalf("second Start: %v", err)
	}
	tr := &http.Transport{}
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	base := "http://" + s.Addr()
	tests := []struct{ path, want string }{
		{"/debug/pprof/", "goroutine"},
		{"/debug/pprof/heap?debug=1", "heap profile"},
		{"/debug/pprof/goroutine?debug=1", "goroutine profile"},
		{"/debug/pprof/cmdline", "pprofserver"},
	}
	for _, tt := range tests {
		resp, err := c.Get(base + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), tt.want) {
			t.Errorf("%s: %d, body lacks %q", tt.path, resp.StatusCode, tt.want)
		}
	}
	if resp, err := c.Get(base + "/v1/health"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("/v1/health on the pprof port: %d, want 404", resp.StatusCode)
		}
	}
	tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
	if _, err := c.Get(base + "/debug/pprof/"); err == nil {
		t.Error("still serving after Shutdown")
	}
}

// TestFaultShutdownCutsARunningProfile: a CPU profile in progress does not hold
// Shutdown past its deadline.
func TestFaultShutdownCutsARunningProfile(t *testing.T) {
	s, err := New(Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	got := make(chan error, 1)
	go func() {
		resp, err := c.Get("http://" + s.Addr() + "/debug/pprof/profile?seconds=20")
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		got <- err
	}()
	time.Sleep(200 * time.Millisecond) // the profile has started
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	_ = s.Shutdown(ctx)
	if d := time.Since(t0); d > 5*time.Second {
		t.Fatalf("Shutdown took %v with a profile running", d)
	}
	<-got
}
