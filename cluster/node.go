// Package cluster makes several edgefront nodes one POP, over NATS
// JetStream:
//
//   - the configuration the CloudFront API makes on any node lives in a
//     key-value bucket, one entry per object, written with compare-and-set
//     on its revision and applied by every node (config.go; Node implements
//     control.SharedConfig);
//   - CreateInvalidation on any node appends the batch to a stream (one
//     subject per distribution), and every node applies every batch, in the
//     stream's order, through its own durable consumer — a node that was
//     down replays what it missed before it serves (log.go; Node implements
//     control.Replicator);
//   - the nodes share their caches: each cache key has one owner on a ring
//     of the live nodes (consistent hashing with bounded loads, ring.go),
//     and a miss elsewhere asks it (peers.go; Node implements proxy.Peers).
//
// Each node writes what it applied, and where its peer listener is, to a
// members bucket at every batch and every heartbeat; the bucket's entries
// expire, so a node is live while its entry is fresh. A batch is Completed
// once every live node applied it.
//
// NATS is either embedded in every node (the nodes' servers form a NATS
// cluster over their routes) or an external server. A single node has no
// Node and needs no NATS.
package cluster

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/edgefront/edgefront/config"
	"github.com/edgefront/edgefront/control"
)

// Defaults of Options.
const (
	DefaultHeartbeat = 300 * time.Millisecond
	DefaultMemberTTL = 5 * time.Second
	// publishWait bounds how long Publish waits for this node to apply
	// what it published.
	publishWait = 10 * time.Second
	// defaultAckWait is Options.ackWait's default.
	defaultAckWait = 30 * time.Second
	// pullExpiry and pullHeartbeat bound how long the durable consumer
	// can sit on a pull request JetStream never answers (one sent while
	// the consumer's leader was being elected, for instance): the client
	// sends a new one once two heartbeats are missing. With nats.go's
	// defaults (30 s, 15 s) a lost request stalled the node's log for
	// 30 s, and every CreateInvalidation made on it answered 503.
	pullExpiry    = 5 * time.Second
	pullHeartbeat = time.Second
)

// Options configures a node.
type Options struct {
	// Cluster is the settings' cluster block; Cluster.Node must be set.
	Cluster config.Cluster
	// Heartbeat is how often the node writes its entry in the members
	// bucket (DefaultHeartbeat when 0); MemberTTL how long an entry keeps
	// its node live (DefaultMemberTTL when 0).
	Heartbeat time.Duration
	MemberTTL time.Duration
	// PeerTTL is how long a node stays on the shared cache tier's ring
	// without a heartbeat (DefaultPeerTTL when 0); keep it a few
	// heartbeats long.
	PeerTTL time.Duration
	// MaxBatches bounds the invalidation log (DefaultMaxBatches when 0):
	// the oldest batches go first. A node that comes back having missed
	// batches the log no longer holds drops its whole cache (Node.Run).
	MaxBatches int64
	// Logger receives the node's warnings (slog.Default() when nil).
	Logger *slog.Logger

	// ackWait is how long JetStream waits for the node to acknowledge a
	// batch before it delivers it again (defaultAckWait when 0; tests
	// shorten it).
	ackWait time.Duration
}

// DefaultMaxBatches is how many invalidation batches the log keeps.
const DefaultMaxBatches = 100_000

// Node is this edgefront node's membership of the cluster.
type Node struct {
	o       Options
	log     *slog.Logger
	server  *embedded // nil with an external server
	nc      *nats.Conn
	js      jetstream.JetStream
	stream  jetstream.Stream
	durable jetstream.Consumer
	members *members
	peers   peerTier           // the shared cache tier (peers.go)
	config  jetstream.KeyValue // the shared configuration (config.go)

	applied atomic.Uint64 // the log's last sequence applied here
	// applying is the log's last sequence this node has begun to apply
	// (at least applied): the position it tells the peers it asks
	// (peers.go), so that a peer behind it refuses from the moment its
	// bans may be in place.
	applying atomic.Uint64
	last     atomic.Uint64 // the log's last sequence as last heard of
	// caughtUp is set once Run has applied the log as it stood at start;
	// only then does the node write its member entry.
	caughtUp atomic.Bool

	mu      sync.Mutex
	advance chan struct{} // closed and replaced when applied grows

	cancel     context.CancelFunc // ends the background goroutines
	stopConfig context.CancelFunc // ends the configuration's watch (SyncConfig)
	configRev  atomic.Uint64      // the configuration bucket's last revision applied here
	wg         sync.WaitGroup
	consume    jetstream.ConsumeContext
}

// Start joins the cluster: it starts the embedded NATS server (or connects
// to the external one) and makes the stream, the members bucket and this
// node's durable consumer. It waits, within ctx, for JetStream to be ready
// — with embedded servers, for enough of the other nodes to elect a
// leader. Nothing is applied before Run.
func Start(ctx context.Context, o Options) (*Node, error) {
	if o.Heartbeat <= 0 {
		o.Heartbeat = DefaultHeartbeat
	}
	if o.MemberTTL <= 0 {
		o.MemberTTL = DefaultMemberTTL
	}
	if o.PeerTTL <= 0 {
		o.PeerTTL = DefaultPeerTTL
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	c := o.Cluster
	if c.Node == "" {
		return nil, errors.New("cluster: the node has no name")
	}
	n := &Node{o: o, log: o.Logger.With("cluster", c.Name, "node", c.Node), advance: make(chan struct{})}
	n.peers = peerTier{self: c.Node, fetchers: map[string]peerConn{}, down: map[string]time.Time{}}
	if c.Peers.Enabled() {
		n.peers.url = "http://" + c.Peers.Address(c.Node)
	}
	url := c.NATS.URL
	if url == "" {
		srv, err := startServer(c, n.log)
		if err != nil {
			return nil, err
		}
		n.server, url = srv, srv.url()
	}
	nc, err := nats.Connect(url, nats.Name("edgefront "+c.Name+"/"+c.Node), nats.MaxReconnects(-1))
	if err != nil {
		n.Close()
		return nil, fmt.Errorf("cluster: connecting to NATS at %s: %w", url, err)
	}
	n.nc = nc
	if n.js, err = jetstream.New(nc); err != nil {
		n.Close()
		return nil, fmt.Errorf("cluster: JetStream: %w", err)
	}
	started, warned := time.Now(), time.Now()
	if err := retry(ctx, func() error {
		actx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		err := n.setUp(actx)
		if err != nil && time.Since(warned) > 10*time.Second {
			warned = time.Now()
			n.log.WarnContext(ctx, "cluster: waiting for JetStream (with embedded servers, for a majority of the nodes to start)",
				"waited", time.Since(started).Round(time.Second), "err", err)
		}
		return err
	}); err != nil {
		n.Close()
		return nil, fmt.Errorf("cluster: setting up JetStream: %w", err)
	}
	return n, nil
}

// names of the cluster's stream, subjects, bucket.
func streamName(cluster string) string    { return "edgefront-" + cluster + "-invalidations" }
func subjects(cluster string) string      { return "edgefront." + cluster + ".invalidations.>" }
func subject(cluster, dist string) string { return "edgefront." + cluster + ".invalidations." + dist }
func bucketName(cluster string) string    { return "edgefront-" + cluster + "-members" }

// setUp makes (or finds) the stream, the members bucket and the durable
// consumer.
func (n *Node) setUp(ctx context.Context) error {
	c, r := n.o.Cluster, replicas(n.o.Cluster)
	var err error
	n.stream, err = n.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        streamName(c.Name),
		Description: "edgefront invalidation batches, in the order every node applies them",
		Subjects:    []string{subjects(c.Name)},
		Storage:     jetstream.FileStorage,
		Replicas:    r,
		Duplicates:  time.Hour, // a batch published twice (its ID) is kept once
		MaxMsgs:     cmp.Or(n.o.MaxBatches, DefaultMaxBatches),
		Discard:     jetstream.DiscardOld,
	})
	if err != nil {
		return fmt.Errorf("stream: %w", err)
	}
	kv, err := n.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      bucketName(c.Name),
		Description: "edgefront nodes: what each applied; an entry older than the TTL is a node gone",
		TTL:         n.o.MemberTTL,
		Storage:     jetstream.MemoryStorage,
		Replicas:    r,
	})
	if err != nil {
		return fmt.Errorf("members bucket: %w", err)
	}
	n.members = newMembers(kv, n.o.MemberTTL)
	n.config, err = n.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      configBucketName(c.Name),
		Description: "edgefront: what the CloudFront API made on any node, one entry per distribution, function and key value store",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    r,
	})
	if err != nil {
		return fmt.Errorf("configuration bucket: %w", err)
	}
	if n.peers.token, err = n.peerToken(ctx); err != nil {
		return err
	}
	n.durable, err = n.js.CreateOrUpdateConsumer(ctx, streamName(c.Name), jetstream.ConsumerConfig{
		Durable:       c.Node,
		Description:   "the invalidations node " + c.Node + " applied",
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       cmp.Or(n.o.ackWait, defaultAckWait),
		MaxAckPending: 1, // one batch at a time, in the stream's order
	})
	if err != nil {
		return fmt.Errorf("consumer %s: %w", c.Node, err)
	}
	return nil
}

// retry calls f until it succeeds or ctx ends: JetStream answers "not
// ready" until its servers have elected a leader.
func retry(ctx context.Context, f func() error) error {
	wait := 50 * time.Millisecond
	for {
		err := f()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w (last error: %w)", ctx.Err(), err)
		}
		sleep(ctx, wait)
		wait = min(wait*2, time.Second)
	}
}

// Completed reports whether every live node applied the batch at seq (this
// node counts whether or not its heartbeat was heard yet).
func (n *Node) Completed(seq uint64) bool {
	if n.applied.Load() < seq {
		return false
	}
	for _, applied := range n.members.live(n.o.Cluster.Node) {
		if applied < seq {
			return false
		}
	}
	return true
}

// Members returns how many nodes are live, this one included.
func (n *Node) Members() int { return len(n.members.live(n.o.Cluster.Node)) + 1 }

// Behind returns how many batches of the log this node has not applied
// yet (as far as it knows the log's end).
func (n *Node) Behind() uint64 {
	last, applied := n.last.Load(), n.applied.Load()
	if last < applied {
		return 0
	}
	return last - applied
}

// Applied returns the log's last sequence this node applied.
func (n *Node) Applied() uint64 { return n.applied.Load() }

// Close leaves the cluster: consumption and heartbeats stop, this node's
// member entry is deleted (it stops counting for Completed at once), the
// connection is drained and the embedded server stopped.
func (n *Node) Close() { n.close(true) }

// close is Close; leave deletes the member entry (a crash would not).
func (n *Node) close(leave bool) {
	if n.consume != nil {
		n.consume.Stop()
	}
	if n.cancel != nil {
		n.cancel()
	}
	if n.stopConfig != nil {
		n.stopConfig()
	}
	n.wg.Wait()
	if leave && n.members != nil && n.nc != nil && n.nc.IsConnected() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		if err := n.members.leave(ctx, n.o.Cluster.Node); err != nil {
			n.log.Warn("cluster: leaving", "err", err)
		}
		cancel()
	}
	n.peers.close()
	if n.nc != nil {
		n.nc.Close()
	}
	if n.server != nil {
		n.server.close()
	}
}

// noteLast records that the log reaches at least seq.
func (n *Node) noteLast(seq uint64) { raise(&n.last, seq) }

// noteApplying records that this node begins to apply the log's batch at
// seq.
func (n *Node) noteApplying(seq uint64) {
	raise(&n.applying, seq)
	n.noteLast(seq)
}

// raise makes v at least seq.
func raise(v *atomic.Uint64, seq uint64) {
	for {
		cur := v.Load()
		if seq <= cur || v.CompareAndSwap(cur, seq) {
			return
		}
	}
}

// noteApplied records that this node applied the log up to seq and wakes
// those waiting for it.
func (n *Node) noteApplied(seq uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if seq <= n.applied.Load() {
		return
	}
	n.applied.Store(seq)
	n.noteApplying(seq)
	close(n.advance)
	n.advance = make(chan struct{})
}

// waitApplied waits until this node applied the log up to seq.
func (n *Node) waitApplied(ctx context.Context, seq uint64) error {
	for {
		n.mu.Lock()
		done, ch := n.applied.Load() >= seq, n.advance
		n.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for this node to apply sequence %d (applied %d): %w", seq, n.applied.Load(), ctx.Err())
		case <-ch:
		}
	}
}

var _ control.Replicator = (*Node)(nil)
