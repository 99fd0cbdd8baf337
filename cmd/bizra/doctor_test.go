package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// readBundle returns the files of a doctor bundle by name (without the folder).
func readBundle(t *testing.T, path string) map[string][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	out := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out[strings.TrimPrefix(h.Name, "bizra-doctor/")] = b
	}
}

// TestDoctorNodeDown: with nothing running, doctor still reports every section, says
// what could not be reached, redacts the secrets, and exits 0.
func TestDoctorNodeDown(t *testing.T) {
	gateLeakCheck(t)
	state := t.TempDir()
	token, key := "0123456789abcdef0123456789abcdef01234567", "8f14e45fceea167a5a36dedd4bea2543c9f0f895fb98ab9159f51fd0297e236d"
	if err := os.WriteFile(filepath.Join(state, ".env"), []byte("BIZRA_BRIDGE_TOKEN="+token+"\nBIZRA_RECEIPT_PRIVATE_KEY_HEX="+key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	apiPort, brPort := freePort(t), freePort(t)
	env := map[string]string{"BIZRA_STATE_DIR": state, "BIZRA_API_KEYS": "k1-secret-value,k2", "BIZRA_LLM_URL": "http://user:pw@127.0.0.1:1/v1"}
	bundle := filepath.Join(t.TempDir(), "doctor.tar.gz")
	r := runCLI(t, env, "doctor", "--json", "--api", "http://127.0.0.1:"+strconv.Itoa(apiPort), "--bridge-port", strconv.Itoa(brPort),
		"--timeout", "500ms", "--bundle", bundle)
	wantCode(t, r, 0, "doctor with the node down")
	var rep doctorReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.stdout)
	}
	for name, e := range map[string]string{"health": rep.Health.Error, "status": rep.Status.Error, "metrics": rep.Metrics.Error, "bridge": rep.Bridge.Error} {
		if !strings.Contains(e, "refused") {
			t.Errorf("%s error %q, want the connection error", name, e)
		}
	}
	if rep.Ledger.Error == "" && rep.Ledger.Result == nil {
		t.Errorf("ledger section empty: %+v", rep.Ledger)
	}
	if rep.Genesis.Valid || !strings.HasPrefix(rep.Genesis.Reason, "missing ") || rep.Genesis.Required {
		t.Errorf("genesis %+v", rep.Genesis)
	}
	if rep.Errors.Source != "none" || !strings.Contains(rep.Errors.Note, "none available") {
		t.Errorf("errors %+v", rep.Errors)
	}
	cfg := map[string]doctorVar{}
	for _, v := range rep.Config {
		cfg[v.Name] = v
	}
	for _, name := range doctorVars {
		if _, ok := cfg[name]; !ok {
			t.Errorf("config lacks %s", name)
		}
	}
	for name, want := range map[string]doctorVar{
		"BIZRA_BRIDGE_TOKEN":            {Value: "<redacted, 40 chars>", Source: ".env"},
		"BIZRA_RECEIPT_PRIVATE_KEY_HEX": {Value: "<redacted, 64 chars>", Source: ".env"},
		"BIZRA_API_KEYS":                {Value: "<redacted, 18 chars>", Source: "environment"},
		"BIZRA_LLM_URL":                 {Value: "http://user:redacted@127.0.0.1:1/v1", Source: "environment"},
		"BIZRA_STATE_DIR":               {Value: state, Source: "environment"},
		"BIZRA_API_PORT":                {Value: "8080", Source: "default"},
		"LM_API_TOKEN":                  {Value: "", Source: "unset"},
	} {
		if got := cfg[name]; got.Value != want.Value || got.Source != want.Source {
			t.Errorf("%s = %+v, want %+v", name, got, want)
		}
	}
	files := readBundle(t, bundle)
	var names []string
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	if strings.Join(names, " ") != "bridge.json config.json errors.json genesis.json health.json ledger.json metrics.json status.json version.json" {
		t.Errorf("bundle files %v", names)
	}
	all := r.stdout + r.stderr
	for _, b := range files {
		all += string(b)
	}
	for _, s := range []string{token, key, "k1-secret-value", ":pw@"} {
		if strings.Contains(all, s) {
			t.Errorf("secret %q leaked into the output or the bundle", s)
		}
	}
}

// TestDoctorLiveNode: against a running node (runtime + API + bridge, as the gate
// starts it) doctor reports health, status, the metrics key signals, the bridge ping,
// a verified ledger, and writes a bundle with the full exposition.
func TestDoctorLiveNode(t *testing.T) {
	gateLeakCheck(t)
	n := startLiveNode(t)
	if code := n.post(t, "/v1/query", `{"query":"what does the bridge answer to a stale timestamp"}`); code != 200 {
		t.Fatalf("query: HTTP %d", code)
	}
	logFile := filepath.Join(t.TempDir(), "node.log")
	logBody := `{"level":"INFO","msg":"fine"}` + "\n" +
		`{"level":"ERROR","msg":"request failed","token":"` + n.token + `"}` + "\n" +
		`time=x level=WARN msg="slow backend"` + "\n" + "panic: boom\n" + "plain line\n"
	if err := os.WriteFile(logFile, []byte(logBody), 0o600); err != nil {
		t.Fatal(err)
	}
	_, bport, _ := strings.Cut(n.bridgeAddr, ":")
	bundle := filepath.Join(t.TempDir(), "d.tar.gz")
	args := []string{"doctor", "--api", n.apiURL, "--bridge-port", bport, "--state-dir", n.state, "--log", logFile, "--bundle", bundle}
	r := runCLI(t, map[string]string{}, append(args, "--json")...)
	wantCode(t, r, 0, "doctor")
	var rep doctorReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.stdout)
	}
	var health struct{ Status string }
	_ = json.Unmarshal(rep.Health.Body, &health)
	if rep.Health.HTTPStatus != 200 || (health.Status != "healthy" && health.Status != "degraded") {
		t.Errorf("health %+v", rep.Health)
	}
	var status struct {
		State struct{ Running bool }
	}
	_ = json.Unmarshal(rep.Status.Body, &status)
	if rep.Status.HTTPStatus != 200 || !status.State.Running {
		t.Errorf("status %d %s", rep.Status.HTTPStatus, truncText(string(rep.Status.Body), 200))
	}
	if len(rep.Metrics.Missing) > 0 || rep.Metrics.KeySignals["sovereign_queries_total"] < 1 || rep.Metrics.Error != "" {
		t.Errorf("metrics %+v", rep.Metrics)
	}
	var ping struct {
		Result struct{ Status string }
	}
	_ = json.Unmarshal(rep.Bridge.Response, &ping)
	if rep.Bridge.Error != "" || ping.Result.Status != "alive" {
		t.Errorf("bridge %+v", rep.Bridge)
	}
	if rep.Ledger.Error != "" || rep.Ledger.Result == nil || !rep.Ledger.Result.Valid || rep.Ledger.Result.Episodes < 1 {
		t.Errorf("ledger %+v %+v", rep.Ledger, rep.Ledger.Result)
	}
	if len(rep.Errors.Lines) != 3 || rep.Errors.Source != logFile {
		t.Errorf("last errors %q", rep.Errors.Lines)
	}
	if strings.Contains(r.stdout, n.token) || strings.Contains(r.stdout, n.keyHex) {
		t.Error("a secret reached the report")
	}
	files := readBundle(t, bundle)
	if !bytes.Contains(files["metrics.txt"], []byte("# TYPE sovereign_queries_total counter")) {
		t.Errorf("bundle metrics.txt lacks the exposition")
	}
	for name, b := range files {
		if strings.HasSuffix(name, ".json") && !json.Valid(b) {
			t.Errorf("%s is not JSON", name)
		}
		if bytes.Contains(b, []byte(n.token)) || bytes.Contains(b, []byte(n.keyHex)) {
			t.Errorf("%s holds a secret", name)
		}
	}
	// The table for a person.
	r = runCLI(t, map[string]string{}, args[:len(args)-2]...)
	wantCode(t, r, 0, "doctor table")
	for _, want := range []string{"version", "health", "HTTP 200", "alive", "ledger", "genesis", "configuration (secrets redacted)", "<redacted, 32 chars>", "last errors"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestDoctorVersion(t *testing.T) {
	v := doctorVersionInfo(context.Background())
	if v.Version != version || v.GoVersion == "" || v.Revision == "" || v.RevisionSource == "" {
		t.Fatalf("%+v", v)
	}
	// Test binaries carry no VCS stamp: the revision comes from git when in a checkout.
	if out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil && !strings.HasPrefix(v.RevisionSource, "build info") {
		if want := strings.TrimSpace(string(out)); v.Revision != want || !strings.Contains(v.RevisionSource, "git rev-parse") {
			t.Errorf("revision %q from %q, want %q from git", v.Revision, v.RevisionSource, want)
		}
	}
}

func TestDoctorBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--bogus"}, "flag provided but not defined"},
		{[]string{"--bridge-port", "0"}, "invalid --bridge-port"},
		{[]string{"--timeout", "-1s"}, "invalid --timeout"},
		{[]string{"--api", "ftp://x"}, "invalid --api"},
		{[]string{"extra"}, "unexpected argument"},
	} {
		r := runCLI(t, map[string]string{}, append([]string{"doctor"}, tc.args...)...)
		wantCode(t, r, 2, strings.Join(tc.args, " "))
		wantOneLine(t, r.stderr, tc.want)
	}
	r := runCLI(t, map[string]string{}, "doctor", "--help")
	wantCode(t, r, 0, "doctor --help")
	if !strings.Contains(r.stdout, "--bundle") {
		t.Errorf("help lacks --bundle: %s", r.stdout)
	}
}

func TestRedactValueAndErrorLines(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"BIZRA_BRIDGE_TOKEN", "abc", "<redacted, 3 chars>"},
		{"BIZRA_BRIDGE_TOKEN", "", ""},
		{"LM_API_TOKEN", "ключ", "<redacted, 4 chars>"},
		{"BIZRA_LLM_URL", "http://a:b@h:1/v1,http://h2:2", "http://a:redacted@h:1/v1,http://h2:2"},
		{"OLLAMA_HOST", "http://127.0.0.1:11434", "http://127.0.0.1:11434"},
	} {
		if got := redactValue(tc.name, tc.in); got != tc.want {
			t.Errorf("redactValue(%s, %q) = %q, want %q", tc.name, tc.in, got, tc.want)
		}
	}
	for line, want := range map[string]bool{
		`{"level":"ERROR","msg":"x"}`: true, `{"level":"INFO","msg":"ERROR"}`: false, `level=WARN msg=x`: true,
		`panic: x`: true, `all good`: false,
	} {
		if isErrorLine(line) != want {
			t.Errorf("isErrorLine(%q) != %v", line, want)
		}
	}
	// At most doctorMaxErrorLines, the last ones, secrets scrubbed.
	var b strings.Builder
	for i := range 120 {
		b.WriteString(`{"level":"ERROR","msg":"e` + strconv.Itoa(i) + ` s3cr3t-value"}` + "\n")
	}
	path := filepath.Join(t.TempDir(), "log")
	_ = os.WriteFile(path, []byte(b.String()), 0o600)
	e := doctorLastErrors(path, []string{"s3cr3t-value"})
	if len(e.Lines) != doctorMaxErrorLines || !strings.Contains(e.Lines[len(e.Lines)-1], "e119 ") || strings.Contains(strings.Join(e.Lines, ""), "s3cr3t") {
		t.Errorf("%d lines, last %q", len(e.Lines), e.Lines[len(e.Lines)-1])
	}
	if e := doctorLastErrors(filepath.Join(t.TempDir(), "none"), nil); !strings.Contains(e.Note, "cannot read") {
		t.Errorf("missing log: %+v", e)
	}
}
