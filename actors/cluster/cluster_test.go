//go:build !race

// The in-process cluster tests build without the race detector only: protoactor-go
// races with itself when several members share one process (remote.Start writes
// grpclog's global logger while another member's gRPC server reads it; the remote's
// endpointManager.stop races removeEndpoint on shutdown). `make test` runs this
// package once more without -race; the multi-process test in cmd/bizra runs under it.

package cluster

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/remote"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/bizra/bizra/actors/query"
	"github.com/bizra/bizra/internal/catalog"
)

// This package does not use goleak: protoactor-go's cluster, remote and automanaged
// provider leave goroutines behind after a graceful Shutdown (the provider's monitor
// sleeps out its TTL, gRPC's transports close asynchronously). Every member a test
// starts is shut down in t.Cleanup.

const testSecret = "test-cluster-secret-0123456789"

// pipeline is a stand-in for one member's query pipeline: a result cache by cache key
// and a count of the computations it really made (cache misses), each taking delay.
type pipeline struct {
	name  string
	delay time.Duration
	mu    sync.Mutex
	cache map[string]query.Result
	runs  atomic.Int64
	calls atomic.Int64
	fail  error
	fast  atomic.Bool // Options.Cached answers
}

// cached is Options.Cached over the stand-in's cache, when fast is on.
func (p *pipeline) cached(req *query.Request) bool {
	if !p.fast.Load() {
		return false
	}
	k, _ := query.CacheKey(req)
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.cache[string(k[:])]
	return ok
}

func (p *pipeline) Query(ctx context.Context, req query.Request) (query.Result, error) {
	p.calls.Add(1)
	if p.fail != nil {
		return query.Result{}, p.fail
	}
	k, err := query.CacheKey(&req)
	if err != nil {
		return query.Result{}, err
	}
	p.mu.Lock()
	res, ok := p.cache[string(k[:])]
	p.mu.Unlock()
	if ok {
		res.Cached = true
		res.ReceiptID = "qr-hit-" + strconv.FormatInt(p.calls.Load(), 10)
		return res, nil
	}
	p.runs.Add(1)
	select {
	case <-time.After(p.delay):
	case <-ctx.Done():
		return query.Result{}, query.ErrTimeout
	}
	res = query.Result{QueryID: "q-" + p.name, Success: true, Response: "answer to " + req.Query + " by " + p.name,
		Verdict: query.VerdictApproved, ReceiptID: "qr-" + p.name, Detail: query.Detail{LeafHash: "leaf-" + p.name}}
	p.mu.Lock()
	if p.cache == nil {
		p.cache = map[string]query.Result{}
	}
	p.cache[string(k[:])] = res
	p.mu.Unlock()
	return res, nil
}

// freePorts returns n free loopback ports (closed again: a tiny window for reuse).
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ls []net.Listener
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		_ = l.Close()
	}
	return ports
}

type testMember struct {
	*Member
	p *pipeline
}

// startCluster starts n automanaged members on loopback with the secret, waits until
// each sees all n, and shuts them down in cleanup (in parallel: a graceful leave takes
// protoactor about two seconds).
func startCluster(t testing.TB, n int, secrets []string, delay time.Duration) []testMember {
	t.Helper()
	am := freePorts(t, n)
	peers := make([]string, n)
	for i, p := range am {
		peers[i] = "127.0.0.1:" + strconv.Itoa(p)
	}
	out := make([]testMember, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		p := &pipeline{name: fmt.Sprintf("m%d", i), delay: delay}
		secret := testSecret
		if i < len(secrets) && secrets[i] != "" {
			secret = secrets[i]
		}
		m, err := New(Options{Name: "test", Provider: ProviderAutomanaged, Addr: "127.0.0.1:0", Secret: secret,
			TTL: 300 * time.Millisecond, AutomanagedAddr: peers[i], Peers: peers, Local: p.Query, Cached: p.cached})
		if err != nil {
			t.Fatal(err)
		}
		out[i] = testMember{Member: m, p: p}
		wg.Go(func() { errs[i] = m.Start(context.Background()) })
	}
	wg.Wait()
	t.Cleanup(func() {
		var sw sync.WaitGroup
		for _, m := range out {
			sw.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				if err := m.Shutdown(ctx); err != nil {
					t.Errorf("shutdown %s: %v", m.ID(), err)
				}
			})
		}
		sw.Wait()
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("member %d: %v", i, err)
		}
	}
	waitMembers(t, out, n)
	return out
}

func waitMembers(t testing.TB, ms []testMember, n int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for _, m := range ms {
		for m.liveMembers() != n {
			if time.Now().After(deadline) {
				t.Fatalf("member %s sees %d members; want %d: %+v", m.ID(), m.liveMembers(), n, m.Status())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func ask(t *testing.T, m testMember, q string) query.Result {
	t.Helper()
	req := query.NewRequest(q)
	req.TimeoutMs = 5000
	res, err := m.Query(context.Background(), req)
	if err != nil {
		t.Fatalf("query %q on %s: %v", q, m.ID(), err)
	}
	return res
}

func TestClusterInProcess(t *testing.T) {
	ms := startCluster(t, 3, nil, 20*time.Millisecond)
	ids := map[string]bool{}
	for _, m := range ms {
		ids[m.ID()] = true
	}

	t.Run("one owner per key from every member", func(t *testing.T) {
		owners := map[string]int{}
		for i := range 24 {
			q := fmt.Sprintf("question number %d", i)
			first := ask(t, ms[i%3], q)
			if !ids[first.Detail.AnsweredBy] {
				t.Fatalf("answered_by %q is no member", first.Detail.AnsweredBy)
			}
			owners[first.Detail.AnsweredBy]++
			for _, m := range ms {
				res := ask(t, m, q)
				if res.Detail.AnsweredBy != first.Detail.AnsweredBy {
					t.Fatalf("%q: answered by %s from one member, %s from another", q, first.Detail.AnsweredBy, res.Detail.AnsweredBy)
				}
				if !res.Cached {
					t.Fatalf("%q asked again on %s: not a cluster-wide cache hit", q, m.ID())
				}
			}
		}
		if len(owners) < 2 {
			t.Fatalf("24 keys all owned by one member: %v", owners)
		}
		var runs int64
		for _, m := range ms {
			runs += m.p.runs.Load()
		}
		if runs != 24 {
			t.Fatalf("%d computations for 24 distinct queries asked 96 times; want 24", runs)
		}
	})

	t.Run("64 identical concurrent queries make one computation", func(t *testing.T) {
		for _, m := range ms {
			m.p.delay = 300 * time.Millisecond
		}
		before := make([]int64, 3)
		for i, m := range ms {
			before[i] = m.p.runs.Load()
		}
		var wg sync.WaitGroup
		var fails atomic.Int64
		answered := make(chan string, 64)
		for i := range 64 {
			wg.Go(func() {
				req := query.NewRequest("the one coalesced question")
				res, err := ms[i%3].Query(context.Background(), req)
				if err != nil {
					fails.Add(1)
					return
				}
				answered <- res.Detail.AnsweredBy
			})
		}
		wg.Wait()
		close(answered)
		if fails.Load() != 0 {
			t.Fatalf("%d of 64 failed", fails.Load())
		}
		by := map[string]int{}
		for a := range answered {
			by[a]++
		}
		var runs int64
		for i, m := range ms {
			runs += m.p.runs.Load() - before[i]
		}
		if runs != 1 || len(by) != 1 {
			t.Fatalf("64 identical queries: %d computations, answered by %v; want 1 by one member", runs, by)
		}
	})

	t.Run("a hit the member owns skips the grain", func(t *testing.T) {
		m := ms[1]
		var req query.Request
		for i := 0; ; i++ {
			req = query.NewRequest(fmt.Sprintf("fast path question %d", i))
			k, _ := query.CacheKey(&req)
			if m.owner(hex.EncodeToString(k[:])) == m.Address() {
				break
			}
		}
		first := ask(t, m, req.Query) // a miss: through the grain
		m.p.fast.Store(true)
		t.Cleanup(func() { m.p.fast.Store(false) })
		acts, comps := m.Stats().Activations, m.Stats().Computations
		res := ask(t, m, req.Query)
		if !res.Cached || res.Detail.AnsweredBy != m.ID() || first.Detail.AnsweredBy != m.ID() {
			t.Fatalf("hit %+v (first answered by %s)", res.Detail, first.Detail.AnsweredBy)
		}
		if s := m.Stats(); s.Activations != acts || s.Computations != comps {
			t.Fatalf("the hit went through a grain: %+v", s)
		}
		// The same key asked of another member still goes to the owner's grain.
		if res := ask(t, ms[0], req.Query); res.Detail.AnsweredBy != m.ID() || !res.Cached {
			t.Fatalf("from another member: %+v", res.Detail)
		}
	})

	t.Run("owner failure keeps its public error", func(t *testing.T) {
		for _, m := range ms {
			m.p.fail = query.ErrOverloaded
		}
		t.Cleanup(func() {
			for _, m := range ms {
				m.p.fail = nil
			}
		})
		req := query.NewRequest("an overloaded question")
		_, err := ms[0].Query(context.Background(), req)
		if !errors.Is(err, query.ErrOverloaded) || catalog.Lookup(err).Code != "OVERLOADED" {
			t.Fatalf("err %v; want OVERLOADED from the owner", err)
		}
	})

	t.Run("invalid query refused before any hop", func(t *testing.T) {
		req := query.NewRequest("   ")
		calls := ms[1].p.calls.Load() + ms[2].p.calls.Load() + ms[0].p.calls.Load()
		if _, err := ms[0].Query(context.Background(), req); !errors.Is(err, query.ErrInvalidQuery) {
			t.Fatalf("err %v; want INVALID_QUERY", err)
		}
		if now := ms[1].p.calls.Load() + ms[2].p.calls.Load() + ms[0].p.calls.Load(); now != calls {
			t.Fatal("an invalid query reached a pipeline")
		}
	})

	t.Run("status lists the members", func(t *testing.T) {
		s := ms[0].Status()
		if s.Name != "test" || s.Self != ms[0].ID() || len(s.Members) != 3 || s.Degraded {
			t.Fatalf("status %+v", s)
		}
		for _, mi := range s.Members {
			if !ids[mi.ID] || !mi.Alive || mi.Since.IsZero() || mi.Address == "" {
				t.Fatalf("member %+v", mi)
			}
		}
	})
}

// TestFaultWrongSecretRefused: a gRPC call to a member's remote without the cluster's
// credentials is refused Unauthenticated; with them it passes authentication, and the
// unary methods (which panic in protoactor) are refused Unimplemented.
func TestFaultWrongSecretRefused(t *testing.T) {
	ms := startCluster(t, 1, nil, 0)
	tests := []struct {
		name string
		opts []grpc.DialOption
		want codes.Code
	}{
		{"no credentials", nil, codes.Unauthenticated},
		{"wrong secret", []grpc.DialOption{grpc.WithPerRPCCredentials(perRPC{token: authToken("another-secret-0123456789", "test")})}, codes.Unauthenticated},
		{"secret of another cluster", []grpc.DialOption{grpc.WithPerRPCCredentials(perRPC{token: authToken(testSecret, "other")})}, codes.Unauthenticated},
		{"right secret, unary method not served", []grpc.DialOption{grpc.WithPerRPCCredentials(perRPC{token: authToken(testSecret, "test")})}, codes.Unimplemented},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := grpc.NewClient(ms[0].Address(), append(tt.opts, grpc.WithTransportCredentials(insecure.NewCredentials()))...)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = conn.Close() })
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err = remote.NewRemotingClient(conn).ListProcesses(ctx, &remote.ListProcessesRequest{Pattern: "x"})
			if got := status.Code(err); got != tt.want {
				t.Fatalf("code %v (%v); want %v", got, err, tt.want)
			}
		})
	}
}

// TestFaultWrongSecretMember: a member started with another secret joins no
// conversation: the members refuse its calls, so none of its queries for keys they own
// is answered by them.
func TestFaultWrongSecretMember(t *testing.T) {
	ms := startCluster(t, 3, []string{"", "", "a-wrong-secret-0123456789"}, 0)
	rogue := ms[2]
	foreign := 0
	for i := range 12 {
		req := query.NewRequest(fmt.Sprintf("rogue question %d", i))
		req.TimeoutMs = 2000
		res, err := rogue.Query(context.Background(), req)
		if err == nil && res.Detail.AnsweredBy != rogue.ID() {
			t.Fatalf("a member with the wrong secret got an answer from %s", res.Detail.AnsweredBy)
		}
		if err != nil {
			foreign++
		}
	}
	if foreign == 0 {
		t.Fatal("no query of the rogue member went to another member: the test proves nothing")
	}
	if ms[0].met.authRefused.Get()+ms[1].met.authRefused.Get() == 0 {
		t.Fatal("no call was refused")
	}
}

// TestFaultOwnerLostInFlight: the owner of a key goes away (its gRPC server stops, as
// on SIGKILL) while it computes a query; the member that took the query sends it to
// the key's next owner and answers within the deadline, never from the lost member.
func TestFaultOwnerLostInFlight(t *testing.T) {
	ms := startCluster(t, 3, nil, 0)
	ms[1].p.delay = 3 * time.Second // the owner-to-be-lost computes slowly
	var req query.Request
	for i := 0; ; i++ {
		req = query.NewRequest(fmt.Sprintf("in flight question %d", i))
		k, _ := query.CacheKey(&req)
		if ms[0].owner(hex.EncodeToString(k[:])) == ms[1].Address() {
			break
		}
	}
	req.TimeoutMs = 5000
	type out struct {
		res  query.Result
		err  error
		took time.Duration
	}
	done := make(chan out, 1)
	go func() { // received below
		t0 := time.Now()
		res, err := ms[0].Query(context.Background(), req)
		done <- out{res, err, time.Since(t0)}
	}()
	deadline := time.Now().Add(2 * time.Second)
	for ms[1].p.runs.Load() == 0 { // the owner started computing
		if time.Now().After(deadline) {
			t.Fatal("the owner never started the query")
		}
		time.Sleep(5 * time.Millisecond)
	}
	lostID := ms[1].ID()
	ms[1].c.Remote.Shutdown(false) // the member's connections break at once
	o := <-done
	if o.err != nil {
		if !errors.Is(o.err, ErrMemberLost) || o.took > 5500*time.Millisecond {
			t.Fatalf("err %v after %s; want an answer from another member or MEMBER_LOST within the deadline", o.err, o.took)
		}
		t.Logf("MEMBER_LOST after %s", o.took)
		return
	}
	if o.res.Detail.AnsweredBy == lostID || o.res.Detail.AnsweredBy == "" {
		t.Fatalf("answered by %q (the lost member is %s)", o.res.Detail.AnsweredBy, lostID)
	}
	if o.took > 2*time.Second {
		t.Fatalf("answered by the next owner only after %s", o.took)
	}
	t.Logf("answered by the next owner %s after %s", o.res.Detail.AnsweredBy, o.took)
}

func TestOptions(t *testing.T) {
	ok := Options{Name: "c", Secret: testSecret, Local: (&pipeline{}).Query}
	tests := []struct {
		name string
		mod  func(o *Options)
		ok   bool
	}{
		{"defaults", func(*Options) {}, true},
		{"no name", func(o *Options) { o.Name = "" }, false},
		{"short secret", func(o *Options) { o.Secret = "short" }, false},
		{"bad provider", func(o *Options) { o.Provider = "consul" }, false},
		{"etcd without endpoints", func(o *Options) { o.Provider = ProviderEtcd }, false},
		{"etcd", func(o *Options) { o.Provider, o.EtcdEndpoints = ProviderEtcd, []string{"127.0.0.1:2379"} }, true},
		{"bad addr", func(o *Options) { o.Addr = "nohost" }, false},
		{"bad port", func(o *Options) { o.Addr = "127.0.0.1:99999" }, false},
		{"bad advertise", func(o *Options) { o.Advertise = ":1" }, false},
		{"ttl too short", func(o *Options) { o.TTL = time.Millisecond }, false},
		{"no pipeline", func(o *Options) { o.Local = nil }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ok
			tt.mod(&o)
			_, err := New(o)
			if (err == nil) != tt.ok {
				t.Fatalf("err %v; want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrOptions) {
				t.Fatalf("err %v is not ErrOptions", err)
			}
		})
	}
}
