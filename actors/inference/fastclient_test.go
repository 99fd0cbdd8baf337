package inference

import (
	"bufio"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// rawServer answers every request on 127.0.0.1:0 with answer(n), n counting requests
// from 1; close, when it returns true for a request, closes the connection after the
// answer without saying so (as a backend closing an idle keep-alive connection). It
// counts accepted connections.
type rawServer struct {
	ln    net.Listener
	conns atomic.Int64
	reqs  atomic.Int64
	wg    sync.WaitGroup
}

func startRaw(t *testing.T, answer func(n int64) string, closeAfter func(n int64) bool) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{ln: ln}
	var mu sync.Mutex
	var open []net.Conn
	s.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.conns.Add(1)
			mu.Lock()
			open = append(open, c)
			mu.Unlock()
			s.wg.Go(func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					n := s.reqs.Add(1)
					if _, err := io.WriteString(c, answer(n)); err != nil {
						return
					}
					if closeAfter != nil && closeAfter(n) {
						return
					}
				}
			})
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range open {
			_ = c.Close()
		}
		mu.Unlock()
		s.wg.Wait()
	})
	return s
}

func okAnswer(body string) string {
	return fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
}

func poolClient(t *testing.T, url string) *httpClient {
	t.Helper()
	c, err := newHTTPClient(BackendConfig{Name: "be", Kind: KindOpenAI, URL: url}, 4, Retry{}.withDefaults(), time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.close)
	return c
}

func TestConnPoolReuse(t *testing.T) {
	cases := []struct {
		name       string
		answer     func(n int64) string
		closeAfter func(n int64) bool
		wantConns  int64
		wantReqs   int64
	}{
		{"keep-alive: one connection", func(int64) string { return okAnswer(`{"a":1}`) }, nil, 1, 5},
		{"backend closes idle connections: each request retried once on a fresh one", func(int64) string { return okAnswer(`{"a":1}`) },
			func(int64) bool { return true }, 5, 5},
		{"Connection: close is honoured", func(int64) string {
			return "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 7\r\n\r\n{\"a\":1}"
		}, func(int64) bool { return true }, 5, 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := startRaw(t, tc.answer, tc.closeAfter)
			c := poolClient(t, "http://"+srv.ln.Addr().String())
			for i := range 5 {
				if i > 0 && tc.closeAfter != nil {
					// let the server's close land before the next request
					time.Sleep(20 * time.Millisecond)
				}
				r, err := c.exchange(context.Background(), http.MethodPost, "/x", []byte(`{}`), nil)
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				if string(r.body) != `{"a":1}` {
					t.Fatalf("body %q", r.body)
				}
			}
			if got := srv.conns.Load(); got != tc.wantConns {
				t.Fatalf("%d connections, want %d", got, tc.wantConns)
			}
			if got := srv.reqs.Load(); got != tc.wantReqs {
				t.Fatalf("%d requests reached the backend, want %d", got, tc.wantReqs)
			}
		})
	}
}

// TestConnPoolCancel: a cancelled context or a passed deadline aborts the exchange at
// once and closes its connection (the backend sees the client go away); a closed
// client fails in-flight and new exchanges.
func TestConnPoolCancel(t *testing.T) {
	release := make(chan struct{})
	var gone atomic.Int64
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // net/http notices a closed connection only after the body
		select {
		case <-r.Context().Done():
			gone.Add(1)
		case <-release:
		}
	}))
	t.Cleanup(func() { close(release); hs.Close() })
	cases := []struct {
		name string
		run  func(c *httpClient) error
		want error
	}{
		{"cancel", func(c *httpClient) error {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(100*time.Millisecond, cancel)
			_, err := c.exchange(ctx, http.MethodPost, "/", []byte(`{}`), nil)
			return err
		}, ErrCanceled},
		{"deadline", func(c *httpClient) error {
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			_, err := c.exchange(ctx, http.MethodPost, "/", []byte(`{}`), nil)
			return err
		}, ErrTimeout},
		{"attempt timeout", func(c *httpClient) error {
			c.attemptTimeout = 100 * time.Millisecond
			_, err := c.exchange(context.Background(), http.MethodPost, "/", []byte(`{}`), nil)
			var be *backendError
			if !errors.As(err, &be) || be.reason != "timeout" {
				return fmt.Errorf("err %v, want an attempt timeout", err)
			}
			return ErrBackend
		}, ErrBackend},
		{"client closed mid-call", func(c *httpClient) error {
			time.AfterFunc(100*time.Millisecond, c.close)
			_, err := c.exchange(context.Background(), http.MethodPost, "/", []byte(`{}`), nil)
			if err == nil {
				return errors.New("no error")
			}
			if _, err := c.exchange(context.Background(), http.MethodPost, "/", []byte(`{}`), nil); !errors.Is(err, ErrBackend) {
				return fmt.Errorf("after close: %v", err)
			}
			return ErrBackend
		}, ErrBackend},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := gone.Load()
			c := poolClient(t, hs.URL)
			start := time.Now()
			err := tc.run(c)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if d := time.Since(start); d > time.Second {
				t.Fatalf("took %v", d)
			}
			waitFor(t, "backend saw the client go away", 2*time.Second, func() bool { return gone.Load() == before+1 })
			if n := c.pool.openConns(); n != 0 {
				t.Fatalf("%d connections left open", n)
			}
		})
	}
}

func TestConnPoolAnswers(t *testing.T) {
	big := strings.Repeat("x", maxResponseBytes+1)
	cases := []struct {
		name    string
		answer  string
		want    error
		status  int
		retryAf string
	}{
		{"2xx", okAnswer(`{"ok":true}`), nil, 0, ""},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n", nil, 0, ""},
		{"429 with Retry-After", "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nContent-Length: 40\r\n\r\n" +
			`{"error":{"message":"slow down","x":1}}` + " ", ErrBackend, 429, "7"},
		{"oversized", "HTTP/1.1 200 OK\r\nContent-Length: " + fmt.Sprint(len(big)) + "\r\n\r\n" + big, ErrBadResponse, 0, ""},
		{"garbage", "SMTP ready\r\n\r\n", ErrBackend, 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := startRaw(t, func(int64) string { return tc.answer }, func(int64) bool { return true })
			c := poolClient(t, "http://"+srv.ln.Addr().String())
			r, err := c.exchange(context.Background(), http.MethodGet, "/", nil, nil)
			if !errors.Is(err, tc.want) && (tc.want != nil || err != nil) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if tc.want == nil && !strings.Contains(string(r.body), `"a"`) && !strings.Contains(string(r.body), "ok") {
				t.Fatalf("body %q", r.body)
			}
			if tc.status != 0 {
				var be *backendError
				if !errors.As(err, &be) || be.status != tc.status || be.upstream == nil || be.upstream.RetryAfter != tc.retryAf ||
					be.upstream.Message != "slow down" || be.retryable {
					t.Fatalf("err %#v", err)
				}
			}
		})
	}
}

func TestConnPoolTLS(t *testing.T) {
	hs := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"tls":true}`)
	}))
	t.Cleanup(hs.Close)
	c := poolClient(t, hs.URL)
	if _, err := c.exchange(context.Background(), http.MethodGet, "/", nil, nil); !errors.Is(err, ErrBackend) {
		t.Fatalf("untrusted certificate: err %v, want a connection failure", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(hs.Certificate())
	c.pool.tlsConf.RootCAs = roots
	c.pool.tlsConf.ServerName = "example.com" // httptest's certificate names example.com
	r, err := c.exchange(context.Background(), http.MethodGet, "/", nil, nil)
	if err != nil || string(r.body) != `{"tls":true}` {
		t.Fatalf("%q %v", r.body, err)
	}
}

func TestNewConnPoolRefuses(t *testing.T) {
	for _, u := range []string{"ftp://h/x", "http://", "://"} {
		if _, err := newConnPool(u, 1); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
}
