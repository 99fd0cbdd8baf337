package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/bizra/bizra/actors/receipt"
)

var cmdReceipt = toolGroup("receipt", []subcommand{
	{"verify", "verify a receipt document from FILE or - (stdin); exit 0 only when valid", cmdReceiptVerify},
	{"show", "print receipt ID from a running node (GET /v1/receipts/{id})", cmdReceiptShow},
})

func cmdReceiptVerify(_ context.Context, a *app, args []string) int {
	const cmd = "receipt verify"
	env, state, envErr := newEnv(args, a.getenv)
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.String("state-dir", state, "state folder whose .env may hold BIZRA_RECEIPT_PRIVATE_KEY_HEX (BIZRA_STATE_DIR)")
	asJSON := fs.Bool("json", false, "print {valid, reason, key_id, alg} as JSON (key_id and alg are empty when the signature could not be checked)")
	insecure := fs.Bool("insecure-test-keys", false, "accept a well-known test value of BIZRA_RECEIPT_PRIVATE_KEY_HEX")
	var trusted stringList
	fs.Var(&trusted, "trusted-key-id", "key id (16 hex, as /v1/status identity.signer_key_id shows) a receipt must be signed by to pass; repeatable; without it any key the receipt carries passes")
	pos, code := toolFlags(a, fs, args, "bizra receipt verify FILE|- [--json] [--trusted-key-id ID]... [--state-dir DIR]\n\n"+
		"Prints the signing key id. With --trusted-key-id, exit 0 only for a receipt signed by one of those keys.\n"+
		"Receipts are signed by the receipt key (derived from BIZRA_RECEIPT_PRIVATE_KEY_HEX), not by Node0's genesis\n"+
		"identity key, so the genesis pin (BIZRA_GENESIS_PUBLIC_KEY) does not make a receipt trusted.\n"+
		"Legacy hmac-sha256 receipts need the secret: BIZRA_RECEIPT_PRIVATE_KEY_HEX from the environment or <state>/.env.")
	if code >= 0 {
		return code
	}
	if len(pos) != 1 {
		return toolUsage(a, cmd, "want exactly one FILE or - (stdin), got %d arguments", len(pos))
	}
	for _, id := range trusted {
		if !isKeyID(id) {
			return toolUsage(a, cmd, "invalid --trusted-key-id %q: want 16 lower-case hex characters (a receipt key id)", truncateArg(id))
		}
	}
	opts := receipt.VerifyOptions{TrustedKeyIDs: trusted}
	if envErr != nil {
		// Only legacy receipts need the secret; say why it is unavailable and go on.
		fmt.Fprintf(a.stderr, "bizra %s: warning: %v; legacy hmac-sha256 receipts cannot be verified\n", cmd, envErr)
	} else if hexKey := env.str(receipt.EnvKey, ""); hexKey != "" {
		s, err := receipt.ParseSecretHex(hexKey, *insecure)
		if err != nil {
			return toolUsage(a, cmd, "invalid %s: %v", receipt.EnvKey, err)
		}
		opts.Secret = s
	}
	raw, err := readReceiptDoc(pos[0])
	if err != nil {
		return toolFail(a, cmd, err)
	}
	v := receipt.VerifyWith(bytes.TrimSpace(raw), opts)
	if len(trusted) == 0 && envErr == nil {
		if pin, ok := env.lookup("BIZRA_GENESIS_PUBLIC_KEY"); ok && pin != "" {
			fmt.Fprintf(a.stderr, "bizra %s: note: BIZRA_GENESIS_PUBLIC_KEY pins Node0's genesis key, not the receipt signer; pass --trusted-key-id to require a signer\n", cmd)
		}
	}
	if *asJSON {
		if err := printJSON(a.stdout, receiptVerdict{Valid: v.Valid, Reason: v.Reason, KeyID: v.KeyID, Alg: v.Alg}); err != nil {
			return toolFail(a, cmd, err)
		}
	} else if !v.Valid && v.KeyID != "" && len(trusted) > 0 {
		fmt.Fprintf(a.stdout, "invalid: untrusted key %s: the signature is good but key_id %s is not one of --trusted-key-id %s\n",
			v.KeyID, v.KeyID, strings.Join(trusted, ", "))
	} else if v.Valid {
		whose := ""
		if !opts.Secret.IsZero() && (v.KeyID == receipt.NewEd25519Signer(opts.Secret).KeyID() ||
			v.KeyID == receipt.NewSimpleSigner(opts.Secret).KeyID()) {
			whose = " (this node's key)"
		}
		fmt.Fprintf(a.stdout, "valid: alg %s, key_id %s%s\n", v.Alg, v.KeyID, whose)
	} else {
		fmt.Fprintf(a.stdout, "invalid: %s\n", v.Reason)
	}
	if !v.Valid {
		return 1
	}
	return 0
}

// receiptVerdict is `bizra receipt verify --json`: the verifier's {valid, reason} with
// the key id and algorithm that signed the receipt.
type receiptVerdict struct {
	Valid  bool   `json:"valid"`
	Reason string `json:"reason"`
	KeyID  string `json:"key_id"`
	Alg    string `json:"alg"`
}

// isKeyID reports whether s is a key id: 16 lower-case hex characters.
func isKeyID(s string) bool {
	if len(s) != 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// truncateArg shortens a bad argument for an error line.
func truncateArg(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// readReceiptDoc reads a receipt document from path ("-" is stdin), at most one byte
// past receipt.MaxReceiptBytes so that the verifier reports an oversized document.
func readReceiptDoc(path string) ([]byte, error) {
	var r io.Reader
	if path == "-" {
		r = os.Stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("read receipt: %w", err)
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, receipt.MaxReceiptBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read receipt %s: %w", path, err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, fmt.Errorf("read receipt %s: empty document", path)
	}
	return b, nil
}

func cmdReceiptShow(ctx context.Context, a *app, args []string) int {
	const cmd = "receipt show"
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	var cf clientFlags
	bindClientFlags(fs, a, &cf)
	pos, code := toolFlags(a, fs, args, "bizra receipt show ID [--api URL] [--api-key KEY] [--timeout D]")
	if code >= 0 {
		return code
	}
	if len(pos) != 1 {
		return toolUsage(a, cmd, "want exactly one receipt id, got %d arguments", len(pos))
	}
	id := pos[0]
	if !receipt.ValidID(id) {
		return toolUsage(a, cmd, "invalid receipt id %q: want <br|qr|sk>-<13 digits>-<16 lower-case hex>", id)
	}
	status, body, err := cf.do(ctx, http.MethodGet, "/v1/receipts/"+id, nil)
	if err != nil {
		// The receipt package has no read-only reader of its log (a Service takes the
		// folder's lock and repairs it), so there is no offline lookup to fall back on.
		return toolFail(a, cmd, fmt.Errorf("%w (offline lookup in <state>/receipts is not available; start the node or pass --api)", err))
	}
	switch {
	case status == http.StatusOK:
		a.stdout.Write(body)
		if len(body) > 0 && body[len(body)-1] != '\n' {
			fmt.Fprintln(a.stdout)
		}
		return 0
	case status == http.StatusNotFound:
		return toolFail(a, cmd, fmt.Errorf("receipt %s not found at %s: %s", id, cf.api, bytes.TrimSpace(body)))
	case status == http.StatusConflict:
		return toolFail(a, cmd, fmt.Errorf("receipt %s is not sealed yet; retry after the batch interval", id))
	default:
		return toolFail(a, cmd, fmt.Errorf("HTTP %d from %s: %s", status, cf.api, bytes.TrimSpace(body)))
	}
}
