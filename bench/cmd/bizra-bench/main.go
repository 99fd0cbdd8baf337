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
	readme := fs.String("update-readme", "", "do not run: put the Performance section of <out>/report.md into this README between <!-- bench:start --> and <!-- bench:end -->")
	wrkProf := fs.Duration("wrk-profile", 0, "do not run the suite: profile cache-hit POST /v1/query driven by wrk (own process, 64 connections) for this long, beside the same-size bare handler and /v1/health; writes <out>/cpu-wrk-cache-hit.prof")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	if *wrkProf > 0 {
		return wrkProfile(*out, *wrkProf)
	}
	if *readme != "" {
		if err := updateReadme(*readme, filepath.Join(*out, "report.md")); err != nil {
			fmt.Fprintln(os.Stderr, "bizra-bench:", err)
			return 1
		}
		fmt.Printf("updated the Performance section of %s from %s\n", *readme, filepath.Join(*out, "report.md"))
		return 0
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

// wrkProfile runs bench.WrkProfile and prints the runs and the profile summary.
func wrkProfile(out string, d time.Duration) int {
	if err := os.MkdirAll(out, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "bizra-bench:", err)
		return 1
	}
	goTool, _ := exec.LookPath("go")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := bench.WrkProfile(ctx, bench.WrkProfileOptions{Dir: out, Duration: d, GoTool: goTool})
	if err != nil {
		fmt.Fprintln(os.Stderr, "bizra-bench:", err)
		return 1
	}
	fmt.Println(bench.DescribeMachine().String())
	for i, r := range res.Runs {
		fmt.Printf("%-40s %8.0f req/s  ok %d/%d  p50 %v  p99 %v  max %v  cpu/req %v\n", r.Name, r.Throughput, r.OK, r.Requests,
			r.Latency.P50, r.Latency.P99, r.Latency.Max, res.CPUPerReq[i])
	}
	if len(res.Runs) == 4 && res.Runs[0].Throughput > 0 && res.Runs[2].Throughput > 0 {
		fmt.Printf("ratios: cache hit %.3f×, health %.3f×\n", res.Runs[1].Throughput/res.Runs[0].Throughput,
			res.Runs[3].Throughput/res.Runs[2].Throughput)
	}
	fmt.Println("receipt log during the cache-hit run:", res.Commit)
	fmt.Println("profile:", res.Profile.File)
	fmt.Println(res.Profile.String())
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

const (
	markStart = "<!-- bench:start -->"
	markEnd   = "<!-- bench:end -->"
)

// updateReadme replaces what lies between the bench markers of readme (appending the
// markers at the end when missing) with the report's Markdown, minus its profile
// list (the profiles are not committed).
func updateReadme(readme, report string) error {
	md, err := os.ReadFile(report)
	if err != nil {
		return fmt.Errorf("read the report (run make bench first): %w", err)
	}
	body := string(md)
	if i := strings.Index(body, "\n### CPU profiles"); i >= 0 {
		body = body[:i+1]
	}
	body = strings.TrimRight(body, "\n") + "\n\nReproduce: `make bench` (under 5 minutes), `BENCH_QUICK=1 make bench` (under 60 s), " +
		"`make bench-profile` (CPU and allocation profiles of the query path); reports and profiles land in `.proof-forge/bench/`. " +
		"This section is generated by `go run ./bench/cmd/bizra-bench -update-readme README.md` from the last report.\n"
	return bench.ReplaceSection(readme, markStart, markEnd, body)
}
