package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Area is a share of a CPU profile's samples, grouped by where the time goes.
type Area struct {
	Name    string  `json:"name"`
	Percent float64 `json:"percent"` // of all samples (flat)
}

// Hot is one function's cumulative share.
type Hot struct {
	Func    string  `json:"func"`
	Percent float64 `json:"cum_percent"`
}

// Profile summarises a CPU profile taken during one phase.
type Profile struct {
	Phase string `json:"phase"`
	File  string `json:"file,omitempty"`
	Areas []Area `json:"areas"`
	Hot   []Hot  `json:"hot"` // bizra functions by cumulative share
	Note  string `json:"note,omitempty"`
}

// profiled runs f under the CPU profiler and writes the profile to file. Only one CPU
// profile can run per process; callers run phases one at a time.
func profiled(file string, f func()) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	out, err := os.Create(file)
	if err != nil {
		return err
	}
	defer out.Close()
	if err := pprof.StartCPUProfile(out); err != nil {
		return err
	}
	f()
	pprof.StopCPUProfile()
	return out.Close()
}

// areaOf groups a function name (as pprof prints it) into an area of the pipeline.
// The order matters: the first match wins.
var areas = []struct{ name, prefix string }{
	{"load generator (vegeta, net/http client)", "github.com/tsenart/vegeta"},
	{"load generator (vegeta, net/http client)", "net/http."},
	{"HTTP server (fasthttp)", "github.com/valyala/fasthttp"},
	{"gateway (decode, render, routes)", "github.com/bizra/bizra/gateway"},
	{"query engine and workers", "github.com/bizra/bizra/actors/query"},
	{"reasoning (graph of thought)", "github.com/bizra/bizra/internal/reasoning"},
	{"index search", "github.com/bizra/bizra/internal/index"},
	{"scoring", "github.com/bizra/bizra/internal/scoring"},
	{"inference client and mock backend", "github.com/bizra/bizra/actors/inference"},
	{"receipts", "github.com/bizra/bizra/actors/receipt"},
	{"ledger", "github.com/bizra/bizra/actors/ledger"},
	{"cache", "github.com/bizra/bizra/actors/cache"},
	{"canonical encoding", "github.com/bizra/bizra/internal/canon"},
	{"canonical encoding", "github.com/gowebpki/jcs"},
	{"bridge", "github.com/bizra/bizra/bridge"},
	{"other bizra", "github.com/bizra/bizra"},
	{"protoactor", "github.com/asynkron/protoactor-go"},
	{"metrics", "github.com/VictoriaMetrics"},
	{"JSON (encoding/json)", "encoding/json"},
	{"crypto (SHA-256, Ed25519)", "crypto/"},
	{"network syscalls and poller", "syscall."},
	{"network syscalls and poller", "internal/poll"},
	{"network syscalls and poller", "internal/runtime/syscall"},
	{"network syscalls and poller", "net."},
	{"network syscalls and poller", "runtime.netpoll"},
	{"GC and allocation", "runtime.gc"},
	{"GC and allocation", "runtime.mallocgc"},
	{"GC and allocation", "runtime.scanobject"},
	{"GC and allocation", "runtime.greyobject"},
	{"GC and allocation", "runtime.findObject"},
	{"GC and allocation", "runtime.markBits"},
	{"GC and allocation", "runtime.(*mspan)"},
	{"GC and allocation", "runtime.(*mheap)"},
	{"GC and allocation", "runtime.(*mcache)"},
	{"GC and allocation", "runtime.(*gcWork)"},
	{"GC and allocation", "runtime.memclr"},
	{"GC and allocation", "runtime.heapBits"},
	{"GC and allocation", "runtime.bgsweep"},
	{"GC and allocation", "runtime.sweepone"},
	{"GC and allocation", "runtime.wbBuf"},
	{"GC and allocation", "runtime.typePointers"},
	{"scheduler, futex, timers", "runtime."},
	{"other standard library (bufio, bytes, strconv, sync, regexp…)", ""},
}

// summarize runs `go tool pprof -top` on a CPU profile and groups the flat samples
// by area; it lists the bizra functions with the largest cumulative share.
func summarize(ctx context.Context, goTool, phase, file string) Profile {
	p := Profile{Phase: phase, File: file}
	if goTool == "" {
		p.Note = "no go tool: profile written but not summarised"
		return p
	}
	cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(cctx, goTool, "tool", "pprof", "-top", "-nodecount=100000", file).Output()
	if err != nil {
		p.Note = "go tool pprof: " + err.Error()
		return p
	}
	type row struct {
		flat, cum float64
		name      string
	}
	var rows []row
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	inTable := false
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, "flat%") && strings.Contains(line, "cum%") {
			inTable = true
			continue
		}
		if !inTable {
			continue
		}
		// flat flat% sum% cum cum% name...
		fs := strings.Fields(line)
		if len(fs) < 6 {
			continue
		}
		flat, e1 := strconv.ParseFloat(strings.TrimSuffix(fs[1], "%"), 64)
		cum, e2 := strconv.ParseFloat(strings.TrimSuffix(fs[4], "%"), 64)
		if e1 != nil || e2 != nil {
			continue
		}
		rows = append(rows, row{flat, cum, strings.Join(fs[5:], " ")})
	}
	share := map[string]float64{}
	for _, r := range rows {
		for _, a := range areas {
			if strings.HasPrefix(r.name, a.prefix) {
				share[a.name] += r.flat
				break
			}
		}
	}
	for name, pct := range share {
		if pct >= 0.5 {
			p.Areas = append(p.Areas, Area{Name: name, Percent: round1(pct)})
		}
	}
	slices.SortFunc(p.Areas, func(a, b Area) int { return cmpDesc(a.Percent, b.Percent) })
	for _, r := range rows {
		if watched(r.name) {
			p.Hot = append(p.Hot, Hot{Func: strings.TrimPrefix(r.name, "github.com/bizra/bizra/"), Percent: round1(r.cum)})
		}
	}
	slices.SortFunc(p.Hot, func(a, b Hot) int { return cmpDesc(a.Percent, b.Percent) })
	if len(p.Hot) > 12 {
		p.Hot = p.Hot[:12]
	}
	if len(rows) == 0 {
		p.Note = "empty profile"
	}
	return p
}

// watch lists the functions whose cumulative share says where a request's time goes,
// beside bizra's own: the load generator, the servers' loops, JSON, canonical
// encoding and the garbage collector.
var watch = []string{
	"github.com/tsenart/vegeta/v12/lib.(*Attacker).hit",
	"github.com/valyala/fasthttp.(*Server).serveConn",
	"encoding/json.Marshal",
	"encoding/json.Unmarshal",
	"github.com/gowebpki/jcs.Transform",
	"runtime.gcBgMarkWorker",
	"crypto/ed25519.Sign",
	"internal/poll.(*FD).Fsync",
}

func watched(name string) bool {
	if strings.HasPrefix(name, "github.com/bizra/bizra/") {
		return !strings.Contains(name, "/bench.") && !strings.HasSuffix(name, ".func1") && !strings.Contains(name, ".func1.")
	}
	return slices.Contains(watch, name)
}

func cmpDesc(a, b float64) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}

func round1(x float64) float64 { return float64(int(x*10+0.5)) / 10 }

// String renders the profile's top areas on one line.
func (p Profile) String() string {
	var parts []string
	for i, a := range p.Areas {
		if i == 6 {
			break
		}
		parts = append(parts, fmt.Sprintf("%s %.0f%%", a.Name, a.Percent))
	}
	if len(parts) == 0 {
		return p.Note
	}
	return strings.Join(parts, ", ")
}
