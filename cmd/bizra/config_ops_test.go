package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
	"time"
)

// TestOpsFlags: --access-log (on by default), --otlp-endpoint, --pprof and
// --pprof-allow-remote, from flags and the environment, and the one-line refusals.
func TestOpsFlags(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		wantErr string
		check   func(*config) bool
	}{
		{"defaults", nil, nil, "", func(c *config) bool {
			return c.AccessLog && c.OTLPEndpoint == "" && c.Pprof == "" && !c.PprofAllowRemote
		}},
		{"access log off by flag", nil, []string{"--access-log=false"}, "", func(c *config) bool { return !c.AccessLog }},
		{"access log off by env", map[string]string{"BIZRA_ACCESS_LOG": "off"}, nil, "", func(c *config) bool { return !c.AccessLog }},
		{"access log flag beats env", map[string]string{"BIZRA_ACCESS_LOG": "0"}, []string{"--access-log"}, "", func(c *config) bool { return c.AccessLog }},
		{"bad access log env", map[string]string{"BIZRA_ACCESS_LOG": "maybe"}, nil, "BIZRA_ACCESS_LOG", nil},
		{"otlp", nil, []string{"--otlp-endpoint", "http://127.0.0.1:4318"}, "", func(c *config) bool { return c.OTLPEndpoint == "http://127.0.0.1:4318" }},
		{"otlp env", map[string]string{"BIZRA_OTLP_ENDPOINT": "https://otel.example/v1/traces"}, nil, "", func(c *config) bool { return c.OTLPEndpoint == "https://otel.example/v1/traces" }},
		{"otlp without scheme", nil, []string{"--otlp-endpoint", "127.0.0.1:4318"}, "--otlp-endpoint", nil},
		{"otlp grpc scheme", nil, []string{"--otlp-endpoint", "grpc://127.0.0.1:4317"}, "--otlp-endpoint", nil},
		{"pprof loopback", nil, []string{"--pprof", "127.0.0.1:6060"}, "", func(c *config) bool { return c.Pprof == "127.0.0.1:6060" }},
		{"pprof localhost", nil, []string{"--pprof", "localhost:0"}, "", func(c *config) bool { return c.Pprof == "localhost:0" }},
		{"pprof env", map[string]string{"BIZRA_PPROF": "[::1]:6060"}, nil, "", func(c *config) bool { return c.Pprof == "[::1]:6060" }},
		{"pprof remote refused", nil, []string{"--pprof", "0.0.0.0:6060"}, "--pprof-allow-remote", nil},
		{"pprof all interfaces refused", nil, []string{"--pprof", ":6060"}, "not a loopback address", nil},
		{"pprof remote allowed", nil, []string{"--pprof", "0.0.0.0:6060", "--pprof-allow-remote"}, "", func(c *config) bool { return c.PprofAllowRemote }},
		{"pprof no port", nil, []string{"--pprof", "127.0.0.1"}, "want host:port", nil},
		{"pprof bad port", nil, []string{"--pprof", "127.0.0.1:70000"}, "want host:port", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, cfg, err := runFlags(tt.env, tt.args)
			if tt.wantErr != "" {
				wantOneLineError(t, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(cfg) {
				t.Errorf("config %+v", cfg)
			}
		})
	}
}

// TestLogDurationsInMs: the node's logger writes every Duration as float ms under
// key_ms, in attributes, With attributes and groups; other values are untouched.
func TestLogDurationsInMs(t *testing.T) {
	var buf bytes.Buffer
	log := newLogger(&buf, &config{LogLevel: "info", LogFormat: "json"})
	log.With("startup", 2*time.Second).Info("x", "took", 1500*time.Microsecond, "delay_ms", 3*time.Millisecond,
		slog.Group("g", "wait", time.Minute), "n", 5, "s", "1s")
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("%q: %v", buf.String(), err)
	}
	tests := []struct {
		key  string
		want any
	}{
		{"took_ms", 1.5}, {"delay_ms", 3.0}, {"startup_ms", 2000.0}, {"n", 5.0}, {"s", "1s"},
	}
	for _, tt := range tests {
		if m[tt.key] != tt.want {
			t.Errorf("%s = %v (%T), want %v; line %s", tt.key, m[tt.key], m[tt.key], tt.want, buf.String())
		}
	}
	if g, _ := m["g"].(map[string]any); g["wait_ms"] != 60000.0 {
		t.Errorf("group: %v", m["g"])
	}
	for _, k := range []string{"took", "startup"} {
		if _, ok := m[k]; ok {
			t.Errorf("%s still logged as a duration", k)
		}
	}
}
