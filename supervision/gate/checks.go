package gate

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bizra/bizra/actors/ledger"
	"github.com/bizra/bizra/actors/receipt"
	"github.com/bizra/bizra/bridge"
	"github.com/bizra/bizra/supervision/genesis"
	"github.com/bizra/bizra/supervision/node"
)

// authLine builds a raw request line with the given headers object (nil: no headers
// member at all).
func authLine(method string, id int, headers map[string]any) []byte {
	req := map[string]any{"jsonrpc": "2.0", "method": method, "id": id}
	if headers != nil {
		req["headers"] = headers
	}
	b, _ := json.Marshal(req)
	return append(b, '\n')
}

// roundTrip sends one raw line on a fresh connection and decodes the answer.
func (n *liveNode) roundTrip(ctx context.Context, line []byte) (rpcAnswer, error) {
	c, err := n.dial(ctx)
	if err != nil {
		return rpcAnswer{}, err
	}
	defer c.Close()
	resp, err := c.RoundTrip(ctx, line)
	if err != nil {
		return rpcAnswer{}, err
	}
	return decodeRPC(resp)
}

// wantError asserts that r is the JSON-RPC error code with data.code dcode.
func wantError(p *probe, what string, r rpcAnswer, err error, code int, dcode string) {
	if err != nil {
		p.fail(what, err)
		return
	}
	if r.resp.Error == nil {
		p.check(what, false, "answered a result, want error %d %s", code, dcode)
		return
	}
	p.check(what, r.resp.Error.Code == code && r.code == dcode, "got %d %s, want %d %s", r.resp.Error.Code, r.code, code, dcode)
}

// wantAlive asserts that r is a ping result {status: alive} carrying a receipt; it
// returns the receipt id.
func wantAlive(p *probe, what string, r rpcAnswer, err error) string {
	if err != nil {
		p.fail(what, err)
		return ""
	}
	if r.resp.Error != nil {
		p.check(what, false, "error %d %s (%s)", r.resp.Error.Code, r.resp.Error.Message, r.code)
		return ""
	}
	var status string
	_ = json.Unmarshal(r.result["status"], &status)
	var ref bridge.ReceiptRef
	_ = json.Unmarshal(r.result["receipt"], &ref)
	ok := status == "alive" && bridge.ValidReceiptID(ref.ReceiptID) && ref.Status == bridge.ReceiptAccepted
	p.check(what, ok, "status %q, receipt %q (%s)", status, ref.ReceiptID, ref.Status)
	return ref.ReceiptID
}

// checkBridgeAuth: missing headers, wrong token, stale timestamp and a replayed nonce
// get their codes; a valid ping answers alive with a receipt.
func checkBridgeAuth(ctx context.Context, g *harness, p *probe) {
	n, err := g.startNode(ctx, "bridge-auth", nodeOpts{})
	defer n.close()
	if !p.check("node started", err == nil, "%s", errText(err)) {
		return
	}
	tok := n.sec.token
	now := time.Now().UnixMilli()
	full := func(token string, ts any, nonce string) map[string]any {
		return map[string]any{bridge.HeaderToken: token, bridge.HeaderTS: ts, bridge.HeaderNonce: nonce}
	}
	cases := []struct {
		what  string
		line  []byte
		code  int
		dcode string
	}{
		{"no headers member: -32001 AUTH_MISSING_HEADERS", authLine("ping", 1, nil), bridge.CodeAuthMissing, "AUTH_MISSING_HEADERS"},
		{"no token: -32001 AUTH_MISSING_TOKEN", authLine("ping", 2, map[string]any{bridge.HeaderTS: now, bridge.HeaderNonce: bridge.NewNonce()}), bridge.CodeAuthMissing, "AUTH_MISSING_TOKEN"},
		{"no timestamp: -32001 AUTH_MISSING_TIMESTAMP", authLine("ping", 3, map[string]any{bridge.HeaderToken: tok, bridge.HeaderNonce: bridge.NewNonce()}), bridge.CodeAuthMissing, "AUTH_MISSING_TIMESTAMP"},
		{"no nonce: -32001 AUTH_MISSING_NONCE", authLine("ping", 4, map[string]any{bridge.HeaderToken: tok, bridge.HeaderTS: now}), bridge.CodeAuthMissing, "AUTH_MISSING_NONCE"},
		{"wrong token: -32002 AUTH_INVALID_TOKEN", authLine("ping", 5, full(tok[:len(tok)-1]+flipHex(tok[len(tok)-1]), now, bridge.NewNonce())), bridge.CodeAuthInvalid, "AUTH_INVALID_TOKEN"},
		{"bad signature: -32002 AUTH_INVALID_SIGNATURE", authLine("ping", 6, map[string]any{bridge.HeaderToken: tok, bridge.HeaderTS: now,
			bridge.HeaderNonce: bridge.NewNonce(), bridge.HeaderSig: strings.Repeat("0", 64)}), bridge.CodeAuthInvalid, "AUTH_INVALID_SIGNATURE"},
		{"stale timestamp (10 min old): -32003 AUTH_STALE_TIMESTAMP", authLine("ping", 7, full(tok, now-10*60*1000, bridge.NewNonce())), bridge.CodeAuthStale, "AUTH_STALE_TIMESTAMP"},
		{"future timestamp (10 min ahead): -32003 AUTH_STALE_TIMESTAMP", authLine("ping", 8, full(tok, now+10*60*1000, bridge.NewNonce())), bridge.CodeAuthStale, "AUTH_STALE_TIMESTAMP"},
	}
	for _, c := range cases {
		r, err := n.roundTrip(ctx, c.line)
		wantError(p, c.what, r, err, c.code, c.dcode)
	}
	// A valid ping, then the very same line again (a replay), on one connection.
	cl, err := n.dial(ctx)
	if !p.check("dial the bridge", err == nil, "%s", errText(err)) {
		return
	}
	defer cl.Close()
	nonce := bridge.NewNonce()
	line, err := bridge.Request(tok, "ping", nil, 1, time.Now().UnixMilli(), nonce, false)
	if !p.check("build a ping", err == nil, "%s", errText(err)) {
		return
	}
	resp, err := cl.RoundTrip(ctx, line)
	var r rpcAnswer
	if err == nil {
		r, err = decodeRPC(resp)
	}
	wantAlive(p, "valid ping answers alive with an accepted receipt", r, err)
	p.figure("summary", "every refusal carries its code; ping alive")
	resp, err = cl.RoundTrip(ctx, line)
	if err == nil {
		r, err = decodeRPC(resp)
	}
	wantError(p, "replayed nonce: -32004 AUTH_NONCE_REPLAY", r, err, bridge.CodeNonceReplay, "AUTH_NONCE_REPLAY")
	// The connection still serves a fresh, signed request after the refusals.
	cl.Sign = true
	r, err = call(ctx, cl, "ping", nil)
	wantAlive(p, "signed ping with a fresh nonce answers alive", r, err)
}

// flipHex returns a different hex digit than c.
func flipHex(c byte) string {
	if c == '0' {
		return "1"
	}
	return "0"
}

// checkReceiptSignerStrict: start without the key is refused; a fresh receipt from the
// live node verifies; a tampered copy does not; the legacy fingerprint is SHA-256(secret).
func checkReceiptSignerStrict(ctx context.Context, g *harness, p *probe) {
	// 1. No key: the runtime and the bridge refuse to start.
	nk, err := g.startNode(ctx, "no-receipt-key", nodeOpts{noKey: true})
	nk.close()
	p.check("runtime start without BIZRA_RECEIPT_PRIVATE_KEY_HEX is refused", err != nil && strings.Contains(err.Error(), receipt.EnvKey),
		"error: %s", errText(err))
	p.check("the refused node bound nothing", nk == nil || (nk.api == nil && nk.br == nil), "")
	if port, perr := freePort(); perr == nil {
		sec, _ := g.newSecrets()
		b, err := bridge.New(bridge.Options{Logger: discardLogger(), Host: "127.0.0.1", Port: port, Token: sec.token, Role: "node",
			Core: node.BridgeCore{}, Receipts: node.BridgeReceipts{}})
		if err == nil {
			err = b.Start(ctx)
			if err == nil {
				_ = b.Shutdown(ctx)
			}
		}
		addr := bridge.Addr("127.0.0.1", port)
		p.check("bridge start without the receipt key is refused, naming the variable, nothing bound",
			err != nil && strings.Contains(err.Error(), receipt.EnvKey) && !listening(addr), "error: %s", errText(err))
	}
	_, err = receipt.ParseSecretHex(strings.Repeat("11", 32), false)
	p.check("a well-known test key (11×32) is refused", err != nil, "%s", errText(err))

	// 2. A fresh receipt from the live node verifies against the node's key.
	n, err := g.startNode(ctx, "receipt-signer", nodeOpts{})
	defer n.close()
	if !p.check("node started", err == nil, "%s", errText(err)) {
		return
	}
	var st struct {
		Identity struct {
			SignerKeyID string `json:"signer_key_id"`
		} `json:"identity"`
	}
	if err := n.getJSON(ctx, "/v1/status", &st); err != nil {
		p.fail("GET /v1/status", err)
		return
	}
	code, body, _, err := n.httpDo(ctx, http.MethodPost, "/v1/query", map[string]any{"query": "how do I verify a receipt", "timeout_ms": 10000})
	var qv struct {
		Receipt *receipt.Ref `json:"receipt"`
	}
	if err == nil {
		err = json.Unmarshal(body, &qv)
	}
	if !p.check("POST /v1/query answers with a receipt", err == nil && code == 200 && qv.Receipt != nil, "HTTP %d %s", code, errText(err)) {
		return
	}
	raw, sealed, err := n.fetchHTTPReceipt(ctx, qv.Receipt.ReceiptID)
	if !p.check("GET /v1/receipts/{id} returns the sealed receipt", err == nil, "%s", errText(err)) {
		return
	}
	p.figure("seal_latency_ms", millis(sealed))
	interval := n.batch
	if sealed > interval+100*time.Millisecond {
		p.warn("receipt %s became retrievable %.1f ms after issue; its batch interval is %s", qv.Receipt.ReceiptID, millis(sealed), interval)
	}
	v := receipt.Verify(raw)
	p.check("the fresh receipt verifies (receipt.Verify)", v.Valid, "reason %q", v.Reason)
	p.check("it is signed by the node's key (status.identity.signer_key_id)", v.KeyID != "" && v.KeyID == st.Identity.SignerKeyID,
		"key %q, node %q", v.KeyID, st.Identity.SignerKeyID)
	vs := receipt.VerifyWithSecret(raw, n.sec.secret)
	p.check("it verifies with the secret too (VerifyWithSecret)", vs.Valid, "reason %q", vs.Reason)
	code, body, _, err = n.httpDo(ctx, http.MethodPost, "/v1/verify/receipt", json.RawMessage(raw))
	var vr struct {
		Valid, Trusted bool
	}
	if err == nil {
		err = json.Unmarshal(body, &vr)
	}
	p.check("POST /v1/verify/receipt: valid and trusted", err == nil && code == 200 && vr.Valid && vr.Trusted, "HTTP %d %s %s", code, trunc(string(body), 160), errText(err))

	// 3. Tampered copies do not verify.
	for _, tc := range []struct{ what, member string }{
		{"a copy with its status changed does not verify", "status"},
		{"a copy with one byte of its signature changed does not verify", "signature"},
		{"a copy with its origin changed does not verify", "origin"},
	} {
		t, err := tamperReceipt(raw, tc.member)
		if err != nil {
			p.fail(tc.what, err)
			continue
		}
		tv := receipt.Verify(t)
		p.check(tc.what, !tv.Valid, "reason %q", tv.Reason)
	}

	// 4. The legacy SimpleSigner: public key = SHA-256(secret), HMAC-SHA256 keyed with it.
	rawKey, _ := hex.DecodeString(n.sec.keyHex)
	want := sha256.Sum256(rawKey)
	ss := receipt.NewSimpleSigner(n.sec.secret)
	fp := n.sec.secret.Fingerprint()
	p.check("legacy SimpleSigner public key == SHA-256(secret)", bytes.Equal(ss.PublicKeyBytes(), want[:]) && bytes.Equal(fp[:], want[:]),
		"got %x, want %x", ss.PublicKeyBytes(), want)
	msg := []byte("bizra gate legacy signer probe")
	mac := hmac.New(sha256.New, rawKey)
	mac.Write(msg)
	sig := ss.Sign(msg)
	p.check("legacy signature == HMAC-SHA256(secret, message) and verifies; a changed message does not",
		hmac.Equal(sig, mac.Sum(nil)) && ss.Verify(msg, sig) && !ss.Verify(append(msg, '!'), sig), "")
	time.Sleep(2 * interval)
	if s := n.rt.Receipts().Stats(); s.Pending > 0 {
		p.warn("%d receipts still unsealed %s after the last request (batch interval %s)", s.Pending, 2*interval, interval)
	}
}

// tamperReceipt changes one thing in a receipt: "status" (accepted↔rejected),
// "signature" (one hex digit of the seal's or the single signature), "origin" (its
// designation).
func tamperReceipt(raw []byte, what string) ([]byte, error) {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	switch what {
	case "status":
		if m["status"] == "accepted" {
			m["status"] = "rejected"
		} else {
			m["status"] = "accepted"
		}
	case "signature":
		var holder map[string]any
		key := "signature"
		if s, ok := m["seal"].(map[string]any); ok {
			holder = s
		} else if s, ok := m["signature"].(map[string]any); ok {
			holder, key = s, "sig"
		}
		sig, _ := holder[key].(string)
		if sig == "" {
			return nil, fmt.Errorf("receipt carries no signature")
		}
		holder[key] = sig[:len(sig)-1] + flipHex(sig[len(sig)-1])
	case "origin":
		o, ok := m["origin"].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("receipt carries no origin object")
		}
		if o["designation"] == "node0" {
			o["designation"] = "ephemeral_node"
		} else {
			o["designation"] = "node0"
		}
	}
	return json.Marshal(m)
}

// changeByte copies src to a new folder dst and changes one byte of file, at the
// first character after marker (a different character of the same kind).
func changeByte(src, dst, file, marker string) error {
	if err := os.MkdirAll(dst, 0o700); err != nil {
		return err
	}
	for _, f := range []string{genesis.GenesisFile, genesis.HashFile, genesis.KeyFile} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			return err
		}
		if f == file {
			i := bytes.Index(b, []byte(marker))
			if i < 0 || i+len(marker) >= len(b) {
				return fmt.Errorf("marker %q not in %s", marker, f)
			}
			j := i + len(marker)
			switch c := b[j]; {
			case c == '0':
				b[j] = '1'
			case c >= '1' && c <= '9', c >= 'a' && c <= 'z':
				b[j] = c - 1
				if c == 'a' {
					b[j] = 'b'
				}
			default:
				b[j] = 'x'
			}
		}
		if err := os.WriteFile(filepath.Join(dst, f), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// checkNode0Genesis: node0 over an empty folder refuses with the spec's message; a fresh
// ceremony validates; a copy with one changed byte does not.
func checkNode0Genesis(ctx context.Context, g *harness, p *probe) {
	// 1. Empty folder: everything refuses, with the message of proof.md.
	n, err := g.startNode(ctx, "node0-empty", nodeOpts{role: "node0"})
	n.close()
	if n == nil {
		p.fail("prepare the empty state folder", err)
		return
	}
	dir := n.state
	wantMsg := fmt.Sprintf("Node0 genesis enforcement failed: missing %s. Required authority files: %s and %s",
		filepath.Join(dir, genesis.GenesisFile), filepath.Join(dir, genesis.GenesisFile), filepath.Join(dir, genesis.HashFile))
	p.check("node0 runtime over a folder without genesis refuses to start with the spec message",
		err != nil && strings.Contains(err.Error(), wantMsg), "error: %s", errText(err))
	p.check("the refused node0 bound nothing", n.api == nil && n.br == nil && n.rt == nil, "")
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	p.check("the refusal created nothing in the state folder (it holds only the .env the gate wrote)", len(names) == 1 && names[0] == ".env", "folder holds %v", names)
	if port, perr := freePort(); perr == nil {
		b, err := bridge.New(bridge.Options{Logger: discardLogger(), Host: "127.0.0.1", Port: port, Token: n.sec.token,
			SecretHex: n.sec.keyHex, Role: "node0", StateDir: dir, GenesisCheck: func() (bool, string) { return genesis.Validate(dir) },
			Core: node.BridgeCore{}, Receipts: node.BridgeReceipts{}})
		if err == nil {
			if err = b.Start(ctx); err == nil {
				_ = b.Shutdown(ctx)
			}
		}
		p.check("node0 bridge over the same folder refuses too, nothing bound",
			err != nil && strings.Contains(err.Error(), "Node0 genesis enforcement failed") && !listening(bridge.Addr("127.0.0.1", port)),
			"error: %s", errText(err))
	}
	ok, reason := genesis.Validate(dir)
	p.check("validate_genesis_chain of the empty folder fails naming the missing file", !ok && strings.HasPrefix(reason, "missing "), "reason %q", reason)

	// 2. A fresh ceremony validates, and a node0 starts over it.
	good := filepath.Join(g.tmp, "node0-ceremony")
	doc, err := genesis.Init(good, "gate-node0", "loopback", time.Now())
	if !p.check("genesis ceremony (genesis.Init) in a fresh folder", err == nil, "%s", errText(err)) {
		return
	}
	ok, reason = genesis.Validate(good)
	p.check("the fresh genesis chain validates", ok, "reason %q", reason)
	p.check("origin guard accepts it (genesis.Enforce node0)", genesis.Enforce(genesis.RoleNode0, good) == nil, "")
	p.figure("node_id", doc.Identity.NodeID)

	// 3. Copies with one changed byte do not.
	for _, tc := range []struct{ what, file, marker string }{
		{"one byte of the signature", genesis.GenesisFile, `"signature": "`},
		{"one byte of the node name", genesis.GenesisFile, `"name": "`},
		{"one byte of an agent public key", genesis.GenesisFile, `"public_key": "`},
		{"one byte of the genesis timestamp", genesis.GenesisFile, `"timestamp": "20`},
		{"one byte of genesis_hash.txt", genesis.HashFile, ""},
	} {
		dst := filepath.Join(g.tmp, "node0-tampered-"+strings.ReplaceAll(tc.what, " ", "-"))
		if err := changeByte(good, dst, tc.file, tc.marker); err != nil {
			p.fail("tamper "+tc.what, err)
			continue
		}
		ok, reason := genesis.Validate(dst)
		p.check("a copy with "+tc.what+" changed does not validate", !ok, "reason %q", reason)
	}
	// And a node0 runtime over a tampered copy refuses.
	tn, err := g.startNode(ctx, "node0-tampered", nodeOpts{role: "node0", genesis: true, tamper: true})
	tn.close()
	p.check("a node0 runtime over a tampered genesis refuses to start", err != nil && strings.Contains(err.Error(), "Node0 genesis enforcement failed"),
		"error: %s", errText(err))
}

// checkReceiptOriginProof: a node0 bridge pings, then get_receipt of its id: origin
// node0, hash_validated, and the receipt verifies.
func checkReceiptOriginProof(ctx context.Context, g *harness, p *probe) {
	n, err := g.startNode(ctx, "node0-origin", nodeOpts{role: "node0", genesis: true})
	defer n.close()
	if !p.check("node0 started over a fresh genesis", err == nil, "%s", errText(err)) {
		return
	}
	gdoc, err := genesis.Load(n.state)
	if !p.check("load the genesis", err == nil, "%s", errText(err)) {
		return
	}
	c, err := n.dial(ctx)
	if !p.check("dial the bridge", err == nil, "%s", errText(err)) {
		return
	}
	defer c.Close()
	r, err := call(ctx, c, "ping", nil)
	id := wantAlive(p, "ping answers alive with a receipt", r, err)
	if id == "" {
		return
	}
	res, _, err := fetchBridgeReceipt(ctx, c, id)
	if !p.check("get_receipt returns the ping's receipt", err == nil, "%s", errText(err)) {
		return
	}
	var got struct {
		ReceiptID string          `json:"receipt_id"`
		Kind      string          `json:"kind"`
		Method    string          `json:"method"`
		Origin    genesis.Origin  `json:"origin"`
		Own       json.RawMessage `json:"receipt"`
	}
	if err := json.Unmarshal(res, &got); err != nil {
		p.fail("decode the receipt", err)
		return
	}
	p.check("it is the ping's receipt (kind bridge, method ping)", got.ReceiptID == id && got.Kind == receipt.KindBridge && got.Method == "ping",
		"id %s kind %s method %s", got.ReceiptID, got.Kind, got.Method)
	judgeOrigin(p, got.Origin, gdoc.Identity.NodeID)
	p.check("get_receipt carries its own receipt member", len(got.Own) > 0 && !bytes.Equal(got.Own, []byte("null")), "")
	stored, err := dropMember(res, "receipt")
	if !p.check("drop get_receipt's own receipt member", err == nil, "%s", errText(err)) {
		return
	}
	v := receipt.Verify(stored)
	p.check("the receipt verifies", v.Valid, "reason %q", v.Reason)
	p.check("signed by this node's bridge receipt key", v.KeyID == n.rt.BridgeReceipts().KeyID(), "key %q want %q", v.KeyID, n.rt.BridgeReceipts().KeyID())
	if t, err := tamperReceipt(stored, "origin"); err == nil {
		tv := receipt.Verify(t)
		p.check("the origin is covered by the signature: a copy claiming ephemeral_node does not verify", !tv.Valid, "reason %q", tv.Reason)
	}
	r, err = call(ctx, c, "status", nil)
	var sd struct {
		Node   string         `json:"node"`
		Origin genesis.Origin `json:"origin"`
	}
	if err == nil && r.resp.Error == nil {
		err = json.Unmarshal(r.resp.Result, &sd)
	}
	p.check("bridge status reports node node0 with a validated origin", err == nil && sd.Node == "node0" && sd.Origin.Designation == "node0" && sd.Origin.HashValidated,
		"node %q origin %q %s", sd.Node, sd.Origin.Designation, errText(err))
	p.figure("summary", "receipt "+id+" origin node0")
}

// judgeOrigin records the assertions on a receipt's origin: node0, hash-validated, the
// genesis node of the ceremony that made nodeID.
func judgeOrigin(p *probe, o genesis.Origin, nodeID string) {
	p.check("origin.designation is node0", o.Designation == "node0", "designation %q", o.Designation)
	p.check("origin.hash_validated is true", o.HashValidated, "")
	p.check("origin is the genesis node (genesis_node, block0, node id of the ceremony)",
		o.GenesisNode && o.GenesisBlock && o.BlockID == "block0" && o.NodeID == nodeID,
		"genesis_node %v block %q node %q want %q", o.GenesisNode, o.BlockID, o.NodeID, nodeID)
}

func loopback(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// checkLocalhostDefaults: API and bridge bind loopback by default; the bridge refuses
// 0.0.0.0 (and ::) naming 127.0.0.1.
func checkLocalhostDefaults(ctx context.Context, g *harness, p *probe) {
	cfg, err := g.defaults()
	if !p.check("read the compiled configuration defaults", err == nil, "%s", errText(err)) {
		return
	}
	p.check("default API host is loopback", loopback(cfg.APIHost), "host %q port %d", cfg.APIHost, cfg.APIPort)
	p.check("default bridge host is loopback", loopback(cfg.BridgeHost), "host %q port %d", cfg.BridgeHost, cfg.BridgePort)
	p.check("bridge package default host is loopback", loopback(bridge.DefaultOptions().Host), "host %q", bridge.DefaultOptions().Host)
	u, err := url.Parse(cfg.ClientAPI)
	p.check("clients default to a loopback API", err == nil && loopback(u.Hostname()), "default --api %q", cfg.ClientAPI)
	p.figure("defaults", map[string]any{"api": net.JoinHostPort(cfg.APIHost, strconv.Itoa(cfg.APIPort)),
		"bridge": net.JoinHostPort(cfg.BridgeHost, strconv.Itoa(cfg.BridgePort))})
	// The operator's effective configuration may move the API on purpose; say so.
	if m, err := g.machine(); err == nil && m.APIHost != "" && !loopback(m.APIHost) {
		p.warn("this machine's configuration binds the API to %q (BIZRA_API_HOST), not loopback", m.APIHost)
	}

	n, err := g.startNode(ctx, "localhost", nodeOpts{})
	defer n.close()
	if p.check("node started with the default hosts", err == nil, "%s", errText(err)) {
		ah, _, _ := net.SplitHostPort(n.api.Addr())
		bh, _, _ := net.SplitHostPort(n.bridgeAddr)
		p.check("the API listens on loopback", loopback(ah), "listening on %s", n.api.Addr())
		p.check("the bridge listens on loopback", loopback(bh), "listening on %s", n.bridgeAddr)
	}
	sec, err := g.newSecrets()
	if err != nil {
		p.fail("generate secrets", err)
		return
	}
	for _, host := range []string{"0.0.0.0", "::"} {
		port, err := freePort()
		if err != nil {
			p.fail("find a free port", err)
			continue
		}
		b, err := bridge.New(bridge.Options{Logger: discardLogger(), Host: host, Port: port, Token: sec.token,
			SecretHex: sec.keyHex, Role: "node", Core: node.BridgeCore{}, Receipts: node.BridgeReceipts{}})
		if err == nil {
			if err = b.Start(ctx); err == nil {
				_ = b.Shutdown(ctx)
			}
		}
		p.check("bridge with Host "+host+" is refused naming 127.0.0.1, nothing bound",
			err != nil && strings.Contains(err.Error(), "127.0.0.1") && !listening(bridge.Addr("127.0.0.1", port)),
			"error: %s", errText(err))
	}
}

// percentile is the nearest-rank percentile of sorted samples.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}

func millis(d time.Duration) float64 { return math.Round(float64(d.Microseconds())) / 1000 }

// latencySamples is the number of samples per method of control_plane_latency.
const latencySamples = 50

// checkControlPlaneLatency measures ping, status and list_skills over the bridge.
func checkControlPlaneLatency(ctx context.Context, g *harness, p *probe) {
	// The per-connection rate limit (20/s by default) would refuse a burst of 150
	// requests; it is policy, not latency, so this node runs with it off.
	n, err := g.startNode(ctx, "latency", nodeOpts{args: []string{"--bridge-rate", "0"}})
	defer n.close()
	if !p.check("node started", err == nil, "%s", errText(err)) {
		return
	}
	p.note("bridge rate limit off on this node; 3 warm-up calls per method are not counted; one connection, sequential calls")
	c, err := n.dial(ctx)
	if !p.check("dial the bridge", err == nil, "%s", errText(err)) {
		return
	}
	defer c.Close()
	figs := map[string]any{}
	var parts []string
	for _, method := range []string{"ping", "status", "list_skills"} {
		var samples []time.Duration
		failures := 0
		for i := range latencySamples + 3 {
			t0 := time.Now()
			r, err := call(ctx, c, method, nil)
			d := time.Since(t0)
			if err != nil || r.resp.Error != nil {
				failures++
				continue
			}
			if i >= 3 {
				samples = append(samples, d)
			}
		}
		figs[method] = judgeLatency(p, method, samples, failures) // sorts samples
		parts = append(parts, latencySummary(method, samples))
	}
	p.figure("latency", figs)
	p.figure("summary", strings.Join(parts, "; "))
}

// judgeLatency records the assertions (every call answered, p95 < 200 ms) and the
// warning (p95 > 50 ms) for one method's samples, and returns its figures.
func judgeLatency(p *probe, method string, samples []time.Duration, failures int) map[string]any {
	sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
	p50, p95, p99 := percentile(samples, 0.50), percentile(samples, 0.95), percentile(samples, 0.99)
	p.check(method+": every call answered", failures == 0 && len(samples) == latencySamples, "%d failures, %d samples", failures, len(samples))
	p.check(method+": p95 < 200 ms", len(samples) > 0 && p95 < 200*time.Millisecond, "p50 %.3f ms, p95 %.3f ms, p99 %.3f ms", millis(p50), millis(p95), millis(p99))
	if p95 > 50*time.Millisecond {
		p.warn("%s p95 %.1f ms is over 50 ms", method, millis(p95))
	}
	return map[string]any{"samples": len(samples), "p50_ms": millis(p50), "p95_ms": millis(p95), "p99_ms": millis(p99)}
}

// latencySummary is one method's p50/p95/p99 on one line (samples sorted).
func latencySummary(method string, sorted []time.Duration) string {
	return fmt.Sprintf("%s p50/p95/p99 %.2f/%.2f/%.2f ms", method, millis(percentile(sorted, 0.5)),
		millis(percentile(sorted, 0.95)), millis(percentile(sorted, 0.99)))
}

// queries are two different questions the seeded data lake (bizra's own docs)
// answers with evidence.
var queries = []string{"what does the bridge answer to a stale timestamp", "which metrics signal query health"}

// answer is the part of POST /v1/query the gate checks.
type answer struct {
	Success bool `json:"success"`
	Quality struct {
		SNR     *float64 `json:"snr"`
		Ihsan   *float64 `json:"ihsan"`
		SNROK   bool     `json:"snr_ok"`
		Verdict string   `json:"verdict"`
	} `json:"quality"`
	Evidence []struct {
		Source string  `json:"source"`
		Score  float64 `json:"score"`
	} `json:"evidence"`
	GraphHash string       `json:"graph_hash"`
	Receipt   *receipt.Ref `json:"receipt"`
}

func inUnit(f *float64) bool { return f != nil && *f > 0 && *f <= 1 }

// checkQueryPipeline: one query end to end over HTTP: computed scores, an SEL episode
// committed, a chain that verifies.
func checkQueryPipeline(ctx context.Context, g *harness, p *probe) {
	n, err := g.startNode(ctx, "query", nodeOpts{})
	defer n.close()
	if !p.check("node started", err == nil, "%s", errText(err)) {
		return
	}
	var answers []answer
	for _, q := range queries {
		code, body, _, err := n.httpDo(ctx, http.MethodPost, "/v1/query", map[string]any{"query": q, "timeout_ms": 10000})
		var a answer
		if err == nil {
			err = json.Unmarshal(body, &a)
		}
		if !p.check(fmt.Sprintf("POST /v1/query %q: HTTP 200", q), err == nil && code == 200, "HTTP %d %s", code, errText(err)) {
			return
		}
		p.check(fmt.Sprintf("%q succeeded, APPROVED, snr_ok", q), a.Success && a.Quality.SNROK && a.Quality.Verdict == "APPROVED",
			"success %v snr_ok %v verdict %s", a.Success, a.Quality.SNROK, a.Quality.Verdict)
		p.check(fmt.Sprintf("%q: snr and ihsan computed in (0, 1]", q), inUnit(a.Quality.SNR) && inUnit(a.Quality.Ihsan), "snr %v ihsan %v", deref(a.Quality.SNR), deref(a.Quality.Ihsan))
		evOK := len(a.Evidence) > 0
		for _, e := range a.Evidence {
			evOK = evOK && e.Source != "" && e.Score > 0 && e.Score <= 1
		}
		p.check(fmt.Sprintf("%q: evidence with scores", q), evOK, "%d passages", len(a.Evidence))
		p.check(fmt.Sprintf("%q: graph hash and receipt", q), len(a.GraphHash) == 64 && a.Receipt != nil && receipt.ValidID(a.Receipt.ReceiptID), "")
		answers = append(answers, a)
	}
	a, b := answers[0], answers[1]
	p.check("two different queries get different scores (not constant)", scoresDiffer(a, b),
		"snr %v vs %v, ihsan %v vs %v", deref(a.Quality.SNR), deref(b.Quality.SNR), deref(a.Quality.Ihsan), deref(b.Quality.Ihsan))
	p.check("and different graph hashes", a.GraphHash != b.GraphHash, "")
	p.figure("scores", []map[string]any{{"query": queries[0], "snr": deref(a.Quality.SNR), "ihsan": deref(a.Quality.Ihsan)},
		{"query": queries[1], "snr": deref(b.Quality.SNR), "ihsan": deref(b.Quality.Ihsan)}})

	var eps struct {
		Total     int    `json:"total"`
		ChainHead string `json:"chain_head"`
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		err = n.getJSON(ctx, "/v1/sel/episodes?limit=10", &eps)
		if err != nil || eps.Total >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	p.check("both episodes committed to the experience ledger (GET /v1/sel/episodes)", err == nil && eps.Total >= 2, "total %d %s", eps.Total, errText(err))
	var sv ledger.Verification
	err = n.getJSON(ctx, "/v1/sel/verify", &sv)
	p.check("GET /v1/sel/verify: the chain verifies", err == nil && sv.Valid && sv.Episodes >= 2 && sv.ChainHead != "",
		"valid %v episodes %d %s", sv.Valid, sv.Episodes, errText(err))
	n.close()
	dv, err := ledger.VerifyDir(filepath.Join(n.state, "sel"))
	p.check("after shutdown the ledger folder verifies on its own (ledger.VerifyDir)", err == nil && dv.Valid && dv.Episodes == sv.Episodes && dv.ChainHead == sv.ChainHead,
		"valid %v episodes %d head %s %s", dv.Valid, dv.Episodes, trunc(dv.ChainHead, 16), errText(err))
	p.figure("summary", fmt.Sprintf("snr %.3f/%.3f, %d episodes, chain valid", deref(a.Quality.SNR), deref(b.Quality.SNR), dv.Episodes))
}

// scoresDiffer reports whether two answers carry computed scores that differ.
func scoresDiffer(a, b answer) bool {
	if !inUnit(a.Quality.SNR) || !inUnit(b.Quality.SNR) || !inUnit(a.Quality.Ihsan) || !inUnit(b.Quality.Ihsan) {
		return false
	}
	return *a.Quality.SNR != *b.Quality.SNR || *a.Quality.Ihsan != *b.Quality.Ihsan
}

// deref is *f, or -1 for a score that was not computed.
func deref(f *float64) float64 {
	if f == nil {
		return -1
	}
	return *f
}
