package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// killNode is one `bizra run` child of TestFaultKill9Durability.
type killNode struct {
	base   string
	cmd    *exec.Cmd
	exited chan struct{} // closed by the goroutine that waits for the process
	once   sync.Once
}

// kill sends SIGKILL and waits until the process is gone; idempotent.
func (n *killNode) kill() {
	n.once.Do(func() { _ = n.cmd.Process.Signal(syscall.SIGKILL) })
	<-n.exited
}

// startKillNode starts `bizra run` on free loopback ports and waits until /v1/health
// answers. t.Cleanup kills the child if the test has not.
func startKillNode(t testing.TB, bin string, env []string, work string, n int) *killNode {
	t.Helper()
	logPath := filepath.Join(work, fmt.Sprintf("node-%d.log", n))
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(bin, "run", "--port", "0", "--bridge-port", "0", "--log-format", "json")
	cmd.Env, cmd.Stdout, cmd.Stderr = env, io.Discard, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	node := &killNode{cmd: cmd, exited: make(chan struct{})}
	go func() { // owned by node: kill (and the cleanup) wait for it
		_ = cmd.Wait()
		close(node.exited)
	}()
	t.Cleanup(node.kill)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if addr := apiAddr(logPath); addr != "" {
			node.base = "http://" + addr
			resp, err := http.Get(node.base + "/v1/health")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return node
				}
			}
		}
		select {
		case <-node.exited:
			t.Fatalf("node %d exited during start:\n%s", n, tail(logPath))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %d did not answer /v1/health within 30 s:\n%s", n, tail(logPath))
		}
	}
}

func apiAddr(logPath string) string {
	data, _ := os.ReadFile(logPath)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var l struct {
			Msg  string `json:"msg"`
			Addr string `json:"addr"`
		}
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "api listening" && l.Addr != "" {
			return l.Addr
		}
	}
	return ""
}

func tail(path string) string {
	data, _ := os.ReadFile(path)
	if len(data) > 3000 {
		data = data[len(data)-3000:]
	}
	return string(data)
}

// acked is what a client was told was done.
type acked struct {
	receiptID   string
	episodeHash string // "" when the response carries no episode
}

// queryLoad runs clients concurrent clients posting /v1/query until stop closes or the
// node goes away, and returns every acknowledged (200, fully read) receipt and the
// count of other answers by status code (0: no answer). warm is closed once 20 queries
// are acknowledged.
func queryLoad(c *http.Client, base string, clients, round int, stop <-chan struct{}, warm chan<- struct{}) ([]acked, map[int]int) {
	codes := map[int]int{}
	repeated := []string{"what does the bridge answer to a stale timestamp",
		"how do I check bridge health?", "which port does the bridge listen on", "how are receipts sealed"}
	var mu sync.Mutex
	var out []acked
	var wg sync.WaitGroup
	for ci := range clients {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				q := repeated[i%len(repeated)] // cache hits after the first
				if i%3 == 0 {
					q = fmt.Sprintf("what does the bridge answer to a stale timestamp, round %d client %d try %d", round, ci, i)
				}
				body, _ := json.Marshal(map[string]string{"query": q})
				resp, err := c.Post(base+"/v1/query", "application/json", bytes.NewReader(body))
				if err != nil {
					mu.Lock()
					codes[0]++ // the node is gone (0: no answer)
					mu.Unlock()
					return
				}
				data, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					return
				}
				if resp.StatusCode != 200 {
					mu.Lock()
					codes[resp.StatusCode]++ // refused (overloaded, timeout): nothing acknowledged
					mu.Unlock()
					continue
				}
				var v struct {
					Receipt *struct {
						ReceiptID string `json:"receipt_id"`
					} `json:"receipt"`
					Episode *struct {
						Sequence uint64 `json:"sequence"`
						Hash     string `json:"hash"`
					} `json:"episode"`
				}
				if json.Unmarshal(data, &v) != nil || v.Receipt == nil || v.Receipt.ReceiptID == "" {
					continue
				}
				a := acked{receiptID: v.Receipt.ReceiptID}
				if v.Episode != nil {
					a.episodeHash = v.Episode.Hash
				}
				mu.Lock()
				out = append(out, a)
				if len(out) == 20 {
					close(warm)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return out, codes
}

// checkAcked asserts that every acknowledged receipt is retrievable (sealed within a
// few seconds: 409 RECEIPT_PENDING is retried) and every acknowledged episode is
// found, with 8 concurrent checkers.
func checkAcked(t *testing.T, c *http.Client, base string, all []acked) {
	t.Helper()
	get := func(url string) (int, []byte, error) {
		resp, err := c.Get(url)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, b, err
	}
	work := make(chan acked)
	errs := make(chan string, len(all))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for a := range work {
				deadline := time.Now().Add(5 * time.Second)
				for {
					code, body, err := get(base + "/v1/receipts/" + a.receiptID)
					if err == nil && code == 200 {
						break
					}
					if err != nil || code != 409 || time.Now().After(deadline) {
						errs <- fmt.Sprintf("acknowledged receipt %s: HTTP %d %v %.200s", a.receiptID, code, err, body)
						break
					}
					time.Sleep(10 * time.Millisecond)
				}
				if a.episodeHash != "" {
					if code, body, err := get(base + "/v1/sel/episodes/" + a.episodeHash); err != nil || code != 200 {
						errs <- fmt.Sprintf("acknowledged episode %s: HTTP %d %v %.200s", a.episodeHash, code, err, body)
					}
				}
			}
		})
	}
	for _, a := range all {
		work <- a
	}
	close(work)
	wg.Wait()
	close(errs)
	n := 0
	for e := range errs {
		if n < 10 {
			t.Error(e)
		}
		n++
	}
	if n > 0 {
		t.Fatalf("%d of %d acknowledged receipts or episodes lost", n, len(all))
	}
	code, body, err := get(base + "/v1/sel/verify")
	var v struct {
		Valid bool `json:"valid"`
	}
	if err != nil || code != 200 || json.Unmarshal(body, &v) != nil || !v.Valid {
		t.Fatalf("/v1/sel/verify after restart: HTTP %d %v %s", code, err, body)
	}
}

// TestFaultKill9Durability builds bizra, runs a node with concurrent /v1/query clients
// (cache misses and hits), kills it with SIGKILL at a random moment, restarts it on the
// same state folder, and checks that every receipt and every episode (a cache hit
// names none) a client was given is retrievable and the ledger verifies; three rounds, then a
// last restart checks everything acknowledged in any round.
func TestFaultKill9Durability(t *testing.T) {
	leakCheck(t)
	root := repoRoot(t)
	bin := buildBizra(t, root)
	work := t.TempDir()
	env := nodeEnv(work)
	init := exec.Command(bin, "init")
	init.Env = env
	if out, err := init.CombinedOutput(); err != nil {
		t.Fatalf("bizra init: %v\n%s", err, out)
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("kill moments from seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0x6b696c6c))
	tr := &http.Transport{MaxIdleConnsPerHost: 16, DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	var all, last []acked
	const rounds = 3
	for round := range rounds {
		n := startKillNode(t, bin, env, work, round)
		checkAcked(t, c, n.base, last)
		stop := make(chan struct{})
		type result struct {
			acked []acked
			codes map[int]int
		}
		got := make(chan result, 1)
		warm := make(chan struct{})
		go func() { // received below
			a, codes := queryLoad(c, n.base, 8, round, stop, warm)
			got <- result{a, codes}
		}()
		// The kill comes at a random moment once the load runs (20 queries answered).
		select {
		case <-warm:
		case <-time.After(20 * time.Second):
		}
		time.Sleep(time.Duration(rng.IntN(800)) * time.Millisecond)
		n.kill()
		close(stop)
		res := <-got
		last = res.acked
		tr.CloseIdleConnections()
		if len(last) < 20 {
			t.Fatalf("round %d: only %d queries acknowledged in 20 s; other answers %v", round, len(last), res.codes)
		}
		all = append(all, last...)
		t.Logf("round %d: %d acknowledged before SIGKILL; other answers %v", round, len(last), res.codes)
	}
	episodes := 0
	for _, a := range all {
		if a.episodeHash != "" {
			episodes++
		}
	}
	if episodes == 0 {
		t.Fatalf("none of %d acknowledged answers named an episode: the episode check checked nothing", len(all))
	}
	n := startKillNode(t, bin, env, work, rounds)
	checkAcked(t, c, n.base, all)
	t.Logf("%d acknowledged receipts and %d acknowledged episodes over %d kill -9 rounds, all retrievable", len(all), episodes, rounds)
}

// nodeEnv is the caller's environment without anything that configures a node, plus
// the test's state folder and data lake.
func nodeEnv(work string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "BIZRA_") || k == "OLLAMA_HOST" || k == "LMSTUDIO_URL" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "BIZRA_STATE_DIR="+filepath.Join(work, "state"), "BIZRA_DATA_LAKE_ROOT="+filepath.Join(work, "lake"))
}
