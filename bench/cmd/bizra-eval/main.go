// Command bizra-eval is `make eval`: the answer-quality evaluation of issue 16 (see
// docs/eval.md). It renders the Go standard library's `go doc -all` and Debian man
// pages into a throw-away data lake, asks the committed questions of testdata/eval
// through the runtime's query path, ranks the same questions with SQLite FTS5 BM25,
// prints the table and writes report.json, report.md and questions.md to
// .proof-forge/eval/.
//
// It exits 0 whatever the figures (it is a report) and 1 when the harness measured
// nothing meaningful: a question file that does not parse, a fact not in its document,
// an empty lake, identical answers or scores, fewer questions asked than -min-answerable
// and -min-unanswerable per corpus. With CI set, a document that cannot be rendered or a
// missing tool (go, man, col, sqlite3) fails the run instead of being reported absent.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/bizra/bizra/bench"
	"github.com/bizra/bizra/bench/eval"
)

func main() { os.Exit(run()) }

func run() int {
	fs := flag.NewFlagSet("bizra-eval", flag.ContinueOnError)
	dir := fs.String("dir", filepath.Join("testdata", "eval"), "folder of the corpus lists and question files")
	out := fs.String("out", filepath.Join(".proof-forge", "eval"), "folder for report.json, report.md and questions.md")
	big := fs.Int("big-passages", eval.DefaultBigPassages, "passages of the latency lake (the corpora replicated); negative skips it")
	minAns := fs.Int("min-answerable", 40, "fail (exit 1) when fewer answerable questions per corpus were asked")
	minUnans := fs.Int("min-unanswerable", 8, "fail (exit 1) when fewer unanswerable questions per corpus were asked")
	budget := fs.Duration("timeout", 110*time.Second, "hard bound on the whole run")
	readme := fs.String("update-readme", "", "do not run: put the tables of <out>/report.md (without the component spreads) into this file between "+markStart+" and "+markEnd)
	doc := fs.String("update-doc", "", "do not run: put the whole of <out>/report.md into this file between "+markStart+" and "+markEnd)
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "bizra-eval: unexpected arguments:", fs.Args())
		return 2
	}
	if *readme != "" || *doc != "" {
		for _, u := range []struct {
			file  string
			short bool
		}{{*readme, true}, {*doc, false}} {
			if u.file == "" {
				continue
			}
			if err := updateSection(u.file, filepath.Join(*out, "report.md"), u.short); err != nil {
				fmt.Fprintln(os.Stderr, "bizra-eval:", err)
				return 1
			}
			fmt.Printf("updated the answer-quality section of %s from %s\n", u.file, filepath.Join(*out, "report.md"))
		}
		return 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *budget)
	defer cancel()
	rep, err := eval.Run(ctx, eval.Options{Dir: *dir, BigPassages: *big, Progress: os.Stderr,
		Renderer: eval.Renderer{RequireAll: os.Getenv("CI") != ""}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "bizra-eval:", err)
		return 1
	}
	md := rep.Markdown("make eval")
	fmt.Print(md)
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "bizra-eval:", err)
		return 1
	}
	f, err := os.Create(filepath.Join(*out, "report.json"))
	if err == nil {
		err = rep.WriteJSON(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(*out, "report.md"), []byte(md), 0o644)
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(*out, "questions.md"), []byte(rep.PerQuestion()), 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bizra-eval:", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "eval: report in %s (report.md, report.json, questions.md)\n", *out)
	for _, cr := range rep.Corpora {
		s := cr.Summary
		if s.Answerable < *minAns || s.Unanswerable < *minUnans {
			fmt.Fprintf(os.Stderr, "bizra-eval: %s corpus: %d answerable and %d unanswerable questions asked, fewer than -min-answerable %d / -min-unanswerable %d\n",
				cr.Kind, s.Answerable, s.Unanswerable, *minAns, *minUnans)
			return 1
		}
	}
	return 0
}

const (
	markStart = "<!-- eval:start -->"
	markEnd   = "<!-- eval:end -->"
)

// updateSection replaces what lies between the eval markers of file (appending them when
// absent) with the last report: its tables only when short (the README), all of it
// otherwise (docs/eval.md).
func updateSection(file, report string, short bool) error {
	md, err := os.ReadFile(report)
	if err != nil {
		return fmt.Errorf("read the report (run make eval first): %w", err)
	}
	body := string(md)
	if !short {
		// docs/eval.md gives the section its own heading.
		if _, rest, ok := strings.Cut(body, "\n"); ok && strings.HasPrefix(body, "## ") {
			body = strings.TrimLeft(rest, "\n")
		}
		body = strings.ReplaceAll(body, "\n### ", "\n#### ")
	}
	if short {
		if i := strings.Index(body, "\n### Score components"); i >= 0 {
			body = body[:i+1]
		}
		body = strings.TrimRight(body, "\n") + "\n\nWhat each figure means, the component spreads and the figures before issue 16: " +
			"[docs/eval.md](docs/eval.md). This section is generated by `go run ./bench/cmd/bizra-eval -update-readme README.md` from the last `make eval`.\n"
	}
	return bench.ReplaceSection(file, markStart, markEnd, body)
}
