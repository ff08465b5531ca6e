package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

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
	e.cluster = node
	if c.Peers.Enabled() {
		// The shared cache tier: the peer listener opens before this node
		// is a member (Run), as the others may ask it from then on.
		if err := e.listenPeers(c.Peers.Listen, node); err != nil {
			return nil, err
		}
	}
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
	if c.Peers.Enabled() {
		e.proxy.SetPeers(node)
	}
	e.log.Info("cluster joined: configuration and invalidations are shared", "cluster", c.Name, "node", c.Node,
		"members", node.Members(), "applied", node.Applied(), "configRevision", node.ConfigRevision(),
		"peers", c.Peers.Address(c.Node))
	return api, nil
}

// listenPeers serves the shared cache tier's peer listener on addr: the
// other nodes' requests for the keys this node owns.
func (e *edge) listenPeers(addr string, node *cluster.Node) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("cluster.peers.listen: %w", err)
	}
	srv := &http.Server{Handler: node.ServePeers(e.proxy.PeerHandler()), ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(e.log.Handler(), slog.LevelDebug)}
	go func() { _ = srv.Serve(ln) }()
	e.onClose(func() {
		e.proxy.SetPeers(nil)
		_ = srv.Close()
	})
	e.addrs["peers"] = ln.Addr().String()
	return nil
}

// handleClusterStatus serves the node's view of its cluster as JSON on
// the admin listener (GET /cluster/status, what 'edgefront cluster status'
// reads); without a cluster, nothing.
func (e *edge) handleClusterStatus(admin *http.ServeMux) {
	node := e.cluster
	if node == nil {
		return
	}
	admin.HandleFunc("GET /cluster/status", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(node.Status())
	})
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
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "edgefront", Name: "cluster_ring_members",
			Help: "Nodes on this node's ring of the shared cache tier, this one included (0: it takes no part).",
		}, func() float64 { return float64(len(node.Ring())) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "edgefront", Name: "cluster_config_revision",
			Help: "The shared configuration bucket's last revision this node applied.",
		}, func() float64 { return float64(node.ConfigRevision()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "edgefront", Name: "cluster_peer_requests_asked_total",
			Help: "Misses this node sent to the node owning their key (shared cache tier).",
		}, func() float64 { a, _, _ := node.PeerStats(); return float64(a) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "edgefront", Name: "cluster_peer_requests_failed_total",
			Help: "Peer requests that failed (the peer gone, or behind in the invalidation log): the origin was asked instead.",
		}, func() float64 { _, f, _ := node.PeerStats(); return float64(f) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "edgefront", Name: "cluster_peer_requests_served_total",
			Help: "Requests of other nodes for keys this node owns, served (shared cache tier).",
		}, func() float64 { _, _, s := node.PeerStats(); return float64(s) }),
	)
}

const clusterHelp = `Usage: edgefront cluster status [--admin ADDR] [--json]

Prints a running node's view of its cluster (the settings' cluster block):
its members — which are live (a heartbeat within the members' TTL, so they
count for an invalidation's Completed), which are on the shared cache
tier's ring, how far each applied the invalidation log and how far behind
it is — the configuration bucket's revision the node applied, and the peer
requests it asked and served. It reads the node's admin listener
(GET /cluster/status); ask every node to compare their views.

Exits 1 when the node is behind in the invalidation log or sees a member
that is not live, so a script can wait on it.

Flags:
`

// clusterCommand runs 'edgefront cluster SUBCOMMAND'.
func clusterCommand(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || isHelp(args[0]) {
		fmt.Fprint(stdout, clusterHelp)
		printFlags(stdout, clusterStatusFlags(new(clusterStatusOptions), stdout, stderr).FlagSet)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	if args[0] != "status" {
		fmt.Fprintf(stderr, "edgefront cluster: unknown subcommand %q (there is: status)\nRun 'edgefront cluster --help' for usage.\n", args[0])
		return errUsage
	}
	var o clusterStatusOptions
	if err := parseFlags(clusterStatusFlags(&o, stdout, stderr), args[1:]); err != nil {
		return err
	}
	return clusterStatus(o, stdout)
}

// clusterStatusOptions are the flags of 'edgefront cluster status'.
type clusterStatusOptions struct {
	admin   string
	json    bool
	timeout time.Duration
}

func clusterStatusFlags(o *clusterStatusOptions, stdout, stderr io.Writer) *flagSet {
	fs := newFlagSet("cluster status", clusterHelp, stdout, stderr)
	fs.StringVar(&o.admin, "admin", config.DefaultAdminAddr, "the node's admin listener `ADDR` (host:port, or an http:// URL)")
	fs.BoolVar(&o.json, "json", false, "print the node's answer as JSON, as it sent it")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Second, "how long to wait for the node's answer")
	return fs
}

// clusterStatus prints what the node at o.admin says of its cluster.
func clusterStatus(o clusterStatusOptions, stdout io.Writer) error {
	base := o.admin
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(base, "/")+"/cluster/status", nil)
	if err != nil {
		return fmt.Errorf("--admin %q: %w", o.admin, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("asking the node at %s: %w", o.admin, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("reading the node's answer: %w", err)
	}
	if resp.StatusCode == http.StatusNotFound {
		return fmt.Errorf("the node at %s is not part of a cluster (its settings have no cluster block)", o.admin)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the node at %s answered %s: %s", o.admin, resp.Status, strings.TrimSpace(string(body)))
	}
	var st cluster.Status
	if err := json.Unmarshal(body, &st); err != nil {
		return fmt.Errorf("the node's answer is not a cluster status: %w", err)
	}
	if o.json {
		_, err := stdout.Write(body)
		if err == nil && !healthy(st) {
			return errReported
		}
		return err
	}
	printClusterStatus(stdout, st)
	if !healthy(st) {
		return errReported
	}
	return nil
}

// healthy reports whether st shows a node caught up with the log and every
// member live.
func healthy(st cluster.Status) bool {
	if st.Log.Behind > 0 {
		return false
	}
	for _, m := range st.Members {
		if !m.Live {
			return false
		}
	}
	return true
}

// printClusterStatus writes st as a summary and a table of the members.
func printClusterStatus(w io.Writer, st cluster.Status) {
	fmt.Fprintf(w, "cluster %s, as node %s sees it\n", st.Cluster, st.Node)
	fmt.Fprintf(w, "configuration revision %d\n", st.ConfigRevision)
	fmt.Fprintf(w, "invalidations applied %d of %d (%d behind)\n", st.Log.Applied, st.Log.Last, st.Log.Behind)
	if len(st.Ring) == 0 {
		fmt.Fprintln(w, "shared cache tier: this node takes no part (no cluster.peers)")
	} else {
		fmt.Fprintf(w, "shared cache tier: %d on the ring; asked peers %d times (%d failed, the origin answered), served %d\n",
			len(st.Ring), st.Peers.Asked, st.Peers.Failed, st.Peers.Served)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tLIVE\tRING\tAPPLIED\tBEHIND\tSEEN\tPEER")
	for _, m := range st.Members {
		name, seen := m.Name, "now"
		if name == st.Node {
			name += " *"
		} else {
			seen = m.Seen.Round(time.Millisecond).String() + " ago"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\n", name, yesNo(m.Live), yesNo(m.OnRing), m.Applied, m.Behind, seen, cmp.Or(m.Peer, "-"))
	}
	_ = tw.Flush()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
