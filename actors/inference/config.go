package inference

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Kind is the wire format of an external backend.
type Kind string

// Backend kinds.
const (
	KindOpenAI Kind = "openai" // POST {base}/chat/completions, GET {base}/models
	KindOllama Kind = "ollama" // GET {base}/api/tags, POST {base}/api/chat
)

// BackendConfig is one external backend.
type BackendConfig struct {
	// Name is the backend's label in metrics and status: bounded, chosen by the
	// configuration ("llm", "llm-2", "lmstudio", "ollama").
	Name string
	Kind Kind
	// URL is the base: for KindOpenAI up to and including the API version
	// ("http://127.0.0.1:1234/v1"), for KindOllama the server root ("http://127.0.0.1:11434").
	URL string
	// Model is the model to ask; "" discovers it (first of GET /models or /api/tags).
	Model string
	// APIKey is sent as "Authorization: Bearer <key>" when not empty.
	APIKey string
	// Tools says that this backend's model takes tools, tool_choice, functions and
	// response_format (OpenAI-compatible backends only): the bizra model then hands
	// them to it instead of refusing them (Service.ToolModel). false: it may not.
	Tools bool
}

// Config lists the external backends in fallback order. Empty: the embedded engine is
// the backend.
type Config struct {
	Backends []BackendConfig
}

// Default ports.
const (
	DefaultOllamaPort   = "11434"
	DefaultLMStudioPort = "1234"
)

// ConfigFromEnv builds the backend list from the environment (cmd/ passes os.Getenv):
//
//   - BIZRA_LLM_URL: comma-separated OpenAI-compatible bases, tried in order (names
//     "llm", "llm-2", ...). A base without a path gets "/v1"; one without a scheme gets
//     "http://".
//   - BIZRA_LLM_MODEL: the model for every backend (else each discovers its first listed
//     model); BIZRA_LLM_API_KEY: bearer key for the BIZRA_LLM_URL backends.
//   - BIZRA_LLM_TOOLS: a boolean (1/true/yes/on, 0/false/no/off): the BIZRA_LLM_URL
//     backends take tools and response_format (BackendConfig.Tools).
//   - LMSTUDIO_URL, or LMSTUDIO_HOST (+ LMSTUDIO_PORT, default 1234): LM Studio through the
//     OpenAI-compatible client (name "lmstudio"), key LM_API_TOKEN.
//   - OLLAMA_URL or OLLAMA_HOST (with or without scheme, default port 11434; a bind
//     address such as 0.0.0.0 means this machine): Ollama native (name "ollama").
//
// Order: BIZRA_LLM_URL entries, then LM Studio, then Ollama; a base already listed is
// not added twice. A malformed value gives an error wrapping ErrInvalidConfig that names
// the variable.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	var cfg Config
	if getenv == nil {
		return cfg, nil
	}
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	model := get("BIZRA_LLM_MODEL")
	seen := map[string]bool{}
	add := func(b BackendConfig) {
		if seen[b.URL] {
			return
		}
		seen[b.URL] = true
		cfg.Backends = append(cfg.Backends, b)
	}

	tools := false
	if v := get("BIZRA_LLM_TOOLS"); v != "" {
		switch strings.ToLower(v) {
		case "1", "true", "yes", "on":
			tools = true
		case "0", "false", "no", "off":
		default:
			return Config{}, fmt.Errorf("BIZRA_LLM_TOOLS %q: not a boolean (1/true/yes/on, 0/false/no/off): %w", v, ErrInvalidConfig)
		}
	}
	if v := get("BIZRA_LLM_URL"); v != "" {
		key := get("BIZRA_LLM_API_KEY")
		n := 0
		for i, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				return Config{}, fmt.Errorf("BIZRA_LLM_URL entry %d is empty: %w", i+1, ErrInvalidConfig)
			}
			base, err := parseBase(part, "", "/v1")
			if err != nil {
				return Config{}, fmt.Errorf("BIZRA_LLM_URL entry %d %q: %v: %w", i+1, part, err, ErrInvalidConfig)
			}
			n++
			name := "llm"
			if n > 1 {
				name = "llm-" + strconv.Itoa(n)
			}
			add(BackendConfig{Name: name, Kind: KindOpenAI, URL: base, Model: model, APIKey: key, Tools: tools})
		}
	}

	lmURL, lmHost, lmPort := get("LMSTUDIO_URL"), get("LMSTUDIO_HOST"), get("LMSTUDIO_PORT")
	switch {
	case lmURL != "":
		base, err := parseBase(lmURL, DefaultLMStudioPort, "/v1")
		if err != nil {
			return Config{}, fmt.Errorf("LMSTUDIO_URL %q: %v: %w", lmURL, err, ErrInvalidConfig)
		}
		add(BackendConfig{Name: "lmstudio", Kind: KindOpenAI, URL: base, Model: model, APIKey: get("LM_API_TOKEN")})
	case lmHost != "" || lmPort != "":
		if lmPort != "" {
			if p, err := strconv.Atoi(lmPort); err != nil || p < 1 || p > 65535 {
				return Config{}, fmt.Errorf("LMSTUDIO_PORT %q: not a port number: %w", lmPort, ErrInvalidConfig)
			}
		} else {
			lmPort = DefaultLMStudioPort
		}
		host := lmHost
		if host == "" {
			host = "127.0.0.1"
		}
		if strings.ContainsAny(host, "/:@ ") && !strings.HasPrefix(host, "[") {
			return Config{}, fmt.Errorf("LMSTUDIO_HOST %q: want a host name or address without scheme or port: %w", lmHost, ErrInvalidConfig)
		}
		base, err := parseBase(net.JoinHostPort(strings.Trim(host, "[]"), lmPort), DefaultLMStudioPort, "/v1")
		if err != nil {
			return Config{}, fmt.Errorf("LMSTUDIO_HOST %q: %v: %w", lmHost, err, ErrInvalidConfig)
		}
		add(BackendConfig{Name: "lmstudio", Kind: KindOpenAI, URL: base, Model: model, APIKey: get("LM_API_TOKEN")})
	}

	for _, k := range []string{"OLLAMA_URL", "OLLAMA_HOST"} {
		v := get(k)
		if v == "" {
			continue
		}
		base, err := parseBase(v, DefaultOllamaPort, "")
		if err != nil {
			return Config{}, fmt.Errorf("%s %q: %v: %w", k, v, err, ErrInvalidConfig)
		}
		// Ollama's native API lives at the server root; tolerate a copied "/v1" base.
		base = strings.TrimSuffix(base, "/v1")
		add(BackendConfig{Name: "ollama", Kind: KindOllama, URL: base, Model: model})
		break
	}
	return cfg, nil
}

// parseBase normalises a base URL: scheme http unless given (http or https only), the
// default port when none is given and defPort is set, an unspecified or empty host
// becomes 127.0.0.1, an empty path becomes defPath, no trailing slash, no query or
// fragment, no credentials.
func parseBase(raw, defPort, defPath string) (string, error) {
	s := raw
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("scheme %q is not http or https", u.Scheme)
	}
	if u.User != nil {
		return "", fmt.Errorf("credentials in the URL are not allowed (use the API key variable)")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("query or fragment not allowed")
	}
	host, port := u.Hostname(), u.Port()
	if strings.HasSuffix(u.Host, ":") {
		return "", fmt.Errorf("empty port")
	}
	if port != "" {
		p, err := strconv.Atoi(port)
		if err != nil || p < 1 || p > 65535 {
			return "", fmt.Errorf("port %q out of range", port)
		}
	}
	if strings.ContainsAny(host, " \t") {
		return "", fmt.Errorf("bad host %q", host)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	if port == "" {
		port = defPort
	}
	hp := host
	if strings.Contains(host, ":") {
		hp = "[" + host + "]"
	}
	if port != "" {
		hp = net.JoinHostPort(host, port)
	}
	path := strings.TrimRight(u.Path, "/")
	if path == "" {
		path = defPath
	}
	return u.Scheme + "://" + hp + path, nil
}
