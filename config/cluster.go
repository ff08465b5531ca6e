package config

import (
	"net"
	"net/url"
	"strings"
)

// This file is the settings file's cluster block: several edgefront nodes
// that share what one of them is told (today, invalidations) over NATS
// JetStream (package cluster).

// Cluster is the cluster block of the settings. A zero Cluster (no block)
// is a single node: nothing is started for it.
type Cluster struct {
	// Name names the cluster: its JetStream stream and buckets, and the
	// NATS cluster of embedded servers.
	Name string
	// Node names this node, unique in the cluster ("" until cmd fills in
	// the host name).
	Node string
	// NATS is how the node reaches NATS.
	NATS NATS
	// Peers is the shared cache tier's listener (zero: the node neither
	// asks nor answers its peers; every node of a cluster should have one).
	Peers Peers
}

// Peers is where a node answers the other nodes of its cluster for the
// cache keys it owns (the shared cache tier): Listen is the address it
// listens on, Advertise the host:port the others reach it at, where
// "{node}" stands for the node's name (so that every node can read one
// file). When Advertise is empty it is Listen, or "{node}:PORT" when
// Listen's host is empty or 0.0.0.0 (the node's name is then a host name
// the others resolve: a compose service, a StatefulSet pod behind its
// headless Service needs "{node}.SERVICE:PORT").
type Peers struct {
	Listen    string
	Advertise string
}

// Enabled reports whether the node takes part in the shared cache tier.
func (p Peers) Enabled() bool { return p.Listen != "" }

// Address is the host:port the other nodes reach the peer listener of the
// node named node at.
func (p Peers) Address(node string) string {
	adv := p.Advertise
	if adv == "" {
		adv = p.Listen
		if unspecifiedHost(p.Listen) {
			_, port, _ := net.SplitHostPort(p.Listen)
			adv = "{node}:" + port
		}
	}
	return strings.ReplaceAll(adv, "{node}", node)
}

// Enabled reports whether the settings have a cluster block.
func (c Cluster) Enabled() bool { return c.Name != "" }

// NATS is how a node reaches NATS: an external server (URL), or a server
// embedded in the node (Listen) that forms a NATS cluster with the other
// nodes' (ClusterListen, Routes).
type NATS struct {
	URL           string   // nats://host:4222 of an external server
	Listen        string   // the embedded server's client address
	ClusterListen string   // the embedded server's route address
	Routes        []string // nats://host:6222 of every node's route address
	StoreDir      string   // JetStream's storage ("" for a temporary directory)
	Replicas      int      // copies of the stream kept (0: chosen from the routes)
}

type clusterSettings struct {
	Name  string         `json:"name"`
	Node  string         `json:"node"`
	NATS  *natsSettings  `json:"nats"`
	Peers *peersSettings `json:"peers"`
}

type peersSettings struct {
	Listen    *string `json:"listen"`
	Advertise *string `json:"advertise"`
}

type natsSettings struct {
	URL           string   `json:"url"`
	Listen        *string  `json:"listen"`
	ClusterListen *string  `json:"clusterListen"`
	Routes        []string `json:"routes"`
	StoreDir      string   `json:"storeDir"`
	Replicas      int      `json:"replicas"`
}

// compileCluster fills cfg.Cluster from the cluster block s (nil: none).
func compileCluster(p *problems, s *clusterSettings, dir string, cfg *Config) {
	if s == nil {
		return
	}
	c := Cluster{Name: s.Name, Node: s.Node}
	if !isClusterName(s.Name) {
		p.add("cluster.name", "%q must be 1 to 32 letters, digits, '-' or '_'", s.Name)
	}
	if s.Node != "" && !isClusterName(s.Node) {
		p.add("cluster.node", "%q must be 1 to 32 letters, digits, '-' or '_'", s.Node)
	}
	if ps := s.Peers; ps != nil {
		setAddr(p, "cluster.peers.listen", ps.Listen, &c.Peers.Listen)
		setAddr(p, "cluster.peers.advertise", ps.Advertise, &c.Peers.Advertise)
		if c.Peers.Listen == "" {
			p.add("cluster.peers.listen", "is required: the host:port the peer listener listens on")
		}
	}
	n := s.NATS
	if n == nil {
		p.add("cluster.nats", "is required: nats.listen (an embedded server) or nats.url (an external one)")
		cfg.Cluster = c
		return
	}
	switch {
	case n.URL != "" && n.Listen != nil:
		p.add("cluster.nats.url", "give nats.url (an external server) or nats.listen (an embedded one), not both")
	case n.URL == "" && n.Listen == nil:
		p.add("cluster.nats", "needs nats.listen (an embedded server) or nats.url (an external one)")
	}
	if n.URL != "" && !isNATSURL(n.URL) {
		p.add("cluster.nats.url", "%q is not a nats:// or tls:// URL with a host", n.URL)
	}
	c.NATS = NATS{URL: n.URL, Routes: n.Routes, StoreDir: resolve(dir, n.StoreDir), Replicas: n.Replicas}
	if n.Listen != nil {
		setAddr(p, "cluster.nats.listen", n.Listen, &c.NATS.Listen)
		if c.NATS.Listen == "" {
			p.add("cluster.nats.listen", "must be a host:port address")
		}
	}
	setAddr(p, "cluster.nats.clusterListen", n.ClusterListen, &c.NATS.ClusterListen)
	if n.URL != "" && (n.ClusterListen != nil || len(n.Routes) > 0 || n.StoreDir != "") {
		p.add("cluster.nats.url", "an external server takes no clusterListen, routes or storeDir (they configure the embedded one)")
	}
	if n.URL == "" && len(n.Routes) > 0 && c.NATS.ClusterListen == "" {
		p.add("cluster.nats.clusterListen", "is required with routes: the address the other nodes' routes reach")
	}
	for i, r := range n.Routes {
		if !isNATSURL(r) {
			p.add(index("cluster.nats.routes", i), "%q is not a nats:// URL with a host and port", r)
		}
	}
	if n.Replicas < 0 || n.Replicas > 5 {
		p.add("cluster.nats.replicas", "must be 1 to 5 (got %d)", n.Replicas)
	}
	cfg.Cluster = c
}

func isClusterName(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func isNATSURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return false
	}
	return strings.EqualFold(u.Scheme, "nats") || strings.EqualFold(u.Scheme, "tls")
}

// unspecifiedHost reports whether addr's host is empty or 0.0.0.0 / ::
// (listen on every interface: no address to give the other nodes).
func unspecifiedHost(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return host == "" || ip != nil && ip.IsUnspecified()
}
