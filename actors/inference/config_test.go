package inference

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestConfigFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		want    []BackendConfig
		wantErr string // substring naming the variable
	}{
		{name: "nothing", env: nil, want: nil},
		{name: "llm url list with model and key",
			env: map[string]string{"BIZRA_LLM_URL": "http://10.0.0.5:8000/v1, localhost:1234", "BIZRA_LLM_MODEL": "qwen3", "BIZRA_LLM_API_KEY": "k"},
			want: []BackendConfig{
				{Name: "llm", Kind: KindOpenAI, URL: "http://10.0.0.5:8000/v1", Model: "qwen3", APIKey: "k"},
				{Name: "llm-2", Kind: KindOpenAI, URL: "http://localhost:1234/v1", Model: "qwen3", APIKey: "k"},
			}},
		{name: "https with path kept, trailing slash trimmed",
			env:  map[string]string{"BIZRA_LLM_URL": "https://api.example.com/openai/v1/"},
			want: []BackendConfig{{Name: "llm", Kind: KindOpenAI, URL: "https://api.example.com/openai/v1"}}},
		{name: "lmstudio url",
			env:  map[string]string{"LMSTUDIO_URL": "http://127.0.0.1:1234", "LM_API_TOKEN": "tok"},
			want: []BackendConfig{{Name: "lmstudio", Kind: KindOpenAI, URL: "http://127.0.0.1:1234/v1", APIKey: "tok"}}},
		{name: "lmstudio host and port",
			env:  map[string]string{"LMSTUDIO_HOST": "192.168.1.9", "LMSTUDIO_PORT": "4321"},
			want: []BackendConfig{{Name: "lmstudio", Kind: KindOpenAI, URL: "http://192.168.1.9:4321/v1"}}},
		{name: "lmstudio host default port",
			env:  map[string]string{"LMSTUDIO_HOST": "studio.lan"},
			want: []BackendConfig{{Name: "lmstudio", Kind: KindOpenAI, URL: "http://studio.lan:1234/v1"}}},
		{name: "ollama host bare",
			env:  map[string]string{"OLLAMA_HOST": "127.0.0.1:11434"},
			want: []BackendConfig{{Name: "ollama", Kind: KindOllama, URL: "http://127.0.0.1:11434"}}},
		{name: "ollama host without port, bind address",
			env:  map[string]string{"OLLAMA_HOST": "0.0.0.0"},
			want: []BackendConfig{{Name: "ollama", Kind: KindOllama, URL: "http://127.0.0.1:11434"}}},
		{name: "ollama host with scheme",
			env:  map[string]string{"OLLAMA_HOST": "https://gpu.lan"},
			want: []BackendConfig{{Name: "ollama", Kind: KindOllama, URL: "https://gpu.lan:11434"}}},
		{name: "ollama ipv6",
			env:  map[string]string{"OLLAMA_HOST": "[::1]:9999"},
			want: []BackendConfig{{Name: "ollama", Kind: KindOllama, URL: "http://[::1]:9999"}}},
		{name: "ollama url wins over host, /v1 trimmed",
			env:  map[string]string{"OLLAMA_URL": "http://box:11434/v1", "OLLAMA_HOST": "other:1"},
			want: []BackendConfig{{Name: "ollama", Kind: KindOllama, URL: "http://box:11434"}}},
		{name: "all three in order, model everywhere, duplicates dropped",
			env: map[string]string{"BIZRA_LLM_URL": "http://a:1/v1,http://a:1/v1", "LMSTUDIO_URL": "http://b:2",
				"OLLAMA_HOST": "c", "BIZRA_LLM_MODEL": "m"},
			want: []BackendConfig{
				{Name: "llm", Kind: KindOpenAI, URL: "http://a:1/v1", Model: "m"},
				{Name: "lmstudio", Kind: KindOpenAI, URL: "http://b:2/v1", Model: "m"},
				{Name: "ollama", Kind: KindOllama, URL: "http://c:11434", Model: "m"},
			}},
		{name: "tools on the llm url backends only",
			env: map[string]string{"BIZRA_LLM_URL": "http://a:1/v1", "LMSTUDIO_URL": "http://b:2", "BIZRA_LLM_TOOLS": "yes"},
			want: []BackendConfig{
				{Name: "llm", Kind: KindOpenAI, URL: "http://a:1/v1", Tools: true},
				{Name: "lmstudio", Kind: KindOpenAI, URL: "http://b:2/v1"},
			}},
		{name: "tools off", env: map[string]string{"BIZRA_LLM_URL": "http://a:1/v1", "BIZRA_LLM_TOOLS": "0"},
			want: []BackendConfig{{Name: "llm", Kind: KindOpenAI, URL: "http://a:1/v1"}}},
		{name: "tools not a boolean", env: map[string]string{"BIZRA_LLM_URL": "http://a:1/v1", "BIZRA_LLM_TOOLS": "maybe"}, wantErr: "BIZRA_LLM_TOOLS"},
		{name: "empty list entry", env: map[string]string{"BIZRA_LLM_URL": "http://a:1,,http://b:2"}, wantErr: "BIZRA_LLM_URL entry 2"},
		{name: "bad scheme", env: map[string]string{"BIZRA_LLM_URL": "ftp://a"}, wantErr: "BIZRA_LLM_URL entry 1"},
		{name: "bad port", env: map[string]string{"BIZRA_LLM_URL": "http://a:99999"}, wantErr: "BIZRA_LLM_URL"},
		{name: "non numeric port", env: map[string]string{"OLLAMA_HOST": "box:abc"}, wantErr: "OLLAMA_HOST"},
		{name: "credentials", env: map[string]string{"LMSTUDIO_URL": "http://u:p@h:1"}, wantErr: "LMSTUDIO_URL"},
		{name: "query string", env: map[string]string{"OLLAMA_URL": "http://h:1/?x=1"}, wantErr: "OLLAMA_URL"},
		{name: "lmstudio port not a number", env: map[string]string{"LMSTUDIO_HOST": "h", "LMSTUDIO_PORT": "12a"}, wantErr: "LMSTUDIO_PORT"},
		{name: "lmstudio host with scheme", env: map[string]string{"LMSTUDIO_HOST": "http://h"}, wantErr: "LMSTUDIO_HOST"},
		{name: "space in host", env: map[string]string{"BIZRA_LLM_URL": "http://a b:1"}, wantErr: "BIZRA_LLM_URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ConfigFromEnv(func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want ErrInvalidConfig naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(cfg.Backends, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", cfg.Backends, tc.want)
			}
		})
	}
}

func TestRetryBackoff(t *testing.T) {
	r := Retry{Min: 10 * time.Millisecond, Max: 80 * time.Millisecond, Attempts: 5}.withDefaults()
	for n, full := range []time.Duration{10, 20, 40, 80, 80, 80} {
		full *= time.Millisecond
		seen := map[time.Duration]bool{}
		for range 50 {
			d := r.backoff(n)
			if d < full/2 || d > full {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", n, d, full/2, full)
			}
			seen[d] = true
		}
		if len(seen) < 5 {
			t.Fatalf("backoff(%d) not jittered: %v", n, seen)
		}
	}
	if d := (Retry{}).withDefaults(); d.Min != 100*time.Millisecond || d.Max != 2*time.Second || d.Attempts != 3 {
		t.Fatalf("defaults %+v", d)
	}
	if d := r.backoff(1000); d > r.Max {
		t.Fatalf("huge n: %v", d)
	}
}
