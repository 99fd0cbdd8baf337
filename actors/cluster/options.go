package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/bizra/bizra/actors/query"
)

// Providers.
const (
	ProviderEtcd        = "etcd"
	ProviderAutomanaged = "automanaged"
)

// LocalQuery runs a query on this member's own pipeline (core.Runtime.LocalQuery).
type LocalQuery func(ctx context.Context, req query.Request) (query.Result, error)

// Options configures a member. Zero values are documented per field.
type Options struct {
	// Name is the cluster name. Required (an empty name means no cluster: the caller
	// builds no Member).
	Name string
	// Provider is ProviderEtcd or ProviderAutomanaged; "" means automanaged.
	Provider string
	// EtcdEndpoints are the etcd client URLs (host:port); required for etcd.
	EtcdEndpoints []string
	// Addr is host:port where the member's remote listens; "" means 127.0.0.1:0 (port
	// 0 picks a free one). Only a host given here makes it listen beyond loopback.
	Addr string
	// Advertise is the host:port other members dial (NAT); "" advertises the bound address.
	Advertise string
	// TTL is the automanaged provider's probe period (a member that fails one probe
	// leaves the list, and protoactor never lets that member id back: a restart joins
	// under a new id); the gossip heartbeat expiry is max(4×TTL, 20s). 0 means 3s.
	// The etcd provider of the pinned protoactor-go fixes its lease at 3s.
	TTL time.Duration
	// Secret is the shared cluster secret (BIZRA_CLUSTER_SECRET), MinSecretLen or more
	// bytes. Required.
	Secret string
	// AutomanagedAddr is host:port of this member's automanaged health endpoint; ""
	// means the remote's host and port+1 (port 0: a free port). Automanaged only.
	AutomanagedAddr string
	// Peers are the automanaged health endpoints (host:port) of the other members;
	// this member's own is added. Automanaged only.
	Peers []string
	// Local answers the queries this member owns. Required.
	Local LocalQuery
	// Cached reports whether this member's result cache holds req's answer; a query
	// this member owns and has cached is then answered by Local on the caller's
	// goroutine, without the grain's hand-offs. nil sends every query to its grain.
	Cached func(req *query.Request) bool
	// MaxInFlight bounds the owner-side computations and waits at once; more are
	// refused with OVERLOADED. 0 means 1024.
	MaxInFlight int
	// GrainIdle stops a query grain after this long without a message; 0 means 30s.
	GrainIdle time.Duration
	// Logger; nil discards. Metrics; nil means a private set.
	Logger  *slog.Logger
	Metrics *metrics.Set
}

func (o *Options) normalize() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrOptions, fmt.Sprintf(format, args...))
	}
	if o.Name == "" {
		return bad("a cluster name is required")
	}
	if o.Provider == "" {
		o.Provider = ProviderAutomanaged
	}
	switch o.Provider {
	case ProviderEtcd:
		if len(o.EtcdEndpoints) == 0 {
			return bad("provider etcd needs --etcd-endpoints")
		}
	case ProviderAutomanaged:
	default:
		return bad("provider %q: want etcd or automanaged", o.Provider)
	}
	if len(o.Secret) < MinSecretLen {
		return bad("BIZRA_CLUSTER_SECRET must be at least %d characters", MinSecretLen)
	}
	if o.Local == nil {
		return bad("Local is required")
	}
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if _, _, err := SplitAddr(o.Addr); err != nil {
		return bad("cluster address: %v", err)
	}
	if o.Advertise != "" {
		if _, _, err := SplitAddr(o.Advertise); err != nil {
			return bad("cluster advertise address: %v", err)
		}
	}
	if o.TTL == 0 {
		o.TTL = 3 * time.Second
	}
	if o.TTL < 100*time.Millisecond || o.TTL > 10*time.Minute {
		return bad("cluster TTL %s: want 100ms..10m", o.TTL)
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 1024
	}
	if o.GrainIdle <= 0 {
		o.GrainIdle = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = metrics.NewSet()
	}
	return nil
}

// SplitAddr splits host:port with a numeric port in 0..65535.
func SplitAddr(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(strings.TrimSpace(addr))
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("port %q: want 0..65535", p)
	}
	if host == "" {
		return "", 0, fmt.Errorf("%q: a host is required", addr)
	}
	return host, port, nil
}

// Check reports what New would refuse in o, ignoring Local (the node sets it).
func (o Options) Check() error {
	if o.Local == nil {
		o.Local = func(context.Context, query.Request) (query.Result, error) { return query.Result{}, nil }
	}
	return o.normalize()
}
