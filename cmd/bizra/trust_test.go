package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bizra/bizra/actors/core"
	"github.com/bizra/bizra/actors/receipt"
	"github.com/bizra/bizra/supervision/genesis"
)

// refusalLine returns the one stderr line `bizra <cmd>:` printed, failing when there
// is not exactly one.
func refusalLine(t *testing.T, stderr, cmd string) string {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "bizra "+cmd+": ") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 {
		t.Fatalf("want one `bizra %s:` line, got %d in %q", cmd, len(lines), stderr)
	}
	return lines[0]
}

func runEnv(t *testing.T, state string) map[string]string {
	t.Helper()
	secret, err := receipt.GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{"BIZRA_STATE_DIR": state, receipt.EnvKey: secret.RevealHex(),
		"BIZRA_BRIDGE_TOKEN": strings.Repeat("t", 40), "BIZRA_API_PORT": "0", "BIZRA_BRIDGE_PORT": "0",
		"BIZRA_LOG_LEVEL": "info"}
}

func ceremonyIn(t *testing.T, state string) genesis.Genesis {
	t.Helper()
	g, err := genesis.Init(state, "home", "lab", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func keyIDOf(t *testing.T, g genesis.Genesis) string {
	t.Helper()
	pub, err := hex.DecodeString(g.Identity.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return genesis.KeyID(pub)
}

// TestFaultGenesisTrustAnchorsRun starts `bizra run` (and the in-process `bizra
// query`) over node0 folders whose genesis does not match the pin or the key recorded
// on first use: each refuses in one line naming both key ids; a bad pin is a usage
// error naming the variable.
func TestFaultGenesisTrustAnchorsRun(t *testing.T) {
	leakCheck(t)
	x := t.TempDir()
	other := ceremonyIn(t, filepath.Join(x, "other"))
	otherID := keyIDOf(t, other)

	t.Run("pin of another key", func(t *testing.T) {
		state := filepath.Join(x, "pinned")
		mine := ceremonyIn(t, state)
		env := runEnv(t, state)
		env["BIZRA_GENESIS_PUBLIC_KEY"] = other.Identity.PublicKey
		r := runCLI(t, env, "run", "--role", "node0", "--data-lake", filepath.Join(x, "lake-pinned"))
		wantCode(t, r, 1, "run with a pin of another key")
		line := refusalLine(t, r.stderr, "run")
		for _, s := range []string{"Node0 genesis key not trusted", "is signed by key id " + keyIDOf(t, mine),
			"pins key id " + otherID, "--genesis-public-key / BIZRA_GENESIS_PUBLIC_KEY"} {
			if !strings.Contains(line, s) {
				t.Fatalf("refusal %q lacks %q", line, s)
			}
		}
		// The flag overrides the variable.
		r = runCLI(t, env, "run", "--role", "node0", "--genesis-public-key", "zz", "--data-lake", filepath.Join(x, "lake-pinned"))
		wantCode(t, r, 2, "run with a malformed pin")
		if line := refusalLine(t, r.stderr, "run"); !strings.Contains(line, "--genesis-public-key / BIZRA_GENESIS_PUBLIC_KEY") {
			t.Fatalf("malformed pin refusal %q", line)
		}
	})

	t.Run("trust on first use, then a new ceremony", func(t *testing.T) {
		state := filepath.Join(x, "tofu")
		first := ceremonyIn(t, state)
		env := runEnv(t, state)
		lake := filepath.Join(x, "lake-tofu")
		// The first start records the key (an in-process query starts the runtime).
		r := runCLI(t, env, "query", "--role", "node0", "--data-lake", lake, "--log-level", "info", "what is bizra?")
		if r.code != 0 && r.code != 1 {
			t.Fatalf("first query exit %d: %s", r.code, r.stderr)
		}
		rec, err := genesis.ReadTrustFile(state)
		if err != nil || hex.EncodeToString(rec) != first.Identity.PublicKey {
			t.Fatalf("trust file after the first start: %x %v", rec, err)
		}
		// A deliberate-looking but unannounced new ceremony with a new key.
		for _, f := range []string{genesis.GenesisFile, genesis.HashFile, genesis.KeyFile} {
			if err := os.Remove(filepath.Join(state, f)); err != nil {
				t.Fatal(err)
			}
		}
		second := ceremonyIn(t, state)
		r = runCLI(t, env, "run", "--role", "node0", "--data-lake", lake)
		wantCode(t, r, 1, "run after the key changed")
		line := refusalLine(t, r.stderr, "run")
		for _, s := range []string{"Node0 genesis key changed", "signed by key id " + keyIDOf(t, second),
			"key id " + keyIDOf(t, first) + " was recorded on first use", "delete " + filepath.Join(state, genesis.TrustFile),
			"--genesis-public-key"} {
			if !strings.Contains(line, s) {
				t.Fatalf("refusal %q lacks %q", line, s)
			}
		}
		// The deliberate reset: pass the new key as the pin; it replaces the record.
		env["BIZRA_GENESIS_PUBLIC_KEY"] = second.Identity.PublicKey
		r = runCLI(t, env, "query", "--role", "node0", "--data-lake", lake, "what is bizra?")
		if r.code != 0 && r.code != 1 || strings.Contains(r.stderr, "not trusted") {
			t.Fatalf("query with the new pin: exit %d: %s", r.code, r.stderr)
		}
		if rec, err := genesis.ReadTrustFile(state); err != nil || hex.EncodeToString(rec) != second.Identity.PublicKey {
			t.Fatalf("trust file after the reset: %x %v", rec, err)
		}
	})
}

// TestFaultStateLakeOverlapRun refuses `bizra run` when the state folder and the data
// lake contain one another, in one line naming both.
func TestFaultStateLakeOverlapRun(t *testing.T) {
	leakCheck(t)
	for _, tc := range []struct {
		name        string
		state, lake func(x string) string
		refused     bool
	}{
		{"state inside lake", func(x string) string { return filepath.Join(x, "lake", "sovereign_state") },
			func(x string) string { return filepath.Join(x, "lake") }, true},
		{"lake inside state", func(x string) string { return filepath.Join(x, "state") },
			func(x string) string { return filepath.Join(x, "state", "lake") }, true},
		{"same folder", func(x string) string { return filepath.Join(x, "both") },
			func(x string) string { return filepath.Join(x, "both") }, true},
		{"symlinked lake into state", func(x string) string { return filepath.Join(x, "state") },
			func(x string) string {
				if err := os.MkdirAll(filepath.Join(x, "state", "docs"), 0o700); err != nil {
					panic(err)
				}
				if err := os.Symlink(filepath.Join(x, "state", "docs"), filepath.Join(x, "lake")); err != nil {
					panic(err)
				}
				return filepath.Join(x, "lake")
			}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := t.TempDir()
			state, lake := tc.state(x), tc.lake(x)
			if err := os.MkdirAll(state, 0o700); err != nil {
				t.Fatal(err)
			}
			env := runEnv(t, state)
			ri := runCLI(t, env, "init", "--data-lake", lake, "--state-dir", state)
			wantCode(t, ri, 1, "init over overlapping folders")
			if line := refusalLine(t, ri.stderr, "init"); !strings.Contains(line, "'"+state+"'") {
				t.Fatalf("init refusal %q", line)
			}
			r := runCLI(t, env, "run", "--data-lake", lake, "--state-dir", state)
			wantCode(t, r, 1, "run over overlapping folders")
			line := refusalLine(t, r.stderr, "run")
			if !strings.Contains(line, "'"+state+"'") || !strings.Contains(line, "'"+lake+"'") || !strings.Contains(line, "overlap") &&
				!strings.Contains(line, "same folder") {
				t.Fatalf("refusal %q does not name %s and %s", line, state, lake)
			}
			if _, err := os.Stat(filepath.Join(state, "sel")); !os.IsNotExist(err) {
				t.Fatalf("the ledger folder was created before the refusal: %v", err)
			}
		})
	}
}

// TestVerifyGenesisThisNode posts this node0's genesis, another node0's and a
// tampered one to POST /v1/verify/genesis.
func TestVerifyGenesisThisNode(t *testing.T) {
	otherDir := filepath.Join(t.TempDir(), "other")
	ceremonyIn(t, otherDir)
	n := startE2E(t, e2eOpts{noDocs: true, core: core.Options{Role: "node0"},
		state: func(t testing.TB, dir string) {
			if _, err := genesis.Init(dir, "home", "lab", time.Now()); err != nil {
				t.Fatal(err)
			}
		}})
	read := func(dir string) string {
		b, err := os.ReadFile(filepath.Join(dir, genesis.GenesisFile))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	mine := read(filepath.Join(n.dir, "state"))
	for _, tc := range []struct {
		name, body      string
		valid, thisNode bool
	}{
		{"this node's genesis", mine, true, true},
		{"another node0's valid genesis", read(otherDir), true, false},
		{"this node's genesis tampered", strings.Replace(mine, `"name": "home"`, `"name": "hone"`, 1), false, false},
		{"state folder (empty body)", "", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, b, _ := n.post(t, "/v1/verify/genesis", tc.body)
			var v struct {
				Valid    bool   `json:"valid"`
				ThisNode *bool  `json:"this_node"`
				Reason   string `json:"reason"`
			}
			if status != 200 || json.Unmarshal(b, &v) != nil || v.ThisNode == nil {
				t.Fatalf("status %d body %s", status, b)
			}
			if v.Valid != tc.valid || *v.ThisNode != tc.thisNode {
				t.Fatalf("valid %v this_node %v (%s), want %v %v", v.Valid, *v.ThisNode, v.Reason, tc.valid, tc.thisNode)
			}
		})
	}
	if !bytes.Contains([]byte(mine), []byte(`"name": "home"`)) {
		t.Fatal("the tamper case did not change the document")
	}
}

// TestFaultGenesisReasonHidesStatePath: the genesis routes explain a missing genesis
// without sending the server's state folder path to the client.
func TestFaultGenesisReasonHidesStatePath(t *testing.T) {
	n := startE2E(t, e2eOpts{})
	state := filepath.Join(n.dir, "state")
	for _, tc := range []struct {
		name string
		do   func() (int, []byte)
	}{
		{"header", func() (int, []byte) { return n.get(t, "/v1/verify/genesis/header") }},
		{"verify state folder", func() (int, []byte) {
			status, b, _ := n.post(t, "/v1/verify/genesis", "")
			return status, b
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, b := tc.do()
			var doc struct {
				Valid  bool   `json:"valid"`
				Reason string `json:"reason"`
			}
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatalf("%d %s: %v", status, b, err)
			}
			if doc.Valid || !strings.Contains(doc.Reason, "node0_genesis.json") {
				t.Fatalf("a node without genesis: %d %s", status, b)
			}
			if strings.Contains(string(b), state) || strings.Contains(string(b), n.dir) {
				t.Fatalf("the answer names the server's state folder %s: %s", state, b)
			}
		})
	}
}

// TestFaultGenesisSwapHeaderRefused: another node0's genesis (which validates on its
// own) copied over this node0's files while it runs is not served by the genesis
// routes as this node's valid genesis: the header answers 503 with GENESIS_SWAPPED and
// none of the swapped document, POST /v1/verify/genesis on the state folder says
// invalid; restoring the original files restores both.
func TestFaultGenesisSwapHeaderRefused(t *testing.T) {
	otherDir := filepath.Join(t.TempDir(), "other")
	other := ceremonyIn(t, otherDir)
	n := startE2E(t, e2eOpts{noDocs: true, core: core.Options{Role: "node0"},
		state: func(t testing.TB, dir string) {
			if _, err := genesis.Init(dir, "home", "lab", time.Now()); err != nil {
				t.Fatal(err)
			}
		}})
	state := filepath.Join(n.dir, "state")
	files := []string{genesis.GenesisFile, genesis.HashFile, genesis.KeyFile}
	copyFiles := func(from, to string) {
		t.Helper()
		for _, f := range files {
			b, err := os.ReadFile(filepath.Join(from, f))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(to, f), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	type verdict struct {
		Valid    bool   `json:"valid"`
		Reason   string `json:"reason"`
		ThisNode bool   `json:"this_node"`
	}
	check := func(wantValid bool) {
		t.Helper()
		status, b := n.get(t, "/v1/verify/genesis/header")
		var h verdict
		if err := json.Unmarshal(b, &h); err != nil {
			t.Fatalf("header %d %s: %v", status, b, err)
		}
		_, vb, _ := n.post(t, "/v1/verify/genesis", "")
		var v verdict
		if err := json.Unmarshal(vb, &v); err != nil {
			t.Fatalf("verify %s: %v", vb, err)
		}
		if wantValid {
			if status != 200 || !h.Valid || !v.Valid || !v.ThisNode {
				t.Fatalf("own genesis: header %d %s; verify %s", status, b, vb)
			}
			return
		}
		if status != 503 || h.Valid || !strings.HasPrefix(h.Reason, genesis.ReasonSwapped) {
			t.Fatalf("swapped genesis: header %d %s", status, b)
		}
		if strings.Contains(string(b), other.Identity.PublicKey) || strings.Contains(string(b), state) {
			t.Fatalf("the header serves the swapped document or the state path: %s", b)
		}
		if v.Valid || v.ThisNode || !strings.HasPrefix(v.Reason, genesis.ReasonSwapped) {
			t.Fatalf("swapped genesis: verify %s", vb)
		}
	}
	saved := filepath.Join(t.TempDir(), "saved")
	if err := os.MkdirAll(saved, 0o700); err != nil {
		t.Fatal(err)
	}
	copyFiles(state, saved)
	check(true)
	copyFiles(otherDir, state)
	check(false)
	copyFiles(saved, state)
	check(true)
}

// TestFaultSkillInputRefusalNamesInput: POST /v1/skills/smart_files/invoke with a bad
// input answers one JSON error that says which input and what is wrong (a path inside
// the state folder, an unknown operation), not only "Invalid skill input".
func TestFaultSkillInputRefusalNamesInput(t *testing.T) {
	n := startE2E(t, e2eOpts{})
	lake := filepath.Join(n.dir, "lake")
	if fi, err := os.Stat(lake); err != nil || !fi.IsDir() {
		t.Skipf("no data lake at %s in this harness", lake)
	}
	if err := os.Symlink(filepath.Join(n.dir, "state"), filepath.Join(lake, "statelink")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ body, want string }{
		{`{"inputs":{"operation":"bogus"}}`, "operation"},
		{`{"inputs":{"operation":"scan"}}`, "Missing required input: path"},
		{`{"inputs":{"operation":"merge","paths":["statelink/.env"],"output_path":"o.md","dry_run":false}}`, "state folder"},
	} {
		status, b, _ := n.post(t, "/v1/skills/smart_files/invoke", tc.body)
		var e struct {
			Error, Code, RequestID string
		}
		if status != 400 || json.Unmarshal(b, &e) != nil || e.Code != "SKILL_INVALID_INPUT" {
			t.Fatalf("%s: %d %s", tc.body, status, b)
		}
		if !strings.HasPrefix(e.Error, "Invalid skill input: ") || !strings.Contains(e.Error, tc.want) {
			t.Fatalf("%s: the refusal does not say what is wrong (want %q): %s", tc.body, tc.want, b)
		}
	}
}

// TestFaultStateHardLinkInLake: a hard link of a state-folder file (.env) placed in
// the data lake is neither indexed (no query answers with the secret) nor read or
// copied by smart_files (merge refused naming the input, organize skips it).
func TestFaultStateHardLinkInLake(t *testing.T) {
	const secret = "zqxjvtoken0123456789abcdefsecretvalue"
	n := startE2E(t, e2eOpts{state: func(t testing.TB, dir string) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		env := filepath.Join(dir, ".env")
		if err := os.WriteFile(env, []byte("# bizra secrets\nBIZRA_BRIDGE_TOKEN="+secret+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Link(env, filepath.Join(filepath.Dir(dir), "lake", "notes.md")); err != nil {
			t.Skipf("no hard links here: %v", err)
		}
	}})
	status, b, _ := n.post(t, "/v1/query", `{"query":"BIZRA_BRIDGE_TOKEN bizra secrets"}`)
	if strings.Contains(string(b), secret) || strings.Contains(string(b), "notes.md") {
		t.Fatalf("a query answered from the hard-linked .env (%d): %s", status, b)
	}
	status, b, _ = n.post(t, "/v1/skills/smart_files/invoke",
		`{"inputs":{"operation":"merge","paths":["notes.md"],"output_path":"leak.md","dry_run":false}}`)
	if status != 400 || !strings.Contains(string(b), "hard link") || strings.Contains(string(b), secret) {
		t.Fatalf("merge of the hard-linked .env: %d %s", status, b)
	}
	status, b, _ = n.post(t, "/v1/skills/smart_files/invoke",
		`{"inputs":{"operation":"organize","path":".","dry_run":false,"copy_mode":true,"target_path":"sorted"}}`)
	if status != 200 || strings.Contains(string(b), "notes.md") {
		t.Fatalf("organize planned the hard-linked .env: %d %s", status, b)
	}
	filepath.WalkDir(filepath.Join(n.dir, "lake"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Base(p) != "notes.md" {
			if data, _ := os.ReadFile(p); strings.Contains(string(data), secret) {
				t.Errorf("the secret was copied into the lake at %s", p)
			}
		}
		return nil
	})
}
