package maintenance

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/bizra/bizra/supervision/genesis"
)

// TestFaultGenesisSwapTask drives the genesis task through a swap, a second cycle
// over the same swap, a restore and an in-place edit, and checks what each cycle
// decides, logs and counts.
func TestFaultGenesisSwapTask(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	other := filepath.Join(t.TempDir(), "state")
	for _, d := range []string{dir, other} {
		if _, err := genesis.Init(d, "home", "lab", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	files := []string{genesis.GenesisFile, genesis.HashFile, genesis.KeyFile}
	read := func(d string) map[string][]byte {
		m := map[string][]byte{}
		for _, f := range files {
			b, err := os.ReadFile(filepath.Join(d, f))
			if err != nil {
				t.Fatal(err)
			}
			m[f] = b
		}
		return m
	}
	mine, theirs := read(dir), read(other)
	put := func(m map[string][]byte) {
		for f, b := range m {
			if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	guard, err := genesis.NewGuardWith(genesis.GuardOptions{Role: genesis.RoleNode0, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	set := metrics.NewSet()
	var seen []genesis.Verdict
	l, err := New(Options{Tasks: []Task{GenesisTask(GenesisOptions{Guard: guard,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)), Metrics: set,
		OnChange: func(v genesis.Verdict) { seen = append(seen, v) }})}})
	if err != nil {
		t.Fatal(err)
	}
	count := func(kind string) uint64 {
		return set.GetOrCreateCounter(SecurityEventsMetric + `{kind="` + kind + `"}`).Get()
	}
	for _, step := range []struct {
		name             string
		change           func()
		decisions        int
		swapped, invalid uint64
		log              string
	}{
		{"untouched", func() {}, 0, 0, 0, ""},
		{"swapped for another ceremony", func() { put(theirs) }, 1, 1, 0, "kind=genesis_swapped"},
		{"still swapped", func() {}, 0, 1, 0, ""},
		{"restored", func() { put(mine) }, 1, 1, 0, "kind=genesis_restored"},
		{"hash file edited in place", func() {
			if err := os.WriteFile(filepath.Join(dir, genesis.HashFile), []byte(strings.Repeat("0", 64)+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, 1, 1, 1, "kind=genesis_invalid"},
	} {
		logs.Reset()
		step.change()
		d, a, f := l.RunOnce(context.Background())
		if d != step.decisions || a != step.decisions || f != 0 {
			t.Fatalf("%s: decisions %d actions %d failures %d, want %d", step.name, d, a, f, step.decisions)
		}
		if count(EventGenesisSwapped) != step.swapped || count(EventGenesisInvalid) != step.invalid {
			t.Fatalf("%s: swapped %d invalid %d, want %d %d", step.name, count(EventGenesisSwapped),
				count(EventGenesisInvalid), step.swapped, step.invalid)
		}
		if step.log != "" && (!strings.Contains(logs.String(), step.log) || !strings.Contains(logs.String(), "event=security")) {
			t.Fatalf("%s: log %q lacks %q", step.name, logs.String(), step.log)
		}
		if step.log == "" && logs.Len() != 0 {
			t.Fatalf("%s: unexpected log %q", step.name, logs.String())
		}
	}
	if len(seen) != 3 || seen[0].OK || !seen[0].Swapped || !seen[1].OK || seen[2].OK || seen[2].Swapped {
		t.Fatalf("OnChange saw %+v", seen)
	}
}
