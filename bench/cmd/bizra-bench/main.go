// Command bizra-bench is `make bench`: bizra's latency and throughput suite
// (operations.md, Bench). It prints the machine, shows progress on stderr, prints
// the tables at the end and writes report.json, report.md and latency.svg (and the
// CPU profiles of the profiled phases) to .proof-forge/bench/.
//
// BENCH_QUICK=1 runs the 60-second version.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/bizra/bizra/bench"
)

func main() {
	os.Exit(run())
}

func run() int {
	fs := flag.NewFlagSet("bizra-bench", flag.ContinueOnError)
	out := fs.String("out", ".proof-forge/bench", "folder for report.json, report.md, latency.svg and profiles")
	quick := fs.Bool("quick", os.Getenv("BENCH_QUICK") != "" && os.Getenv("BENCH_QUICK") != "0", "the 60-second version (default from BENCH_QUICK)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	mode, cmdline := bench.Full, "make bench"
	if *quick {
		mode, cmdline = bench.Quick, "BENCH_QUICK=1 make bench"
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "bizra-bench:", err)
		return 1
	}
	wd, _ := os.Getwd()
	goTool, _ := exec.LookPath("go")
	moduleDir := ""
	if _, err := os.Stat(filepath.Join(wd, "go.mod")); err == nil {
		moduleDir = wd
	}
	// The ledger benchmarks fsync: keep their folders on the same file system as a
	// node's state folder would be (the working tree), not a tmpfs.
	ledgerTmp := filepath.Join(*out, "tmp")
	if err := os.MkdirAll(ledgerTmp, 0o755); err == nil {
		bench.LedgerDir = ledgerTmp
		defer os.RemoveAll(ledgerTmp)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// A hard bound on the whole run, whatever happens.
	budget := 290 * time.Second
	if mode == bench.Quick {
		budget = 55 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()

	m := bench.DescribeMachine()
	fmt.Println(m.String())
	tty := false
	if fi, err := os.Stderr.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		tty = true
	}
	rep, err := bench.Run(ctx, bench.Options{Mode: mode, Progress: os.Stderr, TTY: tty, ProfileDir: *out,
		GoTool: goTool, ModuleDir: moduleDir, Command: cmdline})
	if rep == nil {
		fmt.Fprintln(os.Stderr, "bizra-bench:", err)
		return 1
	}
	md := rep.Markdown()
	fmt.Println()
	fmt.Print(md)
	write := func(name string, f func(*os.File) error) {
		p := filepath.Join(*out, name)
		fh, err := os.Create(p)
		if err == nil {
			err = f(fh)
			if cerr := fh.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "bizra-bench: write %s: %v\n", p, err)
		}
	}
	write("report.json", func(f *os.File) error { return rep.WriteJSON(f) })
	write("report.md", func(f *os.File) error {
		_, err := f.WriteString("## Performance\n\n" + md)
		return err
	})
	write("latency.svg", func(f *os.File) error { return rep.WriteSVG(f) })
	fmt.Printf("\nwrote %s/{report.json,report.md,latency.svg}%s\n", *out, profiles(rep))
	if err != nil {
		fmt.Fprintln(os.Stderr, "bizra-bench: stopped early:", err)
		return 1
	}
	return 0
}

func profiles(r *bench.Report) string {
	var fs []string
	for _, p := range r.Profiles {
		if p.File != "" {
			fs = append(fs, filepath.Base(p.File))
		}
	}
	if len(fs) == 0 {
		return ""
	}
	return " and " + strings.Join(fs, ", ")
}
