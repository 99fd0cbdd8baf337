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
	"syscall"
	"time"

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
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "bizra-eval: unexpected arguments:", fs.Args())
		return 2
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
