package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bizra/bizra/actors/ledger"
	"github.com/bizra/bizra/bridge"
	"github.com/bizra/bizra/supervision/gate"
	"github.com/bizra/bizra/supervision/genesis"
)

// doctorSecretVars are shown as "<redacted, N chars>", never in clear.
var doctorSecretVars = map[string]bool{
	"BIZRA_BRIDGE_TOKEN": true, "BIZRA_RECEIPT_PRIVATE_KEY_HEX": true, "BIZRA_API_KEYS": true,
	"BIZRA_LLM_API_KEY": true, "LM_API_TOKEN": true,
}

// doctorVars are the configuration variables of operations.md (and the ones config.go
// and the inference configuration read), in report order.
var doctorVars = []string{
	"BIZRA_STATE_DIR", "BIZRA_DATA_LAKE_ROOT", "BIZRA_NODE_ROLE", "BIZRA_BRIDGE_TOKEN",
	"BIZRA_RECEIPT_PRIVATE_KEY_HEX", "BIZRA_API_HOST", "BIZRA_API_PORT", "BIZRA_API_KEYS",
	"BIZRA_CORS_ORIGINS", "BIZRA_BRIDGE_PORT", "BIZRA_API_RATE_PER_S", "BIZRA_API_BURST",
	"BIZRA_BRIDGE_RATE_PER_S", "BIZRA_BRIDGE_BURST", "BIZRA_CACHE_ENTRIES", "BIZRA_CACHE_TTL",
	"BIZRA_QUERY_QUEUE", "BIZRA_RECEIPT_MODE", "BIZRA_ENFORCE_IHSAN", "BIZRA_MAINTENANCE_INTERVAL",
	"BIZRA_LOG_LEVEL", "BIZRA_LOG_FORMAT", "BIZRA_GENESIS_PUBLIC_KEY", "BIZRA_ACCEPT_LEDGER_LOSS",
	"BIZRA_BRIDGE_AUTH_TIMEOUT", "BIZRA_BRIDGE_MAX_CONNS_PER_IP", "BIZRA_MAX_BODY",
	"BIZRA_LLM_URL", "BIZRA_LLM_MODEL", "BIZRA_LLM_API_KEY", "LM_API_TOKEN", "OLLAMA_HOST",
	"OLLAMA_URL", "LMSTUDIO_URL", "LMSTUDIO_HOST", "LMSTUDIO_PORT",
}

// doctorReport is `bizra doctor --json`; each member is one section of the bundle.
type doctorReport struct {
	GeneratedAt string        `json:"generated_at"`
	Version     doctorVersion `json:"version"`
	Health      doctorHTTP    `json:"health"`
	Status      doctorHTTP    `json:"status"`
	Metrics     doctorMetrics `json:"metrics"`
	Bridge      doctorBridge  `json:"bridge"`
	Ledger      doctorLedger  `json:"ledger"`
	Genesis     doctorGenesis `json:"genesis"`
	Config      []doctorVar   `json:"config"`
	Errors      doctorErrors  `json:"errors"`
	metricsText []byte        // the full exposition, for the bundle
}

type doctorVersion struct {
	Version        string `json:"version"`
	GoVersion      string `json:"go_version"`
	Revision       string `json:"revision"`
	RevisionSource string `json:"revision_source"`
	VCSTime        string `json:"vcs_time,omitempty"`
	VCSModified    *bool  `json:"vcs_modified,omitempty"`
	OS             string `json:"os"`
}

type doctorHTTP struct {
	URL        string          `json:"url"`
	HTTPStatus int             `json:"http_status,omitempty"`
	Body       json.RawMessage `json:"body,omitempty"`
	Error      string          `json:"error,omitempty"`
}

type doctorMetrics struct {
	URL        string             `json:"url"`
	HTTPStatus int                `json:"http_status,omitempty"`
	Samples    int                `json:"samples,omitempty"`
	KeySignals map[string]float64 `json:"key_signals,omitempty"`
	Missing    []string           `json:"missing_contract_series,omitempty"`
	Error      string             `json:"error,omitempty"`
}

type doctorBridge struct {
	Addr        string          `json:"addr"`
	Response    json.RawMessage `json:"response,omitempty"`
	RoundTripMs float64         `json:"round_trip_ms,omitempty"`
	Error       string          `json:"error,omitempty"`
}

type doctorLedger struct {
	Dir    string               `json:"dir"`
	Result *ledger.Verification `json:"result,omitempty"`
	Error  string               `json:"error,omitempty"`
}

type doctorGenesis struct {
	Dir      string `json:"dir"`
	Role     string `json:"role"`
	Required bool   `json:"required"`
	Valid    bool   `json:"valid"`
	Reason   string `json:"reason"`
	// TrustAnchor says which key the identity had to match: the pin, the recorded
	// key, or "" when neither exists (the files were checked on their own).
	TrustAnchor string `json:"trust_anchor,omitempty"`
}

type doctorVar struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Source string `json:"source"` // flag, environment, .env, default, unset, error
}

type doctorErrors struct {
	Source string   `json:"source"`
	Lines  []string `json:"lines"`
	Note   string   `json:"note,omitempty"`
}

// doctorMaxErrorLines bounds the "last errors" section.
const doctorMaxErrorLines = 50

// cmdDoctor is `bizra doctor [--json] [--bundle FILE] [--api URL]` (operations.md,
// Doctor): the runbook's escalation inputs. It reports; it does not judge: exit 0 even
// when the node is down, 2 on bad flags, 1 only when the bundle cannot be written.
func cmdDoctor(ctx context.Context, a *app, args []string) int {
	const cmd = "doctor"
	env, state, envErr := newEnv(args, a.getenv)
	if envErr != nil {
		// An unreadable or insecure .env is itself a finding: fall back to the environment.
		env = &envSource{getenv: a.getenv, dotenv: map[string]string{}, dotPath: filepath.Join(state, ".env")}
	}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	bundle := fs.String("bundle", "", "also write the sections as a .tar.gz to FILE")
	host, port := env.str("BIZRA_API_HOST", "127.0.0.1"), env.str("BIZRA_API_PORT", "8080")
	api := fs.String("api", "http://"+host+":"+port, "base URL of the running node's API")
	apiKey := fs.String("api-key", firstKey(env.str("BIZRA_API_KEYS", "")), "API key to send (default: the first of BIZRA_API_KEYS)")
	fs.String("state-dir", state, "state folder (BIZRA_STATE_DIR)")
	bhost := fs.String("bridge-host", bridge.DefaultHost, "bridge host")
	defPort, _ := env.integer("BIZRA_BRIDGE_PORT", bridge.DefaultPort, 1, 65535)
	bport := fs.Int("bridge-port", defPort, "bridge port (BIZRA_BRIDGE_PORT)")
	logFile := fs.String("log", "", "the node's log file, for the last errors")
	timeout := fs.Duration("timeout", 3*time.Second, "time allowed for each request to the node")
	pos, code := toolFlags(a, fs, args, "bizra doctor [--json] [--bundle FILE] [--api URL] [--log FILE] [--state-dir DIR]")
	if code >= 0 {
		return code
	}
	if len(pos) > 0 {
		return toolUsage(a, cmd, "unexpected argument %q", pos[0])
	}
	if *bport < 1 || *bport > 65535 {
		return toolUsage(a, cmd, "invalid --bridge-port %d: want 1..65535", *bport)
	}
	if *timeout <= 0 {
		return toolUsage(a, cmd, "invalid --timeout %s: want a positive duration", *timeout)
	}
	if u, err := url.Parse(*api); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return toolUsage(a, cmd, "invalid --api %q: want http://HOST:PORT", *api)
	}
	stateFlag := false
	fs.Visit(func(f *flag.Flag) { stateFlag = stateFlag || f.Name == "state-dir" })
	rep := collectDoctor(ctx, doctorInputs{stateFlag: stateFlag, env: env, envErr: envErr, state: state, api: *api, apiKey: *apiKey,
		bridgeAddr: bridge.Addr(*bhost, *bport), logFile: *logFile, timeout: *timeout})
	if *asJSON {
		_ = printJSON(a.stdout, rep)
	} else {
		printDoctor(a.stdout, &rep)
	}
	if *bundle != "" {
		if err := writeDoctorBundle(*bundle, &rep); err != nil {
			return toolFail(a, cmd, fmt.Errorf("write bundle %s: %w", *bundle, err))
		}
		fmt.Fprintf(a.stderr, "bizra doctor: bundle written to %s\n", *bundle)
	}
	return 0
}

type doctorInputs struct {
	stateFlag  bool // --state-dir was given
	env        *envSource
	envErr     error
	state      string
	api        string
	apiKey     string
	bridgeAddr string
	logFile    string
	timeout    time.Duration
}

// collectDoctor gathers every section; a failing source becomes that section's error.
func collectDoctor(ctx context.Context, in doctorInputs) doctorReport {
	rep := doctorReport{GeneratedAt: time.Now().UTC().Format(time.RFC3339), Version: doctorVersionInfo(ctx)}
	cf := clientFlags{api: in.api, apiKey: in.apiKey, timeout: in.timeout}
	getJSONSection := func(path string) doctorHTTP {
		s := doctorHTTP{URL: strings.TrimRight(in.api, "/") + path}
		st, body, err := cf.do(ctx, "GET", path, nil)
		if err != nil {
			s.Error = err.Error()
			return s
		}
		s.HTTPStatus = st
		if json.Valid(body) {
			s.Body = json.RawMessage(body)
		} else {
			s.Error = "answer is not JSON: " + truncText(string(body), 200)
		}
		return s
	}
	rep.Health = getJSONSection("/v1/health")
	rep.Status = getJSONSection("/v1/status")
	rep.Metrics = doctorMetrics{URL: strings.TrimRight(in.api, "/") + "/v1/metrics"}
	if st, body, err := cf.do(ctx, "GET", "/v1/metrics", nil); err != nil {
		rep.Metrics.Error = err.Error()
	} else {
		rep.Metrics.HTTPStatus = st
		rep.metricsText = body
		e, problems := gate.ParseExposition(body)
		rep.Metrics.Samples = e.Samples
		rep.Metrics.KeySignals = map[string]float64{}
		for _, name := range gate.ContractSeries() {
			if v, ok := e.Unlabelled[name]; ok {
				rep.Metrics.KeySignals[name] = v
			} else {
				rep.Metrics.Missing = append(rep.Metrics.Missing, name)
			}
		}
		if v, ok := e.Unlabelled["sovereign_uptime_seconds"]; ok {
			rep.Metrics.KeySignals["sovereign_uptime_seconds"] = v
		}
		if len(problems) > 0 {
			rep.Metrics.Error = "exposition problems: " + strings.Join(problems, "; ")
		}
	}
	rep.Bridge = doctorPing(ctx, in)
	selDir := filepath.Join(in.state, "sel")
	rep.Ledger = doctorLedger{Dir: selDir}
	if v, err := ledger.VerifyDir(selDir); err != nil {
		rep.Ledger.Error = err.Error()
	} else {
		rep.Ledger.Result = &v
	}
	role := in.env.str("BIZRA_NODE_ROLE", "node")
	// The same trust anchor bizra run uses: the pin, else the recorded key.
	var ok bool
	var reason string
	key, anchor, aerr := genesisAnchor(in.state, in.env.str("BIZRA_GENESIS_PUBLIC_KEY", ""))
	if aerr != nil {
		reason = aerr.Error()
	} else {
		ok, reason = genesis.ValidateWith(in.state, genesis.Policy{TrustedPublicKey: key})
	}
	rep.Genesis = doctorGenesis{Dir: in.state, Role: role, Required: role == string(genesis.RoleNode0), Valid: ok, Reason: reason, TrustAnchor: anchor}
	rep.Config = doctorConfig(in.env, in.envErr)
	if in.stateFlag {
		for i := range rep.Config {
			if rep.Config[i].Name == "BIZRA_STATE_DIR" {
				rep.Config[i].Value, rep.Config[i].Source = in.state, "flag"
			}
		}
	}
	rep.Errors = doctorLastErrors(in.logFile, doctorSecretsOf(in.env))
	return rep
}

func doctorPing(ctx context.Context, in doctorInputs) doctorBridge {
	b := doctorBridge{Addr: in.bridgeAddr}
	token := in.env.str("BIZRA_BRIDGE_TOKEN", "")
	if token == "" {
		b.Error = "BIZRA_BRIDGE_TOKEN is not set (environment or " + in.state + "/.env): ping not attempted"
		return b
	}
	ctx, cancel := context.WithTimeout(ctx, in.timeout)
	defer cancel()
	t0 := time.Now()
	line, err := bridge.Ping(ctx, in.bridgeAddr, token)
	if err != nil {
		b.Error = err.Error()
		return b
	}
	b.RoundTripMs = durMs(time.Since(t0))
	line = bytes.TrimSpace(line)
	if json.Valid(line) {
		b.Response = json.RawMessage(line)
	} else {
		b.Error = "answer is not JSON: " + truncText(string(line), 200)
	}
	return b
}

// doctorVersionInfo reads the build info; without a VCS stamp (GOFLAGS=-buildvcs=false,
// go run) it falls back to `git rev-parse --short HEAD` and says so.
func doctorVersionInfo(ctx context.Context) doctorVersion {
	v := doctorVersion{Version: version, GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Revision, v.RevisionSource = s.Value, "build info (vcs.revision)"
			case "vcs.time":
				v.VCSTime = s.Value
			case "vcs.modified":
				m := s.Value == "true"
				v.VCSModified = &m
			}
		}
	}
	if v.Revision != "" {
		return v
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		v.Revision = strings.TrimSpace(string(out))
		v.RevisionSource = "git rev-parse --short HEAD of the working directory (the binary carries no VCS stamp; built with -buildvcs=false?)"
		return v
	}
	v.Revision, v.RevisionSource = "unknown", "no VCS stamp in the build info and the working directory is not a git checkout"
	return v
}

// doctorConfig lists every variable with its effective value (secrets redacted) and
// where it came from.
func doctorConfig(env *envSource, envErr error) []doctorVar {
	fs := flag.NewFlagSet("defaults", flag.ContinueOnError)
	none := &envSource{getenv: func(string) (string, bool) { return "", false }, dotenv: map[string]string{}}
	d, _ := bindRuntimeFlags(fs, none, "sovereign_state", true)
	defaults := map[string]string{
		"BIZRA_STATE_DIR": d.StateDir, "BIZRA_DATA_LAKE_ROOT": d.DataLake, "BIZRA_NODE_ROLE": d.Role,
		"BIZRA_API_HOST": d.APIHost, "BIZRA_API_PORT": strconv.Itoa(d.APIPort), "BIZRA_BRIDGE_PORT": strconv.Itoa(d.BridgePort),
		"BIZRA_API_RATE_PER_S": fmt.Sprint(d.APIRate), "BIZRA_API_BURST": strconv.Itoa(d.APIBurst),
		"BIZRA_BRIDGE_RATE_PER_S": fmt.Sprint(d.BridgeRate), "BIZRA_BRIDGE_BURST": strconv.Itoa(d.BridgeBurst),
		"BIZRA_CACHE_ENTRIES": strconv.Itoa(d.CacheEntries), "BIZRA_CACHE_TTL": d.CacheTTL.String(),
		"BIZRA_QUERY_QUEUE": strconv.Itoa(d.Queue), "BIZRA_RECEIPT_MODE": d.ReceiptMode,
		"BIZRA_ENFORCE_IHSAN": strconv.FormatBool(d.EnforceIhsan), "BIZRA_MAINTENANCE_INTERVAL": d.MaintenanceInterval.String(),
		"BIZRA_LOG_LEVEL": d.LogLevel, "BIZRA_LOG_FORMAT": d.LogFormat,
		"BIZRA_ACCEPT_LEDGER_LOSS":  strconv.FormatBool(d.AcceptLedgerLoss),
		"BIZRA_BRIDGE_AUTH_TIMEOUT": d.BridgeAuthTimeout.String(), "BIZRA_BRIDGE_MAX_CONNS_PER_IP": strconv.Itoa(d.BridgeMaxConnsPerIP),
		"BIZRA_MAX_BODY": strconv.Itoa(d.MaxBody),
	}
	var out []doctorVar
	if envErr != nil {
		out = append(out, doctorVar{Name: ".env", Value: "not loaded: " + envErr.Error(), Source: "error"})
	}
	for _, name := range doctorVars {
		v := doctorVar{Name: name}
		if val, ok := env.getenv(name); ok {
			v.Value, v.Source = val, "environment"
		} else if val, ok := env.dotenv[name]; ok {
			v.Value, v.Source = val, ".env"
		} else if def, ok := defaults[name]; ok {
			v.Value, v.Source = def, "default"
		} else {
			v.Source = "unset"
		}
		v.Value = redactValue(name, v.Value)
		out = append(out, v)
	}
	return out
}

// redactValue hides secrets ("<redacted, N chars>") and the password of a URL.
func redactValue(name, val string) string {
	if doctorSecretVars[name] {
		if val == "" {
			return ""
		}
		return fmt.Sprintf("<redacted, %d chars>", len([]rune(val)))
	}
	if strings.Contains(val, "@") && strings.Contains(val, "://") {
		var parts []string
		for _, one := range strings.Split(val, ",") {
			if u, err := url.Parse(strings.TrimSpace(one)); err == nil && u.User != nil {
				if _, has := u.User.Password(); has {
					u.User = url.UserPassword(u.User.Username(), "redacted")
				}
				one = u.String()
			}
			parts = append(parts, one)
		}
		return strings.Join(parts, ",")
	}
	return val
}

// doctorSecretsOf returns the configured secret values (to scrub from log lines).
func doctorSecretsOf(env *envSource) []string {
	var out []string
	for name := range doctorSecretVars {
		for _, v := range splitList(env.str(name, "")) {
			if len(v) >= 8 {
				out = append(out, v)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// doctorLastErrors returns the last error and warning lines of a log file: JSON lines
// with level ERROR or WARN, text lines with level=ERROR or level=WARN, and panics.
func doctorLastErrors(path string, secrets []string) doctorErrors {
	if path == "" {
		return doctorErrors{Source: "none", Lines: []string{}, Note: "none available: pass --log FILE (the node's captured stderr) to include its last errors"}
	}
	e := doctorErrors{Source: path, Lines: []string{}}
	f, err := os.Open(path)
	if err != nil {
		e.Note = "cannot read the log: " + err.Error()
		return e
	}
	defer f.Close()
	const tail = 8 << 20
	if fi, err := f.Stat(); err == nil && fi.Size() > tail {
		_, _ = f.Seek(fi.Size()-tail, io.SeekStart)
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !isErrorLine(line) {
			continue
		}
		for _, s := range secrets {
			line = strings.ReplaceAll(line, s, fmt.Sprintf("<redacted, %d chars>", len(s)))
		}
		e.Lines = append(e.Lines, truncText(line, 2000))
		if len(e.Lines) > doctorMaxErrorLines {
			e.Lines = e.Lines[1:]
		}
	}
	if err := sc.Err(); err != nil {
		e.Note = "log read stopped: " + err.Error()
	}
	if len(e.Lines) == 0 && e.Note == "" {
		e.Note = "no error or warning lines in the log"
	}
	return e
}

func isErrorLine(line string) bool {
	t := strings.TrimSpace(line)
	if strings.HasPrefix(t, "{") {
		var m struct {
			Level string `json:"level"`
		}
		if json.Unmarshal([]byte(t), &m) == nil {
			return m.Level == "ERROR" || m.Level == "WARN"
		}
	}
	return strings.Contains(t, "level=ERROR") || strings.Contains(t, "level=WARN") ||
		strings.HasPrefix(t, "panic:") || strings.HasPrefix(t, "fatal error:")
}

// printDoctor prints the report for a person.
func printDoctor(w io.Writer, r *doctorReport) {
	fmt.Fprintf(w, "bizra doctor — %s\n\n", r.GeneratedAt)
	fmt.Fprintf(w, "version     bizra %s, %s, %s, revision %s (%s)\n", r.Version.Version, r.Version.GoVersion, r.Version.OS, r.Version.Revision, r.Version.RevisionSource)
	httpLine := func(label string, s doctorHTTP) {
		if s.Error != "" {
			fmt.Fprintf(w, "%-11s %s: %s\n", label, s.URL, s.Error)
			return
		}
		fmt.Fprintf(w, "%-11s %s: HTTP %d %s\n", label, s.URL, s.HTTPStatus, truncText(string(compactJSON(s.Body)), 400))
	}
	httpLine("health", r.Health)
	httpLine("status", r.Status)
	if r.Metrics.Error != "" && r.Metrics.HTTPStatus == 0 {
		fmt.Fprintf(w, "metrics     %s: %s\n", r.Metrics.URL, r.Metrics.Error)
	} else {
		fmt.Fprintf(w, "metrics     %s: HTTP %d, %d samples\n", r.Metrics.URL, r.Metrics.HTTPStatus, r.Metrics.Samples)
		names := make([]string, 0, len(r.Metrics.KeySignals))
		for n := range r.Metrics.KeySignals {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(w, "              %-38s %g\n", n, r.Metrics.KeySignals[n])
		}
		if len(r.Metrics.Missing) > 0 {
			fmt.Fprintf(w, "              missing contract series: %s\n", strings.Join(r.Metrics.Missing, ", "))
		}
		if r.Metrics.Error != "" {
			fmt.Fprintf(w, "              %s\n", r.Metrics.Error)
		}
	}
	if r.Bridge.Error != "" {
		fmt.Fprintf(w, "bridge      %s: %s\n", r.Bridge.Addr, r.Bridge.Error)
	} else {
		fmt.Fprintf(w, "bridge      %s: %s (%.1f ms)\n", r.Bridge.Addr, truncText(string(r.Bridge.Response), 400), r.Bridge.RoundTripMs)
	}
	if r.Ledger.Error != "" {
		fmt.Fprintf(w, "ledger      %s: %s\n", r.Ledger.Dir, r.Ledger.Error)
	} else {
		b, _ := json.Marshal(r.Ledger.Result)
		fmt.Fprintf(w, "ledger      %s: %s\n", r.Ledger.Dir, b)
	}
	need := "not required for role " + r.Genesis.Role
	if r.Genesis.Required {
		need = "required for role node0"
	}
	fmt.Fprintf(w, "genesis     %s: valid %v, %s (%s)\n", r.Genesis.Dir, r.Genesis.Valid, r.Genesis.Reason, need)
	fmt.Fprintf(w, "\nconfiguration (secrets redacted):\n")
	for _, v := range r.Config {
		val := v.Value
		if v.Source == "unset" {
			val = "-"
		}
		fmt.Fprintf(w, "  %-31s %-12s %s\n", v.Name, v.Source, val)
	}
	fmt.Fprintf(w, "\nlast errors (%s):\n", r.Errors.Source)
	if r.Errors.Note != "" {
		fmt.Fprintf(w, "  %s\n", r.Errors.Note)
	}
	for _, l := range r.Errors.Lines {
		fmt.Fprintf(w, "  %s\n", l)
	}
}

func compactJSON(b []byte) []byte {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return b
	}
	return buf.Bytes()
}

// writeDoctorBundle writes one file per section into a .tar.gz at path.
func writeDoctorBundle(path string, r *doctorReport) error {
	files := []struct {
		name string
		v    any
	}{
		{"version.json", r.Version}, {"health.json", r.Health}, {"status.json", r.Status},
		{"metrics.json", r.Metrics}, {"bridge.json", r.Bridge}, {"ledger.json", r.Ledger},
		{"genesis.json", r.Genesis}, {"config.json", r.Config}, {"errors.json", r.Errors},
	}
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	now := time.Now()
	add := func(name string, b []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: "bizra-doctor/" + name, Mode: 0o644, Size: int64(len(b)), ModTime: now, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err := tw.Write(b)
		return err
	}
	for _, f := range files {
		b, err := json.MarshalIndent(f.v, "", "  ")
		if err != nil {
			return err
		}
		if err := add(f.name, append(b, '\n')); err != nil {
			return err
		}
	}
	if r.metricsText != nil {
		if err := add("metrics.txt", r.metricsText); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := gz.Close(); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// truncText shortens s to n bytes, marking the cut.
func truncText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// durMs is d in milliseconds with microsecond precision.
func durMs(d time.Duration) float64 { return math.Round(float64(d.Microseconds())) / 1000 }
