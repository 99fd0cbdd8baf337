package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// edgeRoutes are api.md's routes, each with a sample path filling in its parameter.
var edgeRoutes = [][2]string{
	{"/v1/health", "/v1/health"}, {"/v1/status", "/v1/status"}, {"/v1/metrics", "/v1/metrics"},
	{"/v1/query", "/v1/query"}, {"/v1/artifacts/graph/{id}", "/v1/artifacts/graph/q-1"},
	{"/v1/sel/episodes", "/v1/sel/episodes"}, {"/v1/sel/episodes/{hash}", "/v1/sel/episodes/abc"},
	{"/v1/sel/retrieve", "/v1/sel/retrieve"}, {"/v1/sel/verify", "/v1/sel/verify"},
	{"/v1/receipts/{id}", "/v1/receipts/r-1"}, {"/v1/verify/receipt", "/v1/verify/receipt"},
	{"/v1/verify/genesis", "/v1/verify/genesis"}, {"/v1/verify/genesis/header", "/v1/verify/genesis/header"},
	{"/v1/skills", "/v1/skills"}, {"/v1/skills/{name}/invoke", "/v1/skills/smart_files/invoke"},
	{"/v1/chat/completions", "/v1/chat/completions"}, {"/v1/models", "/v1/models"},
}

// edgeOddities once panicked the router (the first four ended the process) or may
// confuse it.
var edgeOddities = []string{
	"/v1/skills/invoke", "/v1/skills//invoke", "/v1/./skills/invoke", "/v1/skills/%69nvoke",
	"/v1/skills/%2Finvoke", "/v1/skills/a/b/invoke", "/v1/skills/", "/v1/receipts/", "/v1/receipts/%00",
	"/v1/receipts/a\x00b", "/v1/artifacts/graph/../../health", "/v1/sel/episodes/../verify", "/v1/health/",
	"//v1/health", "/v1/%68ealth", "/", "*", "/v1/query?x=%zz", "/" + strings.Repeat("a", 3000),
	"/v1/receipts/" + strings.Repeat("r", 5000),
}

// edgeDo sends one request exactly as given on a fresh connection.
func edgeDo(t *testing.T, addr, method, path string, body []byte) (int, http.Header, []byte) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("%s %q: dial: %v (the node is down)", method, path, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n", method, path)
	if body != nil {
		fmt.Fprintf(&b, "Content-Type: application/json\r\nContent-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.Write(body)
	if _, err := c.Write(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("%s %q: no answer: %v", method, path, err)
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %q: body: %v", method, path, err)
	}
	return resp.StatusCode, resp.Header, rb
}

// TestFaultRoutesAlive sends every documented route, in several spellings, and every
// router oddity, with every method, to a real node: each answer is well formed (a
// status below 500 or 503, X-Request-Id, the JSON error shape naming it), the node
// answers /v1/health after each, and no panic was recovered on the way.
func TestFaultRoutesAlive(t *testing.T) {
	n := startE2E(t, e2eOpts{})
	addr := strings.TrimPrefix(n.base, "http://")
	var paths []string
	for _, r := range edgeRoutes {
		paths = append(paths, r[0], r[1], r[1]+"/", strings.Replace(r[1], "/v1/", "/v1//", 1))
	}
	paths = append(paths, edgeOddities...)
	count := 0
	for _, path := range paths {
		for _, m := range []string{"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "BREW"} {
			var body []byte
			if m == "POST" || m == "PUT" || m == "PATCH" {
				body = []byte(`{"query":"how do I check bridge health?","inputs":{}}`)
			}
			what := m + " " + path
			status, hdr, b := edgeDo(t, addr, m, path, body)
			if status < 200 || (status >= 500 && status != 503) || hdr.Get("X-Request-Id") == "" {
				t.Fatalf("%s: status %d, X-Request-Id %q (%s)", what, status, hdr.Get("X-Request-Id"), b)
			}
			// The genesis header route answers 503 with its document (api.md).
			genesisDoc := status == 503 && bytes.HasPrefix(b, []byte(`{"origin"`))
			if status >= 400 && len(b) > 0 && !genesisDoc {
				var e struct {
					Error     string `json:"error"`
					Code      string `json:"code"`
					RequestID string `json:"request_id"`
				}
				if err := json.Unmarshal(b, &e); err != nil || e.Error == "" || e.Code == "" || e.RequestID != hdr.Get("X-Request-Id") {
					t.Fatalf("%s: %d body %q is not the error shape", what, status, b)
				}
			}
			if hs, _, hb := edgeDo(t, addr, "GET", "/v1/health", nil); hs != 200 {
				t.Fatalf("after %s: health %d %s", what, hs, hb)
			}
			count++
		}
	}
	if got := n.set.GetOrCreateCounter(`sovereign_panics_total{component="gateway"}`).Get(); got != 0 {
		t.Fatalf("%d panics recovered", got)
	}
	t.Logf("%d requests; the node answered /v1/health after each", count)
}

// TestFaultEdgesWarnOpenAPI: binding the API to a non-loopback host with no API key
// logs one security line; loopback, or keys set, logs none.
func TestFaultEdgesWarnOpenAPI(t *testing.T) {
	for _, tc := range []struct {
		host string
		keys []string
		warn bool
	}{
		{"0.0.0.0", nil, true},
		{"192.0.2.7", nil, true},
		{"::", nil, true},
		{"0.0.0.0", []string{"k"}, false},
		{"127.0.0.1", nil, false},
		{"::1", nil, false},
		{"localhost", nil, false},
	} {
		var buf bytes.Buffer
		warnOpenAPI(&config{APIHost: tc.host, APIKeys: tc.keys}, slog.New(slog.NewTextHandler(&buf, nil)))
		got := strings.Count(buf.String(), "security_event=api_open_without_keys")
		if (got == 1) != tc.warn || got > 1 {
			t.Errorf("host %q keys %v: %d security lines, want warn=%v:\n%s", tc.host, tc.keys, got, tc.warn, buf.String())
		}
	}
}
