package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgefront/edgefront/cluster"
	"github.com/edgefront/edgefront/config"
	"github.com/edgefront/edgefront/control"
)

// newControlAPI makes the CloudFront API over b. With a cluster block in
// cfg the node first joins the cluster (package cluster: embedded or
// external NATS), its invalidations go through the cluster's log, and the
// log is replayed — what this node missed while it was down is applied —
// before newControlAPI returns, so before build returns and the listeners
// open. Without one, nothing is started and the API is a single node's.
// The cluster block is read at start; a reload does not change it.
func (e *edge) newControlAPI(ctx context.Context, cfg *config.Config, reg prometheus.Registerer, b control.Backend, o control.Options) (*control.API, error) {
	if !cfg.Cluster.Enabled() {
		return control.New(b, o), nil
	}
	c := cfg.Cluster
	if c.Node == "" {
		c.Node = hostNode()
	}
	e.log.Info("joining the cluster", "cluster", c.Name, "node", c.Node, "nats", natsDescription(c.NATS))
	node, err := cluster.Start(ctx, cluster.Options{Cluster: c, Logger: e.log})
	if err != nil {
		return nil, err
	}
	e.onClose(node.Close)
	o.Invalidations, o.Config = node, node
	api := control.New(b, o)
	if err := node.Run(ctx, api.Apply); err != nil {
		return nil, err
	}
	// What the API made on any node, applied over this node's settings
	// before it serves (README, "Running several nodes": the settings are
	// each node's base, the bucket holds the API's changes).
	if same, by, err := node.Seed(ctx, control.SettingsDigest(cfg)); err != nil {
		return nil, err
	} else if !same {
		e.log.Warn("this node's settings differ from those the cluster was first started with: the API's changes apply over each node's own settings, so give every node the same file",
			"cluster", c.Name, "first node", by)
	}
	if err := node.SyncConfig(ctx, api); err != nil {
		return nil, err
	}
	registerClusterMetrics(reg, node)
	e.log.Info("cluster joined: invalidations are shared", "cluster", c.Name, "node", c.Node,
		"members", node.Members(), "applied", node.Applied())
	return api, nil
}

// hostNode is the node name when the settings give none: the host name,
// with what a node name cannot hold replaced by '-'.
func hostNode() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "edgefront"
	}
	h, _, _ = strings.Cut(h, ".")
	out := []byte(h)
	for i, c := range out {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			out[i] = '-'
		}
	}
	if len(out) > 32 {
		out = out[:32]
	}
	return string(out)
}

// natsDescription says how the node reaches NATS, for the log.
func natsDescription(n config.NATS) string {
	if n.URL != "" {
		return "external " + n.URL
	}
	s := "embedded on " + n.Listen
	if n.ClusterListen != "" {
		s += fmt.Sprintf(", routes on %s to %d servers", n.ClusterListen, len(n.Routes))
	}
	return s
}

// registerClusterMetrics exports the node's view of the cluster on reg.
func registerClusterMetrics(reg prometheus.Registerer, node *cluster.Node) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "edgefront", Name: "cluster_invalidations_behind",
			Help: "Invalidation batches of the cluster's log this node has not applied yet (replication lag).",
		}, func() float64 { return float64(node.Behind()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "edgefront", Name: "cluster_members",
			Help: "Live nodes of the cluster (a heartbeat within the members' TTL), this one included.",
		}, func() float64 { return float64(node.Members()) }),
	)
}
