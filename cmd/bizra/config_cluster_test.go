package main

import (
	"testing"
	"time"
)

func TestClusterFlags(t *testing.T) {
	const secret = "a-cluster-secret-0123456789"
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		wantErr string // "" = accepted
		check   func(t *testing.T, c *config)
	}{
		{name: "standalone by default", check: func(t *testing.T, c *config) {
			if c.Cluster.options() != nil {
				t.Fatal("no cluster name but cluster options")
			}
		}},
		{name: "standalone ignores the other cluster flags", args: []string{"--cluster-provider", "consul"}},
		{name: "flags", env: map[string]string{"BIZRA_CLUSTER_SECRET": secret},
			args: []string{"--cluster-name", "c1", "--cluster-provider", "etcd", "--etcd-endpoints", "127.0.0.1:2379, 127.0.0.1:2380",
				"--cluster-addr", "0.0.0.0:7000", "--cluster-advertise", "10.0.0.5:7000", "--cluster-ttl", "5s"},
			check: func(t *testing.T, c *config) {
				o := c.Cluster.options()
				if o == nil || o.Name != "c1" || o.Provider != "etcd" || len(o.EtcdEndpoints) != 2 || o.EtcdEndpoints[1] != "127.0.0.1:2380" ||
					o.Addr != "0.0.0.0:7000" || o.Advertise != "10.0.0.5:7000" || o.TTL != 5*time.Second || o.Secret != secret {
					t.Fatalf("options %+v", o)
				}
			}},
		{name: "environment", env: map[string]string{"BIZRA_CLUSTER_NAME": "c2", "BIZRA_CLUSTER_SECRET": secret,
			"BIZRA_CLUSTER_PROVIDER": "automanaged", "BIZRA_CLUSTER_PEERS": "127.0.0.1:7001,127.0.0.1:7003", "BIZRA_CLUSTER_ADDR": "127.0.0.1:0"},
			check: func(t *testing.T, c *config) {
				o := c.Cluster.options()
				if o == nil || o.Name != "c2" || o.Provider != "automanaged" || len(o.Peers) != 2 || o.Addr != "127.0.0.1:0" {
					t.Fatalf("options %+v", o)
				}
			}},
		{name: "loopback unless told", env: map[string]string{"BIZRA_CLUSTER_SECRET": secret}, args: []string{"--cluster-name", "c"},
			check: func(t *testing.T, c *config) {
				if o := c.Cluster.options(); o.Addr != "127.0.0.1:0" {
					t.Fatalf("default cluster address %q", o.Addr)
				}
			}},
		{name: "no secret", args: []string{"--cluster-name", "c"}, wantErr: "BIZRA_CLUSTER_SECRET"},
		{name: "short secret", env: map[string]string{"BIZRA_CLUSTER_SECRET": "short"}, args: []string{"--cluster-name", "c"}, wantErr: "BIZRA_CLUSTER_SECRET"},
		{name: "bad provider", env: map[string]string{"BIZRA_CLUSTER_SECRET": secret}, args: []string{"--cluster-name", "c", "--cluster-provider", "consul"}, wantErr: "consul"},
		{name: "etcd without endpoints", env: map[string]string{"BIZRA_CLUSTER_SECRET": secret}, args: []string{"--cluster-name", "c", "--cluster-provider", "etcd"}, wantErr: "--etcd-endpoints"},
		{name: "bad address", env: map[string]string{"BIZRA_CLUSTER_SECRET": secret}, args: []string{"--cluster-name", "c", "--cluster-addr", "7000"}, wantErr: "cluster address"},
		{name: "bad ttl", env: map[string]string{"BIZRA_CLUSTER_SECRET": secret}, args: []string{"--cluster-name", "c", "--cluster-ttl", "1ms"}, wantErr: "TTL"},
		{name: "bad ttl env", env: map[string]string{"BIZRA_CLUSTER_TTL": "soon"}, wantErr: "BIZRA_CLUSTER_TTL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := tt.env
			if env == nil {
				env = map[string]string{}
			}
			_, cfg, err := runFlags(env, tt.args)
			if tt.wantErr != "" {
				wantOneLineError(t, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, cfg)
			}
		})
	}
}
