package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/automanaged"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/etcd"
	"github.com/asynkron/protoactor-go/cluster/identitylookup/disthash"
	"github.com/asynkron/protoactor-go/eventstream"
	"github.com/asynkron/protoactor-go/remote"
	"github.com/labstack/echo"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// QueryKind is the grain kind of a query, keyed by its hex cache key.
const QueryKind = "bizra-query"

// etcdBaseKey is where members register in etcd (<base>/<cluster>/<member>).
const etcdBaseKey = "/bizra"

// maxLeft bounds the departed members kept for status.
const maxLeft = 32

const (
	stateNew int32 = iota
	stateRunning
	stateStopped
)

// MemberInfo is one member as status shows it.
type MemberInfo struct {
	ID      string    `json:"id"`
	Address string    `json:"address"`
	Alive   bool      `json:"alive"`
	Since   time.Time `json:"since"`
}

// Status is the member's view of the cluster (/v1/status "cluster").
type Status struct {
	Name     string       `json:"name"`
	Self     string       `json:"self"`
	Address  string       `json:"address"`
	Provider string       `json:"provider"`
	Degraded bool         `json:"degraded"`
	Reason   string       `json:"degraded_reason,omitempty"`
	Members  []MemberInfo `json:"members"`
}

// Member is this process's membership of the cluster: its own actor system, remote,
// provider and identity lookup, the query grain kind, and the routing of queries to
// their owners. Start, then Query; Shutdown is idempotent.
type Member struct {
	opts Options
	log  *slog.Logger
	met  *clusterMetrics
	auth authorizer

	sys      *actor.ActorSystem
	c        *cluster.Cluster
	provider cluster.ClusterProvider
	amLis    net.Listener
	subs     []*eventstream.Subscription
	id, addr string

	mu      sync.Mutex
	rdv     *cluster.Rendezvous
	view    []*cluster.Member // the provider's current members
	members map[string]*MemberInfo
	left    []MemberInfo
	lost    map[string]chan struct{} // address → closed when its endpoint or membership goes
	suspect map[string]time.Time     // addresses whose connection broke, until they reconnect or this time

	slots   chan struct{}
	goMu    sync.Mutex // guards closing and wg.Add
	closing bool
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	state   atomic.Int32
	once    sync.Once
	// probeErr is the etcd probe's last failure; nil when etcd answered.
	probeErr atomic.Pointer[string]
}

// New validates opts; nothing starts until Start.
func New(opts Options) (*Member, error) {
	if err := opts.normalize(); err != nil {
		return nil, err
	}
	m := &Member{opts: opts, log: opts.Logger.With("component", "cluster"), members: map[string]*MemberInfo{},
		lost: map[string]chan struct{}{}, suspect: map[string]time.Time{}, rdv: cluster.NewRendezvous(),
		slots: make(chan struct{}, opts.MaxInFlight)}
	m.met = newClusterMetrics(opts.Metrics, m)
	m.auth = authorizer{token: []byte(authToken(opts.Secret, opts.Name)), refused: m.met.authRefused.Inc}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	return m, nil
}

// ID is this member's id (its actor system id); "" before Start.
func (m *Member) ID() string { return m.id }

// Address is where this member's remote listens (or what it advertises).
func (m *Member) Address() string { return m.addr }

// Start joins the cluster: the remote listens, the provider registers this member and
// the identity lookup starts. protoactor's StartMember waits about a second for the
// first topology. On error nothing is left running.
func (m *Member) Start(ctx context.Context) (err error) {
	if !m.state.CompareAndSwap(stateNew, stateRunning) {
		return fmt.Errorf("%w: Start called twice", ErrOptions)
	}
	o := m.opts
	host, port, _ := SplitAddr(o.Addr)
	quiet := slog.New(minLevel{h: m.log.Handler(), min: slog.LevelWarn})
	m.sys = actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return quiet }))
	m.id = m.sys.ID
	if o.Provider == ProviderEtcd {
		m.id = o.Name + "@" + m.sys.ID // the member id protoactor's etcd provider registers
	}
	defer func() {
		if err != nil {
			m.state.Store(stateStopped)
			m.cancel()
			for _, s := range m.subs {
				m.sys.EventStream.Unsubscribe(s)
			}
			if m.amLis != nil {
				_ = m.amLis.Close()
			}
			m.sys.Shutdown()
		}
	}()
	ropts := []remote.ConfigOption{
		remote.WithServerOptions(grpc.ChainUnaryInterceptor(m.auth.unary), grpc.ChainStreamInterceptor(m.auth.stream)),
		remote.WithDialOptions(grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithPerRPCCredentials(perRPC{token: string(m.auth.token)})),
	}
	if o.Advertise != "" {
		ropts = append(ropts, remote.WithAdvertisedHost(o.Advertise))
	}
	rcfg := remote.Configure(host, port, ropts...)

	switch o.Provider {
	case ProviderEtcd:
		p, perr := etcd.NewWithConfig(etcdBaseKey, clientv3.Config{Endpoints: o.EtcdEndpoints,
			DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
		if perr != nil {
			return fmt.Errorf("%w: etcd client: %w", ErrStart, perr)
		}
		m.provider = p
	default:
		p, perr := m.automanagedProvider(host, port)
		if perr != nil {
			return perr
		}
		m.provider = p
	}
	kind := cluster.NewKind(QueryKind, actor.PropsFromProducer(func() actor.Actor { return &grain{m: m} }))
	cfg := cluster.Configure(o.Name, m.provider, disthash.New(), rcfg, cluster.WithKinds(kind),
		cluster.WithHeartbeatExpiration(max(4*o.TTL, 20*time.Second)))
	if err := m.guard("cluster", func() { m.c = cluster.New(m.sys, cfg) }); err != nil {
		return err
	}
	m.subs = append(m.subs, m.sys.EventStream.Subscribe(m.onEvent))
	if err := m.guard("start member", m.c.StartMember); err != nil {
		if m.c.Remote != nil {
			m.guardQuiet(func() { m.c.Remote.Shutdown(false) })
		}
		return err
	}
	m.addr = m.sys.Address()
	if o.Provider == ProviderEtcd {
		if err := m.startEtcdProbe(); err != nil {
			m.guardQuiet(func() { m.c.Shutdown(false) })
			return err
		}
	}
	m.log.Info("cluster member started", "cluster", o.Name, "member", m.id, "address", m.addr, "provider", o.Provider)
	return nil
}

// automanagedProvider builds protoactor's automanaged provider with its health endpoint
// on a listener of ours, so it binds the cluster host (loopback by default) rather than
// the provider's fixed 0.0.0.0.
func (m *Member) automanagedProvider(host string, port int) (cluster.ClusterProvider, error) {
	amAddr := m.opts.AutomanagedAddr
	if amAddr == "" {
		amPort := 0
		if port != 0 {
			amPort = port + 1
		}
		amAddr = net.JoinHostPort(host, strconv.Itoa(amPort))
	}
	lis, err := net.Listen("tcp", amAddr)
	if err != nil {
		return nil, fmt.Errorf("%w: automanaged listen %s: %w", ErrStart, amAddr, err)
	}
	m.amLis = lis
	amPort := lis.Addr().(*net.TCPAddr).Port
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Listener = lis
	e.GET("/_health", func(c echo.Context) error {
		h, p, err := m.sys.GetHostPort()
		if err != nil || m.c == nil {
			return c.NoContent(http.StatusServiceUnavailable)
		}
		return c.JSON(http.StatusOK, automanaged.NewNode(m.opts.Name, m.sys.ID, h, p, amPort, m.c.GetClusterKinds()))
	})
	hosts := append([]string{lis.Addr().String()}, m.opts.Peers...)
	return automanaged.NewWithTesting(m.opts.TTL, amPort, e, hosts...), nil
}

// startEtcdProbe checks etcd every TTL on a client of its own (the provider keeps
// retrying silently when etcd goes away): a failed check makes the member report
// degraded, with the last member list still serving.
func (m *Member) startEtcdProbe() error {
	cli, err := clientv3.New(clientv3.Config{Endpoints: m.opts.EtcdEndpoints, DialTimeout: m.opts.TTL, Logger: zap.NewNop()})
	if err != nil {
		return fmt.Errorf("%w: etcd probe client: %w", ErrStart, err)
	}
	m.wg.Go(func() {
		defer cli.Close()
		t := time.NewTicker(m.opts.TTL)
		defer t.Stop()
		for {
			var last error
			for _, ep := range m.opts.EtcdEndpoints {
				ctx, cancel := context.WithTimeout(m.ctx, m.opts.TTL)
				_, last = cli.Status(ctx, ep)
				cancel()
				if last == nil {
					break
				}
			}
			if last != nil {
				msg := "etcd unreachable: " + last.Error()
				m.probeErr.Store(&msg)
			} else {
				m.probeErr.Store(nil)
			}
			select {
			case <-m.ctx.Done():
				return
			case <-t.C:
			}
		}
	})
	return nil
}

// guard runs a protoactor call that reports failure by panicking.
func (m *Member) guard(what string, f func()) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%w: %s: %v", ErrStart, what, v)
		}
	}()
	f()
	return nil
}

func (m *Member) guardQuiet(f func()) {
	defer func() { _ = recover() }()
	f()
}

// onEvent follows the provider's topology and the remote's connections. It runs on
// the publisher's goroutine, so it only updates tables.
func (m *Member) onEvent(evt any) {
	switch e := evt.(type) {
	case *cluster.ClusterTopology:
		m.onTopology(e)
	case *remote.EndpointTerminatedEvent:
		m.mu.Lock()
		m.suspect[e.Address] = time.Now().Add(3 * m.opts.TTL)
		m.signalLostLocked(e.Address)
		m.rebuildLocked()
		m.mu.Unlock()
		m.met.endpointLost.Inc()
	case *remote.EndpointConnectedEvent:
		m.mu.Lock()
		if _, ok := m.suspect[e.Address]; ok {
			delete(m.suspect, e.Address)
			m.rebuildLocked()
		}
		m.mu.Unlock()
	}
}

func (m *Member) onTopology(t *cluster.ClusterTopology) {
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.view = append(m.view[:0:0], t.Members...)
	for _, mb := range t.Joined {
		delete(m.suspect, mb.Address()) // a restarted member on the same address
	}
	present := map[string]bool{}
	for _, mb := range t.Members {
		present[mb.Id] = true
		if info, ok := m.members[mb.Id]; ok {
			info.Alive = true
			continue
		}
		m.members[mb.Id] = &MemberInfo{ID: mb.Id, Address: mb.Address(), Alive: true, Since: now}
	}
	if len(t.Joined) > 0 || len(t.Left) > 0 {
		m.met.topologyChanges.Inc()
		m.met.nTopology.Add(1)
	}
	for id, info := range m.members {
		if present[id] {
			continue
		}
		m.signalLostLocked(info.Address)
		m.left = append(m.left, MemberInfo{ID: info.ID, Address: info.Address, Alive: false, Since: now})
		if len(m.left) > maxLeft {
			m.left = m.left[len(m.left)-maxLeft:]
		}
		delete(m.members, id)
	}
	m.rebuildLocked()
}

// rebuildLocked recomputes the placement over the members not suspected locally. It
// is disthash's rendezvous over the same member list, minus the addresses whose
// connection this member saw break (until they reconnect or 3×TTL passes), so a retry
// goes to the key's next owner instead of waiting for the provider.
func (m *Member) rebuildLocked() {
	now := time.Now()
	live := make([]*cluster.Member, 0, len(m.view))
	for _, mb := range m.view {
		if until, ok := m.suspect[mb.Address()]; ok {
			if now.Before(until) {
				continue
			}
			delete(m.suspect, mb.Address())
		}
		live = append(live, mb)
	}
	r := cluster.NewRendezvous()
	r.UpdateMembers(live)
	m.rdv = r
}

func (m *Member) signalLostLocked(addr string) {
	if ch, ok := m.lost[addr]; ok {
		close(ch)
		delete(m.lost, addr)
	}
}

// lostSignal returns a channel closed when addr's connection or membership goes.
func (m *Member) lostSignal(addr string) <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	ch, ok := m.lost[addr]
	if !ok {
		ch = make(chan struct{})
		m.lost[addr] = ch
	}
	return ch
}

// owner returns the address that owns identity now ("" with no members).
func (m *Member) owner(identity string) string {
	m.mu.Lock()
	now := time.Now()
	for _, until := range m.suspect {
		if !now.Before(until) {
			m.rebuildLocked() // a suspicion ran out
			break
		}
	}
	r := m.rdv
	m.mu.Unlock()
	return r.GetByClusterIdentity(&cluster.ClusterIdentity{Identity: identity, Kind: QueryKind})
}

// Status returns the member's view of the cluster. Degraded means the provider reports
// a failure (etcd unreachable): the member keeps serving with the last member list.
func (m *Member) Status() Status {
	s := Status{Name: m.opts.Name, Self: m.id, Address: m.addr, Provider: m.opts.Provider, Members: []MemberInfo{}}
	if m.provider != nil && m.state.Load() == stateRunning {
		if p := m.probeErr.Load(); p != nil {
			s.Degraded, s.Reason = true, *p
		} else if err := m.healthErr(); err != nil {
			s.Degraded, s.Reason = true, err.Error()
		}
	}
	m.mu.Lock()
	for _, info := range m.members {
		s.Members = append(s.Members, *info)
	}
	s.Members = append(s.Members, m.left...)
	m.mu.Unlock()
	sort.SliceStable(s.Members, func(i, j int) bool {
		if s.Members[i].Alive != s.Members[j].Alive {
			return s.Members[i].Alive
		}
		return s.Members[i].Address < s.Members[j].Address
	})
	return s
}

// healthErr is the provider's health; a provider without one reports none.
func (m *Member) healthErr() (err error) {
	type healthy interface{ GetHealthStatus() error }
	h, ok := m.provider.(healthy)
	if !ok {
		return nil
	}
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("provider health: %v", v)
		}
	}()
	return h.GetHealthStatus()
}

// liveMembers counts the members in the provider's list.
func (m *Member) liveMembers() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.members)
}

// Shutdown leaves the cluster: the owner-side computations in flight finish (each
// bounded by its query's deadline), then protoactor's graceful leave runs (the provider
// deregisters this member, grains stop, the remote closes; it sleeps about two seconds
// itself). When ctx ends first, Shutdown returns ctx's error and the leave goes on in
// the background. Idempotent.
func (m *Member) Shutdown(ctx context.Context) error {
	var err error
	m.once.Do(func() {
		if m.state.Swap(stateStopped) != stateRunning {
			m.cancel()
			return
		}
		m.cancel()
		m.goMu.Lock()
		m.closing = true
		m.goMu.Unlock()
		done := make(chan struct{})
		go func() {
			defer close(done)
			m.wg.Wait()
			m.guardQuiet(func() { m.c.Shutdown(true) })
			for _, s := range m.subs {
				m.sys.EventStream.Unsubscribe(s)
			}
		}()
		select {
		case <-done:
		case <-ctx.Done():
			err = fmt.Errorf("cluster: shutdown: %w", ctx.Err())
		}
	})
	return err
}

// minLevel drops protoactor's records below min (it logs every topology at info).
type minLevel struct {
	h   slog.Handler
	min slog.Level
}

func (l minLevel) Enabled(ctx context.Context, lv slog.Level) bool {
	return lv >= l.min && l.h.Enabled(ctx, lv)
}
func (l minLevel) Handle(ctx context.Context, r slog.Record) error { return l.h.Handle(ctx, r) }
func (l minLevel) WithAttrs(a []slog.Attr) slog.Handler {
	return minLevel{h: l.h.WithAttrs(a), min: l.min}
}
func (l minLevel) WithGroup(g string) slog.Handler { return minLevel{h: l.h.WithGroup(g), min: l.min} }
