package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// clientFlags are shared by the commands that talk to a running node over HTTP.
type clientFlags struct {
	api     string
	apiKey  string
	timeout time.Duration
}

func bindClientFlags(fs *flag.FlagSet, a *app, cf *clientFlags) {
	host, port := envOr(a, "BIZRA_API_HOST", "127.0.0.1"), envOr(a, "BIZRA_API_PORT", "8080")
	fs.StringVar(&cf.api, "api", "http://"+host+":"+port, "base URL of the running node's API")
	fs.StringVar(&cf.apiKey, "api-key", firstKey(envOr(a, "BIZRA_API_KEYS", "")), "API key to send (default: the first of BIZRA_API_KEYS)")
	fs.DurationVar(&cf.timeout, "timeout", 10*time.Second, "request timeout")
}

func firstKey(list string) string {
	k, _, _ := strings.Cut(list, ",")
	return strings.TrimSpace(k)
}

// get performs one GET and returns the status and body.
func (cf *clientFlags) do(ctx context.Context, method, path string, body io.Reader) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, cf.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(cf.api, "/")+path, body)
	if err != nil {
		return 0, nil, fmt.Errorf("bad --api %q: %w", cf.api, err)
	}
	if cf.apiKey != "" {
		req.Header.Set("X-API-Key", cf.apiKey)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("cannot reach the node at %s: %w", cf.api, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("read %s%s: %w", cf.api, path, err)
	}
	return resp.StatusCode, b, nil
}

func clientCommand(name, path string, okOnlyOn200 bool) func(ctx context.Context, a *app, args []string) int {
	return func(ctx context.Context, a *app, args []string) int {
		fs := flag.NewFlagSet(name, flag.ContinueOnError)
		var cf clientFlags
		bindClientFlags(fs, a, &cf)
		if code := parseFlags(fs, args, "bizra "+name+" [--api URL] [--api-key KEY]"); code >= 0 {
			return code
		}
		status, body, err := cf.do(ctx, http.MethodGet, path, nil)
		if err != nil {
			fmt.Fprintf(a.stderr, "bizra %s: %v\n", name, err)
			return 1
		}
		a.stdout.Write(body)
		if len(body) > 0 && body[len(body)-1] != '\n' {
			fmt.Fprintln(a.stdout)
		}
		if status != http.StatusOK && (okOnlyOn200 || status >= 400) {
			fmt.Fprintf(a.stderr, "bizra %s: HTTP %d\n", name, status)
			return 1
		}
		return 0
	}
}

var (
	cmdStatus  = clientCommand("status", "/v1/status", true)
	cmdHealth  = clientCommand("health", "/v1/health", true)
	cmdMetrics = clientCommand("metrics", "/v1/metrics", true)
)
