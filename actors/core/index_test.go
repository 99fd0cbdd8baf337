package core

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bizra/bizra/actors/query"
	"github.com/bizra/bizra/internal/catalog"
	"github.com/bizra/bizra/internal/index"
)

func writeLakeFile(t *testing.T, dir, rel, text string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func statusIndex(t *testing.T, r *Runtime) map[string]any {
	t.Helper()
	b, err := json.Marshal(r.Status(context.Background())["index"])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestIndexingInBackground holds the first scan: the runtime serves meanwhile, health
// says indexing (degraded, not down), a query that cannot wait gets INDEX_NOT_READY
// (503), and one that waits is answered from the index once it is built.
func TestIndexingInBackground(t *testing.T) {
	lake := t.TempDir()
	writeLakeFile(t, lake, "ops/bridge.md", "# Bridge\n\nThe bridge listens on port 9742 for desktop clients.\n")
	hold := make(chan struct{})
	r, err := newRuntime(t, Options{DataLake: lake, Index: IndexOptions{StartWait: -1, QueryWait: 100 * time.Millisecond,
		beforeFirstScan: func(ctx context.Context) {
			select {
			case <-hold:
			case <-ctx.Done():
			}
		}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shutdown(t, r) })
	h := r.Health()
	if h.Checks["index"] != index.StateIndexing || h.Status != "degraded" {
		t.Fatalf("health while indexing: %+v", h)
	}
	if st := statusIndex(t, r); st["state"] != index.StateIndexing || st["ready"] != false {
		t.Fatalf("status index while indexing: %v", st)
	}
	_, err = r.Query(context.Background(), query.NewRequest("which port does the bridge use?"))
	if !errors.Is(err, index.ErrNotReady) {
		t.Fatalf("query while indexing: %v, want ErrNotReady", err)
	}
	if p := catalog.Lookup(err); p.HTTP != 503 || p.Code != "INDEX_NOT_READY" {
		t.Fatalf("public form %+v, want 503 INDEX_NOT_READY", p)
	}
	r.opts.Index.QueryWait = 20 * time.Second
	type answer struct {
		res query.Result
		err error
	}
	got := make(chan answer, 1)
	go func() {
		res, err := r.Query(context.Background(), query.NewRequest("which port does the bridge use?"))
		got <- answer{res, err}
	}()
	time.Sleep(50 * time.Millisecond)
	close(hold)
	a := <-got
	if a.err != nil || !a.res.Success || !strings.Contains(a.res.Response, "9742") {
		t.Fatalf("query after indexing: %+v %v", a.res, a.err)
	}
	<-r.lake.Scanned()
	if h := r.Health(); h.Checks["index"] != index.StateReady {
		t.Fatalf("health after indexing: %+v", h)
	}
	st := statusIndex(t, r)
	if st["files"] != 1.0 || st["files_total"] != 1.0 || st["files_done"] != 1.0 || st["state"] != index.StateReady {
		t.Fatalf("status index: %v", st)
	}
	var buf bytes.Buffer
	r.WriteMetrics(&buf)
	for _, m := range []string{"sovereign_index_files 1\n", "sovereign_index_indexing 0\n", "sovereign_index_unreadable_files 0\n",
		"sovereign_index_scan_files 1\n"} {
		if !strings.Contains(buf.String(), m) {
			t.Fatalf("metrics lack %q", m)
		}
	}
}

// TestIndexFollowsLake: a file added to, changed in or removed from the lake is
// reflected in answers within seconds, cached answers included.
func TestIndexFollowsLake(t *testing.T) {
	lake := t.TempDir()
	writeLakeFile(t, lake, "ops/bridge.md", "# Bridge\n\nThe bridge listens on port 9742 for desktop clients.\n")
	r, err := newRuntime(t, Options{DataLake: lake})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shutdown(t, r) })
	ask := func(q string) query.Result {
		t.Helper()
		res, err := r.Query(context.Background(), query.NewRequest(q))
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	eventually := func(what string, ok func() bool) {
		t.Helper()
		start := time.Now()
		for time.Since(start) < 15*time.Second {
			if ok() {
				t.Logf("%s: reflected after %v", what, time.Since(start).Round(time.Millisecond))
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("%s: not reflected within 15 s (%+v)", what, r.IndexProgress())
	}
	const q = "which port does the bridge use?"
	if res := ask(q); !strings.Contains(res.Response, "9742") {
		t.Fatalf("first answer %+v", res)
	}
	if res := ask(q); !res.Cached {
		t.Fatalf("second answer not from the cache: %+v", res)
	}
	writeLakeFile(t, lake, "ops/bridge.md", "# Bridge\n\nThe bridge listens on port 9911 for desktop clients.\n")
	eventually("changed file (cached answer dropped)", func() bool { return strings.Contains(ask(q).Response, "9911") })
	writeLakeFile(t, lake, "new/axolotl.md", "# Axolotl\n\nThe axolotl salamander regrows its limbs.\n")
	eventually("added file", func() bool {
		res := ask("what does the axolotl salamander regrow?")
		return len(res.Evidence) > 0 && strings.HasPrefix(res.Evidence[0].Source, "new/axolotl.md")
	})
	if err := os.Remove(filepath.Join(lake, "new", "axolotl.md")); err != nil {
		t.Fatal(err)
	}
	eventually("removed file", func() bool {
		for _, e := range ask("what does the axolotl salamander regrow?").Evidence {
			if strings.HasPrefix(e.Source, "new/axolotl.md") {
				return false
			}
		}
		return true
	})
}

// TestIndexSavedAcrossRestarts: the second start reuses <state>/index; with NoCache
// nothing is saved; ReadOnly never writes.
func TestIndexSavedAcrossRestarts(t *testing.T) {
	lake := t.TempDir()
	writeLakeFile(t, lake, "a.md", "# A\n\nalpha document about ledgers\n")
	state := filepath.Join(t.TempDir(), "state")
	start := func(io IndexOptions) *Runtime {
		t.Helper()
		r, err := newRuntime(t, Options{DataLake: lake, StateDir: state, Index: io})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := r.WaitIndex(context.Background()); err != nil {
			t.Fatal(err)
		}
		return r
	}
	saved := filepath.Join(state, "index", index.SavedIndexFile)
	r := start(IndexOptions{NoCache: true})
	shutdown(t, r)
	if _, err := os.Stat(saved); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("NoCache saved an index: %v", err)
	}
	r = start(IndexOptions{ReadOnly: true, NoWatch: true})
	shutdown(t, r)
	if _, err := os.Stat(saved); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("ReadOnly saved an index: %v", err)
	}
	r = start(IndexOptions{})
	if st := statusIndex(t, r); st["saved"].(map[string]any)["loaded"] != false {
		t.Fatalf("first start: %v", st)
	}
	shutdown(t, r)
	if fi, err := os.Stat(saved); err != nil || fi.Mode().Perm()&0o077 != 0 {
		t.Fatalf("saved index: %v %v (want private to the owner)", fi, err)
	}
	r = start(IndexOptions{ReadOnly: true, NoWatch: true})
	if st := statusIndex(t, r); st["saved"].(map[string]any)["loaded"] != true || st["files"] != 1.0 {
		t.Fatalf("restart did not reuse the saved index: %v", st)
	}
	shutdown(t, r)
}

// TestFaultLakeFilesUnreadableOrGone: an unreadable lake file is counted and named in
// /v1/status, not fatal; a lake folder that disappears makes the scan fail, health
// says so (index failed, degraded) and the last good index keeps answering.
func TestFaultLakeFilesUnreadableOrGone(t *testing.T) {
	lake := t.TempDir()
	writeLakeFile(t, lake, "ops/bridge.md", "# Bridge\n\nThe bridge listens on port 9742 for desktop clients.\n")
	if err := os.Symlink("nowhere.md", filepath.Join(lake, "dangling.md")); err != nil {
		t.Fatal(err)
	}
	r, err := newRuntime(t, Options{DataLake: lake, Index: IndexOptions{RescanInterval: -1}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shutdown(t, r) })
	if err := r.WaitIndex(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := statusIndex(t, r)
	files, _ := st["unreadable_files"].([]any)
	if st["unreadable"] != 1.0 || len(files) != 1 || files[0].(map[string]any)["path"] != "dangling.md" || st["state"] != index.StateReady {
		t.Fatalf("status index: %v", st)
	}
	if err := os.RemoveAll(lake); err != nil {
		t.Fatal(err)
	}
	before := r.IndexProgress().Scans
	r.RescanIndex()
	deadline := time.Now().Add(10 * time.Second)
	for r.IndexProgress().State != index.StateFailed {
		if time.Now().After(deadline) {
			t.Fatalf("scan of a vanished lake did not fail: %+v (scans before %d)", r.IndexProgress(), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if h := r.Health(); h.Checks["index"] != index.StateFailed || h.Status != "degraded" {
		t.Fatalf("health %+v", h)
	}
	if p := r.IndexProgress(); p.LastError == "" {
		t.Fatalf("no error reported: %+v", p)
	}
	res, err := r.Query(context.Background(), query.NewRequest("which port does the bridge use?"))
	if err != nil || !strings.Contains(res.Response, "9742") {
		t.Fatalf("the last good index does not answer: %+v %v", res, err)
	}
}
