package skills_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bizra/bizra/actors/skills"
	"github.com/bizra/bizra/internal/catalog"
)

// TestSmartFilesThroughRegistry drives smart_files the way the bridge does: inputs
// decoded from JSON, answers read as an Invocation.
func TestSmartFilesThroughRegistry(t *testing.T) {
	root := lakeRoot(t)
	if err := os.WriteFile(filepath.Join(root, "a.py"), []byte("print(1)"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, _ := newRegistry(t, skills.Options{DataLakeRoot: root})
	call := func(js string) (skills.Invocation, error) {
		var in map[string]any
		if err := json.Unmarshal([]byte(js), &in); err != nil {
			t.Fatal(err)
		}
		return r.Invoke(context.Background(), "smart_files", in)
	}
	t.Run("scan", func(t *testing.T) {
		inv, err := call(`{"operation":"scan","path":"."}`)
		if err != nil || !inv.Success {
			t.Fatalf("%+v %v", inv, err)
		}
		b, _ := json.Marshal(inv.Output)
		if !strings.Contains(string(b), `"total_files":1`) || !strings.Contains(string(b), `"code":{"count":1`) {
			t.Fatal(string(b))
		}
	})
	t.Run("traversal is the skill's failure", func(t *testing.T) {
		inv, err := call(`{"operation":"scan","path":"/etc"}`)
		want := "Path '/etc' is outside DATA_LAKE_ROOT '" + root + "'. Traversal blocked."
		if err != nil || inv.Success || inv.ErrorText() != want {
			t.Fatalf("%+v %v", inv, err)
		}
	})
	t.Run("unknown operation lists the four", func(t *testing.T) {
		inv, err := call(`{"operation":"shred"}`)
		var ie *skills.InputError
		if !errors.As(err, &ie) || ie.Input != "operation" || catalog.Lookup(err).Kind != catalog.InvalidInput {
			t.Fatalf("%v", err)
		}
		for _, op := range []string{"scan", "organize", "rename", "merge"} {
			if !strings.Contains(inv.ErrorText(), op) {
				t.Fatal(inv.ErrorText())
			}
		}
	})
	t.Run("missing operation", func(t *testing.T) {
		inv, err := call(`{"path":"."}`)
		if !errors.Is(err, skills.ErrInvalidInput) || inv.ErrorText() != "Missing required input: operation" {
			t.Fatalf("%+v %v", inv, err)
		}
	})
	t.Run("bad dry_run", func(t *testing.T) {
		inv, err := call(`{"operation":"organize","path":".","dry_run":"maybe"}`)
		var ie *skills.InputError
		if !errors.As(err, &ie) || ie.Input != "dry_run" || inv.Success {
			t.Fatalf("%+v %v", inv, err)
		}
		if _, err := os.Stat(filepath.Join(root, "a.py")); err != nil {
			t.Fatal("file moved")
		}
	})
}

// TestFaultStateLakeOverlapSkillInvoke invokes smart_files through the registry with a
// path inside the state folder: the answer is an invalid-input error naming the path,
// and nothing is copied out of the folder.
func TestFaultStateLakeOverlapSkillInvoke(t *testing.T) {
	root := lakeRoot(t)
	state := filepath.Join(root, "sovereign_state")
	if err := os.MkdirAll(state, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(state, ".env"), []byte("BIZRA_BRIDGE_TOKEN=secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, _ := newRegistry(t, skills.Options{DataLakeRoot: root, StateDir: state})
	for _, tc := range []struct{ name, js, input string }{
		{"organize copies the state folder", `{"operation":"organize","path":"sovereign_state","copy_mode":true,"dry_run":false}`, "path"},
		{"merge the .env", `{"operation":"merge","paths":["sovereign_state/.env"],"output_path":"out.txt","dry_run":false}`, "paths"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var in map[string]any
			if err := json.Unmarshal([]byte(tc.js), &in); err != nil {
				t.Fatal(err)
			}
			inv, err := r.Invoke(context.Background(), "smart_files", in)
			var ie *skills.InputError
			if !errors.As(err, &ie) || ie.Input != tc.input || catalog.Lookup(err).Kind != catalog.InvalidInput || inv.Success {
				t.Fatalf("%+v %v", inv, err)
			}
			if !strings.Contains(inv.ErrorText(), "'"+state) || !strings.Contains(inv.ErrorText(), "state folder") {
				t.Fatalf("refusal %q does not name the path", inv.ErrorText())
			}
			ents, err := os.ReadDir(root)
			if err != nil || len(ents) != 1 {
				t.Fatalf("the lake changed: %v %v", ents, err)
			}
		})
	}
}
