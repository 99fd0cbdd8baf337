package core

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/bizra/bizra/actors/ledger"
	"github.com/bizra/bizra/actors/query"
	"github.com/bizra/bizra/internal/catalog"
)

func writeLake(t *testing.T) string {
	t.Helper()
	lake := t.TempDir()
	if err := os.WriteFile(filepath.Join(lake, "notes.md"), []byte("# Bridge\n\nThe bridge listens on port 9742 for desktop clients.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return lake
}

const bridgePortQuery = "which port does the bridge use?"

func metricLine(t *testing.T, r *Runtime, name string) string {
	t.Helper()
	var b bytes.Buffer
	r.set.WritePrometheus(&b)
	for _, line := range strings.Split(b.String(), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	return "<missing>"
}

// TestFaultLedgerWriteRefusedQuery: while the ledger's disk refuses writes a query
// that would commit an episode fails with STORAGE_UNAVAILABLE (503), nothing is
// cached or claimed, health shows checks.ledger false and status says why; once the
// disk accepts writes the same query commits an episode, health recovers, and a
// repeat is a cache hit that claims no episode of its own.
func TestFaultLedgerWriteRefusedQuery(t *testing.T) {
	var refuse atomic.Bool
	fault := func(op, path string) error {
		if refuse.Load() && op == "write" && strings.HasSuffix(path, ".log") {
			return syscall.ENOSPC
		}
		return nil
	}
	r, err := newRuntime(t, Options{DataLake: writeLake(t), LedgerFault: fault})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shutdown(t, r) })
	if v := metricLine(t, r, "sovereign_sel_write_errors_total"); v != "0" {
		t.Fatalf("sovereign_sel_write_errors_total at start %s; want 0", v)
	}
	if h := r.Health(); h.Checks["ledger"] != true {
		t.Fatalf("health at start %+v; want checks.ledger true", h)
	}

	refuse.Store(true)
	res, err := r.Query(context.Background(), query.NewRequest(bridgePortQuery))
	if !errors.Is(err, ledger.ErrStorageUnavailable) {
		t.Fatalf("query on a refusing disk: %+v, %v; want STORAGE_UNAVAILABLE", res, err)
	}
	if p := catalog.Lookup(err); p.HTTP != 503 || p.Code != "STORAGE_UNAVAILABLE" || p.RPC != -32603 ||
		p.Message != "The experience ledger could not be written; nothing was recorded" {
		t.Fatalf("rendered as %+v", p)
	}
	if res.ReceiptID != "" || res.Detail.Episode != nil || res.Success {
		t.Fatalf("failed query claims something: %+v", res)
	}
	if r.cache.Len() != 0 {
		t.Fatalf("%d cache entries after a failed commit; want 0", r.cache.Len())
	}
	h := r.Health()
	if h.Checks["ledger"] != false || h.Status != "degraded" {
		t.Fatalf("health while the ledger fails %+v; want checks.ledger false, degraded", h)
	}
	led := r.Status(context.Background())["ledger"].(map[string]any)
	if led["writable"] != false || led["write_error"] != "SEL_DISK_FULL" {
		t.Fatalf("status ledger %+v; want writable false, write_error SEL_DISK_FULL", led)
	}
	if v := metricLine(t, r, "sovereign_sel_write_errors_total"); v != "1" {
		t.Errorf("sovereign_sel_write_errors_total %s; want 1", v)
	}

	refuse.Store(false)
	res, err = r.Query(context.Background(), query.NewRequest(bridgePortQuery))
	if err != nil || !res.Success || !res.SNROK || res.Cached {
		t.Fatalf("query after recovery: %+v %v; want a fresh snr_ok success", res, err)
	}
	ep := res.Detail.Episode
	if ep == nil || ep.Sequence != 0 {
		t.Fatalf("episode %+v; want sequence 0 (the refused one was not committed)", ep)
	}
	stored, err := r.Ledger().BySequence(ep.Sequence)
	if err != nil || stored.EpisodeHash != ep.Hash {
		t.Fatalf("claimed episode %+v not in the ledger: %+v %v", ep, stored, err)
	}
	if h := r.Health(); h.Checks["ledger"] != true {
		t.Fatalf("health after recovery %+v; want checks.ledger true", h)
	}
	hit, err := r.Query(context.Background(), query.NewRequest(bridgePortQuery))
	if err != nil || !hit.Cached || hit.Detail.Episode != nil {
		t.Fatalf("cache hit %+v %v; want cached with no episode of its own", hit.Detail.Episode, err)
	}
	if n := r.Ledger().Len(); n != 1 {
		t.Errorf("%d episodes; want 1", n)
	}
}

// TestFaultLedgerTamperRefusesStart: a cut acknowledged record refuses the start with
// ErrLoss naming the file and offset; AcceptLedgerLoss starts, with checks.ledger
// false and the damage in the status, and appends again.
func TestFaultLedgerTamperRefusesStart(t *testing.T) {
	lake, state := writeLake(t), filepath.Join(t.TempDir(), "state")
	r, err := newRuntime(t, Options{DataLake: lake, StateDir: state, CacheEntries: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if res, err := r.Query(context.Background(), query.NewRequest(bridgePortQuery)); err != nil || res.Detail.Episode == nil {
			t.Fatalf("query: %+v %v", res.Detail.Episode, err)
		}
	}
	shutdown(t, r)
	segs, _ := filepath.Glob(filepath.Join(state, "sel", "seg-*.log"))
	if len(segs) != 1 {
		t.Fatalf("segments %v", segs)
	}
	fi, err := os.Stat(segs[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(segs[0], fi.Size()-10); err != nil {
		t.Fatal(err)
	}

	r2, err := newRuntime(t, Options{DataLake: lake, StateDir: state, CacheEntries: -1})
	if err != nil {
		t.Fatal(err)
	}
	err = r2.Start(context.Background())
	if !errors.Is(err, ledger.ErrLoss) || !strings.Contains(err.Error(), filepath.Base(segs[0])+" offset ") ||
		!strings.Contains(err.Error(), "sequence 2") {
		t.Fatalf("start over a cut ledger: %v; want ErrLoss naming the file, offset and sequence 2", err)
	}
	_ = r2.Shutdown(context.Background())

	r3, err := newRuntime(t, Options{DataLake: lake, StateDir: state, CacheEntries: -1, AcceptLedgerLoss: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := r3.Start(context.Background()); err != nil {
		t.Fatalf("start with AcceptLedgerLoss: %v", err)
	}
	t.Cleanup(func() { shutdown(t, r3) })
	if h := r3.Health(); h.Checks["ledger"] != false || h.Status != "degraded" {
		t.Fatalf("health after an accepted loss %+v; want checks.ledger false", h)
	}
	led := r3.Status(context.Background())["ledger"].(map[string]any)
	if d, _ := led["damage"].(map[string]any); d == nil || d["sequence"] != uint64(2) || led["verified"] != false {
		t.Fatalf("status ledger %+v; want damage at sequence 2, verified false", led)
	}
	res, err := r3.Query(context.Background(), query.NewRequest(bridgePortQuery))
	if err != nil || res.Detail.Episode == nil || res.Detail.Episode.Sequence != 2 {
		t.Fatalf("query after the accepted loss: %+v %v; want episode 2", res.Detail.Episode, err)
	}
}
