package bench

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestParseWrk: the done() line is found among wrk's own output and turned into a
// LoadRun; failures and unconfirmed answers are not counted as OK.
func TestParseWrk(t *testing.T) {
	line := `BIZRA_WRK {"requests":1000,"duration_us":2000000,"connect":0,"read":1,"write":0,"status":10,"timeout":2,"p50":500,"p90":900,"p99":2500,"p999":4000,"max":9000,"mean":612.5}`
	for _, tc := range []struct {
		name     string
		out      string
		answered int
		ok       int
		errors   int
		tput     float64
		wantErr  bool
	}{
		{"summary after wrk's report", "Running 2s test @ http://x\n  1 threads\n" + line + "\n", -1, 990, 13, 495, false},
		{"server confirms fewer", line, 900, 900, 103, 450, false},
		{"server confirms more", line, 5000, 990, 13, 495, false},
		{"no summary", "unable to connect to 127.0.0.1:1\n", -1, 0, 0, 0, true},
		{"broken summary", "BIZRA_WRK {\"requests\":\n", -1, 0, 0, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := parseWrk([]byte(tc.out))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v; want error %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			r := runOf("x", s, tc.answered)
			if r.OK != tc.ok || r.Errors != tc.errors || r.Throughput != tc.tput || r.Requests != 1000 {
				t.Fatalf("run %+v; want ok %d errors %d throughput %v", r, tc.ok, tc.errors, tc.tput)
			}
			if r.Latency.P99 != 2500*time.Microsecond || r.Latency.Max != 9*time.Millisecond {
				t.Fatalf("latency %+v", r.Latency)
			}
			if (r.FirstError != "") != (r.Errors > 0) {
				t.Fatalf("first error %q with %d errors", r.FirstError, r.Errors)
			}
		})
	}
}

// TestLuaString: request bodies reach wrk's Lua byte for byte.
func TestLuaString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"query":"a"}`, `"{\034query\034:\034a\034}"`},
		{"é\n\\", `"\195\169\010\092"`},
		{"", `""`},
	} {
		if got := luaString([]byte(tc.in)); got != tc.want {
			t.Errorf("luaString(%q) = %s; want %s", tc.in, got, tc.want)
		}
	}
}

// TestMergeWorst: counts add up, throughput is over the summed time and every
// percentile is the worst slice's.
func TestMergeWorst(t *testing.T) {
	a := LoadRun{Seconds: 1, Requests: 100, OK: 100, Latency: Latency{P50: 1, P99: 5, Max: 9, Mean: 2}}
	b := LoadRun{Seconds: 3, Requests: 300, OK: 290, Errors: 10, FirstError: "x", Latency: Latency{P50: 2, P99: 4, Max: 20, Mean: 4}}
	m := mergeWorst("m", []LoadRun{a, b})
	if m.Requests != 400 || m.OK != 390 || m.Errors != 10 || m.Throughput != 97.5 || m.FirstError != "x" || m.Slices != 2 {
		t.Fatalf("merged %+v", m)
	}
	if m.Latency.P50 != 2 || m.Latency.P99 != 5 || m.Latency.Max != 20 || m.Latency.Mean != 3 {
		t.Fatalf("latency %+v", m.Latency)
	}
}

// TestWrkAttack runs wrk for a second against the bare handler (same-size route with a
// POST body, and a GET) and checks that every request was answered and counted.
func TestWrkAttack(t *testing.T) {
	wrk := wrkTool()
	if wrk == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI: wrk is not installed")
		}
		t.Skip("wrk is not installed")
	}
	if _, err := exec.LookPath(wrk); err != nil {
		t.Fatal(err)
	}
	ceil, err := startCeiling()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ceil.close)
	body := []byte(strings.Repeat(`{"k":"v"}`, 500))
	ceil.sameSize.Store(&body)
	hdr := http.Header{"Content-Type": []string{"application/json"}}
	for _, tg := range []target{
		{method: "POST", url: "http://" + ceil.addr + sameSizePath, header: hdr, body: func(uint64) []byte { return []byte(`{"q":"x"}`) }},
		{method: "GET", url: "http://" + ceil.addr + "/v1/health"},
	} {
		r := wrkAttack(context.Background(), wrk, t.TempDir(), "bare", tg, 4, time.Second, nil)
		if r.FirstError != "" || r.Requests == 0 || r.OK != r.Requests || r.Throughput <= 0 || r.Latency.P99 <= 0 {
			t.Fatalf("%s %s: %+v", tg.method, tg.url, r)
		}
	}
	// A check the server does not confirm counts nothing as OK.
	var n uint64
	r := wrkAttack(context.Background(), wrk, t.TempDir(), "bare", target{method: "GET", url: "http://" + ceil.addr + "/v1/health"}, 4, time.Second, func() uint64 { return n })
	if r.OK != 0 || r.Errors == 0 {
		t.Fatalf("unconfirmed run: %+v", r)
	}
}
