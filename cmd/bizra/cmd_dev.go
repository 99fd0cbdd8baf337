package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"net"
	"strconv"
	"time"

	"github.com/bizra/bizra/actors/inference/mockllm"
)

var cmdDev = toolGroup("dev", []subcommand{
	{"mock-llm", "serve a mock OpenAI/Ollama backend until SIGINT/SIGTERM", cmdDevMockLLM},
})

// cmdDevMockLLM is `bizra dev mock-llm`: the mockllm server in the foreground. It binds
// loopback unless --allow-remote, prints the listening address and serves until ctx is
// cancelled (SIGINT/SIGTERM).
func cmdDevMockLLM(ctx context.Context, a *app, args []string) int {
	const cmd = "dev mock-llm"
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	host := fs.String("host", "127.0.0.1", "listen host (loopback only unless --allow-remote)")
	port := fs.Int("port", 11434, "listen port, 0 picks a free one")
	latency := fs.Duration("latency", 0, "delay of every chat answer")
	errorRate := fs.Float64("error-rate", 0, "probability in [0,1] that a chat request gets HTTP 500")
	seed := fs.Uint64("seed", 1, "seed of the error-rate draws")
	var models stringList
	fs.Var(&models, "model", "model to list and accept (repeatable; default mock-small and mock-large)")
	apiKey := fs.String("api-key", "", "require Authorization: Bearer KEY")
	allowRemote := fs.Bool("allow-remote", false, "allow a non-loopback --host")
	pos, code := toolFlags(a, fs, args, "bizra dev mock-llm [--host 127.0.0.1] [--port 11434] [--latency 0s] [--error-rate 0] [--model NAME]... [--allow-remote]")
	if code >= 0 {
		return code
	}
	if len(pos) > 0 {
		return toolUsage(a, cmd, "unexpected argument %q", pos[0])
	}
	if *port < 0 || *port > 65535 {
		return toolUsage(a, cmd, "invalid --port %d: want 0..65535", *port)
	}
	if *latency < 0 {
		return toolUsage(a, cmd, "invalid --latency %s: want 0 or more", *latency)
	}
	if math.IsNaN(*errorRate) || *errorRate < 0 || *errorRate > 1 {
		return toolUsage(a, cmd, "invalid --error-rate %v: want a number in [0,1]", *errorRate)
	}
	if !*allowRemote && !isLoopbackHost(*host) {
		return toolUsage(a, cmd, "refusing non-loopback --host %q without --allow-remote", *host)
	}
	for _, m := range models {
		if m == "" {
			return toolUsage(a, cmd, "invalid --model: empty name")
		}
	}
	srv := mockllm.New(mockllm.Options{
		Addr:      net.JoinHostPort(*host, strconv.Itoa(*port)),
		Models:    models,
		Latency:   *latency,
		ErrorRate: *errorRate,
		Seed:      *seed,
		APIKey:    *apiKey,
	})
	addr, err := srv.Start(ctx)
	if err != nil {
		return toolFail(a, cmd, err)
	}
	fmt.Fprintf(a.stdout, "mock-llm listening on http://%s (OpenAI base %s, Ollama base %s); Ctrl-C stops it\n",
		addr, srv.URL(), srv.OllamaURL())
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return toolFail(a, cmd, fmt.Errorf("shutdown: %w", err))
	}
	fmt.Fprintf(a.stderr, "mock-llm stopped after %d requests\n", srv.Total())
	return 0
}

// isLoopbackHost reports whether host names only a loopback address.
func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
