package bench

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Machine describes where the figures were measured.
type Machine struct {
	Cores      int    `json:"cores"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	CPU        string `json:"cpu"`
	Flags      string `json:"cpu_flags"` // the ones that matter here (sha_ni, avx512f, aes)
	GoVersion  string `json:"go_version"`
	OS         string `json:"os"`
	Load       string `json:"load_average"` // /proc/loadavg at start
	Colocated  bool   `json:"load_generator_colocated"`
	Date       string `json:"date"`
}

// DescribeMachine reads /proc/cpuinfo and /proc/loadavg (Linux; elsewhere those
// fields say "unknown").
func DescribeMachine() Machine {
	m := Machine{Cores: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), CPU: "unknown",
		GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH, Load: "unknown",
		Colocated: true, Date: time.Now().UTC().Format(time.RFC3339)}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ":")
			if !ok {
				continue
			}
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			switch k {
			case "model name":
				if m.CPU == "unknown" {
					m.CPU = v
				}
			case "flags":
				if m.Flags == "" {
					var have []string
					fl := " " + v + " "
					for _, want := range []string{"sha_ni", "avx512f", "avx2", "aes"} {
						if strings.Contains(fl, " "+want+" ") {
							have = append(have, want)
						}
					}
					m.Flags = strings.Join(have, " ")
				}
			}
		}
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		fs := strings.Fields(string(b))
		if len(fs) >= 3 {
			m.Load = strings.Join(fs[:3], " ")
		}
	}
	return m
}

// String is the machine banner printed before the run.
func (m Machine) String() string {
	return fmt.Sprintf("machine: %d cores (GOMAXPROCS %d), %s [%s], %s %s, load average %s\n"+
		"the load generator (vegeta, bridge clients) runs in this process and shares these cores with the servers",
		m.Cores, m.GOMAXPROCS, m.CPU, m.Flags, m.GoVersion, m.OS, m.Load)
}

func itoa(n int) string { return strconv.Itoa(n) }
