package main

import (
	"flag"
	"strings"
	"testing"
	"time"
)

// TestBridgeSlotFlags: --bridge-auth-timeout and --bridge-max-conns-per-ip take their
// defaults from BIZRA_BRIDGE_AUTH_TIMEOUT and BIZRA_BRIDGE_MAX_CONNS_PER_IP, flags win,
// and bad values are one error naming the variable or flag.
func TestBridgeSlotFlags(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		timeout time.Duration
		perIP   int
		wantErr string // substring of the bind, parse or validate error
	}{
		{"defaults", nil, nil, 10 * time.Second, 256, ""},
		{"environment", map[string]string{"BIZRA_BRIDGE_AUTH_TIMEOUT": "3s", "BIZRA_BRIDGE_MAX_CONNS_PER_IP": "16"}, nil, 3 * time.Second, 16, ""},
		{"flag over environment", map[string]string{"BIZRA_BRIDGE_AUTH_TIMEOUT": "3s"}, []string{"--bridge-auth-timeout", "500ms", "--bridge-max-conns-per-ip", "8"}, 500 * time.Millisecond, 8, ""},
		{"bad timeout env", map[string]string{"BIZRA_BRIDGE_AUTH_TIMEOUT": "soon"}, nil, 0, 0, "BIZRA_BRIDGE_AUTH_TIMEOUT"},
		{"bad per-ip env", map[string]string{"BIZRA_BRIDGE_MAX_CONNS_PER_IP": "0"}, nil, 0, 0, "BIZRA_BRIDGE_MAX_CONNS_PER_IP"},
		{"zero timeout flag", nil, []string{"--bridge-auth-timeout", "0s"}, 0, 0, "--bridge-auth-timeout"},
		{"zero per-ip flag", nil, []string{"--bridge-max-conns-per-ip", "0"}, 0, 0, "--bridge-max-conns-per-ip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, cfg, err := runFlags(tt.env, tt.args)
			if tt.wantErr != "" {
				wantOneLineError(t, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.BridgeAuthTimeout != tt.timeout || cfg.BridgeMaxConnsPerIP != tt.perIP {
				t.Fatalf("auth timeout %v, per-ip %d; want %v, %d", cfg.BridgeAuthTimeout, cfg.BridgeMaxConnsPerIP, tt.timeout, tt.perIP)
			}
			for _, f := range []struct{ flag, env string }{{"bridge-auth-timeout", "BIZRA_BRIDGE_AUTH_TIMEOUT"}, {"bridge-max-conns-per-ip", "BIZRA_BRIDGE_MAX_CONNS_PER_IP"}} {
				if u := fs.Lookup(f.flag).Usage; !strings.Contains(u, f.env) {
					t.Fatalf("--%s help does not name %s: %q", f.flag, f.env, u)
				}
			}
		})
	}
	// Commands without the bridge (query) do not validate its flags.
	fs := flag.NewFlagSet("query", flag.ContinueOnError)
	cfg, err := bindRuntimeFlags(fs, &envSource{getenv: func(string) (string, bool) { return "", false }, dotenv: map[string]string{}}, "sovereign_state", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.validate(); err != nil {
		t.Fatalf("query config refused: %v", err)
	}
}

// TestFaultConfigEmptyAPIKeyRefused: an empty --api-key, or a BIZRA_API_KEYS of only
// commas and blanks, is refused in one line instead of starting with API keys off.
func TestFaultConfigEmptyAPIKeyRefused(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		args    []string
		wantErr string
		keys    int
	}{
		{"empty flag", nil, []string{"--api-key", ""}, "empty API key", 0},
		{"blank flag", nil, []string{"--api-key=  "}, "empty API key", 0},
		{"commas only env", map[string]string{"BIZRA_API_KEYS": ", ,"}, nil, "BIZRA_API_KEYS", 0},
		{"empty env is off", map[string]string{"BIZRA_API_KEYS": ""}, nil, "", 0},
		{"a key", nil, []string{"--api-key", " k1 "}, "", 1},
		{"env with a blank entry", map[string]string{"BIZRA_API_KEYS": "k1,,k2"}, nil, "", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, cfg, err := runFlags(tc.env, tc.args)
			if tc.wantErr != "" {
				wantOneLineError(t, err, tc.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(cfg.APIKeys) != tc.keys || (tc.keys == 1 && cfg.APIKeys[0] != "k1") {
				t.Fatalf("keys %q; want %d", cfg.APIKeys, tc.keys)
			}
		})
	}
}
