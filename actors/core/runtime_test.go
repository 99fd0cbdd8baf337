package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/goleak"

	"github.com/bizra/bizra/actors/query"
	"github.com/bizra/bizra/actors/receipt"
	"github.com/bizra/bizra/supervision/genesis"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/asynkron/protoactor-go/actor.NewDeadLetter.NewThrottle.func4.1"))
}

func newRuntime(t testing.TB, o Options) (*Runtime, error) {
	t.Helper()
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
	t.Cleanup(sys.Shutdown)
	if o.ReceiptSecret.IsZero() {
		secret, err := receipt.GenerateSecret()
		if err != nil {
			t.Fatal(err)
		}
		o.ReceiptSecret = secret
	}
	o.System = sys
	if o.StateDir == "" {
		o.StateDir = filepath.Join(t.TempDir(), "state")
	}
	if o.DataLake == "" {
		o.DataLake = t.TempDir()
	}
	return New(o)
}

func shutdown(t *testing.T, r *Runtime) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if err := r.Shutdown(ctx); err != nil {
		t.Fatalf("second shutdown: %v", err)
	}
}

func TestStartQueryShutdown(t *testing.T) {
	lake := t.TempDir()
	if err := os.WriteFile(filepath.Join(lake, "notes.md"), []byte("# Bridge\n\nThe bridge listens on port 9742 for desktop clients.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := newRuntime(t, Options{DataLake: lake})
	if err != nil {
		t.Fatal(err)
	}
	if h := r.Health(); h.Status != "starting" {
		t.Fatalf("health before start %q; want starting", h.Status)
	}
	if _, err := r.Query(context.Background(), query.NewRequest("which port does the bridge use?")); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("query before start: %v; want ErrNotRunning", err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	res, err := r.Query(context.Background(), query.NewRequest("which port does the bridge use?"))
	if err != nil || !res.Success || !strings.Contains(res.Response, "9742") {
		t.Fatalf("query: %+v %v", res, err)
	}
	if h := r.Health(); h.Status != "degraded" || h.Checks["inference"] != "degraded" {
		t.Fatalf("health %+v; want degraded (embedded engine only, no bridge)", h)
	}
	fi, err := os.Stat(r.StateDir())
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("state dir mode %v %v; want 0700", fi.Mode().Perm(), err)
	}
	shutdown(t, r)
	if h := r.Health(); h.Status != "stopping" {
		t.Fatalf("health after shutdown %q", h.Status)
	}
}

func TestStartRefusals(t *testing.T) {
	t.Run("bad role", func(t *testing.T) {
		if _, err := newRuntime(t, Options{Role: "admin"}); !errors.Is(err, genesis.ErrInvalidRole) {
			t.Fatalf("err = %v; want ErrInvalidRole", err)
		}
	})
	t.Run("node0 without genesis", func(t *testing.T) {
		r, err := newRuntime(t, Options{Role: "node0"})
		if err != nil {
			t.Fatal(err)
		}
		err = r.Start(context.Background())
		if err == nil || !strings.Contains(err.Error(), "Node0 genesis enforcement failed") ||
			!strings.Contains(err.Error(), "node0_genesis.json") {
			t.Fatalf("err = %v; want the node0 enforcement message", err)
		}
	})
	t.Run("data lake is a file", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "lake.txt")
		if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := newRuntime(t, Options{DataLake: f})
		if err != nil {
			t.Fatal(err)
		}
		err = r.Start(context.Background())
		if err == nil || !strings.Contains(err.Error(), "data-lake index") {
			t.Fatalf("err = %v; want a data-lake index failure", err)
		}
		if r.Ready() {
			t.Fatal("a failed start left the runtime ready")
		}
	})
	t.Run("missing secret", func(t *testing.T) {
		sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
		t.Cleanup(sys.Shutdown)
		if _, err := New(Options{System: sys}); !errors.Is(err, ErrOptions) {
			t.Fatalf("err = %v; want ErrOptions", err)
		}
	})
}

func TestNode0OriginAndMissingLake(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state")
	if _, err := genesis.Init(state, "home", "lab", time.Now()); err != nil {
		t.Fatal(err)
	}
	r, err := newRuntime(t, Options{Role: "node0", StateDir: state, DataLake: filepath.Join(t.TempDir(), "absent")})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer shutdown(t, r)
	o := r.Origin()
	if o.Designation != "node0" || !o.HashValidated || !strings.HasPrefix(r.NodeID(), "node0_") {
		t.Fatalf("origin %+v node id %s", o, r.NodeID())
	}
	// A missing data lake starts with an empty index: answers are NO_EVIDENCE.
	res, err := r.Query(context.Background(), query.NewRequest("which port does the bridge use?"))
	if err != nil || res.Success || res.Detail.ErrorCode != "NO_EVIDENCE" || res.SNRScore != nil {
		t.Fatalf("query over an empty lake: %+v %v", res, err)
	}
}

// TestFaultReceiptsForgedLineHealth: a forged line in the receipt log is refused at
// start; health reports checks.receipts false (degraded), status counts the rejected
// record, and the genuine receipt is still what the log returns.
func TestFaultReceiptsForgedLineHealth(t *testing.T) {
	lake := t.TempDir()
	if err := os.WriteFile(filepath.Join(lake, "notes.md"), []byte("# Bridge\n\nThe bridge listens on port 9742 for desktop clients.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	secret, err := receipt.GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	o := Options{DataLake: lake, StateDir: filepath.Join(t.TempDir(), "state"), ReceiptSecret: secret}
	r, err := newRuntime(t, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	res, err := r.Query(context.Background(), query.NewRequest("which port does the bridge use?"))
	if err != nil || res.ReceiptID == "" {
		t.Fatalf("query: %+v %v", res, err)
	}
	if h := r.Health(); h.Checks["receipts"] != true {
		t.Fatalf("checks.receipts %v on a fresh log", h.Checks["receipts"])
	}
	if err := r.Receipts().Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	genuine, err := r.Receipts().Get(res.ReceiptID)
	if err != nil {
		t.Fatal(err)
	}
	shutdown(t, r)
	segs, _ := filepath.Glob(filepath.Join(o.StateDir, "receipts", "seg-*.jsonl"))
	if len(segs) != 1 {
		t.Fatalf("segments %v", segs)
	}
	f, err := os.OpenFile(segs[0], os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString(`{"receipt_id":"` + res.ReceiptID + `","forged":true}` + "\n")
	f.Close()

	r2, err := newRuntime(t, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := r2.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shutdown(t, r2) })
	if h := r2.Health(); h.Checks["receipts"] != false || h.Status != "degraded" {
		t.Fatalf("health after a forged line %+v", h)
	}
	rs, _ := r2.Status(context.Background())["receipts"].(map[string]any)
	if rs["rejected_records"] != 1 {
		t.Fatalf("status receipts %v", rs)
	}
	got, err := r2.Receipts().Get(res.ReceiptID)
	if err != nil || string(got) != string(genuine) {
		t.Fatalf("GET after the forgery: %v %s", err, got)
	}
}

// TestStatusMailboxDepths: every actor kind that owns a mailbox reports its depth as a
// number in /v1/status (not null), and it falls back to 0 once the work is done.
func TestStatusMailboxDepths(t *testing.T) {
	r, err := newRuntime(t, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shutdown(t, r) })
	for i := range 3 {
		if _, err := r.Query(context.Background(), query.NewRequest(fmt.Sprintf("mailbox depth question %d", i))); err != nil {
			t.Fatal(err)
		}
	}
	actors := r.Status(context.Background())["actors"].(map[string]any)
	for _, kind := range []string{KindWorker, KindLedger, KindSealer} {
		a, ok := actors[kind].(map[string]any)
		if !ok {
			t.Fatalf("no %s entry in status actors: %v", kind, actors)
		}
		var depth int64 = -1
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			d, ok := a["mailbox"].(int64)
			if !ok {
				t.Fatalf("%s mailbox = %#v; want a depth", kind, a["mailbox"])
			}
			if depth = d; depth == 0 {
				break
			}
			time.Sleep(20 * time.Millisecond)
			a = r.Status(context.Background())["actors"].(map[string]any)[kind].(map[string]any)
		}
		if depth != 0 {
			t.Fatalf("%s mailbox depth %d after the work finished; want 0", kind, depth)
		}
	}
}
