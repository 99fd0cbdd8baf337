package gate

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"

	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/bizra/bizra/actors/core"
	"github.com/bizra/bizra/actors/receipt"
	"github.com/bizra/bizra/bridge"
	"github.com/bizra/bizra/gateway"
	"github.com/bizra/bizra/supervision/genesis"
	"github.com/bizra/bizra/supervision/node"
)

// logBuffer is a bytes.Buffer that a logger may write while the gate reads it.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// harness holds what the checks share: the scratch folder (removed when the gate
// ends), the logs captured from every node it started, and every secret it generated
// (so secret_hygiene can look for them).
type harness struct {
	strict bool
	opts   Options
	tmp    string
	http   *http.Client

	mu      sync.Mutex
	logs    []*logBuffer
	secrets []string
	seq     int
}

func newHarness(o Options) (*harness, error) {
	tmp, err := os.MkdirTemp("", "bizra-gate-")
	if err != nil {
		return nil, fmt.Errorf("create scratch folder: %w", err)
	}
	tr := &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 4, IdleConnTimeout: 5 * time.Second}
	return &harness{strict: o.Strict, opts: o, tmp: tmp, http: &http.Client{Timeout: 15 * time.Second, Transport: tr}}, nil
}

// close removes the scratch folder and drops idle HTTP connections.
func (g *harness) close() {
	g.http.CloseIdleConnections()
	_ = os.RemoveAll(g.tmp)
}

// newLog returns a fresh captured log, remembered for secret_hygiene.
func (g *harness) newLog() *logBuffer {
	b := &logBuffer{}
	g.mu.Lock()
	g.logs = append(g.logs, b)
	g.mu.Unlock()
	return b
}

func (g *harness) remember(secrets ...string) {
	g.mu.Lock()
	g.secrets = append(g.secrets, secrets...)
	g.mu.Unlock()
}

// nodeSecrets are one node's generated secrets.
type nodeSecrets struct {
	token  string // 32 random characters
	secret receipt.Secret
	keyHex string
}

func (g *harness) newSecrets() (nodeSecrets, error) {
	s, err := receipt.GenerateSecret()
	if err != nil {
		return nodeSecrets{}, fmt.Errorf("generate receipt secret: %w", err)
	}
	tb := make([]byte, 16)
	if _, err := rand.Read(tb); err != nil {
		return nodeSecrets{}, fmt.Errorf("generate bridge token: %w", err)
	}
	gs := nodeSecrets{token: hex.EncodeToString(tb), secret: s, keyHex: s.RevealHex()}
	g.remember(gs.token, gs.keyHex)
	return gs, nil
}

// seedLake seeds a data lake through Options.SeedLake.
func (g *harness) seedLake(dir string) error {
	if g.opts.SeedLake == nil {
		return errNoSeedLake
	}
	return g.opts.SeedLake(dir)
}

// defaults reads the compiled defaults through Options.Defaults.
func (g *harness) defaults() (Defaults, error) {
	if g.opts.Defaults == nil {
		return Defaults{}, errNoDefaults
	}
	return g.opts.Defaults()
}

// machine reads this machine's configuration through Options.Machine.
func (g *harness) machine() (Machine, error) {
	if g.opts.Machine == nil {
		return Machine{}, errNoMachine
	}
	return g.opts.Machine()
}

// newState makes a fresh state folder (0700) whose .env (0600) holds fresh secrets, and
// a data lake seeded with bizra's own docs, both under the scratch folder.
func (g *harness) newState(name string) (state, lake string, sec nodeSecrets, err error) {
	g.mu.Lock()
	g.seq++
	root := filepath.Join(g.tmp, fmt.Sprintf("%02d-%s", g.seq, name))
	g.mu.Unlock()
	state, lake = filepath.Join(root, "state"), filepath.Join(root, "lake")
	if err = os.MkdirAll(state, 0o700); err != nil {
		return "", "", sec, err
	}
	if sec, err = g.newSecrets(); err != nil {
		return "", "", sec, err
	}
	body := "BIZRA_BRIDGE_TOKEN=" + sec.token + "\nBIZRA_RECEIPT_PRIVATE_KEY_HEX=" + sec.keyHex + "\n"
	if err = os.WriteFile(filepath.Join(state, ".env"), []byte(body), 0o600); err != nil {
		return "", "", sec, err
	}
	if err = g.seedLake(lake); err != nil {
		return "", "", sec, err
	}
	return state, lake, sec, nil
}

// nodeOpts select how a gate node starts.
type nodeOpts struct {
	role    string   // "" is node
	genesis bool     // run a fresh genesis ceremony in the state folder first
	noKey   bool     // leave BIZRA_RECEIPT_PRIVATE_KEY_HEX out of the .env
	tamper  bool     // after the ceremony, change one byte of the genesis signature
	args    []string // extra runtime flags
}

// liveNode is one runtime + API + bridge on free loopback ports over temporary state,
// assembled exactly as `bizra run` assembles them (Options.Node: the command's flags
// over the state folder's .env, then the node builder). rt, api and br are set only
// once the whole node has started.
type liveNode struct {
	g          *harness
	name       string
	state      string
	lake       string
	sec        nodeSecrets
	log        *logBuffer
	batch      time.Duration // the node's receipt batch interval
	node       *node.Node    // nil until built
	rt         *core.Runtime
	api        *gateway.Server
	br         *bridge.Bridge
	apiURL     string
	bridgeAddr string
}

// startNode starts a node. On error nothing it started is left running, and the
// returned node (non-nil when the state was made) still carries its log and state.
func (g *harness) startNode(ctx context.Context, name string, o nodeOpts) (*liveNode, error) {
	state, lake, sec, err := g.newState(name)
	if err != nil {
		return nil, fmt.Errorf("prepare state: %w", err)
	}
	n := &liveNode{g: g, name: name, state: state, lake: lake, sec: sec, log: g.newLog()}
	if o.noKey {
		if err := os.WriteFile(filepath.Join(state, ".env"), []byte("BIZRA_BRIDGE_TOKEN="+sec.token+"\n"), 0o600); err != nil {
			return n, err
		}
	}
	if o.genesis {
		if _, err := genesis.Init(state, "gate-node0", "loopback", time.Now()); err != nil {
			return n, fmt.Errorf("genesis ceremony: %w", err)
		}
		if o.tamper {
			cp := state + ".tampered"
			if err := changeByte(state, cp, genesis.GenesisFile, `"signature": "`); err != nil {
				return n, err
			}
			if err := os.Rename(filepath.Join(cp, genesis.GenesisFile), filepath.Join(state, genesis.GenesisFile)); err != nil {
				return n, err
			}
		}
	}
	args := []string{"--state-dir", state, "--data-lake", lake, "--port", "0", "--bridge-port", "0",
		"--log-format", "json", "--log-level", "info"}
	if o.role != "" {
		args = append(args, "--role", o.role)
	}
	args = append(args, o.args...)
	// The nodes see no operator environment: only their own .env and flags.
	if g.opts.Node == nil {
		return n, errNoNodeBuilder
	}
	nd, cfg, err := g.opts.Node(args, n.log)
	if err != nil {
		return n, err
	}
	n.batch = cfg.ReceiptBatch
	n.node = nd
	if err := nd.Start(ctx); err != nil {
		n.close()
		return n, err
	}
	n.rt, n.api, n.br = nd.Runtime, nd.API, nd.Bridge
	n.apiURL = "http://" + nd.API.Addr()
	n.bridgeAddr = nd.Bridge.Addr()
	return n, nil
}

// close stops what the node started, in reverse order. Idempotent.
func (n *liveNode) close() {
	if n == nil {
		return
	}
	if n.node == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = n.node.Shutdown(ctx)
}

// httpDo sends one request to the node's API and returns the status, the body and the
// Content-Type.
func (n *liveNode) httpDo(ctx context.Context, method, path string, body any) (int, []byte, http.Header, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, n.apiURL+path, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := n.g.http.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	return resp.StatusCode, b, resp.Header, err
}

// getJSON GETs path and decodes a 200 answer into v.
func (n *liveNode) getJSON(ctx context.Context, path string, v any) error {
	st, b, _, err := n.httpDo(ctx, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	if st != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d: %s", path, st, trunc(string(b), 200))
	}
	return json.Unmarshal(b, v)
}

// dial opens an authenticated bridge client to the node.
func (n *liveNode) dial(ctx context.Context) (*bridge.Client, error) {
	return bridge.Dial(ctx, n.bridgeAddr, n.sec.token)
}

// rpcAnswer is a decoded bridge response: the result members or the error.
type rpcAnswer struct {
	resp   bridge.Response
	result map[string]json.RawMessage
	code   string // data.code of an error
}

func decodeRPC(line []byte) (rpcAnswer, error) {
	resp, err := bridge.ParseResponse(line)
	if err != nil {
		return rpcAnswer{}, err
	}
	r := rpcAnswer{resp: resp}
	if resp.Error != nil {
		var d struct {
			Code string `json:"code"`
		}
		_ = json.Unmarshal(resp.Error.Data, &d)
		r.code = d.Code
		return r, nil
	}
	if err := json.Unmarshal(resp.Result, &r.result); err != nil {
		return r, fmt.Errorf("result is not an object: %w", err)
	}
	return r, nil
}

// call sends one request on c and decodes its answer.
func call(ctx context.Context, c *bridge.Client, method string, params any) (rpcAnswer, error) {
	line, err := c.Call(ctx, method, params)
	if err != nil {
		return rpcAnswer{}, err
	}
	return decodeRPC(line)
}

// fetchBridgeReceipt asks the bridge for a stored receipt by id (get_receipt), retrying
// while it is not sealed yet. It returns the raw result and how long sealing took.
func fetchBridgeReceipt(ctx context.Context, c *bridge.Client, id string) (json.RawMessage, time.Duration, error) {
	start := time.Now()
	deadline := start.Add(3 * time.Second)
	for {
		r, err := call(ctx, c, "get_receipt", map[string]any{"receipt_id": id})
		if err != nil {
			return nil, 0, err
		}
		if r.resp.Error == nil {
			return r.resp.Result, time.Since(start), nil
		}
		if r.code != "RECEIPT_PENDING" || time.Now().After(deadline) {
			return nil, 0, fmt.Errorf("get_receipt %s: %d %s (%s)", id, r.resp.Error.Code, r.resp.Error.Message, r.code)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// fetchHTTPReceipt GETs /v1/receipts/{id}, retrying while it is not sealed yet.
func (n *liveNode) fetchHTTPReceipt(ctx context.Context, id string) ([]byte, time.Duration, error) {
	start := time.Now()
	deadline := start.Add(3 * time.Second)
	for {
		st, b, _, err := n.httpDo(ctx, http.MethodGet, "/v1/receipts/"+id, nil)
		if err != nil {
			return nil, 0, err
		}
		if st == http.StatusOK {
			return b, time.Since(start), nil
		}
		if !bytes.Contains(b, []byte("RECEIPT_PENDING")) || time.Now().After(deadline) {
			return nil, 0, fmt.Errorf("GET /v1/receipts/%s: HTTP %d: %s", id, st, trunc(string(b), 200))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// dropMember returns the JSON object raw without its member name.
func dropMember(raw []byte, name string) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	delete(m, name)
	return json.Marshal(m)
}

func trunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// errText is err's text on one line, or "".
func errText(err error) string {
	if err == nil {
		return ""
	}
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// listening reports whether something accepts connections on addr.
func listening(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// discardLogger is a logger for components the gate builds only to see them refuse.
func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
