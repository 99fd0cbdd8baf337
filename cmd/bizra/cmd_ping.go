package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/bizra/bizra/bridge"
)

// cmdPing is `bizra ping` (runbook 3.3): one authenticated ping of the desktop bridge.
// The token comes from BIZRA_BRIDGE_TOKEN in the environment, then <state>/.env.
func cmdPing(ctx context.Context, a *app, args []string) int {
	const cmd = "ping"
	env, state, envErr := newEnv(args, a.getenv)
	if envErr != nil {
		return toolFail(a, cmd, envErr)
	}
	defPort, portErr := env.integer("BIZRA_BRIDGE_PORT", bridge.DefaultPort, 1, 65535)
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.String("state-dir", state, "state folder whose .env may hold BIZRA_BRIDGE_TOKEN (BIZRA_STATE_DIR)")
	host := fs.String("bridge-host", bridge.DefaultHost, "bridge host")
	port := fs.Int("bridge-port", defPort, "bridge port (BIZRA_BRIDGE_PORT)")
	timeout := fs.Duration("timeout", bridge.DefaultClientTimeout, "time allowed for connecting and the answer")
	sign := fs.Bool("sign", false, "add X-BIZRA-SIG (needed when the bridge runs with --bridge-require-sig)")
	pos, code := toolFlags(a, fs, args, "bizra ping [--bridge-host H] [--bridge-port P] [--timeout D] [--sign] [--state-dir DIR]")
	if code >= 0 {
		return code
	}
	if len(pos) > 0 {
		return toolUsage(a, cmd, "unexpected argument %q", pos[0])
	}
	if portErr != nil && !flagSet(fs, "bridge-port") {
		return toolUsage(a, cmd, "%v", portErr)
	}
	if *port < 1 || *port > 65535 {
		return toolUsage(a, cmd, "invalid --bridge-port %d: want 1..65535", *port)
	}
	if *timeout <= 0 {
		return toolUsage(a, cmd, "invalid --timeout %s: want a positive duration", *timeout)
	}
	token := env.str("BIZRA_BRIDGE_TOKEN", "")
	if token == "" {
		return toolFail(a, cmd, fmt.Errorf("BIZRA_BRIDGE_TOKEN is not set (environment or %s/.env); run: bizra init", state))
	}
	addr := bridge.Addr(*host, *port)
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	start := time.Now()
	line, err := pingBridge(ctx, addr, token, *sign)
	elapsed := time.Since(start)
	if err != nil {
		if !strings.Contains(err.Error(), addr) {
			err = fmt.Errorf("%s: %w", addr, err)
		}
		fmt.Fprintf(a.stderr, "bizra %s: %v\n", cmd, err)
		if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, context.DeadlineExceeded) {
			fmt.Fprintf(a.stderr, "hint (runbook scenario D): is the bridge running? check `ss -tlnp | grep %d`; "+
				"it refuses to start without BIZRA_BRIDGE_TOKEN and BIZRA_RECEIPT_PRIVATE_KEY_HEX (run `bizra init`, then `bizra run`)\n", *port)
		}
		return 1
	}
	a.stdout.Write(bytes.TrimRight(line, "\n"))
	fmt.Fprintln(a.stdout)
	resp, err := bridge.ParseResponse(line)
	if err != nil {
		return toolFail(a, cmd, fmt.Errorf("%s answered a line that is not a JSON-RPC response: %w", addr, err))
	}
	if resp.Error != nil {
		hint := ""
		switch resp.Error.Code {
		case bridge.CodeAuthInvalid, bridge.CodeAuthMissing:
			hint = "; the token differs from the bridge's BIZRA_BRIDGE_TOKEN"
		case bridge.CodeAuthStale:
			hint = "; the clocks of this machine and the bridge differ"
		}
		return toolFail(a, cmd, fmt.Errorf("%s refused the ping: %d %s%s", addr, resp.Error.Code, resp.Error.Message, hint))
	}
	var result struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(resp.Result, &result); err != nil || result.Status != "alive" {
		return toolFail(a, cmd, fmt.Errorf("%s answered without status alive", addr))
	}
	fmt.Fprintf(a.stderr, "bridge %s alive (%.1f ms round trip)\n", addr, float64(elapsed.Microseconds())/1000)
	return 0
}

// pingBridge sends one ping, signed when sign is set.
func pingBridge(ctx context.Context, addr, token string, sign bool) ([]byte, error) {
	if !sign {
		return bridge.Ping(ctx, addr, token)
	}
	c, err := bridge.Dial(ctx, addr, token)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.Sign = true
	return c.Call(ctx, "ping", nil)
}

// flagSet reports whether name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			found = true
		}
	})
	return found
}
