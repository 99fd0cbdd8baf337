package main

import (
	"flag"
	"strings"
	"time"

	"github.com/bizra/bizra/actors/cluster"
)

// clusterConfig is the cluster membership of `bizra run` (docs/cluster.md). An empty
// name is a standalone node.
type clusterConfig struct {
	Name, Provider, Addr, Advertise string
	EtcdEndpoints, Peers            []string
	AutomanagedAddr                 string
	TTL                             time.Duration
	Secret                          string // BIZRA_CLUSTER_SECRET only: never a flag
}

// bindClusterFlags registers the cluster flags with defaults from the environment.
func bindClusterFlags(fs *flag.FlagSet, env *envSource, c *clusterConfig) error {
	fs.StringVar(&c.Name, "cluster-name", env.str("BIZRA_CLUSTER_NAME", ""), "join the cluster of this name; empty runs standalone (BIZRA_CLUSTER_NAME)")
	fs.StringVar(&c.Provider, "cluster-provider", env.str("BIZRA_CLUSTER_PROVIDER", cluster.ProviderAutomanaged), "cluster membership provider: etcd or automanaged (BIZRA_CLUSTER_PROVIDER)")
	c.EtcdEndpoints = splitList(env.str("BIZRA_ETCD_ENDPOINTS", ""))
	fs.Var((*commaList)(&c.EtcdEndpoints), "etcd-endpoints", "etcd client endpoints host:port, comma-separated (BIZRA_ETCD_ENDPOINTS)")
	fs.StringVar(&c.Addr, "cluster-addr", env.str("BIZRA_CLUSTER_ADDR", "127.0.0.1:0"), "host:port the member's remote (gRPC) listens on; port 0 picks one; loopback unless a host is given (BIZRA_CLUSTER_ADDR)")
	fs.StringVar(&c.Advertise, "cluster-advertise", env.str("BIZRA_CLUSTER_ADVERTISE", ""), "host:port other members dial, when it differs from --cluster-addr (NAT) (BIZRA_CLUSTER_ADVERTISE)")
	ttl, err := env.duration("BIZRA_CLUSTER_TTL", 3*time.Second)
	fs.DurationVar(&c.TTL, "cluster-ttl", ttl, "automanaged probe period; gossip heartbeat expiry max(4×TTL, 20s); etcd's lease is fixed at 3s by protoactor-go (BIZRA_CLUSTER_TTL)")
	c.Peers = splitList(env.str("BIZRA_CLUSTER_PEERS", ""))
	fs.Var((*commaList)(&c.Peers), "cluster-peers", "automanaged: the other members' health endpoints host:port, comma-separated (BIZRA_CLUSTER_PEERS)")
	fs.StringVar(&c.AutomanagedAddr, "cluster-automanaged-addr", env.str("BIZRA_CLUSTER_AUTOMANAGED_ADDR", ""), "automanaged: host:port of this member's health endpoint; empty is the cluster port + 1 (BIZRA_CLUSTER_AUTOMANAGED_ADDR)")
	c.Secret = env.str("BIZRA_CLUSTER_SECRET", "")
	return err
}

// options returns the member's options, nil when standalone.
func (c *clusterConfig) options() *cluster.Options {
	if c.Name == "" {
		return nil
	}
	return &cluster.Options{Name: c.Name, Provider: c.Provider, EtcdEndpoints: c.EtcdEndpoints, Addr: c.Addr,
		Advertise: c.Advertise, TTL: c.TTL, Secret: c.Secret, AutomanagedAddr: c.AutomanagedAddr, Peers: c.Peers}
}

// validate checks a cluster configuration (nothing when standalone).
func (c *clusterConfig) validate() error {
	o := c.options()
	if o == nil {
		return nil
	}
	if err := o.Check(); err != nil {
		return &configError{"invalid cluster configuration: " + strings.TrimPrefix(err.Error(), "cluster: invalid options: ")}
	}
	return nil
}

// commaList is a flag holding a comma-separated list (replacing the default).
type commaList []string

func (s *commaList) String() string { return strings.Join(*s, ",") }
func (s *commaList) Set(v string) error {
	*s = splitList(v)
	return nil
}
