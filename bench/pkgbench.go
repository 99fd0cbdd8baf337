package bench

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

func initTesting() { testing.Init() }

func benchtimeFlag() *flag.Flag { return flag.Lookup("test.benchtime") }

// packageBench is a benchmark that needs a package's unexported code, run with
// `go test` in its package.
type packageBench struct {
	name, what, pkg, pattern string
}

var packageBenchList = []packageBench{
	{"bridge-auth-check", "bridge auth table on a decoded ping: token digest compare, timestamp and nonce checks",
		"./bridge/", "^BenchmarkAuthCheck$"},
	{"bridge-auth-check-signed", "the same with X-BIZRA-SIG over small params (JCS + HMAC-SHA256)",
		"./bridge/", "^BenchmarkAuthCheckSigned$"},
}

// packageBenches runs packageBenchList with `go test -bench` in moduleDir and parses
// the standard benchmark lines. A build failure (another engineer's work in
// progress, say) is reported as the result's error, never as a figure.
func packageBenches(ctx context.Context, goTool, moduleDir string) []MicroResult {
	var out []MicroResult
	for _, pb := range packageBenchList {
		args := []string{"test", "-run", "^$", "-bench", pb.pattern, "-benchmem", "-benchtime", "300ms", "-count", "1", pb.pkg}
		cmdline := "go " + strings.Join(args, " ")
		res := MicroResult{Name: pb.name, What: pb.what, Source: cmdline}
		cctx, cancel := context.WithTimeout(ctx, 120*time.Second)
		cmd := exec.CommandContext(cctx, goTool, args...)
		cmd.Dir = moduleDir
		b, err := cmd.CombinedOutput()
		cancel()
		if r, ok := parseBenchLine(b); ok {
			res.N, res.NsPerOp, res.BytesPerOp, res.AllocsPerOp = r.N, r.NsPerOp, r.BytesPerOp, r.AllocsPerOp
			res.NsPerItem = r.NsPerOp
		} else {
			res.Err = "no benchmark line"
			if err != nil {
				res.Err = err.Error() + ": " + clip(b, 300)
			}
		}
		out = append(out, res)
	}
	return out
}

// parseBenchLine parses the first "BenchmarkX-N  n  t ns/op  b B/op  a allocs/op" line.
func parseBenchLine(b []byte) (MicroResult, bool) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 4 || !strings.HasPrefix(fs[0], "Benchmark") {
			continue
		}
		var r MicroResult
		n, err := strconv.Atoi(fs[1])
		if err != nil {
			continue
		}
		r.N = n
		for i := 2; i+1 < len(fs); i += 2 {
			v, err := strconv.ParseFloat(fs[i], 64)
			if err != nil {
				continue
			}
			switch fs[i+1] {
			case "ns/op":
				r.NsPerOp = v
			case "B/op":
				r.BytesPerOp = int64(v)
			case "allocs/op":
				r.AllocsPerOp = int64(v)
			}
		}
		if r.NsPerOp > 0 {
			return r, true
		}
	}
	return MicroResult{}, false
}
