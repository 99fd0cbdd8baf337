package core

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bizra/bizra/internal/fsguard"
	"github.com/bizra/bizra/supervision/genesis"
)

// syncBuffer is a log sink safe for the runtime's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func node0State(t *testing.T) (string, genesis.Genesis) {
	t.Helper()
	state := filepath.Join(t.TempDir(), "state")
	g, err := genesis.Init(state, "home", "lab", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return state, g
}

// TestFaultGenesisSwap swaps the genesis files of a running node0 for another
// ceremony's, runs one maintenance cycle and checks health, the security counter and
// the log; restoring the files recovers health.
func TestFaultGenesisSwap(t *testing.T) {
	state, _ := node0State(t)
	otherState, _ := node0State(t)
	saved := t.TempDir()
	files := []string{genesis.GenesisFile, genesis.HashFile, genesis.KeyFile}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(state, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(saved, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	copyFiles := func(from string) {
		t.Helper()
		for _, f := range files {
			b, err := os.ReadFile(filepath.Join(from, f))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(state, f), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	var logs syncBuffer
	// A long interval: the test runs the cycles itself.
	r, err := newRuntime(t, Options{Role: "node0", StateDir: state, MaintenanceInterval: time.Hour,
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer shutdown(t, r)
	counter := func() uint64 {
		return r.set.GetOrCreateCounter(`sovereign_security_events_total{kind="genesis_swapped"}`).Get()
	}
	if h := r.Health(); h.Checks["genesis"] != true || h.Status == "unhealthy" || counter() != 0 {
		t.Fatalf("before the swap: %+v, counter %d", h, counter())
	}
	if !strings.Contains(logs.String(), "recorded on first use") {
		t.Fatalf("no INFO line recording the key on first use: %s", logs.String())
	}

	copyFiles(otherState) // a complete, self-consistent chain: only the anchor catches it
	if ok, _ := genesis.Validate(state); !ok {
		t.Fatal("the swapped-in chain should validate on its own")
	}
	r.maint.RunOnce(context.Background())
	h := r.Health()
	if h.Status != "unhealthy" || h.Checks["genesis"] != false {
		t.Fatalf("after the swap: %+v; want unhealthy with checks.genesis false", h)
	}
	if counter() != 1 {
		t.Fatalf("sovereign_security_events_total{kind=genesis_swapped} = %d, want 1", counter())
	}
	if o := r.Origin(); o.Designation != "ephemeral_node" || o.HashValidated {
		t.Fatalf("origin after the swap %+v", o)
	}
	if ok, reason := r.GenesisStatus(); ok || !strings.HasPrefix(reason, genesis.ReasonSwapped) {
		t.Fatalf("GenesisStatus (%v, %q)", ok, reason)
	}
	if l := logs.String(); !strings.Contains(l, `"level":"ERROR"`) || !strings.Contains(l, `"event":"security"`) ||
		!strings.Contains(l, `"kind":"genesis_swapped"`) {
		t.Fatalf("no security event logged: %s", l)
	}
	var exp bytes.Buffer
	r.WriteMetrics(&exp)
	if !strings.Contains(exp.String(), `sovereign_security_events_total{kind="genesis_swapped"} 1`) {
		t.Fatal("the counter is not exported")
	}

	r.maint.RunOnce(context.Background()) // still swapped: the same event is not counted again
	if counter() != 1 {
		t.Fatalf("counter %d after a second cycle over the same swap", counter())
	}
	copyFiles(saved)
	r.maint.RunOnce(context.Background())
	if h := r.Health(); h.Checks["genesis"] != true || h.Status == "unhealthy" || r.Origin().Designation != "node0" {
		t.Fatalf("after restoring the files: %+v %+v", h, r.Origin())
	}
}

// TestFaultGenesisPinRefusesStart starts node0 runtimes with a pin and with a key
// recorded on first use that do not match the genesis.
func TestFaultGenesisPinRefusesStart(t *testing.T) {
	_, other := node0State(t)
	otherPub, _ := hex.DecodeString(other.Identity.PublicKey)
	for _, tc := range []struct {
		name    string
		pin     ed25519.PublicKey
		prepare func(t *testing.T, state string)
		want    []string
	}{
		{"pin of another key", otherPub, func(*testing.T, string) {}, []string{"--genesis-public-key pins key id " + genesis.KeyID(otherPub)}},
		{"recorded key of another node", nil, func(t *testing.T, state string) {
			if err := genesis.WriteTrustFile(state, otherPub); err != nil {
				t.Fatal(err)
			}
		}, []string{"was recorded on first use", "delete "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state, _ := node0State(t)
			tc.prepare(t, state)
			r, err := newRuntime(t, Options{Role: "node0", StateDir: state, GenesisPublicKey: tc.pin,
				GenesisPinSource: "--genesis-public-key"})
			if err != nil {
				t.Fatal(err)
			}
			err = r.Start(context.Background())
			if !errors.Is(err, genesis.ErrUntrustedKey) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("Start = %v; want one line wrapping ErrUntrustedKey", err)
			}
			for _, s := range tc.want {
				if !strings.Contains(err.Error(), s) {
					t.Fatalf("refusal %q lacks %q", err, s)
				}
			}
			if _, err := os.Stat(filepath.Join(state, "sel")); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("the ledger folder was created before the refusal: %v", err)
			}
		})
	}
}

// TestFaultStateLakeOverlapRuntime refuses to start with the state folder inside the
// data lake or the other way round, before anything is written.
func TestFaultStateLakeOverlapRuntime(t *testing.T) {
	for _, tc := range []struct {
		name        string
		state, lake func(x string) string
	}{
		{"state inside lake", func(x string) string { return filepath.Join(x, "lake", "state") }, func(x string) string { return filepath.Join(x, "lake") }},
		{"lake inside state", func(x string) string { return filepath.Join(x, "state") }, func(x string) string { return filepath.Join(x, "state", "lake") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := t.TempDir()
			state, lake := tc.state(x), tc.lake(x)
			r, err := newRuntime(t, Options{StateDir: state, DataLake: lake})
			if err != nil {
				t.Fatal(err)
			}
			err = r.Start(context.Background())
			if !errors.Is(err, fsguard.ErrOverlap) || !strings.Contains(err.Error(), state) || !strings.Contains(err.Error(), lake) {
				t.Fatalf("Start = %v; want ErrOverlap naming both paths", err)
			}
			if _, err := os.Stat(filepath.Join(state, "sel")); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("state folders created before the refusal: %v", err)
			}
		})
	}
}
