package main

import (
	"flag"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var updateReadme = flag.Bool("update", false, "rewrite README.md's flag table from the flag definitions (TestReadmeFlags)")

const (
	flagsBegin = "<!-- flags:begin -->"
	flagsEnd   = "<!-- flags:end -->"
)

// envRE finds the environment variables a flag's usage names.
var envRE = regexp.MustCompile(`\b(BIZRA_[A-Z0-9_]+)\b`)

// flagDefaults overrides the defaults that depend on the machine.
var flagDefaults = map[string]string{"workers": "CPUs (GOMAXPROCS)"}

// flagsTable renders the run flags (bizra run/api/bridge, the superset) as the
// README's Markdown table: flag, environment variable, default, meaning. It binds the
// real flag set over an empty environment, so the defaults are the built-in ones.
func flagsTable() string {
	src := &envSource{getenv: func(string) (string, bool) { return "", false }, dotenv: map[string]string{}}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if _, err := bindRuntimeFlags(fs, src, "sovereign_state", true); err != nil {
		panic(err) // the built-in defaults always parse
	}
	var b strings.Builder
	b.WriteString("| flag | environment | default | meaning |\n|---|---|---|---|\n")
	fs.VisitAll(func(f *flag.Flag) {
		envs := envRE.FindAllString(f.Usage, -1)
		slices.Sort(envs)
		envs = slices.Compact(envs)
		meaning := strings.TrimSpace(strings.ReplaceAll(f.Usage, "|", `\|`))
		if len(envs) == 1 {
			// "(BIZRA_X)" at the end of the text is the environment column's.
			meaning = strings.TrimSpace(strings.TrimSuffix(meaning, "("+envs[0]+")"))
		}
		def := f.DefValue
		if d, ok := flagDefaults[f.Name]; ok {
			def = d
		}
		switch def {
		case "":
			def = "—"
		default:
			def = "`" + def + "`"
		}
		env := "—"
		if len(envs) > 0 {
			env = "`" + strings.Join(envs, "`, `") + "`"
		}
		b.WriteString("| `--" + f.Name + "` | " + env + " | " + def + " | " + meaning + " |\n")
	})
	return b.String()
}

// TestReadmeFlags: README.md's table between the flags markers is the one the flag
// definitions render, and every environment variable cmd/bizra reads is named in
// the README. Regenerate after adding or changing a flag:
//
//	go test ./cmd/bizra -run TestReadmeFlags -update
func TestReadmeFlags(t *testing.T) {
	const path = "../../README.md"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	i, j := strings.Index(readme, flagsBegin), strings.Index(readme, flagsEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the %s … %s markers", flagsBegin, flagsEnd)
	}
	want := flagsTable()
	got := strings.TrimPrefix(readme[i+len(flagsBegin):j], "\n")
	if got != want {
		if *updateReadme {
			readme = readme[:i+len(flagsBegin)] + "\n" + want + readme[j:]
			if err := os.WriteFile(path, []byte(readme), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("README.md flag table rewritten")
		} else {
			t.Errorf("README.md's flag table is stale; run: go test ./cmd/bizra -run TestReadmeFlags -update\n--- README\n%s\n--- flags\n%s", got, want)
		}
	}
	// Every variable cmd/bizra reads (and the inference backends' ones it hands on)
	// is documented: in the flag table or in the environment-only table.
	files, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	readVar := regexp.MustCompile(`"((?:BIZRA|LMSTUDIO|OLLAMA|LM_API)_[A-Z0-9_]*)"`)
	srcs := []string{"../../actors/inference/config.go"}
	for _, f := range files {
		if n := f.Name(); strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
			srcs = append(srcs, n)
		}
	}
	for _, p := range srcs {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range readVar.FindAllStringSubmatch(string(b), -1) {
			if !strings.Contains(readme, "`"+m[1]+"`") {
				t.Errorf("%s reads %s, which README.md does not document", p, m[1])
			}
		}
	}
}
