package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bizra/bizra/actors/receipt"
	"github.com/bizra/bizra/internal/index"
)

// TestQueryReusesSavedIndex: the first `bizra query` in process builds and saves the
// index; the next ones load it and read no unchanged file; a changed file is read
// again; a damaged saved index is discarded with one WARN and the query still answers.
func TestQueryReusesSavedIndex(t *testing.T) {
	gateLeakCheck(t) // protoactor's dead-letter throttle may outlive a one-shot query by a second
	dir := t.TempDir()
	state, lake := filepath.Join(dir, "state"), filepath.Join(dir, "lake")
	if _, err := seedDataLake(lake); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour) // no racily clean files
	_ = filepath.WalkDir(lake, func(p string, _ os.DirEntry, _ error) error { return os.Chtimes(p, old, old) })
	s, err := receipt.GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"BIZRA_RECEIPT_PRIVATE_KEY_HEX": s.RevealHex()}
	query := func() result {
		t.Helper()
		r := runCLI(t, env, "query", "how do I check bridge health?", "--state-dir", state, "--data-lake", lake,
			"--log-level", "debug", "--log-format", "json")
		if r.code != 0 || !strings.Contains(r.stdout, "source: ") {
			t.Fatalf("bizra query: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		return r
	}
	r := query()
	if strings.Contains(r.stderr, "index: loaded the saved index") {
		t.Fatal("loaded an index that did not exist")
	}
	saved := filepath.Join(state, "index", index.SavedIndexFile)
	if _, err := os.Stat(saved); err != nil {
		t.Fatalf("the first query did not save the index: %v", err)
	}
	r = query()
	if !strings.Contains(r.stderr, `"msg":"index: loaded the saved index"`) || strings.Contains(r.stderr, `"changed":true`) {
		t.Fatalf("the second query did not reuse the saved index unchanged:\n%s", r.stderr)
	}
	b, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.WriteFile(saved, b, 0o600); err != nil {
		t.Fatal(err)
	}
	r = query()
	if n := strings.Count(r.stderr, `"level":"WARN","msg":"index: saved index discarded`); n != 1 {
		t.Fatalf("%d discard WARNs for a damaged saved index, want 1:\n%s", n, r.stderr)
	}
	if !strings.Contains(query().stderr, `"msg":"index: loaded the saved index"`) {
		t.Fatal("the rebuilt index was not saved")
	}
}
