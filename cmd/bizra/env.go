package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// envSource resolves configuration variables with the precedence of operations.md:
// the process environment, then <state>/.env, then the default. (Flags sit above all
// three; each subcommand applies them after.)
type envSource struct {
	getenv  func(string) (string, bool)
	dotenv  map[string]string
	dotPath string
}

var envKeyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// loadDotEnv reads <stateDir>/.env. A missing file is not an error; a malformed line,
// or a file that group or others can read, is, naming the file and line.
func loadDotEnv(stateDir string) (map[string]string, string, error) {
	path := filepath.Join(stateDir, ".env")
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]string{}, path, nil
	}
	if err != nil {
		return nil, path, fmt.Errorf("read %s: %w", path, err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, path, fmt.Errorf("%s is readable by group or others (mode %04o); run: chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, path, fmt.Errorf("read %s: %w", path, err)
	}
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || !envKeyRE.MatchString(k) {
			return nil, path, fmt.Errorf("%s:%d: expected KEY=VALUE", path, n)
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') {
			if v[len(v)-1] != v[0] {
				return nil, path, fmt.Errorf("%s:%d: unterminated quote in %s", path, n, k)
			}
			v = v[1 : len(v)-1]
		}
		out[k] = v
	}
	if err := sc.Err(); err != nil {
		return nil, path, fmt.Errorf("%s: %w", path, err)
	}
	return out, path, nil
}

func (e *envSource) lookup(name string) (string, bool) {
	if v, ok := e.getenv(name); ok {
		return v, true
	}
	v, ok := e.dotenv[name]
	return v, ok
}

func (e *envSource) str(name, def string) string {
	if v, ok := e.lookup(name); ok && v != "" {
		return v
	}
	return def
}

// configError is a bad configuration value: exit code 2, one line.
type configError struct{ msg string }

func (e *configError) Error() string { return e.msg }

func badValue(name, val, want string) error {
	return &configError{fmt.Sprintf("invalid %s=%q: %s", name, val, want)}
}

func (e *envSource) boolean(name string, def bool) (bool, error) {
	v, ok := e.lookup(name)
	if !ok || v == "" {
		return def, nil
	}
	return parseBool(name, v)
}

func parseBool(name, v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off":
		return false, nil
	}
	return false, badValue(name, v, "want 1/true/yes/on or 0/false/no/off")
}

func (e *envSource) integer(name string, def, lo, hi int) (int, error) {
	v, ok := e.lookup(name)
	if !ok || v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < lo || n > hi {
		return 0, badValue(name, v, fmt.Sprintf("want an integer in %d..%d", lo, hi))
	}
	return n, nil
}

func (e *envSource) float(name string, def, lo, hi float64) (float64, error) {
	v, ok := e.lookup(name)
	if !ok || v == "" {
		return def, nil
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || f < lo || f > hi {
		return 0, badValue(name, v, fmt.Sprintf("want a number in %g..%g", lo, hi))
	}
	return f, nil
}

func (e *envSource) duration(name string, def time.Duration) (time.Duration, error) {
	v, ok := e.lookup(name)
	if !ok || v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d < 0 {
		return 0, badValue(name, v, "want a duration such as 10s or 500ms")
	}
	return d, nil
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
