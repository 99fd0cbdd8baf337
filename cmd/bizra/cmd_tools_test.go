package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/goleak"

	"github.com/bizra/bizra/actors/ledger"
	"github.com/bizra/bizra/actors/query"
	"github.com/bizra/bizra/actors/receipt"
	"github.com/bizra/bizra/bridge"
	"github.com/bizra/bizra/supervision/genesis"
)

var registerOnce sync.Once

// result is one in-process run of the binary.
type result struct {
	code           int
	stdout, stderr string
}

// syncBuffer is a bytes.Buffer safe for a command writing while the test reads.
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

func newApp(env map[string]string, stdout, stderr io.Writer) *app {
	registerOnce.Do(func() {
		if len(commands) == 0 {
			registerAll()
		}
	})
	return &app{stdout: stdout, stderr: stderr, getenv: func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}}
}

// runCLI runs `bizra args...` in process with env as the whole environment.
func runCLI(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := dispatch(context.Background(), newApp(env, &out, &errb), args)
	return result{code, out.String(), errb.String()}
}

// leakCheck verifies, after every other cleanup of t, that t left no goroutine behind.
func leakCheck(t *testing.T) {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() {
		http.DefaultClient.CloseIdleConnections()
		// protoactor's dead-letter throttle runs one timer goroutine per burst of dead
		// letters and ends it on its own after the throttle period (seen outliving
		// goleak's retries on a loaded machine); it is not ours to stop.
		goleak.VerifyNone(t, ignore,
			goleak.IgnoreAnyFunction("github.com/asynkron/protoactor-go/actor.NewDeadLetter.NewThrottle.func4.1"))
	})
}

func wantCode(t *testing.T, r result, code int, what string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", what, r.code, code, r.stdout, r.stderr)
	}
}

// wantOneLine checks that s is exactly one line containing want.
func wantOneLine(t *testing.T, s, want string) {
	t.Helper()
	if strings.Count(s, "\n") != 1 || !strings.HasSuffix(s, "\n") || !strings.Contains(s, want) {
		t.Fatalf("want one line containing %q, got %q", want, s)
	}
}

func TestToolsHelpAndBadFlags(t *testing.T) {
	env := map[string]string{"BIZRA_STATE_DIR": t.TempDir()}
	cmds := [][]string{
		{"genesis", "init"}, {"genesis", "verify"}, {"genesis", "show"},
		{"receipt", "verify"}, {"receipt", "show"},
		{"sel", "verify"}, {"sel", "export"}, {"sel", "episodes"},
		{"ping"}, {"dev", "mock-llm"},
	}
	for _, c := range cmds {
		name := strings.Join(c, " ")
		t.Run(name, func(t *testing.T) {
			r := runCLI(t, env, append(c, "--help")...)
			wantCode(t, r, 0, "--help")
			if !strings.HasPrefix(r.stdout, "usage: bizra "+name) || !strings.Contains(r.stdout, "-state-dir") && c[0] != "dev" && name != "receipt show" {
				t.Fatalf("--help output:\n%s", r.stdout)
			}
			if r.stderr != "" {
				t.Fatalf("--help wrote to stderr: %q", r.stderr)
			}
			r = runCLI(t, env, append(c, "--no-such-flag")...)
			wantCode(t, r, 2, "unknown flag")
			wantOneLine(t, r.stderr, "no-such-flag")
			if r.stdout != "" {
				t.Fatalf("unknown flag wrote to stdout: %q", r.stdout)
			}
		})
	}
	for _, g := range []string{"genesis", "receipt", "sel", "dev"} {
		t.Run(g, func(t *testing.T) {
			r := runCLI(t, env, g, "--help")
			wantCode(t, r, 0, "group --help")
			if !strings.HasPrefix(r.stdout, "usage: bizra "+g+" <") {
				t.Fatalf("group help: %q", r.stdout)
			}
			r = runCLI(t, env, g)
			wantCode(t, r, 2, "no verb")
			wantOneLine(t, r.stderr, "missing subcommand")
			r = runCLI(t, env, g, "frobnicate")
			wantCode(t, r, 2, "unknown verb")
			wantOneLine(t, r.stderr, `unknown subcommand "frobnicate"`)
		})
	}
	t.Run("top-level usage lists the tools", func(t *testing.T) {
		r := runCLI(t, env, "--help")
		for _, c := range []string{"genesis", "receipt", "sel", "ping", "dev"} {
			if !strings.Contains(r.stdout, "  "+c+" ") {
				t.Fatalf("usage lacks %s:\n%s", c, r.stdout)
			}
		}
	})
}

func TestToolFlagsInterleaved(t *testing.T) {
	var out, errb bytes.Buffer
	a := newApp(nil, &out, &errb)
	for _, tc := range []struct {
		args    []string
		wantPos []string
		wantJ   bool
	}{
		{[]string{"f.json", "--json"}, []string{"f.json"}, true},
		{[]string{"--json", "f.json"}, []string{"f.json"}, true},
		{[]string{"-", "x"}, []string{"-", "x"}, false},
		{[]string{"--", "--json"}, []string{"--json"}, false},
		{[]string{"a", "--", "-b", "c"}, []string{"a", "-b", "c"}, false},
	} {
		fs := newTestFlagSet()
		j := fs.Bool("json", false, "")
		pos, code := toolFlags(a, fs, tc.args, "t")
		if code >= 0 || *j != tc.wantJ || strings.Join(pos, "|") != strings.Join(tc.wantPos, "|") {
			t.Errorf("%q: pos %q json %v code %d", tc.args, pos, *j, code)
		}
	}
}

func newTestFlagSet() *flag.FlagSet { return flag.NewFlagSet("t", flag.ContinueOnError) }

// --- genesis ---

func TestGenesisCommands(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state")
	env := map[string]string{"BIZRA_STATE_DIR": state}

	r := runCLI(t, env, "genesis", "verify")
	wantCode(t, r, 1, "verify before init")
	if !strings.Contains(r.stdout, "missing") {
		t.Fatalf("verify before init: %q", r.stdout)
	}
	wantCode(t, runCLI(t, env, "genesis", "show"), 1, "show before init")
	wantCode(t, runCLI(t, env, "genesis", "init", "--location", "x"), 2, "init without --name")
	wantCode(t, runCLI(t, env, "genesis", "init", "--name", "bad\x00name"), 2, "init with a control character")

	r = runCLI(t, env, "genesis", "init", "--name", "node-alpha", "--location", "lab")
	wantCode(t, r, 0, "init")
	g, err := genesis.Load(state)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{g.Identity.NodeID, g.GenesisHash, filepath.Join(state, genesis.GenesisFile),
		filepath.Join(state, genesis.HashFile), filepath.Join(state, genesis.KeyFile)} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("init output lacks %q:\n%s", want, r.stdout)
		}
	}
	// node_id = node0_ + first 16 hex of SHA-256(public key), recomputed here.
	pub, _ := hex.DecodeString(g.Identity.PublicKey)
	sum := sha256.Sum256(pub)
	if g.Identity.NodeID != "node0_"+hex.EncodeToString(sum[:])[:16] {
		t.Fatalf("node id %s does not derive from the public key", g.Identity.NodeID)
	}

	r = runCLI(t, env, "genesis", "verify")
	wantCode(t, r, 0, "verify")
	if r.stdout != "ok\n" {
		t.Fatalf("verify: %q", r.stdout)
	}
	wantCode(t, runCLI(t, env, "genesis", "verify", "--trusted-public-key", g.Identity.PublicKey), 0, "verify with the right pin")
	r = runCLI(t, env, "genesis", "verify", "--trusted-public-key", strings.Repeat("ab", 32))
	wantCode(t, r, 1, "verify with another pin")
	if !strings.Contains(r.stdout, genesis.ReasonTrustedKey) {
		t.Fatalf("wrong pin: %q", r.stdout)
	}
	r = runCLI(t, env, "genesis", "verify", "--trusted-public-key", "zz")
	wantCode(t, r, 2, "bad pin")
	wantOneLine(t, r.stderr, "--trusted-public-key")

	// The pin from the environment, as bizra run reads it.
	pinEnv := map[string]string{"BIZRA_STATE_DIR": state, "BIZRA_GENESIS_PUBLIC_KEY": strings.Repeat("ab", 32)}
	r = runCLI(t, pinEnv, "genesis", "verify")
	wantCode(t, r, 1, "verify with another pin in BIZRA_GENESIS_PUBLIC_KEY")
	if !strings.Contains(r.stdout, genesis.ReasonTrustedKey) || !strings.Contains(r.stdout, "pinned key") {
		t.Fatalf("env pin: %q", r.stdout)
	}
	// The key recorded by the first validated start (trust on first use) binds verify too.
	other, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := genesis.WriteTrustFile(state, other); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, env, "genesis", "verify")
	wantCode(t, r, 1, "verify against another recorded key")
	if !strings.Contains(r.stdout, genesis.ReasonTrustedKey) || !strings.Contains(r.stdout, genesis.TrustFile) {
		t.Fatalf("recorded key: %q", r.stdout)
	}
	if err := genesis.WriteTrustFile(state, ed25519.PublicKey(pub)); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, env, "genesis", "verify")
	wantCode(t, r, 0, "verify against the recorded key")
	if !strings.Contains(r.stdout, "recorded key") || !strings.HasSuffix(r.stdout, "ok\n") {
		t.Fatalf("recorded key, valid: %q", r.stdout)
	}
	if err := os.Remove(filepath.Join(state, genesis.TrustFile)); err != nil {
		t.Fatal(err)
	}

	r = runCLI(t, env, "genesis", "show", "--json")
	wantCode(t, r, 0, "show --json")
	var s genesis.Summary
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatalf("show --json: %v\n%s", err, r.stdout)
	}
	if !s.Valid || s.NodeID != g.Identity.NodeID || s.Name != "node-alpha" || s.Location != "lab" || len(s.PATAgents) != 7 || len(s.SATAgents) != 5 {
		t.Fatalf("summary: %+v", s)
	}
	r = runCLI(t, env, "genesis", "show")
	wantCode(t, r, 0, "show")
	if !strings.Contains(r.stdout, "valid:        true") || !strings.Contains(r.stdout, "pat_guardian") {
		t.Fatalf("show:\n%s", r.stdout)
	}

	// Refuses to overwrite, and leaves the files as they were.
	before, _ := os.ReadFile(filepath.Join(state, genesis.GenesisFile))
	r = runCLI(t, env, "genesis", "init", "--name", "other")
	wantCode(t, r, 1, "second init")
	wantOneLine(t, r.stderr, "refusing to overwrite")
	after, _ := os.ReadFile(filepath.Join(state, genesis.GenesisFile))
	if !bytes.Equal(before, after) {
		t.Fatal("second init changed the genesis file")
	}

	// One changed byte of the document fails validation with the first mismatch.
	path := filepath.Join(state, genesis.GenesisFile)
	i := bytes.Index(before, []byte("node-alpha"))
	if i < 0 {
		t.Fatal("name not found in the genesis file")
	}
	tampered := bytes.Clone(before)
	tampered[i+len("node-alpha")-1] = 'b'
	if err := os.WriteFile(path, tampered, 0o600); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, env, "genesis", "verify")
	wantCode(t, r, 1, "verify after tampering")
	if r.stdout != "invalid: "+genesis.ReasonIdentityHash+"\n" {
		t.Fatalf("tampered verify: %q", r.stdout)
	}
	r = runCLI(t, env, "genesis", "show", "--json")
	wantCode(t, r, 0, "show of an invalid chain")
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil || s.Valid || s.Reason != genesis.ReasonIdentityHash {
		t.Fatalf("show after tampering: %v %+v", err, s)
	}
	// A changed hash file fails too.
	if err := os.WriteFile(path, before, 0o600); err != nil {
		t.Fatal(err)
	}
	wantCode(t, runCLI(t, env, "genesis", "verify"), 0, "verify after restoring")
	if err := os.WriteFile(filepath.Join(state, genesis.HashFile), []byte(strings.Repeat("0", 64)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, env, "genesis", "verify")
	wantCode(t, r, 1, "verify with a changed hash file")
	if !strings.Contains(r.stdout, genesis.ReasonHashFile) {
		t.Fatalf("hash file: %q", r.stdout)
	}
}

// --- receipts ---

// issueReceipt issues one receipt through a real receipt.Service and returns it
// sealed, as stored.
func issueReceipt(t *testing.T, secret receipt.Secret, mode string) []byte {
	t.Helper()
	svc, err := receipt.New(receipt.Options{Dir: t.TempDir(), Secret: secret, Mode: mode, NodeID: "node-test",
		Origin: func() map[string]any { return map[string]any{"designation": "ephemeral_node"} }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := svc.Shutdown(ctx); err != nil {
			t.Errorf("receipt shutdown: %v", err)
		}
	}()
	snr := 0.93
	ref, err := svc.Issue(receipt.Input{Kind: receipt.KindQuery, Status: receipt.StatusAccepted, Method: "/v1/query",
		Params: map[string]any{"query": "what is bizra?"}, Payload: map[string]any{"response": "a runtime"},
		SNR: &snr, GatePassed: true, Duration: 3 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	raw, err := svc.Get(ref.ReceiptID)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

type receiptVectors struct {
	SecretHex  string `json:"secret_hex"`
	HMACKeyID  string `json:"hmac_key_id"`
	LegacyHMAC struct {
		Receipt string `json:"receipt"`
	} `json:"legacy_hmac"`
}

// loadReceiptVectors reads the python-generated receipt vectors (testdata/receipt).
func loadReceiptVectors(t *testing.T) receiptVectors {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "receipt", "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v receiptVectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func writeFile(t *testing.T, dir, name string, b []byte, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReceiptVerify(t *testing.T) {
	leakCheck(t)
	secret, err := receipt.GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	batch := issueReceipt(t, secret, receipt.ModeBatch)
	single := issueReceipt(t, secret, receipt.ModeSingle)
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	if err := os.Mkdir(state, 0o700); err != nil {
		t.Fatal(err)
	}
	noKey := map[string]string{"BIZRA_STATE_DIR": state}
	withKey := map[string]string{"BIZRA_STATE_DIR": state, receipt.EnvKey: secret.RevealHex()}
	batchFile := writeFile(t, dir, "batch.json", append(bytes.Clone(batch), '\n'), 0o644)
	singleFile := writeFile(t, dir, "single.json", single, 0o644)

	var sealed struct {
		Seal struct {
			KeyID string `json:"key_id"`
		} `json:"seal"`
	}
	if err := json.Unmarshal(batch, &sealed); err != nil || sealed.Seal.KeyID == "" {
		t.Fatalf("issued receipt has no seal: %v %s", err, batch)
	}
	tamperedBody := bytes.Replace(batch, []byte(`"/v1/query"`), []byte(`"/v1/querz"`), 1)
	if bytes.Equal(tamperedBody, batch) {
		t.Fatal("method not found in the receipt")
	}
	tamperedFile := writeFile(t, dir, "tampered.json", tamperedBody, 0o644)
	malformedFile := writeFile(t, dir, "malformed.json", []byte(`{"receipt_id": "qr-`), 0o644)
	emptyFile := writeFile(t, dir, "empty.json", []byte("\n"), 0o644)
	bigFile := writeFile(t, dir, "big.json", bytes.Repeat([]byte(" "), receipt.MaxReceiptBytes+10), 0o644)
	bigFile2 := writeFile(t, dir, "big2.json", append(bytes.Repeat([]byte("x"), receipt.MaxReceiptBytes+10), '}'), 0o644)

	for _, tc := range []struct {
		name      string
		env       map[string]string
		args      []string
		code      int
		stdout    string // substring
		stderrHas string
	}{
		{"batch valid", noKey, []string{batchFile}, 0, "valid: alg ed25519, key_id " + sealed.Seal.KeyID + "\n", ""},
		{"batch valid, this node's key", withKey, []string{batchFile}, 0, "(this node's key)", ""},
		{"single valid", noKey, []string{singleFile}, 0, "valid: alg ed25519", ""},
		{"json", noKey, []string{"--json", batchFile}, 0, `"valid": true`, ""},
		{"json after file", noKey, []string{batchFile, "--json"}, 0, `"reason": "ok"`, ""},
		{"trusted key", noKey, []string{batchFile, "--trusted-key-id", sealed.Seal.KeyID}, 0, "valid", ""},
		{"untrusted key", noKey, []string{batchFile, "--trusted-key-id", "0000000000000000"}, 1,
			"invalid: untrusted key " + sealed.Seal.KeyID + ": the signature is good but key_id " + sealed.Seal.KeyID + " is not one of --trusted-key-id 0000000000000000\n", ""},
		{"trusted among several", noKey, []string{batchFile, "--trusted-key-id", "0000000000000000", "--trusted-key-id", sealed.Seal.KeyID}, 0,
			"valid: alg ed25519, key_id " + sealed.Seal.KeyID, ""},
		{"single trusted", noKey, []string{singleFile, "--trusted-key-id", sealed.Seal.KeyID}, 0, "valid: alg ed25519", ""},
		{"single untrusted", noKey, []string{singleFile, "--trusted-key-id", "1111111111111111"}, 1, "invalid: untrusted key " + sealed.Seal.KeyID, ""},
		{"json carries key_id", noKey, []string{"--json", batchFile}, 0, `"key_id": "` + sealed.Seal.KeyID + `"`, ""},
		{"json untrusted carries key_id", noKey, []string{"--json", batchFile, "--trusted-key-id", "0000000000000000"}, 1,
			`"key_id": "` + sealed.Seal.KeyID + `"`, ""},
		{"tampered and trusted id", noKey, []string{tamperedFile, "--trusted-key-id", sealed.Seal.KeyID}, 1, "invalid: leaf_hash does not match the body", ""},
		{"bad trusted key id", noKey, []string{batchFile, "--trusted-key-id", "XYZ"}, 2, "", "invalid --trusted-key-id \"XYZ\""},
		{"upper-case trusted key id", noKey, []string{batchFile, "--trusted-key-id", strings.ToUpper(sealed.Seal.KeyID)}, 2, "", "want 16 lower-case hex"},
		{"genesis pin is not a receipt trust anchor", map[string]string{"BIZRA_STATE_DIR": state, "BIZRA_GENESIS_PUBLIC_KEY": strings.Repeat("ab", 32)},
			[]string{batchFile}, 0, "valid: alg ed25519", "pins Node0's genesis key, not the receipt signer"},
		{"tampered", noKey, []string{tamperedFile}, 1, "invalid: leaf_hash does not match the body", ""},
		{"tampered json", noKey, []string{"--json", tamperedFile}, 1, `"valid": false`, ""},
		{"malformed", noKey, []string{malformedFile}, 1, "invalid: malformed", ""},
		{"empty", noKey, []string{emptyFile}, 1, "", "empty document"},
		{"too large", noKey, []string{bigFile2}, 1, "invalid: receipt larger than", ""},
		{"only whitespace", noKey, []string{bigFile}, 1, "", "empty document"},
		{"missing file", noKey, []string{filepath.Join(dir, "nope.json")}, 1, "", "no such file"},
		{"no file", noKey, nil, 2, "", "want exactly one FILE"},
		{"two files", noKey, []string{batchFile, singleFile}, 2, "", "want exactly one FILE"},
		{"bad key in env", map[string]string{"BIZRA_STATE_DIR": state, receipt.EnvKey: "abc"}, []string{batchFile}, 2, "", receipt.EnvKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, tc.env, append([]string{"receipt", "verify"}, tc.args...)...)
			wantCode(t, r, tc.code, tc.name)
			if !strings.Contains(r.stdout, tc.stdout) || !strings.Contains(r.stderr, tc.stderrHas) {
				t.Fatalf("stdout %q (want %q), stderr %q (want %q)", r.stdout, tc.stdout, r.stderr, tc.stderrHas)
			}
			if tc.code == 2 {
				wantOneLine(t, r.stderr, tc.stderrHas)
			}
		})
	}

	t.Run("stdin", func(t *testing.T) {
		for _, tc := range []struct {
			doc  []byte
			code int
		}{{batch, 0}, {tamperedBody, 1}} {
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			go func() { pw.Write(tc.doc); pw.Close() }()
			old := os.Stdin
			os.Stdin = pr
			r := runCLI(t, noKey, "receipt", "verify", "-")
			os.Stdin = old
			pr.Close()
			wantCode(t, r, tc.code, "stdin")
		}
	})

	t.Run("legacy hmac (python vector)", func(t *testing.T) {
		v := loadReceiptVectors(t)
		f := writeFile(t, dir, "legacy.json", []byte(v.LegacyHMAC.Receipt), 0o644)
		r := runCLI(t, noKey, "receipt", "verify", f)
		wantCode(t, r, 1, "legacy without secret")
		if !strings.Contains(r.stdout, "secret") {
			t.Fatalf("legacy without secret: %q", r.stdout)
		}
		r = runCLI(t, map[string]string{"BIZRA_STATE_DIR": state, receipt.EnvKey: v.SecretHex}, "receipt", "verify", f)
		wantCode(t, r, 0, "legacy with the secret in the environment")
		if r.stdout != "valid: alg hmac-sha256, key_id "+v.HMACKeyID+" (this node's key)\n" {
			t.Fatalf("legacy: %q", r.stdout)
		}
		// The secret from <state>/.env (0600); the environment wins over it.
		legacyState := filepath.Join(dir, "legacy-state")
		if err := os.Mkdir(legacyState, 0o700); err != nil {
			t.Fatal(err)
		}
		dotenv := writeFile(t, legacyState, ".env", []byte(receipt.EnvKey+"="+v.SecretHex+"\n"), 0o600)
		r = runCLI(t, map[string]string{"BIZRA_STATE_DIR": legacyState}, "receipt", "verify", f)
		wantCode(t, r, 0, "legacy with the secret in .env")
		r = runCLI(t, nil, "receipt", "verify", "--state-dir", legacyState, f)
		wantCode(t, r, 0, "legacy with --state-dir")
		r = runCLI(t, map[string]string{"BIZRA_STATE_DIR": legacyState, receipt.EnvKey: secret.RevealHex()}, "receipt", "verify", f)
		wantCode(t, r, 1, "legacy with another secret from the environment")
		// A .env others can read is not used, and says so.
		if err := os.Chmod(dotenv, 0o644); err != nil {
			t.Fatal(err)
		}
		r = runCLI(t, map[string]string{"BIZRA_STATE_DIR": legacyState}, "receipt", "verify", f)
		wantCode(t, r, 1, "legacy with an insecure .env")
		if !strings.Contains(r.stderr, "readable by group or others") {
			t.Fatalf("insecure .env: %q", r.stderr)
		}
	})
}

func TestReceiptShow(t *testing.T) {
	leakCheck(t)
	const id = "qr-1700000000000-0123456789abcdef"
	doc := `{"receipt_id":"` + id + `"}`
	var hits atomic.Int64
	var gotKey atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		gotKey.Store(r.Header.Get("X-API-Key"))
		switch r.URL.Path {
		case "/v1/receipts/" + id:
			io.WriteString(w, doc)
		case "/v1/receipts/qr-1700000000000-00000000000000aa":
			w.WriteHeader(http.StatusConflict)
			io.WriteString(w, `{"error":{"code":"RECEIPT_PENDING"}}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"error":{"code":"RECEIPT_NOT_FOUND"}}`)
		}
	}))
	t.Cleanup(srv.Close)
	env := map[string]string{"BIZRA_API_KEYS": "k1,k2"}

	r := runCLI(t, env, "receipt", "show", id, "--api", srv.URL)
	wantCode(t, r, 0, "show")
	if r.stdout != doc+"\n" || gotKey.Load() != "k1" {
		t.Fatalf("show: %q key %v", r.stdout, gotKey.Load())
	}
	r = runCLI(t, env, "receipt", "show", "--api", srv.URL, "br-1700000000000-0123456789abcdef")
	wantCode(t, r, 1, "not found")
	wantOneLine(t, r.stderr, "not found")
	r = runCLI(t, env, "receipt", "show", "--api", srv.URL, "qr-1700000000000-00000000000000aa")
	wantCode(t, r, 1, "pending")
	wantOneLine(t, r.stderr, "not sealed yet")

	before := hits.Load()
	for _, bad := range []string{"../../etc/passwd", "qr-1-0123456789abcdef", "xx-1700000000000-0123456789abcdef", "qr-1700000000000-0123456789ABCDEF"} {
		r = runCLI(t, env, "receipt", "show", "--api", srv.URL, bad)
		wantCode(t, r, 2, bad)
		wantOneLine(t, r.stderr, "invalid receipt id")
	}
	if hits.Load() != before {
		t.Fatal("an invalid id reached the node")
	}
	wantCode(t, runCLI(t, env, "receipt", "show", "--api", srv.URL), 2, "no id")

	r = runCLI(t, env, "receipt", "show", id, "--api", "http://"+closedAddr(t), "--timeout", "2s")
	wantCode(t, r, 1, "unreachable node")
	wantOneLine(t, r.stderr, "cannot reach the node")
}

// closedAddr returns a loopback address on which nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// --- sel ---

// writeLedger commits the episodes of contexts to a ledger in dir through the ledger
// package and shuts it down, returning the acknowledgements.
func writeLedger(t *testing.T, dir string, contexts ...string) []ledger.Appended {
	t.Helper()
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	}))
	defer sys.Shutdown()
	l, err := ledger.Open(ledger.Options{System: sys, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := l.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var out []ledger.Appended
	for i, c := range contexts {
		ack, err := l.Commit(ctx, ledger.Episode{
			Timestamp: uint64(1_700_000_000 + i), Context: c, GraphHash: "ab12", GraphNodeCount: 3,
			Actions: []ledger.Action{{Type: "inference", Description: "mock", Success: true, DurationUS: 1200}},
			SNR:     0.95, Ihsan: 0.98, SNROK: true, TokensUsed: 1000, ResponseSummary: "answer " + strconv.Itoa(i),
		})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ack)
	}
	if err := l.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSELCommands(t *testing.T) {
	leakCheck(t)
	state := t.TempDir()
	env := map[string]string{"BIZRA_STATE_DIR": state}
	r := runCLI(t, env, "sel", "verify")
	wantCode(t, r, 1, "verify without a ledger")
	wantOneLine(t, r.stderr, "no experience ledger")

	acks := writeLedger(t, filepath.Join(state, "sel"), "first question about bizra", "second question", "third question")
	head := acks[len(acks)-1].ChainHash

	r = runCLI(t, env, "sel", "verify")
	wantCode(t, r, 0, "verify")
	want := fmt.Sprintf("valid:              true\nepisodes:           3\nchain_head:         %s\nfirst_bad_sequence: none\n", head)
	if r.stdout != want {
		t.Fatalf("verify:\n%s\nwant\n%s", r.stdout, want)
	}
	r = runCLI(t, env, "sel", "verify", "--json")
	var v ledger.Verification
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || !v.Valid || v.Episodes != 3 || v.ChainHead != head || v.FirstBadSequence != nil {
		t.Fatalf("verify --json: %v %s", err, r.stdout)
	}

	// export: one JSON line per episode, oldest first, whose chain recomputes here
	// from the exported hashes (SHA-256 of "bizra-sel-chain-v1:" + prev + ":" + episode_hash).
	r = runCLI(t, env, "sel", "export")
	wantCode(t, r, 0, "export")
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("export: %d lines\n%s", len(lines), r.stdout)
	}
	prev := "genesis"
	for i, line := range lines {
		var e ledger.Episode
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("export line %d: %v", i, err)
		}
		sum := sha256.Sum256([]byte("bizra-sel-chain-v1:" + prev + ":" + e.EpisodeHash))
		if e.Sequence != uint64(i) || e.PrevHash != prev || e.ChainHash != hex.EncodeToString(sum[:]) || e.ChainHash != acks[i].ChainHash {
			t.Fatalf("export line %d does not chain: %+v", i, e)
		}
		prev = e.ChainHash
	}
	outFile := filepath.Join(t.TempDir(), "sel.jsonl")
	r = runCLI(t, env, "sel", "export", "--out", outFile)
	wantCode(t, r, 0, "export --out")
	if b, _ := os.ReadFile(outFile); string(b) != strings.Join(lines, "\n")+"\n" {
		t.Fatalf("export --out differs from stdout:\n%s", b)
	}
	r = runCLI(t, env, "sel", "export", "--out", outFile)
	wantCode(t, r, 1, "export over an existing file")
	wantOneLine(t, r.stderr, "--force")
	wantCode(t, runCLI(t, env, "sel", "export", "--out", outFile, "--force"), 0, "export --force")
	if ents, _ := os.ReadDir(filepath.Dir(outFile)); len(ents) != 1 {
		t.Fatalf("export left temporary files: %v", ents)
	}

	// episodes: newest first, paged.
	r = runCLI(t, env, "sel", "episodes", "--limit", "2", "--json")
	wantCode(t, r, 0, "episodes --json")
	var page ledger.Page
	if err := json.Unmarshal([]byte(r.stdout), &page); err != nil {
		t.Fatal(err)
	}
	if page.Total != 3 || page.Count != 2 || page.ChainHead != head || page.Episodes[0].Sequence != 2 || page.Episodes[1].Sequence != 1 {
		t.Fatalf("page: %+v", page)
	}
	r = runCLI(t, env, "sel", "episodes", "--offset", "2", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &page); err != nil || page.Count != 1 || page.Episodes[0].Context != "first question about bizra" {
		t.Fatalf("offset page: %v %+v", err, page)
	}
	r = runCLI(t, env, "sel", "episodes")
	wantCode(t, r, 0, "episodes")
	if !strings.Contains(r.stdout, "total 3, showing 3") || !strings.Contains(r.stdout, "third question") || !strings.Contains(r.stdout, head[:16]) {
		t.Fatalf("episodes:\n%s", r.stdout)
	}
	for _, bad := range [][]string{{"--limit", "0"}, {"--limit", "201"}, {"--offset", "-1"}, {"--limit", "x"}} {
		r = runCLI(t, env, append([]string{"sel", "episodes"}, bad...)...)
		wantCode(t, r, 2, strings.Join(bad, " "))
		wantOneLine(t, r.stderr, strings.TrimPrefix(bad[0], "-"))
	}

	// One changed byte inside the first record: verify names sequence 0 and exits 1.
	segs, _ := filepath.Glob(filepath.Join(state, "sel", "seg-*.log"))
	if len(segs) != 1 {
		t.Fatalf("segments: %v", segs)
	}
	b, err := os.ReadFile(segs[0])
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte("first question"))
	if i < 0 {
		t.Fatal("first episode not found in the segment")
	}
	b[i] = 'F'
	if err := os.WriteFile(segs[0], b, 0o600); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, env, "sel", "verify", "--json")
	wantCode(t, r, 1, "verify after tampering")
	v = ledger.Verification{}
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v.Valid || v.FirstBadSequence == nil || *v.FirstBadSequence != 0 {
		t.Fatalf("tampered verify: %v %s", err, r.stdout)
	}
	r = runCLI(t, env, "sel", "verify")
	wantCode(t, r, 1, "verify after tampering (text)")
	if !strings.Contains(r.stdout, "valid:              false") || !strings.Contains(r.stdout, "first_bad_sequence: 0") {
		t.Fatalf("tampered verify text:\n%s", r.stdout)
	}
	wantOneLine(t, r.stderr, "does not verify")
}

// --- ping ---

type pingCore struct{}

func (pingCore) Query(context.Context, query.Request) (query.Result, error) {
	return query.Result{}, fmt.Errorf("not used")
}
func (pingCore) Status(context.Context) bridge.StatusInfo { return bridge.StatusInfo{} }
func (pingCore) ListSkills(context.Context, string) ([]bridge.SkillInfo, error) {
	return nil, nil
}
func (pingCore) InvokeSkill(context.Context, string, map[string]any) (bridge.SkillResult, error) {
	return bridge.SkillResult{}, fmt.Errorf("not used")
}

type pingReceipts struct{ n atomic.Int64 }

func (p *pingReceipts) Issue(in bridge.ReceiptInput) (bridge.ReceiptRef, error) {
	return bridge.ReceiptRef{ReceiptID: fmt.Sprintf("br-%013d-%016x", time.Now().UnixMilli(), p.n.Add(1)), Status: in.Status}, nil
}
func (p *pingReceipts) Get(string) (json.RawMessage, error) { return nil, fmt.Errorf("not used") }

func startBridge(t *testing.T, token string, requireSig bool) (host string, port int) {
	t.Helper()
	b, err := bridge.New(bridge.Options{Port: 0, Token: token, Role: "node", RequireSig: requireSig,
		SecretHex: "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90",
		Core:      pingCore{}, Receipts: &pingReceipts{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := b.Shutdown(ctx); err != nil {
			t.Errorf("bridge shutdown: %v", err)
		}
	})
	h, p, _ := net.SplitHostPort(b.Addr())
	port, _ = strconv.Atoi(p)
	return h, port
}

func TestPing(t *testing.T) {
	leakCheck(t)
	const token = "cli-test-token-0123456789"
	host, port := startBridge(t, token, false)
	_, sigPort := startBridge(t, token, true)
	state := t.TempDir()
	ps := strconv.Itoa(port)
	withToken := map[string]string{"BIZRA_STATE_DIR": state, "BIZRA_BRIDGE_TOKEN": token}

	r := runCLI(t, withToken, "ping", "--bridge-host", host, "--bridge-port", ps)
	wantCode(t, r, 0, "ping")
	wantOneLine(t, r.stdout, `"status":"alive"`)
	resp, err := bridge.ParseResponse([]byte(r.stdout))
	if err != nil || resp.Error != nil || !strings.Contains(string(resp.Result), `"receipt"`) {
		t.Fatalf("ping response: %v %s", err, r.stdout)
	}
	// The port from BIZRA_BRIDGE_PORT.
	r = runCLI(t, map[string]string{"BIZRA_STATE_DIR": state, "BIZRA_BRIDGE_TOKEN": token, "BIZRA_BRIDGE_PORT": ps}, "ping")
	wantCode(t, r, 0, "ping with BIZRA_BRIDGE_PORT")
	r = runCLI(t, map[string]string{"BIZRA_STATE_DIR": state, "BIZRA_BRIDGE_TOKEN": token, "BIZRA_BRIDGE_PORT": "http"}, "ping")
	wantCode(t, r, 2, "bad BIZRA_BRIDGE_PORT")
	wantOneLine(t, r.stderr, "BIZRA_BRIDGE_PORT")

	// The token from <state>/.env; the environment wins over it.
	writeFile(t, state, ".env", []byte("BIZRA_BRIDGE_TOKEN="+token+"\n"), 0o600)
	r = runCLI(t, map[string]string{"BIZRA_STATE_DIR": state}, "ping", "--bridge-port", ps)
	wantCode(t, r, 0, "ping with the token from .env")
	r = runCLI(t, map[string]string{"BIZRA_STATE_DIR": state, "BIZRA_BRIDGE_TOKEN": "wrong-token-0123456789"}, "ping", "--bridge-port", ps)
	wantCode(t, r, 1, "ping with a wrong token")
	if !strings.Contains(r.stdout, `"error"`) || !strings.Contains(r.stderr, "refused the ping") {
		t.Fatalf("wrong token: stdout %q stderr %q", r.stdout, r.stderr)
	}

	// A bridge that requires X-BIZRA-SIG.
	r = runCLI(t, withToken, "ping", "--bridge-port", strconv.Itoa(sigPort))
	wantCode(t, r, 1, "unsigned ping to a signing bridge")
	wantCode(t, runCLI(t, withToken, "ping", "--bridge-port", strconv.Itoa(sigPort), "--sign"), 0, "signed ping")

	// Connection refused names the address and gives the runbook hint.
	closed := closedAddr(t)
	_, cp, _ := net.SplitHostPort(closed)
	r = runCLI(t, withToken, "ping", "--bridge-port", cp)
	wantCode(t, r, 1, "ping to a closed port")
	if !strings.Contains(r.stderr, closed) || !strings.Contains(r.stderr, "connection refused") || !strings.Contains(r.stderr, "scenario D") {
		t.Fatalf("closed port: %q", r.stderr)
	}
	if r.stdout != "" {
		t.Fatalf("closed port wrote to stdout: %q", r.stdout)
	}

	r = runCLI(t, map[string]string{"BIZRA_STATE_DIR": t.TempDir()}, "ping", "--bridge-port", ps)
	wantCode(t, r, 1, "ping without a token")
	wantOneLine(t, r.stderr, "BIZRA_BRIDGE_TOKEN is not set")
	for _, bad := range [][]string{{"--bridge-port", "0"}, {"--bridge-port", "70000"}, {"--timeout", "0s"}, {"extra"}} {
		r = runCLI(t, withToken, append([]string{"ping"}, bad...)...)
		wantCode(t, r, 2, strings.Join(bad, " "))
		wantOneLine(t, r.stderr, strings.TrimPrefix(bad[0], "-"))
	}
}

// --- dev mock-llm ---

func TestDevMockLLM(t *testing.T) {
	leakCheck(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	a := newApp(nil, &out, &errb)
	done := make(chan int, 1)
	go func() { done <- dispatch(ctx, a, []string{"dev", "mock-llm", "--port", "0", "--model", "cli-model"}) }()

	var base string
	deadline := time.Now().Add(5 * time.Second)
	for base == "" {
		if s := out.String(); strings.Contains(s, "listening on ") {
			base = strings.Fields(strings.SplitN(s, "listening on ", 2)[1])[0]
			break
		}
		select {
		case code := <-done:
			t.Fatalf("mock-llm exited %d early: %s", code, errb.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("mock-llm did not print its address: %q", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("address %q", base)
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	resp, err := client.Get(base + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"cli-model"`) {
		t.Fatalf("GET /v1/models: %d %s", resp.StatusCode, body)
	}

	// A second server on the same port fails with the reason.
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(base, "http://"))
	r := runCLI(t, nil, "dev", "mock-llm", "--port", port)
	wantCode(t, r, 1, "port in use")
	wantOneLine(t, r.stderr, "bizra dev mock-llm:")

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("mock-llm exit %d: %s", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("mock-llm did not stop on ctx cancel")
	}
	if _, err := client.Get(base + "/v1/models"); err == nil {
		t.Fatal("mock-llm still answers after stopping")
	}

	for _, bad := range [][]string{{"--host", "0.0.0.0"}, {"--host", "example.com"}, {"--error-rate", "1.5"}, {"--error-rate", "NaN"},
		{"--port", "-1"}, {"--latency", "-1s"}, {"--latency", "soon"}} {
		r := runCLI(t, nil, append([]string{"dev", "mock-llm"}, bad...)...)
		wantCode(t, r, 2, strings.Join(bad, " "))
		wantOneLine(t, r.stderr, strings.TrimPrefix(bad[0], "-"))
	}
}

// TestGoldenVectorsThroughCLI runs the verify commands over files produced by the
// python generators in testdata/ (independently of the code under test).
func TestGoldenVectorsThroughCLI(t *testing.T) {
	t.Run("genesis", func(t *testing.T) {
		src := filepath.Join("..", "..", "testdata", "genesis")
		state := t.TempDir()
		for _, f := range []string{genesis.GenesisFile, genesis.HashFile} {
			b, err := os.ReadFile(filepath.Join(src, f))
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, state, f, b, 0o644)
		}
		env := map[string]string{"BIZRA_STATE_DIR": state}
		r := runCLI(t, env, "genesis", "verify")
		wantCode(t, r, 1, "golden without the key file")
		if !strings.Contains(r.stdout, "missing") {
			t.Fatalf("golden without key: %q", r.stdout)
		}
		wantCode(t, runCLI(t, env, "genesis", "verify", "--allow-missing-key"), 0, "golden with --allow-missing-key")
		hash, _ := os.ReadFile(filepath.Join(src, genesis.HashFile))
		r = runCLI(t, env, "genesis", "show", "--json")
		var s genesis.Summary
		if err := json.Unmarshal([]byte(r.stdout), &s); err != nil || s.GenesisHash != strings.TrimSpace(string(hash)) {
			t.Fatalf("golden show: %v %+v", err, s)
		}
		wantCode(t, runCLI(t, env, "genesis", "verify", "--allow-missing-key", "--trusted-public-key", s.PublicKey), 0, "golden pinned")
		r = runCLI(t, env, "genesis", "verify", "--allow-missing-key", "--trusted-public-key", strings.Repeat("cd", 32))
		wantCode(t, r, 1, "golden pinned to another key")
		// The published test seed is refused as a node key, by design.
		seed, err := os.ReadFile(filepath.Join(src, "identity_seed.test.hex"))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, state, genesis.KeyFile, []byte(strings.TrimSpace(string(seed))+"\n"), 0o600)
		r = runCLI(t, env, "genesis", "verify")
		wantCode(t, r, 1, "golden with the published test key")
		if !strings.Contains(r.stdout, "TEST_KEY_REFUSED") {
			t.Fatalf("golden with test key: %q", r.stdout)
		}
	})
	t.Run("ledger", func(t *testing.T) {
		src := filepath.Join("..", "..", "testdata", "ledger")
		var golden struct {
			ChainHead string `json:"chain_head"`
		}
		b, err := os.ReadFile(filepath.Join(src, "golden.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &golden); err != nil || golden.ChainHead == "" {
			t.Fatalf("golden.json: %v", err)
		}
		f, err := os.Open(filepath.Join(src, "golden_export.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		state := t.TempDir()
		l, err := ledger.Open(ledger.Options{Dir: filepath.Join(state, "sel")})
		if err != nil {
			t.Fatal(err)
		}
		n, err := l.Import(f)
		if cerr := l.Close(); err != nil || cerr != nil {
			t.Fatalf("import: %v %v", err, cerr)
		}
		env := map[string]string{"BIZRA_STATE_DIR": state}
		r := runCLI(t, env, "sel", "verify", "--json")
		wantCode(t, r, 0, "golden ledger verify")
		var v ledger.Verification
		if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || !v.Valid || v.Episodes != n || v.ChainHead != golden.ChainHead {
			t.Fatalf("golden verify: %v %s (want head %s, %d episodes)", err, r.stdout, golden.ChainHead, n)
		}
	})
}

// FuzzToolFlags checks that no argument list makes the flag parser panic or answer
// anything but continue (-1), help (0) or a usage error (2).
func FuzzToolFlags(f *testing.F) {
	for _, s := range []string{"f.json --json", "--", "-- --json", "--limit=3 x", "--help", "-h", "--limit", "--json=maybe", "- -"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var out, errb bytes.Buffer
		a := &app{stdout: &out, stderr: &errb, getenv: func(string) (string, bool) { return "", false }}
		fs := newTestFlagSet()
		fs.Bool("json", false, "")
		fs.Int("limit", 1, "")
		args := strings.Fields(s)
		pos, code := toolFlags(a, fs, args, "t")
		switch code {
		case -1:
			if len(pos) > len(args) {
				t.Fatalf("%q: %d positional from %d args", s, len(pos), len(args))
			}
		case 0, 2:
		default:
			t.Fatalf("%q: code %d", s, code)
		}
		if code == 2 && strings.Count(errb.String(), "\n") != 1 {
			t.Fatalf("%q: error output %q", s, errb.String())
		}
	})
}
