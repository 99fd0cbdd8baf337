package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bizra/bizra/actors/core"
	"github.com/bizra/bizra/supervision"
)

// TestFaultActorKindsHTTP is the fault matrix end to end: for every actor kind of the
// core's registry, a node whose actors of that kind panic on their first message keeps
// answering over HTTP (200, or an immediate 503 for the query whose message the crash
// lost), /v1/status counts the restart under the kind with its parent and policy,
// sovereign_actor_restarts_total{kind} counts it, and no in-flight slot or queued run
// is left behind.
func TestFaultActorKindsHTTP(t *testing.T) {
	for _, kind := range core.KindNames() {
		t.Run(kind, func(t *testing.T) {
			n := startE2E(t, e2eOpts{core: core.Options{CacheEntries: -1, Workers: 2,
				FaultInjection: supervision.FaultInjection{Kind: kind, PanicOnNth: 1},
				Supervision:    supervision.Options{Min: time.Millisecond, Max: 5 * time.Millisecond}}})
			ok := 0
			for i := range 5 {
				status, b, _ := n.post(t, "/v1/query",
					fmt.Sprintf(`{"query":"how do I check bridge health? %d","timeout_ms":20000}`, i))
				switch {
				case status == 200:
					ok++
				case status == 503 && !bytes.Contains(b, []byte("TIMEOUT")):
				default:
					t.Fatalf("query %d: %d %s", i, status, b)
				}
			}
			if ok < 4 {
				t.Fatalf("%d of 5 answered; the node must keep serving", ok)
			}
			var st struct {
				Actors map[string]struct {
					Restarts uint64 `json:"restarts"`
					Parent   string `json:"parent"`
					Policy   string `json:"policy"`
				} `json:"actors"`
				Metrics struct {
					Queries struct {
						InFlight int `json:"in_flight"`
						Queued   int `json:"queued"`
					} `json:"queries"`
				} `json:"metrics"`
			}
			deadline := time.Now().Add(5 * time.Second)
			for {
				_, b := n.get(t, "/v1/status")
				if err := json.Unmarshal(b, &st); err != nil {
					t.Fatal(err)
				}
				if st.Actors[kind].Restarts >= 1 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("status %s: no %s restart", b, kind)
				}
				time.Sleep(2 * time.Millisecond)
			}
			if a := st.Actors[kind]; a.Parent != "core" || a.Policy == "" {
				t.Fatalf("status actors.%s = %+v", kind, a)
			}
			if q := st.Metrics.Queries; q.InFlight != 0 || q.Queued != 0 {
				t.Fatalf("in flight %d, queued %d after every query returned", q.InFlight, q.Queued)
			}
			_, m := n.get(t, "/v1/metrics")
			if !bytes.Contains(m, []byte(`sovereign_actor_restarts_total{kind="`+kind+`"}`)) {
				t.Fatalf("restart metric of %s missing", kind)
			}
			for _, g := range []string{"sovereign_query_in_flight 0\n", "sovereign_query_queue_depth 0\n"} {
				if !bytes.Contains(m, []byte(g)) {
					t.Fatalf("metrics lack %q", g)
				}
			}
		})
	}
}

// TestFaultInjectFlag: `bizra run --help` lists the kinds --fault-inject accepts as
// "(kind, kind, …)" from the core's registry, and a kind outside it (or a malformed
// value) is refused with one line naming the flag, before anything starts.
func TestFaultInjectFlag(t *testing.T) {
	env := map[string]string{"BIZRA_STATE_DIR": t.TempDir(), "BIZRA_RECEIPT_PRIVATE_KEY_HEX": "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"}
	want := "(" + strings.Join(core.KindNames(), ", ") + ")"
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	src, state, err := newEnv(nil, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bindRuntimeFlags(fs, src, state, true); err != nil {
		t.Fatal(err)
	}
	if f := fs.Lookup("fault-inject"); f == nil || !strings.Contains(f.Usage, want) {
		t.Fatalf("--fault-inject help does not list %s: %+v", want, f)
	}
	tests := []struct{ value, want string }{
		{"cache:1", `kind "cache" is not one of ` + want},
		{"worker", "want kind:n or kind:n:repeat"},
		{"worker:0", "want 1..1000000000"},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			r := runCLI(t, env, "run", "--insecure-test-keys", "--fault-inject", tt.value)
			wantCode(t, r, 2, "--fault-inject "+tt.value)
			wantOneLine(t, r.stderr, tt.want)
		})
	}
}
