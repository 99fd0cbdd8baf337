package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bizra/bizra/actors/receipt"
)

// liveNode is one node over fresh state, built by gateNode (as `bizra gate` builds its
// nodes: loadRuntimeConfig, then the node builder) and started; t.Cleanup stops it.
type liveNode struct {
	token, keyHex, state, apiURL, bridgeAddr string
}

func startLiveNode(t *testing.T) *liveNode {
	t.Helper()
	dir := t.TempDir()
	state, lake := filepath.Join(dir, "state"), filepath.Join(dir, "lake")
	if err := os.MkdirAll(state, 0o700); err != nil {
		t.Fatal(err)
	}
	s, err := receipt.GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	tb := make([]byte, 16)
	_, _ = rand.Read(tb)
	tok := hex.EncodeToString(tb)
	if err := os.WriteFile(filepath.Join(state, ".env"), []byte("BIZRA_BRIDGE_TOKEN="+tok+"\nBIZRA_RECEIPT_PRIVATE_KEY_HEX="+s.RevealHex()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := seedDataLake(lake); err != nil {
		t.Fatal(err)
	}
	var log syncBuffer
	n, _, err := gateNode([]string{"--state-dir", state, "--data-lake", lake, "--port", "0", "--bridge-port", "0",
		"--log-format", "json", "--log-level", "info"}, &log)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		n.Close()
		t.Fatalf("start: %v\n%s", err, log.String())
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = n.Shutdown(ctx)
	})
	return &liveNode{token: tok, keyHex: s.RevealHex(), state: state, apiURL: "http://" + n.API.Addr(), bridgeAddr: n.Bridge.Addr()}
}

// post sends a JSON body to the node's API and returns the status.
func (n *liveNode) post(t *testing.T, path, body string) int {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	resp, err := (&http.Client{Transport: tr, Timeout: 15 * time.Second}).Post(n.apiURL+path, "application/json", bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// get GETs path on the node's API and returns the status and body.
func (n *liveNode) get(t *testing.T, path string) (int, []byte) {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	resp, err := (&http.Client{Transport: tr, Timeout: 15 * time.Second}).Get(n.apiURL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b
}

// TestGateNodeIsRunWiring: a gate node is built by the same node builder as `bizra
// run`: it serves the OpenAI-compatible front and its status reports the bridge.
func TestGateNodeIsRunWiring(t *testing.T) {
	gateLeakCheck(t)
	n := startLiveNode(t)
	for _, tc := range []struct {
		path, want string
	}{
		{"/v1/models", `"object"`},
		{"/v1/status", `"listening":true`},
	} {
		code, body := n.get(t, tc.path)
		if code != http.StatusOK || !bytes.Contains(body, []byte(tc.want)) {
			t.Errorf("GET %s: HTTP %d %s, want 200 with %s", tc.path, code, truncText(string(body), 300), tc.want)
		}
	}
}
