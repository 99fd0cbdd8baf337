package core

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/bizra/bizra/actors/ledger"
	"github.com/bizra/bizra/actors/query"
	"github.com/bizra/bizra/internal/catalog"
	"github.com/bizra/bizra/supervision"
)

// faultTriggers is, per actor kind of the registry, which of its messages the matrix
// breaks (counting from 1, as --fault-inject does). A kind added to the registry
// without a row here fails TestFaultActorKindsCovered.
var faultTriggers = map[string]int{
	KindWorker: 2, // the second Run (or continuation) a worker receives
	KindLedger: 2, // the second episode append
	KindSealer: 2, // the second leaves message (or tick) of the query log's sealer
	// The router's first Ask. A crash on its own continuation (embeddedDone) leaves
	// the pending asks to their deadline until the router answers them on Restarting,
	// as it does on Stopping (actors/inference, owned by the inference rework).
	KindInference: 1,
}

func TestFaultActorKindsCovered(t *testing.T) {
	for _, k := range KindNames() {
		if _, ok := faultTriggers[k]; !ok {
			t.Errorf("kind %q has no row in the fault matrix", k)
		}
	}
	if len(faultTriggers) != len(KindNames()) {
		t.Errorf("fault matrix rows %d; registry kinds %v", len(faultTriggers), KindNames())
	}
}

// metricValue returns the value of one exposition series (-1 when absent).
func metricValue(r *Runtime, series string) float64 {
	var buf bytes.Buffer
	r.WriteMetrics(&buf)
	for _, line := range strings.Split(buf.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			var v float64
			if _, err := fmt.Sscan(rest, &v); err == nil {
				return v
			}
		}
	}
	return -1
}

// TestFaultActorKinds is the fault matrix over every actor kind under the core
// supervisor, against a real runtime: the kind's actor panics on its N-th message; the
// caller of the lost message gets an error at once (never its deadline); the actor is
// restarted under the tree and counted in /v1/status and
// sovereign_actor_restarts_total{kind}; the node keeps answering; and no in-flight
// slot, queue-depth ticket or pending receipt is left behind.
func TestFaultActorKinds(t *testing.T) {
	lake := t.TempDir()
	if err := os.WriteFile(filepath.Join(lake, "notes.md"), []byte("The bridge listens on port 9742 for desktop clients.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, kind := range KindNames() {
		t.Run(kind, func(t *testing.T) {
			r, err := newRuntime(t, Options{DataLake: lake, CacheEntries: -1, Workers: 2,
				FaultInjection: supervision.FaultInjection{Kind: kind, PanicOnNth: faultTriggers[kind]},
				Supervision:    supervision.Options{Min: time.Millisecond, Max: 5 * time.Millisecond}})
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer shutdown(t, r)
			answered, refused := 0, 0
			for i := range 6 {
				q := query.NewRequest("which port does the bridge use? " + strings.Repeat("again ", i))
				q.TimeoutMs = 20_000 // a caller left to its deadline fails the test (ErrTimeout)
				res, err := r.Query(context.Background(), q)
				switch {
				case err == nil && res.Success:
					answered++
				case err != nil && !errors.Is(err, query.ErrTimeout) && catalog.Lookup(err).Kind == catalog.Unavailable:
					refused++ // the query whose message the crash lost, answered at once
				default:
					t.Fatalf("query %d: success=%v err=%v (code %q)", i, res.Success, err, catalog.Lookup(err).Code)
				}
			}
			if answered < 4 {
				t.Fatalf("%d of 6 answered, %d refused; the node must keep serving", answered, refused)
			}
			series := `sovereign_actor_restarts_total{kind="` + kind + `"}`
			deadline := time.Now().Add(5 * time.Second)
			for {
				rs, _ := r.restarts.get(kind)
				if rs >= 1 && metricValue(r, series) >= 1 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s: restarts %d, %s = %v; want both ≥ 1", kind, rs, series, metricValue(r, series))
				}
				time.Sleep(2 * time.Millisecond)
			}
			st := r.Status(context.Background())
			a := st["actors"].(map[string]any)[kind].(map[string]any)
			if a["restarts"].(uint64) < 1 || a["parent"] != "core" || a["policy"] == "" {
				t.Fatalf("status actors.%s = %v", kind, a)
			}
			// The node still answers after the restart, and a receipt issued now seals.
			res, err := r.Query(context.Background(), query.NewRequest("which port does the bridge use? after the restart"))
			if err != nil || !res.Success {
				t.Fatalf("query after the restart: %v", err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			for r.Receipts().Flush(ctx) != nil { // a flush the sealer lost in its crash says so
				if ctx.Err() != nil {
					t.Fatal("receipts never flushed after the restart")
				}
			}
			if _, err := r.Receipts().Get(res.ReceiptID); err != nil {
				t.Fatalf("receipt %s after the restart: %v", res.ReceiptID, err)
			}
			snap := r.qmetrics.Snapshot()
			if snap.InFlight != 0 || snap.Queued != 0 {
				t.Fatalf("in flight %d, queued %d after every query returned; want 0, 0", snap.InFlight, snap.Queued)
			}
			for _, g := range []string{"sovereign_query_in_flight", "sovereign_query_queue_depth"} {
				if v := metricValue(r, g); v != 0 {
					t.Fatalf("%s = %v; want 0", g, v)
				}
			}
			if p := r.Receipts().Stats().Pending; p != 0 {
				t.Fatalf("%d receipts pending after a flush", p)
			}
		})
	}
}

// TestFaultInjectionKindsListed: the kinds `--fault-inject` accepts are exactly the
// registry's, so the flag's help (generated from KindNames) cannot drift.
func TestFaultInjectionKindsListed(t *testing.T) {
	got := KindNames()
	if !slices.Contains(got, KindWorker) || !slices.Contains(got, KindLedger) || !slices.Contains(got, KindSealer) {
		t.Fatalf("kinds %v", got)
	}
	seen := map[string]bool{}
	for _, k := range Kinds() {
		if seen[k.Kind] || (k.Policy != Permanent && k.Policy != Transient) || k.Owns == "" {
			t.Fatalf("registry row %+v: duplicate kind, unknown policy or no owned state", k)
		}
		seen[k.Kind] = true
	}
}

// TestFaultCrashLoopEscalatesAndTreeRespawns: a worker in a crash loop past the
// intensity limit escalates to the core supervisor, which protoactor restarts: the
// fresh root spawns every recorded child again under the same name (the engine's
// worker PIDs, the ledger's and the sealer's stay valid), and the node answers again.
func TestFaultCrashLoopEscalatesAndTreeRespawns(t *testing.T) {
	lake := t.TempDir()
	if err := os.WriteFile(filepath.Join(lake, "notes.md"), []byte("The bridge listens on port 9742 for desktop clients.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := newRuntime(t, Options{DataLake: lake, CacheEntries: -1, Workers: 1,
		FaultInjection: supervision.FaultInjection{Kind: KindWorker, PanicOnNth: 1, Repeat: true},
		Supervision:    supervision.Options{Min: time.Millisecond, Max: 2 * time.Millisecond, MaxRestarts: 1, Window: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer shutdown(t, r)
	firstPIDs := map[string]*actor.PID{}
	for _, s := range r.tree.list() {
		firstPIDs[s.name] = s.pid
	}
	q := query.NewRequest("which port does the bridge use?")
	q.TimeoutMs = 20_000
	// Every message crashes the worker: the first crash restarts it, the second
	// escalates. No query is sent after it: a send racing a child's respawn under its
	// name is a data race inside protoactor (see the package doc).
	for i := range 2 {
		if _, err := r.Query(context.Background(), q); err == nil || errors.Is(err, query.ErrTimeout) {
			t.Fatalf("query %d: %v; want an immediate failure", i, err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, esc := r.restarts.get(KindWorker); esc >= 1 && r.escalated.Load() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the crash loop did not escalate")
		}
		time.Sleep(2 * time.Millisecond)
	}
	// The fresh root spawns every recorded child again under its name (each spec gets
	// a new PID value once its spawn has completed), so the PIDs the ledger and receipt
	// services kept reach live actors: an episode commits and a flush seals.
	for {
		respawned := 0
		for _, s := range r.tree.list() {
			if s.pid != firstPIDs[s.name] {
				respawned++
			}
		}
		if respawned == len(firstPIDs) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d children respawned after the root restart", respawned, len(firstPIDs))
		}
		time.Sleep(2 * time.Millisecond)
	}
	for _, n := range []string{"ledger", "sealer", "sealer-2", "inference", "worker"} {
		if _, ok := firstPIDs[n]; !ok {
			t.Fatalf("tree specs %v lack %s", firstPIDs, n)
		}
	}
	ep := ledger.Episode{Timestamp: uint64(time.Now().Unix()), Context: "after the root restart", SNR: 0.9, Ihsan: 0.96, SNROK: true,
		Actions: []ledger.Action{{Type: "gate", Description: "schema: passed", Success: true}}, ResponseSummary: "ok"}
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, cerr := r.Ledger().Commit(ctx, ep)
		ferr := r.Receipts().Flush(ctx)
		cancel()
		if cerr == nil && ferr == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the root restart: commit %v, flush %v", cerr, ferr)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestFaultPolicyOnStop: a child stopped (not crashed) while the node runs is spawned
// again under its name when its kind is permanent, and stays stopped when transient.
func TestFaultPolicyOnStop(t *testing.T) {
	tests := []struct {
		name  string // the child's name in the tree
		alive bool   // after the stop
	}{
		{"ledger", true},     // permanent
		{"worker", true},     // permanent
		{"inference", false}, // transient
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := newRuntime(t, Options{CacheEntries: -1, Workers: 1})
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer shutdown(t, r)
			var id string
			for _, s := range r.tree.list() {
				if s.name == tt.name {
					id = s.pid.Id
				}
			}
			if id == "" {
				t.Fatalf("no child %s in the tree", tt.name)
			}
			before, _ := r.opts.System.ProcessRegistry.GetLocal(id)
			if err := r.opts.System.Root.StopFuture(actor.NewPID(r.opts.System.Address(), id)).Wait(); err != nil {
				t.Fatal(err)
			}
			kind := supervision.KindOf(actor.NewPID("", id))
			deadline := time.Now().Add(5 * time.Second)
			for r.tree.stopsOf(kind) == 0 { // the root has handled the stop
				if time.Now().After(deadline) {
					t.Fatal("the core supervisor never saw the stop")
				}
				time.Sleep(time.Millisecond)
			}
			p, ok := r.opts.System.ProcessRegistry.GetLocal(id)
			if respawned := ok && p != before; respawned != tt.alive {
				t.Fatalf("%s: spawned again %v; want %v", tt.name, respawned, tt.alive)
			}
		})
	}
}
