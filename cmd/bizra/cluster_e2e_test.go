package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// etcdServer is an etcd (Debian etcd-server, 3.4) the test started on free loopback
// ports with a temporary data folder.
type etcdServer struct {
	endpoint string
	cmd      *exec.Cmd
	exited   chan struct{}
	once     sync.Once
}

func (e *etcdServer) kill() {
	e.once.Do(func() { _ = e.cmd.Process.Signal(syscall.SIGKILL) })
	<-e.exited
}

func startEtcd(t testing.TB) *etcdServer {
	t.Helper()
	bin, err := exec.LookPath("etcd")
	if err != nil {
		missingTool(t, "etcd is not installed (Debian etcd-server; .ci/run installs it)")
	}
	client, peer := freePort(t), freePort(t)
	cu := "http://127.0.0.1:" + strconv.Itoa(client)
	pu := "http://127.0.0.1:" + strconv.Itoa(peer)
	dir := t.TempDir()
	logf, err := os.Create(filepath.Join(dir, "etcd.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(bin, "--name", "e2e", "--data-dir", filepath.Join(dir, "data"),
		"--listen-client-urls", cu, "--advertise-client-urls", cu,
		"--listen-peer-urls", pu, "--initial-advertise-peer-urls", pu, "--initial-cluster", "e2e="+pu)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	e := &etcdServer{endpoint: "127.0.0.1:" + strconv.Itoa(client), cmd: cmd, exited: make(chan struct{})}
	go func() { // owned by e: kill (and the cleanup) wait for it
		_ = cmd.Wait()
		close(e.exited)
	}()
	t.Cleanup(e.kill)
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(cu + "/health")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && strings.Contains(string(body), "true") {
				return e
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("etcd did not become healthy in 20 s:\n%s", tail(filepath.Join(dir, "etcd.log")))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type clusterStatusDoc struct {
	Cluster *struct {
		Name     string `json:"name"`
		Self     string `json:"self"`
		Degraded bool   `json:"degraded"`
		Members  []struct {
			ID      string `json:"id"`
			Address string `json:"address"`
			Alive   bool   `json:"alive"`
		} `json:"members"`
	} `json:"cluster"`
}

func clusterStatus(c *http.Client, base string) (clusterStatusDoc, error) {
	var doc clusterStatusDoc
	resp, err := c.Get(base + "/v1/status")
	if err != nil {
		return doc, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return doc, fmt.Errorf("status %d", resp.StatusCode)
	}
	err = json.NewDecoder(resp.Body).Decode(&doc)
	if err == nil && doc.Cluster == nil {
		err = fmt.Errorf("no cluster in /v1/status")
	}
	return doc, err
}

func aliveMembers(d clusterStatusDoc) int {
	n := 0
	for _, m := range d.Cluster.Members {
		if m.Alive {
			n++
		}
	}
	return n
}

// waitAlive waits until every base reports want alive members.
func waitAlive(t testing.TB, c *http.Client, bases []string, want int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for _, b := range bases {
		for {
			d, err := clusterStatus(c, b)
			if err == nil && aliveMembers(d) == want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: want %d alive members within %s; status %+v, err %v", b, want, within, d.Cluster, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

type clusterAnswer struct {
	code       int
	errCode    string
	answeredBy string
	cached     bool
	receiptID  string
	took       time.Duration
	start, end time.Time
}

func clusterQuery(c *http.Client, base, user string) clusterAnswer {
	body := fmt.Sprintf(`{"query":"how do I check bridge health?","user_id":%q,"timeout_ms":5000}`, user)
	a := clusterAnswer{start: time.Now()}
	resp, err := c.Post(base+"/v1/query", "application/json", strings.NewReader(body))
	a.end = time.Now()
	a.took = a.end.Sub(a.start)
	if err != nil {
		return a
	}
	defer resp.Body.Close()
	a.code = resp.StatusCode
	var v struct {
		AnsweredBy string `json:"answered_by"`
		Cached     bool   `json:"cached"`
		Receipt    *struct {
			ReceiptID string `json:"receipt_id"`
		} `json:"receipt"`
		Code      string  `json:"code"` // an error response
		ErrorCode *string `json:"error_code"`
	}
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &v)
	a.answeredBy, a.cached = v.AnsweredBy, v.Cached
	if v.Receipt != nil {
		a.receiptID = v.Receipt.ReceiptID
	}
	a.errCode = v.Code
	if a.errCode == "" && v.ErrorCode != nil {
		a.errCode = *v.ErrorCode
	}
	a.end = time.Now()
	return a
}

// memberProcs are `bizra run` cluster members the test started.
type memberProcs struct {
	nodes  []*killNode
	envs   [][]string
	works  []string
	bases  []string
	selfOf map[string]int // member id → index
}

// startMembers starts n `bizra run` members of cluster e2e on etcd (each with its own
// state folder from `bizra init`: its own ledger and receipt key) and waits until each
// lists all n alive.
func startMembers(t testing.TB, bin string, etcd *etcdServer, c *http.Client, n int) memberProcs {
	t.Helper()
	p := memberProcs{nodes: make([]*killNode, n), envs: make([][]string, n), works: make([]string, n),
		bases: make([]string, n), selfOf: map[string]int{}}
	for i := range n {
		p.works[i] = t.TempDir()
		p.envs[i] = append(nodeEnv(p.works[i]), "BIZRA_CLUSTER_NAME=e2e", "BIZRA_CLUSTER_PROVIDER=etcd",
			"BIZRA_ETCD_ENDPOINTS="+etcd.endpoint, "BIZRA_CLUSTER_SECRET=e2e-cluster-secret-0123456789",
			"BIZRA_CLUSTER_ADDR="+net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t))))
		initNode(t, bin, p.envs[i])
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { p.nodes[i] = startKillNode(t, bin, p.envs[i], p.works[i], i) })
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for i, nd := range p.nodes {
		p.bases[i] = nd.base
	}
	waitAlive(t, c, p.bases, n, 20*time.Second)
	for i, b := range p.bases {
		d, err := clusterStatus(c, b)
		if err != nil {
			t.Fatal(err)
		}
		p.selfOf[d.Cluster.Self] = i
	}
	if len(p.selfOf) != n {
		t.Fatalf("member ids %v: want %d distinct", p.selfOf, n)
	}
	return p
}

func initNode(t testing.TB, bin string, env []string) {
	t.Helper()
	init := exec.Command(bin, "init")
	init.Env = env
	if out, err := init.CombinedOutput(); err != nil {
		t.Fatalf("bizra init: %v\n%s", err, out)
	}
}

// receiptOn returns the status of GET /v1/receipts/{id} on base, waiting up to 3 s
// while the receipt is still pending its batch seal (409).
func receiptOn(c *http.Client, base, id string) int {
	deadline := time.Now().Add(3 * time.Second)
	for {
		resp, err := c.Get(base + "/v1/receipts/" + id)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusConflict || time.Now().After(deadline) {
			return resp.StatusCode
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestFaultClusterMemberLoss is the multi-process cluster test: etcd on free loopback
// ports, three `bizra run` members (each with its own state, ledger and receipt key),
// queries spread over the members by key, a cluster-wide cache hit from another
// member, SIGKILL of one member under load (every query answered or refused with 503
// MEMBER_LOST / 504, none past its deadline, all answered once the provider noticed),
// and the killed member's rejoin.
func TestFaultClusterMemberLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process cluster test")
	}
	began := time.Now()
	etcd := startEtcd(t)
	bin := buildBizra(t, repoRoot(t))
	tr := &http.Transport{MaxIdleConnsPerHost: 16, DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	const n = 3
	procs := startMembers(t, bin, etcd, c, n)
	nodes, envs, works, bases, selfOf := procs.nodes, procs.envs, procs.works, procs.bases, procs.selfOf
	t.Logf("etcd and %d members up in %s", n, time.Since(began).Round(time.Millisecond))

	// Spread: 12 keys asked of rotating members land on more than one owner, and the
	// answering member holds the receipt (its own log, its own key).
	owner := map[string]int{}
	for k := range 12 {
		user := "spread-" + strconv.Itoa(k)
		a := clusterQuery(c, bases[k%n], user)
		if a.code != 200 || a.receiptID == "" {
			t.Fatalf("%s: status %d %s", user, a.code, a.errCode)
		}
		i, ok := selfOf[a.answeredBy]
		if !ok {
			t.Fatalf("%s: answered_by %q is no member", user, a.answeredBy)
		}
		owner[user] = i
		if code := receiptOn(c, bases[i], a.receiptID); code != 200 {
			t.Fatalf("%s: receipt %s not on its answering member %d (%d)", user, a.receiptID, i, code)
		}
	}
	spread := map[int]int{}
	for _, i := range owner {
		spread[i]++
	}
	if len(spread) < 2 {
		t.Fatalf("12 keys all answered by one member: %v", spread)
	}
	t.Logf("12 keys over the members: %v", spread)

	// A cluster-wide cache hit: the same query from a member that is not its owner.
	for user, i := range owner {
		other := (i + 1) % n
		a := clusterQuery(c, bases[other], user)
		if a.code != 200 || !a.cached || selfOf[a.answeredBy] != i {
			t.Fatalf("%s again from member %d: status %d cached %v answered by %d; want a hit from owner %d",
				user, other, a.code, a.cached, selfOf[a.answeredBy], i)
		}
		break
	}

	// SIGKILL member 2 under load from clients of members 0 and 1, over 30 keys.
	victim := 2
	victimID := ""
	for id, i := range selfOf {
		if i == victim {
			victimID = id
		}
	}
	var mu sync.Mutex
	var answers []clusterAnswer
	stop := make(chan struct{})
	var load sync.WaitGroup
	for cl := range 6 {
		load.Go(func() {
			for q := 0; ; q++ {
				select {
				case <-stop:
					return
				default:
				}
				a := clusterQuery(c, bases[cl%2], "load-"+strconv.Itoa((cl*7+q)%30))
				mu.Lock()
				answers = append(answers, a)
				mu.Unlock()
			}
		})
	}
	time.Sleep(1500 * time.Millisecond)
	killAt := time.Now()
	nodes[victim].kill()
	var noticed time.Duration // when member 0's provider dropped the victim
	for time.Since(killAt) < 12*time.Second {
		if d, err := clusterStatus(c, bases[0]); noticed == 0 && err == nil && aliveMembers(d) == n-1 {
			noticed = time.Since(killAt)
		}
		time.Sleep(100 * time.Millisecond)
	}
	close(stop)
	load.Wait()

	var lastFail, firstOKFromNewOwner time.Time
	before, after, failed, victimAnswered := 0, 0, 0, 0
	codes := map[string]int{}
	for _, a := range answers {
		if a.took > 5*time.Second+time.Second {
			t.Errorf("a query took %s, past its 5 s deadline (status %d %s)", a.took, a.code, a.errCode)
		}
		if a.end.Before(killAt) {
			before++
			if a.answeredBy == victimID {
				victimAnswered++
			}
			continue
		}
		after++
		if a.code != 200 {
			failed++
			codes[strconv.Itoa(a.code)+" "+a.errCode]++
			if !(a.code == 503 && a.errCode == "MEMBER_LOST") && a.code != 504 {
				t.Errorf("after the kill: status %d %q; want 200, 503 MEMBER_LOST or 504", a.code, a.errCode)
			}
			if a.end.After(lastFail) {
				lastFail = a.end
			}
			continue
		}
		if a.answeredBy == victimID && a.start.After(killAt) {
			t.Errorf("a query started after the kill was answered by the killed member")
		}
	}
	for _, a := range answers {
		if a.code == 200 && a.start.After(killAt) && (lastFail.IsZero() || a.start.After(lastFail)) {
			if firstOKFromNewOwner.IsZero() || a.end.Before(firstOKFromNewOwner) {
				firstOKFromNewOwner = a.end
			}
		}
		// Once the provider noticed (etcd lease 3 s, then the watch), every query is answered.
		if a.start.After(killAt.Add(8*time.Second)) && a.code != 200 {
			t.Errorf("a query started %s after the kill failed: %d %s", a.start.Sub(killAt).Round(time.Millisecond), a.code, a.errCode)
		}
	}
	if victimAnswered == 0 {
		t.Errorf("no query before the kill was answered by the victim: the kill tested nothing")
	}
	lf := "none"
	if !lastFail.IsZero() {
		lf = lastFail.Sub(killAt).Round(time.Millisecond).String()
	}
	t.Logf("member-loss timeline: %d answers before the kill (%d by the victim), %d after (%d failed: %v); kill → last failed answer %s; kill → first answer after it +%s; kill → provider dropped the member (status) %s",
		before, victimAnswered, after, failed, codes, lf, firstOKFromNewOwner.Sub(killAt).Round(time.Millisecond), noticed.Round(100*time.Millisecond))
	if noticed == 0 {
		t.Errorf("member 0 still listed the killed member 12 s after the kill")
	}
	waitAlive(t, c, bases[:2], n-1, 15*time.Second)

	// Nothing acknowledged by the survivors is lost: their receipts are still served.
	checked := 0
	for _, a := range answers {
		i, ok := selfOf[a.answeredBy]
		if a.code != 200 || !ok || i == victim || a.receiptID == "" || checked >= 40 {
			continue
		}
		if code := receiptOn(c, bases[i], a.receiptID); code != 200 {
			t.Fatalf("acknowledged receipt %s of member %d: %d", a.receiptID, i, code)
		}
		checked++
	}

	// Rejoin: the killed member restarts on its state and address and is a member again.
	nodes[victim] = startKillNode(t, bin, envs[victim], works[victim], n)
	bases[victim] = nodes[victim].base
	waitAlive(t, c, bases, n, 20*time.Second)
	d, err := clusterStatus(c, bases[victim])
	if err != nil {
		t.Fatal(err)
	}
	for k := range 6 {
		a := clusterQuery(c, bases[victim], "rejoin-"+strconv.Itoa(k))
		if a.code != 200 {
			t.Fatalf("query from the rejoined member: %d %s", a.code, a.errCode)
		}
	}
	ids := []string{}
	for _, m := range d.Cluster.Members {
		if m.Alive {
			ids = append(ids, m.ID)
		}
	}
	if !slices.Contains(ids, d.Cluster.Self) {
		t.Fatalf("rejoined member %s not in its own member list %v", d.Cluster.Self, ids)
	}
	t.Logf("rejoined as %s", d.Cluster.Self)

	// etcd lost: the members keep serving with the member list they have and report
	// degraded.
	etcd.kill()
	lostAt := time.Now()
	for {
		d, err := clusterStatus(c, bases[0])
		if err == nil && d.Cluster.Degraded {
			break
		}
		if time.Since(lostAt) > 15*time.Second {
			t.Fatalf("member 0 not degraded 15 s after etcd went away: %+v %v", d.Cluster, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("etcd killed → member 0 degraded in %s", time.Since(lostAt).Round(100*time.Millisecond))
	for k := range 6 {
		a := clusterQuery(c, bases[k%n], "no-etcd-"+strconv.Itoa(k))
		if a.code != 200 {
			t.Fatalf("query without etcd on member %d: %d %s", k%n, a.code, a.errCode)
		}
	}
	t.Logf("whole test %s", time.Since(began).Round(time.Millisecond))
}
