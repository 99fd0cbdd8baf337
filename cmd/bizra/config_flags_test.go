package main

import (
	"flag"
	"io"
	"strings"
	"testing"
)

// runFlags binds the run flags over env (the environment a test gives), parses args
// and validates the result, as `bizra run` does before it starts anything; the flag
// set is returned for its help texts.
func runFlags(env map[string]string, args []string) (*flag.FlagSet, *config, error) {
	src := &envSource{getenv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }, dotenv: map[string]string{}}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg, err := bindRuntimeFlags(fs, src, "sovereign_state", true)
	if err == nil {
		err = fs.Parse(args)
	}
	if err == nil {
		err = cfg.validate()
	}
	return fs, cfg, err
}

// wantOneLineError fails t unless err is a one-line error naming want.
func wantOneLineError(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v; want one line naming %q", err, want)
	}
}
