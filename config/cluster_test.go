package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

const clusterDistribution = `
distributions:
  - config: {Origins: {Items: [{Id: o, DomainName: o.example.com}]}, DefaultCacheBehavior: {TargetOriginId: o, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized}}
`

// TestClusterSettings reads the cluster block: an embedded NATS server
// (listen, clusterListen, routes) or an external one (url).
func TestClusterSettings(t *testing.T) {
	tests := []struct {
		name, block string
		want        Cluster
	}{
		{"none", "", Cluster{}},
		{"embedded, three nodes", `cluster: {name: pop1, node: edge-a, nats: {listen: "127.0.0.1:4222", clusterListen: "127.0.0.1:6222",
  routes: ["nats://127.0.0.1:6222", "nats://127.0.0.1:6223", "nats://127.0.0.1:6224"], storeDir: /var/lib/edgefront/js}}`,
			Cluster{Name: "pop1", Node: "edge-a", NATS: NATS{Listen: "127.0.0.1:4222", ClusterListen: "127.0.0.1:6222",
				Routes: []string{"nats://127.0.0.1:6222", "nats://127.0.0.1:6223", "nats://127.0.0.1:6224"}, StoreDir: "/var/lib/edgefront/js"}}},
		{"external", `cluster: {name: pop1, nats: {url: "nats://nats.internal:4222"}}`,
			Cluster{Name: "pop1", NATS: NATS{URL: "nats://nats.internal:4222"}}},
		{"peers", `cluster: {name: pop1, nats: {url: "nats://nats.internal:4222"}, peers: {listen: "0.0.0.0:7946", advertise: "edge-a.pop1:7946"}}`,
			Cluster{Name: "pop1", NATS: NATS{URL: "nats://nats.internal:4222"}, Peers: Peers{Listen: "0.0.0.0:7946", Advertise: "edge-a.pop1:7946"}}},
		{"peers on one address", `cluster: {name: pop1, nats: {url: "nats://n:4222"}, peers: {listen: "10.0.0.1:7946"}}`,
			Cluster{Name: "pop1", NATS: NATS{URL: "nats://n:4222"}, Peers: Peers{Listen: "10.0.0.1:7946"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("s.yaml", []byte(tt.block+clusterDistribution))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(cfg.Cluster, tt.want) {
				t.Errorf("Cluster %+v, want %+v", cfg.Cluster, tt.want)
			}
			if cfg.Cluster.Enabled() != (tt.want.Name != "") {
				t.Errorf("Enabled %v", cfg.Cluster.Enabled())
			}
		})
	}
}

// TestClusterSettingsErrors: each mistake is reported at its field.
func TestClusterSettingsErrors(t *testing.T) {
	tests := []struct {
		name, block string
		want        []string
	}{
		{"no nats", `cluster: {name: pop1}`,
			[]string{`s.yaml: cluster.nats: is required: nats.listen (an embedded server) or nats.url (an external one)`}},
		{"bad names", `cluster: {name: "pop 1", node: "a.b", nats: {url: "nats://n:4222"}}`, []string{
			`s.yaml: cluster.name: "pop 1" must be 1 to 32 letters, digits, '-' or '_'`,
			`s.yaml: cluster.node: "a.b" must be 1 to 32 letters, digits, '-' or '_'`,
		}},
		{"peers without listen", `cluster: {name: pop1, nats: {url: "nats://n:4222"}, peers: {advertise: "a:7946"}}`,
			[]string{`s.yaml: cluster.peers.listen: is required: the host:port the peer listener listens on`}},
		{"both", `cluster: {name: pop1, nats: {url: "nats://n:4222", listen: "127.0.0.1:4222"}}`,
			[]string{`s.yaml: cluster.nats.url: give nats.url (an external server) or nats.listen (an embedded one), not both`}},
		{"neither", `cluster: {name: pop1, nats: {storeDir: x}}`,
			[]string{`s.yaml: cluster.nats: needs nats.listen (an embedded server) or nats.url (an external one)`}},
		{"bad url", `cluster: {name: pop1, nats: {url: "http://n:4222"}}`,
			[]string{`s.yaml: cluster.nats.url: "http://n:4222" is not a nats:// or tls:// URL with a host`}},
		{"bad listen", `cluster: {name: pop1, nats: {listen: "4222"}}`,
			[]string{`s.yaml: cluster.nats.listen: "4222" is not a host:port address`}},
		{"routes without clusterListen", `cluster: {name: pop1, nats: {listen: "127.0.0.1:4222", routes: ["nats://10.0.0.2:6222", "10.0.0.3"]}}`, []string{
			`s.yaml: cluster.nats.routes[1]: "10.0.0.3" is not a nats:// URL with a host and port`,
			`s.yaml: cluster.nats.clusterListen: is required with routes: the address the other nodes' routes reach`,
		}},
		{"external with routes", `cluster: {name: pop1, nats: {url: "nats://n:4222", routes: ["nats://10.0.0.2:6222"]}}`,
			[]string{`s.yaml: cluster.nats.url: an external server takes no clusterListen, routes or storeDir (they configure the embedded one)`}},
		{"replicas", `cluster: {name: pop1, nats: {url: "nats://n:4222", replicas: 7}}`,
			[]string{`s.yaml: cluster.nats.replicas: must be 1 to 5 (got 7)`}},
		{"unknown key", `cluster: {name: pop1, nats: {url: "nats://n:4222", rotes: []}}`,
			[]string{`s.yaml: cluster.nats.rotes: unknown field (did you mean routes?)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("s.yaml", []byte(tt.block+clusterDistribution))
			if err == nil {
				t.Fatal("no error")
			}
			if got := errorLines(t, err); !slices.Equal(got, tt.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestPeersAddress: where the other nodes reach a node's peer listener.
func TestPeersAddress(t *testing.T) {
	tests := []struct {
		peers Peers
		want  string
	}{
		{Peers{Listen: "10.0.0.1:7946"}, "10.0.0.1:7946"},
		{Peers{Listen: "0.0.0.0:7946"}, "edge-a:7946"},
		{Peers{Listen: ":7946"}, "edge-a:7946"},
		{Peers{Listen: "0.0.0.0:7946", Advertise: "{node}.edgefront:7946"}, "edge-a.edgefront:7946"},
		{Peers{Listen: "0.0.0.0:7946", Advertise: "10.1.2.3:17946"}, "10.1.2.3:17946"},
	}
	for _, tt := range tests {
		if got := tt.peers.Address("edge-a"); got != tt.want {
			t.Errorf("%+v: Address %q, want %q", tt.peers, got, tt.want)
		}
	}
}
